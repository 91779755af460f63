//! X.509 certificates (`QSslCertificate`).
//!
//! An [`SslCertificate`] is an immutable, cheaply cloned DER certificate.
//! It is checked to parse when it is made, and decoded again on each
//! accessor call: certificates are inspected rarely compared with how often
//! they are passed around, so keeping only the bytes makes clones, equality
//! and hashing trivial.
//!
//! Differences from Qt, all deliberate:
//! - There are no null certificates: constructors return a `Result`, and
//!   places where Qt would hold a null certificate hold an `Option`.
//! - Malformed input is an error naming the problem, where Qt returns an
//!   empty list (except in [`SslCertificate::from_path`] with a pattern, which
//!   skips unreadable files the way Qt does).
//! - Multi-valued name attributes are listed in certificate order.
//! - [`SslCertificate::is_self_signed`] also checks the signature, where Qt
//!   compares names only.
//!
//! ```no_run
//! # fn main() -> sslsocket::Result<()> {
//! use sslsocket::certificate::{DigestAlgorithm, PatternSyntax, SubjectInfo};
//! use sslsocket::{EncodingFormat, SslCertificate};
//!
//! let bundle = SslCertificate::from_path(
//!     "/etc/ssl/certs/ca-certificates.crt",
//!     EncodingFormat::Pem,
//!     PatternSyntax::FixedString,
//! )?;
//! for certificate in bundle {
//!     println!(
//!         "{} issued by {}, SHA-256 {:02x?}",
//!         certificate.subject_display_name(),
//!         certificate.issuer_info(SubjectInfo::Organization).join(", "),
//!         certificate.digest(DigestAlgorithm::Sha256),
//!     );
//! }
//! # Ok(())
//! # }
//! ```

mod asn1;
mod extension;
mod names;
mod path;
mod pem;
mod signature;
mod text;

use std::fmt;
use std::time::{Duration, SystemTime};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_parser::certificate::{X509Certificate, X509CertificateParser};
use x509_parser::extensions::ParsedExtension;
use x509_parser::nom::Parser;
use x509_parser::time::ASN1Time;

pub use extension::{CertificateExtension, ExtensionValue};

pub use crate::certificate_value::SslCertificate;
use crate::error::{Error, Result};
use crate::key::SslKey;
use crate::ssl::{AlternativeNameEntryType, EncodingFormat, KeyType};

qt_enum! {
    /// A field of a subject or issuer name (`QSslCertificate::SubjectInfo`),
    /// with Qt's numbers.
    pub enum SubjectInfo: "subject info field" {
        /// O, the organisation.
        Organization = 0,
        /// CN, the common name; for servers usually a host name.
        CommonName = 1,
        /// L, the locality (city).
        LocalityName = 2,
        /// OU, the organisational unit.
        OrganizationalUnitName = 3,
        /// C, the two-letter country code.
        CountryName = 4,
        /// ST, the state or province.
        StateOrProvinceName = 5,
        /// dnQualifier, a disambiguating qualifier.
        DistinguishedNameQualifier = 6,
        /// serialNumber, the subject's serial number (not the certificate's).
        SerialNumber = 7,
        /// emailAddress, the legacy PKCS #9 e-mail attribute.
        EmailAddress = 8,
    }
}

impl SubjectInfo {
    /// The short attribute name Qt uses for this field (`"O"`, `"CN"`,
    /// `"emailAddress"`...), as accepted by
    /// [`SslCertificate::subject_info_by_attribute`].
    pub const fn attribute(self) -> &'static str {
        match self {
            SubjectInfo::Organization => "O",
            SubjectInfo::CommonName => "CN",
            SubjectInfo::LocalityName => "L",
            SubjectInfo::OrganizationalUnitName => "OU",
            SubjectInfo::CountryName => "C",
            SubjectInfo::StateOrProvinceName => "ST",
            SubjectInfo::DistinguishedNameQualifier => "dnQualifier",
            SubjectInfo::SerialNumber => "serialNumber",
            SubjectInfo::EmailAddress => "emailAddress",
        }
    }

    const fn oid(self) -> &'static str {
        match self {
            SubjectInfo::Organization => "2.5.4.10",
            SubjectInfo::CommonName => "2.5.4.3",
            SubjectInfo::LocalityName => "2.5.4.7",
            SubjectInfo::OrganizationalUnitName => "2.5.4.11",
            SubjectInfo::CountryName => "2.5.4.6",
            SubjectInfo::StateOrProvinceName => "2.5.4.8",
            SubjectInfo::DistinguishedNameQualifier => "2.5.4.46",
            SubjectInfo::SerialNumber => "2.5.4.5",
            SubjectInfo::EmailAddress => "1.2.840.113549.1.9.1",
        }
    }
}

