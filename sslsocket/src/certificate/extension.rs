//! X.509 v3 extensions (`QSslCertificateExtension`).

use std::net::{Ipv4Addr, Ipv6Addr};

use x509_parser::extensions::{
    CRLDistributionPoint, CRLDistributionPoints, DistributionPointName, GeneralName,
    ParsedExtension, X509Extension,
};

use super::asn1::{children, hex_join, oid_to_string, read_tlv};
use super::names;
use crate::ssl::AlternativeNameEntryType;

/// Extensions we can name: dotted OID, OpenSSL's short name (Qt's `name()`),
/// and the title `openssl x509 -text` prints.
const EXTENSION_NAMES: &[(&str, &str, &str)] = &[
    (
        "2.5.29.14",
        "subjectKeyIdentifier",
        "X509v3 Subject Key Identifier",
    ),
    ("2.5.29.15", "keyUsage", "X509v3 Key Usage"),
    (
        "2.5.29.17",
        "subjectAltName",
        "X509v3 Subject Alternative Name",
    ),
    (
        "2.5.29.18",
        "issuerAltName",
        "X509v3 Issuer Alternative Name",
    ),
    ("2.5.29.19", "basicConstraints", "X509v3 Basic Constraints"),
    ("2.5.29.30", "nameConstraints", "X509v3 Name Constraints"),
    (
        "2.5.29.31",
        "crlDistributionPoints",
        "X509v3 CRL Distribution Points",
    ),
    (
        "2.5.29.32",
        "certificatePolicies",
        "X509v3 Certificate Policies",
    ),
    ("2.5.29.33", "policyMappings", "X509v3 Policy Mappings"),
    (
        "2.5.29.35",
        "authorityKeyIdentifier",
        "X509v3 Authority Key Identifier",
    ),
    (
        "2.5.29.36",
        "policyConstraints",
        "X509v3 Policy Constraints",
    ),
    ("2.5.29.37", "extendedKeyUsage", "X509v3 Extended Key Usage"),
    ("2.5.29.54", "inhibitAnyPolicy", "X509v3 Inhibit Any Policy"),
    (
        "1.3.6.1.5.5.7.1.1",
        "authorityInfoAccess",
        "Authority Information Access",
    ),
    (
        "1.3.6.1.5.5.7.1.11",
        "subjectInfoAccess",
        "Subject Information Access",
    ),
    ("1.3.6.1.5.5.7.1.24", "tlsfeature", "TLS Feature"),
    (
        "1.3.6.1.4.1.11129.2.4.2",
        "ct_precert_scts",
        "CT Precertificate SCTs",
    ),
    (
        "1.3.6.1.4.1.11129.2.4.3",
        "ct_precert_poison",
        "CT Precertificate Poison",
    ),
    ("2.16.840.1.113730.1.1", "nsCertType", "Netscape Cert Type"),
    ("2.16.840.1.113730.1.13", "nsComment", "Netscape Comment"),
];

/// Extended key usage purposes: OID, OpenSSL's short name (used in
/// [`ExtensionValue::ExtendedKeyUsage`]) and its long name (used in `to_text`).
const PURPOSES: &[(&str, &str, &str)] = &[
    (
        "1.3.6.1.5.5.7.3.1",
        "serverAuth",
        "TLS Web Server Authentication",
    ),
    (
        "1.3.6.1.5.5.7.3.2",
        "clientAuth",
        "TLS Web Client Authentication",
    ),
    ("1.3.6.1.5.5.7.3.3", "codeSigning", "Code Signing"),
    ("1.3.6.1.5.5.7.3.4", "emailProtection", "E-mail Protection"),
    ("1.3.6.1.5.5.7.3.8", "timeStamping", "Time Stamping"),
    ("1.3.6.1.5.5.7.3.9", "OCSPSigning", "OCSP Signing"),
    (
        "2.5.29.37.0",
        "anyExtendedKeyUsage",
        "Any Extended Key Usage",
    ),
];

