//! `sslsocket gen`: a local CA and certificates signed by it, as PEM files.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;
use sslsocket::certificate::DigestAlgorithm;

use crate::cert::hex_colon;
use crate::pki::{Authority, Issued, KeyAlgorithm, Usage};
use crate::report::{print_json, problem, say, Outcome};

const EXAMPLES: &str = "\
Examples:
  sslsocket gen --out pki --host localhost --host 127.0.0.1
  sslsocket serve --cert pki/server.pem --key pki/server.key
  sslsocket connect localhost:4433 --ca pki/ca.pem
  sslsocket gen --out pki --host mail.test --client alice --days 30 --force
  sslsocket gen --out rsa --host localhost --key-type rsa
  openssl verify -CAfile pki/ca.pem pki/server.pem";

/// Make a local CA and a server certificate for some names.
///
/// Writes PEM files into --out (created if needed): `ca.pem` and `ca.key`
/// (the CA, valid for signing server and client certificates directly),
/// `server.pem` (the server certificate alone) and `server.key`, and
/// `chain.pem` (the server certificate followed by the CA's, for servers
/// that should send the whole chain; clients need only `ca.pem`). With
/// --client NAME also `client.pem` and `client.key`, a client certificate
/// for mutual TLS. Keys are unencrypted PKCS#8 (EC P-256 unless
/// --key-type says otherwise), readable by the owner only. Existing files are left alone unless --force.
///
/// JSON (--json): `{"files": {"ca", "ca_key", "server", "server_key",
/// "chain", "client", "client_key"}` (paths, the client ones null without
/// --client), `"names"`, `"key_type"` (`rsa`, `ecdsa` or `ed25519`), `"not_after"` (RFC 3339), `"ca_sha256_fingerprint"`,
/// `"server_sha256_fingerprint"`}.
///
/// Exit status: 0 when the files were written, 2 on usage or input errors
/// (a file exists, a name is not a DNS name or IP address, the directory
/// cannot be written).
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct GenArgs {
    /// The directory to write to.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A DNS name or IP address for the server certificate; the first is
    /// also its common name. May be repeated.
    #[arg(long = "host", value_name = "NAME", required = true)]
    hosts: Vec<String>,
    /// Also make a client certificate with this common name.
    #[arg(long, value_name = "NAME")]
    client: Option<String>,
    /// How many days the certificates are valid.
    #[arg(long, value_name = "N", default_value = "365", value_parser = clap::value_parser!(u32).range(1..=36500))]
    days: u32,
    /// The kind of key every certificate gets (the CA's signs with it too).
    #[arg(long, value_enum, value_name = "TYPE", default_value_t = KeyAlgorithm::Ecdsa)]
    key_type: KeyAlgorithm,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct GenJson {
    files: FilesJson,
    names: Vec<String>,
    key_type: String,
    not_after: String,
    ca_sha256_fingerprint: String,
    server_sha256_fingerprint: String,
}

#[derive(Serialize)]
struct FilesJson {
    ca: String,
    ca_key: String,
    server: String,
    server_key: String,
    chain: String,
    client: Option<String>,
    client_key: Option<String>,
}

pub fn run(args: GenArgs) -> Outcome {
    let names: Vec<String> = args.hosts.iter().map(|h| h.trim().to_owned()).collect();
    let mut bad = false;
    for name in &names {
        if let Err(reason) = check_name(name) {
            problem("--host", reason);
            bad = true;
        }
    }
    let mut files = vec!["ca.pem", "ca.key", "server.pem", "server.key", "chain.pem"];
    if args.client.is_some() {
        files.extend(["client.pem", "client.key"]);
    }
    let path = |name: &str| args.out.join(name);
    if !args.force {
        let existing: Vec<String> = files
            .iter()
            .map(|f| path(f))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            problem(
                "gen",
                format!(
                    "{} already exist(s); pass --force to overwrite",
                    existing.join(", ")
                ),
            );
            bad = true;
        }
    }
    if bad {
        return Outcome::InputError;
    }

    let made = (|| -> Result<_, rcgen::Error> {
        let kind = args.key_type;
        let authority = Authority::new("sslsocket local CA", args.days, kind)?;
        let server = authority.leaf(&names[0], &names, Usage::Server, args.days, kind)?;
        let client = match &args.client {
            Some(name) => Some(authority.leaf(name, &[], Usage::Client, args.days, kind)?),
            None => None,
        };
        Ok((authority.issued, server, client))
    })();
    let (ca, server, client) = match made {
        Ok(made) => made,
        Err(e) => {
            problem("gen", format!("cannot make the certificates: {e}"));
            return Outcome::InputError;
        }
    };

    if let Err(e) = std::fs::create_dir_all(&args.out) {
        problem(args.out.display(), e);
        return Outcome::InputError;
    }
    let mut writes: Vec<(&str, String, bool)> = vec![
        ("ca.pem", ca.certificate_pem.clone(), false),
        ("ca.key", ca.key_pem.clone(), true),
        ("server.pem", server.certificate_pem.clone(), false),
        ("server.key", server.key_pem.clone(), true),
        (
            "chain.pem",
            format!("{}{}", server.certificate_pem, ca.certificate_pem),
            false,
        ),
    ];
    if let Some(client) = &client {
        writes.push(("client.pem", client.certificate_pem.clone(), false));
        writes.push(("client.key", client.key_pem.clone(), true));
    }
    for (name, contents, secret) in &writes {
        let file = path(name);
        if let Err(e) = write_file(&file, contents, *secret, args.force) {
            problem(file.display(), e);
            return Outcome::InputError;
        }
    }

    let fingerprint = |issued: &Issued| {
        issued
            .certificate()
            .map(|c| hex_colon(&c.digest(DigestAlgorithm::Sha256)))
            .unwrap_or_default()
    };
    let not_after = server
        .certificate()
        .map(|c| humantime::format_rfc3339_seconds(c.expiry_date()).to_string())
        .unwrap_or_default();
    let show = |name: &str| path(name).display().to_string();
    let report = GenJson {
        files: FilesJson {
            ca: show("ca.pem"),
            ca_key: show("ca.key"),
            server: show("server.pem"),
            server_key: show("server.key"),
            chain: show("chain.pem"),
            client: client.as_ref().map(|_| show("client.pem")),
            client_key: client.as_ref().map(|_| show("client.key")),
        },
        names: names.clone(),
        key_type: args
            .key_type
            .to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default(),
        not_after,
        ca_sha256_fingerprint: fingerprint(&ca),
        server_sha256_fingerprint: fingerprint(&server),
    };
    if args.json {
        print_json(&report);
        return Outcome::Success;
    }
    let dir = args.out.display();
    say!("wrote into {dir}:");
    say!("  ca.pem, ca.key          the CA (trust ca.pem in clients)");
    say!(
        "  server.pem, server.key  a server certificate for {}",
        names.join(", ")
    );
    say!("  chain.pem               server.pem followed by ca.pem");
    if let Some(name) = &args.client {
        say!("  client.pem, client.key  a client certificate for CN={name}");
    }
    say!(
        "{} keys, valid until {} ({} days)",
        args.key_type.description(),
        report.not_after,
        args.days
    );
    say!("CA SHA-256      {}", report.ca_sha256_fingerprint);
    say!("server SHA-256  {}", report.server_sha256_fingerprint);
    let first = names[0].as_str();
    let host = if first.contains(':') {
        format!("[{first}]")
    } else {
        first.to_owned()
    };
    say!("try:");
    say!("  sslsocket serve --cert {dir}/server.pem --key {dir}/server.key");
    say!("  sslsocket connect {host}:4433 --ca {dir}/ca.pem");
    Outcome::Success
}

/// A DNS name (letters, digits, hyphens, dots, a leading `*.`) or an IP address.
fn check_name(name: &str) -> Result<(), String> {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let labels = name.strip_prefix("*.").unwrap_or(name);
    let valid = !labels.is_empty()
        && labels.len() <= 253
        && labels.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is neither a DNS name (ASCII letters, digits, '-', '.'; IDNs in their xn-- form) nor an IP address"
        ))
    }
}

fn write_file(path: &Path, contents: &str, secret: bool, overwrite: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    if secret {
        // An overwritten file keeps its old mode; a key must not.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in [
            "localhost",
            "a.example",
            "*.example.test",
            "127.0.0.1",
            "::1",
            "xn--bcher-kva.test",
        ] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a..b", "-a.test", "a_b.test", "bücher.test", "*."] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