qt_enum! {
    /// A hash for [`SslCertificate::digest`], with the numbers of Qt's
    /// `QCryptographicHash::Algorithm`.
    ///
    /// The default is MD5 because it is Qt's default for `digest()`; prefer
    /// SHA-256 for anything that identifies a certificate.
    #[derive(Default)]
    pub enum DigestAlgorithm: "digest algorithm" {
        /// MD5 (16 bytes). Broken; for display and legacy pinning only.
        #[default]
        Md5 = 1,
        /// SHA-1 (20 bytes). Broken; for display and legacy pinning only.
        Sha1 = 2,
        /// SHA-256 (32 bytes).
        Sha256 = 4,
        /// SHA-384 (48 bytes).
        Sha384 = 5,
        /// SHA-512 (64 bytes).
        Sha512 = 6,
    }
}

impl DigestAlgorithm {
    /// The hash of `data` with this algorithm.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Md5 => Md5::digest(data).to_vec(),
            DigestAlgorithm::Sha1 => Sha1::digest(data).to_vec(),
            DigestAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            DigestAlgorithm::Sha384 => Sha384::digest(data).to_vec(),
            DigestAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

qt_enum! {
    /// How [`SslCertificate::from_path`] reads its pattern
    /// (`QSslCertificate::PatternSyntax`), with Qt's numbers.
    #[derive(Default)]
    pub enum PatternSyntax: "pattern syntax" {
        /// A regular expression (Rust `regex` syntax) that the whole path must
        /// match.
        RegularExpression = 0,
        /// A glob: `*` matches any run of characters except `/`, `?` any one
        /// character except `/`, and `[...]` a character class (`[!...]`
        /// negated).
        Wildcard = 1,
        /// The path of one file, taken literally.
        #[default]
        FixedString = 2,
    }
}

impl SslCertificate {
    /// Reads exactly one DER certificate. Trailing bytes after it are an
    /// error, since they usually mean the input is not what the caller
    /// thinks it is (e.g. several certificates: use
    /// [`from_data`](Self::from_data) with [`EncodingFormat::Der`]).
    pub fn from_der(der: impl AsRef<[u8]>) -> Result<SslCertificate> {
        let der = der.as_ref();
        if der.is_empty() {
            return Err(Error::NoCertificate);
        }
        let length = parse_prefix(der)?;
        if length != der.len() {
            return Err(Error::InvalidCertificate {
                reason: format!(
                    "{} bytes of unexpected data after the certificate",
                    der.len() - length
                ),
            });
        }
        Ok(SslCertificate::from_checked_der(der))
    }

    /// Reads every `CERTIFICATE` block of PEM text, in order.
    ///
    /// Blocks of other kinds (private keys, parameters) and text between
    /// blocks are skipped. No certificate block at all is
    /// [`Error::NoCertificate`]; a certificate block that is damaged (bad
    /// base64, missing END line, not a certificate inside) is
    /// [`Error::InvalidCertificate`] naming the block.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Vec<SslCertificate>> {
        let blocks = pem::certificate_blocks(pem.as_ref())?;
        if blocks.is_empty() {
            return Err(Error::NoCertificate);
        }
        blocks
            .into_iter()
            .map(|block| {
                let result = if block.trusted {
                    // OpenSSL appends trust settings after the certificate.
                    parse_prefix(&block.der)
                        .map(|length| SslCertificate::from_checked_der(&block.der[..length]))
                } else {
                    SslCertificate::from_der(&block.der)
                };
                result.map_err(|e| Error::InvalidCertificate {
                    reason: format!("PEM certificate block {}: {}", block.number, reason(e)),
                })
            })
            .collect()
    }

