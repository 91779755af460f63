//! The pattern and list parsers: OpenSSL-style cipher lists, cipher names,
//! key-exchange group lists, Qt's enum names, and CA path patterns in all
//! three syntaxes (walked inside a fixture directory of this process).
//!
//! Layout: one byte choosing the parser, then the text.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sslsocket::cipher::parse_cipher_list;
use sslsocket::{
    EncodingFormat, KeyExchangeGroup, PatternSyntax, SslCertificate, SslCipher, SslConfiguration,
    SslErrorCode, SslProtocol,
};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    match choice % 6 {
        0 => {
            if let Ok(ciphers) = parse_cipher_list(text) {
                assert!(
                    !ciphers.is_empty(),
                    "an accepted cipher list selects something"
                );
                let mut configuration = SslConfiguration::new();
                configuration
                    .set_cipher_list(text)
                    .expect("the list parsed once");
            }
        }
        1 => {
            if let Ok(cipher) = SslCipher::from_name(text) {
                let _ = (cipher.iana_name(), cipher.protocol(), cipher.used_bits());
            }
        }
        2 => {
            if let Ok(groups) = KeyExchangeGroup::parse_list(text) {
                assert!(
                    !groups.is_empty(),
                    "an accepted group list selects something"
                );
            }
        }
        3 => {
            let _ = text.parse::<SslProtocol>();
            let _ = text.parse::<SslErrorCode>();
            let _ = text.parse::<PatternSyntax>();
        }
        syntax => {
            // Kept inside the fixture: no climbing out, no absolute paths.
            if text.contains("..") || text.starts_with('/') || text.contains('\0') {
                return;
            }
            let syntax = match syntax {
                4 => PatternSyntax::Wildcard,
                _ => PatternSyntax::RegularExpression,
            };
            let pattern = format!("{}/{text}", fixture().display());
            let _ = SslCertificate::from_path(&pattern, EncodingFormat::Pem, syntax);
            let _ = SslCertificate::from_path(&pattern, EncodingFormat::Der, syntax);
        }
    }
});

/// A directory of certificate files, nested, made once per process. Its
/// path has no character any pattern syntax treats as special.
fn fixture() -> &'static PathBuf {
    static DIRECTORY: OnceLock<PathBuf> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let root = std::env::temp_dir().join("sslsocket_fuzz_patterns");
        let identity = sslsocket_test_pki::Identity::new("Pattern Root");
        for (relative, contents) in [
            ("a.pem", identity.pem().into_bytes()),
            ("b.crt", identity.pem().into_bytes()),
            ("c.der", identity.der()),
            ("sub/d.pem", identity.pem().into_bytes()),
            ("sub/deeper/e.pem", identity.pem().into_bytes()),
            ("sub/[x].pem", identity.pem().into_bytes()),
            ("notes.txt", b"not a certificate".to_vec()),
        ] {
            sslsocket_test_pki::write(&root, relative, contents);
        }
        root
    })
}
