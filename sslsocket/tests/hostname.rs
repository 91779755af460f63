//! Host-name matching through `verify_chain`, on real chains: a trusted CA
//! and leaves with DNS and IP subjectAltNames, CNs, wildcards of every kind,
//! IDN names and trailing dots. A valid chain for the right name gives no
//! error; for a wrong name, exactly `[HostNameMismatch]` on the leaf. By
//! default webpki decides; what Qt's rules accept beyond it (the CN
//! fallback, partial-label wildcards, entries with a trailing dot) is
//! accepted only with the dangerous opt-in.

mod common;

use common::memory::{configuration_with_identity, handshake, pair};
use common::pki::AsSslCertificate;
use common::pki::{days_from_now, encode_name, resign, tlv, Ca, Identity, KeyKind, Leaf, LeafSpec};
use rcgen::{CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa};
use sslsocket::{
    verify_chain, Error, SslCertificate, SslConfiguration, SslError, SslErrorCode, SslSocket,
    VerifyOptions,
};

const CN: &str = "2.5.4.3";

struct Pki {
    ca: Ca,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            ca: Identity::new("Host-name Test CA"),
        }
    }

    fn leaf(&self, common_name: &str, dns: &[&str], ips: &[&str]) -> SslCertificate {
        self.ca
            .leaf(&LeafSpec {
                common_name,
                dns,
                ips,
                ..LeafSpec::default()
            })
            .certificate()
    }

    fn errors(&self, leaf: &SslCertificate, name: &str, rules: Rules) -> Vec<SslError> {
        let options = VerifyOptions::new(vec![self.ca.certificate()])
            .with_peer_name(name)
            .with_dangerous_qt_host_name_matching(rules == Rules::Qt);
        verify_chain(std::slice::from_ref(leaf), &options)
    }

    /// The chain is valid for `name` (by webpki, so with Qt's rules too).
    #[track_caller]
    fn accepts(&self, leaf: &SslCertificate, name: &str) {
        self.accepts_by(leaf, name, Rules::Webpki);
        self.accepts_by(leaf, name, Rules::Qt);
    }

    /// The chain is valid, but not for `name`, by either rules.
    #[track_caller]
    fn rejects(&self, leaf: &SslCertificate, name: &str) {
        self.rejects_by(leaf, name, Rules::Webpki);
        self.rejects_by(leaf, name, Rules::Qt);
    }

    /// webpki refuses `name`; only the dangerous opt-in for Qt's rules
    /// accepts it.
    #[track_caller]
    fn only_qt_accepts(&self, leaf: &SslCertificate, name: &str) {
        self.rejects_by(leaf, name, Rules::Webpki);
        self.accepts_by(leaf, name, Rules::Qt);
    }

    #[track_caller]
    fn accepts_by(&self, leaf: &SslCertificate, name: &str, rules: Rules) {
        let errors = self.errors(leaf, name, rules);
        assert!(
            errors.is_empty(),
            "{rules:?}: {name:?} should match {:?}, got {}",
            leaf.subject_alternative_names(),
            describe(&errors)
        );
    }

    /// Exactly `[HostNameMismatch]`.
    #[track_caller]
    fn rejects_by(&self, leaf: &SslCertificate, name: &str, rules: Rules) {
        let errors = self.errors(leaf, name, rules);
        let expected = vec![SslError::with_certificate(
            SslErrorCode::HostNameMismatch,
            leaf.clone(),
        )];
        assert_eq!(
            errors,
            expected,
            "{rules:?}: {name:?} against {:?}: got {}",
            leaf.subject_alternative_names(),
            describe(&errors)
        );
    }
}

/// Which host-name rules `verify_chain` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// The default: webpki decides.
    Webpki,
    /// `with_dangerous_qt_host_name_matching(true)`.
    Qt,
}

fn describe(errors: &[SslError]) -> String {
    let names: Vec<String> = errors
        .iter()
        .map(|e| match e.detail() {
            Some(detail) => format!("{} ({detail})", e.code().name()),
            None => e.code().name().to_owned(),
        })
        .collect();
    format!("[{}]", names.join(", "))
}

#[test]
fn no_name_no_check() {
    let pki = Pki::new();
    let leaf = pki.leaf("", &["www.example.test"], &[]);
    let options = VerifyOptions::new(vec![pki.ca.certificate()]);
    assert!(verify_chain(&[leaf], &options).is_empty());
}

