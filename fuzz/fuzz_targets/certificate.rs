//! Certificates from PEM (any number) or DER (one), with every accessor and
//! the text dump on each one read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sslsocket::{DigestAlgorithm, SslCertificate, SubjectInfo};
use sslsocket_fuzz::format_of;

fuzz_target!(|data: &[u8]| {
    let format = format_of(data);
    let Ok(certificates) = SslCertificate::from_data(data, format) else {
        return;
    };
    for certificate in &certificates {
        exercise(certificate);
    }
});

fn exercise(certificate: &SslCertificate) {
    let _ = (certificate.version(), certificate.serial_number());
    for algorithm in DigestAlgorithm::ALL {
        let _ = certificate.digest(*algorithm);
    }
    for field in SubjectInfo::ALL {
        let _ = certificate.subject_info(*field);
        let _ = certificate.issuer_info(*field);
    }
    for attribute in certificate.subject_info_attributes() {
        let _ = certificate.subject_info_by_attribute(&attribute);
    }
    for attribute in certificate.issuer_info_attributes() {
        let _ = certificate.issuer_info_by_attribute(&attribute);
    }
    let _ = certificate.subject_info_by_attribute("2.5.4.3");
    let _ = (
        certificate.subject_display_name(),
        certificate.issuer_display_name(),
    );
    let _ = certificate.subject_alternative_names();
    let _ = certificate.crl_distribution_points();
    let _ = (certificate.effective_date(), certificate.expiry_date());
    let _ = certificate.is_self_signed();
    if let Ok(key) = certificate.public_key() {
        let _ = (
            key.algorithm(),
            key.length(),
            key.curve_name(),
            key.to_der(),
        );
    }
    let _ = certificate.subject_public_key_info_der();
    let _ = (
        certificate.subject_name_der(),
        certificate.issuer_name_der(),
    );
    let _ = certificate.signature_algorithm_name();
    for extension in certificate.extensions() {
        let _ = (extension.oid(), extension.name(), extension.is_critical());
        let _ = (extension.is_supported(), extension.raw_value());
        let _ = format!("{:?}", extension.value());
    }
    let _ = (certificate.is_ca(), certificate.basic_constraints());
    let _ = certificate.subject_key_identifier();
    let _ = certificate.authority_key_identifier();
    let _ = certificate.to_text();
    let pem = certificate.to_pem();
    let again = SslCertificate::from_pem(pem.as_bytes()).expect("our own PEM reads back");
    assert_eq!(
        again,
        vec![certificate.clone()],
        "PEM round trip changed the certificate"
    );
}
