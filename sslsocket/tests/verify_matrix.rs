//! The verification scenario matrix: for each chain, the exact list of
//! errors Qt reports (codes, order, and the certificate each is on).
//!
//! The PKI is generated at test time. Every scenario is also checked against
//! webpki directly: an empty list must mean webpki accepted the chain, and a
//! non-empty list never contains `NoError`.

mod common;

use common::pki::AsSslCertificate;
use std::time::{Duration, SystemTime};

use common::pki::{date, days_from_now, system_time, CaSpec, Identity, LeafSpec};
use rustls_pki_types::{CertificateDer, UnixTime};
use sslsocket::{
    verify_chain, Purpose, SslCertificate, SslConfiguration, SslError, SslErrorCode, VerifyOptions,
};
use SslErrorCode::*;

/// One row of the matrix.
struct Scenario {
    name: &'static str,
    chain: Vec<SslCertificate>,
    options: VerifyOptions,
    expected: Vec<(SslErrorCode, SslCertificate)>,
}

fn scenario(
    name: &'static str,
    chain: &[&SslCertificate],
    options: VerifyOptions,
    expected: &[(SslErrorCode, &SslCertificate)],
) -> Scenario {
    Scenario {
        name,
        chain: chain.iter().map(|&c| c.clone()).collect(),
        options,
        expected: expected
            .iter()
            .map(|(code, cert)| (*code, (*cert).clone()))
            .collect(),
    }
}

/// The shared PKI: a trusted root, an intermediate and a server leaf with
/// DNS, wildcard and IP names, plus an unrelated, untrusted hierarchy.
struct Pki {
    root: Identity,
    intermediate: Identity,
    leaf: Identity,
    unknown_root: Identity,
    unknown_intermediate: Identity,
    unknown_leaf: Identity,
}

const LEAF_NAMES: LeafSpec<'static> = LeafSpec {
    common_name: "www.example.com",
    subject: &[],
    dns: &["www.example.com", "*.wild.example.com"],
    ips: &["192.0.2.1", "2001:db8::1"],
    emails: &[],
    uris: &[],
    not_before: None,
    not_after: None,
    key: common::pki::KeyKind::EcdsaP256,
    serial: None,
    client_auth_only: false,
    server_auth_only: false,
    no_extended_key_usage: false,
    is_ca: false,
    path_len: None,
};

impl Pki {
    fn new() -> Pki {
        let root = Identity::new("Matrix Root");
        let intermediate = root.intermediate("Matrix Intermediate");
        let leaf = intermediate.leaf(&LEAF_NAMES);
        let unknown_root = Identity::new("Unknown Root");
        let unknown_intermediate = unknown_root.intermediate("Unknown Intermediate");
        let unknown_leaf = unknown_intermediate.leaf(&LEAF_NAMES);
        Pki {
            root,
            intermediate,
            leaf,
            unknown_root,
            unknown_intermediate,
            unknown_leaf,
        }
    }

    fn options(&self) -> VerifyOptions {
        VerifyOptions::new(vec![self.root.certificate()])
    }

    fn for_host(&self, host: &str) -> VerifyOptions {
        self.options().with_peer_name(host)
    }
}

/// What webpki alone says of the chain (names aside), as the library asks
/// it.
fn webpki_verdict(chain: &[SslCertificate], options: &VerifyOptions) -> Result<(), webpki::Error> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(webpki::Error::BadDer);
    };
    let anchors: Vec<_> = options
        .roots()
        .iter()
        .filter_map(|root| {
            let der = CertificateDer::from(root.to_der());
            webpki::anchor_from_trusted_cert(&der)
                .ok()
                .map(|anchor| anchor.to_owned())
        })
        .collect();
    let leaf_der = CertificateDer::from(leaf.to_der());
    let leaf = webpki::EndEntityCert::try_from(&leaf_der)?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.to_der()))
        .collect();
    let usage = match options.purpose() {
        Purpose::ServerAuth => webpki::KeyUsage::server_auth(),
        Purpose::ClientAuth => webpki::KeyUsage::client_auth(),
    };
    let time = options
        .time()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let algorithms = rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all;
    leaf.verify_for_usage(
        algorithms,
        &anchors,
        &intermediates,
        UnixTime::since_unix_epoch(time),
        usage,
        None,
        None,
    )
    .map(|_| ())
}

