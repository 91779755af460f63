//! `sslsocket demo`: a self-contained tour of the library, with no network.
//!
//! It builds a private CA and a server certificate in memory, then walks
//! through what sslsocket offers today: reading the chain the way Qt's
//! QSslCertificate does, key handling with passphrases, checking that a key
//! belongs to a certificate, cipher lists and protocol policy. Each step is a
//! check; the demo exits 1 if any of them does not behave as shown.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::configuration::SslConfiguration;
use sslsocket::{EncodingFormat, Error, KeyType, SslCertificate, SslKey, SslProtocol};

use crate::report::Outcome;

/// The outcome of one step, for the closing summary.
struct Step {
    name: &'static str,
    passed: bool,
    detail: String,
}

/// Records each step's outcome and prints it as it happens.
#[derive(Default)]
struct Tour {
    steps: Vec<Step>,
}

impl Tour {
    fn section(&self, title: &str) {
        println!("\n== {title}");
    }

    fn check(&mut self, name: &'static str, passed: bool, detail: impl Into<String>) {
        let detail = detail.into();
        println!("   {} {detail}", if passed { "ok  " } else { "FAIL" });
        self.steps.push(Step {
            name,
            passed,
            detail,
        });
    }

    fn summary(&self) -> Outcome {
        println!("\n== Summary");
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for step in &self.steps {
            let mark = if step.passed { "ok" } else { "FAIL" };
            println!("   {:width$}  {mark:4}  {}", step.name, step.detail);
        }
        if self.steps.iter().all(|s| s.passed) {
            Outcome::Success
        } else {
            Outcome::CheckFailed
        }
    }
}

/// A CA and a server identity made in memory for the tour.
struct DemoPki {
    ca_pem: String,
    ca_key_pem: String,
    server_pem: String,
    server_key_pem: String,
}

fn build_pki() -> Result<DemoPki, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sslsocket demo CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "sslsocket");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate()?;
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server = server_params.signed_by(&server_key, &issuer)?;

    Ok(DemoPki {
        ca_pem: ca.pem(),
        ca_key_pem: ca_key.serialize_pem(),
        server_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
    })
}

pub fn run() -> Outcome {
    println!("sslsocket demo: Qt's QSslSocket model on rustls, everything in memory.");
    let pki = match build_pki() {
        Ok(pki) => pki,
        Err(e) => {
            crate::report::problem("demo", format!("could not build the demo PKI: {e}"));
            return Outcome::CheckFailed;
        }
    };
    let mut tour = Tour::default();
    match walk(&mut tour, &pki) {
        Ok(()) => tour.summary(),
        Err(e) => {
            crate::report::problem("demo", e);
            Outcome::CheckFailed
        }
    }
}

fn walk(tour: &mut Tour, pki: &DemoPki) -> Result<(), Error> {
    tour.section("1. A private CA and a server certificate, read like QSslCertificate");
    let mut chain = SslCertificate::from_pem(&pki.server_pem)?;
    let ca = SslCertificate::from_pem(&pki.ca_pem)?.remove(0);
    chain.push(ca.clone());
    for cert in &chain {
        println!(
            "   {} <- issued by {} | self-signed: {} | SHA-256 {}..",
            cert.subject_display_name(),
            cert.issuer_display_name(),
            cert.is_self_signed(),
            hex(&cert.digest(DigestAlgorithm::Sha256)[..8]),
        );
    }
    let names: Vec<String> = chain[0]
        .subject_alternative_names()
        .into_iter()
        .map(|(kind, value)| format!("{kind}={value}"))
        .collect();
    tour.check(
        "certificate details",
        ca.is_self_signed() && !chain[0].is_self_signed() && names.len() == 2,
        format!("leaf names {}", names.join(", ")),
    );

    tour.section("2. Keys: load, protect with a passphrase, reload");
    let key = SslKey::from_pem(&pki.server_key_pem, KeyType::PrivateKey, None)?;
    println!(
        "   server key: {} {}, {} bits",
        key.algorithm(),
        key.key_type(),
        key.length()
    );
    let protected = key.to_pem(Some(b"correct horse"))?;
    let without = SslKey::from_pem(&protected, KeyType::PrivateKey, None);
    let wrong = SslKey::from_pem(&protected, KeyType::PrivateKey, Some(b"battery staple"));
    let right = SslKey::from_pem(&protected, KeyType::PrivateKey, Some(b"correct horse"))?;
    for (label, outcome) in [("no passphrase", &without), ("wrong passphrase", &wrong)] {
        if let Err(e) = outcome {
            println!("   {label}: {e}");
        }
    }
    tour.check(
        "encrypted key",
        matches!(without, Err(Error::KeyEncrypted))
            && matches!(wrong, Err(Error::WrongPassphrase))
            && right == key,
        "missing and wrong passphrases are told apart; the right one restores the key",
    );

    tour.section("3. A configuration refuses a key that does not match its certificate");
    let mut configuration = SslConfiguration::new();
    let ca_key = SslKey::from_pem(&pki.ca_key_pem, KeyType::PrivateKey, None)?;
    let mismatch = configuration.set_local_identity(chain.clone(), ca_key);
    if let Err(e) = &mismatch {
        println!("   CA key with the server certificate: {e}");
    }
    let matched = configuration.set_local_identity(chain.clone(), key.clone());
    tour.check(
        "key matches certificate",
        matches!(mismatch, Err(Error::KeyDoesNotMatchCertificate)) && matched.is_ok(),
        "mismatch refused, the right pair accepted",
    );

    tour.section("4. Trust: system roots stay when a private CA is added");
    let system = SslConfiguration::system_ca_certificates().len();
    configuration.add_ca_certificate(ca.clone());
    let total = configuration.ca_certificates().len();
    println!("   {system} system roots + 1 private CA = {total} trusted roots");
    let mut only_private = SslConfiguration::new();
    only_private.set_ca_certificates(vec![ca]);
    tour.check(
        "CA databases",
        total == system + 1 && only_private.ca_certificates().len() == 1,
        "add keeps the system roots; set replaces them",
    );

    tour.section("5. Ciphers and protocols: clear errors instead of silent fallbacks");
    let unknown = configuration.set_cipher_list("TLS_AES_256_GCM_SHA384:RC4-MD5");
    if let Err(e) = &unknown {
        println!("   {e}");
    }
    configuration.set_cipher_list("TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384")?;
    let chosen: Vec<_> = configuration.ciphers().iter().map(|c| c.name()).collect();
    println!("   chosen: {}", chosen.join(", "));
    println!("   {}", Error::UnsupportedProtocol(SslProtocol::SslV3));
    tour.check(
        "cipher and protocol policy",
        matches!(unknown, Err(Error::UnknownCiphers { .. }))
            && chosen.len() == 2
            && !SslProtocol::SslV3.is_supported()
            && SslProtocol::SecureProtocols.is_supported(),
        "unknown cipher named; SSLv3 refused; TLS 1.2+ by default",
    );

    tour.section("6. Round trip through DER");
    let der = chain[0].to_der().to_vec();
    let again = SslCertificate::from_data(&der, EncodingFormat::Der)?;
    tour.check(
        "DER round trip",
        again == chain[..1],
        format!("{} bytes", der.len()),
    );
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
