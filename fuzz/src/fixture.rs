//! The PKI every socket target uses, made once per process: a root, an
//! intermediate and a server leaf for [`SERVER_NAME`], with sslsocket and
//! rustls configurations for both ends.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sslsocket::{KeyType, SslCertificate, SslConfiguration, SslKey, SslProtocol};
use sslsocket_test_pki::{Identity, LeafSpec};

/// The name the server's certificate is for.
pub const SERVER_NAME: &str = "fuzz.sslsocket.test";

/// The configurations, by end and by protocol version.
pub struct Fixture {
    /// sslsocket as a client: trusts the root, checks [`SERVER_NAME`].
    pub client: SslConfiguration,
    /// sslsocket as a server: the leaf and intermediate, with the leaf's key.
    pub server: SslConfiguration,
    /// rustls peers: `[TLS 1.3 and 1.2, TLS 1.2 only]`.
    pub rustls_servers: [Arc<rustls::ServerConfig>; 2],
    /// rustls clients, as the servers.
    pub rustls_clients: [Arc<rustls::ClientConfig>; 2],
    /// The chain a server sends, DER: leaf, intermediate, then the root.
    pub chain_der: Vec<Vec<u8>>,
}

/// The process's fixture.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(Fixture::new)
}

impl Fixture {
    fn new() -> Fixture {
        let root = Identity::new("Fuzz Root");
        let intermediate = root.intermediate("Fuzz Intermediate");
        let leaf = intermediate.leaf(&LeafSpec {
            common_name: SERVER_NAME,
            dns: &[SERVER_NAME],
            ips: &["127.0.0.1"],
            ..LeafSpec::default()
        });
        let certificate = |identity: &Identity| {
            SslCertificate::from_der(identity.der()).expect("rcgen makes readable certificates")
        };

        let mut client = SslConfiguration::new();
        client.set_ca_certificates(vec![certificate(&root)]);
        client.set_peer_verify_name(Some(SERVER_NAME.to_owned()));
        client.set_protocol(SslProtocol::TlsV1_2OrLater);

        let mut server = SslConfiguration::new();
        let key = SslKey::from_der(leaf.key_der(), KeyType::PrivateKey, None)
            .expect("rcgen makes readable keys");
        server
            .set_local_identity(vec![certificate(&leaf), certificate(&intermediate)], key)
            .expect("the key matches its certificate");
        server.set_protocol(SslProtocol::TlsV1_2OrLater);

        let served: Vec<CertificateDer<'static>> = [&leaf, &intermediate]
            .iter()
            .map(|identity| CertificateDer::from(identity.der()))
            .collect();
        let server_key = || PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der()));
        let rustls_server = |versions: &[&'static rustls::SupportedProtocolVersion]| {
            let config = rustls::ServerConfig::builder_with_protocol_versions(versions)
                .with_no_client_auth()
                .with_single_cert(served.clone(), server_key())
                .expect("the rustls server takes the identity");
            Arc::new(config)
        };
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(root.der()))
            .expect("the root is a valid trust anchor");
        let rustls_client = |versions: &[&'static rustls::SupportedProtocolVersion]| {
            let config = rustls::ClientConfig::builder_with_protocol_versions(versions)
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            Arc::new(config)
        };
        let both = rustls::ALL_VERSIONS;
        let tls12: &[&'static rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
        Fixture {
            client,
            server,
            rustls_servers: [rustls_server(both), rustls_server(tls12)],
            rustls_clients: [rustls_client(both), rustls_client(tls12)],
            chain_der: vec![leaf.der(), intermediate.der(), root.der()],
        }
    }
}
