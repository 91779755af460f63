//! `SslCertificate` on certificates generated at test time: every accessor,
//! the PEM/DER readers, `from_path` with each pattern syntax, and malformed
//! input of every kind.

mod common;

use common::pki::AsSslCertificate;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use common::pki::{
    self, date, encode_name, resign, tlv, CaSpec, Identity, KeyKind, LeafSpec, EMAIL_ADDRESS,
};
use rcgen::DnType;
use sha2::Digest;
use sslsocket::certificate::{DigestAlgorithm, ExtensionValue, PatternSyntax, SubjectInfo};
use sslsocket::{AlternativeNameEntryType, EncodingFormat, Error, KeyAlgorithm, SslCertificate};

const CN: &str = "2.5.4.3";
const O: &str = "2.5.4.10";
const OU: &str = "2.5.4.11";

/// Runs the `openssl` CLI; `None` (and a note on stderr) when it is not
/// installed, so that the cross-checks degrade to the in-process ones.
fn openssl(args: &[&str]) -> Option<String> {
    match Command::new("openssl").args(args).output() {
        Ok(output) => {
            assert!(
                output.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            Some(String::from_utf8_lossy(&output.stdout).into_owned())
        }
        Err(e) => {
            eprintln!("openssl not available ({e}); skipping the CLI cross-check");
            None
        }
    }
}

fn temp_dir() -> tempfile::TempDir {
    // A prefix without regex or glob metacharacters, so that the directory
    // itself can be written literally into patterns.
    let dir = tempfile::Builder::new()
        .prefix("certs")
        .tempdir()
        .expect("temp dir");
    let path = dir.path().to_str().unwrap();
    assert!(
        !path.contains(['.', '*', '?', '[', '(', '+', '$', '^', '{', '|', '\\']),
        "temporary directory {path} has pattern characters"
    );
    dir
}

fn is_invalid(result: Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::InvalidCertificate { .. }))
}

// ---------------------------------------------------------------------------
// Version, serial number, digests
// ---------------------------------------------------------------------------

#[test]
fn version_is_three_for_generated_certificates_and_one_for_v1() {
    let root = Identity::new("Version Root");
    let leaf = root.leaf(&LeafSpec::default());
    assert_eq!(root.certificate().version(), 3);
    assert_eq!(leaf.certificate().version(), 3);

    let v1 = resign(&leaf.der(), &root.key, |tbs| tbs.make_v1());
    let v1 = SslCertificate::from_der(&v1).unwrap();
    assert_eq!(v1.version(), 1);
    assert!(v1.extensions().is_empty());
    assert!(v1.subject_alternative_names().is_empty());
    assert!(v1.to_text().contains("Version: 1 (0x0)"));
}

#[test]
fn serial_numbers_are_colon_separated_lowercase_hex() {
    let root = Identity::new("Serial Root");
    let cases: &[(&[u8], &str)] = &[
        (&[0x01, 0x2a, 0xff], "01:2a:ff"),
        // DER adds a 0x00 sign byte here; Qt does not show it.
        (&[0x80, 0x01], "80:01"),
        (&[0x05], "05"),
        (
            &[
                0x7f, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55,
            ],
            "7f:ee:dd:cc:bb:aa:99:88:77:66:55",
        ),
    ];
    for (bytes, expected) in cases {
        let leaf = root.leaf(&LeafSpec {
            serial: Some(bytes),
            ..LeafSpec::default()
        });
        let certificate = leaf.certificate();
        assert_eq!(certificate.serial_number(), *expected);

        let dir = temp_dir();
        let file = pki::write(dir.path(), "leaf.pem", leaf.pem());
        if let Some(out) = openssl(&["x509", "-in", &file, "-noout", "-serial"]) {
            let openssl_serial = out.trim().trim_start_matches("serial=").to_lowercase();
            assert_eq!(certificate.serial_number().replace(':', ""), openssl_serial);
        }
    }
}