#[test]
fn dns_entries() {
    let pki = Pki::new();
    let leaf = pki.leaf("", &["www.example.test", "example.test"], &[]);
    pki.accepts(&leaf, "www.example.test");
    pki.accepts(&leaf, "example.test");
    pki.accepts(&leaf, "WWW.Example.TEST");
    pki.rejects(&leaf, "other.example.test");
    pki.rejects(&leaf, "www.example.test.other");
    pki.rejects(&leaf, "test");
    // Invalid peer names match nothing.
    pki.rejects(&leaf, "");
    pki.rejects(&leaf, "www.example.test..");
    pki.rejects(&leaf, "www .example.test");
    pki.rejects(&leaf, "*.example.test");
}

#[test]
fn ip_entries() {
    let pki = Pki::new();
    let leaf = pki.leaf(
        "192.0.2.9",
        &["ip.example.test", "192.0.2.8"],
        &["192.0.2.1", "2001:db8::1"],
    );
    pki.accepts(&leaf, "192.0.2.1");
    pki.accepts(&leaf, "2001:db8::1");
    pki.accepts(&leaf, "[2001:db8::1]");
    pki.accepts(&leaf, "2001:DB8:0:0:0:0:0:1");
    pki.accepts(&leaf, "ip.example.test");
    pki.rejects(&leaf, "192.0.2.2");
    pki.rejects(&leaf, "2001:db8::2");
    // The IPv4-mapped form is another address.
    pki.rejects(&leaf, "::ffff:192.0.2.1");
    // An address never matches a DNS entry or the CN...
    pki.rejects(&leaf, "192.0.2.8");
    pki.rejects(&leaf, "192.0.2.9");
    // ...and a DNS entry that looks like an address matches no DNS name.
    pki.rejects(&leaf, "192.0.2.8.");
}

#[test]
fn ipv6_loopback() {
    let pki = Pki::new();
    let leaf = pki.leaf("localhost", &["localhost"], &["127.0.0.1", "::1"]);
    pki.accepts(&leaf, "::1");
    pki.accepts(&leaf, "0:0:0:0:0:0:0:1");
    pki.accepts(&leaf, "[::1]");
    pki.accepts(&leaf, "127.0.0.1");
    pki.accepts(&leaf, "localhost");
    pki.rejects(&leaf, "::2");
    pki.rejects(&leaf, "127.0.0.2");
}

#[test]
fn common_name_only_without_dns_entries() {
    let pki = Pki::new();
    let cn_only = pki.leaf("cn-only.example.test", &[], &[]);
    pki.only_qt_accepts(&cn_only, "cn-only.example.test");
    pki.only_qt_accepts(&cn_only, "CN-Only.Example.Test.");
    pki.rejects(&cn_only, "other.example.test");

    // A DNS entry makes the CN irrelevant, even with Qt's rules.
    let both = pki.leaf("cn.example.test", &["san.example.test"], &[]);
    pki.accepts(&both, "san.example.test");
    pki.rejects(&both, "cn.example.test");

    // An IP entry does not.
    let cn_and_ip = pki.leaf("cn-ip.example.test", &[], &["192.0.2.3"]);
    pki.only_qt_accepts(&cn_and_ip, "cn-ip.example.test");
    pki.accepts(&cn_and_ip, "192.0.2.3");

    // A wildcard CN follows the wildcard rules.
    let wild = pki.leaf("*.cn-wild.example.test", &[], &[]);
    pki.only_qt_accepts(&wild, "www.cn-wild.example.test");
    pki.rejects(&wild, "cn-wild.example.test");

    // An address in the CN matches neither the address nor a DNS name.
    let ip_cn = pki.leaf("192.0.2.4", &[], &[]);
    pki.rejects(&ip_cn, "192.0.2.4");
}

#[test]
fn every_common_name_counts_with_qt_rules() {
    let pki = Pki::new();
    let leaf = pki.ca.leaf(&LeafSpec {
        common_name: "one.multi.example.test",
        ..LeafSpec::default()
    });
    let der = resign(&leaf.der(), &pki.ca.key, |tbs| {
        tbs.set_subject(encode_name(&[
            &[(CN, "one.multi.example.test")],
            &[(CN, "two.multi.example.test")],
        ]))
    });
    let leaf = SslCertificate::from_der(der).unwrap();
    pki.only_qt_accepts(&leaf, "one.multi.example.test");
    pki.only_qt_accepts(&leaf, "two.multi.example.test");
    pki.rejects(&leaf, "three.multi.example.test");
}