    /// Reads all certificates in `data` (`QSslCertificate::fromData`): every
    /// PEM certificate block, or for DER one or more certificates
    /// concatenated back to back.
    pub fn from_data(
        data: impl AsRef<[u8]>,
        format: EncodingFormat,
    ) -> Result<Vec<SslCertificate>> {
        let data = data.as_ref();
        match format {
            EncodingFormat::Pem => SslCertificate::from_pem(data),
            EncodingFormat::Der => {
                if data.is_empty() {
                    return Err(Error::NoCertificate);
                }
                let mut certificates = Vec::new();
                let mut rest = data;
                while !rest.is_empty() {
                    let length = parse_prefix(rest).map_err(|e| Error::InvalidCertificate {
                        reason: format!(
                            "DER certificate {}: {}",
                            certificates.len() + 1,
                            reason(e)
                        ),
                    })?;
                    certificates.push(SslCertificate::from_checked_der(&rest[..length]));
                    rest = &rest[length..];
                }
                Ok(certificates)
            }
        }
    }

    /// Reads the certificates of every file a path pattern names
    /// (`QSslCertificate::fromPath`).
    ///
    /// - [`PatternSyntax::FixedString`]: `pattern` is one file. A file that
    ///   cannot be read is [`Error::File`]; its content must hold
    ///   certificates, as for [`from_data`](Self::from_data).
    /// - [`PatternSyntax::Wildcard`] and [`PatternSyntax::RegularExpression`]:
    ///   the directory before the first special character is walked
    ///   recursively (following symbolic links) and every file whose whole
    ///   path matches is read. Relative patterns are matched against paths
    ///   relative to the current directory, without a leading `./`. Files that
    ///   cannot be read or hold no certificate are skipped, as in Qt, so the
    ///   result may be empty. An invalid regular expression is
    ///   [`Error::InvalidPattern`]. A pattern without special characters
    ///   names one file, as with `FixedString`.
    ///
    /// Files are visited in name order within each directory.
    pub fn from_path(
        pattern: &str,
        format: EncodingFormat,
        syntax: PatternSyntax,
    ) -> Result<Vec<SslCertificate>> {
        path::from_path(pattern, format, syntax)
    }

    /// The certificate in PEM form, with a trailing newline.
    pub fn to_pem(&self) -> String {
        crate::pem::encode("CERTIFICATE", self.to_der())
    }

    /// The X.509 version: 1, 2 or 3. (Qt returns the same number as a byte
    /// string, e.g. `"3"`.)
    pub fn version(&self) -> u32 {
        self.parsed().tbs_certificate.version.0.saturating_add(1)
    }

    /// The serial number as Qt 5+ prints it: lowercase hex bytes separated
    /// by `:`, e.g. `"01:2a:ff"`. The sign byte DER adds before a serial
    /// whose first bit is set is not shown.
    pub fn serial_number(&self) -> String {
        let x509 = self.parsed();
        let raw = x509.tbs_certificate.raw_serial();
        let mut bytes = raw;
        while bytes.len() > 1 && bytes[0] == 0 {
            bytes = &bytes[1..];
        }
        asn1::hex_join(bytes, ":")
    }

    /// The hash of the DER certificate: its fingerprint.
    pub fn digest(&self, algorithm: DigestAlgorithm) -> Vec<u8> {
        algorithm.hash(self.to_der())
    }

    /// The values of one field of the subject name, in certificate order;
    /// empty when the field is absent.
    pub fn subject_info(&self, field: SubjectInfo) -> Vec<String> {
        names::values(self.parsed().subject(), field.oid())
    }

    /// The values of one field of the issuer name, in certificate order.
    pub fn issuer_info(&self, field: SubjectInfo) -> Vec<String> {
        names::values(self.parsed().issuer(), field.oid())
    }

    /// The values of any subject attribute, named by OpenSSL's short name
    /// (`"CN"`, `"emailAddress"`, `"DC"`), its long name (`"commonName"`) or a
    /// dotted OID (`"2.5.4.3"`). Unknown names give an empty list.
    pub fn subject_info_by_attribute(&self, attribute: &str) -> Vec<String> {
        match names::resolve_attribute(attribute) {
            Some(oid) => names::values(self.parsed().subject(), &oid),
            None => Vec::new(),
        }
    }

