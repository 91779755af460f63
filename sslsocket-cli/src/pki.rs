//! Certificates made on the spot with rcgen: the local CA and leaves of
//! `gen`, the self-signed certificate of `serve`, the PKI of `demo`.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sslsocket::{KeyType, SslCertificate, SslKey};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key, as PEM.
#[derive(Clone)]
pub struct Issued {
    pub certificate_pem: String,
    pub key_pem: String,
}

impl Issued {
    /// The certificate as the library sees it.
    pub fn certificate(&self) -> Result<SslCertificate, sslsocket::Error> {
        Ok(SslCertificate::from_pem(&self.certificate_pem)?.remove(0))
    }

    /// The private key as the library sees it.
    pub fn key(&self) -> Result<SslKey, sslsocket::Error> {
        SslKey::from_pem(&self.key_pem, KeyType::PrivateKey, None)
    }
}

/// What a leaf certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A TLS server (extended key usage serverAuth).
    Server,
    /// A TLS client (clientAuth).
    Client,
}

/// The kind of key a made certificate gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KeyAlgorithm {
    /// RSA 2048-bit, signed with PKCS#1 v1.5 SHA-256 (for old clients and
    /// Mozilla's intermediate configuration).
    Rsa,
    /// ECDSA on P-256 with SHA-256.
    #[default]
    Ecdsa,
    /// Ed25519 (TLS 1.3 peers only, in practice).
    Ed25519,
}

impl KeyAlgorithm {
    fn generate(self) -> Result<KeyPair, rcgen::Error> {
        KeyPair::generate_for(match self {
            KeyAlgorithm::Rsa => &rcgen::PKCS_RSA_SHA256,
            KeyAlgorithm::Ecdsa => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        })
    }

    /// How `gen` describes it.
    pub fn description(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "RSA 2048",
            KeyAlgorithm::Ecdsa => "EC P-256",
            KeyAlgorithm::Ed25519 => "Ed25519",
        }
    }
}

/// Valid from an hour ago (for clocks a little behind) for `days` days.
fn validity(params: &mut CertificateParams, days: u32) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(i64::from(days));
}

/// A CA that can sign leaves (path length 0: no intermediates below it).
pub struct Authority {
    pub issued: Issued,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    pub fn new(
        common_name: &str,
        days: u32,
        algorithm: KeyAlgorithm,
    ) -> Result<Authority, rcgen::Error> {
        let key = algorithm.generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "sslsocket");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params, days);
        let certificate = params.self_signed(&key)?;
        let issued = Issued {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        };
        Ok(Authority {
            issued,
            issuer: Issuer::new(params, key),
        })
    }

    /// A leaf for `names` (DNS names or IP addresses; the first is also the
    /// common name), or, for a client without names, for `common_name`.
    pub fn leaf(
        &self,
        common_name: &str,
        names: &[String],
        usage: Usage,
        days: u32,
        algorithm: KeyAlgorithm,
    ) -> Result<Issued, rcgen::Error> {
        let (params, key) = leaf_params(common_name, names, usage, days, algorithm)?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn leaf_params(
    common_name: &str,
    names: &[String],
    usage: Usage,
    days: u32,
    algorithm: KeyAlgorithm,
) -> Result<(CertificateParams, KeyPair), rcgen::Error> {
    let key = algorithm.generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![match usage {
        Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
        Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, days);
    Ok((params, key))
}

/// A self-signed server certificate for `names` (the first is the common name).
pub fn self_signed(names: &[String], days: u32) -> Result<Issued, rcgen::Error> {
    let common_name = names.first().map(String::as_str).unwrap_or("localhost");
    let (mut params, key) =
        leaf_params(common_name, names, Usage::Server, days, KeyAlgorithm::Ecdsa)?;
    params.use_authority_key_identifier_extension = false;
    let certificate = params.self_signed(&key)?;
    Ok(Issued {
        certificate_pem: certificate.pem(),
        key_pem: key.serialize_pem(),
    })
}
