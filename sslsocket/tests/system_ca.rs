//! The system CA store: `SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured, and the
//! bundled Mozilla roots stand in when the platform store yields nothing.
//!
//! The store is read once per process, so each case runs this test binary
//! again as a child process with its own environment.

mod common;

use common::pki::AsSslCertificate;
use std::path::Path;
use std::process::Command;

use common::pki::Identity;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::SslConfiguration;
use tempfile::TempDir;

const PROBE_ENV: &str = "SSLSOCKET_SYSTEM_CA_PROBE";

/// Run by the child processes only: prints what the store holds.
#[test]
fn probe() {
    if std::env::var_os(PROBE_ENV).is_none() {
        return;
    }
    let roots = SslConfiguration::system_ca_certificates();
    println!("COUNT={}", roots.len());
    for root in &roots {
        println!("ROOT={}", hex(&root.digest(DigestAlgorithm::Sha256)));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The roots the child process sees with `SSL_CERT_FILE=file` and `SSL_CERT_DIR=dir`.
fn roots_seen_with(file: &Path, dir: &Path) -> Vec<String> {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "probe", "--nocapture", "--test-threads=1"])
        .env(PROBE_ENV, "1")
        .env("SSL_CERT_FILE", file)
        .env("SSL_CERT_DIR", dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "probe failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let count: usize = text
        .lines()
        // The harness may print "test probe ... " on the same line first.
        .find_map(|l| l.split_once("COUNT=").map(|(_, n)| n))
        .unwrap_or_else(|| panic!("no COUNT line in {text}"))
        .parse()
        .unwrap();
    let roots: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("ROOT="))
        .map(str::to_owned)
        .collect();
    assert_eq!(roots.len(), count);
    roots
}

#[test]
fn ssl_cert_file_and_dir_are_the_system_store_when_set() {
    let dir = TempDir::new().unwrap();
    let (root_a, root_b) = (Identity::new("Env Root A"), Identity::new("Env Root B"));
    let bundle = dir.path().join("bundle.pem");
    std::fs::write(&bundle, format!("{}{}", root_a.pem(), root_b.pem())).unwrap();
    let empty_dir = dir.path().join("certs");
    std::fs::create_dir(&empty_dir).unwrap();

    let mut roots = roots_seen_with(&bundle, &empty_dir);
    roots.sort();
    let mut expected: Vec<String> = [&root_a, &root_b]
        .iter()
        .map(|r| hex(&r.certificate().digest(DigestAlgorithm::Sha256)))
        .collect();
    expected.sort();
    assert_eq!(
        roots, expected,
        "exactly the roots of SSL_CERT_FILE, in any order"
    );
}

#[test]
fn bundled_roots_stand_in_for_an_empty_store() {
    let dir = TempDir::new().unwrap();
    let empty_file = dir.path().join("empty.pem");
    std::fs::write(&empty_file, "").unwrap();
    let empty_dir = dir.path().join("certs");
    std::fs::create_dir(&empty_dir).unwrap();

    let roots = roots_seen_with(&empty_file, &empty_dir);
    assert!(
        roots.len() > 100,
        "the Mozilla list has well over 100 roots, got {}",
        roots.len()
    );

    let nowhere = dir.path().join("does-not-exist.pem");
    assert_eq!(
        roots_seen_with(&nowhere, &empty_dir),
        roots,
        "an unreadable store falls back the same way"
    );
}