/// Key usage bits in BIT STRING order: RFC 5280's name and OpenSSL's label.
const KEY_USAGES: &[(&str, &str)] = &[
    ("digitalSignature", "Digital Signature"),
    ("nonRepudiation", "Non Repudiation"),
    ("keyEncipherment", "Key Encipherment"),
    ("dataEncipherment", "Data Encipherment"),
    ("keyAgreement", "Key Agreement"),
    ("keyCertSign", "Certificate Sign"),
    ("cRLSign", "CRL Sign"),
    ("encipherOnly", "Encipher Only"),
    ("decipherOnly", "Decipher Only"),
];

/// The decoded content of an extension.
///
/// Extensions that matter for TLS get a typed variant; other extensions we
/// understand are rendered as [`ExtensionValue::Text`], and the rest are
/// handed back undecoded as [`ExtensionValue::Raw`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtensionValue {
    /// basicConstraints: whether the subject is a CA, and how many
    /// intermediate CAs may follow it in a chain.
    BasicConstraints {
        /// The `cA` flag.
        ca: bool,
        /// The `pathLenConstraint`, if present.
        path_len: Option<u32>,
    },
    /// keyUsage: the usages set, with RFC 5280's names in bit order
    /// (`digitalSignature`, `nonRepudiation`, `keyEncipherment`,
    /// `dataEncipherment`, `keyAgreement`, `keyCertSign`, `cRLSign`,
    /// `encipherOnly`, `decipherOnly`).
    KeyUsage(Vec<String>),
    /// extendedKeyUsage: the purposes in certificate order, as OpenSSL's short
    /// names (`serverAuth`, `clientAuth`, `codeSigning`, `emailProtection`,
    /// `timeStamping`, `OCSPSigning`, `anyExtendedKeyUsage`) or dotted OIDs.
    ExtendedKeyUsage(Vec<String>),
    /// subjectAltName: the e-mail, DNS and IP address entries in certificate
    /// order; other kinds of names appear only in the text form.
    SubjectAltName(Vec<(AlternativeNameEntryType, String)>),
    /// subjectKeyIdentifier, or the key identifier of an
    /// authorityKeyIdentifier.
    KeyIdentifier(Vec<u8>),
    /// Any other extension this library can read, described in text (one
    /// item per line).
    Text(String),
    /// An extension this library cannot decode (unknown, or malformed): the
    /// DER contents of its `extnValue`.
    Raw(Vec<u8>),
}

/// One extension of a certificate (`QSslCertificateExtension`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateExtension {
    oid: String,
    name: String,
    title: String,
    critical: bool,
    value: ExtensionValue,
    lines: Vec<String>,
    der: Vec<u8>,
}

impl CertificateExtension {
    /// The extension's type as a dotted OID, e.g. `"2.5.29.19"`.
    pub fn oid(&self) -> &str {
        &self.oid
    }

    /// OpenSSL's short name of the extension (e.g. `"basicConstraints"`,
    /// `"subjectAltName"`), or the dotted OID when it has none, as in Qt.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the extension is marked critical: a verifier that does not
    /// understand it must reject the certificate.
    pub fn is_critical(&self) -> bool {
        self.critical
    }

    /// Whether this library decoded the extension, i.e. [`value`](Self::value)
    /// is not [`ExtensionValue::Raw`].
    pub fn is_supported(&self) -> bool {
        !matches!(self.value, ExtensionValue::Raw(_))
    }

    /// The decoded value.
    pub fn value(&self) -> &ExtensionValue {
        &self.value
    }

    /// The DER contents of the extension's `extnValue` OCTET STRING, whatever
    /// the extension is.
    pub fn raw_value(&self) -> &[u8] {
        &self.der
    }

    /// The heading `to_text` prints, e.g. `"X509v3 Basic Constraints"`.
    pub(crate) fn title(&self) -> &str {
        &self.title
    }

    /// The lines `to_text` prints under the heading.
    pub(crate) fn lines(&self) -> &[String] {
        &self.lines
    }

    pub(crate) fn from_x509(extension: &X509Extension<'_>) -> CertificateExtension {
        let oid = extension.oid.to_id_string();
        let known = EXTENSION_NAMES.iter().find(|(o, ..)| *o == oid);
        let (name, title) = match known {
            Some((_, name, title)) => ((*name).to_owned(), (*title).to_owned()),
            None => (oid.clone(), oid.clone()),
        };
        let (value, lines) = decode(&oid, extension);
        CertificateExtension {
            oid,
            name,
            title,
            critical: extension.critical,
            value,
            lines,
            der: extension.value.to_vec(),
        }
    }
}

