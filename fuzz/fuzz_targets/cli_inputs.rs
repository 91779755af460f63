//! What the `sslsocket` tool reads from its user: the command line (clap,
//! every subcommand and option), option values (protocols, error codes,
//! seconds, ALPN lists), and the files it is given (certificates and keys,
//! PEM or DER as the tool tells them apart, passphrase files, revocation
//! lists), with the description `cert show` prints.
//!
//! Layout: one byte choosing the reader, then its input.
#![no_main]

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use sslsocket::{CertificateRevocationList, SslCertificate};
use sslsocket_cli::{cert, input, key, options, Cli};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    match choice % 5 {
        0 => {
            // Arguments separated by NUL bytes.
            let arguments = rest
                .split(|&b| b == 0)
                .map(|argument| String::from_utf8_lossy(argument).into_owned());
            let _ = Cli::try_parse_from(std::iter::once("sslsocket".to_owned()).chain(arguments));
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            let _ = options::parse_protocol(&text);
            let _ = options::parse_error_code(&text);
            if let Ok(seconds) = options::parse_seconds(&text) {
                assert!(!seconds.is_zero());
            }
            for name in options::alpn_names(&text) {
                assert!(!name.is_empty());
            }
        }
        2 => {
            if let Ok(certificates) = SslCertificate::from_data(rest, input::encoding_of(rest)) {
                for certificate in &certificates {
                    let _ = serde_json::to_string(&cert::details(certificate));
                }
            }
        }
        3 => {
            // A passphrase file (up to the first NUL), then the key file.
            let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let (passphrase_file, key_file) = rest.split_at(split);
            let key_file = key_file.get(1..).unwrap_or_default();
            let passphrase = key::passphrase_of(passphrase_file);
            assert!(!passphrase.contains(&b'\n'));
            let format = input::encoding_of(key_file);
            let _ = key::key_from_data(key_file, format, Some(passphrase));
            let _ = key::key_from_data(key_file, format, None);
        }
        _ => {
            let _ = CertificateRevocationList::from_data(rest, input::encoding_of(rest));
        }
    }
});
