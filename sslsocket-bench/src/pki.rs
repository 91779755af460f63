//! The benchmark's PKI, made with rcgen at startup: a root and a server
//! leaf for `localhost` / `127.0.0.1`, one pair with ECDSA P-256 keys and
//! one with RSA 2048 keys.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SignatureAlgorithm,
};

/// The name clients verify the server against (and send in SNI).
pub const SERVER_NAME: &str = "localhost";

/// A server identity and the root that issued it.
#[derive(Clone)]
pub struct Identity {
    /// The root certificate clients trust (DER).
    pub root_der: Vec<u8>,
    /// The server's leaf certificate (DER); the server sends only the leaf.
    pub leaf_der: Vec<u8>,
    /// The leaf's private key, PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// The leaf's private key, PKCS#8 PEM.
    pub key_pem: String,
}

/// Both identities.
pub struct Pki {
    /// ECDSA P-256 root and leaf.
    pub ecdsa: Identity,
    /// RSA 2048 root and leaf.
    pub rsa: Identity,
}

impl Pki {
    /// Generates both identities.
    pub fn generate() -> Pki {
        Pki {
            ecdsa: Identity::generate(&rcgen::PKCS_ECDSA_P256_SHA256, "ECDSA"),
            rsa: Identity::generate(&rcgen::PKCS_RSA_SHA256, "RSA"),
        }
    }

    /// Only the ECDSA identity (RSA key generation is slow), also used
    /// where an RSA one is asked for.
    pub fn generate_ecdsa_only() -> Pki {
        let ecdsa = Identity::generate(&rcgen::PKCS_ECDSA_P256_SHA256, "ECDSA");
        Pki {
            rsa: ecdsa.clone(),
            ecdsa,
        }
    }
}

impl Pki {
    /// Writes both identities to the directory `dir`, for [`Pki::load`]:
    /// in a child process (which then uses the same certificates as the
    /// bench, and does not spend time making keys), or in a later run.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        self.ecdsa.save(dir, "ecdsa")?;
        self.rsa.save(dir, "rsa")
    }

    /// The identities [`Pki::save`] wrote to `dir`.
    pub fn load(dir: &Path) -> io::Result<Pki> {
        Ok(Pki {
            ecdsa: Identity::load(dir, "ecdsa")?,
            rsa: Identity::load(dir, "rsa")?,
        })
    }

    /// The PKI saved in `dir`, or else a new one, saved there (`--pki-dir`).
    pub fn kept_in(dir: &Path) -> Pki {
        if let Ok(pki) = Pki::load(dir) {
            return pki;
        }
        let pki = Pki::generate();
        fs::create_dir_all(dir)
            .and_then(|()| pki.save(dir))
            .unwrap_or_else(|e| panic!("cannot save the PKI in {}: {e}", dir.display()));
        pki
    }
}

impl Identity {
    /// Where [`Identity::save`] keeps one part of the identity `label`.
    fn file(dir: &Path, label: &str, part: &str) -> PathBuf {
        dir.join(format!("{label}-{part}"))
    }

    fn save(&self, dir: &Path, label: &str) -> io::Result<()> {
        let file = |part| Identity::file(dir, label, part);
        fs::write(file("root.der"), &self.root_der)?;
        fs::write(file("leaf.der"), &self.leaf_der)?;
        fs::write(file("key.der"), &self.key_der)?;
        fs::write(file("key.pem"), &self.key_pem)
    }

    fn load(dir: &Path, label: &str) -> io::Result<Identity> {
        let file = |part| Identity::file(dir, label, part);
        Ok(Identity {
            root_der: fs::read(file("root.der"))?,
            leaf_der: fs::read(file("leaf.der"))?,
            key_der: fs::read(file("key.der"))?,
            key_pem: fs::read_to_string(file("key.pem"))?,
        })
    }

    fn generate(algorithm: &'static SignatureAlgorithm, label: &str) -> Identity {
        let root_key = KeyPair::generate_for(algorithm).expect("generate the root key");
        let mut root_params = CertificateParams::new(Vec::<String>::new()).expect("root params");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params
            .distinguished_name
            .push(DnType::CommonName, format!("sslsocket-bench {label} root"));
        let root = root_params
            .self_signed(&root_key)
            .expect("self-sign the root");
        let issuer = Issuer::new(root_params, &root_key);

        let leaf_key = KeyPair::generate_for(algorithm).expect("generate the leaf key");
        let mut leaf_params =
            CertificateParams::new(vec![SERVER_NAME.to_string(), "127.0.0.1".to_string()])
                .expect("leaf params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, SERVER_NAME);
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("sign the leaf");
        Identity {
            root_der: root.der().to_vec(),
            leaf_der: leaf.der().to_vec(),
            key_der: leaf_key.serialize_der(),
            key_pem: leaf_key.serialize_pem(),
        }
    }
}