#[test]
fn digests_match_the_hash_functions_and_openssl() {
    let leaf = Identity::self_signed(&LeafSpec::default());
    let certificate = leaf.certificate();
    let der = leaf.der();

    assert_eq!(
        certificate.digest(DigestAlgorithm::Md5),
        md5::Md5::digest(&der).to_vec()
    );
    assert_eq!(
        certificate.digest(DigestAlgorithm::Sha1),
        sha1::Sha1::digest(&der).to_vec()
    );
    assert_eq!(
        certificate.digest(DigestAlgorithm::Sha256),
        sha2::Sha256::digest(&der).to_vec()
    );
    assert_eq!(
        certificate.digest(DigestAlgorithm::Sha384),
        sha2::Sha384::digest(&der).to_vec()
    );
    assert_eq!(
        certificate.digest(DigestAlgorithm::Sha512),
        sha2::Sha512::digest(&der).to_vec()
    );
    assert_eq!(DigestAlgorithm::default(), DigestAlgorithm::Md5);

    let dir = temp_dir();
    let file = pki::write(dir.path(), "leaf.pem", leaf.pem());
    for (algorithm, flag) in [
        (DigestAlgorithm::Md5, "-md5"),
        (DigestAlgorithm::Sha1, "-sha1"),
        (DigestAlgorithm::Sha256, "-sha256"),
        (DigestAlgorithm::Sha384, "-sha384"),
        (DigestAlgorithm::Sha512, "-sha512"),
    ] {
        let Some(out) = openssl(&["x509", "-in", &file, "-noout", "-fingerprint", flag]) else {
            return;
        };
        // "SHA256 Fingerprint=AB:CD:..."
        let fingerprint = out.trim().split('=').nth(1).unwrap().replace(':', "");
        let ours: String = certificate
            .digest(algorithm)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(ours, fingerprint, "{algorithm} fingerprint");
    }
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

#[test]
fn subject_and_issuer_fields() {
    let root = Identity::new_ca(
        "Fields Root",
        &CaSpec {
            organization: "Root Org",
            subject: &[
                (DnType::CountryName, "FR"),
                (DnType::StateOrProvinceName, "Île-de-France"),
                (DnType::LocalityName, "Paris"),
                (DnType::OrganizationalUnitName, "PKI"),
            ],
            ..CaSpec::default()
        },
    );
    let leaf = root.leaf(&LeafSpec {
        common_name: "server.example",
        subject: &[
            (DnType::OrganizationName, "Leaf Org"),
            (DnType::CountryName, "DE"),
            (DnType::StateOrProvinceName, "Berlin"),
            (DnType::LocalityName, "Berlin-Mitte"),
            (
                DnType::CustomDnType(EMAIL_ADDRESS.to_vec()),
                "admin@example.org",
            ),
            (DnType::CustomDnType(vec![2, 5, 4, 5]), "SN-42"),
            (DnType::CustomDnType(vec![2, 5, 4, 46]), "qualifier"),
        ],
        ..LeafSpec::default()
    });
    let certificate = leaf.certificate();

    let subject = |field| certificate.subject_info(field);
    assert_eq!(subject(SubjectInfo::CommonName), ["server.example"]);
    assert_eq!(subject(SubjectInfo::Organization), ["Leaf Org"]);
    assert_eq!(subject(SubjectInfo::CountryName), ["DE"]);
    assert_eq!(subject(SubjectInfo::StateOrProvinceName), ["Berlin"]);
    assert_eq!(subject(SubjectInfo::LocalityName), ["Berlin-Mitte"]);
    assert_eq!(subject(SubjectInfo::EmailAddress), ["admin@example.org"]);
    assert_eq!(subject(SubjectInfo::SerialNumber), ["SN-42"]);
    assert_eq!(
        subject(SubjectInfo::DistinguishedNameQualifier),
        ["qualifier"]
    );
    assert!(subject(SubjectInfo::OrganizationalUnitName).is_empty());

    let issuer = |field| certificate.issuer_info(field);
    assert_eq!(issuer(SubjectInfo::CommonName), ["Fields Root"]);
    assert_eq!(issuer(SubjectInfo::Organization), ["Root Org"]);
    assert_eq!(issuer(SubjectInfo::CountryName), ["FR"]);
    assert_eq!(issuer(SubjectInfo::StateOrProvinceName), ["Île-de-France"]);
    assert_eq!(issuer(SubjectInfo::LocalityName), ["Paris"]);
    assert_eq!(issuer(SubjectInfo::OrganizationalUnitName), ["PKI"]);
    assert!(issuer(SubjectInfo::EmailAddress).is_empty());

    // Every field through its Qt attribute name too.
    for &field in SubjectInfo::ALL {
        assert_eq!(
            certificate.subject_info_by_attribute(field.attribute()),
            certificate.subject_info(field),
            "{field}"
        );
        assert_eq!(
            certificate.issuer_info_by_attribute(field.attribute()),
            certificate.issuer_info(field),
            "{field}"
        );
    }
    assert_eq!(
        certificate.subject_info_by_attribute(CN),
        ["server.example"]
    );
    assert_eq!(
        certificate.subject_info_by_attribute("commonName"),
        ["server.example"]
    );
    assert_eq!(
        certificate.subject_info_by_attribute("1.2.840.113549.1.9.1"),
        ["admin@example.org"]
    );
    assert!(certificate
        .subject_info_by_attribute("no such thing")
        .is_empty());
    assert!(certificate.subject_info_by_attribute("1.2.3.4").is_empty());

    assert_eq!(
        certificate.subject_info_attributes(),
        [
            "CN",
            "O",
            "C",
            "ST",
            "L",
            "emailAddress",
            "serialNumber",
            "dnQualifier"
        ]
    );
    assert_eq!(
        certificate.issuer_info_attributes(),
        ["O", "CN", "C", "ST", "L", "OU"]
    );
    assert_eq!(certificate.subject_display_name(), "server.example");
    assert_eq!(certificate.issuer_display_name(), "Fields Root");
    assert_eq!(
        certificate.issuer_name_der(),
        root.certificate().subject_name_der()
    );
}

#[test]
fn repeated_and_multi_valued_attributes() {
    let key = KeyKind::EcdsaP256.generate();
    let template = Identity::self_signed(&LeafSpec::default());
    let subject = encode_name(&[
        &[(O, "Org")],
        &[(OU, "Unit A")],
        &[(OU, "Unit B")],
        &[(CN, "first.example")],
        &[(CN, "second.example")],
        // One RDN holding two attributes.
        &[
            (CN, "third.example"),
            ("0.9.2342.19200300.100.1.1", "uid-7"),
        ],
    ]);
    let der = resign(&template.der(), &key, |tbs| {
        tbs.set_subject(subject.clone());
        tbs.set_issuer(subject.clone());
    });
    let certificate = SslCertificate::from_der(&der).unwrap();

    assert_eq!(
        certificate.subject_info(SubjectInfo::OrganizationalUnitName),
        ["Unit A", "Unit B"]
    );
    assert_eq!(
        certificate.subject_info(SubjectInfo::CommonName),
        ["first.example", "second.example", "third.example"]
    );
    assert_eq!(certificate.subject_info_by_attribute("UID"), ["uid-7"]);
    assert_eq!(
        certificate.subject_info_attributes(),
        ["O", "OU", "CN", "UID"]
    );
    assert_eq!(certificate.subject_display_name(), "first.example");
    assert_eq!(
        certificate.issuer_info(SubjectInfo::CommonName),
        certificate.subject_info(SubjectInfo::CommonName)
    );
    let text = certificate.to_text();
    assert!(
        text.contains(
            "Subject: O = Org, OU = Unit A, OU = Unit B, CN = first.example, \
             CN = second.example, CN = third.example + UID = uid-7"
        ),
        "{text}"
    );
}

#[test]
fn utf8_and_other_string_types() {
    let root = Identity::new_ca(
        "例え.テスト",
        &CaSpec {
            organization: "Société Générale",
            ..CaSpec::default()
        },
    );
    let certificate = root.certificate();
    assert_eq!(
        certificate.subject_info(SubjectInfo::CommonName),
        ["例え.テスト"]
    );
    assert_eq!(
        certificate.subject_info(SubjectInfo::Organization),
        ["Société Générale"]
    );
    assert_eq!(certificate.subject_display_name(), "例え.テスト");
    assert!(certificate
        .to_text()
        .contains("O = Société Générale, CN = 例え.テスト"));

    // BMPString (UTF-16BE), UniversalString (UTF-32BE), TeletexString
    // (read as Latin-1) and an INTEGER where a string belongs.
    let attribute = |oid: &str, tag: u8, value: &[u8]| {
        let mut body = pki::encode_oid(oid);
        body.extend(tlv(tag, value));
        tlv(0x31, &tlv(0x30, &body))
    };
    let bmp: Vec<u8> = "Ünïcødé"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let universal: Vec<u8> = "𝔘𝔫𝔦"
        .chars()
        .flat_map(|c| (c as u32).to_be_bytes())
        .collect();
    let name = tlv(
        0x30,
        &[
            attribute(O, 0x1e, &bmp),
            attribute(OU, 0x1c, &universal),
            attribute("2.5.4.7", 0x14, b"Z\xfcrich"),
            attribute(CN, 0x02, &[0x01, 0x02]),
        ]
        .concat(),
    );
    let der = resign(&root.der(), &root.key, |tbs| tbs.set_subject(name));
    let certificate = SslCertificate::from_der(&der).unwrap();
    assert_eq!(
        certificate.subject_info(SubjectInfo::Organization),
        ["Ünïcødé"]
    );
    assert_eq!(
        certificate.subject_info(SubjectInfo::OrganizationalUnitName),
        ["𝔘𝔫𝔦"]
    );
    assert_eq!(
        certificate.subject_info(SubjectInfo::LocalityName),
        ["Zürich"]
    );
    assert_eq!(certificate.subject_info(SubjectInfo::CommonName), ["#0102"]);
}

#[test]
fn display_name_falls_back_from_cn_to_o_to_ou() {
    let key = KeyKind::EcdsaP256.generate();
    let template = Identity::self_signed(&LeafSpec::default());
    let with_subject = |rdns: &[&[(&str, &str)]]| {
        let name = encode_name(rdns);
        let der = resign(&template.der(), &key, |tbs| tbs.set_subject(name));
        SslCertificate::from_der(&der).unwrap()
    };
    type Rdns<'a> = &'a [&'a [(&'a str, &'a str)]];
    let cases: &[(Rdns, &str)] = &[
        (&[&[(O, "Org")], &[(OU, "Unit")], &[(CN, "Name")]], "Name"),
        (&[&[(OU, "Unit")], &[(O, "Org")], &[(O, "Org 2")]], "Org"),
        (&[&[("2.5.4.6", "FR")], &[(OU, "Unit")]], "Unit"),
        (&[&[("2.5.4.6", "FR")]], ""),
        (&[], ""),
    ];
    for (rdns, expected) in cases {
        assert_eq!(with_subject(rdns).subject_display_name(), *expected);
    }
}

#[test]
fn subject_alternative_names_in_certificate_order() {
    let leaf = Identity::self_signed(&LeafSpec {
        dns: &["example.org", "*.example.org"],
        ips: &["192.0.2.7", "2001:db8::1", "::1"],
        emails: &["hostmaster@example.org"],
        uris: &["https://example.org/"],
        ..LeafSpec::default()
    });
    use AlternativeNameEntryType::*;
    let expected = vec![
        (DnsEntry, "example.org".to_owned()),
        (DnsEntry, "*.example.org".to_owned()),
        (IpAddressEntry, "192.0.2.7".to_owned()),
        (IpAddressEntry, "2001:db8::1".to_owned()),
        (IpAddressEntry, "::1".to_owned()),
        (EmailEntry, "hostmaster@example.org".to_owned()),
    ];
    let certificate = leaf.certificate();
    assert_eq!(certificate.subject_alternative_names(), expected);

    let san = certificate
        .extensions()
        .into_iter()
        .find(|e| e.name() == "subjectAltName")
        .unwrap();
    assert_eq!(san.oid(), "2.5.29.17");
    assert!(san.is_supported());
    assert_eq!(san.value(), &ExtensionValue::SubjectAltName(expected));

    // IPv6 in its short form, where OpenSSL would write every group.
    let text = certificate.to_text();
    assert!(
        text.contains("IP Address:2001:db8::1, IP Address:::1, email:hostmaster@example.org, URI:https://example.org/"),
        "{text}"
    );

    let no_san = Identity::self_signed(&LeafSpec::default()).certificate();
    assert!(no_san.subject_alternative_names().is_empty());
}

// ---------------------------------------------------------------------------
// Dates, signatures, keys
// ---------------------------------------------------------------------------

#[test]
fn validity_dates_are_the_ones_set() {
    let cases = [
        (pki::days_from_now(-3), pki::days_from_now(5)),
        // Before 1970 and after 2049 (GeneralizedTime).
        (date(1960, 2, 29), date(2100, 12, 31)),
        (date(1950, 1, 1), date(9999, 12, 31)),
    ];
    for (not_before, not_after) in cases {
        let certificate = Identity::self_signed(&LeafSpec {
            not_before: Some(not_before),
            not_after: Some(not_after),
            ..LeafSpec::default()
        })
        .certificate();
        assert_eq!(certificate.effective_date(), pki::system_time(not_before));
        assert_eq!(certificate.expiry_date(), pki::system_time(not_after));
    }
}

#[test]
fn self_signed_means_same_name_and_own_signature() {
    let root = Identity::new("Self Root");
    let intermediate = root.intermediate("Self Intermediate");
    let leaf = intermediate.leaf(&LeafSpec::default());
    assert!(root.certificate().is_self_signed());
    assert!(!intermediate.certificate().is_self_signed());
    assert!(!leaf.certificate().is_self_signed());

    for kind in KeyKind::ALL {
        let own = Identity::self_signed(&LeafSpec {
            key: kind,
            ..LeafSpec::default()
        });
        let certificate = own.certificate();
        assert!(certificate.is_self_signed(), "{kind:?}");
        assert_eq!(
            certificate.signature_algorithm_name(),
            kind.signature_algorithm_name()
        );

        // A certificate issued by a CA of this kind, to cover each
        // verification algorithm on the issuer side too.
        let ca = Identity::new_ca(
            "Kind CA",
            &CaSpec {
                key: kind,
                ..CaSpec::default()
            },
        );
        assert!(ca.certificate().is_self_signed(), "{kind:?} CA");
        let issued = ca.leaf(&LeafSpec::default()).certificate();
        assert_eq!(
            issued.signature_algorithm_name(),
            kind.signature_algorithm_name()
        );
        assert!(!issued.is_self_signed());

        // A damaged signature no longer verifies.
        let mut damaged = own.der();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x01;
        let damaged = SslCertificate::from_der(&damaged).unwrap();
        assert!(!damaged.is_self_signed(), "{kind:?} damaged");
    }

    // Subject equal to issuer, but signed by some other key.
    let impostor_params = {
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(DnType::CommonName, "Lookalike");
        params.distinguished_name = dn;
        params
    };
    let other_key = KeyKind::EcdsaP256.generate();
    let own_key = KeyKind::EcdsaP256.generate();
    let impostor = impostor_params
        .signed_by(
            &own_key,
            &rcgen::Issuer::from_params(&impostor_params, &other_key),
        )
        .unwrap();
    let impostor = SslCertificate::from_der(impostor.der()).unwrap();
    assert_eq!(impostor.subject_name_der(), impostor.issuer_name_der());
    assert!(!impostor.is_self_signed());
}

#[test]
fn public_keys_of_every_kind() {
    for kind in KeyKind::ALL {
        let leaf = Identity::self_signed(&LeafSpec {
            key: kind,
            ..LeafSpec::default()
        });
        let certificate = leaf.certificate();
        assert_eq!(
            certificate.subject_public_key_info_der(),
            leaf.public_key_der()
        );

        let key = certificate
            .public_key()
            .unwrap_or_else(|e| panic!("{kind:?} public key: {e}"));
        let expected_algorithm = match kind {
            KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => KeyAlgorithm::Ec,
            KeyKind::Ed25519 => KeyAlgorithm::Ed25519,
            KeyKind::Rsa2048 => KeyAlgorithm::Rsa,
        };
        assert_eq!(key.algorithm(), expected_algorithm, "{kind:?}");
        assert_eq!(key.length(), kind.bits(), "{kind:?}");
        assert_eq!(key.to_der(), leaf.public_key_der(), "{kind:?}");
    }
}

// ---------------------------------------------------------------------------
// Extensions and text
// ---------------------------------------------------------------------------

#[test]
fn extensions_of_a_ca_and_a_leaf() {
    let root = Identity::new_ca(
        "Extensions Root",
        &CaSpec {
            path_len: Some(2),
            ..CaSpec::default()
        },
    );
    let ca = root.certificate();
    let find = |certificate: &SslCertificate, name: &str| {
        certificate
            .extensions()
            .into_iter()
            .find(|e| e.name() == name)
            .unwrap_or_else(|| panic!("no {name} extension"))
    };

    let bc = find(&ca, "basicConstraints");
    assert_eq!(bc.oid(), "2.5.29.19");
    assert!(bc.is_critical());
    assert!(bc.is_supported());
    assert_eq!(
        bc.value(),
        &ExtensionValue::BasicConstraints {
            ca: true,
            path_len: Some(2)
        }
    );
    assert!(ca.is_ca());
    assert_eq!(ca.basic_constraints(), Some((true, Some(2))));

    let ku = find(&ca, "keyUsage");
    assert_eq!(ku.oid(), "2.5.29.15");
    assert!(ku.is_critical());
    assert_eq!(
        ku.value(),
        &ExtensionValue::KeyUsage(vec![
            "digitalSignature".into(),
            "keyCertSign".into(),
            "cRLSign".into()
        ])
    );
    let ski = find(&ca, "subjectKeyIdentifier");
    let ExtensionValue::KeyIdentifier(ca_key_id) = ski.value().clone() else {
        panic!("subjectKeyIdentifier value: {:?}", ski.value());
    };
    assert!(!ski.is_critical());
    assert_eq!(ca.subject_key_identifier(), Some(ca_key_id.clone()));

    let leaf = root
        .leaf(&LeafSpec {
            dns: &["leaf.example"],
            ..LeafSpec::default()
        })
        .certificate();
    assert!(!leaf.is_ca());
    assert_eq!(leaf.basic_constraints(), Some((false, None)));
    let eku = find(&leaf, "extendedKeyUsage");
    assert_eq!(eku.oid(), "2.5.29.37");
    assert!(!eku.is_critical());
    assert_eq!(
        eku.value(),
        &ExtensionValue::ExtendedKeyUsage(vec!["serverAuth".into(), "clientAuth".into()])
    );
    let aki = find(&leaf, "authorityKeyIdentifier");
    assert_eq!(
        aki.value(),
        &ExtensionValue::KeyIdentifier(ca_key_id.clone())
    );
    assert_eq!(leaf.authority_key_identifier(), Some(ca_key_id));
    let san = find(&leaf, "subjectAltName");
    assert!(!san.is_critical());

    let client_only = root
        .leaf(&LeafSpec {
            client_auth_only: true,
            ..LeafSpec::default()
        })
        .certificate();
    assert_eq!(
        find(&client_only, "extendedKeyUsage").value(),
        &ExtensionValue::ExtendedKeyUsage(vec!["clientAuth".into()])
    );
}

#[test]
fn unknown_and_text_extensions() {
    let root = Identity::new("Custom Root");
    let mut params = rcgen::CertificateParams::default();
    let mut unknown =
        rcgen::CustomExtension::from_oid_content(&[1, 2, 3, 4, 5], vec![0x04, 0x01, 0xaa]);
    unknown.set_criticality(true);
    params.custom_extensions.push(unknown);
    params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
        uris: vec!["http://crl.example/root.crl".into()],
    }];
    params.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: vec![rcgen::GeneralSubtree::DnsName("example.org".into())],
        excluded_subtrees: vec![rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4(
            [10, 0, 0, 0],
            [255, 0, 0, 0],
        ))],
    });
    let certificate = root.issue(params, KeyKind::EcdsaP256).certificate();
    let extensions = certificate.extensions();

    let custom = extensions.iter().find(|e| e.oid() == "1.2.3.4.5").unwrap();
    assert_eq!(custom.name(), "1.2.3.4.5");
    assert!(custom.is_critical());
    assert!(!custom.is_supported());
    assert_eq!(custom.value(), &ExtensionValue::Raw(vec![0x04, 0x01, 0xaa]));
    assert_eq!(custom.raw_value(), [0x04, 0x01, 0xaa]);

    let crl = extensions
        .iter()
        .find(|e| e.name() == "crlDistributionPoints")
        .unwrap();
    assert_eq!(
        crl.value(),
        &ExtensionValue::Text("URI:http://crl.example/root.crl".into())
    );
    let nc = extensions
        .iter()
        .find(|e| e.name() == "nameConstraints")
        .unwrap();
    let ExtensionValue::Text(text) = nc.value() else {
        panic!("nameConstraints value: {:?}", nc.value());
    };
    assert!(text.contains("DNS:example.org"), "{text}");
    assert!(text.contains("IP Address:10.0.0.0/255.0.0.0"), "{text}");

    let text = certificate.to_text();
    assert!(text.contains("1.2.3.4.5: critical"), "{text}");
    assert!(text.contains("X509v3 CRL Distribution Points:"), "{text}");
    assert!(text.contains("X509v3 Name Constraints:"), "{text}");
}

