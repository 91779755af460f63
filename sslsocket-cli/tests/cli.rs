//! The `sslsocket` binary as a user runs it: output, JSON shapes and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tempfile::TempDir;

mod common;
use common::{assert_exit, json_of, openssl, sslsocket, stderr, stdout};

/// A CA and a leaf for "cli.test" and 127.0.0.1, written as `chain.pem`
/// (leaf then CA), `leaf.der` and `leaf.key`.
fn write_chain(dir: &Path) -> PathBuf {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "CLI Test CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "sslsocket tests");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, &ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["cli.test".into(), "127.0.0.1".into()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "cli.test");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let chain = dir.join("chain.pem");
    std::fs::write(&chain, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(dir.join("leaf.der"), leaf.der()).unwrap();
    std::fs::write(dir.join("leaf.key"), leaf_key.serialize_pem()).unwrap();
    chain
}

#[test]
fn cert_show_reports_every_certificate_as_json() {
    let dir = TempDir::new().unwrap();
    let chain = write_chain(dir.path());
    let out = sslsocket(&["cert", "show", "--json", chain.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let certs = json_of(&out);
    let certs = certs.as_array().expect("an array");
    assert_eq!(certs.len(), 2);

    let leaf = &certs[0];
    assert_eq!(leaf["index"], 0);
    assert_eq!(leaf["subject"], "CN=cli.test");
    assert_eq!(leaf["issuer"], "CN=CLI Test CA, O=sslsocket tests");
    assert_eq!(leaf["version"], 3);
    assert_eq!(leaf["self_signed"], false);
    assert_eq!(leaf["public_key"]["algorithm"], "Ec");
    assert_eq!(leaf["public_key"]["length"], 256);
    let names: Vec<(String, String)> = leaf["subject_alternative_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap().to_owned(),
                n["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("DnsEntry".to_owned(), "cli.test".to_owned()),
            ("IpAddressEntry".to_owned(), "127.0.0.1".to_owned())
        ]
    );
    let fingerprint = leaf["sha256_fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    assert!(leaf["days_left"].as_i64().unwrap() > 300);
    assert!(leaf.get("text").is_none(), "text only with --text");

    let ca = &certs[1];
    assert_eq!(ca["self_signed"], true);
    assert_eq!(ca["subject"], ca["issuer"]);
}

#[test]
fn cert_show_fingerprint_matches_openssl() {
    let dir = TempDir::new().unwrap();
    write_chain(dir.path());
    let out = sslsocket(&[
        "cert",
        "show",
        "--json",
        dir.path().join("leaf.der").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours = json_of(&out)[0]["sha256_fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            "leaf.der",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    assert!(
        theirs.trim().ends_with(&ours),
        "openssl says {theirs}, we say {ours}"
    );
}

#[test]
fn cert_show_text_forms() {
    let dir = TempDir::new().unwrap();
    let chain = write_chain(dir.path());
    let out = sslsocket(&["cert", "show", chain.to_str().unwrap()]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Subject:      CN=cli.test"), "{text}");
    assert!(
        text.contains("Alt names:    DNS:cli.test, IP:127.0.0.1"),
        "{text}"
    );
    assert!(text.contains("days left"), "{text}");

    let full = sslsocket(&["cert", "show", "--text", chain.to_str().unwrap()]);
    assert!(full.status.success());
    assert!(stdout(&full).contains("X509v3"), "{}", stdout(&full));
}

#[test]
fn cert_show_input_errors_exit_2_with_one_line_each() {
    let dir = TempDir::new().unwrap();
    let chain = write_chain(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    let out = sslsocket(&[
        "cert",
        "show",
        "--json",
        garbage.to_str().unwrap(),
        chain.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let problems = stderr(&out);
    assert_eq!(problems.lines().count(), 2, "{problems}");
    assert!(problems.contains("garbage.pem"), "{problems}");
    assert!(problems.contains("missing.pem"), "{problems}");
    // The readable file is still shown: nothing is lost because of the others.
    assert_eq!(json_of(&out).as_array().unwrap().len(), 2);
}

#[test]
fn key_show_formats_and_passphrases() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "rsa.pem",
            "-pubout",
            "-outform",
            "DER",
            "-out",
            "rsa-pub.der",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "rsa.pem",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:hunter2",
            "-out",
            "rsa-enc.pem",
        ],
    );
    std::fs::write(d.join("pass.txt"), "hunter2\n").unwrap();

    let show = |args: &[&str]| {
        let mut full = vec!["key", "show", "--json"];
        full.extend_from_slice(args);
        sslsocket(&full)
    };
    let path = |name: &str| d.join(name).to_str().unwrap().to_owned();

    let out = show(&[&path("rsa.pem")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json_of(&out),
        serde_json::json!({"algorithm": "Rsa", "type": "PrivateKey", "length": 2048})
    );

    let out = show(&[&path("rsa-pub.der")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_of(&out)["type"], "PublicKey");

    let out = show(&[&path("rsa-enc.pem"), "--passphrase", "hunter2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_of(&out)["length"], 2048);

    let out = show(&[&path("rsa-enc.pem"), "--passphrase-file", &path("pass.txt")]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = show(&[&path("rsa-enc.pem")]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("pass a passphrase"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);

    let out = show(&[&path("rsa-enc.pem"), "--passphrase", "wrong"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("passphrase"), "{}", stderr(&out));

    let text = sslsocket(&["key", "show", &path("rsa.pem")]);
    assert!(
        stdout(&text).contains("Rsa PrivateKey, 2048 bits"),
        "{}",
        stdout(&text)
    );
}

#[test]
fn key_show_rejects_conflicting_options_and_garbage() {
    let dir = TempDir::new().unwrap();
    let garbage = dir.path().join("garbage.key");
    std::fs::write(&garbage, b"\x30\x82\x01garbage").unwrap();
    let out = sslsocket(&["key", "show", garbage.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    let out = sslsocket(&[
        "key",
        "show",
        "x",
        "--passphrase",
        "a",
        "--passphrase-file",
        "b",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "conflicting options are a usage error"
    );
}

#[test]
fn ciphers_list_and_json() {
    let out = sslsocket(&["ciphers"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 9, "{text}");
    assert!(text.contains("ECDHE-ECDSA-AES128-GCM-SHA256"), "{text}");
    assert!(text.contains("TLS_AES_256_GCM_SHA384"), "{text}");

    let out = sslsocket(&["ciphers", "--default", "--json"]);
    assert!(out.status.success());
    let list = json_of(&out);
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    for cipher in list {
        for field in [
            "name",
            "protocol",
            "key_exchange",
            "authentication",
            "encryption",
            "used_bits",
            "supported_bits",
        ] {
            assert!(cipher.get(field).is_some(), "{field} missing in {cipher}");
        }
        assert!(cipher["used_bits"].as_u64().unwrap() >= 128);
    }
    let tls13 = list
        .iter()
        .find(|c| c["name"] == "TLS_AES_128_GCM_SHA256")
        .unwrap();
    assert_eq!(tls13["protocol"], "TLSv1.3");

    let out = sslsocket(&["ciphers", "--supported", "--default"]);
    assert_exit(&out, 2);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(sslsocket(&[]).status.code(), Some(2));
    assert_eq!(sslsocket(&["cert", "show"]).status.code(), Some(2));
    assert_eq!(sslsocket(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn cert_show_lists_crl_distribution_points() {
    let dir = TempDir::new().unwrap();
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=crl-dp.test",
            "-addext",
            "crlDistributionPoints=URI:http://crl.example.test/ca.crl,URI:ldap://ldap.example.test/cn=CA",
            "-days",
            "2",
            "-keyout",
            "dp.key",
            "-out",
            "dp.pem",
        ])
        .current_dir(dir.path())
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let pem = dir.path().join("dp.pem");
    let pem = pem.to_str().unwrap();

    let out = sslsocket(&["cert", "show", "--json", pem]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json_of(&out)[0]["crl_distribution_points"],
        serde_json::json!([
            "URI:http://crl.example.test/ca.crl",
            "URI:ldap://ldap.example.test/cn=CA"
        ])
    );
    let out = sslsocket(&["cert", "show", pem]);
    assert!(
        stdout(&out).contains(
            "CRLs at:      URI:http://crl.example.test/ca.crl, URI:ldap://ldap.example.test/cn=CA"
        ),
        "{}",
        stdout(&out)
    );
}