#[test]
fn whole_label_wildcards() {
    let pki = Pki::new();
    let leaf = pki.leaf("", &["*.wild.example.test"], &[]);
    pki.accepts(&leaf, "www.wild.example.test");
    pki.accepts(&leaf, "A.Wild.Example.Test.");
    pki.accepts(&leaf, "bücher.wild.example.test");
    pki.accepts(&leaf, "xn--bcher-kva.wild.example.test");
    pki.rejects(&leaf, "wild.example.test");
    pki.rejects(&leaf, "a.b.wild.example.test");
    pki.rejects(&leaf, "www.wild.example.other");
}

#[test]
fn partial_label_wildcards_only_with_qt_rules() {
    let pki = Pki::new();
    let leaf = pki.leaf("", &["www*.part.example.test"], &[]);
    pki.only_qt_accepts(&leaf, "www1.part.example.test");
    pki.only_qt_accepts(&leaf, "WWW-backup.part.example.test");
    // The `*` may match nothing, as in Qt.
    pki.only_qt_accepts(&leaf, "www.part.example.test");
    pki.rejects(&leaf, "ww.part.example.test");
    pki.rejects(&leaf, "mail.part.example.test");
    pki.rejects(&leaf, "www1.a.part.example.test");

    // The case of the issue: `ba*` for `baz`.
    let ba = pki.leaf("", &["ba*.example.com"], &[]);
    pki.only_qt_accepts(&ba, "baz.example.com");

    // A partial wildcard never matches a punycode label.
    let x = pki.leaf("", &["x*.part.example.test"], &[]);
    pki.only_qt_accepts(&x, "xyz.part.example.test");
    pki.rejects(&x, "xn--bcher-kva.part.example.test");
    pki.rejects(&x, "bücher.part.example.test");
}

#[test]
fn wildcards_that_never_match() {
    let pki = Pki::new();
    for (pattern, name) in [
        ("*", "localhost"),
        ("*.test", "example.test"),
        ("*.co", "example.co"),
        ("*www.bad.example.test", "1www.bad.example.test"),
        ("w*w.bad.example.test", "www.bad.example.test"),
        ("**.bad.example.test", "www.bad.example.test"),
        ("*.*.example.test", "a.bad.example.test"),
        ("www.*.example.test", "www.bad.example.test"),
        ("xn--*.bad.example.test", "xn--bcher-kva.bad.example.test"),
        (
            "xn--bcher*.bad.example.test",
            "xn--bcher-kva.bad.example.test",
        ),
        ("*.0.2.1", "192.0.2.1"),
    ] {
        let leaf = pki.leaf("", &[pattern], &[]);
        pki.rejects(&leaf, name);
    }
    // An address never matches a wildcard.
    let leaf = pki.leaf("", &["*.0.2.1", "*.example.test"], &[]);
    pki.rejects(&leaf, "192.0.2.1");
}

#[test]
fn idn_entry_in_punycode() {
    let pki = Pki::new();
    let leaf = pki.leaf(
        "",
        &[
            "xn--bcher-kva.example.test",
            "*.xn--mnchen-3ya.example.test",
        ],
        &[],
    );
    pki.accepts(&leaf, "xn--bcher-kva.example.test");
    pki.accepts(&leaf, "bücher.example.test");
    pki.accepts(&leaf, "BÜCHER.Example.Test.");
    pki.accepts(&leaf, "www.münchen.example.test");
    pki.accepts(&leaf, "www.xn--mnchen-3ya.example.test");
    pki.rejects(&leaf, "bucher.example.test");
    pki.rejects(&leaf, "münchen.example.test");
}