/// The typed value and the `to_text` lines of one extension.
fn decode(oid: &str, extension: &X509Extension<'_>) -> (ExtensionValue, Vec<String>) {
    let raw = extension.value;
    let text = |lines: Vec<String>| (ExtensionValue::Text(lines.join("\n")), lines);
    match extension.parsed_extension() {
        ParsedExtension::BasicConstraints(bc) => {
            let mut line = format!("CA:{}", if bc.ca { "TRUE" } else { "FALSE" });
            if let Some(n) = bc.path_len_constraint {
                line.push_str(&format!(", pathlen:{n}"));
            }
            let value = ExtensionValue::BasicConstraints {
                ca: bc.ca,
                path_len: bc.path_len_constraint,
            };
            (value, vec![line])
        }
        ParsedExtension::KeyUsage(ku) => {
            let set: Vec<&(&str, &str)> = KEY_USAGES
                .iter()
                .enumerate()
                .filter(|(bit, _)| ku.flags & (1 << bit) != 0)
                .map(|(_, names)| names)
                .collect();
            let line = set.iter().map(|(_, label)| *label).collect::<Vec<_>>();
            let value =
                ExtensionValue::KeyUsage(set.iter().map(|(n, _)| (*n).to_owned()).collect());
            (value, vec![line.join(", ")])
        }
        // Decoded by hand because x509-parser folds the purposes into flags
        // and loses their order.
        ParsedExtension::ExtendedKeyUsage(_) => match purposes(raw) {
            Some(oids) => {
                let short = oids.iter().map(|oid| purpose_name(oid, false)).collect();
                let long: Vec<String> = oids.iter().map(|oid| purpose_name(oid, true)).collect();
                (
                    ExtensionValue::ExtendedKeyUsage(short),
                    vec![long.join(", ")],
                )
            }
            None => raw_value(raw),
        },
        ParsedExtension::SubjectAlternativeName(san) => {
            let entries = alternative_names(&san.general_names);
            let line = join_names(&san.general_names);
            (ExtensionValue::SubjectAltName(entries), vec![line])
        }
        ParsedExtension::SubjectKeyIdentifier(id) => (
            ExtensionValue::KeyIdentifier(id.0.to_vec()),
            vec![hex_join(id.0, ":").to_uppercase()],
        ),
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            let mut lines = Vec::new();
            if let Some(id) = &aki.key_identifier {
                lines.push(hex_join(id.0, ":").to_uppercase());
            }
            if let Some(issuer) = &aki.authority_cert_issuer {
                lines.push(join_names(issuer));
            }
            if let Some(serial) = aki.authority_cert_serial {
                lines.push(format!("serial:{}", hex_join(serial, ":").to_uppercase()));
            }
            match &aki.key_identifier {
                Some(id) => (ExtensionValue::KeyIdentifier(id.0.to_vec()), lines),
                None => text(lines),
            }
        }
        ParsedExtension::IssuerAlternativeName(ian) => text(vec![join_names(&ian.general_names)]),
        ParsedExtension::CRLDistributionPoints(points) => {
            let mut lines = Vec::new();
            for point in points.iter() {
                lines.extend(point_names(point));
                if let Some(issuers) = &point.crl_issuer {
                    lines.push(format!("CRL Issuer: {}", join_names(issuers)));
                }
            }
            text(lines)
        }
        ParsedExtension::AuthorityInfoAccess(aia) => {
            let lines = aia
                .iter()
                .map(|d| access_line(&d.access_method.to_id_string(), &d.access_location))
                .collect();
            text(lines)
        }
        ParsedExtension::SubjectInfoAccess(sia) => {
            let lines = sia
                .iter()
                .map(|d| access_line(&d.access_method.to_id_string(), &d.access_location))
                .collect();
            text(lines)
        }
        ParsedExtension::CertificatePolicies(policies) => {
            let lines = policies
                .iter()
                .map(|p| format!("Policy: {}", policy_name(&p.policy_id.to_id_string())))
                .collect();
            text(lines)
        }
        ParsedExtension::NameConstraints(nc) => {
            let mut lines = Vec::new();
            for (heading, subtrees) in [
                ("Permitted:", &nc.permitted_subtrees),
                ("Excluded:", &nc.excluded_subtrees),
            ] {
                if let Some(subtrees) = subtrees {
                    lines.push(heading.to_owned());
                    lines.extend(
                        subtrees
                            .iter()
                            .map(|s| format!("  {}", general_name_text(&s.base))),
                    );
                }
            }
            text(lines)
        }
        ParsedExtension::PolicyConstraints(pc) => {
            let mut lines = Vec::new();
            if let Some(n) = pc.require_explicit_policy {
                lines.push(format!("Require Explicit Policy:{n}"));
            }
            if let Some(n) = pc.inhibit_policy_mapping {
                lines.push(format!("Inhibit Policy Mapping:{n}"));
            }
            text(lines)
        }
        ParsedExtension::InhibitAnyPolicy(iap) => text(vec![iap.skip_certs.to_string()]),
        ParsedExtension::NsCertComment(comment) => text(vec![(*comment).to_owned()]),
        ParsedExtension::SCT(scts) => text(vec![format!(
            "{} signed certificate timestamp{}",
            scts.len(),
            if scts.len() == 1 { "" } else { "s" }
        )]),
        _ => match oid {
            "1.3.6.1.4.1.11129.2.4.3" => text(vec!["NULL".to_owned()]),
            _ => raw_value(raw),
        },
    }
}