    /// The values of any issuer attribute; see
    /// [`subject_info_by_attribute`](Self::subject_info_by_attribute).
    pub fn issuer_info_by_attribute(&self, attribute: &str) -> Vec<String> {
        match names::resolve_attribute(attribute) {
            Some(oid) => names::values(self.parsed().issuer(), &oid),
            None => Vec::new(),
        }
    }

    /// The attributes present in the subject name, as short names (or dotted
    /// OIDs for attributes without one), in certificate order without
    /// repeats. (Qt sorts them; the order of the name is more useful.)
    pub fn subject_info_attributes(&self) -> Vec<String> {
        names::attribute_names(self.parsed().subject())
    }

    /// The attributes present in the issuer name; see
    /// [`subject_info_attributes`](Self::subject_info_attributes).
    pub fn issuer_info_attributes(&self) -> Vec<String> {
        names::attribute_names(self.parsed().issuer())
    }

    /// A name for the subject fit for display (Qt 5.12): the first common
    /// name, else the first organisation, else the first organisational unit,
    /// else an empty string.
    pub fn subject_display_name(&self) -> String {
        display_name(|field| self.subject_info(field))
    }

    /// A name for the issuer fit for display; see
    /// [`subject_display_name`](Self::subject_display_name).
    pub fn issuer_display_name(&self) -> String {
        display_name(|field| self.issuer_info(field))
    }

