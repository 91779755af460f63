//! The TLS settings every peer is given, and how each library is configured
//! for them. Configurations are built once per measurement and shared by
//! its connections, as a real program would.
//!
//! Key exchange: system OpenSSL 3.0 has no ML-KEM, so every peer uses
//! X25519: rustls peers get a provider restricted to X25519, sslsocket
//! `set_key_exchange_groups([X25519])`; the handshake scenario reports the
//! group each negotiated.

use std::sync::Arc;

use openssl::pkey::PKey;
use openssl::ssl::{SslContext, SslContextBuilder, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;
use rustls::client::Resumption;
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sslsocket::{
    KeyExchangeGroup, KeyType, PeerVerifyMode, SslCertificate, SslConfiguration, SslKey,
    SslProtocol,
};

use crate::pki::{Identity, Pki, SERVER_NAME};

/// The cipher suite (and so the protocol version) of a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// TLS 1.3 AES-128-GCM.
    Aes128,
    /// TLS 1.3 AES-256-GCM.
    Aes256,
    /// TLS 1.3 ChaCha20-Poly1305.
    Chacha,
    /// TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256.
    Tls12EcdsaAes128,
}

impl Suite {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Suite::Aes128 => "aes128gcm",
            Suite::Aes256 => "aes256gcm",
            Suite::Chacha => "chacha20",
            Suite::Tls12EcdsaAes128 => "tls12-aes128gcm",
        }
    }

    /// The OpenSSL name, which sslsocket's cipher lists also use.
    pub fn openssl_name(self) -> &'static str {
        match self {
            Suite::Aes128 => "TLS_AES_128_GCM_SHA256",
            Suite::Aes256 => "TLS_AES_256_GCM_SHA384",
            Suite::Chacha => "TLS_CHACHA20_POLY1305_SHA256",
            Suite::Tls12EcdsaAes128 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        }
    }

    fn rustls(self) -> SupportedCipherSuite {
        use aws_lc_rs::cipher_suite as cs;
        match self {
            Suite::Aes128 => cs::TLS13_AES_128_GCM_SHA256,
            Suite::Aes256 => cs::TLS13_AES_256_GCM_SHA384,
            Suite::Chacha => cs::TLS13_CHACHA20_POLY1305_SHA256,
            Suite::Tls12EcdsaAes128 => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        }
    }

    fn tls13(self) -> bool {
        self != Suite::Tls12EcdsaAes128
    }
}

/// The server's key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256.
    Ecdsa,
    /// RSA 2048.
    Rsa,
}

/// What a measurement's connections negotiate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The server's key.
    pub key: KeyKind,
    /// The one cipher suite offered.
    pub suite: Suite,
    /// Whether clients keep sessions and resume them.
    pub resumption: bool,
}

impl Spec {
    /// ECDSA, TLS 1.3 AES-128-GCM, no resumption: the default of most scenarios.
    pub const DEFAULT: Spec = Spec {
        key: KeyKind::Ecdsa,
        suite: Suite::Aes128,
        resumption: false,
    };

    fn identity(self, pki: &Pki) -> &Identity {
        match self.key {
            KeyKind::Ecdsa => &pki.ecdsa,
            KeyKind::Rsa => &pki.rsa,
        }
    }
}

// --- sslsocket --------------------------------------------------------------

fn sslsocket_common(spec: Spec) -> SslConfiguration {
    let mut configuration = SslConfiguration::new();
    configuration.set_protocol(if spec.suite.tls13() {
        SslProtocol::TlsV1_3
    } else {
        SslProtocol::TlsV1_2
    });
    configuration
        .set_cipher_list(spec.suite.openssl_name())
        .expect("sslsocket knows the cipher");
    configuration.set_key_exchange_groups(vec![KeyExchangeGroup::X25519]);
    configuration
}

/// A client configuration trusting only the identity's root, verifying the
/// server as [`SERVER_NAME`]. Without resumption, session sharing is off.
pub fn sslsocket_client(pki: &Pki, spec: Spec) -> SslConfiguration {
    let mut configuration = sslsocket_common(spec);
    let root = SslCertificate::from_der(&spec.identity(pki).root_der).expect("root parses");
    configuration.set_ca_certificates(vec![root]);
    configuration.set_peer_verify_name(Some(SERVER_NAME.to_string()));
    configuration.set_ssl_option(
        sslsocket::SslOption::SslOptionDisableSessionSharing,
        !spec.resumption,
    );
    configuration
}

/// A server configuration with the identity's leaf and key. Clients are not
/// asked for a certificate (`VerifyNone`), as with the other peers; the Qt
/// default for servers (`AutoVerifyPeer`, i.e. `QueryPeer`) would add a
/// CertificateRequest to every handshake.
pub fn sslsocket_server(pki: &Pki, spec: Spec) -> SslConfiguration {
    let mut configuration = sslsocket_common(spec);
    let identity = spec.identity(pki);
    let leaf = SslCertificate::from_der(&identity.leaf_der).expect("leaf parses");
    let key = SslKey::from_pem(&identity.key_pem, KeyType::PrivateKey, None).expect("key parses");
    configuration
        .set_local_identity(vec![leaf], key)
        .expect("consistent identity");
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
    configuration
}