fn raw_value(raw: &[u8]) -> (ExtensionValue, Vec<String>) {
    let lines = raw
        .chunks(18)
        .map(|chunk| hex_join(chunk, ":").to_uppercase())
        .collect();
    (ExtensionValue::Raw(raw.to_vec()), lines)
}

/// The OIDs of an ExtKeyUsageSyntax (SEQUENCE OF OBJECT IDENTIFIER).
fn purposes(raw: &[u8]) -> Option<Vec<String>> {
    let outer = read_tlv(raw)?;
    if outer.tag != 0x30 || !outer.rest.is_empty() {
        return None;
    }
    children(outer.content)?
        .iter()
        .map(|oid| {
            if oid.tag == 0x06 {
                oid_to_string(oid.content)
            } else {
                None
            }
        })
        .collect()
}

fn purpose_name(oid: &str, long: bool) -> String {
    match PURPOSES.iter().find(|(o, ..)| *o == oid) {
        Some((_, short, long_name)) => if long { *long_name } else { *short }.to_owned(),
        None => oid.to_owned(),
    }
}

fn policy_name(oid: &str) -> String {
    let name = match oid {
        "2.5.29.32.0" => "X509v3 Any Policy",
        "2.23.140.1.2.1" => "CA/B Forum Domain Validated",
        "2.23.140.1.2.2" => "CA/B Forum Organization Validated",
        "2.23.140.1.2.3" => "CA/B Forum Individual Validated",
        "2.23.140.1.1" => "CA/B Forum Extended Validation",
        _ => return oid.to_owned(),
    };
    name.to_owned()
}

fn access_line(method: &str, location: &GeneralName<'_>) -> String {
    let method = match method {
        "1.3.6.1.5.5.7.48.1" => "OCSP",
        "1.3.6.1.5.5.7.48.2" => "CA Issuers",
        "1.3.6.1.5.5.7.48.3" => "Time Stamping",
        "1.3.6.1.5.5.7.48.5" => "CA Repository",
        other => other,
    };
    format!("{method} - {}", general_name_text(location))
}

/// The names of every distribution point, in order.
pub(crate) fn distribution_point_names(points: &CRLDistributionPoints<'_>) -> Vec<String> {
    points.iter().flat_map(point_names).collect()
}

/// The full-name URIs of the distribution points without cRLIssuer and
/// reasons, in order.
pub(crate) fn direct_distribution_uris(points: &CRLDistributionPoints<'_>) -> Vec<String> {
    points
        .iter()
        .filter(|point| point.crl_issuer.is_none() && point.reasons.is_none())
        .filter_map(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            _ => None,
        })
        .collect()
}