#[test]
fn to_text_describes_everything() {
    let root = Identity::new("Text Root");
    let leaf = root.leaf(&LeafSpec {
        common_name: "text.example",
        dns: &["text.example"],
        ips: &["127.0.0.1"],
        emails: &["ops@text.example"],
        serial: Some(&[0x2a]),
        not_before: Some(date(2020, 1, 2)),
        not_after: Some(date(2031, 11, 30)),
        ..LeafSpec::default()
    });
    let text = leaf.certificate().to_text();
    for expected in [
        "Certificate:\n    Data:\n",
        "        Version: 3 (0x2)\n",
        "        Serial Number: 42 (0x2a)\n",
        "        Signature Algorithm: ecdsa-with-SHA256\n",
        "        Issuer: O = sslsocket tests, CN = Text Root\n",
        "            Not Before: Jan  2 00:00:00 2020 GMT\n",
        "            Not After : Nov 30 00:00:00 2031 GMT\n",
        "        Subject: CN = text.example\n",
        "            Public Key Algorithm: id-ecPublicKey\n",
        "                Public-Key: (256 bit)\n",
        "                ASN1 OID: prime256v1\n",
        "                NIST CURVE: P-256\n",
        "        X509v3 extensions:\n",
        "            X509v3 Subject Alternative Name:",
        "DNS:text.example, IP Address:127.0.0.1, email:ops@text.example",
        "            X509v3 Basic Constraints: critical\n                CA:FALSE\n",
        "            X509v3 Key Usage: critical\n                Digital Signature\n",
        "TLS Web Server Authentication, TLS Web Client Authentication",
        "X509v3 Authority Key Identifier:",
        "    Signature Algorithm: ecdsa-with-SHA256\n    Signature Value:\n        30:",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }

    // The lines both tools print identically.
    let dir = temp_dir();
    let file = pki::write(dir.path(), "leaf.pem", leaf.pem());
    if let Some(reference) = openssl(&["x509", "-in", &file, "-noout", "-text"]) {
        for prefix in [
            "Version:",
            "Serial Number:",
            "Not Before:",
            "Not After :",
            "Public-Key:",
            "ASN1 OID:",
            "NIST CURVE:",
            "Signature Algorithm:",
            "CA:",
            "DNS:",
        ] {
            let line = |t: &str| {
                t.lines()
                    .map(str::trim)
                    .find(|l| l.starts_with(prefix))
                    .map(str::to_owned)
            };
            assert_eq!(line(&text), line(&reference), "line starting {prefix:?}");
        }
    }
}

