//! `sslsocket ciphers`: the supported or default cipher suites.

use clap::Args;
use serde::Serialize;
use sslsocket::cipher::SslCipher;
use sslsocket::configuration::SslConfiguration;

use crate::report::{print_json, say, Outcome};

/// List cipher suites with their properties, one per line.
///
/// JSON (--json): an array of objects with the fields `name`, `protocol`,
/// `key_exchange`, `authentication`, `encryption`, `used_bits`, `supported_bits`.
#[derive(Args)]
#[command(
    group = clap::ArgGroup::new("which").args(["supported", "default"]),
    after_help = "Examples:
  sslsocket ciphers
  sslsocket ciphers --default --json"
)]
pub struct CiphersArgs {
    /// Every suite the library can negotiate (the default).
    #[arg(long)]
    supported: bool,
    /// The suites a new configuration uses.
    #[arg(long)]
    default: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct CipherJson {
    name: &'static str,
    protocol: &'static str,
    key_exchange: &'static str,
    authentication: &'static str,
    encryption: &'static str,
    used_bits: u32,
    supported_bits: u32,
}

impl From<&SslCipher> for CipherJson {
    fn from(c: &SslCipher) -> Self {
        CipherJson {
            name: c.name(),
            protocol: c.protocol_string(),
            key_exchange: c.key_exchange_method(),
            authentication: c.authentication_method(),
            encryption: c.encryption_method(),
            used_bits: c.used_bits(),
            supported_bits: c.supported_bits(),
        }
    }
}

pub fn run(args: CiphersArgs) -> Outcome {
    let ciphers = if args.default {
        SslConfiguration::default_ciphers()
    } else {
        SslConfiguration::supported_ciphers()
    };
    if args.json {
        print_json(&ciphers.iter().map(CipherJson::from).collect::<Vec<_>>());
        return Outcome::Success;
    }
    let width = ciphers.iter().map(|c| c.name().len()).max().unwrap_or(0);
    for c in &ciphers {
        say!(
            "{:width$}  {}  Kx={:<4} Au={:<5} Enc={} bits={}/{}",
            c.name(),
            c.protocol_string(),
            c.key_exchange_method(),
            c.authentication_method(),
            c.encryption_method(),
            c.used_bits(),
            c.supported_bits(),
        );
    }
    Outcome::Success
}
