//! Peers that misbehave on purpose. A rustls peer makes the handshake; then
//! [`Records`] takes over its sending direction and can send what rustls
//! never would: records at and over the length limits, empty records,
//! floods of warning alerts, renegotiation requests, KeyUpdates in bulk.

use std::io::{Read, Write};
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use rustls::crypto::aws_lc_rs::cipher_suite;
use rustls::{ConnectionTrafficSecrets, SupportedCipherSuite};

use super::memory::{TestPki, SERVER_NAME};

pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// The largest plaintext a record may carry (2^14, RFC 8446 §5.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// The longest record rustls takes (its length field under 2^14 + 2048, the
/// ciphertext allowance of RFC 5246 §6.2.3).
pub const MAX_RECORD: usize = MAX_PLAINTEXT + 2048 - 1;

/// A warning alert: `user_canceled`, the one warning TLS 1.3 allows.
pub const WARNING_USER_CANCELED: [u8; 2] = [1, 90];
/// A TLS 1.2 HelloRequest (a server asking to renegotiate).
pub const HELLO_REQUEST: [u8; 4] = [0, 0, 0, 0];

/// The TLS versions a hostile peer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Tls12,
    Tls13,
}

impl Version {
    pub const BOTH: [Version; 2] = [Version::Tls12, Version::Tls13];

    fn suite(self) -> SupportedCipherSuite {
        match self {
            Version::Tls12 => cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            Version::Tls13 => cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        }
    }

    fn versions(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            Version::Tls12 => &TLS12,
            Version::Tls13 => &TLS13,
        }
    }

    fn provider(self) -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::CryptoProvider {
            cipher_suites: vec![self.suite()],
            ..rustls::crypto::aws_lc_rs::default_provider()
        })
    }

    /// A rustls client trusting `pki`'s root, ChaCha20-Poly1305 only, whose
    /// secrets can be taken over.
    pub fn client(self, pki: &TestPki) -> rustls::ClientConnection {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.root.der().into()).unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider())
            .with_protocol_versions(self.versions())
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.enable_secret_extraction = true;
        let name = rustls_pki_types::ServerName::try_from(SERVER_NAME).unwrap();
        rustls::ClientConnection::new(Arc::new(config), name).unwrap()
    }

    /// A rustls server with `pki`'s server identity (an ECDSA key, which
    /// the TLS 1.2 suite needs), ChaCha20-Poly1305 only, whose secrets can
    /// be taken over.
    pub fn server(self, pki: &TestPki) -> rustls::ServerConnection {
        let chain = vec![pki.server.der().into(), pki.intermediate.der().into()];
        let key = rustls_pki_types::PrivateKeyDer::try_from(pki.server.key_der()).unwrap();
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider())
            .with_protocol_versions(self.versions())
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        config.enable_secret_extraction = true;
        config.send_tls13_tickets = 0;
        rustls::ServerConnection::new(Arc::new(config)).unwrap()
    }
}

/// Makes the handshake of `connection` over `transport` (blocking), and
/// sends everything rustls has queued.
pub fn handshake(connection: &mut rustls::Connection, transport: &mut (impl Read + Write)) {
    while connection.is_handshaking() {
        connection.complete_io(transport).expect("the handshake");
    }
    while connection.wants_write() {
        connection.write_tls(transport).expect("the last flight");
    }
}

/// The sending direction of a connection after its handshake, as a record
/// layer of our own (ChaCha20-Poly1305, both versions).
pub struct Records {
    key: LessSafeKey,
    iv: [u8; 12],
    sequence: u64,
    version: Version,
}

impl Records {
    /// Takes over the connection's sending keys (the connection is spent).
    pub fn take_over(connection: impl Into<rustls::Connection>, version: Version) -> Records {
        let connection: rustls::Connection = connection.into();
        let secrets = connection.dangerous_extract_secrets().expect("secrets");
        let (sequence, secrets) = secrets.tx;
        let ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } = secrets else {
            panic!("the hostile peer speaks ChaCha20-Poly1305 only");
        };
        Records {
            key: LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key.as_ref()).unwrap()),
            iv: iv.as_ref().try_into().unwrap(),
            sequence,
            version,
        }
    }

    /// One encrypted record of `content_type` carrying `payload` (which may
    /// be empty, or over the limits).
    pub fn seal(&mut self, content_type: u8, payload: &[u8]) -> Vec<u8> {
        let mut nonce = self.iv;
        for (byte, sequence) in nonce[4..].iter_mut().zip(self.sequence.to_be_bytes()) {
            *byte ^= sequence;
        }
        let nonce = Nonce::assume_unique_for_key(nonce);
        let (outer_type, mut body) = match self.version {
            // TLS 1.3 hides the type inside: payload, then the real type.
            Version::Tls13 => (APPLICATION_DATA, [payload, &[content_type]].concat()),
            Version::Tls12 => (content_type, payload.to_vec()),
        };
        let aad = match self.version {
            Version::Tls13 => header(outer_type, body.len() + 16).to_vec(),
            Version::Tls12 => [
                &self.sequence.to_be_bytes()[..],
                &header(content_type, body.len()),
            ]
            .concat(),
        };
        self.key
            .seal_in_place_append_tag(nonce, Aad::from(aad), &mut body)
            .unwrap();
        self.sequence += 1;
        [&header(outer_type, body.len())[..], &body].concat()
    }
}

/// A record header: type, version 3.3, length (truncated to 16 bits, so
/// that callers can build headers that lie).
pub fn header(content_type: u8, length: usize) -> [u8; 5] {
    let length = (length as u16).to_be_bytes();
    [content_type, 3, 3, length[0], length[1]]
}

/// A record sent as it is, not encrypted.
pub fn plain_record(content_type: u8, payload: &[u8]) -> Vec<u8> {
    [&header(content_type, payload.len())[..], payload].concat()
}
