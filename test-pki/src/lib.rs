//! Certificate authorities and leaf certificates made with rcgen at test time.
//!
//! The shared test PKI of the sslsocket project (its unit tests, integration
//! tests and examples); it depends on rcgen only, so the library's own unit
//! tests can use it as well. Typical use:
//!
//! ```
//! use sslsocket_test_pki::{pem_bundle, Identity, LeafSpec};
//!
//! let root = Identity::new("Test Root");
//! let intermediate = root.intermediate("Test Intermediate");
//! let server = intermediate.leaf(&LeafSpec {
//!     dns: &["localhost"],
//!     ips: &["127.0.0.1"],
//!     ..LeafSpec::default()
//! });
//! let chain = pem_bundle(&[&server, &intermediate]);
//! assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
//! ```
//!
//! [`Identity`] (alias [`Ca`] and [`Leaf`]) is a certificate with its private
//! key; any identity can issue certificates, including a non-CA one, which
//! is how the "issuer is not a CA" scenarios are built. [`resign`] and
//! [`encode_name`] cover what rcgen cannot express: repeated or multi-valued
//! name attributes, X.509 v1 certificates, names that do not match the
//! signer.

use std::net::IpAddr;
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
    SigningKey,
};
use time::{Duration, OffsetDateTime};

/// The key algorithms the test PKI can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyKind {
    /// ECDSA on NIST P-256, signing with SHA-256 (the default: fast).
    #[default]
    EcdsaP256,
    /// ECDSA on NIST P-384, signing with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA 2048 bits, signing with PKCS #1 v1.5 and SHA-256 (slow to generate).
    Rsa2048,
}

impl KeyKind {
    /// Every kind, for tests that cover them all.
    pub const ALL: [KeyKind; 4] = [
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::Ed25519,
        KeyKind::Rsa2048,
    ];

    /// A fresh key pair of this kind.
    pub fn generate(self) -> KeyPair {
        let algorithm = match self {
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        };
        KeyPair::generate_for(algorithm).expect("rcgen key generation")
    }

    /// OpenSSL's name for the signatures this kind of key makes.
    pub fn signature_algorithm_name(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ecdsa-with-SHA256",
            KeyKind::EcdsaP384 => "ecdsa-with-SHA384",
            KeyKind::Ed25519 => "ED25519",
            KeyKind::Rsa2048 => "sha256WithRSAEncryption",
        }
    }

    /// The key size in bits as `QSslKey::length()` reports it.
    pub fn bits(self) -> u32 {
        match self {
            KeyKind::EcdsaP256 => 256,
            KeyKind::EcdsaP384 => 384,
            KeyKind::Ed25519 => 256,
            KeyKind::Rsa2048 => 2048,
        }
    }
}

/// The current time, truncated to whole seconds as X.509 stores it.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// `days` days from now (negative: in the past), in whole seconds.
pub fn days_from_now(days: i64) -> OffsetDateTime {
    now() + Duration::days(days)
}

/// A UTC calendar date at midnight.
pub fn date(year: i32, month: u8, day: u8) -> OffsetDateTime {
    rcgen::date_time_ymd(year, month, day)
}

/// The same instant as a `SystemTime`, for comparing with the library's dates.
pub fn system_time(t: OffsetDateTime) -> SystemTime {
    let seconds = t.unix_timestamp();
    let offset = std::time::Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        SystemTime::UNIX_EPOCH + offset
    } else {
        SystemTime::UNIX_EPOCH - offset
    }
}

/// How to make a CA certificate.
#[derive(Debug, Clone)]
pub struct CaSpec<'a> {
    /// The CA's key algorithm.
    pub key: KeyKind,
    /// basicConstraints pathLenConstraint; `None` leaves it unconstrained.
    pub path_len: Option<u8>,
    /// Start of validity; default one day ago.
    pub not_before: Option<OffsetDateTime>,
    /// End of validity; default ten years from now.
    pub not_after: Option<OffsetDateTime>,
    /// The O attribute of the subject.
    pub organization: &'a str,
    /// Extra subject attributes, added after O and CN.
    pub subject: &'a [(DnType, &'a str)],
}

impl Default for CaSpec<'_> {
    fn default() -> Self {
        CaSpec {
            key: KeyKind::EcdsaP256,
            path_len: None,
            not_before: None,
            not_after: None,
            organization: "sslsocket tests",
            subject: &[],
        }
    }
}

