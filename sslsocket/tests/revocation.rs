//! Revocation with certificate revocation lists made in the tests: a revoked
//! leaf or intermediate is `CertificateRevoked` on that certificate, through
//! `verify_chain` and the handshake; a list from another issuer does not
//! apply; an expired list, or one its issuer did not sign, is reported
//! instead of used; lists read from DER and PEM alike.

mod common;

use common::memory::{configuration_with_identity, handshake, pair};
use common::pki::AsSslCertificate;
use common::pki::{days_from_now, Ca, Identity, Leaf, LeafSpec};
use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use sslsocket::{
    verify_chain, CertificateRevocationList, EncodingFormat, Error, SslCertificate,
    SslConfiguration, SslError, SslErrorCode, SslSocket, VerifyOptions,
};

const HOST: &str = "revocation.example.test";

struct Pki {
    root: Ca,
    intermediate: Ca,
    leaf: Leaf,
}

impl Pki {
    fn new() -> Pki {
        let root = Identity::new("Revocation Root");
        let intermediate = root.intermediate("Revocation Intermediate");
        let leaf = intermediate.leaf(&LeafSpec {
            common_name: HOST,
            dns: &[HOST],
            serial: Some(&[0x12, 0x34]),
            ..LeafSpec::default()
        });
        Pki {
            root,
            intermediate,
            leaf,
        }
    }

    fn chain(&self) -> Vec<SslCertificate> {
        vec![self.leaf.certificate(), self.intermediate.certificate()]
    }

    fn errors(&self, crls: Vec<CertificateRevocationList>) -> Vec<(SslErrorCode, String)> {
        let options = VerifyOptions::new(vec![self.root.certificate()])
            .with_peer_name(HOST)
            .with_crls(crls);
        codes(&verify_chain(&self.chain(), &options))
    }
}

/// A list signed by `issuer`, revoking `serials`, valid from yesterday for
/// `days`.
fn crl(
    issuer: &Identity,
    serials: &[&[u8]],
    from_days: i64,
    days: i64,
) -> rcgen::CertificateRevocationList {
    crl_params(serials, from_days, days)
        .signed_by(&issuer.issuer())
        .expect("rcgen signs the CRL")
}

/// The parameters of a list revoking `serials`, valid from `from_days` for
/// `days`.
fn crl_params(serials: &[&[u8]], from_days: i64, days: i64) -> CertificateRevocationListParams {
    CertificateRevocationListParams {
        this_update: days_from_now(from_days),
        next_update: days_from_now(from_days + days),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: days_from_now(from_days),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
}

fn parsed(crl: &rcgen::CertificateRevocationList) -> CertificateRevocationList {
    CertificateRevocationList::from_der(crl.der()).expect("the CRL reads")
}

fn codes(errors: &[SslError]) -> Vec<(SslErrorCode, String)> {
    errors
        .iter()
        .map(|e| {
            let subject = e
                .certificate()
                .map(|c| c.subject_display_name())
                .unwrap_or_default();
            (e.code(), subject)
        })
        .collect()
}

/// The serial of `identity`'s certificate as big-endian bytes.
fn serial_of(identity: &Identity) -> Vec<u8> {
    identity
        .certificate()
        .serial_number()
        .split(':')
        .map(|byte| u8::from_str_radix(byte, 16).expect("hex"))
        .collect()
}

#[test]
fn a_revoked_leaf_is_certificate_revoked_on_the_leaf() {
    let pki = Pki::new();
    let list = crl(&pki.intermediate, &[&[0x12, 0x34]], -1, 7);
    assert_eq!(
        pki.errors(vec![parsed(&list)]),
        vec![(SslErrorCode::CertificateRevoked, HOST.to_owned())]
    );
}

#[test]
fn a_revoked_intermediate_is_certificate_revoked_on_the_intermediate() {
    let pki = Pki::new();
    let list = crl(&pki.root, &[&serial_of(&pki.intermediate)], -1, 7);
    assert_eq!(
        pki.errors(vec![parsed(&list)]),
        vec![(
            SslErrorCode::CertificateRevoked,
            "Revocation Intermediate".to_owned()
        )]
    );
}

#[test]
fn lists_that_do_not_name_the_certificate_or_come_from_elsewhere_change_nothing() {
    let pki = Pki::new();
    let other_serial = crl(&pki.intermediate, &[&[0x77]], -1, 7);
    let root_list = crl(&pki.root, &[], -1, 7);
    // Another CA revoking the leaf's serial does not revoke the leaf.
    let stranger = Identity::new("Stranger CA");
    let wrong_issuer = crl(&stranger, &[&[0x12, 0x34]], -1, 7);
    assert_eq!(
        pki.errors(vec![
            parsed(&other_serial),
            parsed(&root_list),
            parsed(&wrong_issuer)
        ]),
        vec![]
    );
    // No list for the leaf's issuer: not an error.
    assert_eq!(pki.errors(vec![parsed(&root_list)]), vec![]);
}

#[test]
fn an_expired_list_is_reported_not_used() {
    let pki = Pki::new();
    let expired = crl(&pki.intermediate, &[], -10, 2);
    let errors = {
        let options = VerifyOptions::new(vec![pki.root.certificate()])
            .with_peer_name(HOST)
            .with_crls(vec![parsed(&expired)]);
        verify_chain(&pki.chain(), &options)
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code(), SslErrorCode::UnspecifiedError);
    let detail = errors[0].detail().unwrap_or_default();
    assert!(detail.contains("has expired"), "{detail}");
}

#[test]
fn a_list_its_issuer_did_not_sign_is_reported_not_used() {
    let pki = Pki::new();
    // Same name as the intermediate, another key.
    let impostor = pki.root.intermediate("Revocation Intermediate");
    let forged = crl(&impostor, &[], -1, 7);
    let options = VerifyOptions::new(vec![pki.root.certificate()])
        .with_peer_name(HOST)
        .with_crls(vec![parsed(&forged)]);
    let errors = verify_chain(&pki.chain(), &options);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code(), SslErrorCode::UnspecifiedError);
    let detail = errors[0].detail().unwrap_or_default();
    assert!(detail.contains("not signed by the issuer"), "{detail}");
}