/// The names of one distribution point, as OpenSSL prints them.
fn point_names(point: &CRLDistributionPoint<'_>) -> Vec<String> {
    match &point.distribution_point {
        Some(DistributionPointName::FullName(names)) => {
            names.iter().map(general_name_text).collect()
        }
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
            vec!["<relative name>".to_owned()]
        }
        None => Vec::new(),
    }
}

/// The e-mail, DNS and IP entries among `names`, in order.
pub(crate) fn alternative_names(
    names: &[GeneralName<'_>],
) -> Vec<(AlternativeNameEntryType, String)> {
    names
        .iter()
        .filter_map(|name| match name {
            GeneralName::RFC822Name(email) => {
                Some((AlternativeNameEntryType::EmailEntry, (*email).to_owned()))
            }
            GeneralName::DNSName(dns) => {
                Some((AlternativeNameEntryType::DnsEntry, (*dns).to_owned()))
            }
            GeneralName::IPAddress(bytes) => {
                ip_text(bytes).map(|ip| (AlternativeNameEntryType::IpAddressEntry, ip))
            }
            _ => None,
        })
        .collect()
}

/// An IP address SAN: four bytes for IPv4, sixteen for IPv6.
fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => {
            let octets: [u8; 4] = bytes.try_into().ok()?;
            Some(Ipv4Addr::from(octets).to_string())
        }
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            Some(Ipv6Addr::from(octets).to_string())
        }
        _ => None,
    }
}

/// An address and mask, as name constraints encode them (8 or 32 bytes).
fn ip_with_mask(bytes: &[u8]) -> Option<String> {
    let half = bytes.len() / 2;
    if bytes.len() != 8 && bytes.len() != 32 {
        return None;
    }
    Some(format!(
        "{}/{}",
        ip_text(&bytes[..half])?,
        ip_text(&bytes[half..])?
    ))
}

fn join_names(names: &[GeneralName<'_>]) -> String {
    names
        .iter()
        .map(general_name_text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One general name as OpenSSL prints it: `DNS:host`, `IP Address:1.2.3.4`...
fn general_name_text(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::RFC822Name(email) => format!("email:{email}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::IPAddress(bytes) => match ip_text(bytes).or_else(|| ip_with_mask(bytes)) {
            Some(ip) => format!("IP Address:{ip}"),
            None => format!("IP Address:<invalid {}>", hex_join(bytes, ":")),
        },
        GeneralName::DirectoryName(name) => format!("DirName:{}", names::one_line(name)),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => format!("othername:{}:<unsupported>", oid.to_id_string()),
        GeneralName::X400Address(_) => "X400Name:<unsupported>".to_owned(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".to_owned(),
        GeneralName::Invalid(..) => "<invalid name>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_print_in_standard_form() {
        assert_eq!(ip_text(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_text(&v6).as_deref(), Some("::1"));
        assert_eq!(ip_text(&[1, 2, 3]), None);
        assert_eq!(
            ip_with_mask(&[10, 0, 0, 0, 255, 0, 0, 0]).as_deref(),
            Some("10.0.0.0/255.0.0.0")
        );
        assert_eq!(ip_with_mask(&[10, 0, 0, 0]), None);
    }

    #[test]
    fn purposes_keep_their_order() {
        // SEQUENCE { clientAuth, serverAuth, 1.2.3 }
        let der = [
            0x30, 0x18, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02, 0x06, 0x08,
            0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01, 0x06, 0x02, 0x2a, 0x03,
        ];
        let oids = purposes(&der).unwrap();
        assert_eq!(oids, ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1", "1.2.3"]);
        assert_eq!(purpose_name(&oids[0], false), "clientAuth");
        assert_eq!(
            purpose_name(&oids[1], true),
            "TLS Web Server Authentication"
        );
        assert_eq!(purpose_name(&oids[2], false), "1.2.3");
        assert!(purposes(&der[..10]).is_none());
        assert!(purposes(&[0x30, 0x02, 0x05, 0x00]).is_none());
    }
}