/// How to make an end-entity (or any issued) certificate.
#[derive(Debug, Clone)]
pub struct LeafSpec<'a> {
    /// The subject CN; empty for none.
    pub common_name: &'a str,
    /// Extra subject attributes, added after CN in this order.
    pub subject: &'a [(DnType, &'a str)],
    /// DNS subjectAltName entries.
    pub dns: &'a [&'a str],
    /// IP address subjectAltName entries, in text form ("127.0.0.1", "::1").
    pub ips: &'a [&'a str],
    /// E-mail subjectAltName entries.
    pub emails: &'a [&'a str],
    /// URI subjectAltName entries.
    pub uris: &'a [&'a str],
    /// Start of validity; default one day ago.
    pub not_before: Option<OffsetDateTime>,
    /// End of validity; default 30 days from now.
    pub not_after: Option<OffsetDateTime>,
    /// The subject's key algorithm.
    pub key: KeyKind,
    /// The serial number's big-endian bytes; default random (rcgen's).
    pub serial: Option<&'a [u8]>,
    /// extendedKeyUsage clientAuth only (a certificate a server must not use).
    pub client_auth_only: bool,
    /// extendedKeyUsage serverAuth only (a certificate a client must not use).
    pub server_auth_only: bool,
    /// No extendedKeyUsage extension at all.
    pub no_extended_key_usage: bool,
    /// Make it a CA (basicConstraints CA:TRUE, keyCertSign).
    pub is_ca: bool,
    /// With `is_ca`, the pathLenConstraint.
    pub path_len: Option<u8>,
}

impl Default for LeafSpec<'_> {
    fn default() -> Self {
        LeafSpec {
            common_name: "localhost",
            subject: &[],
            dns: &[],
            ips: &[],
            emails: &[],
            uris: &[],
            not_before: None,
            not_after: None,
            key: KeyKind::EcdsaP256,
            serial: None,
            client_auth_only: false,
            server_auth_only: false,
            no_extended_key_usage: false,
            is_ca: false,
            path_len: None,
        }
    }
}

/// A certificate together with its private key and the parameters it was
/// made from (which rcgen needs to issue certificates in its name).
pub struct Identity {
    /// The certificate.
    pub cert: rcgen::Certificate,
    /// Its private key.
    pub key: KeyPair,
    /// What the certificate was made from.
    pub params: CertificateParams,
    /// The key algorithm.
    pub key_kind: KeyKind,
}

/// An identity used as a certificate authority.
pub type Ca = Identity;
/// An identity used as an end entity.
pub type Leaf = Identity;

impl Identity {
    /// A self-signed root CA named `name` (CN), ECDSA P-256, no path length
    /// limit, valid from yesterday for ten years.
    pub fn new(name: &str) -> Ca {
        Identity::new_ca(name, &CaSpec::default())
    }

    /// A self-signed root CA made to `spec`.
    pub fn new_ca(name: &str, spec: &CaSpec<'_>) -> Ca {
        let params = ca_params(name, spec);
        let key = spec.key.generate();
        let cert = params.self_signed(&key).expect("rcgen self-signed CA");
        Identity {
            cert,
            key,
            params,
            key_kind: spec.key,
        }
    }

    /// A self-signed end-entity certificate made to `spec`.
    pub fn self_signed(spec: &LeafSpec<'_>) -> Leaf {
        let params = leaf_params(spec);
        let key = spec.key.generate();
        let cert = params.self_signed(&key).expect("rcgen self-signed leaf");
        Identity {
            cert,
            key,
            params,
            key_kind: spec.key,
        }
    }

    /// An intermediate CA named `name` issued by this identity.
    pub fn intermediate(&self, name: &str) -> Ca {
        self.intermediate_with(name, &CaSpec::default())
    }

    /// An intermediate CA issued by this identity, made to `spec`.
    pub fn intermediate_with(&self, name: &str, spec: &CaSpec<'_>) -> Ca {
        let mut params = ca_params(name, spec);
        params.use_authority_key_identifier_extension = true;
        self.issue(params, spec.key)
    }

    /// A certificate made to `spec` and issued by this identity (which need
    /// not be a CA).
    pub fn leaf(&self, spec: &LeafSpec<'_>) -> Leaf {
        let mut params = leaf_params(spec);
        params.use_authority_key_identifier_extension = true;
        self.issue(params, spec.key)
    }

    /// Issues a certificate from raw rcgen parameters, for cases the specs
    /// do not cover.
    pub fn issue(&self, params: CertificateParams, key_kind: KeyKind) -> Identity {
        let key = key_kind.generate();
        let cert = params
            .signed_by(&key, &self.issuer())
            .expect("rcgen signing");
        Identity {
            cert,
            key,
            params,
            key_kind,
        }
    }

