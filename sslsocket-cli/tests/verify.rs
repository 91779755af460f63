//! `sslsocket verify` as a user runs it: output, the JSON shape and exit codes.

use std::path::{Path, PathBuf};
use std::process::Output;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::json;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::SslCertificate;
use tempfile::TempDir;

mod common;
use common::{assert_exit, json_of, sslsocket, stderr, stdout};

/// A CA or leaf with its key and parameters.
struct Identity {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
    der: Vec<u8>,
}

impl Identity {
    fn ca(name: &str) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "sslsocket verify tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Identity {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            params,
            key,
        }
    }

    fn issue(&self, params: CertificateParams) -> Identity {
        let key = KeyPair::generate().unwrap();
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        Identity {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            params,
            key,
        }
    }

    fn intermediate(&self, name: &str) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.use_authority_key_identifier_extension = true;
        self.issue(params)
    }

    /// A serverAuth-only leaf for `names`, valid from January 1st of the
    /// first year of `validity` to January 1st of the second, or for rcgen's
    /// default (1975 to 4096).
    fn leaf(&self, names: &[&str], validity: Option<(i32, i32)>) -> Identity {
        self.leaf_named(names[0], names, validity)
    }

    /// [`leaf`](Self::leaf) with the subject CN `common_name` and the DNS or
    /// IP subjectAltNames `names` (none at all when empty).
    fn leaf_named(
        &self,
        common_name: &str,
        names: &[&str],
        validity: Option<(i32, i32)>,
    ) -> Identity {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Verify Org");
        params.is_ca = IsCa::ExplicitNoCa;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        if let Some((from, until)) = validity {
            params.not_before = date_time_ymd(from, 1, 1);
            params.not_after = date_time_ymd(until, 1, 1);
        }
        self.issue(params)
    }

    fn sha256(&self) -> String {
        SslCertificate::from_der(&self.der)
            .unwrap()
            .digest(DigestAlgorithm::Sha256)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A root, an intermediate and a leaf for `verify.test` and 127.0.0.1:
/// `chain.pem` (leaf, intermediate), `root.pem`, and the identities.
struct Setup {
    dir: TempDir,
    root: Identity,
    leaf: Identity,
    chain: String,
    root_pem: String,
}

impl Setup {
    /// `sslsocket verify chain.pem --ca root.pem` followed by `extra`.
    fn verify(&self, extra: &[&str]) -> Output {
        let mut args = vec!["verify", &self.chain, "--ca", &self.root_pem];
        args.extend_from_slice(extra);
        sslsocket(&args)
    }
}

fn setup() -> Setup {
    let dir = TempDir::new().unwrap();
    let root = Identity::ca("Verify Test Root");
    let intermediate = root.intermediate("Verify Test Intermediate");
    let leaf = intermediate.leaf(&["verify.test", "127.0.0.1"], None);
    let chain = write(
        dir.path(),
        "chain.pem",
        format!("{}{}", leaf.pem, intermediate.pem),
    );
    let root_pem = write(dir.path(), "root.pem", &root.pem);
    Setup {
        dir,
        root,
        leaf,
        chain,
        root_pem,
    }
}

#[test]
fn valid_chain_exits_0() {
    let s = setup();
    let out = s.verify(&[]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "OK: the chain is valid\n");

    let out = s.verify(&["--host", "verify.test"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "OK: the chain is valid for verify.test\n");

    let out = s.verify(&["--host", "127.0.0.1", "--json"]);
    assert_exit(&out, 0);
    assert_eq!(json_of(&out), json!({ "errors": [] }));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    // The CA file may be DER, and the system roots may be added.
    let root_der = write(s.dir.path(), "root.der", &s.root.der);
    let out = sslsocket(&["verify", &s.chain, "--ca", &root_der, "--system-ca"]);
    assert_exit(&out, 0);
}

#[test]
fn der_leaf_alone() {
    let dir = TempDir::new().unwrap();
    let root = Identity::ca("Verify DER Root");
    let leaf = root.leaf(&["der.verify.test"], None);
    let leaf_der = write(dir.path(), "leaf.der", &leaf.der);
    let root_pem = write(dir.path(), "root.pem", &root.pem);
    let out = sslsocket(&[
        "verify",
        &leaf_der,
        "--ca",
        &root_pem,
        "--host",
        "der.verify.test",
    ]);
    assert_exit(&out, 0);
}

#[test]
fn wrong_host_exits_1_with_host_name_mismatch() {
    let s = setup();
    let out = s.verify(&["--host", "wrong.test"]);
    assert_exit(&out, 1);
    assert_eq!(
        stdout(&out),
        "HostNameMismatch (22): The host name did not match any of the valid hosts for this \
         certificate — CN=verify.test, O=Verify Org\n"
    );

    let out = s.verify(&["--host", "wrong.test", "--json"]);
    assert_exit(&out, 1);
    assert_eq!(
        json_of(&out),
        json!({
            "errors": [{
                "error": "HostNameMismatch",
                "code": 22,
                "message": "The host name did not match any of the valid hosts for this certificate",
                "certificate": {
                    "subject": "CN=verify.test, O=Verify Org",
                    "sha256": s.leaf.sha256(),
                },
            }]
        })
    );
}

#[test]
fn expired_leaf_is_valid_in_the_past() {
    let dir = TempDir::new().unwrap();
    let root = Identity::ca("Verify Time Root");
    let leaf = root.leaf(&["old.verify.test"], Some((2020, 2021)));
    let leaf_pem = write(dir.path(), "leaf.pem", &leaf.pem);
    let root_pem = write(dir.path(), "root.pem", &root.pem);

    let out = sslsocket(&["verify", &leaf_pem, "--ca", &root_pem]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).starts_with("CertificateExpired (6): The certificate has expired"),
        "{}",
        stdout(&out)
    );

    for time in [
        "2020-06-01T12:00:00Z",
        "2020-06-01 12:00:00",
        "2020-06-01T14:00:00+02:00",
    ] {
        let out = sslsocket(&[
            "verify",
            &leaf_pem,
            "--ca",
            &root_pem,
            "--time",
            time,
            "--host",
            "old.verify.test",
        ]);
        assert_exit(&out, 0);
    }

    let out = sslsocket(&[
        "verify",
        &leaf_pem,
        "--ca",
        &root_pem,
        "--time",
        "2019-06-01T00:00:00Z",
        "--json",
    ]);
    assert_exit(&out, 1);
    assert_eq!(
        json_of(&out)["errors"][0]["error"],
        "CertificateNotYetValid"
    );
}

#[test]
fn client_purpose_on_a_server_only_leaf_exits_1() {
    let s = setup();
    let out = s.verify(&["--purpose", "client"]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).starts_with("InvalidPurpose (16)"),
        "{}",
        stdout(&out)
    );

    let out = s.verify(&["--purpose", "server"]);
    assert_exit(&out, 0);
    let out = s.verify(&["--purpose", "SERVER"]);
    assert_exit(&out, 0);
}