fn describe(list: &[(SslErrorCode, Option<SslCertificate>)]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|(code, cert)| match cert {
            Some(cert) => format!("{code:?} on {:?}", cert.subject_display_name()),
            None => format!("{code:?}"),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Runs every scenario and fails with one report listing all mismatches.
fn check(scenarios: Vec<Scenario>) {
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let errors = verify_chain(&scenario.chain, &scenario.options);
        let got: Vec<(SslErrorCode, Option<SslCertificate>)> = errors
            .iter()
            .map(|e| (e.code(), e.certificate().cloned()))
            .collect();
        let wanted: Vec<(SslErrorCode, Option<SslCertificate>)> = scenario
            .expected
            .iter()
            .map(|(code, cert)| (*code, Some(cert.clone())))
            .collect();
        if got != wanted {
            let details: Vec<&str> = errors.iter().filter_map(SslError::detail).collect();
            failures.push(format!(
                "{}:\n    expected {}\n    got      {} {details:?}\n    webpki   {:?}",
                scenario.name,
                describe(&wanted),
                describe(&got),
                webpki_verdict(&scenario.chain, &scenario.options)
            ));
        }
        check_invariants(
            scenario.name,
            &scenario.chain,
            &scenario.options,
            &errors,
            &mut failures,
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n")
    );
}

fn check_invariants(
    name: &str,
    chain: &[SslCertificate],
    options: &VerifyOptions,
    errors: &[SslError],
    failures: &mut Vec<String>,
) {
    let accepted = webpki_verdict(chain, options).is_ok();
    if errors.is_empty() && !accepted {
        failures.push(format!("{name}: empty list, but webpki rejects the chain"));
    }
    if errors.iter().any(|e| e.code() == NoError) {
        failures.push(format!("{name}: the list contains NoError"));
    }
}

/// Every row of Qt's table (QT_SEMANTICS.md, "Errors: when, which, in what
/// order").
#[test]
fn qt_table() {
    let pki = Pki::new();
    let (root, inter, leaf) = (
        pki.root.certificate(),
        pki.intermediate.certificate(),
        pki.leaf.certificate(),
    );

    let self_signed = Identity::self_signed(&LEAF_NAMES).certificate();
    let expired = pki
        .intermediate
        .leaf(&LeafSpec {
            not_before: Some(days_from_now(-30)),
            not_after: Some(days_from_now(-1)),
            ..LEAF_NAMES
        })
        .certificate();
    let not_yet_valid = pki
        .intermediate
        .leaf(&LeafSpec {
            not_before: Some(days_from_now(1)),
            not_after: Some(days_from_now(30)),
            ..LEAF_NAMES
        })
        .certificate();
    let client_only = pki
        .intermediate
        .leaf(&LeafSpec {
            client_auth_only: true,
            ..LEAF_NAMES
        })
        .certificate();
    let not_a_ca = pki.intermediate.leaf(&LeafSpec {
        common_name: "Not A CA",
        dns: &[],
        ips: &[],
        ..LEAF_NAMES
    });
    let below_not_a_ca = not_a_ca.leaf(&LEAF_NAMES).certificate();
    let not_a_ca = not_a_ca.certificate();
    let path_len_0 = pki.root.intermediate_with(
        "Path Length 0",
        &CaSpec {
            path_len: Some(0),
            ..CaSpec::default()
        },
    );
    let below_path_len_0 = path_len_0.intermediate("Below Path Length 0");
    let too_deep = below_path_len_0.leaf(&LEAF_NAMES).certificate();
    let (path_len_0, below_path_len_0) = (path_len_0.certificate(), below_path_len_0.certificate());
    let (unknown_root, unknown_inter, unknown_leaf) = (
        pki.unknown_root.certificate(),
        pki.unknown_intermediate.certificate(),
        pki.unknown_leaf.certificate(),
    );
    let direct_unknown_leaf = pki.unknown_root.leaf(&LEAF_NAMES).certificate();

    check(vec![
        scenario(
            "valid chain, DNS SAN",
            &[&leaf, &inter],
            pki.for_host("www.example.com"),
            &[],
        ),
        scenario(
            "valid chain, IPv4 SAN",
            &[&leaf, &inter],
            pki.for_host("192.0.2.1"),
            &[],
        ),
        scenario(
            "valid chain, IPv6 SAN",
            &[&leaf, &inter],
            pki.for_host("2001:db8::1"),
            &[],
        ),
        scenario(
            "valid chain, wildcard one label deep",
            &[&leaf, &inter],
            pki.for_host("a.wild.example.com"),
            &[],
        ),
        scenario(
            "valid chain, no name given",
            &[&leaf, &inter],
            pki.options(),
            &[],
        ),
        scenario(
            "right chain, wrong name",
            &[&leaf, &inter],
            pki.for_host("other.example.com"),
            &[(HostNameMismatch, &leaf)],
        ),
        scenario(
            "self-signed leaf, not trusted",
            &[&self_signed],
            pki.for_host("www.example.com"),
            &[(SelfSignedCertificate, &self_signed)],
        ),
        scenario(
            "self-signed leaf, wrong name",
            &[&self_signed],
            pki.for_host("other.example.com"),
            &[
                (HostNameMismatch, &self_signed),
                (SelfSignedCertificate, &self_signed),
            ],
        ),
        scenario(
            "expired leaf",
            &[&expired, &inter],
            pki.for_host("www.example.com"),
            &[(CertificateExpired, &expired)],
        ),
        scenario(
            "not yet valid leaf",
            &[&not_yet_valid, &inter],
            pki.for_host("www.example.com"),
            &[(CertificateNotYetValid, &not_yet_valid)],
        ),
        scenario(
            "leaf from an unknown CA",
            &[&direct_unknown_leaf],
            pki.for_host("www.example.com"),
            &[
                (UnableToGetLocalIssuerCertificate, &direct_unknown_leaf),
                (UnableToVerifyFirstCertificate, &direct_unknown_leaf),
            ],
        ),
        scenario(
            "intermediate missing",
            &[&leaf],
            pki.for_host("www.example.com"),
            &[
                (UnableToGetLocalIssuerCertificate, &leaf),
                (UnableToVerifyFirstCertificate, &leaf),
            ],
        ),
        scenario(
            "intermediate missing, the trusted root sent instead",
            &[&leaf, &root],
            pki.for_host("www.example.com"),
            &[
                (UnableToGetLocalIssuerCertificate, &leaf),
                (UnableToVerifyFirstCertificate, &leaf),
            ],
        ),
        scenario(
            "peer also sends an untrusted self-signed root",
            &[&unknown_leaf, &unknown_inter, &unknown_root],
            pki.for_host("www.example.com"),
            &[(SelfSignedCertificateInChain, &unknown_root)],
        ),
        scenario(
            "peer sends leaf and its untrusted self-signed root",
            &[&direct_unknown_leaf, &unknown_root],
            pki.for_host("www.example.com"),
            &[(SelfSignedCertificateInChain, &unknown_root)],
        ),
        scenario(
            "chain ends at an intermediate whose root is not trusted",
            &[&unknown_leaf, &unknown_inter],
            pki.for_host("www.example.com"),
            &[(UnableToGetLocalIssuerCertificate, &unknown_inter)],
        ),
        scenario(
            "leaf with EKU clientAuth only, verified for a server",
            &[&client_only, &inter],
            pki.for_host("www.example.com"),
            &[(InvalidPurpose, &client_only)],
        ),
        scenario(
            "issued by a certificate that is not a CA",
            &[&below_not_a_ca, &not_a_ca, &inter],
            pki.for_host("www.example.com"),
            &[
                (InvalidCaCertificate, &not_a_ca),
                (InvalidPurpose, &not_a_ca),
            ],
        ),
        scenario(
            "intermediate path length constraint violated",
            &[&too_deep, &below_path_len_0, &path_len_0],
            pki.for_host("www.example.com"),
            &[(PathLengthExceeded, &path_len_0)],
        ),
        scenario(
            "chain longer than the depth limit",
            &[&leaf, &inter],
            pki.for_host("www.example.com").with_max_depth(2),
            &[(UnspecifiedError, &root)],
        ),
    ]);
}

/// Several problems at once, in Qt's order.
#[test]
fn combined_problems() {
    let pki = Pki::new();
    let inter = pki.intermediate.certificate();
    let past = LeafSpec {
        not_before: Some(days_from_now(-30)),
        not_after: Some(days_from_now(-1)),
        ..LEAF_NAMES
    };
    let expired = pki.intermediate.leaf(&past).certificate();
    let expired_self_signed = Identity::self_signed(&past).certificate();
    let expired_unknown = pki.unknown_root.leaf(&past).certificate();
    let expired_intermediate = pki.root.intermediate_with(
        "Expired Intermediate",
        &CaSpec {
            not_before: Some(days_from_now(-60)),
            not_after: Some(days_from_now(-1)),
            ..CaSpec::default()
        },
    );
    let below_expired_intermediate = expired_intermediate.leaf(&LEAF_NAMES).certificate();
    let expired_intermediate = expired_intermediate.certificate();
    let not_a_ca = pki.intermediate.leaf(&LeafSpec {
        common_name: "Not A CA",
        dns: &[],
        ips: &[],
        ..LEAF_NAMES
    });
    let expired_below_not_a_ca = not_a_ca.leaf(&past).certificate();
    let not_a_ca = not_a_ca.certificate();
    let expired_client_only = pki
        .unknown_root
        .leaf(&LeafSpec {
            client_auth_only: true,
            ..past.clone()
        })
        .certificate();

    check(vec![
        scenario(
            "expired and wrong host",
            &[&expired, &inter],
            pki.for_host("other.example.com"),
            &[(HostNameMismatch, &expired), (CertificateExpired, &expired)],
        ),
        scenario(
            "self-signed and expired",
            &[&expired_self_signed],
            pki.for_host("www.example.com"),
            &[
                (SelfSignedCertificate, &expired_self_signed),
                (CertificateExpired, &expired_self_signed),
            ],
        ),
        scenario(
            "self-signed, expired and wrong host",
            &[&expired_self_signed],
            pki.for_host("other.example.com"),
            &[
                (HostNameMismatch, &expired_self_signed),
                (SelfSignedCertificate, &expired_self_signed),
                (CertificateExpired, &expired_self_signed),
            ],
        ),
        scenario(
            "unknown CA and expired",
            &[&expired_unknown],
            pki.for_host("www.example.com"),
            &[
                (UnableToGetLocalIssuerCertificate, &expired_unknown),
                (UnableToVerifyFirstCertificate, &expired_unknown),
                (CertificateExpired, &expired_unknown),
            ],
        ),
        scenario(
            "unknown CA, client-only EKU and expired: purpose before the first-certificate error",
            &[&expired_client_only],
            pki.options(),
            &[
                (UnableToGetLocalIssuerCertificate, &expired_client_only),
                (InvalidPurpose, &expired_client_only),
                (UnableToVerifyFirstCertificate, &expired_client_only),
                (CertificateExpired, &expired_client_only),
            ],
        ),
        scenario(
            "expired intermediate",
            &[&below_expired_intermediate, &expired_intermediate],
            pki.for_host("www.example.com"),
            &[(CertificateExpired, &expired_intermediate)],
        ),
        scenario(
            "not a CA, then others",
            &[&expired_below_not_a_ca, &not_a_ca, &inter],
            pki.for_host("other.example.com"),
            &[
                (HostNameMismatch, &expired_below_not_a_ca),
                (InvalidCaCertificate, &not_a_ca),
                (InvalidPurpose, &not_a_ca),
                (CertificateExpired, &expired_below_not_a_ca),
            ],
        ),
        scenario(
            "too deep and wrong host",
            &[&pki.leaf.certificate(), &inter],
            pki.for_host("other.example.com").with_max_depth(1),
            &[
                (HostNameMismatch, &pki.leaf.certificate()),
                (UnspecifiedError, &inter),
            ],
        ),
    ]);
}

/// Host names: wildcard depth, IP against DNS names.
#[test]
fn names() {
    let pki = Pki::new();
    let (leaf, inter) = (pki.leaf.certificate(), pki.intermediate.certificate());
    let dns_only = pki
        .intermediate
        .leaf(&LeafSpec {
            dns: &["www.example.com"],
            ips: &[],
            ..LEAF_NAMES
        })
        .certificate();

    let mismatch = |name: &'static str, host: &str, cert: &SslCertificate| {
        scenario(
            name,
            &[cert, &inter],
            pki.for_host(host),
            &[(HostNameMismatch, cert)],
        )
    };
    check(vec![
        scenario(
            "wildcard, one label deep",
            &[&leaf, &inter],
            pki.for_host("x.wild.example.com"),
            &[],
        ),
        mismatch("wildcard, two labels deep", "a.b.wild.example.com", &leaf),
        mismatch("wildcard, the base name", "wild.example.com", &leaf),
        scenario(
            "trailing dot and upper case",
            &[&leaf, &inter],
            pki.for_host("WWW.Example.COM."),
            &[],
        ),
        mismatch("IPv4 peer not in the certificate", "192.0.2.2", &leaf),
        mismatch(
            "IPv4 peer against a DNS-only certificate",
            "192.0.2.1",
            &dns_only,
        ),
        mismatch(
            "IPv6 peer against a DNS-only certificate",
            "2001:db8::1",
            &dns_only,
        ),
        scenario(
            "DNS peer against a DNS-only certificate",
            &[&dns_only, &inter],
            pki.for_host("www.example.com"),
            &[],
        ),
        mismatch("not a host name at all", "www example com", &leaf),
    ]);
}

/// Depth limits: the path counts leaf, intermediates and root; a
/// self-issued intermediate (key rollover) is not counted again.
#[test]
fn depth_limits() {
    let pki = Pki::new();
    let (root, inter, leaf) = (
        pki.root.certificate(),
        pki.intermediate.certificate(),
        pki.leaf.certificate(),
    );
    let second = pki.intermediate.intermediate("Second Intermediate");
    let deep_leaf = second.leaf(&LEAF_NAMES).certificate();
    let second = second.certificate();
    // Key rollover: the root's new key, certified by the old one under the
    // same name (a self-issued intermediate), issues the intermediate.
    let new_root_key = pki.root.intermediate("Matrix Root");
    let rolled_intermediate = new_root_key.intermediate("Rolled Intermediate");
    let rolled_leaf = rolled_intermediate.leaf(&LEAF_NAMES).certificate();
    let (new_root_key, rolled_intermediate) = (
        new_root_key.certificate(),
        rolled_intermediate.certificate(),
    );
    let host = "www.example.com";

    check(vec![
        scenario(
            "no limit",
            &[&leaf, &inter],
            pki.for_host(host).with_max_depth(0),
            &[],
        ),
        scenario(
            "exactly at the limit",
            &[&leaf, &inter],
            pki.for_host(host).with_max_depth(3),
            &[],
        ),
        scenario(
            "under the limit",
            &[&leaf, &inter],
            pki.for_host(host).with_max_depth(4),
            &[],
        ),
        scenario(
            "one over the limit",
            &[&leaf, &inter],
            pki.for_host(host).with_max_depth(2),
            &[(UnspecifiedError, &root)],
        ),
        scenario(
            "two over the limit",
            &[&leaf, &inter],
            pki.for_host(host).with_max_depth(1),
            &[(UnspecifiedError, &inter)],
        ),
        scenario(
            "four certificates, limit four",
            &[&deep_leaf, &second, &inter],
            pki.for_host(host).with_max_depth(4),
            &[],
        ),
        scenario(
            "four certificates, limit three",
            &[&deep_leaf, &second, &inter],
            pki.for_host(host).with_max_depth(3),
            &[(UnspecifiedError, &root)],
        ),
        scenario(
            "a self-issued intermediate counts once",
            &[&rolled_leaf, &rolled_intermediate, &new_root_key],
            pki.for_host(host).with_max_depth(3),
            &[],
        ),
        scenario(
            "a self-issued intermediate, limit two",
            &[&rolled_leaf, &rolled_intermediate, &new_root_key],
            pki.for_host(host).with_max_depth(2),
            &[(UnspecifiedError, &root)],
        ),
        scenario(
            // The depth error hides the missing issuer from the explanation,
            // so webpki's reason is listed too: ignoring the depth error
            // alone must not accept an untrusted chain.
            "too deep replaces the missing issuer",
            &[
                &pki.unknown_leaf.certificate(),
                &pki.unknown_intermediate.certificate(),
            ],
            pki.for_host(host).with_max_depth(1),
            &[
                (UnspecifiedError, &pki.unknown_intermediate.certificate()),
                (UnspecifiedError, &pki.unknown_leaf.certificate()),
            ],
        ),
    ]);
}

/// A fixed verification time, and the purpose.
#[test]
fn time_and_purpose() {
    let pki = Pki::new();
    let (inter, leaf) = (pki.intermediate.certificate(), pki.leaf.certificate());
    let old = pki
        .root
        .leaf(&LeafSpec {
            not_before: Some(date(2020, 1, 1)),
            not_after: Some(date(2021, 1, 1)),
            ..LEAF_NAMES
        })
        .certificate();
    let server_only = pki
        .intermediate
        .leaf(&LeafSpec {
            server_auth_only: true,
            ..LEAF_NAMES
        })
        .certificate();
    let client_only = pki
        .intermediate
        .leaf(&LeafSpec {
            client_auth_only: true,
            ..LEAF_NAMES
        })
        .certificate();
    let no_eku = pki
        .intermediate
        .leaf(&LeafSpec {
            no_extended_key_usage: true,
            ..LEAF_NAMES
        })
        .certificate();
    let in_2020 = system_time(date(2020, 6, 1));
    let in_2000 = system_time(date(2000, 1, 1));
    let host = "www.example.com";

    check(vec![
        scenario(
            "expired now",
            &[&old],
            pki.for_host(host),
            &[(CertificateExpired, &old)],
        ),
        scenario(
            "valid at a time in its validity",
            &[&old],
            pki.for_host(host).with_time(in_2020),
            &[],
        ),
        scenario(
            "expired at a later fixed time",
            &[&leaf, &inter],
            pki.for_host(host).with_time(system_time(days_from_now(60))),
            &[(CertificateExpired, &leaf)],
        ),
        scenario(
            "a valid chain before it was issued: top down",
            &[&leaf, &inter],
            pki.for_host(host).with_time(in_2000),
            &[
                (CertificateNotYetValid, &inter),
                (CertificateNotYetValid, &leaf),
            ],
        ),
        scenario(
            "client purpose, serverAuth-only leaf",
            &[&server_only, &inter],
            pki.options().with_purpose(Purpose::ClientAuth),
            &[(InvalidPurpose, &server_only)],
        ),
        scenario(
            "server purpose, serverAuth-only leaf",
            &[&server_only, &inter],
            pki.options(),
            &[],
        ),
        scenario(
            "client purpose, clientAuth-only leaf",
            &[&client_only, &inter],
            pki.options().with_purpose(Purpose::ClientAuth),
            &[],
        ),
        scenario(
            "client purpose, leaf without EKU",
            &[&no_eku, &inter],
            pki.options().with_purpose(Purpose::ClientAuth),
            &[],
        ),
        scenario(
            "client purpose, both EKUs",
            &[&leaf, &inter],
            pki.options().with_purpose(Purpose::ClientAuth),
            &[],
        ),
    ]);
}

/// Chains presented in odd shapes.
#[test]
fn chain_shapes() {
    let pki = Pki::new();
    let (root, inter) = (pki.root.certificate(), pki.intermediate.certificate());
    let second = pki.intermediate.intermediate("Second Intermediate");
    let deep_leaf = second.leaf(&LEAF_NAMES).certificate();
    let second = second.certificate();
    let unrelated_root = pki.unknown_root.certificate();
    let unrelated_leaf = Identity::self_signed(&LeafSpec {
        common_name: "unrelated",
        ..LEAF_NAMES
    })
    .certificate();
    let host = "www.example.com";

    check(vec![
        scenario(
            "intermediates in order",
            &[&deep_leaf, &second, &inter],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "intermediates out of order",
            &[&deep_leaf, &inter, &second],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "extra unrelated certificates",
            &[
                &deep_leaf,
                &unrelated_root,
                &inter,
                &unrelated_leaf,
                &second,
            ],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "trusted root presented too",
            &[&deep_leaf, &second, &inter, &root],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "intermediate presented twice",
            &[&deep_leaf, &second, &second, &inter],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "a gap in the middle",
            &[&deep_leaf, &inter],
            pki.for_host(host),
            &[
                (UnableToGetLocalIssuerCertificate, &deep_leaf),
                (UnableToVerifyFirstCertificate, &deep_leaf),
            ],
        ),
        scenario(
            "extra certificates and a wrong name",
            &[&deep_leaf, &unrelated_leaf, &second, &inter],
            pki.for_host("other.example.com"),
            &[(HostNameMismatch, &deep_leaf)],
        ),
        scenario(
            "a self-signed leaf that is trusted",
            &[&unrelated_leaf],
            VerifyOptions::new(vec![unrelated_leaf.clone()]).with_peer_name(host),
            &[],
        ),
    ]);
}

/// A copy of `cert` whose signature no longer verifies.
fn tampered(cert: &SslCertificate) -> SslCertificate {
    let mut der = cert.to_der().to_vec();
    if let Some(last) = der.last_mut() {
        *last ^= 0x01;
    }
    SslCertificate::from_der(der).expect("still parses")
}

/// Signatures that fail, impostors, and certificates webpki cannot use.
#[test]
fn signatures_and_odd_certificates() {
    let pki = Pki::new();
    let (inter, leaf) = (pki.intermediate.certificate(), pki.leaf.certificate());
    let bad_leaf = tampered(&leaf);
    let bad_inter = tampered(&inter);
    // Same name as the real intermediate, another key.
    let impostor = pki.root.intermediate("Matrix Intermediate").certificate();
    let bad_self_signed = tampered(&Identity::self_signed(&LEAF_NAMES).certificate());
    let bad_unknown_root = tampered(&pki.unknown_root.certificate());
    let (unknown_inter, unknown_leaf) = (
        pki.unknown_intermediate.certificate(),
        pki.unknown_leaf.certificate(),
    );
    let v1_inter = SslCertificate::from_der(common::pki::resign(
        &pki.intermediate.der(),
        &pki.root.key,
        |tbs| tbs.make_v1(),
    ))
    .expect("v1 certificate");
    assert_eq!(v1_inter.version(), 1);
    let host = "www.example.com";

    check(vec![
        scenario(
            "tampered leaf signature",
            &[&bad_leaf, &inter],
            pki.for_host(host),
            &[(CertificateSignatureFailed, &bad_leaf)],
        ),
        scenario(
            "tampered intermediate signature",
            &[&leaf, &bad_inter],
            pki.for_host(host),
            &[(CertificateSignatureFailed, &bad_inter)],
        ),
        scenario(
            "tampered self-signed leaf",
            &[&bad_self_signed],
            pki.for_host(host),
            &[
                (SelfSignedCertificate, &bad_self_signed),
                (CertificateSignatureFailed, &bad_self_signed),
            ],
        ),
        scenario(
            "tampered untrusted root in the chain",
            &[&unknown_leaf, &unknown_inter, &bad_unknown_root],
            pki.for_host(host),
            &[
                (SelfSignedCertificateInChain, &bad_unknown_root),
                (CertificateSignatureFailed, &bad_unknown_root),
            ],
        ),
        scenario(
            "an intermediate with the right name but another key",
            &[&leaf, &impostor],
            pki.for_host(host),
            &[
                (UnableToGetLocalIssuerCertificate, &leaf),
                (UnableToVerifyFirstCertificate, &leaf),
            ],
        ),
        scenario(
            "the impostor next to the real one",
            &[&leaf, &impostor, &inter],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "a v1 intermediate",
            &[&leaf, &v1_inter],
            pki.for_host(host),
            &[
                (InvalidCaCertificate, &v1_inter),
                (InvalidPurpose, &v1_inter),
            ],
        ),
    ]);
}

#[test]
fn empty_chain() {
    let pki = Pki::new();
    let errors = verify_chain(&[], &pki.options());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code(), UnspecifiedError);
    assert_eq!(errors[0].certificate(), None);
    assert!(SslCertificate::verify(&[], Some("www.example.com"))
        .iter()
        .map(SslError::code)
        .eq([UnspecifiedError]));
}

