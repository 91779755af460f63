//! Cipher suites (`QSslCipher`): the suites the crypto provider supports,
//! their Qt-style properties, and parsing of colon-separated cipher lists.
//!
//! TLS 1.2 suites carry OpenSSL's names (e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`)
//! and TLS 1.3 suites the IANA names (e.g. `TLS_AES_128_GCM_SHA256`), which is
//! what Qt reports with its OpenSSL backend. Every suite also answers to its
//! IANA name, so `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256` works too.

use std::fmt;

use rustls::CipherSuite;

use crate::error::{Error, Result};
use crate::ssl::SslProtocol;

/// The fixed description of one suite.
#[derive(Debug)]
struct CipherInfo {
    suite: CipherSuite,
    name: &'static str,
    iana_name: &'static str,
    protocol: SslProtocol,
    key_exchange: &'static str,
    authentication: &'static str,
    encryption: &'static str,
    bits: u32,
}

/// Every suite of the aws-lc-rs provider, strongest first within each
/// protocol, which is also the order a server prefers them in.
///
/// The method strings follow OpenSSL's cipher descriptions (`Kx=`, `Au=`,
/// `Enc=`), which is what Qt's accessors return.
static CIPHERS: [CipherInfo; 9] = [
    CipherInfo {
        suite: CipherSuite::TLS13_AES_256_GCM_SHA384,
        name: "TLS_AES_256_GCM_SHA384",
        iana_name: "TLS_AES_256_GCM_SHA384",
        protocol: SslProtocol::TlsV1_3,
        key_exchange: "any",
        authentication: "any",
        encryption: "AESGCM(256)",
        bits: 256,
    },
    CipherInfo {
        suite: CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        name: "TLS_CHACHA20_POLY1305_SHA256",
        iana_name: "TLS_CHACHA20_POLY1305_SHA256",
        protocol: SslProtocol::TlsV1_3,
        key_exchange: "any",
        authentication: "any",
        encryption: "CHACHA20/POLY1305(256)",
        bits: 256,
    },
    CipherInfo {
        suite: CipherSuite::TLS13_AES_128_GCM_SHA256,
        name: "TLS_AES_128_GCM_SHA256",
        iana_name: "TLS_AES_128_GCM_SHA256",
        protocol: SslProtocol::TlsV1_3,
        key_exchange: "any",
        authentication: "any",
        encryption: "AESGCM(128)",
        bits: 128,
    },
    CipherInfo {
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        name: "ECDHE-ECDSA-AES256-GCM-SHA384",
        iana_name: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        protocol: SslProtocol::TlsV1_2,
        key_exchange: "ECDH",
        authentication: "ECDSA",
        encryption: "AESGCM(256)",
        bits: 256,
    },
    CipherInfo {
        suite: CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        name: "ECDHE-RSA-AES256-GCM-SHA384",
        iana_name: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        protocol: SslProtocol::TlsV1_2,
        key_exchange: "ECDH",
        authentication: "RSA",
        encryption: "AESGCM(256)",
        bits: 256,
    },
    CipherInfo {
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        name: "ECDHE-ECDSA-CHACHA20-POLY1305",
        iana_name: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        protocol: SslProtocol::TlsV1_2,
        key_exchange: "ECDH",
        authentication: "ECDSA",
        encryption: "CHACHA20/POLY1305(256)",
        bits: 256,
    },
    CipherInfo {
        suite: CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        name: "ECDHE-RSA-CHACHA20-POLY1305",
        iana_name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        protocol: SslProtocol::TlsV1_2,
        key_exchange: "ECDH",
        authentication: "RSA",
        encryption: "CHACHA20/POLY1305(256)",
        bits: 256,
    },
    CipherInfo {
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        name: "ECDHE-ECDSA-AES128-GCM-SHA256",
        iana_name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        protocol: SslProtocol::TlsV1_2,
        key_exchange: "ECDH",
        authentication: "ECDSA",
        encryption: "AESGCM(128)",
        bits: 128,
    },
    CipherInfo {
        suite: CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        name: "ECDHE-RSA-AES128-GCM-SHA256",
        iana_name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        protocol: SslProtocol::TlsV1_2,
        key_exchange: "ECDH",
        authentication: "RSA",
        encryption: "AESGCM(128)",
        bits: 128,
    },
];

/// Ciphers weaker than this are left out of the default list, as in Qt.
const MIN_DEFAULT_BITS: u32 = 128;

