//! `SslConfiguration`: defaults, CA databases, ciphers, local identity, ALPN.
//!
//! Tests that change the process-wide default configuration live in
//! `default_configuration.rs`, their own process, so they cannot disturb these.

mod common;

use common::pki::AsSslCertificate;
use std::path::Path;
use std::time::Duration;

use common::openssl::{gen_key, KeyKind as OpensslKey};
use common::pki::{pem_bundle, Identity, KeyKind, LeafSpec};
use sslsocket::certificate::PatternSyntax;
use sslsocket::cipher::{library_default_ciphers, SslCipher};
use sslsocket::{
    EncodingFormat, Error, KeyAlgorithm, KeyType, PeerVerifyMode, SslConfiguration, SslKey,
    SslOption, SslOptions, SslProtocol,
};
use tempfile::TempDir;

fn leaf(ca: &Identity, key: KeyKind) -> Identity {
    ca.leaf(&LeafSpec {
        common_name: "config.test",
        dns: &["config.test"],
        key,
        ..LeafSpec::default()
    })
}

fn private_key(identity: &Identity) -> SslKey {
    SslKey::from_pem(identity.key_pem(), KeyType::PrivateKey, None).unwrap()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn library_defaults_are_qt_defaults_made_secure() {
    let c = SslConfiguration::library_defaults();
    assert_eq!(c.protocol(), SslProtocol::SecureProtocols);
    assert_eq!(c.ssl_options(), SslOptions::DEFAULT);
    assert_eq!(c.ssl_options().bits(), 0x01 | 0x04 | 0x10);
    assert_eq!(c.peer_verify_mode(), PeerVerifyMode::AutoVerifyPeer);
    assert_eq!(c.peer_verify_depth(), 0);
    assert_eq!(c.peer_verify_name(), None);
    assert!(c.uses_system_ca_certificates());
    assert_eq!(c.ciphers(), library_default_ciphers().as_slice());
    assert!(c.local_certificate().is_none() && c.private_key().is_none());
    assert!(c.allowed_next_protocols().is_empty());
    assert_eq!(c.handshake_timeout(), Some(Duration::from_secs(30)));
    c.check_local_identity()
        .expect("no identity is a valid identity (clients)");
}

#[test]
fn settings_round_trip_and_copies_are_independent() {
    let mut c = SslConfiguration::library_defaults();
    c.set_protocol(SslProtocol::TlsV1_3);
    c.set_peer_verify_mode(PeerVerifyMode::QueryPeer);
    c.set_peer_verify_depth(3);
    c.set_peer_verify_name(Some("other.test".into()));
    c.set_handshake_timeout(None);
    c.set_ssl_option(SslOption::SslOptionDisableSessionTickets, true);
    let copy = c.clone();
    assert_eq!(copy, c);

    c.set_ssl_option(SslOption::SslOptionDisableSessionTickets, false);
    c.set_ssl_option(SslOption::SslOptionDisableServerNameIndication, true);
    assert!(copy.test_ssl_option(SslOption::SslOptionDisableSessionTickets));
    assert!(!c.test_ssl_option(SslOption::SslOptionDisableSessionTickets));
    assert!(c.test_ssl_option(SslOption::SslOptionDisableServerNameIndication));
    assert_ne!(copy, c);

    assert_eq!(copy.protocol(), SslProtocol::TlsV1_3);
    assert_eq!(copy.peer_verify_mode(), PeerVerifyMode::QueryPeer);
    assert_eq!(copy.peer_verify_depth(), 3);
    assert_eq!(copy.peer_verify_name(), Some("other.test"));
    assert_eq!(copy.handshake_timeout(), None);

    c.set_ssl_options(SslOptions::NONE);
    assert_eq!(c.ssl_options().iter().count(), 0);
    // Insecure values are accepted as settings; the handshake refuses them.
    c.set_protocol(SslProtocol::SslV3);
    assert_eq!(c.protocol(), SslProtocol::SslV3);
}

#[test]
fn adding_a_ca_keeps_the_system_roots_and_setting_replaces_them() {
    let system = SslConfiguration::system_ca_certificates();
    assert!(
        !system.is_empty(),
        "the platform store or the bundled roots"
    );
    let ca = Identity::new("Config Test Root").certificate();
    let other = Identity::new("Another Root").certificate();

    let mut c = SslConfiguration::library_defaults();
    c.add_ca_certificate(ca.clone());
    c.add_ca_certificate(ca.clone());
    let all = c.ca_certificates();
    assert_eq!(all.len(), system.len() + 1, "added once, system roots kept");
    assert_eq!(all.last(), Some(&ca));

    c.set_ca_certificates(vec![ca.clone()]);
    assert!(!c.uses_system_ca_certificates());
    assert_eq!(c.ca_certificates(), std::slice::from_ref(&ca));
    c.add_ca_certificates([other.clone(), ca.clone()]);
    assert_eq!(c.ca_certificates(), [ca, other]);

    c.set_ca_certificates(Vec::new());
    assert!(
        c.ca_certificates().is_empty(),
        "an empty list trusts nothing"
    );
}

#[test]
fn ca_certificates_from_path_follow_the_pattern_rules() {
    let dir = TempDir::new().unwrap();
    let root_a = Identity::new("Root A");
    let root_b = Identity::new("Root B");
    let root_c = Identity::new("Root C");
    std::fs::create_dir_all(dir.path().join("cas/nested")).unwrap();
    std::fs::write(dir.path().join("cas/a.pem"), root_a.pem()).unwrap();
    std::fs::write(
        dir.path().join("cas/b.pem"),
        pem_bundle(&[&root_b, &root_c]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cas/nested/deep.pem"),
        Identity::new("Deep").pem(),
    )
    .unwrap();
    std::fs::write(dir.path().join("cas/junk.pem"), "not a certificate").unwrap();

    let mut c = SslConfiguration::library_defaults();
    c.set_ca_certificates(Vec::new());
    let pattern = format!("{}/cas/*.pem", path_str(dir.path()));
    assert!(c
        .add_ca_certificates_from_path(&pattern, EncodingFormat::Pem, PatternSyntax::Wildcard)
        .unwrap());
    let mut found: Vec<String> = c
        .ca_certificates()
        .iter()
        .map(|cert| cert.subject_display_name())
        .collect();
    found.sort();
    assert_eq!(
        found,
        ["Root A", "Root B", "Root C"],
        "`*` does not cross '/'; junk is skipped"
    );

    let nothing = format!("{}/cas/*.crt", path_str(dir.path()));
    assert!(!c
        .add_ca_certificates_from_path(&nothing, EncodingFormat::Pem, PatternSyntax::Wildcard)
        .unwrap());
    assert_eq!(c.ca_certificates().len(), 3, "nothing added, nothing lost");

    let regex = format!("{}/cas/.*deep\\.pem", path_str(dir.path()));
    assert!(c
        .add_ca_certificates_from_path(
            &regex,
            EncodingFormat::Pem,
            PatternSyntax::RegularExpression
        )
        .unwrap());
    assert_eq!(c.ca_certificates().len(), 4);

    let bad = format!("{}/cas/(unclosed", path_str(dir.path()));
    assert!(matches!(
        c.add_ca_certificates_from_path(
            &bad,
            EncodingFormat::Pem,
            PatternSyntax::RegularExpression
        ),
        Err(Error::InvalidPattern { .. })
    ));
    let missing = format!("{}/cas/missing.pem", path_str(dir.path()));
    assert!(matches!(
        c.add_ca_certificates_from_path(&missing, EncodingFormat::Pem, PatternSyntax::FixedString),
        Err(Error::File { .. })
    ));
    assert_eq!(c.ca_certificates().len(), 4, "failed calls change nothing");
}

#[test]
fn cipher_lists() {
    let mut c = SslConfiguration::library_defaults();
    c.set_cipher_list("ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384")
        .unwrap();
    let names: Vec<_> = c.ciphers().iter().map(SslCipher::name).collect();
    assert_eq!(
        names,
        ["ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384"]
    );

    let before = c.ciphers().to_vec();
    match c.set_cipher_list("TLS_AES_256_GCM_SHA384:AES128-SHA:NULL-MD5") {
        Err(Error::UnknownCiphers { names }) => assert_eq!(names, ["AES128-SHA", "NULL-MD5"]),
        other => panic!("expected UnknownCiphers, got {other:?}"),
    }
    assert_eq!(
        c.ciphers(),
        before.as_slice(),
        "a rejected list leaves the ciphers as they were"
    );

    c.set_ciphers(Vec::new());
    assert_eq!(
        c.ciphers(),
        library_default_ciphers().as_slice(),
        "empty means the defaults"
    );
}

#[test]
fn local_identity_must_match() {
    let ca = Identity::new("Identity CA");
    for kind in [
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::Ed25519,
        KeyKind::Rsa2048,
    ] {
        let server = leaf(&ca, kind);
        let mut c = SslConfiguration::library_defaults();
        c.set_local_identity(
            vec![server.certificate(), ca.certificate()],
            private_key(&server),
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(c.local_certificate(), Some(&server.certificate()));
        assert_eq!(c.local_certificate_chain().len(), 2);
        assert_eq!(c.private_key(), Some(&private_key(&server)));
        c.check_local_identity().unwrap();
    }

    let server = leaf(&ca, KeyKind::EcdsaP256);
    let stranger = leaf(&ca, KeyKind::EcdsaP256);
    let mut c = SslConfiguration::library_defaults();
    assert!(matches!(
        c.set_local_identity(vec![server.certificate()], private_key(&stranger)),
        Err(Error::KeyDoesNotMatchCertificate)
    ));
    assert!(
        c.local_certificate().is_none() && c.private_key().is_none(),
        "a refused identity is not kept"
    );

    c.set_local_certificate(server.certificate());
    assert!(
        matches!(
            c.check_local_identity(),
            Err(Error::KeyUnusableForTls { .. })
        ),
        "certificate without key"
    );
    c.set_private_key(private_key(&stranger));
    assert!(matches!(
        c.check_local_identity(),
        Err(Error::KeyDoesNotMatchCertificate)
    ));
    c.set_private_key(private_key(&server).public_key().unwrap());
    assert!(
        matches!(
            c.check_local_identity(),
            Err(Error::KeyUnusableForTls { .. })
        ),
        "public key"
    );
    c.set_private_key(private_key(&server));
    c.check_local_identity().unwrap();

    let mut key_only = SslConfiguration::library_defaults();
    key_only.set_private_key(private_key(&server));
    assert!(matches!(
        key_only.check_local_identity(),
        Err(Error::KeyUnusableForTls { .. })
    ));
}

#[test]
fn a_dsa_key_is_refused_for_tls_with_a_reason() {
    let dir = TempDir::new().unwrap();
    let dsa = SslKey::from_path(
        gen_key(dir.path(), OpensslKey::Dsa2048),
        EncodingFormat::Pem,
        KeyType::PrivateKey,
        None,
    )
    .unwrap();
    let server = leaf(&Identity::new("DSA CA"), KeyKind::EcdsaP256);
    let mut c = SslConfiguration::library_defaults();
    match c.set_local_identity(vec![server.certificate()], dsa) {
        Err(Error::KeyUnusableForTls { reason }) => assert!(reason.contains("DSA"), "{reason}"),
        other => panic!("expected KeyUnusableForTls, got {other:?}"),
    }
}

#[test]
fn local_identity_from_files() {
    let dir = TempDir::new().unwrap();
    let ca = Identity::new("File CA");
    let intermediate = ca.intermediate("File Intermediate");
    let server = leaf(&intermediate, KeyKind::EcdsaP256);
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, pem_bundle(&[&server, &intermediate])).unwrap();
    let key_file = dir.path().join("server.key");
    let protected = private_key(&server).to_pem(Some(b"pw")).unwrap();
    std::fs::write(&key_file, protected).unwrap();
    let der_file = dir.path().join("server.der");
    std::fs::write(&der_file, server.der()).unwrap();

    let mut c = SslConfiguration::library_defaults();
    c.set_local_certificate_from_path(&chain, EncodingFormat::Pem)
        .unwrap();
    assert_eq!(
        c.local_certificate_chain(),
        [server.certificate(), intermediate.certificate()]
    );
    c.set_private_key_from_path(
        &key_file,
        KeyAlgorithm::Ec,
        EncodingFormat::Pem,
        Some(b"pw"),
    )
    .unwrap();
    c.check_local_identity().unwrap();

    assert!(matches!(
        c.set_private_key_from_path(
            &key_file,
            KeyAlgorithm::Rsa,
            EncodingFormat::Pem,
            Some(b"pw")
        ),
        Err(Error::KeyAlgorithmMismatch {
            expected: KeyAlgorithm::Rsa,
            found: KeyAlgorithm::Ec
        })
    ));
    assert!(matches!(
        c.set_private_key_from_path(&key_file, KeyAlgorithm::Ec, EncodingFormat::Pem, None),
        Err(Error::KeyEncrypted)
    ));
    c.check_local_identity()
        .expect("failed loads keep the previous key");

    c.set_local_certificate_from_path(&der_file, EncodingFormat::Der)
        .unwrap();
    assert_eq!(c.local_certificate_chain(), [server.certificate()]);

    let missing = dir.path().join("missing.pem");
    match c.set_local_certificate_from_path(&missing, EncodingFormat::Pem) {
        Err(Error::File { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected a file error, got {other:?}"),
    }
    let message = c
        .set_private_key_from_path(&missing, KeyAlgorithm::Ec, EncodingFormat::Pem, None)
        .unwrap_err();
    assert!(message.to_string().contains("missing.pem"), "{message}");
}

#[test]
fn alpn_names_are_validated() {
    let mut c = SslConfiguration::library_defaults();
    c.set_allowed_next_protocols(["h2", "http/1.1"]).unwrap();
    assert_eq!(
        c.allowed_next_protocols(),
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );

    assert!(
        matches!(c.set_allowed_next_protocols(["h2", ""]), Err(Error::InvalidAlpnProtocol(name)) if name.is_empty())
    );
    let long = vec![b'x'; 256];
    assert!(
        matches!(c.set_allowed_next_protocols([long]), Err(Error::InvalidAlpnProtocol(name)) if name.len() == 256)
    );
    assert_eq!(
        c.allowed_next_protocols().len(),
        2,
        "a rejected list changes nothing"
    );
    c.set_allowed_next_protocols([vec![b'y'; 255]]).unwrap();
    c.set_allowed_next_protocols(Vec::<Vec<u8>>::new()).unwrap();
    assert!(c.allowed_next_protocols().is_empty());
}

#[test]
fn check_usable_reports_what_a_handshake_would_refuse() {
    let mut configuration = SslConfiguration::new();
    configuration.set_ca_certificates(Vec::new());
    configuration
        .check_usable()
        .expect("the defaults are usable");

    let mut insecure = configuration.clone();
    insecure.set_protocol(SslProtocol::TlsV1_1);
    assert!(matches!(
        insecure.check_usable(),
        Err(Error::UnsupportedProtocol(SslProtocol::TlsV1_1))
    ));

    let mut no_cipher = configuration.clone();
    no_cipher.set_protocol(SslProtocol::TlsV1_3);
    no_cipher
        .set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
        .unwrap();
    assert!(matches!(
        no_cipher.check_usable(),
        Err(Error::NoUsableCipher { .. })
    ));

    let mut no_group = configuration.clone();
    no_group.set_protocol(SslProtocol::TlsV1_2);
    no_group.set_key_exchange_group_list("MLKEM768").unwrap();
    assert!(matches!(
        no_group.check_usable(),
        Err(Error::NoUsableKeyExchangeGroup {
            protocol: SslProtocol::TlsV1_2
        })
    ));
    // The same groups are fine where TLS 1.3 may be negotiated.
    no_group.set_protocol(SslProtocol::SecureProtocols);
    no_group.check_usable().expect("ML-KEM with TLS 1.3");
}