/// `SslCertificate::verify` uses the process default CA list. Tests in this
/// file share the process, so the root is only added to it.
#[test]
fn certificate_verify_uses_the_default_ca_list() {
    let pki = Pki::new();
    let (inter, leaf) = (pki.intermediate.certificate(), pki.leaf.certificate());
    let chain = [leaf.clone(), inter.clone()];
    let unknown = pki.unknown_root.leaf(&LEAF_NAMES).certificate();

    let before = SslCertificate::verify(&chain, Some("www.example.com"));
    assert_eq!(
        before,
        vec![SslError::with_certificate(
            UnableToGetLocalIssuerCertificate,
            inter.clone()
        ),],
        "the root is not in the default list yet"
    );

    SslConfiguration::add_default_ca_certificate(pki.root.certificate());
    assert_eq!(
        SslCertificate::verify(&chain, Some("www.example.com")),
        vec![]
    );
    assert_eq!(SslCertificate::verify(&chain, None), vec![]);
    assert_eq!(
        SslCertificate::verify(&chain, Some("other.example.com")),
        vec![SslError::with_certificate(HostNameMismatch, leaf.clone())]
    );
    assert_eq!(
        SslCertificate::verify(std::slice::from_ref(&unknown), Some("other.example.com")),
        vec![
            SslError::with_certificate(HostNameMismatch, unknown.clone()),
            SslError::with_certificate(UnableToGetLocalIssuerCertificate, unknown.clone()),
            SslError::with_certificate(UnableToVerifyFirstCertificate, unknown.clone()),
        ]
    );
}