    /// The e-mail, DNS and IP address entries of the subjectAltName
    /// extension, in certificate order. IPv4 addresses are dotted quads, IPv6
    /// addresses use Rust's standard (RFC 5952) form. Other kinds of names
    /// (URIs, directory names...) are left out, as in Qt.
    pub fn subject_alternative_names(&self) -> Vec<(AlternativeNameEntryType, String)> {
        let x509 = self.parsed();
        x509.tbs_certificate
            .extensions()
            .iter()
            .filter_map(|ext| match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    Some(extension::alternative_names(&san.general_names))
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Where the issuer publishes revocation lists for this certificate
    /// (the CRL distribution points extension), each name as OpenSSL
    /// prints it, e.g. `URI:http://crl.example.com/ca.crl`. sslsocket never
    /// fetches them: give the lists to
    /// [`SslConfiguration::set_crls`](crate::SslConfiguration::set_crls).
    pub fn crl_distribution_points(&self) -> Vec<String> {
        let x509 = self.parsed();
        x509.tbs_certificate
            .extensions()
            .iter()
            .filter_map(|ext| match ext.parsed_extension() {
                ParsedExtension::CRLDistributionPoints(points) => {
                    Some(extension::distribution_point_names(points))
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The URIs of the distribution points a direct list of the issuer can
    /// have (a full name, no cRLIssuer, no reasons), as webpki matches a
    /// list's scope against them; `None` without the extension.
    pub(crate) fn direct_crl_distribution_uris(&self) -> Option<Vec<String>> {
        let x509 = self.parsed();
        let points = x509.tbs_certificate.extensions().iter().find_map(|ext| {
            match ext.parsed_extension() {
                ParsedExtension::CRLDistributionPoints(points) => Some(points),
                _ => None,
            }
        })?;
        Some(extension::direct_distribution_uris(points))
    }

    /// The start of the validity period (notBefore).
    pub fn effective_date(&self) -> SystemTime {
        system_time(&self.parsed().validity().not_before)
    }

    /// The end of the validity period (notAfter).
    pub fn expiry_date(&self) -> SystemTime {
        system_time(&self.parsed().validity().not_after)
    }

    /// Whether the certificate issued itself: subject and issuer names are
    /// identical *and* the signature verifies with the certificate's own key.
    ///
    /// Qt compares the names only; checking the signature means a leaf that
    /// merely copies its issuer's name is not mistaken for a root.
    pub fn is_self_signed(&self) -> bool {
        self.subject_name_der() == self.issuer_name_der() && self.is_signed_by(self)
    }

    /// The subject's public key.
    pub fn public_key(&self) -> Result<SslKey> {
        SslKey::from_der(self.subject_public_key_info_der(), KeyType::PublicKey, None)
    }

    /// The DER SubjectPublicKeyInfo: algorithm and public key, as used for
    /// key pinning (its SHA-256 is the HPKP/`pin-sha256` value).
    pub fn subject_public_key_info_der(&self) -> &[u8] {
        parse(self.to_der()).tbs_certificate.subject_pki.raw
    }

    /// The DER encoding of the subject name, for exact name comparisons.
    pub fn subject_name_der(&self) -> &[u8] {
        parse(self.to_der()).tbs_certificate.subject.as_raw()
    }

    /// The DER encoding of the issuer name, for exact name comparisons.
    pub fn issuer_name_der(&self) -> &[u8] {
        parse(self.to_der()).tbs_certificate.issuer.as_raw()
    }

    /// OpenSSL's name for the signature algorithm, e.g.
    /// `"ecdsa-with-SHA256"`, `"sha256WithRSAEncryption"`, `"ED25519"`, or the
    /// dotted OID of an algorithm without a known name.
    pub fn signature_algorithm_name(&self) -> String {
        signature::signature_algorithm_name(&self.parsed().signature_algorithm)
    }

    /// The certificate's extensions, in certificate order.
    pub fn extensions(&self) -> Vec<CertificateExtension> {
        self.parsed()
            .extensions()
            .iter()
            .map(CertificateExtension::from_x509)
            .collect()
    }

    /// Whether basicConstraints marks the subject as a certificate authority.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints().is_some_and(|(ca, _)| ca)
    }

    /// The basicConstraints extension as (cA, pathLenConstraint), if present.
    pub fn basic_constraints(&self) -> Option<(bool, Option<u32>)> {
        self.parsed()
            .extensions()
            .iter()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => Some((bc.ca, bc.path_len_constraint)),
                _ => None,
            })
    }

    /// The subjectKeyIdentifier extension's value, if present.
    pub fn subject_key_identifier(&self) -> Option<Vec<u8>> {
        self.parsed()
            .extensions()
            .iter()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            })
    }

    /// The key identifier of the authorityKeyIdentifier extension, if present.
    pub fn authority_key_identifier(&self) -> Option<Vec<u8>> {
        self.parsed()
            .extensions()
            .iter()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    aki.key_identifier.as_ref().map(|id| id.0.to_vec())
                }
                _ => None,
            })
    }

    /// A multi-line human-readable description laid out like
    /// `openssl x509 -text -noout`: version, serial number, algorithms,
    /// issuer, validity, subject, public key, extensions and signature.
    /// Names are printed as UTF-8 rather than escaped.
    pub fn to_text(&self) -> String {
        text::to_text(&self.parsed())
    }

    /// The signed parts as webpki reads them; `None` if malformed.
    pub(crate) fn signed_parts(&self) -> Option<signature::SignedParts<'_>> {
        signature::signed_parts(self.to_der())
    }

    /// The public key's (AlgorithmIdentifier contents, key bits).
    pub(crate) fn public_key_parts(&self) -> Option<(&[u8], &[u8])> {
        signature::public_key_parts(self.subject_public_key_info_der())
    }

    /// Whether this certificate's signature verifies with `issuer`'s public
    /// key (aws-lc-rs). Names are not compared; an algorithm we cannot map
    /// gives `false`.
    pub(crate) fn is_signed_by(&self, issuer: &SslCertificate) -> bool {
        let issuer = issuer.parsed();
        signature::verify(&self.parsed(), issuer.public_key())
    }

    fn parsed(&self) -> X509Certificate<'_> {
        parse(self.to_der())
    }
}

impl fmt::Debug for SslCertificate {
    /// Short on purpose: the subject and a fingerprint prefix identify a
    /// certificate in logs; the DER would drown them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprint = self.digest(DigestAlgorithm::Sha256);
        f.debug_struct("SslCertificate")
            .field("subject", &self.subject_display_name())
            .field(
                "sha256",
                &format_args!("{}...", asn1::hex_join(&fingerprint[..8], ":")),
            )
            .finish()
    }
}

impl TryFrom<&[u8]> for SslCertificate {
    type Error = Error;

    /// Same as [`SslCertificate::from_der`].
    fn try_from(der: &[u8]) -> Result<SslCertificate> {
        SslCertificate::from_der(der)
    }
}