#[test]
fn depth_limits_the_chain() {
    let s = setup();
    // leaf + intermediate + root = 3.
    for depth in ["0", "3", "4"] {
        let out = s.verify(&["--depth", depth]);
        assert_exit(&out, 0);
    }
    let out = s.verify(&["--depth", "2", "--json"]);
    assert_exit(&out, 1);
    let report = json_of(&out);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["error"], "UnspecifiedError");
    assert_eq!(errors[0]["code"], -1);
}

#[test]
fn private_chain_fails_against_the_system_roots() {
    let s = setup();
    let out = sslsocket(&["verify", &s.chain]);
    assert_exit(&out, 1);
    assert!(!stdout(&out).contains("OK"), "{}", stdout(&out));

    let out = sslsocket(&["verify", &s.chain, "--system-ca", "--json"]);
    assert_exit(&out, 1);
    assert!(!json_of(&out)["errors"].as_array().unwrap().is_empty());
}

#[test]
fn input_errors_exit_2_with_one_line_each() {
    let s = setup();
    let garbage = write(s.dir.path(), "garbage.pem", "this is not a certificate\n");
    let missing = s.dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();

    let cases: &[(&[&str], &str)] = &[
        (&["verify", &garbage, "--ca", &s.root_pem], "garbage.pem"),
        (&["verify", &s.chain, "--ca", missing], "missing.pem"),
        (&["verify", missing, "--ca", &s.root_pem], "missing.pem"),
        (&["verify", &s.chain, "--ca", &garbage], "garbage.pem"),
        (
            &[
                "verify",
                &s.chain,
                "--ca",
                &s.root_pem,
                "--time",
                "yesterday",
            ],
            "--time",
        ),
        (
            &[
                "verify",
                &s.chain,
                "--ca",
                &s.root_pem,
                "--time",
                "2020-13-01T00:00:00Z",
            ],
            "--time",
        ),
        (
            &[
                "verify",
                &s.chain,
                "--ca",
                &s.root_pem,
                "--purpose",
                "email",
            ],
            "--purpose",
        ),
        (
            &["verify", &s.chain, "--ca", &s.root_pem, "--depth", "-1"],
            "--depth",
        ),
    ];
    for (args, what) in cases {
        let out = sslsocket(args);
        assert_exit(&out, 2);
        let problems = stderr(&out);
        assert_eq!(problems.lines().count(), 1, "{args:?}: {problems}");
        assert!(problems.contains(what), "{args:?}: {problems}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }

    // Every problem is reported, one line each.
    let out = sslsocket(&[
        "verify",
        &garbage,
        "--ca",
        missing,
        "--time",
        "soon",
        "--purpose",
        "x",
        "--json",
    ]);
    assert_exit(&out, 2);
    assert_eq!(stderr(&out).lines().count(), 4, "{}", stderr(&out));
}

#[test]
fn help_documents_the_json() {
    let out = sslsocket(&["verify", "--help"]);
    assert_exit(&out, 0);
    let help = stdout(&out);
    for word in [
        "--json",
        "\"errors\"",
        "`error`",
        "`code`",
        "`message`",
        "`certificate`",
        "sha256",
        "lowercase hex",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}

#[test]
fn qt_only_host_names_need_the_dangerous_flag() {
    let dir = TempDir::new().unwrap();
    let root = Identity::ca("Verify Qt Names Root");
    let root_pem = write(dir.path(), "root.pem", &root.pem);
    let partial = root.leaf(&["ba*.verify.test"], None);
    let cn_only = root.leaf_named("baz.verify.test", &[], None);
    for (what, leaf) in [("partial wildcard", &partial), ("CN only", &cn_only)] {
        let chain = write(dir.path(), "leaf.pem", &leaf.pem);
        let base = [
            "verify",
            &chain,
            "--ca",
            &root_pem,
            "--host",
            "baz.verify.test",
        ];
        let out = sslsocket(&base);
        assert_exit(&out, 1);
        assert!(
            stdout(&out).starts_with("HostNameMismatch (22)"),
            "{what}: {}",
            stdout(&out)
        );
        let mut opted_in = base.to_vec();
        opted_in.push("--dangerous-qt-host-names");
        let out = sslsocket(&opted_in);
        assert_exit(&out, 0);
        assert!(
            stderr(&out).contains("warning: --dangerous-qt-host-names"),
            "{what}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn crl_files_revoke_and_bad_ones_are_input_errors() {
    use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
    let dir = TempDir::new().unwrap();
    let root = Identity::ca("Verify CRL Root");
    let intermediate = root.intermediate("Verify CRL Intermediate");
    let leaf = intermediate.leaf(&["crl.verify.test"], None);
    let chain = write(
        dir.path(),
        "chain.pem",
        format!("{}{}", leaf.pem, intermediate.pem),
    );
    let root_pem = write(dir.path(), "root.pem", &root.pem);
    let serial: Vec<u8> = SslCertificate::from_der(&leaf.der)
        .unwrap()
        .serial_number()
        .split(':')
        .map(|byte| u8::from_str_radix(byte, 16).unwrap())
        .collect();
    let now = time::OffsetDateTime::now_utc();
    let list = |revoked: Vec<RevokedCertParams>| {
        CertificateRevocationListParams {
            // The newer list (made second here) is the one that counts.
            this_update: now - time::Duration::days(if revoked.is_empty() { 2 } else { 1 }),
            next_update: now + time::Duration::days(7),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&Issuer::from_params(
            &intermediate.params,
            &intermediate.key,
        ))
        .unwrap()
    };
    let revoking = list(vec![RevokedCertParams {
        serial_number: SerialNumber::from_slice(&serial),
        revocation_time: now - time::Duration::days(1),
        reason_code: None,
        invalidity_date: None,
    }]);
    let revoking_pem = write(dir.path(), "revoking.pem", revoking.pem().unwrap());
    let clean_der = write(dir.path(), "clean.crl", list(Vec::new()).der());
    let base = ["verify", chain.as_str(), "--ca", root_pem.as_str()];

    let mut revoked = base.to_vec();
    revoked.extend(["--crl", clean_der.as_str(), "--crl", revoking_pem.as_str()]);
    let out = sslsocket(&revoked);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).starts_with("CertificateRevoked (13)"),
        "{}",
        stdout(&out)
    );

    let mut clean = base.to_vec();
    clean.extend(["--crl", clean_der.as_str()]);
    assert_exit(&sslsocket(&clean), 0);

    let not_a_crl = write(dir.path(), "leaf-as-crl.pem", &leaf.pem);
    let mut bad = base.to_vec();
    bad.extend(["--crl", not_a_crl.as_str()]);
    let out = sslsocket(&bad);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no certificate revocation list"),
        "{}",
        stderr(&out)
    );
}