#[test]
fn to_text_for_rsa_and_ed25519_keys() {
    let rsa = Identity::self_signed(&LeafSpec {
        key: KeyKind::Rsa2048,
        ..LeafSpec::default()
    })
    .certificate()
    .to_text();
    assert!(rsa.contains("Public Key Algorithm: rsaEncryption"), "{rsa}");
    assert!(rsa.contains("Public-Key: (2048 bit)"), "{rsa}");
    assert!(rsa.contains("Modulus:"), "{rsa}");
    assert!(rsa.contains("Exponent: 65537 (0x10001)"), "{rsa}");
    assert!(
        rsa.contains("Signature Algorithm: sha256WithRSAEncryption"),
        "{rsa}"
    );

    let ed = Identity::self_signed(&LeafSpec {
        key: KeyKind::Ed25519,
        ..LeafSpec::default()
    })
    .certificate()
    .to_text();
    assert!(ed.contains("Public Key Algorithm: ED25519"), "{ed}");
    assert!(ed.contains("ED25519 Public-Key:"), "{ed}");
    assert!(ed.contains("Signature Algorithm: ED25519"), "{ed}");

    let p384 = Identity::self_signed(&LeafSpec {
        key: KeyKind::EcdsaP384,
        ..LeafSpec::default()
    })
    .certificate()
    .to_text();
    assert!(p384.contains("Public-Key: (384 bit)"), "{p384}");
    assert!(p384.contains("ASN1 OID: secp384r1"), "{p384}");
    assert!(p384.contains("NIST CURVE: P-384"), "{p384}");
}

