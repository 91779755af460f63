//! # sslsocket: Qt's `QSslSocket` model on rustls
//!
//! sslsocket brings the TLS model of Qt's `QSslSocket` and `QSsl` to Rust:
//! certificates and keys you can inspect, verification results as a list of
//! Qt-named errors that you can ignore selectively, CA databases, cipher
//! control and peer chains. All TLS and cryptography is done by [rustls] with
//! the aws-lc-rs provider; no OpenSSL is needed at run time.
//!
//! This page is a tour. `docs/QT_MAPPING.md` in the repository maps every
//! Qt member to its Rust name.
//!
//! ## Certificates
//!
//! [`SslCertificate`] reads PEM (any number of certificates per input) or DER
//! and answers the questions `QSslCertificate` answers:
//!
//! ```
//! use sslsocket::certificate::{DigestAlgorithm, SubjectInfo};
//! use sslsocket::{AlternativeNameEntryType, SslCertificate};
//!
//! # let key = rcgen::KeyPair::generate().unwrap();
//! # let mut params = rcgen::CertificateParams::new(vec!["example.test".to_string()]).unwrap();
//! # params.distinguished_name.push(rcgen::DnType::CommonName, "example.test");
//! # let pem = params.self_signed(&key).unwrap().pem();
//! let certificates = SslCertificate::from_pem(&pem)?;
//! let leaf = &certificates[0];
//! assert_eq!(leaf.subject_info(SubjectInfo::CommonName), ["example.test"]);
//! assert_eq!(
//!     leaf.subject_alternative_names(),
//!     [(AlternativeNameEntryType::DnsEntry, "example.test".to_string())]
//! );
//! assert!(leaf.is_self_signed());
//! assert_eq!(leaf.digest(DigestAlgorithm::Sha256).len(), 32);
//! # Ok::<(), sslsocket::Error>(())
//! ```
//!
//! Bad input is an error, never a panic:
//!
//! ```
//! use sslsocket::{Error, SslCertificate};
//!
//! assert!(matches!(SslCertificate::from_pem("no certificate here"), Err(Error::NoCertificate)));
//! assert!(SslCertificate::from_der([0x30, 0x03, 0x02, 0x01]).is_err());
//! ```
//!
//! ## Keys
//!
//! [`SslKey`] reads RSA, EC, Ed25519 and DSA keys in every common container
//! (PKCS#1, SEC1, PKCS#8, SubjectPublicKeyInfo; encrypted PKCS#8 and
//! OpenSSL's traditional encrypted PEM). A missing or wrong passphrase is a
//! precise error rather than Qt's null key:
//!
//! ```
//! use sslsocket::{Error, KeyAlgorithm, KeyType, SslKey};
//!
//! # let pem = rcgen::KeyPair::generate().unwrap().serialize_pem();
//! let key = SslKey::from_pem(&pem, KeyType::PrivateKey, None)?;
//! assert_eq!((key.algorithm(), key.length()), (KeyAlgorithm::Ec, 256));
//!
//! let protected = key.to_pem(Some(b"s3cret"))?;
//! assert!(matches!(SslKey::from_pem(&protected, KeyType::PrivateKey, None), Err(Error::KeyEncrypted)));
//! assert!(matches!(
//!     SslKey::from_pem(&protected, KeyType::PrivateKey, Some(b"guess")),
//!     Err(Error::WrongPassphrase)
//! ));
//! assert_eq!(SslKey::from_pem(&protected, KeyType::PrivateKey, Some(b"s3cret"))?, key);
//! # Ok::<(), sslsocket::Error>(())
//! ```
//!
//! ## Configuration
//!
//! An [`SslConfiguration`] is a plain value
//! holding every TLS setting. New configurations start from the process-wide
//! default, which starts from secure settings: TLS 1.2 or later, peers
//! verified, AEAD ciphers only, the system's trusted roots.
//!
//! ```
//! use sslsocket::configuration::SslConfiguration;
//! use sslsocket::{Error, PeerVerifyMode, SslProtocol};
//!
//! let mut configuration = SslConfiguration::new();
//! assert_eq!(configuration.protocol(), SslProtocol::SecureProtocols);
//! assert_eq!(configuration.peer_verify_mode(), PeerVerifyMode::AutoVerifyPeer);
//!
//! configuration.set_cipher_list("TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")?;
//! assert_eq!(configuration.ciphers().len(), 2);
//!
//! // Qt drops unknown cipher names silently; sslsocket names them.
//! let err = configuration.set_cipher_list("RC4-MD5").unwrap_err();
//! assert!(matches!(&err, Error::UnknownCiphers { names } if names == &["RC4-MD5"]));
//!
//! // Insecure protocol values exist so ported code compiles, but cannot be negotiated.
//! assert!(!SslProtocol::SslV3.is_supported());
//! # Ok::<(), sslsocket::Error>(())
//! ```
//!
//! ## Sockets
//!
//! [`SslSocket`] follows `QSslSocket`: start calls return at once, and the
//! `wait_for_*` calls drive the network until their condition holds or the
//! timeout runs out. Data written before the handshake completes is sent
//! once it does. Here a server and a client talk over 127.0.0.1:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpListener;
//! use std::time::Duration;
//! use sslsocket::{KeyType, SslCertificate, SslKey, SslProtocol, SslSocket};
//!
//! # let key_pair = rcgen::KeyPair::generate().unwrap();
//! # let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
//! # let certificate = SslCertificate::from_der(params.self_signed(&key_pair).unwrap().der()).unwrap();
//! # let key = SslKey::from_pem(key_pair.serialize_pem(), KeyType::PrivateKey, None).unwrap();
//! let timeout = Some(Duration::from_secs(10));
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//! let server_identity = (vec![certificate.clone()], key);
//! let server = std::thread::spawn(move || -> Result<(), sslsocket::Error> {
//!     let mut socket = SslSocket::from_stream(listener.accept()?.0);
//!     let (chain, key) = server_identity;
//!     socket.ssl_configuration_mut().set_local_identity(chain, key)?;
//!     socket.start_server_encryption()?;
//!     socket.wait_for_encrypted(timeout)?;
//!     while !socket.can_read_line() {
//!         socket.wait_for_ready_read(timeout)?;
//!     }
//!     let line = socket.read_line(1024);
//!     socket.write_data(&line)?;
//!     socket.disconnect_from_host();
//!     Ok(())
//! });
//!
//! let mut client = SslSocket::new();
//! client.set_ca_certificates(vec![certificate]); // trust only this (self-signed) server
//! client.connect_to_host_encrypted("localhost", port);
//! client.write_data(b"hello\n")?; // queued until the handshake completes
//! client.wait_for_encrypted(timeout)?;
//! assert_eq!(client.session_protocol(), SslProtocol::TlsV1_3);
//! client.set_read_timeout(timeout);
//! let mut echo = String::new();
//! client.read_to_string(&mut echo)?;
//! assert_eq!(echo, "hello\n");
//! server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! When the peer's certificate is not acceptable, the handshake fails with
//! [`Error::VerificationFailed`] listing Qt's errors; ignore exactly the
//! errors you expect with [`SocketCore::ignore_listed_ssl_errors`], or decide
//! during the handshake with [`SocketCore::on_ssl_errors`].
//!
//! ## Verification errors
//!
//! Problems with a peer's chain are [`SslError`] values: Qt's code, number
//! and English message, and the certificate concerned. Two errors are equal
//! when code and certificate are equal, which is what lets an ignore list
//! bind to one certificate.
//!
//! [`verify_chain`] gives the list for a chain offline; it is empty when
//! the chain is acceptable. rustls-webpki decides whether the chain is
//! trusted, and the list says why not in Qt's terms:
//!
//! ```
//! use sslsocket::{verify_chain, SslErrorCode, VerifyOptions};
//! # use sslsocket::SslCertificate;
//! # let ca_key = rcgen::KeyPair::generate().unwrap();
//! # let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
//! # ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
//! # let root = SslCertificate::from_der(ca_params.self_signed(&ca_key).unwrap().der()).unwrap();
//! # let issuer = rcgen::Issuer::new(ca_params, &ca_key);
//! # let leaf_key = rcgen::KeyPair::generate().unwrap();
//! # let leaf_params = rcgen::CertificateParams::new(vec!["www.example.test".to_string()]).unwrap();
//! # let leaf = SslCertificate::from_der(leaf_params.signed_by(&leaf_key, &issuer).unwrap().der()).unwrap();
//! let options = VerifyOptions::new(vec![root]);
//! assert!(verify_chain(&[leaf.clone()], &options.clone().with_peer_name("www.example.test")).is_empty());
//!
//! let errors = verify_chain(&[leaf.clone()], &options.with_peer_name("mail.example.test"));
//! assert_eq!(errors.len(), 1);
//! assert_eq!(errors[0].code(), SslErrorCode::HostNameMismatch);
//! assert_eq!(errors[0].certificate(), Some(&leaf));
//! ```
//!
//! ```
//! use sslsocket::{SslError, SslErrorCode};
//!
//! let error = SslError::new(SslErrorCode::HostNameMismatch);
//! assert_eq!(error.code().value(), 22);
//! assert_eq!(
//!     error.error_string(),
//!     "The host name did not match any of the valid hosts for this certificate"
//! );
//! ```
//!
//! [rustls]: https://docs.rs/rustls