/// A leaf whose subjectAltName holds `names` as dNSName entries, written as
/// raw UTF-8 (which X.509 forbids, but certificates in the wild contain).
fn leaf_with_raw_dns_names(ca: &Ca, names: &[&str]) -> Leaf {
    let entries: Vec<u8> = names
        .iter()
        .flat_map(|name| tlv(0x82, name.as_bytes()))
        .collect();
    let mut params = CertificateParams::default();
    params.not_before = days_from_now(-1);
    params.not_after = days_from_now(30);
    params.is_ca = IsCa::ExplicitNoCa;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
        .distinguished_name
        .push(DnType::CommonName, "unicode san");
    params.use_authority_key_identifier_extension = true;
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[2, 5, 29, 17],
            tlv(0x30, &entries),
        ));
    ca.issue(params, KeyKind::EcdsaP256)
}

#[test]
fn raw_unicode_dns_entries_match_nothing() {
    let pki = Pki::new();
    let leaf = leaf_with_raw_dns_names(
        &pki.ca,
        &["bücher.idn.example.test", "*.münchen.idn.example.test"],
    );
    let leaf = leaf.certificate();
    // A dNSName is an IA5String: raw UTF-8 in one is malformed and matches
    // nothing (as with OpenSSL), in Unicode or in punycode.
    pki.rejects(&leaf, "xn--bcher-kva.idn.example.test");
    pki.rejects(&leaf, "bücher.idn.example.test");
    pki.rejects(&leaf, "www.xn--mnchen-3ya.idn.example.test");
    pki.rejects(&leaf, "www.münchen.idn.example.test");
    pki.rejects(&leaf, "bucher.idn.example.test");
    // The CN is not consulted: there are DNS entries.
    pki.rejects(&leaf, "unicode san");

    // A CN in Unicode, without DNS entries.
    let cn = pki.leaf("straße.idn.example.test", &[], &[]);
    pki.only_qt_accepts(&cn, "xn--strae-oqa.idn.example.test");
    pki.only_qt_accepts(&cn, "Straße.IDN.example.test");
    // UTS #46 (nontransitional) keeps ß distinct from ss.
    pki.rejects(&cn, "strasse.idn.example.test");
}

#[test]
fn trailing_dots() {
    let pki = Pki::new();
    // webpki refuses subjectAltNames with a trailing dot; Qt accepts them.
    let dotted = pki.leaf(
        "",
        &["dotted.example.test.", "*.wild-dotted.example.test."],
        &[],
    );
    pki.only_qt_accepts(&dotted, "dotted.example.test");
    pki.only_qt_accepts(&dotted, "dotted.example.test.");
    pki.only_qt_accepts(&dotted, "a.wild-dotted.example.test");
    pki.only_qt_accepts(&dotted, "a.wild-dotted.example.test.");
    pki.rejects(&dotted, "dotted.example.test..");

    // A trailing dot on the name looked for is dropped.
    let plain = pki.leaf("", &["plain.example.test"], &[]);
    pki.accepts(&plain, "plain.example.test.");
    pki.rejects(&plain, ".plain.example.test");

    let cn = pki.leaf("cn-dotted.example.test.", &[], &[]);
    pki.only_qt_accepts(&cn, "cn-dotted.example.test");
    pki.only_qt_accepts(&cn, "cn-dotted.example.test.");
}

#[test]
fn verify_offline_with_host_name() {
    // `SslCertificate::verify` uses the default CA list, which does not
    // trust our CA; the name check still comes first.
    let pki = Pki::new();
    let leaf = pki.leaf("", &["offline.example.test"], &[]);
    let errors = SslCertificate::verify(std::slice::from_ref(&leaf), Some("wrong.example.test"));
    assert!(!errors.is_empty());
    assert_eq!(
        errors[0],
        SslError::with_certificate(SslErrorCode::HostNameMismatch, leaf.clone()),
        "got {}",
        describe(&errors)
    );
    let errors = SslCertificate::verify(std::slice::from_ref(&leaf), Some("offline.example.test"));
    assert!(
        errors
            .iter()
            .all(|e| e.code() != SslErrorCode::HostNameMismatch),
        "got {}",
        describe(&errors)
    );
}

