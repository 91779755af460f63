//! `sslsocket verify`: Qt's list of errors for a certificate chain, offline.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;
use serde::Serialize;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::{verify_chain, Purpose, SslConfiguration, SslError, VerifyOptions};

use crate::cert::subject;
use crate::input::read_certificates;
use crate::options::{HostNameArgs, Problems, RevocationArgs};
use crate::report::{print_json, problem, say, Outcome};

/// Verify a certificate chain offline and list Qt's errors.
///
/// Lists what is wrong with the chain, in Qt's names (QSslError::SslError)
/// and order, as QSslSocket would report it. webpki (as used by rustls)
/// decides whether the chain is acceptable; the list says why it is not.
/// Trusted roots: the certificates of the --ca files; without --ca, the
/// system's roots; with --ca and --system-ca, both.
///
/// Text output: one line per error, `Name (code): message — subject of the
/// certificate concerned`, or `OK: the chain is valid` when there is none.
///
/// JSON (--json): `{"errors": [...]}`, an empty array when the chain is
/// valid, else one object per error with the fields `error` (Qt's enum name,
/// e.g. "HostNameMismatch"), `code` (Qt's number, e.g. 22), `message` (Qt's
/// English message, followed by a more precise reason in parentheses when
/// there is one) and `certificate`: `{"subject": "CN=..., O=...", "sha256":
/// the SHA-256 of the certificate's DER in lowercase hex, no separators}`,
/// or null when the error concerns no particular certificate.
///
/// Exit status: 0 when the chain is valid, 1 when there is at least one
/// error, 2 when an input cannot be used (one line on stderr per problem).
#[derive(Args)]
#[command(after_help = "Examples:
  sslsocket verify chain.pem --ca root.pem --host www.example.test
  sslsocket verify leaf.der --host 192.0.2.1 --time 2030-01-01T00:00:00Z
  sslsocket verify client.pem --ca root.pem --purpose client --json")]
pub struct VerifyArgs {
    /// The chain: PEM with the leaf first, then intermediates (in any
    /// order); or the leaf alone in DER.
    chain: PathBuf,
    /// Trust the certificates in FILE (PEM with any number of certificates,
    /// or DER); may be repeated.
    #[arg(long = "ca", value_name = "FILE")]
    ca: Vec<PathBuf>,
    /// Trust the system's roots too (the default when no --ca is given).
    #[arg(long)]
    system_ca: bool,
    /// Check that the leaf is valid for NAME: a DNS name (IDN allowed) or
    /// an IPv4/IPv6 address.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    #[command(flatten)]
    host_names: HostNameArgs,
    #[command(flatten)]
    revocation: RevocationArgs,
    /// What the leaf is for: `server` (extended key usage serverAuth) or
    /// `client` (clientAuth).
    #[arg(long, value_name = "server|client", default_value = "server")]
    purpose: String,
    /// Verify as of this time instead of now: RFC 3339, e.g.
    /// 2024-01-31T12:00:00Z or 2024-01-31T13:00:00+01:00.
    #[arg(long, value_name = "RFC3339")]
    time: Option<String>,
    /// Accept chains of at most N certificates, leaf and root included
    /// (Qt's peerVerifyDepth); 0 means no limit.
    #[arg(
        long,
        value_name = "N",
        default_value = "0",
        allow_negative_numbers = true
    )]
    depth: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ReportJson {
    errors: Vec<ErrorJson>,
}

/// One verification error, the shape every command's JSON uses.
#[derive(Serialize)]
pub(crate) struct ErrorJson {
    error: &'static str,
    code: i32,
    message: String,
    certificate: Option<CertificateJson>,
}

#[derive(Serialize)]
pub(crate) struct CertificateJson {
    subject: String,
    sha256: String,
}

