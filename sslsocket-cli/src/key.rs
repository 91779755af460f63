//! `sslsocket key show`: what a key file holds.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use sslsocket::{EncodingFormat, Error, KeyType, SslKey};

use crate::input::read_encoded;
use crate::report::{print_json, problem, say, Outcome};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Show a key's algorithm, type and length.
    ///
    /// Reads PEM or DER: PKCS#1, SEC1, PKCS#8 (also encrypted), traditional
    /// encrypted PEM, SubjectPublicKeyInfo. JSON (--json): an object with the
    /// fields `algorithm` (Rsa, Dsa, Ec, Ed25519), `type` (PrivateKey or
    /// PublicKey) and `length` (bits).
    #[command(after_help = "Examples:
  sslsocket key show server.key
  sslsocket key show encrypted.key --passphrase-file pass.txt --json")]
    Show(ShowArgs),
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("secret").args(["passphrase", "passphrase_file"]))]
pub struct ShowArgs {
    /// The key file.
    file: PathBuf,
    /// The passphrase of an encrypted key.
    #[arg(long)]
    passphrase: Option<String>,
    /// A file whose first line is the passphrase.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct KeyJson {
    algorithm: &'static str,
    #[serde(rename = "type")]
    key_type: &'static str,
    length: u32,
}

pub fn run(command: KeyCommand) -> Outcome {
    match command {
        KeyCommand::Show(args) => show(args),
    }
}

fn show(args: ShowArgs) -> Outcome {
    let passphrase = match (&args.passphrase, &args.passphrase_file) {
        (Some(text), _) => Some(text.clone().into_bytes()),
        (None, Some(path)) => match read_passphrase_file(path) {
            Ok(secret) => Some(secret),
            Err(e) => {
                problem(path.display(), e);
                return Outcome::InputError;
            }
        },
        (None, None) => None,
    };
    let key = match load_key(&args.file, passphrase.as_deref()) {
        Ok(key) => key,
        Err(e) => {
            problem(args.file.display(), e);
            return Outcome::InputError;
        }
    };
    if args.json {
        print_json(&KeyJson {
            algorithm: key.algorithm().name(),
            key_type: key.key_type().name(),
            length: key.length(),
        });
    } else {
        let curve = key
            .curve_name()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        say!(
            "{}: {} {}, {} bits{curve}",
            args.file.display(),
            key.algorithm(),
            key.key_type(),
            key.length()
        );
    }
    Outcome::Success
}

pub(crate) fn read_passphrase_file(path: &Path) -> std::io::Result<Vec<u8>> {
    Ok(passphrase_of(&std::fs::read(path)?).to_vec())
}

/// The passphrase a passphrase file holds: its first line, without the line end.
pub fn passphrase_of(file: &[u8]) -> &[u8] {
    let first_line = file.split(|&b| b == b'\n').next().unwrap_or_default();
    first_line.strip_suffix(b"\r").unwrap_or(first_line)
}

fn load_key(path: &Path, passphrase: Option<&[u8]>) -> Result<SslKey, Error> {
    let (data, format) = read_encoded(path)?;
    key_from_data(&data, format, passphrase)
}

/// A private key, or a public key when `data` holds one.
pub fn key_from_data(
    data: &[u8],
    format: EncodingFormat,
    passphrase: Option<&[u8]>,
) -> Result<SslKey, Error> {
    match SslKey::from_data(data, format, KeyType::PrivateKey, passphrase) {
        Ok(key) => Ok(key),
        // These say exactly what to do; a public-key attempt would only hide them.
        Err(
            e @ (Error::KeyEncrypted
            | Error::WrongPassphrase
            | Error::UnsupportedKeyEncryption { .. }),
        ) => Err(e),
        Err(private_error) => {
            SslKey::from_data(data, format, KeyType::PublicKey, None).map_err(|_| private_error)
        }
    }
}