/// One cipher suite (`QSslCipher`).
///
/// Values are cheap to copy and compare; they can only be obtained from the
/// supported list, so every `SslCipher` is one the library can negotiate.
#[derive(Clone, Copy)]
pub struct SslCipher {
    info: &'static CipherInfo,
}

impl PartialEq for SslCipher {
    fn eq(&self, other: &SslCipher) -> bool {
        self.info.suite == other.info.suite
    }
}

impl Eq for SslCipher {}

impl std::hash::Hash for SslCipher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl SslCipher {
    /// The supported cipher with this name (OpenSSL name for TLS 1.2 suites,
    /// IANA name for any suite), or [`Error::UnknownCiphers`].
    pub fn from_name(name: &str) -> Result<SslCipher> {
        CIPHERS
            .iter()
            .find(|c| c.name == name || c.iana_name == name)
            .map(|info| SslCipher { info })
            .ok_or_else(|| Error::UnknownCiphers {
                names: vec![name.to_owned()],
            })
    }

    /// The cipher's name as Qt reports it: OpenSSL's for TLS 1.2, IANA's for TLS 1.3.
    pub fn name(&self) -> &'static str {
        self.info.name
    }

    /// The IANA registry name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub fn iana_name(&self) -> &'static str {
        self.info.iana_name
    }

    /// The two-byte suite identifier from the IANA registry.
    pub fn id(&self) -> u16 {
        u16::from(self.info.suite)
    }

    /// The protocol this suite belongs to: `TlsV1_2` or `TlsV1_3`.
    pub fn protocol(&self) -> SslProtocol {
        self.info.protocol
    }

    /// The protocol as text: `"TLSv1.2"` or `"TLSv1.3"`.
    pub fn protocol_string(&self) -> &'static str {
        match self.info.protocol {
            SslProtocol::TlsV1_3 => "TLSv1.3",
            _ => "TLSv1.2",
        }
    }

    /// The key exchange method, e.g. `"ECDH"`; `"any"` for TLS 1.3 suites,
    /// which do not fix it.
    pub fn key_exchange_method(&self) -> &'static str {
        self.info.key_exchange
    }

    /// The authentication method, e.g. `"RSA"` or `"ECDSA"`; `"any"` for TLS 1.3.
    pub fn authentication_method(&self) -> &'static str {
        self.info.authentication
    }

    /// The bulk encryption method with its key size, e.g. `"AESGCM(128)"`.
    pub fn encryption_method(&self) -> &'static str {
        self.info.encryption
    }

    /// The number of key bits the suite actually uses.
    pub fn used_bits(&self) -> u32 {
        self.info.bits
    }

    /// The number of key bits the algorithm supports (equal to
    /// [`used_bits`](Self::used_bits) for every modern AEAD suite).
    pub fn supported_bits(&self) -> u32 {
        self.info.bits
    }
}

impl SslCipher {
    /// The rustls suite for this cipher, from the crate's provider.
    pub(crate) fn rustls_suite(&self) -> rustls::SupportedCipherSuite {
        rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES
            .iter()
            .copied()
            .find(|s| s.suite() == self.info.suite)
            .expect("the cipher table lists only suites of the aws-lc-rs provider")
    }

    /// The cipher for a suite rustls negotiated; `None` if the table lacks it.
    pub(crate) fn from_suite(suite: CipherSuite) -> Option<SslCipher> {
        CIPHERS
            .iter()
            .find(|c| c.suite == suite)
            .map(|info| SslCipher { info })
    }
}

impl fmt::Debug for SslCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SslCipher({})", self.info.name)
    }
}

impl fmt::Display for SslCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info.name)
    }
}

impl std::str::FromStr for SslCipher {
    type Err = Error;

    fn from_str(name: &str) -> Result<SslCipher> {
        SslCipher::from_name(name)
    }
}

/// Every cipher suite this library can negotiate, in server preference order.
pub fn supported_ciphers() -> Vec<SslCipher> {
    CIPHERS.iter().map(|info| SslCipher { info }).collect()
}

/// The library's default cipher list: the supported ciphers with at least
/// 128 bits (Qt's rule). The process-wide default can be changed with
/// [`SslConfiguration::set_default_ciphers`](crate::configuration::SslConfiguration::set_default_ciphers).
pub fn library_default_ciphers() -> Vec<SslCipher> {
    supported_ciphers()
        .into_iter()
        .filter(|c| c.used_bits() >= MIN_DEFAULT_BITS)
        .collect()
}