/// Certificates made by the OpenSSL CLI: RSA-PSS and P-521 signatures, which
/// rcgen does not make, and a subject with repeated attributes.
#[test]
fn certificates_made_by_openssl() {
    let dir = temp_dir();
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    let (key, cert) = (key.to_str().unwrap(), cert.to_str().unwrap());
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "-newkey",
                "rsa:2048",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-sha256",
            ],
            "rsassaPss",
        ),
        (
            &[
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
                "-sha512",
            ],
            "ecdsa-with-SHA512",
        ),
        (
            &[
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-sha256",
            ],
            "ecdsa-with-SHA256",
        ),
        (
            &["-newkey", "rsa:2048", "-sha384"],
            "sha384WithRSAEncryption",
        ),
    ];
    for (options, signature) in cases {
        let mut args = vec![
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            key,
            "-out",
            cert,
            "-subj",
            "/C=NO/O=Open/OU=One/OU=Two/CN=openssl.example",
        ];
        args.extend_from_slice(options);
        if openssl(&args).is_none() {
            return;
        }
        let certificate =
            SslCertificate::from_path(cert, EncodingFormat::Pem, PatternSyntax::FixedString)
                .unwrap()
                .remove(0);
        assert_eq!(certificate.signature_algorithm_name(), *signature);
        assert!(certificate.is_self_signed(), "{signature}");
        assert_eq!(
            certificate.subject_info(SubjectInfo::OrganizationalUnitName),
            ["One", "Two"]
        );
        assert_eq!(
            certificate.subject_info_attributes(),
            ["C", "O", "OU", "CN"]
        );
        // OpenSSL's trusted form: the certificate followed by trust settings.
        let trusted = dir.path().join("trusted.pem");
        let trusted = trusted.to_str().unwrap();
        let args = [
            "x509",
            "-in",
            cert,
            "-trustout",
            "-addtrust",
            "serverAuth",
            "-out",
            trusted,
        ];
        openssl(&args).unwrap();
        let trusted_text = std::fs::read_to_string(trusted).unwrap();
        assert!(trusted_text.contains("BEGIN TRUSTED CERTIFICATE"));
        assert_eq!(
            SslCertificate::from_pem(&trusted_text).unwrap(),
            vec![certificate.clone()]
        );
        // The key file lies next to it; the PEM reader must skip it.
        let key_pem = std::fs::read(key).unwrap();
        assert!(matches!(
            SslCertificate::from_pem(&key_pem),
            Err(Error::NoCertificate)
        ));
    }
}

// ---------------------------------------------------------------------------
// PEM and DER
// ---------------------------------------------------------------------------