#[test]
fn lists_read_from_der_and_pem_and_bad_input_is_named() {
    let pki = Pki::new();
    let first = crl(&pki.intermediate, &[&[0x12, 0x34]], -1, 7);
    let second = crl(&pki.root, &[], -1, 7);
    let pem = format!("{}{}", first.pem().unwrap(), second.pem().unwrap());
    let from_pem = CertificateRevocationList::from_data(&pem, EncodingFormat::Pem).unwrap();
    assert_eq!(from_pem, vec![parsed(&first), parsed(&second)]);
    assert_eq!(from_pem[0].to_pem(), first.pem().unwrap());
    let from_der = CertificateRevocationList::from_data(first.der(), EncodingFormat::Der).unwrap();
    assert_eq!(from_der, vec![parsed(&first)]);
    assert_eq!(from_der[0].to_der(), first.der().as_ref());
    let next = from_der[0].next_update();
    assert!(next > std::time::SystemTime::now());

    let dir = tempfile::tempdir().unwrap();
    let pem_file = dir.path().join("lists.pem");
    std::fs::write(&pem_file, &pem).unwrap();
    assert_eq!(
        CertificateRevocationList::from_file(&pem_file)
            .unwrap()
            .len(),
        2
    );
    let der_file = dir.path().join("list.crl");
    std::fs::write(&der_file, first.der()).unwrap();
    assert_eq!(
        CertificateRevocationList::from_file(&der_file).unwrap(),
        vec![parsed(&first)]
    );

    assert!(matches!(
        CertificateRevocationList::from_pem(pki.leaf.pem()),
        Err(Error::NoCrl)
    ));
    assert!(matches!(
        CertificateRevocationList::from_der(b""),
        Err(Error::NoCrl)
    ));
    let garbage = CertificateRevocationList::from_der(pki.leaf.der()).unwrap_err();
    assert!(matches!(garbage, Error::InvalidCrl { .. }), "{garbage:?}");
    let broken_pem = "-----BEGIN X509 CRL-----\nnot base64!\n-----END X509 CRL-----\n";
    let broken = CertificateRevocationList::from_pem(broken_pem).unwrap_err();
    assert!(broken.to_string().contains("PEM CRL block 1"), "{broken}");
}

#[test]
fn a_handshake_refuses_a_revoked_server_and_reports_it() {
    let pki = Pki::new();
    let list = crl(&pki.intermediate, &[&[0x12, 0x34]], -1, 7);
    for revoked in [false, true] {
        let (client_end, server_end) = pair();
        let mut server = SslSocket::from_stream(server_end);
        server.set_ssl_configuration(configuration_with_identity(pki.chain(), &pki.leaf));
        server.start_server_encryption().expect("server starts");
        let mut configuration = SslConfiguration::new();
        configuration.set_ca_certificates(vec![pki.root.certificate()]);
        configuration.set_peer_verify_name(Some(HOST.to_owned()));
        let lists = if revoked {
            vec![parsed(&list)]
        } else {
            vec![parsed(&crl(&pki.intermediate, &[&[0x99]], -1, 7))]
        };
        configuration.add_crls(lists.clone());
        configuration.add_crls(lists);
        assert_eq!(configuration.crls().len(), 1, "added once");
        let mut client = SslSocket::from_stream(client_end);
        client.set_ssl_configuration(configuration);
        client.start_client_encryption().expect("client starts");
        let (result, _) = handshake(&mut client, &mut server);
        if revoked {
            let error = result.expect_err("revoked");
            let Error::VerificationFailed { errors } = &error else {
                panic!("{error:?}");
            };
            assert_eq!(
                codes(errors),
                vec![(SslErrorCode::CertificateRevoked, HOST.to_owned())]
            );
        } else {
            result.expect("not revoked");
        }
    }
}