/// Parses a colon-separated list such as
/// `"TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256"`.
///
/// Empty parts are skipped and surrounding whitespace is ignored. Unlike Qt,
/// which silently drops names it does not know, any unknown name fails the
/// whole call with [`Error::UnknownCiphers`] listing every such name, and a
/// list that names no cipher at all is [`Error::EmptyList`] (rather than the
/// defaults unasked). A cipher named twice appears once, at its first
/// position.
pub fn parse_cipher_list(list: &str) -> Result<Vec<SslCipher>> {
    let mut ciphers = Vec::new();
    let mut unknown = Vec::new();
    for name in list.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        match SslCipher::from_name(name) {
            Ok(cipher) if !ciphers.contains(&cipher) => ciphers.push(cipher),
            Ok(_) => {}
            Err(_) => unknown.push(name.to_owned()),
        }
    }
    if !unknown.is_empty() {
        Err(Error::UnknownCiphers { names: unknown })
    } else if ciphers.is_empty() {
        Err(Error::EmptyList { what: "ciphers" })
    } else {
        Ok(ciphers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES;

    #[test]
    fn table_matches_the_provider() {
        assert_eq!(ALL_CIPHER_SUITES.len(), CIPHERS.len());
        for suite in ALL_CIPHER_SUITES {
            // rustls spells TLS 1.3 suites with a "TLS13_" prefix where IANA has "TLS_".
            let iana_name = format!("{:?}", suite.suite()).replace("TLS13_", "TLS_");
            let cipher = SslCipher::from_name(&iana_name)
                .unwrap_or_else(|_| panic!("{iana_name} missing from the table"));
            assert_eq!(cipher.id(), u16::from(suite.suite()));
            let expected = match suite.version().version {
                rustls::ProtocolVersion::TLSv1_3 => SslProtocol::TlsV1_3,
                _ => SslProtocol::TlsV1_2,
            };
            assert_eq!(cipher.protocol(), expected, "{cipher}");
        }
    }

    #[test]
    fn names_and_properties() {
        let c = SslCipher::from_name("ECDHE-ECDSA-AES128-GCM-SHA256").unwrap();
        assert_eq!(c.protocol_string(), "TLSv1.2");
        assert_eq!(c.key_exchange_method(), "ECDH");
        assert_eq!(c.authentication_method(), "ECDSA");
        assert_eq!(c.encryption_method(), "AESGCM(128)");
        assert_eq!((c.used_bits(), c.supported_bits()), (128, 128));
        assert_eq!(c.id(), 0xc02b);
        assert_eq!(SslCipher::from_name(c.iana_name()).unwrap(), c);

        let t = SslCipher::from_name("TLS_CHACHA20_POLY1305_SHA256").unwrap();
        assert_eq!(t.protocol(), SslProtocol::TlsV1_3);
        assert_eq!(t.key_exchange_method(), "any");
        assert_eq!(t.used_bits(), 256);
    }

    #[test]
    fn list_parsing() {
        let list =
            parse_cipher_list(":TLS_AES_128_GCM_SHA256:: ECDHE-RSA-AES256-GCM-SHA384 :").unwrap();
        let names: Vec<_> = list.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            ["TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]
        );
        for empty in ["", " ", "::", " : :"] {
            assert!(matches!(
                parse_cipher_list(empty),
                Err(Error::EmptyList { what: "ciphers" })
            ));
        }
        let dup = parse_cipher_list("TLS_AES_128_GCM_SHA256:TLS_AES_128_GCM_SHA256").unwrap();
        assert_eq!(dup.len(), 1);

        match parse_cipher_list("RC4-MD5:TLS_AES_128_GCM_SHA256:DES-CBC3-SHA") {
            Err(Error::UnknownCiphers { names }) => assert_eq!(names, ["RC4-MD5", "DES-CBC3-SHA"]),
            other => panic!("expected UnknownCiphers, got {other:?}"),
        }
        assert!(
            SslCipher::from_name("tls_aes_128_gcm_sha256").is_err(),
            "names are exact"
        );
    }

    #[test]
    fn defaults_are_the_strong_supported_ciphers() {
        let defaults = library_default_ciphers();
        assert_eq!(defaults, supported_ciphers());
        assert!(defaults.iter().all(|c| c.used_bits() >= 128));
    }
}
