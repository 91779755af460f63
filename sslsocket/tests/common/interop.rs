//! Fixtures of the interop tests (blocking and tokio): the PKI in files the
//! real peers read, and reading what `openssl` prints.

use super::pki::AsSslCertificate;
use std::path::Path;

use sslsocket::{KeyType, SslCertificate, SslKey, SslProtocol};
use tempfile::TempDir;

use super::pki::{write, Identity, LeafSpec};

/// A root CA, a server certificate for localhost / 127.0.0.1 and a client
/// certificate, written as `ca.pem`, `server.pem`, `server.key`,
/// `client.pem` and `client.key` in a temporary directory.
pub struct InteropPki {
    dir: TempDir,
    pub root: Identity,
    pub server: Identity,
    pub client: Identity,
}

impl InteropPki {
    /// A fresh PKI.
    pub fn new() -> InteropPki {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Identity::new("Interop Root");
        let server = root.leaf(&LeafSpec {
            common_name: "localhost",
            dns: &["localhost"],
            ips: &["127.0.0.1"],
            ..LeafSpec::default()
        });
        let client = root.leaf(&LeafSpec {
            common_name: "interop client",
            client_auth_only: true,
            ..LeafSpec::default()
        });
        let pki = InteropPki {
            dir,
            root,
            server,
            client,
        };
        pki.write("ca.pem", &pki.root.pem());
        pki.write("server.pem", &pki.server.pem());
        pki.write("server.key", &pki.server.key_pem());
        pki.write("client.pem", &pki.client.pem());
        pki.write("client.key", &pki.client.key_pem());
        pki
    }

    /// Writes another file into the PKI directory; returns its path.
    pub fn write(&self, name: &str, contents: &str) -> String {
        write(self.dir(), name, contents)
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The full path of a file in the PKI directory.
    pub fn path(&self, name: &str) -> String {
        self.dir()
            .join(name)
            .to_str()
            .expect("UTF-8 temp path")
            .to_owned()
    }

    /// The server's chain and key, for `set_local_identity`.
    pub fn server_identity(&self) -> (Vec<SslCertificate>, SslKey) {
        identity(&self.server)
    }

    /// The client's chain and key, for `set_local_identity`.
    pub fn client_identity(&self) -> (Vec<SslCertificate>, SslKey) {
        identity(&self.client)
    }
}

fn identity(owner: &Identity) -> (Vec<SslCertificate>, SslKey) {
    let key = SslKey::from_pem(owner.key_pem(), KeyType::PrivateKey, None).expect("test key");
    (vec![owner.certificate()], key)
}

/// OpenSSL's (and Python's) name for a negotiated protocol.
pub fn openssl_name(protocol: SslProtocol) -> &'static str {
    match protocol {
        SslProtocol::TlsV1_2 => "TLSv1.2",
        SslProtocol::TlsV1_3 => "TLSv1.3",
        other => panic!("unexpected negotiated protocol {other:?}"),
    }
}

/// What `openssl s_client` printed about the new session, e.g.
/// "TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" (the "SSL-Session:" block
/// with its "Protocol  :" line is printed for TLS 1.2 only, or when a
/// TLS 1.3 ticket arrives).
pub fn s_client_session(out: &str) -> Option<String> {
    out.lines()
        .find_map(|line| line.strip_prefix("New, "))
        .map(str::to_owned)
}