/// The two certificates Qt accepts and webpki refuses for `baz.example.com`:
/// a partial-label wildcard, and a CN without any subjectAltName.
fn qt_only_leaves(ca: &Ca) -> [(&'static str, Leaf); 2] {
    [
        (
            "partial wildcard",
            ca.leaf(&LeafSpec {
                common_name: "",
                dns: &["ba*.example.com"],
                ..LeafSpec::default()
            }),
        ),
        (
            "CN only",
            ca.leaf(&LeafSpec {
                common_name: "baz.example.com",
                dns: &[],
                ..LeafSpec::default()
            }),
        ),
    ]
}

/// A client handshake with a server presenting `leaf`, as `baz.example.com`.
fn client_handshake(ca: &Ca, leaf: &Leaf, qt_rules: bool) -> sslsocket::Result<()> {
    let (client_end, server_end) = pair();
    let mut server = SslSocket::from_stream(server_end);
    server.set_ssl_configuration(configuration_with_identity(vec![leaf.certificate()], leaf));
    server.start_server_encryption().expect("server starts");
    let mut client = SslSocket::from_stream(client_end);
    let mut configuration = SslConfiguration::new();
    configuration.set_ca_certificates(vec![ca.certificate()]);
    configuration.set_peer_verify_name(Some("baz.example.com".to_owned()));
    configuration.set_dangerous_qt_host_name_matching(qt_rules);
    client.set_ssl_configuration(configuration);
    client.start_client_encryption().expect("client starts");
    let (client_result, _) = handshake(&mut client, &mut server);
    if client_result.is_ok() {
        assert_eq!(client.ssl_handshake_errors(), vec![]);
    }
    client_result
}

#[test]
fn handshakes_refuse_qt_only_names_unless_opted_in() {
    let ca = Identity::new("Handshake Host-name CA");
    for (what, leaf) in qt_only_leaves(&ca) {
        let refused = client_handshake(&ca, &leaf, false).expect_err(what);
        let Error::VerificationFailed { errors } = &refused else {
            panic!("{what}: {refused:?}");
        };
        assert_eq!(
            errors,
            &vec![SslError::with_certificate(
                SslErrorCode::HostNameMismatch,
                leaf.certificate()
            )],
            "{what}"
        );
        client_handshake(&ca, &leaf, true).unwrap_or_else(|e| panic!("{what} opted in: {e}"));
    }
}

/// The same handshake on the tokio socket, over a duplex pipe.
#[cfg(feature = "tokio")]
fn tokio_client_handshake(ca: &Ca, leaf: &Leaf, qt_rules: bool) -> sslsocket::Result<()> {
    use sslsocket::tokio::SslSocket as AsyncSslSocket;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client_end, server_end) = tokio::io::duplex(64 * 1024);
        let mut server = AsyncSslSocket::from_stream_with_configuration(
            server_end,
            configuration_with_identity(vec![leaf.certificate()], leaf),
        );
        server.start_server_encryption().expect("server starts");
        let mut configuration = SslConfiguration::new();
        configuration.set_ca_certificates(vec![ca.certificate()]);
        configuration.set_peer_verify_name(Some("baz.example.com".to_owned()));
        configuration.set_dangerous_qt_host_name_matching(qt_rules);
        let mut client = AsyncSslSocket::from_stream_with_configuration(client_end, configuration);
        client.start_client_encryption().expect("client starts");
        let wait = Some(std::time::Duration::from_secs(10));
        let (client_result, _) = tokio::join!(
            client.wait_for_encrypted(wait),
            server.wait_for_encrypted(wait)
        );
        client_result
    })
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_handshakes_refuse_qt_only_names_unless_opted_in() {
    let ca = Identity::new("Tokio Host-name CA");
    for (what, leaf) in qt_only_leaves(&ca) {
        let refused = tokio_client_handshake(&ca, &leaf, false).expect_err(what);
        assert!(
            matches!(&refused, Error::VerificationFailed { errors }
                if errors.iter().map(SslError::code).collect::<Vec<_>>()
                    == [SslErrorCode::HostNameMismatch]),
            "{what}: {refused:?}"
        );
        tokio_client_handshake(&ca, &leaf, true).unwrap_or_else(|e| panic!("{what} opted in: {e}"));
    }
}

#[test]
fn certificate_verify_uses_webpki_names() {
    // `SslCertificate::verify` (Qt's static verify) has no opt-in: the
    // name check comes first in its list, and only webpki's names pass.
    let ca = Identity::new("Static Verify CA");
    for (what, leaf) in qt_only_leaves(&ca) {
        let chain = [leaf.certificate()];
        let errors = SslCertificate::verify(&chain, Some("baz.example.com"));
        assert_eq!(
            errors.first().map(SslError::code),
            Some(SslErrorCode::HostNameMismatch),
            "{what}"
        );
    }
}