    /// This identity as an rcgen issuer.
    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// The certificate in PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The certificate in DER.
    pub fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// The private key as PKCS #8 PEM.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The private key as PKCS #8 DER.
    pub fn key_der(&self) -> Vec<u8> {
        self.key.serialize_der()
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub fn public_key_der(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(&self.key)
    }
}

/// The PEM certificates of `identities`, concatenated in order (e.g. leaf
/// first for a chain a server sends, or several roots for a CA file).
pub fn pem_bundle(identities: &[&Identity]) -> String {
    identities.iter().map(|identity| identity.pem()).collect()
}

fn base_params(
    not_before: Option<OffsetDateTime>,
    not_after: Option<OffsetDateTime>,
    default_days: i64,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.not_before = not_before.unwrap_or_else(|| days_from_now(-1));
    params.not_after = not_after.unwrap_or_else(|| days_from_now(default_days));
    params
}

fn ca_params(name: &str, spec: &CaSpec<'_>) -> CertificateParams {
    let mut params = base_params(spec.not_before, spec.not_after, 3650);
    let mut dn = DistinguishedName::new();
    if !spec.organization.is_empty() {
        dn.push(DnType::OrganizationName, spec.organization);
    }
    dn.push(DnType::CommonName, name);
    for (attribute, value) in spec.subject {
        dn.push(attribute.clone(), dn_value(attribute, value));
    }
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(match spec.path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(spec: &LeafSpec<'_>) -> CertificateParams {
    let mut params = base_params(spec.not_before, spec.not_after, 30);
    let mut dn = DistinguishedName::new();
    if !spec.common_name.is_empty() {
        dn.push(DnType::CommonName, spec.common_name);
    }
    for (attribute, value) in spec.subject {
        dn.push(attribute.clone(), dn_value(attribute, value));
    }
    params.distinguished_name = dn;
    let ia5 = |text: &str| rcgen::string::Ia5String::try_from(text).expect("ASCII SAN");
    params.subject_alt_names = spec
        .dns
        .iter()
        .map(|name| SanType::DnsName(ia5(name)))
        .chain(
            spec.ips
                .iter()
                .map(|ip| SanType::IpAddress(ip.parse::<IpAddr>().expect("IP address SAN"))),
        )
        .chain(
            spec.emails
                .iter()
                .map(|email| SanType::Rfc822Name(ia5(email))),
        )
        .chain(spec.uris.iter().map(|uri| SanType::URI(ia5(uri))))
        .collect();
    if let Some(serial) = spec.serial {
        params.serial_number = Some(SerialNumber::from_slice(serial));
    }
    if spec.is_ca {
        params.is_ca = IsCa::Ca(match spec.path_len {
            Some(n) => BasicConstraints::Constrained(n),
            None => BasicConstraints::Unconstrained,
        });
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if spec.key == KeyKind::Rsa2048 {
            params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
    }
    params.extended_key_usages = if spec.no_extended_key_usage {
        Vec::new()
    } else if spec.client_auth_only {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    } else if spec.server_auth_only {
        vec![ExtendedKeyUsagePurpose::ServerAuth]
    } else {
        vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ]
    };
    params
}

/// The OID of PKCS #9 emailAddress, for `DnType::CustomDnType`.
pub const EMAIL_ADDRESS: &[u64] = &[1, 2, 840, 113549, 1, 9, 1];

/// emailAddress must be an IA5String; everything else goes out as UTF-8.
fn dn_value(attribute: &DnType, value: &str) -> DnValue {
    match attribute {
        DnType::CustomDnType(oid) if oid.as_slice() == EMAIL_ADDRESS => {
            DnValue::Ia5String(rcgen::string::Ia5String::try_from(value).expect("ASCII e-mail"))
        }
        _ => DnValue::Utf8String(value.to_owned()),
    }
}

// ---------------------------------------------------------------------------
// DER surgery, for certificates rcgen cannot make.
// ---------------------------------------------------------------------------

/// Encodes a DER element.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Splits DER into its top-level elements (whole TLVs).
pub fn split_tlvs(mut der: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let (header, length) = match der[1] {
            l if l < 0x80 => (2, usize::from(l)),
            l => {
                let count = usize::from(l & 0x7f);
                let length = der[2..2 + count]
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                (2 + count, length)
            }
        };
        out.push(der[..header + length].to_vec());
        der = &der[header + length..];
    }
    out
}

/// The content of a DER element (without tag and length).
pub fn content(element: &[u8]) -> Vec<u8> {
    let header = if element[1] < 0x80 {
        2
    } else {
        2 + usize::from(element[1] & 0x7f)
    };
    element[header..].to_vec()
}

/// Encodes a dotted OID.
pub fn encode_oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().expect("OID arc"))
        .collect();
    let mut body = Vec::new();
    let mut push_arc = |mut value: u64| {
        let mut bytes = vec![(value & 0x7f) as u8];
        value >>= 7;
        while value > 0 {
            bytes.push(0x80 | (value & 0x7f) as u8);
            value >>= 7;
        }
        bytes.reverse();
        body.extend(bytes);
    };
    push_arc(arcs[0] * 40 + arcs[1]);
    for &arc in &arcs[2..] {
        push_arc(arc);
    }
    tlv(0x06, &body)
}