#[test]
fn pem_with_several_certificates_and_a_private_key() {
    let root = Identity::new("Bundle Root");
    let intermediate = root.intermediate("Bundle Intermediate");
    let leaf = intermediate.leaf(&LeafSpec::default());
    let text = format!(
        "subject=CN = Bundle Root\n{}\n{}{}garbage between blocks\n{}",
        root.pem(),
        leaf.key_pem(),
        intermediate.pem(),
        leaf.pem()
    );
    let expected = vec![
        root.certificate(),
        intermediate.certificate(),
        leaf.certificate(),
    ];
    assert_eq!(SslCertificate::from_pem(&text).unwrap(), expected);
    assert_eq!(
        SslCertificate::from_data(&text, EncodingFormat::Pem).unwrap(),
        expected
    );
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(SslCertificate::from_pem(crlf).unwrap(), expected);
    let old_label = root
        .pem()
        .replace("BEGIN CERTIFICATE", "BEGIN X509 CERTIFICATE")
        .replace("END CERTIFICATE", "END X509 CERTIFICATE");
    assert_eq!(
        SslCertificate::from_pem(old_label).unwrap(),
        [root.certificate()]
    );
}

#[test]
fn der_and_pem_round_trips() {
    let root = Identity::new("Round Trip Root");
    let leaf = root.leaf(&LeafSpec::default());
    let der = leaf.der();
    let from_der = SslCertificate::from_der(&der).unwrap();
    assert_eq!(from_der.to_der(), der.as_slice());
    assert_eq!(from_der.to_pem(), leaf.pem().replace("\r\n", "\n"));
    let again = SslCertificate::from_pem(from_der.to_pem()).unwrap();
    assert_eq!(again, vec![from_der.clone()]);
    assert_eq!(
        SslCertificate::from_data(&der, EncodingFormat::Der).unwrap(),
        vec![from_der.clone()]
    );
    let two = [root.der(), der.clone()].concat();
    assert_eq!(
        SslCertificate::from_data(two, EncodingFormat::Der).unwrap(),
        [root.certificate(), from_der.clone()]
    );
    assert_eq!(SslCertificate::try_from(der.as_slice()).unwrap(), from_der);
    assert_eq!(AsRef::<[u8]>::as_ref(&from_der), der.as_slice());
}

#[test]
fn equality_and_hashing_follow_the_der_bytes() {
    let root = Identity::new("Equality Root");
    let leaf = root.leaf(&LeafSpec::default());
    let from_pem = SslCertificate::from_pem(leaf.pem()).unwrap().remove(0);
    let from_der = SslCertificate::from_der(leaf.der()).unwrap();
    assert_eq!(from_pem, from_der);
    assert_eq!(from_pem.clone(), from_der);
    assert_ne!(from_pem, root.certificate());
    // Same parameters, new key: a different certificate.
    let twin = root.leaf(&LeafSpec::default()).certificate();
    assert_ne!(from_pem, twin);

    let set: HashSet<SslCertificate> = [from_pem.clone(), from_der, root.certificate(), twin]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 3);

    let debug = format!("{from_pem:?}");
    assert!(debug.contains("localhost"), "{debug}");
    assert!(debug.len() < 120, "{debug}");
}

// ---------------------------------------------------------------------------
// from_path
// ---------------------------------------------------------------------------

/// The tree used by the `from_path` tests, and the certificates in it.
struct Tree {
    dir: tempfile::TempDir,
    a: SslCertificate,
    b: SslCertificate,
    c: SslCertificate,
    d: SslCertificate,
    e: SslCertificate,
    f: SslCertificate,
    g: SslCertificate,
}

impl Tree {
    fn new() -> Tree {
        let root = Identity::new("Path Root");
        let make = |name: &str| {
            root.leaf(&LeafSpec {
                common_name: name,
                ..LeafSpec::default()
            })
        };
        let (a, b, c, d, e, f, g) = (
            make("a"),
            make("b"),
            make("c"),
            make("d"),
            make("e"),
            make("f"),
            make("g"),
        );
        let dir = temp_dir();
        let p = dir.path();
        pki::write(p, "a.pem", a.pem());
        pki::write(p, "b.crt", b.pem());
        pki::write(
            p,
            "bundle.pem",
            format!("{}{}{}", c.pem(), c.key_pem(), d.pem()),
        );
        pki::write(p, "notes.txt", "not a certificate\n");
        pki::write(
            p,
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        );
        pki::write(p, "sub/e.pem", e.pem());
        pki::write(p, "sub/deeper/f.pem", f.pem());
        pki::write(p, "der/g.der", g.der());
        Tree {
            dir,
            a: a.certificate(),
            b: b.certificate(),
            c: c.certificate(),
            d: d.certificate(),
            e: e.certificate(),
            f: f.certificate(),
            g: g.certificate(),
        }
    }