#[test]
fn of_two_lists_from_one_issuer_the_newest_counts() {
    let pki = Pki::new();
    let older_revoking = crl(&pki.intermediate, &[&[0x12, 0x34]], -3, 7);
    let newer_clean = crl(&pki.intermediate, &[], -1, 7);
    let newer_revoking = crl(&pki.intermediate, &[&[0x12, 0x34]], -1, 7);
    let older_clean = crl(&pki.intermediate, &[], -3, 7);
    for lists in [
        vec![parsed(&older_revoking), parsed(&newer_clean)],
        vec![parsed(&newer_clean), parsed(&older_revoking)],
    ] {
        assert_eq!(pki.errors(lists), vec![]);
    }
    for lists in [
        vec![parsed(&older_clean), parsed(&newer_revoking)],
        vec![parsed(&newer_revoking), parsed(&older_clean)],
    ] {
        assert_eq!(
            pki.errors(lists),
            vec![(SslErrorCode::CertificateRevoked, HOST.to_owned())]
        );
    }
}

#[test]
fn strict_checking_needs_a_list_for_every_certificate_below_the_root() {
    let pki = Pki::new();
    let strict = |crls: Vec<CertificateRevocationList>| {
        let options = VerifyOptions::new(vec![pki.root.certificate()])
            .with_peer_name(HOST)
            .with_crls(crls)
            .with_crls_required(true);
        codes(&verify_chain(&pki.chain(), &options))
    };
    let for_leaf = parsed(&crl(&pki.intermediate, &[], -1, 7));
    let for_intermediate = parsed(&crl(&pki.root, &[], -1, 7));
    assert_eq!(
        strict(vec![for_leaf.clone(), for_intermediate.clone()]),
        vec![]
    );
    assert_eq!(
        strict(vec![for_leaf]),
        vec![(
            SslErrorCode::CertificateStatusUnknown,
            "Revocation Intermediate".to_owned()
        )]
    );
    assert_eq!(
        strict(vec![for_intermediate]),
        vec![(SslErrorCode::CertificateStatusUnknown, HOST.to_owned())]
    );
    assert_eq!(
        strict(vec![]),
        vec![
            (SslErrorCode::CertificateStatusUnknown, HOST.to_owned()),
            (
                SslErrorCode::CertificateStatusUnknown,
                "Revocation Intermediate".to_owned()
            )
        ]
    );
    // Not strict: no list is not an error.
    assert_eq!(pki.errors(vec![]), vec![]);
}

/// A list whose issuing distribution point limits it to some of its
/// issuer's certificates speaks only for those, for webpki and for the
/// list of errors alike.
#[test]
fn a_list_with_an_issuing_distribution_point_speaks_only_for_its_scope() {
    let pki = Pki::new();
    let scoped = |scope: Option<rcgen::CrlScope>, uri: &str| {
        let mut params = crl_params(&[&[0x12, 0x34]], -1, 7);
        params.issuing_distribution_point = Some(rcgen::CrlIssuingDistributionPoint {
            distribution_point: rcgen::CrlDistributionPoint {
                uris: vec![uri.to_owned()],
            },
            scope,
        });
        parsed(&params.signed_by(&pki.intermediate.issuer()).unwrap())
    };
    let for_root = parsed(&crl(&pki.root, &[], -1, 7));
    let verify = |leaf: &SslCertificate, crls: Vec<CertificateRevocationList>, strict: bool| {
        let options = VerifyOptions::new(vec![pki.root.certificate()])
            .with_peer_name(HOST)
            .with_crls(crls)
            .with_crls_required(strict);
        codes(&verify_chain(
            &[leaf.clone(), pki.intermediate.certificate()],
            &options,
        ))
    };
    let leaf = pki.leaf.certificate();
    let revoked = vec![(SslErrorCode::CertificateRevoked, HOST.to_owned())];
    let unknown = vec![(SslErrorCode::CertificateStatusUnknown, HOST.to_owned())];

    // Only for CAs: it does not speak for the leaf, whatever it lists.
    let cas_only = scoped(Some(rcgen::CrlScope::CaCertsOnly), "http://crl.test/ca.crl");
    assert_eq!(verify(&leaf, vec![cas_only.clone()], false), vec![]);
    assert_eq!(
        verify(&leaf, vec![cas_only, for_root.clone()], true),
        unknown
    );
    // Only for end entities, and the leaf names no distribution point.
    let users_only = scoped(
        Some(rcgen::CrlScope::UserCertsOnly),
        "http://crl.test/a.crl",
    );
    assert_eq!(verify(&leaf, vec![users_only.clone()], false), revoked);

    // A leaf that names another distribution point than the list's.
    let mut params = rcgen::CertificateParams::new(vec![HOST.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, HOST);
    params.serial_number = Some(SerialNumber::from_slice(&[0x12, 0x34]));
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
        uris: vec!["http://crl.test/b.crl".to_owned()],
    }];
    let elsewhere = pki
        .intermediate
        .issue(params, Default::default())
        .certificate();
    assert_eq!(verify(&elsewhere, vec![users_only.clone()], false), vec![]);
    assert_eq!(
        verify(&elsewhere, vec![users_only, for_root.clone()], true),
        unknown
    );
    let same_point = scoped(None, "http://crl.test/b.crl");
    assert_eq!(verify(&elsewhere, vec![same_point], false), revoked);
}
