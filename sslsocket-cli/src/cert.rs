//! `sslsocket cert show`: every certificate in the given files.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Args, Subcommand};
use serde::Serialize;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::SslCertificate;

use crate::input::read_certificates;
use crate::report::{print_json, problem, say, Outcome};

#[derive(Subcommand)]
pub enum CertCommand {
    /// Show every certificate in the files (PEM with any number of
    /// certificates, or DER).
    ///
    /// JSON (--json): an array with one object per certificate and the fields
    /// `file`, `index` (0-based position in the file), `subject`, `issuer`
    /// (distinguished names as "CN=..., O=..."), `subject_alternative_names`
    /// (array of {`type`: DnsEntry|IpAddressEntry|EmailEntry, `value`}),
    /// `serial_number`, `version`, `not_before`, `not_after` (RFC 3339, UTC),
    /// `days_left` (negative once expired), `sha256_fingerprint`,
    /// `self_signed`, `public_key` ({`algorithm`, `length`}, null if it cannot
    /// be read), `crl_distribution_points` (where the issuer publishes its
    /// revocation lists, e.g. "URI:http://..."; never fetched), and `text`
    /// (the full text form, only with --text).
    #[command(after_help = "Examples:
  sslsocket cert show server.pem
  sslsocket cert show --text chain.pem       # like openssl x509 -text
  sslsocket cert show --json chain.pem | jq '.[].days_left'")]
    Show(ShowArgs),
}

#[derive(Args)]
pub struct ShowArgs {
    /// Certificate files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the full text form (like `openssl x509 -text`).
    #[arg(long)]
    text: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct CertJson {
    file: String,
    index: usize,
    #[serde(flatten)]
    details: CertDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

/// What `cert show` says about one certificate, and `connect` and `serve`
/// about each certificate of a peer's chain.
#[derive(Serialize)]
pub struct CertDetails {
    pub subject: String,
    pub issuer: String,
    pub subject_alternative_names: Vec<NameJson>,
    pub serial_number: String,
    pub version: u32,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub sha256_fingerprint: String,
    pub self_signed: bool,
    pub public_key: Option<PublicKeyJson>,
    pub crl_distribution_points: Vec<String>,
}

#[derive(Serialize, Clone)]
pub struct NameJson {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
}

#[derive(Serialize)]
pub struct PublicKeyJson {
    pub algorithm: &'static str,
    pub length: u32,
}

pub fn run(command: CertCommand) -> Outcome {
    match command {
        CertCommand::Show(args) => show(args),
    }
}

fn show(args: ShowArgs) -> Outcome {
    let mut outcome = Outcome::Success;
    let mut shown = Vec::new();
    for file in &args.files {
        match read_certificates(file) {
            Ok(certificates) => {
                for (index, certificate) in certificates.iter().enumerate() {
                    shown.push(describe(file, index, certificate, args.text));
                }
            }
            Err(e) => {
                problem(file.display(), e);
                outcome = Outcome::InputError;
            }
        }
    }
    if args.json {
        print_json(&shown);
    } else {
        for (n, cert) in shown.iter().enumerate() {
            if n > 0 {
                say!();
            }
            print_text(cert);
        }
    }
    outcome
}

fn describe(file: &Path, index: usize, cert: &SslCertificate, with_text: bool) -> CertJson {
    CertJson {
        file: file.display().to_string(),
        index,
        details: details(cert),
        text: with_text.then(|| cert.to_text()),
    }
}

/// The fields every command shows of a certificate.
pub fn details(cert: &SslCertificate) -> CertDetails {
    let not_after = cert.expiry_date();
    CertDetails {
        subject: subject(cert),
        issuer: distinguished_name(&cert.issuer_info_attributes(), |a| {
            cert.issuer_info_by_attribute(a)
        }),
        subject_alternative_names: cert
            .subject_alternative_names()
            .into_iter()
            .map(|(kind, value)| NameJson {
                kind: kind.name(),
                value,
            })
            .collect(),
        serial_number: cert.serial_number(),
        version: cert.version(),
        not_before: humantime::format_rfc3339_seconds(cert.effective_date()).to_string(),
        not_after: humantime::format_rfc3339_seconds(not_after).to_string(),
        days_left: days_between(SystemTime::now(), not_after),
        sha256_fingerprint: hex_colon(&cert.digest(DigestAlgorithm::Sha256)),
        self_signed: cert.is_self_signed(),
        public_key: cert.public_key().ok().map(|key| PublicKeyJson {
            algorithm: key.algorithm().name(),
            length: key.length(),
        }),
        crl_distribution_points: cert.crl_distribution_points(),
    }
}

/// The certificate's subject as "CN=..., O=...".
pub(crate) fn subject(cert: &SslCertificate) -> String {
    distinguished_name(&cert.subject_info_attributes(), |a| {
        cert.subject_info_by_attribute(a)
    })
}

fn distinguished_name(attributes: &[String], values: impl Fn(&str) -> Vec<String>) -> String {
    let mut parts = Vec::new();
    for attribute in attributes {
        for value in values(attribute) {
            parts.push(format!("{attribute}={value}"));
        }
    }
    parts.join(", ")
}

/// Whole days from `from` to `to`, negative when `to` is earlier.
fn days_between(from: SystemTime, to: SystemTime) -> i64 {
    const DAY: i64 = 86_400;
    match to.duration_since(from) {
        Ok(ahead) => ahead.as_secs() as i64 / DAY,
        Err(behind) => -((behind.duration().as_secs() as i64 + DAY - 1) / DAY),
    }
}

pub(crate) fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn print_text(cert: &CertJson) {
    say!("{} [{}]", cert.file, cert.index);
    let d = &cert.details;
    say!("  Subject:      {}", d.subject);
    say!("  Issuer:       {}", d.issuer);
    if !d.subject_alternative_names.is_empty() {
        say!(
            "  Alt names:    {}",
            alt_names(&d.subject_alternative_names)
        );
    }
    say!("  Serial:       {}", d.serial_number);
    say!("  Version:      {}", d.version);
    say!("  Valid from:   {}", d.not_before);
    say!(
        "  Valid until:  {} ({})",
        d.not_after,
        days_left(d.days_left)
    );
    say!("  SHA-256:      {}", d.sha256_fingerprint);
    say!(
        "  Self-signed:  {}",
        if d.self_signed { "yes" } else { "no" }
    );
    match &d.public_key {
        Some(key) => say!("  Public key:   {}, {} bits", key.algorithm, key.length),
        None => say!("  Public key:   (unreadable)"),
    }
    if !d.crl_distribution_points.is_empty() {
        say!("  CRLs at:      {}", d.crl_distribution_points.join(", "));
    }
    if let Some(text) = &cert.text {
        say!();
        crate::report::write_stdout(format_args!("{text}"));
    }
}

/// "DNS:a, IP:1.2.3.4".
pub(crate) fn alt_names(names: &[NameJson]) -> String {
    names
        .iter()
        .map(|n| format!("{}:{}", short_kind(n.kind), n.value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "12 days left" or "expired 3 days ago".
pub(crate) fn days_left(days: i64) -> String {
    if days < 0 {
        format!("expired {} days ago", -days)
    } else {
        format!("{days} days left")
    }
}

fn short_kind(kind: &str) -> &str {
    match kind {
        "DnsEntry" => "DNS",
        "IpAddressEntry" => "IP",
        "EmailEntry" => "email",
        other => other,
    }
}
