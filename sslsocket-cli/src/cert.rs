//! `sslsocket cert show`: every certificate in the given files.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Args, Subcommand};
use serde::Serialize;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::SslCertificate;

use crate::input::read_certificates;
use crate::report::{print_json, problem, Outcome};

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
    /// be read), and `text` (the full text form, only with --text).
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
    subject: String,
    issuer: String,
    subject_alternative_names: Vec<NameJson>,
    serial_number: String,
    version: u32,
    not_before: String,
    not_after: String,
    days_left: i64,
    sha256_fingerprint: String,
    self_signed: bool,
    public_key: Option<PublicKeyJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Serialize)]
struct NameJson {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

#[derive(Serialize)]
struct PublicKeyJson {
    algorithm: &'static str,
    length: u32,
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
                println!();
            }
            print_text(cert);
        }
    }
    outcome
}

fn describe(file: &Path, index: usize, cert: &SslCertificate, with_text: bool) -> CertJson {
    let not_after = cert.expiry_date();
    CertJson {
        file: file.display().to_string(),
        index,
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
        text: with_text.then(|| cert.to_text()),
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

fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn print_text(cert: &CertJson) {
    println!("{} [{}]", cert.file, cert.index);
    println!("  Subject:      {}", cert.subject);
    println!("  Issuer:       {}", cert.issuer);
    if !cert.subject_alternative_names.is_empty() {
        let names: Vec<String> = cert
            .subject_alternative_names
            .iter()
            .map(|n| format!("{}:{}", short_kind(n.kind), n.value))
            .collect();
        println!("  Alt names:    {}", names.join(", "));
    }
    println!("  Serial:       {}", cert.serial_number);
    println!("  Version:      {}", cert.version);
    println!("  Valid from:   {}", cert.not_before);
    let left = if cert.days_left < 0 {
        format!("expired {} days ago", -cert.days_left)
    } else {
        format!("{} days left", cert.days_left)
    };
    println!("  Valid until:  {} ({left})", cert.not_after);
    println!("  SHA-256:      {}", cert.sha256_fingerprint);
    println!(
        "  Self-signed:  {}",
        if cert.self_signed { "yes" } else { "no" }
    );
    match &cert.public_key {
        Some(key) => println!("  Public key:   {}, {} bits", key.algorithm, key.length),
        None => println!("  Public key:   (unreadable)"),
    }
    if let Some(text) = &cert.text {
        println!();
        print!("{text}");
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