// --- rustls -----------------------------------------------------------------

fn rustls_provider(suite: Suite) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![suite.rustls()],
        kx_groups: vec![aws_lc_rs::kx_group::X25519],
        ..aws_lc_rs::default_provider()
    })
}

static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

fn rustls_versions(suite: Suite) -> &'static [&'static rustls::SupportedProtocolVersion] {
    if suite.tls13() {
        TLS13_ONLY
    } else {
        TLS12_ONLY
    }
}

/// A rustls client trusting the identity's root.
pub fn rustls_client(pki: &Pki, spec: Spec) -> Arc<ClientConfig> {
    rustls_client_trusting(&spec.identity(pki).root_der, spec)
}

/// A rustls client trusting only `root_der` (DER): for a server in another
/// process, which made its own PKI.
pub fn rustls_client_trusting(root_der: &[u8], spec: Spec) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(root_der.to_vec()))
        .expect("root accepted");
    let mut config = ClientConfig::builder_with_provider(rustls_provider(spec.suite))
        .with_protocol_versions(rustls_versions(spec.suite))
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !spec.resumption {
        config.resumption = Resumption::disabled();
    }
    Arc::new(config)
}

/// A rustls server with session tickets (as sslsocket's and OpenSSL's).
pub fn rustls_server(pki: &Pki, spec: Spec) -> Arc<ServerConfig> {
    let identity = spec.identity(pki);
    let mut config = ServerConfig::builder_with_provider(rustls_provider(spec.suite))
        .with_protocol_versions(rustls_versions(spec.suite))
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(identity.leaf_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
        )
        .expect("identity");
    config.ticketer = aws_lc_rs::Ticketer::new().expect("ticketer");
    Arc::new(config)
}

/// The server name rustls clients connect to.
pub fn rustls_server_name() -> rustls_pki_types::ServerName<'static> {
    rustls_pki_types::ServerName::try_from(SERVER_NAME).expect("valid name")
}

// --- OpenSSL ----------------------------------------------------------------

fn openssl_common(builder: &mut SslContextBuilder, suite: Suite) {
    let version = if suite.tls13() {
        SslVersion::TLS1_3
    } else {
        SslVersion::TLS1_2
    };
    builder.set_min_proto_version(Some(version)).expect("min");
    builder.set_max_proto_version(Some(version)).expect("max");
    if suite.tls13() {
        builder
            .set_ciphersuites(suite.openssl_name())
            .expect("ciphersuites");
    } else {
        builder
            .set_cipher_list(suite.openssl_name())
            .expect("cipher list");
    }
    // TLS 1.2 ties ECDSA certificates to the client's supported groups
    // (RFC 8422), and OpenSSL enforces it: P-256 is listed after X25519 so
    // that the P-256 certificate is acceptable; the key exchange stays X25519.
    builder
        .set_groups_list(if suite.tls13() {
            "X25519"
        } else {
            "X25519:P-256"
        })
        .expect("groups");
}

/// An OpenSSL client context verifying the server against the identity's
/// root (the host name is set per connection, see [`openssl_client_ssl`]).
pub fn openssl_client(pki: &Pki, spec: Spec) -> SslContext {
    let mut builder = SslContext::builder(SslMethod::tls_client()).expect("context");
    openssl_common(&mut builder, spec.suite);
    builder.set_verify(SslVerifyMode::PEER);
    let mut store = X509StoreBuilder::new().expect("store");
    store
        .add_cert(X509::from_der(&spec.identity(pki).root_der).expect("root parses"))
        .expect("root added");
    builder.set_cert_store(store.build());
    builder.build()
}

/// A client `Ssl` for one connection: SNI and host name verification.
pub fn openssl_client_ssl(context: &SslContext) -> openssl::ssl::Ssl {
    let mut ssl = openssl::ssl::Ssl::new(context).expect("ssl");
    ssl.set_hostname(SERVER_NAME).expect("sni");
    ssl.param_mut().set_host(SERVER_NAME).expect("host check");
    ssl.set_connect_state();
    ssl
}

/// An OpenSSL server context with the identity's leaf and key.
pub fn openssl_server(pki: &Pki, spec: Spec) -> SslContext {
    let identity = spec.identity(pki);
    let mut builder = SslContext::builder(SslMethod::tls_server()).expect("context");
    openssl_common(&mut builder, spec.suite);
    builder
        .set_certificate(&X509::from_der(&identity.leaf_der).expect("leaf parses"))
        .expect("leaf");
    builder
        .set_private_key(&PKey::private_key_from_pkcs8(&identity.key_der).expect("key parses"))
        .expect("key");
    builder.check_private_key().expect("key matches");
    builder.build()
}

/// A server `Ssl` for one connection.
pub fn openssl_server_ssl(context: &SslContext) -> openssl::ssl::Ssl {
    let mut ssl = openssl::ssl::Ssl::new(context).expect("ssl");
    ssl.set_accept_state();
    ssl
}