/// A trusted root whose extended key usage excludes the purpose: webpki
/// looks only at an anchor's name and key, so this is the one check
/// sslsocket adds on an accepted path, and it must reject, not just report.
#[test]
fn a_root_restricted_to_another_purpose_is_untrusted() {
    let key_kind = common::pki::KeyKind::default();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Client-only Root");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = key_kind.generate();
    let cert = params.self_signed(&key).unwrap();
    let root = Identity {
        cert,
        key,
        params,
        key_kind,
    };
    let leaf = root.leaf(&LEAF_NAMES);
    let (root, leaf) = (root.certificate(), leaf.certificate());
    let for_server = VerifyOptions::new(vec![root.clone()]).with_peer_name("www.example.com");

    check(vec![
        scenario(
            "root EKU excludes serverAuth",
            &[&leaf],
            for_server.clone(),
            &[(CertificateUntrusted, &root)],
        ),
        scenario(
            "root EKU excludes serverAuth, wrong host",
            &[&leaf],
            VerifyOptions::new(vec![root.clone()]).with_peer_name("other.example.com"),
            &[(HostNameMismatch, &leaf), (CertificateUntrusted, &root)],
        ),
    ]);
    let for_client = VerifyOptions::new(vec![root]).with_purpose(Purpose::ClientAuth);
    assert!(
        verify_chain(&[leaf], &for_client).is_empty(),
        "the same root is fine for clients"
    );
}

