//! The process-wide default configuration and Qt's static CA and cipher
//! functions. One test, in its own process, because it changes global state.

mod common;

use common::pki::AsSslCertificate;
use common::pki::Identity;
use sslsocket::certificate::PatternSyntax;
use sslsocket::cipher::{library_default_ciphers, parse_cipher_list};
use sslsocket::{EncodingFormat, SslConfiguration, SslProtocol};
use tempfile::TempDir;

#[test]
fn the_default_configuration_seeds_new_configurations() {
    assert_eq!(
        SslConfiguration::new(),
        SslConfiguration::library_defaults()
    );
    assert_eq!(
        SslConfiguration::default_ciphers(),
        library_default_ciphers()
    );
    assert_eq!(
        SslConfiguration::default_ca_certificates(),
        SslConfiguration::system_ca_certificates()
    );

    let mut policy = SslConfiguration::library_defaults();
    policy.set_protocol(SslProtocol::TlsV1_3);
    SslConfiguration::set_default_configuration(policy);
    assert_eq!(SslConfiguration::new().protocol(), SslProtocol::TlsV1_3);
    assert_eq!(SslConfiguration::default().protocol(), SslProtocol::TlsV1_3);
    assert_eq!(
        SslConfiguration::library_defaults().protocol(),
        SslProtocol::SecureProtocols
    );

    let root = Identity::new("Default Root").certificate();
    SslConfiguration::add_default_ca_certificate(root.clone());
    assert!(SslConfiguration::default_ca_certificates().contains(&root));
    assert!(SslConfiguration::new().ca_certificates().contains(&root));
    assert!(
        SslConfiguration::new().uses_system_ca_certificates(),
        "adding keeps the system roots"
    );

    let strong = parse_cipher_list("TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384").unwrap();
    SslConfiguration::set_default_ciphers(strong.clone());
    assert_eq!(SslConfiguration::default_ciphers(), strong);
    assert_eq!(SslConfiguration::new().ciphers(), strong.as_slice());
    assert_eq!(
        SslConfiguration::supported_ciphers().len(),
        9,
        "supported ciphers do not follow the default"
    );

    SslConfiguration::set_default_ca_certificates(vec![root.clone()]);
    assert_eq!(
        SslConfiguration::default_ca_certificates(),
        std::slice::from_ref(&root)
    );

    let other = Identity::new("Second Default Root").certificate();
    SslConfiguration::add_default_ca_certificates([other.clone(), root.clone()]);
    assert_eq!(
        SslConfiguration::default_ca_certificates(),
        [root.clone(), other.clone()]
    );

    let dir = TempDir::new().unwrap();
    let third = Identity::new("Third Default Root");
    let file = dir.path().join("third.pem");
    std::fs::write(&file, third.pem()).unwrap();
    let added = SslConfiguration::add_default_ca_certificates_from_path(
        file.to_str().unwrap(),
        EncodingFormat::Pem,
        PatternSyntax::FixedString,
    )
    .unwrap();
    assert!(added);
    assert_eq!(
        SslConfiguration::default_ca_certificates(),
        [root, other, third.certificate()]
    );

    // Readers and writers from many threads at once neither block for good nor panic.
    let threads: Vec<_> = (0..8)
        .map(|n| {
            std::thread::spawn(move || {
                for _ in 0..200 {
                    if n % 2 == 0 {
                        let _ = SslConfiguration::new();
                    } else {
                        SslConfiguration::set_default_ciphers(library_default_ciphers());
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        SslConfiguration::default_ciphers(),
        library_default_ciphers()
    );
}
