//! `SslError`: Qt's codes and messages, bound to the certificate concerned.

mod common;

use common::pki::AsSslCertificate;
use std::collections::HashSet;

use common::pki::Identity;
use sslsocket::{SslError, SslErrorCode};

#[test]
fn equality_is_code_and_certificate() {
    let first = Identity::new("First").certificate();
    let second = Identity::new("Second").certificate();
    let self_signed = |cert: &sslsocket::SslCertificate| {
        SslError::with_certificate(SslErrorCode::SelfSignedCertificate, cert.clone())
    };

    assert_eq!(self_signed(&first), self_signed(&first));
    assert_ne!(
        self_signed(&first),
        self_signed(&second),
        "bound to one certificate"
    );
    assert_ne!(
        self_signed(&first),
        SslError::with_certificate(SslErrorCode::CertificateExpired, first.clone()),
        "same certificate, other code"
    );
    assert_ne!(
        self_signed(&first),
        SslError::new(SslErrorCode::SelfSignedCertificate)
    );
    assert_eq!(
        self_signed(&first),
        self_signed(&first).with_detail("extra words")
    );

    let ignore_list: HashSet<SslError> = [self_signed(&first)].into_iter().collect();
    assert!(
        ignore_list.contains(&self_signed(&first).with_detail("detail is not part of the hash"))
    );
    assert!(!ignore_list.contains(&self_signed(&second)));

    let error = self_signed(&first);
    assert_eq!(error.certificate(), Some(&first));
    assert_eq!(error.code(), SslErrorCode::SelfSignedCertificate);
    assert_eq!(
        error.error_string(),
        "The certificate is self-signed, and untrusted"
    );
    assert_eq!(error.to_string(), error.error_string());
}

#[test]
fn every_code_has_its_qt_number_and_a_message() {
    let expected = [
        (SslErrorCode::NoError, 0),
        (SslErrorCode::UnableToGetIssuerCertificate, 1),
        (SslErrorCode::CertificateSignatureFailed, 4),
        (SslErrorCode::CertificateNotYetValid, 5),
        (SslErrorCode::CertificateExpired, 6),
        (SslErrorCode::SelfSignedCertificate, 9),
        (SslErrorCode::SelfSignedCertificateInChain, 10),
        (SslErrorCode::UnableToGetLocalIssuerCertificate, 11),
        (SslErrorCode::UnableToVerifyFirstCertificate, 12),
        (SslErrorCode::InvalidCaCertificate, 14),
        (SslErrorCode::PathLengthExceeded, 15),
        (SslErrorCode::InvalidPurpose, 16),
        (SslErrorCode::CertificateUntrusted, 17),
        (SslErrorCode::NoPeerCertificate, 21),
        (SslErrorCode::HostNameMismatch, 22),
        (SslErrorCode::CertificateBlacklisted, 24),
        (SslErrorCode::CertificateStatusUnknown, 25),
        (SslErrorCode::OcspNoResponseFound, 26),
        (SslErrorCode::OcspStatusUnknown, 36),
        (SslErrorCode::UnspecifiedError, -1),
    ];
    for (code, number) in expected {
        assert_eq!(code.value(), number, "{code}");
        assert_eq!(SslErrorCode::from_value(number), Some(code));
    }
    let mut seen = HashSet::new();
    for code in SslErrorCode::ALL {
        assert!(seen.insert(code.value()), "{code} repeats a number");
        assert!(!code.message().is_empty());
        assert_eq!(code.name().parse::<SslErrorCode>().unwrap(), *code);
    }
    assert_eq!(SslErrorCode::ALL.len(), 38, "0 to 36 and UnspecifiedError");
    assert!("NoSuchError".parse::<SslErrorCode>().is_err());
}