pub fn run(args: VerifyArgs) -> Outcome {
    let mut ok = true;
    let mut fail = |context: &dyn std::fmt::Display, error: &dyn std::fmt::Display| {
        problem(context, error);
        ok = false;
    };

    let chain = read_certificates(&args.chain)
        .map_err(|e| fail(&args.chain.display(), &e))
        .ok();
    let mut roots = Vec::new();
    for file in &args.ca {
        match read_certificates(file) {
            Ok(certificates) => roots.extend(certificates),
            Err(e) => fail(&file.display(), &e),
        }
    }
    let purpose = match args.purpose.to_ascii_lowercase().as_str() {
        "server" => Some(Purpose::ServerAuth),
        "client" => Some(Purpose::ClientAuth),
        _ => {
            fail(
                &"--purpose",
                &format_args!("{:?} is neither `server` nor `client`", args.purpose),
            );
            None
        }
    };
    let time = args
        .time
        .as_deref()
        .and_then(|text| match parse_time(text) {
            Ok(time) => Some(time),
            Err(e) => {
                fail(&"--time", &e);
                None
            }
        });
    let depth = match args.depth.trim().parse::<u32>() {
        Ok(depth) => Some(depth),
        Err(_) => {
            fail(
                &"--depth",
                &format_args!(
                    "{:?} is not a whole number of certificates (0 = no limit)",
                    args.depth
                ),
            );
            None
        }
    };
    let mut problems = Problems::default();
    let crls = args.revocation.load(&mut problems);
    let ok = ok && !problems.any();
    let (Some(chain), Some(purpose), Some(depth), true) = (chain, purpose, depth, ok) else {
        return Outcome::InputError;
    };

    if args.ca.is_empty() || args.system_ca {
        roots.extend(SslConfiguration::system_ca_certificates());
    }
    let mut options = VerifyOptions::new(roots)
        .with_purpose(purpose)
        .with_max_depth(depth)
        .with_dangerous_qt_host_name_matching(args.host_names.enabled())
        .with_crls(crls)
        .with_crls_required(args.revocation.crl_required);
    if let Some(host) = &args.host {
        options = options.with_peer_name(host.as_str());
    }
    if let Some(time) = time {
        options = options.with_time(time);
    }

    let errors = verify_chain(&chain, &options);
    if args.json {
        print_json(&ReportJson {
            errors: errors.iter().map(error_json).collect(),
        });
    } else if errors.is_empty() {
        match &args.host {
            Some(host) => say!("OK: the chain is valid for {host}"),
            None => say!("OK: the chain is valid"),
        }
    } else {
        for error in &errors {
            say!("{}", error_line(error));
        }
    }
    if errors.is_empty() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    }
}

/// An RFC 3339 time (`Z` or a `+HH:MM`/`-HH:MM` offset); a space instead
/// of the `T` and a missing zone (UTC) are accepted too.
fn parse_time(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    let invalid = |reason: &dyn std::fmt::Display| {
        format!("{text:?} is not an RFC 3339 time such as 2024-01-31T12:00:00Z ({reason})")
    };
    let (local, offset) = split_offset(text).ok_or_else(|| invalid(&"bad UTC offset"))?;
    let local = humantime::parse_rfc3339_weak(local).map_err(|e| invalid(&e))?;
    // local = UTC + offset
    let utc = if offset >= 0 {
        local.checked_sub(Duration::from_secs(offset.unsigned_abs()))
    } else {
        local.checked_add(Duration::from_secs(offset.unsigned_abs()))
    };
    utc.ok_or_else(|| invalid(&"out of range"))
}

/// Splits a trailing `+HH:MM`/`-HH:MM` off `text`; the offset is in seconds
/// (0 when there is none). `None` when the offset is malformed.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n < 16 || !matches!(bytes[n - 6], b'+' | b'-') || bytes[n - 3] != b':' {
        return Some((text, 0));
    }
    let hours: i64 = text.get(n - 5..n - 3)?.parse().ok()?;
    let minutes: i64 = text.get(n - 2..)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = (hours * 60 + minutes) * 60;
    Some((
        &text[..n - 6],
        if bytes[n - 6] == b'-' {
            -seconds
        } else {
            seconds
        },
    ))
}

/// `Name (code): message — subject of the certificate concerned`.
pub(crate) fn error_line(error: &SslError) -> String {
    let code = error.code();
    let mut line = format!("{} ({}): {error}", code.name(), code.value());
    if let Some(certificate) = error.certificate() {
        let subject = subject(certificate);
        line.push_str(" — ");
        line.push_str(if subject.is_empty() {
            "(empty subject)"
        } else {
            &subject
        });
    }
    line
}

/// The JSON form of one error (see the `verify --json` help).
pub(crate) fn error_json(error: &SslError) -> ErrorJson {
    ErrorJson {
        error: error.code().name(),
        code: error.code().value(),
        message: error.to_string(),
        certificate: error.certificate().map(|certificate| CertificateJson {
            subject: subject(certificate),
            sha256: certificate
                .digest(DigestAlgorithm::Sha256)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Result<u64, String> {
        parse_time(text).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
    }

    #[test]
    fn times() {
        let noon = 1_706_702_400; // 2024-01-31T12:00:00Z
        assert_eq!(at("2024-01-31T12:00:00Z"), Ok(noon));
        assert_eq!(at("2024-01-31 12:00:00"), Ok(noon));
        assert_eq!(at(" 2024-01-31T12:00:00.5Z "), Ok(noon));
        assert_eq!(at("2024-01-31T13:30:00+01:30"), Ok(noon));
        assert_eq!(at("2024-01-31T07:00:00-05:00"), Ok(noon));
        assert_eq!(at("2024-01-31T12:00:00+00:00"), Ok(noon));
        for bad in [
            "",
            "yesterday",
            "2024-01-31",
            "2024-13-01T00:00:00Z",
            "2024-01-31T12:00:00+25:00",
            "2024-01-31T12:00:00+1:00",
        ] {
            assert!(at(bad).is_err(), "{bad:?}");
        }
    }
}