    fn root(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn load(&self, pattern: &str, syntax: PatternSyntax) -> Vec<SslCertificate> {
        let pattern = pattern.replace("ROOT", self.root());
        SslCertificate::from_path(&pattern, EncodingFormat::Pem, syntax)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
    }

    fn names(certificates: &[SslCertificate]) -> Vec<String> {
        certificates
            .iter()
            .map(|c| c.subject_display_name())
            .collect()
    }
}

#[test]
fn from_path_fixed_string() {
    let tree = Tree::new();
    use PatternSyntax::FixedString;
    assert_eq!(tree.load("ROOT/a.pem", FixedString), vec![tree.a.clone()]);
    assert_eq!(
        tree.load("ROOT/bundle.pem", FixedString),
        [tree.c.clone(), tree.d.clone()]
    );
    // No pattern characters are interpreted.
    let star = format!("{}/*.pem", tree.root());
    assert!(matches!(
        SslCertificate::from_path(&star, EncodingFormat::Pem, FixedString),
        Err(Error::File { .. })
    ));
    let missing = format!("{}/missing.pem", tree.root());
    match SslCertificate::from_path(&missing, EncodingFormat::Pem, FixedString) {
        Err(Error::File { path, .. }) => assert_eq!(path, Path::new(&missing)),
        other => panic!("expected a file error, got {other:?}"),
    }
    let notes = format!("{}/notes.txt", tree.root());
    assert!(matches!(
        SslCertificate::from_path(&notes, EncodingFormat::Pem, FixedString),
        Err(Error::NoCertificate)
    ));
    let der = format!("{}/der/g.der", tree.root());
    assert_eq!(
        SslCertificate::from_path(&der, EncodingFormat::Der, FixedString).unwrap(),
        vec![tree.g.clone()]
    );
    assert_eq!(PatternSyntax::default(), FixedString);
}

#[test]
fn from_path_wildcard() {
    let tree = Tree::new();
    use PatternSyntax::Wildcard;
    let names = |pattern| Tree::names(&tree.load(pattern, Wildcard));
    // The garbage file is skipped; the key in the bundle too.
    assert_eq!(names("ROOT/*.pem"), ["a", "c", "d"]);
    assert_eq!(names("ROOT/*.crt"), ["b"]);
    // `*` does not cross `/`.
    assert_eq!(names("ROOT/*/*.pem"), ["e"]);
    assert_eq!(names("ROOT/*/*/*.pem"), ["f"]);
    assert_eq!(names("ROOT/s?b/e.pem"), ["e"]);
    assert_eq!(names("ROOT/[ab].*"), ["a", "b"]);
    assert_eq!(names("ROOT/[!a]*.pem"), ["c", "d"]);
    assert_eq!(names("ROOT/*"), ["a", "b", "c", "d"]);
    assert!(names("ROOT/*.nothing").is_empty());
    assert!(names("ROOT/no-such-dir/*.pem").is_empty());
    // Without special characters, a plain file path.
    assert_eq!(
        tree.load("ROOT/sub/deeper/f.pem", Wildcard),
        vec![tree.f.clone()]
    );
    let missing = format!("{}/missing.pem", tree.root());
    assert!(matches!(
        SslCertificate::from_path(&missing, EncodingFormat::Pem, Wildcard),
        Err(Error::File { .. })
    ));
    let der = format!("{}/*/*.der", tree.root());
    assert_eq!(
        SslCertificate::from_path(&der, EncodingFormat::Der, Wildcard).unwrap(),
        vec![tree.g.clone()]
    );
}

#[test]
fn from_path_regular_expression() {
    let tree = Tree::new();
    use PatternSyntax::RegularExpression;
    let names = |pattern| Tree::names(&tree.load(pattern, RegularExpression));
    // Recursive, in name order within each directory ("deeper" < "e.pem").
    assert_eq!(names(r"ROOT/.*\.pem"), ["a", "c", "d", "f", "e"]);
    assert_eq!(names(r"ROOT/[^/]*\.pem"), ["a", "c", "d"]);
    assert_eq!(names(r"ROOT/sub/.*"), ["f", "e"]);
    assert_eq!(names(r"ROOT/(a|b)\.(pem|crt)"), ["a", "b"]);
    // The whole path must match, not a part of it.
    assert!(names(r"ROOT/a\.pe").is_empty());
    assert!(names(r"ROOT/.*/e").is_empty());
    assert!(names(r"ROOT/.*e\.pe").is_empty());
    // "sub" matches, but it is a directory.
    assert!(names(r"ROOT/su.").is_empty());
    assert!(names(r"ROOT/nothing.*").is_empty());

    let invalid = format!("{}/(unclosed.*", tree.root());
    match SslCertificate::from_path(&invalid, EncodingFormat::Pem, RegularExpression) {
        Err(Error::InvalidPattern { pattern, reason }) => {
            assert_eq!(pattern, invalid);
            assert!(!reason.is_empty());
        }
        other => panic!("expected an invalid pattern error, got {other:?}"),
    }
    let der = format!(r"{}/der/.*", tree.root());
    assert_eq!(
        SslCertificate::from_path(&der, EncodingFormat::Der, RegularExpression).unwrap(),
        vec![tree.g.clone()]
    );
    let _ = (&tree.b, &tree.e);
}

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

#[test]
fn empty_and_garbage_input() {
    assert!(matches!(
        SslCertificate::from_der(b""),
        Err(Error::NoCertificate)
    ));
    assert!(matches!(
        SslCertificate::from_pem(b""),
        Err(Error::NoCertificate)
    ));
    assert!(matches!(
        SslCertificate::from_data(b"", EncodingFormat::Der),
        Err(Error::NoCertificate)
    ));
    assert!(matches!(
        SslCertificate::from_pem("just some text\n"),
        Err(Error::NoCertificate)
    ));
    assert!(is_invalid(SslCertificate::from_der(b"garbage")));
    assert!(is_invalid(SslCertificate::from_data(
        b"garbage",
        EncodingFormat::Der
    )));
    assert!(is_invalid(SslCertificate::from_der([0x30, 0x00])));
    assert!(is_invalid(SslCertificate::from_der([
        0x30, 0x84, 0xff, 0xff, 0xff, 0xff
    ])));

    let leaf = Identity::self_signed(&LeafSpec::default());
    match SslCertificate::from_der(leaf.pem()) {
        Err(Error::InvalidCertificate { reason }) => assert!(reason.contains("PEM"), "{reason}"),
        other => panic!("PEM given as DER: {other:?}"),
    }
    // A key alone is not a certificate.
    assert!(matches!(
        SslCertificate::from_pem(leaf.key_pem()),
        Err(Error::NoCertificate)
    ));
}

#[test]
fn trailing_data_after_der_is_an_error() {
    let leaf = Identity::self_signed(&LeafSpec::default());
    let mut der = leaf.der();
    der.push(0x00);
    match SslCertificate::from_der(&der) {
        Err(Error::InvalidCertificate { reason }) => {
            assert!(reason.contains("1 bytes"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(is_invalid(SslCertificate::from_data(
        &der,
        EncodingFormat::Der
    )));
    let mut two_and_junk = [leaf.der(), leaf.der()].concat();
    two_and_junk.extend_from_slice(b"junk");
    assert!(is_invalid(SslCertificate::from_data(
        two_and_junk,
        EncodingFormat::Der
    )));
}

#[test]
fn damaged_pem_is_an_error() {
    let root = Identity::new("Damage Root");
    let pem = root.pem();
    let lines: Vec<&str> = pem.lines().collect();

    // A character outside the base64 alphabet.
    let broken = pem.replacen(&lines[2][..4], "!!!!", 1);
    assert!(is_invalid(SslCertificate::from_pem(&broken)));
    // A missing END line.
    let unterminated = lines[..lines.len() - 1].join("\n");
    assert!(is_invalid(SslCertificate::from_pem(&unterminated)));
    // A body line dropped: valid base64, truncated DER.
    let mut shortened = lines.clone();
    shortened.remove(3);
    assert!(is_invalid(SslCertificate::from_pem(shortened.join("\n"))));
    // Valid base64 of something that is not a certificate.
    let not_a_certificate =
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    assert!(is_invalid(SslCertificate::from_pem(not_a_certificate)));
    // One good certificate does not excuse a bad one after it.
    let good_then_bad = format!("{pem}{not_a_certificate}");
    match SslCertificate::from_pem(good_then_bad) {
        Err(Error::InvalidCertificate { reason }) => {
            assert!(reason.contains("block 2"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Invalid UTF-8 around the block is tolerated.
    let mut bytes = vec![0xff, 0xfe, b'\n'];
    bytes.extend_from_slice(pem.as_bytes());
    bytes.extend_from_slice(&[0xc3, 0x28]);
    assert_eq!(
        SslCertificate::from_pem(bytes).unwrap(),
        [root.certificate()]
    );
}

/// Calls every accessor, so that a certificate that parses can be shown not
/// to panic anywhere.
fn exercise(certificate: &SslCertificate) {
    let _ = certificate.version();
    let _ = certificate.serial_number();
    for algorithm in DigestAlgorithm::ALL {
        let _ = certificate.digest(*algorithm);
    }
    for field in SubjectInfo::ALL {
        let _ = certificate.subject_info(*field);
        let _ = certificate.issuer_info(*field);
    }
    let _ = certificate.subject_info_by_attribute("CN");
    let _ = certificate.issuer_info_attributes();
    let _ = certificate.subject_info_attributes();
    let _ = certificate.subject_display_name();
    let _ = certificate.issuer_display_name();
    let _ = certificate.subject_alternative_names();
    let _ = certificate.effective_date();
    let _ = certificate.expiry_date();
    let _ = certificate.is_self_signed();
    let _ = certificate.public_key();
    let _ = certificate.subject_public_key_info_der();
    let _ = certificate.signature_algorithm_name();
    let _ = certificate.extensions();
    let _ = certificate.is_ca();
    let _ = certificate.subject_key_identifier();
    let _ = certificate.authority_key_identifier();
    let _ = certificate.to_text();
    let _ = certificate.to_pem();
    let _ = format!("{certificate:?}");
}

#[test]
fn every_truncation_of_a_valid_der_is_refused() {
    let root = Identity::new("Truncation Root");
    let leaf = root.leaf(&LeafSpec {
        dns: &["t.example"],
        ips: &["10.1.2.3"],
        ..LeafSpec::default()
    });
    let der = leaf.der();
    for length in 0..der.len() {
        let result = SslCertificate::from_der(&der[..length]);
        assert!(result.is_err(), "a {length}-byte prefix was accepted");
        let _ = SslCertificate::from_data(&der[..length], EncodingFormat::Der);
    }
    let pem = leaf.pem();
    // Everything short of the final newline.
    for length in 0..pem.trim_end().len() {
        assert!(
            SslCertificate::from_pem(&pem.as_bytes()[..length]).is_err(),
            "a {length}-byte PEM prefix was accepted"
        );
    }
}

#[test]
fn mutated_and_random_input_never_panics() {
    let root = Identity::new_ca(
        "Mutation Root",
        &CaSpec {
            path_len: Some(1),
            ..CaSpec::default()
        },
    );
    let leaf = root.leaf(&LeafSpec {
        dns: &["m.example"],
        ips: &["10.1.2.3", "fe80::1"],
        emails: &["m@example.org"],
        uris: &["https://m.example/"],
        subject: &[(DnType::OrganizationName, "Mutants")],
        ..LeafSpec::default()
    });
    let der = leaf.der();

    // Deterministic xorshift, so that a failure can be reproduced.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };

    let mut accepted = 0;
    for position in 0..der.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut mutated = der.clone();
            mutated[position] ^= flip;
            if let Ok(certificate) = SslCertificate::from_der(&mutated) {
                accepted += 1;
                exercise(&certificate);
            }
        }
    }
    // Most single-byte changes in names, keys and signatures still parse;
    // they are the interesting ones for the accessors.
    assert!(accepted > der.len() / 2, "only {accepted} mutants parsed");

    for round in 0..2000 {
        let length = (next() % 600) as usize;
        let mut bytes: Vec<u8> = (0..length).map(|_| next() as u8).collect();
        if round % 2 == 0 && !bytes.is_empty() {
            // Start like a certificate so that the parser goes deeper.
            bytes[0] = 0x30;
        }
        assert!(SslCertificate::from_der(&bytes).is_err());
        let _ = SslCertificate::from_data(&bytes, EncodingFormat::Der);
        let _ = SslCertificate::from_pem(&bytes);
        let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
        pem.extend(bytes.iter().map(|b| {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n"
                [usize::from(*b) % 66]
        }));
        pem.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
        assert!(SslCertificate::from_pem(&pem).is_err());
    }

    // Random splices of real certificate pieces.
    let pieces = [der.clone(), root.der()];
    for _ in 0..500 {
        let a = &pieces[(next() % 2) as usize];
        let b = &pieces[(next() % 2) as usize];
        let cut_a = (next() as usize) % a.len();
        let cut_b = (next() as usize) % b.len();
        let spliced = [&a[..cut_a], &b[cut_b..]].concat();
        if let Ok(certificate) = SslCertificate::from_der(&spliced) {
            exercise(&certificate);
        }
    }
}

#[test]
fn enums_carry_qt_numbers() {
    assert_eq!(SubjectInfo::Organization.value(), 0);
    assert_eq!(SubjectInfo::CommonName.value(), 1);
    assert_eq!(SubjectInfo::LocalityName.value(), 2);
    assert_eq!(SubjectInfo::OrganizationalUnitName.value(), 3);
    assert_eq!(SubjectInfo::CountryName.value(), 4);
    assert_eq!(SubjectInfo::StateOrProvinceName.value(), 5);
    assert_eq!(SubjectInfo::DistinguishedNameQualifier.value(), 6);
    assert_eq!(SubjectInfo::SerialNumber.value(), 7);
    assert_eq!(SubjectInfo::EmailAddress.value(), 8);
    assert_eq!(SubjectInfo::from_value(8), Some(SubjectInfo::EmailAddress));
    assert_eq!(PatternSyntax::RegularExpression.value(), 0);
    assert_eq!(PatternSyntax::Wildcard.value(), 1);
    assert_eq!(PatternSyntax::FixedString.value(), 2);
    assert_eq!(
        "wildcard".parse::<PatternSyntax>().unwrap(),
        PatternSyntax::Wildcard
    );
    assert_eq!(DigestAlgorithm::Sha256.value(), 4);
    assert_eq!(
        "sha384".parse::<DigestAlgorithm>().unwrap(),
        DigestAlgorithm::Sha384
    );
}