/// Checks that `der` starts with a certificate x509-parser accepts and
/// returns that certificate's length.
fn parse_prefix(der: &[u8]) -> Result<usize> {
    match X509CertificateParser::new().parse(der) {
        Ok((rest, _)) => Ok(der.len() - rest.len()),
        Err(e) => Err(Error::InvalidCertificate {
            reason: describe_parse_error(der, &e.to_string()),
        }),
    }
}

/// The parse error in words, guessing the common causes from the bytes.
fn describe_parse_error(der: &[u8], parser_says: &str) -> String {
    if der.starts_with(b"-----BEGIN") {
        "the input is PEM, not DER".to_owned()
    } else if der.first() != Some(&0x30) {
        format!("not a DER certificate ({parser_says})")
    } else if asn1::read_tlv(der).is_none() {
        format!(
            "truncated or malformed DER ({} bytes; {parser_says})",
            der.len()
        )
    } else {
        format!("malformed certificate ({parser_says})")
    }
}

/// The text of a certificate error, without the "invalid certificate"
/// prefix, for wrapping it in a more specific message.
fn reason(error: Error) -> String {
    match error {
        Error::InvalidCertificate { reason } => reason,
        Error::NoCertificate => "empty".to_owned(),
        other => other.to_string(),
    }
}

/// Parses DER that was validated when the certificate was made.
fn parse(der: &[u8]) -> X509Certificate<'_> {
    match X509CertificateParser::new().parse(der) {
        Ok((_, certificate)) => certificate,
        // Construction parsed these same bytes with the same parser.
        Err(e) => unreachable!("certificate validated at construction no longer parses: {e}"),
    }
}

fn display_name(info: impl Fn(SubjectInfo) -> Vec<String>) -> String {
    [
        SubjectInfo::CommonName,
        SubjectInfo::Organization,
        SubjectInfo::OrganizationalUnitName,
    ]
    .into_iter()
    .find_map(|field| info(field).into_iter().next())
    .unwrap_or_default()
}

/// Converts an X.509 time, including dates before 1970, which `SystemTime`
/// represents as an offset before the epoch.
fn system_time(time: &ASN1Time) -> SystemTime {
    let seconds = time.timestamp();
    let offset = Duration::from_secs(seconds.unsigned_abs());
    let converted = if seconds >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(offset)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(offset)
    };
    converted.unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(
        issuer: Option<(&rcgen::CertificateParams, &rcgen::KeyPair)>,
        ca: bool,
    ) -> (rcgen::CertificateParams, rcgen::KeyPair, SslCertificate) {
        let mut params = rcgen::CertificateParams::new(vec!["unit.test".to_owned()]).unwrap();
        if ca {
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = match issuer {
            Some((issuer_params, issuer_key)) => params
                .signed_by(&key, &rcgen::Issuer::from_params(issuer_params, issuer_key))
                .unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        let certificate = SslCertificate::from_der(cert.der()).unwrap();
        (params, key, certificate)
    }

    #[test]
    fn signed_by_checks_the_issuer_key() {
        let (root_params, root_key, root) = issue(None, true);
        let (_, _, leaf) = issue(Some((&root_params, &root_key)), false);
        let (_, _, stranger) = issue(None, true);
        assert!(leaf.is_signed_by(&root));
        assert!(root.is_signed_by(&root));
        assert!(!leaf.is_signed_by(&stranger));
        assert!(!root.is_signed_by(&leaf));
        assert!(!leaf.is_signed_by(&leaf));
    }

    #[test]
    fn parse_errors_name_the_likely_cause() {
        assert!(describe_parse_error(b"-----BEGIN CERTIFICATE", "x").contains("PEM"));
        assert!(describe_parse_error(&[0x30, 0x05, 0x01], "x").contains("truncated"));
        assert!(describe_parse_error(&[0x02, 0x01, 0x00], "x").starts_with("not a DER"));
        assert!(describe_parse_error(&[0x30, 0x00], "x").starts_with("malformed"));
    }

    #[test]
    fn dates_before_1970_do_not_panic() {
        let early = ASN1Time::from_timestamp(-86_400 * 365 * 30).unwrap();
        assert_eq!(
            system_time(&early),
            SystemTime::UNIX_EPOCH - Duration::from_secs(86_400 * 365 * 30)
        );
    }
}