/// Encodes a Name. Each inner slice is one RDN (several entries make a
/// multi-valued RDN); entries are (dotted OID, value). countryName is a
/// PrintableString, emailAddress an IA5String, the rest UTF8String.
pub fn encode_name(rdns: &[&[(&str, &str)]]) -> Vec<u8> {
    let mut sequence = Vec::new();
    for rdn in rdns {
        let mut set = Vec::new();
        for (oid, value) in rdn.iter() {
            let tag = match *oid {
                "2.5.4.6" => 0x13,
                "1.2.840.113549.1.9.1" => 0x16,
                _ => 0x0c,
            };
            let mut attribute = encode_oid(oid);
            attribute.extend(tlv(tag, value.as_bytes()));
            set.extend(tlv(0x30, &attribute));
        }
        sequence.extend(tlv(0x31, &set));
    }
    tlv(0x30, &sequence)
}

/// The fields of a TBSCertificate, as whole DER elements, for editing
/// before [`resign`] signs them again.
pub struct Tbs {
    /// version (if present), serialNumber, signature, issuer, validity,
    /// subject, subjectPublicKeyInfo, then optional unique IDs and extensions.
    pub fields: Vec<Vec<u8>>,
}

impl Tbs {
    fn offset(&self) -> usize {
        usize::from(self.fields[0][0] == 0xa0)
    }

    /// Replaces the serial number with `bytes` (used as the INTEGER content).
    pub fn set_serial(&mut self, bytes: &[u8]) {
        let i = self.offset();
        self.fields[i] = tlv(0x02, bytes);
    }

    /// Replaces the issuer Name with DER from [`encode_name`].
    pub fn set_issuer(&mut self, name: Vec<u8>) {
        let i = self.offset() + 2;
        self.fields[i] = name;
    }

    /// Replaces the subject Name with DER from [`encode_name`].
    pub fn set_subject(&mut self, name: Vec<u8>) {
        let i = self.offset() + 4;
        self.fields[i] = name;
    }

    /// Replaces the signature AlgorithmIdentifier inside the TBSCertificate
    /// (the outer one, which the signature is made with, stays).
    pub fn set_signature_algorithm(&mut self, algorithm: Vec<u8>) {
        let i = self.offset() + 1;
        self.fields[i] = algorithm;
    }

    /// Turns the certificate into X.509 v1: no version field, no extensions.
    pub fn make_v1(&mut self) {
        self.fields
            .retain(|field| field[0] != 0xa0 && field[0] != 0xa3);
    }
}

/// Re-signs `cert_der` with `signer` after letting `edit` change its fields.
///
/// The signature algorithm fields are kept, so `signer` must be of the same
/// kind as the key that signed the certificate originally.
pub fn resign(cert_der: &[u8], signer: &KeyPair, edit: impl FnOnce(&mut Tbs)) -> Vec<u8> {
    let outer = split_tlvs(&content(cert_der));
    let mut tbs = Tbs {
        fields: split_tlvs(&content(&outer[0])),
    };
    edit(&mut tbs);
    let tbs_der = tlv(0x30, &tbs.fields.concat());
    let signature = signer.sign(&tbs_der).expect("signing");
    let mut bit_string = vec![0u8];
    bit_string.extend(signature);
    let mut certificate = tbs_der;
    certificate.extend(&outer[1]);
    certificate.extend(tlv(0x03, &bit_string));
    tlv(0x30, &certificate)
}

/// Writes `contents` to `dir/relative`, creating parent directories, and
/// returns the full path as a string.
pub fn write(dir: &std::path::Path, relative: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create test directory");
    }
    std::fs::write(&path, contents).expect("write test file");
    path.to_str().expect("UTF-8 temp path").to_owned()
}