/// A CA restricted to some names must not vouch for others, whether the
/// leaf names them in a subjectAltName (webpki refuses) or only in its CN
/// (webpki does not look at CNs, so the CN fallback must not apply).
#[test]
fn name_constrained_cas_cannot_vouch_for_other_names() {
    let pki = Pki::new();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Example-only CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: vec![rcgen::GeneralSubtree::DnsName("example.com".into())],
        excluded_subtrees: Vec::new(),
    });
    let constrained = pki.root.issue(params, common::pki::KeyKind::default());

    let mut cn_only = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cn_only
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bank.com");
    let cn_leaf = constrained
        .issue(cn_only, common::pki::KeyKind::default())
        .certificate();
    let with_san = constrained
        .leaf(&LeafSpec {
            common_name: "bank",
            dns: &["www.bank.com"],
            ..LeafSpec::default()
        })
        .certificate();
    let inter = constrained.certificate();
    let roots = vec![pki.root.certificate()];

    check(vec![
        scenario(
            "CN outside the constraint",
            &[&cn_leaf, &inter],
            VerifyOptions::new(roots.clone()).with_peer_name("bank.com"),
            &[(HostNameMismatch, &cn_leaf)],
        ),
        scenario(
            "SAN outside the constraint, right name",
            &[&with_san, &inter],
            VerifyOptions::new(roots.clone()).with_peer_name("www.bank.com"),
            &[(UnspecifiedError, &with_san)],
        ),
        scenario(
            "SAN outside the constraint, wrong name: the rejection stays listed",
            &[&with_san, &inter],
            VerifyOptions::new(roots.clone()).with_peer_name("other.example.com"),
            &[(HostNameMismatch, &with_san), (UnspecifiedError, &with_san)],
        ),
    ]);
}