#[macro_use]
mod qt_enum;
#[macro_use]
mod plumbing;

pub mod certificate;
mod certificate_value;
mod channel;
pub mod cipher;
pub mod configuration;
mod crl;
mod driver;
pub mod error;
pub mod event;
mod handshake;
pub mod key;
pub mod key_exchange;
pub mod known_hosts;
mod net;
mod pem;
pub mod server;
mod server_handshakes;
mod server_settings;
pub mod socket;
mod socket_core;
pub mod ssl;
pub mod state;
mod tls_context;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod verify;
mod worker_pool;

pub use certificate::{
    CertificateExtension, DigestAlgorithm, ExtensionValue, PatternSyntax, SslCertificate,
    SubjectInfo,
};
pub use channel::Counters;
pub use cipher::SslCipher;
pub use configuration::SslConfiguration;
pub use crl::CertificateRevocationList;
pub use error::{Error, Result, SslError, SslErrorCode};
pub use event::Event;
pub use key::SslKey;
pub use key_exchange::KeyExchangeGroup;
pub use known_hosts::{KnownHosts, Pin, PinCheck};
pub use server::{ServerEvent, ServerMode, ServerSettings, SslServer};
pub use socket::{SocketCore, SslSocket, Transport};
pub use ssl::{
    AlertLevel, AlertType, AlternativeNameEntryType, EncodingFormat, KeyAlgorithm, KeyType,
    PeerVerifyMode, SslMode, SslOption, SslOptions, SslProtocol, TlsVersion,
};
pub use state::{SocketError, SocketState};
pub use verify::{verify_chain, PeerVerifyDecision, Purpose, SslErrorsDecision, VerifyOptions};