/// A certificate made by the `openssl` tool in `dir` from `subject` with a
/// new key (`key_options`, as for `req -newkey`) and the extensions in
/// `extensions` (an extfile), signed by `issuer` (certificate and key
/// files) with `digest`.
fn openssl_issued(
    dir: &std::path::Path,
    name: &str,
    key_options: &str,
    extensions: &str,
    issuer: (&str, &str),
    digest: &str,
) -> SslCertificate {
    use common::openssl::openssl;
    let (key, csr, ext, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
        format!("{name}.pem"),
    );
    std::fs::write(dir.join(&ext), extensions).unwrap();
    openssl(
        &[
            "req",
            "-new",
            "-newkey",
            key_options,
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            issuer.0,
            "-CAkey",
            issuer.1,
            "-days",
            "30",
            &format!("-{digest}"),
            "-set_serial",
            "4711",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
        dir,
    );
    let pem = std::fs::read(dir.join(&pem)).unwrap();
    SslCertificate::from_pem(pem).unwrap().remove(0)
}

const OPENSSL_LEAF_EXTENSIONS: &str = "subjectAltName=DNS:www.example.com\n\
    basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n\
    authorityKeyIdentifier=keyid\n";
const OPENSSL_CA_EXTENSIONS: &str = "basicConstraints=critical,CA:TRUE\n\
    keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n\
    authorityKeyIdentifier=keyid\n";

/// The DER of the AlgorithmIdentifier ecdsa-with-SHA256 (what the matrix's
/// P-256 keys sign with) and one with a last arc changed.
fn ecdsa_algorithm(last_arc: u8) -> Vec<u8> {
    common::pki::tlv(
        0x30,
        &common::pki::tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, last_arc]),
    )
}

/// `der` with every occurrence of `from` replaced by `to` (same length).
fn replaced(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = der.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}

/// One scenario per reason webpki can reject a certificate for, each with
/// the list the mapping table (docs/QT_MAPPING.md, D21) gives.
#[test]
fn webpki_rejection_reasons() {
    let pki = Pki::new();
    let (root, inter) = (pki.root.certificate(), pki.intermediate.certificate());
    let host = "www.example.com";
    let dir = tempfile::TempDir::new().unwrap();
    let path = |name: &str, contents: String| common::pki::write(dir.path(), name, contents);
    path("root.pem", pki.root.pem());
    path("root.key", pki.root.key_pem());
    path("inter.pem", pki.intermediate.pem());
    path("inter.key", pki.intermediate.key_pem());

    let ca_leaf = pki
        .intermediate
        .leaf(&LeafSpec {
            is_ca: true,
            ..LEAF_NAMES
        })
        .certificate();
    let self_signed_ca = Identity::self_signed(&LeafSpec {
        is_ca: true,
        ..LEAF_NAMES
    })
    .certificate();
    let v1_leaf = SslCertificate::from_der(common::pki::resign(
        &pki.leaf.der(),
        &pki.intermediate.key,
        |tbs| tbs.make_v1(),
    ))
    .unwrap();
    let mut no_basic_constraints = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    no_basic_constraints
        .distinguished_name
        .push(rcgen::DnType::CommonName, "No Basic Constraints");
    no_basic_constraints.is_ca = rcgen::IsCa::NoCa;
    no_basic_constraints.use_authority_key_identifier_extension = true;
    let no_basic_constraints = pki.root.issue(no_basic_constraints, Default::default());
    let below_no_basic_constraints = no_basic_constraints.leaf(&LEAF_NAMES).certificate();
    let no_basic_constraints = no_basic_constraints.certificate();

    let with_extension = |issuer: &Identity, critical_oid: &[u64], content: Vec<u8>, ca: bool| {
        let mut params = rcgen::CertificateParams::new(vec![host.to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Odd Extension");
        if ca {
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        }
        params.use_authority_key_identifier_extension = true;
        let mut extension = rcgen::CustomExtension::from_oid_content(critical_oid, content);
        extension.set_criticality(true);
        params.custom_extensions.push(extension);
        issuer.issue(params, Default::default())
    };
    let empty_eku =
        with_extension(&pki.intermediate, &[2, 5, 29, 37], vec![0x30, 0x00], false).certificate();
    let unknown_critical_leaf = with_extension(
        &pki.intermediate,
        &[1, 3, 6, 1, 4, 1, 99999, 1],
        vec![0x05, 0x00],
        false,
    )
    .certificate();
    let unknown_critical_inter = with_extension(
        &pki.root,
        &[1, 3, 6, 1, 4, 1, 99999, 1],
        vec![0x05, 0x00],
        true,
    );
    let below_unknown_critical_inter = unknown_critical_inter.leaf(&LEAF_NAMES).certificate();
    let unknown_critical_inter = unknown_critical_inter.certificate();

    let sha1_leaf = openssl_issued(
        dir.path(),
        "sha1-leaf",
        "ed25519",
        OPENSSL_LEAF_EXTENSIONS,
        ("inter.pem", "inter.key"),
        "sha1",
    );
    let unknown_algorithm = SslCertificate::from_der(replaced(
        &pki.leaf.der(),
        &ecdsa_algorithm(2),
        &ecdsa_algorithm(9),
    ))
    .unwrap();
    let mismatched_algorithms = SslCertificate::from_der(common::pki::resign(
        &pki.leaf.der(),
        &pki.intermediate.key,
        |tbs| tbs.set_signature_algorithm(ecdsa_algorithm(3)),
    ))
    .unwrap();

    common::openssl::openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "weak-root.key",
            "-out",
            "weak-root.pem",
            "-subj",
            "/CN=Weak Root",
            "-days",
            "30",
            "-sha256",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        dir.path(),
    );
    let weak_root =
        SslCertificate::from_pem(std::fs::read(dir.path().join("weak-root.pem")).unwrap())
            .unwrap()
            .remove(0);
    let below_weak_root = openssl_issued(
        dir.path(),
        "below-weak-root",
        "ed25519",
        OPENSSL_LEAF_EXTENSIONS,
        ("weak-root.pem", "weak-root.key"),
        "sha256",
    );
    let weak_inter = openssl_issued(
        dir.path(),
        "weak-inter",
        "rsa:1024",
        OPENSSL_CA_EXTENSIONS,
        ("root.pem", "root.key"),
        "sha256",
    );
    let below_weak_inter = openssl_issued(
        dir.path(),
        "below-weak-inter",
        "ed25519",
        OPENSSL_LEAF_EXTENSIONS,
        ("weak-inter.pem", "weak-inter.key"),
        "sha256",
    );

    let backwards = pki
        .intermediate
        .leaf(&LeafSpec {
            not_before: Some(days_from_now(10)),
            not_after: Some(days_from_now(-10)),
            ..LEAF_NAMES
        })
        .certificate();
    let long_serial = SslCertificate::from_der(common::pki::resign(
        &pki.leaf.der(),
        &pki.intermediate.key,
        |tbs| tbs.set_serial(&[0x42; 21]),
    ))
    .unwrap();

    // Seven intermediates: one more than webpki follows.
    let mut cas = vec![pki.root.intermediate("Level 1")];
    for level in 2..=7 {
        let next = cas.last().unwrap().intermediate(&format!("Level {level}"));
        cas.push(next);
    }
    let deep_leaf = cas.last().unwrap().leaf(&LEAF_NAMES).certificate();
    let mut deep_chain: Vec<SslCertificate> = vec![deep_leaf.clone()];
    deep_chain.extend(cas.iter().rev().map(|ca| ca.certificate()));
    let level_1 = cas[0].certificate();

    // More same-named candidates than webpki checks signatures for.
    let impostors: Vec<SslCertificate> = (0..101)
        .map(|_| pki.root.intermediate("Matrix Intermediate").certificate())
        .collect();
    let mut crowded = vec![pki.leaf.certificate()];
    crowded.extend(impostors.iter().cloned());
    let leaf = pki.leaf.certificate();

    // Name constraints webpki cannot apply, and more names than it compares.
    let constrained = |subtrees: Vec<rcgen::GeneralSubtree>| {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Constrained CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.use_authority_key_identifier_extension = true;
        params.name_constraints = Some(rcgen::NameConstraints {
            permitted_subtrees: subtrees,
            excluded_subtrees: Vec::new(),
        });
        pki.root.issue(params, Default::default())
    };
    let bad_mask = constrained(vec![rcgen::GeneralSubtree::IpAddress(
        rcgen::CidrSubnet::V4([192, 0, 2, 0], [255, 0, 255, 0]),
    )]);
    let below_bad_mask = bad_mask.leaf(&LEAF_NAMES).certificate();
    let bad_mask = bad_mask.certificate();
    let malformed_constraint = constrained(vec![rcgen::GeneralSubtree::DnsName(
        "example..com".to_owned(),
    )]);
    let below_malformed_constraint = malformed_constraint.leaf(&LEAF_NAMES).certificate();
    let malformed_constraint = malformed_constraint.certificate();
    let example_only = constrained(vec![rcgen::GeneralSubtree::DnsName(
        "example.com".to_owned(),
    )]);
    let malformed_name = example_only
        .leaf(&LeafSpec {
            dns: &["www..example.com", "www.example.com"],
            ips: &[],
            ..LEAF_NAMES
        })
        .certificate();
    let example_only = example_only.certificate();
    let many_subtrees = constrained(
        (0..600)
            .map(|i| rcgen::GeneralSubtree::DnsName(format!("zone{i}.example.com")))
            .collect(),
    );
    let many_names: Vec<String> = (0..500)
        .map(|i| format!("host{i}.zone599.example.com"))
        .collect();
    let many_names: Vec<&str> = many_names.iter().map(String::as_str).collect();
    let below_many_subtrees = many_subtrees
        .leaf(&LeafSpec {
            dns: &many_names,
            ips: &[],
            ..LEAF_NAMES
        })
        .certificate();
    let many_subtrees = many_subtrees.certificate();

    // Malformed in ways the crate's parser reads and webpki does not.
    let duplicate_extension = with_extension(
        &pki.intermediate,
        &[2, 5, 29, 17],
        common::pki::tlv(0x30, &common::pki::tlv(0x82, host.as_bytes())),
        false,
    )
    .certificate();

    let mut no_cert_sign = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    no_cert_sign
        .distinguished_name
        .push(rcgen::DnType::CommonName, "No keyCertSign");
    no_cert_sign.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    no_cert_sign.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    no_cert_sign.use_authority_key_identifier_extension = true;
    let no_cert_sign = pki.root.issue(no_cert_sign, Default::default());
    let below_no_cert_sign = no_cert_sign.leaf(&LEAF_NAMES).certificate();
    let no_cert_sign = no_cert_sign.certificate();

    let mut scenarios = vec![
        scenario(
            "an intermediate whose key usage lacks keyCertSign: webpki does not look",
            &[&below_no_cert_sign, &no_cert_sign],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "InvalidNetworkMaskConstraint: a CA with a mask that is not a prefix",
            &[&below_bad_mask, &bad_mask],
            pki.for_host("192.0.2.1"),
            &[(UnspecifiedError, &bad_mask)],
        ),
        scenario(
            "MalformedNameConstraint: a CA constrained to a malformed DNS name",
            &[&below_malformed_constraint, &malformed_constraint],
            pki.for_host(host),
            &[(UnspecifiedError, &malformed_constraint)],
        ),
        scenario(
            "MalformedDnsIdentifier: a malformed DNS name below a name-constrained CA",
            &[&malformed_name, &example_only],
            pki.for_host(host),
            &[(UnspecifiedError, &malformed_name)],
        ),
        scenario(
            "MaximumNameConstraintComparisonsExceeded",
            &[&below_many_subtrees, &many_subtrees],
            pki.for_host("host1.zone599.example.com"),
            &[(UnspecifiedError, &below_many_subtrees)],
        ),
        scenario(
            "ExtensionValueInvalid: two subjectAltName extensions",
            &[&duplicate_extension, &inter],
            pki.options(),
            &[(UnspecifiedError, &duplicate_extension)],
        ),
        scenario(
            "CaUsedAsEndEntity: a CA certificate as the leaf",
            &[&ca_leaf, &inter],
            pki.for_host(host),
            &[(InvalidPurpose, &ca_leaf)],
        ),
        scenario(
            "CaUsedAsEndEntity: the trusted root as the leaf",
            &[&root],
            pki.options(),
            &[(InvalidPurpose, &root)],
        ),
        scenario(
            "CaUsedAsEndEntity: an untrusted self-signed CA as the leaf",
            &[&self_signed_ca],
            pki.for_host(host),
            &[
                (SelfSignedCertificate, &self_signed_ca),
                (InvalidPurpose, &self_signed_ca),
            ],
        ),
        scenario(
            "UnsupportedCertVersion: a v1 leaf",
            &[&v1_leaf, &inter],
            pki.options(),
            &[(InvalidPurpose, &v1_leaf)],
        ),
        scenario(
            "EndEntityUsedAsCa: an intermediate without basicConstraints",
            &[&below_no_basic_constraints, &no_basic_constraints],
            pki.for_host(host),
            &[
                (InvalidCaCertificate, &no_basic_constraints),
                (InvalidPurpose, &no_basic_constraints),
            ],
        ),
        scenario(
            "EmptyEkuExtension",
            &[&empty_eku, &inter],
            pki.for_host(host),
            &[(InvalidPurpose, &empty_eku)],
        ),
        scenario(
            "UnsupportedCriticalExtension on the leaf (which webpki then finds valid for no name)",
            &[&unknown_critical_leaf, &inter],
            pki.for_host(host),
            &[
                (HostNameMismatch, &unknown_critical_leaf),
                (UnspecifiedError, &unknown_critical_leaf),
            ],
        ),
        scenario(
            "UnsupportedCriticalExtension on the intermediate",
            &[&below_unknown_critical_inter, &unknown_critical_inter],
            pki.for_host(host),
            &[(UnspecifiedError, &unknown_critical_inter)],
        ),
        scenario(
            "UnsupportedSignatureAlgorithm: ecdsa-with-SHA1",
            &[&sha1_leaf, &inter],
            pki.for_host(host),
            &[(CertificateSignatureFailed, &sha1_leaf)],
        ),
        scenario(
            "UnsupportedSignatureAlgorithm: an unknown algorithm",
            &[&unknown_algorithm, &inter],
            pki.for_host(host),
            &[(CertificateSignatureFailed, &unknown_algorithm)],
        ),
        scenario(
            "SignatureAlgorithmMismatch",
            &[&mismatched_algorithms, &inter],
            pki.options(),
            &[(CertificateSignatureFailed, &mismatched_algorithms)],
        ),
        scenario(
            "InvalidSignatureForPublicKey: a trusted root with a 1024-bit RSA key",
            &[&below_weak_root],
            VerifyOptions::new(vec![weak_root.clone()]).with_peer_name(host),
            &[(CertificateUntrusted, &weak_root)],
        ),
        scenario(
            "InvalidSignatureForPublicKey: an intermediate with a 1024-bit RSA key",
            &[&below_weak_inter, &weak_inter],
            pki.for_host(host),
            &[(InvalidCaCertificate, &weak_inter)],
        ),
        scenario(
            "InvalidCertValidity: notBefore after notAfter",
            &[&backwards, &inter],
            pki.for_host(host),
            &[
                (CertificateNotYetValid, &backwards),
                (CertificateExpired, &backwards),
            ],
        ),
        scenario(
            "a 21-byte serial number: webpki is lenient, as RFC 5280 asks",
            &[&long_serial, &inter],
            pki.for_host(host),
            &[],
        ),
        scenario(
            "MaximumSignatureChecksExceeded",
            &[],
            pki.for_host(host),
            &[
                (UnableToGetLocalIssuerCertificate, &leaf),
                (UnableToVerifyFirstCertificate, &leaf),
                (UnspecifiedError, &leaf),
            ],
        ),
        scenario(
            "MaximumPathDepthExceeded: seven intermediates",
            &[],
            pki.for_host(host),
            &[(UnspecifiedError, &level_1)],
        ),
    ];
    let n = scenarios.len();
    scenarios[n - 2].chain = crowded;
    scenarios[n - 1].chain = deep_chain;
    // Each scenario is named after the reason webpki gives.
    for scenario in &scenarios {
        let reason = scenario.name.split([':', ' ']).next().unwrap_or_default();
        if reason.starts_with(char::is_uppercase) {
            let verdict = format!("{:?}", webpki_verdict(&scenario.chain, &scenario.options));
            assert!(
                verdict.starts_with(&format!("Err({reason}")),
                "{}: webpki says {verdict}",
                scenario.name
            );
        }
    }
    check(scenarios);
}
