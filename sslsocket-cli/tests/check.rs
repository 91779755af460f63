//! `sslsocket check` against local endpoints on 127.0.0.1: `sslsocket
//! serve` with certificates from `sslsocket gen` and `openssl ca` (valid,
//! expired, for another name, self-signed, valid for ten days), nothing
//! listening, and a listener that never answers. Every wait is bounded
//! (see `common::peers`).

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::peers::{self, Peer};
use common::{openssl, run};
use serde_json::Value;
use tempfile::TempDir;

/// The main CA's PKI from `sslsocket gen` (localhost, 127.0.0.1, with
/// `chain.pem`); `other/` for other.test and `short/` for localhost valid
/// ten days, each with a CA of its own; and `expired.pem`/`expired.key`,
/// signed by the main CA with `openssl ca` for January 2020.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki {
            dir: TempDir::new().unwrap(),
        };
        for args in [
            &["--out", ".", "--host", "localhost", "--host", "127.0.0.1"][..],
            &["--out", "other", "--host", "other.test"],
            &["--out", "short", "--host", "localhost", "--days", "10"],
        ] {
            let (code, out, err) = run(pki.dir(), &[&["gen"][..], args].concat());
            assert_eq!(code, Some(0), "gen {args:?}\n{out}\n{err}");
        }
        // OpenSSL 3.0's `x509` cannot set a start date in the past; `ca` can.
        std::fs::write(pki.dir().join("index.txt"), "").unwrap();
        std::fs::write(pki.dir().join("serial"), "01\n").unwrap();
        std::fs::write(
            pki.dir().join("ca.cnf"),
            "[ca]\ndefault_ca = local\n[local]\ndatabase = index.txt\nserial = serial\n\
             new_certs_dir = .\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\n\
             [any]\ncommonName = supplied\n",
        )
        .unwrap();
        openssl(
            pki.dir(),
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                "expired.key",
                "-out",
                "expired.csr",
            ],
        );
        openssl(
            pki.dir(),
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-cert",
                "ca.pem",
                "-keyfile",
                "ca.key",
                "-in",
                "expired.csr",
                "-out",
                "expired.pem",
                "-notext",
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20200201000000Z",
            ],
        );
        pki
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `sslsocket serve` with `cert` and `key` (none: a self-signed
    /// certificate for 127.0.0.1).
    fn serve(&self, identity: Option<(&str, &str)>) -> (Peer, u16) {
        match identity {
            Some((cert, key)) => peers::serve(self.dir(), &["--cert", cert, "--key", key]),
            None => peers::serve(self.dir(), &[]),
        }
    }
}

/// `sslsocket check ARGS --json`: (exit code, the array, stderr).
fn check_json(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let (code, out, err) = run(dir, &[&["check", "--json"][..], args].concat());
    let report: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, report.as_array().expect("an array").clone(), err)
}

fn targets_of(report: &[Value]) -> Vec<&str> {
    report
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect()
}

fn statuses_of(report: &[Value]) -> Vec<&str> {
    report
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

fn error_names(result: &Value) -> Vec<&str> {
    result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["error"].as_str().unwrap())
        .collect()
}

/// The cells of a table line: columns are apart by two blanks at least,
/// and no cell holds two blanks in a row.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
}

/// A port where nothing listens (bound a moment ago, then released).
fn nothing_listening() -> u16 {
    peers::free_port()
}

/// A listener that takes connections (the kernel completes them) and never
/// says anything: a handshake with it can only time out.
fn silent_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

// ---------------------------------------------------------------------------

/// The case: valid, expired, wrong name, self-signed, nothing
/// listening; the table, the JSON and the exit status.
#[test]
fn check_five_endpoints_table_json_and_exit_status() {
    let pki = Pki::new();
    let (_valid, valid) = pki.serve(Some(("chain.pem", "server.key")));
    let (_expired, expired) = pki.serve(Some(("expired.pem", "expired.key")));
    let (_other, other) = pki.serve(Some(("other/server.pem", "other/server.key")));
    let (_self_signed, self_signed) = pki.serve(None);
    let nothing = nothing_listening();
    let targets = [
        format!("localhost:{valid}"),
        format!("localhost:{expired}"),
        format!("localhost:{other}"),
        format!("127.0.0.1:{self_signed}"),
        format!("127.0.0.1:{nothing}"),
    ];
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    // Both CAs: the certificate for other.test is trusted, only its name is wrong.
    let trust = ["--ca", "ca.pem", "--ca", "other/ca.pem"];
    let all = [&targets[..], &trust[..]].concat();

    let (code, report, err) = check_json(pki.dir(), &all);
    assert_eq!(code, Some(2), "{report:?}\n{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(targets_of(&report), targets);
    assert_eq!(
        statuses_of(&report),
        ["ok", "failed", "failed", "failed", "unreachable"]
    );

    let ok = &report[0];
    assert_eq!(ok["verified"], true, "{ok}");
    assert_eq!(ok["errors"], serde_json::json!([]));
    assert_eq!(ok["expiring"], false);
    assert_eq!(ok["protocol"], "TlsV1_3");
    assert!(ok["cipher"].as_str().unwrap().starts_with("TLS_"), "{ok}");
    assert_eq!(ok["key_exchange_group"], "X25519MLKEM768");
    assert_eq!(ok["subject"], "CN=localhost");
    assert_eq!(
        ok["subject_alternative_names"],
        serde_json::json!([
            {"type": "DnsEntry", "value": "localhost"},
            {"type": "IpAddressEntry", "value": "127.0.0.1"}
        ])
    );
    assert_eq!(ok["address"], format!("127.0.0.1:{valid}"));
    assert_eq!(ok["error"], Value::Null);
    // chain.pem: the leaf and the CA, each with its days left.
    let chain = ok["peer_chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "{ok}");
    assert_eq!(chain[1]["subject"], "CN=sslsocket local CA, O=sslsocket");
    for certificate in chain {
        assert!(
            (360..=365).contains(&certificate["days_left"].as_i64().unwrap()),
            "{certificate}"
        );
    }
    assert_eq!(
        ok["days_left"],
        chain
            .iter()
            .map(|c| c["days_left"].as_i64().unwrap())
            .min()
            .unwrap()
    );

    // The rejected ones were still negotiated: protocol and chain are known.
    let expired_result = &report[1];
    assert_eq!(error_names(expired_result), ["CertificateExpired"]);
    assert_eq!(expired_result["verified"], false);
    assert_eq!(expired_result["protocol"], "TlsV1_3");
    assert!(expired_result["days_left"].as_i64().unwrap() < -2000);
    assert_eq!(expired_result["expiring"], true);
    assert_eq!(error_names(&report[2]), ["HostNameMismatch"]);
    assert_eq!(report[2]["subject"], "CN=other.test");
    assert_eq!(error_names(&report[3]), ["SelfSignedCertificate"]);
    let unreachable = &report[4];
    assert!(
        unreachable["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{unreachable}"
    );
    assert_eq!(unreachable["protocol"], Value::Null);
    assert_eq!(unreachable["peer_chain"], serde_json::json!([]));
    assert_eq!(unreachable["days_left"], Value::Null);

    // The table: a header, then one line per target in input order.
    let (code, out, err) = run(pki.dir(), &[&["check"][..], &all].concat());
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.is_empty(), "no progress off a terminal: {err:?}");
    assert!(!out.contains('\x1b'), "no colour off a terminal: {out}");
    let rows: Vec<Vec<&str>> = out.lines().map(cells).collect();
    assert_eq!(rows.len(), 6, "{out}");
    assert_eq!(
        rows[0],
        [
            "TARGET", "STATUS", "PROTOCOL", "CIPHER", "GROUP", "DAYS", "SUBJECT", "NAMES",
            "PROBLEMS"
        ]
    );
    for ((row, target), status) in rows[1..].iter().zip(&targets).zip(statuses_of(&report)) {
        assert_eq!(row.len(), 9, "{out}");
        assert_eq!(row[..2], [*target, status], "{out}");
    }
    let days: Vec<String> = chain.iter().map(|c| c["days_left"].to_string()).collect();
    assert_eq!(
        rows[1],
        [
            targets[0],
            "ok",
            "TlsV1_3",
            ok["cipher"].as_str().unwrap(),
            "X25519MLKEM768",
            &days.join(","),
            "CN=localhost",
            "DNS:localhost, IP:127.0.0.1",
            "-"
        ]
    );
    assert!(
        rows[2][8].starts_with("CertificateExpired, expired "),
        "{out}"
    );
    assert_eq!(rows[3][8], "HostNameMismatch");
    assert_eq!(rows[4][8], "SelfSignedCertificate");
    assert_eq!(rows[5][2..8], ["-"; 6]);
    assert!(
        rows[5][8].starts_with("cannot connect to 127.0.0.1:"),
        "{out}"
    );
    // Every column starts where its header does.
    let lines: Vec<&str> = out.lines().collect();
    let protocol = lines[0].find("PROTOCOL").unwrap();
    for line in &lines[1..] {
        let cell = &line[protocol..];
        assert!(
            cell.starts_with("TlsV1_3 ") || cell.starts_with("- "),
            "{out}"
        );
    }

    // Without the unreachable one: 1; the valid one alone: 0.
    let reached = [&targets[..4], &trust[..]].concat();
    let (code, report, err) = check_json(pki.dir(), &reached);
    assert_eq!(code, Some(1), "{report:?}\n{err}");
    assert_eq!(statuses_of(&report), ["ok", "failed", "failed", "failed"]);
    let (code, out, err) = run(pki.dir(), &["check", targets[0], "--ca", "ca.pem"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn check_warn_expiry_flags_a_ten_day_certificate() {
    let pki = Pki::new();
    let (_valid, valid) = pki.serve(Some(("server.pem", "server.key")));
    let (_short, short) = pki.serve(Some(("short/server.pem", "short/server.key")));
    let (valid, short) = (format!("localhost:{valid}"), format!("localhost:{short}"));
    let targets = [
        valid.as_str(),
        &short,
        "--ca",
        "ca.pem",
        "--ca",
        "short/ca.pem",
    ];
    let thirty = [&targets[..], &["--warn-expiry", "30"]].concat();

    let (code, report, err) = check_json(pki.dir(), &thirty);
    assert_eq!(code, Some(1), "{report:?}\n{err}");
    assert_eq!(statuses_of(&report), ["ok", "expiring"]);
    let flagged = &report[1];
    assert_eq!(flagged["verified"], true, "{flagged}");
    assert_eq!(flagged["expiring"], true);
    assert!(
        (9..=10).contains(&flagged["days_left"].as_i64().unwrap()),
        "{flagged}"
    );
    assert_eq!(report[0]["expiring"], false);

    let (code, out, err) = run(pki.dir(), &[&["check"][..], &thirty].concat());
    assert_eq!(code, Some(1), "{out}\n{err}");
    let line = out.lines().nth(2).unwrap();
    assert!(line.starts_with(&format!("{short}  expiring ")), "{out}");
    assert!(line.ends_with(" days left"), "{out}");

    // The default, 21 days, flags it too; 5 days does not.
    let (code, report, err) = check_json(pki.dir(), &targets);
    assert_eq!(code, Some(1), "{report:?}\n{err}");
    assert_eq!(statuses_of(&report), ["ok", "expiring"]);
    let five = [&targets[..], &["--warn-expiry", "5"]].concat();
    let (code, report, err) = check_json(pki.dir(), &five);
    assert_eq!(code, Some(0), "{report:?}\n{err}");
    assert_eq!(statuses_of(&report), ["ok", "ok"]);
}

/// Targets from the arguments, then from --file (comments and blank lines
/// skipped); results in that order whatever order they finish in, with
/// --parallel 1 as with the default; each target bounded by --timeout.
#[test]
fn check_file_order_parallel_and_timeout() {
    let pki = Pki::new();
    let (_valid, valid) = pki.serve(Some(("server.pem", "server.key")));
    let (_silent, silent) = silent_listener();
    let nothing = nothing_listening();
    std::fs::write(
        pki.dir().join("targets.txt"),
        format!(
            "# servers to watch\n\
             \n\
             127.0.0.1:{silent}   # never answers: finishes last\n\
             \x20  localhost:{valid}\n\
             #127.0.0.1:1\n\
             127.0.0.1:{nothing}\n\
             \t\n\
             127.0.0.1:{valid}#no blank needed\n"
        ),
    )
    .unwrap();
    let expected = [
        format!("localhost:{valid}"),
        format!("127.0.0.1:{silent}"),
        format!("localhost:{valid}"),
        format!("127.0.0.1:{nothing}"),
        format!("127.0.0.1:{valid}"),
    ];
    let first = expected[0].as_str();
    for parallel in ["1", "8"] {
        let (code, report, err) = check_json(
            pki.dir(),
            &[
                first,
                "--file",
                "targets.txt",
                "--ca",
                "ca.pem",
                "--timeout",
                "1",
                "--parallel",
                parallel,
            ],
        );
        assert_eq!(code, Some(2), "--parallel {parallel}: {report:?}\n{err}");
        assert_eq!(targets_of(&report), expected, "--parallel {parallel}");
        assert_eq!(
            statuses_of(&report),
            ["ok", "unreachable", "ok", "unreachable", "ok"],
            "--parallel {parallel}"
        );
        let timed_out = report[1]["error"].as_str().unwrap();
        assert!(timed_out.contains("timed out"), "{timed_out}");
    }

    // Three silent targets of a second each: at once by default, one
    // after the other with --parallel 1.
    let target = format!("127.0.0.1:{silent}");
    let timed = |parallel: &str| {
        let started = Instant::now();
        let (code, out, err) = run(
            pki.dir(),
            &[
                "check",
                &target,
                &target,
                &target,
                "--timeout",
                "1",
                "--parallel",
                parallel,
            ],
        );
        assert_eq!(code, Some(2), "{out}\n{err}");
        assert_eq!(out.matches("unreachable").count(), 3, "{out}");
        started.elapsed()
    };
    let serial = timed("1");
    assert!(serial >= Duration::from_secs(3), "{serial:?}");
    let parallel = timed("8");
    assert!(parallel < Duration::from_millis(2900), "{parallel:?}");
}

#[test]
fn check_starttls_against_serve() {
    let pki = Pki::new();
    let (_server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "server.pem",
            "--key",
            "server.key",
            "--starttls",
            "smtp",
        ],
    );
    let (code, report, err) = check_json(
        pki.dir(),
        &[
            &format!("localhost:{port}"),
            "--starttls",
            "smtp",
            "--ca",
            "ca.pem",
        ],
    );
    assert_eq!(code, Some(0), "{report:?}\n{err}");
    assert_eq!(statuses_of(&report), ["ok"]);
    assert_eq!(report[0]["protocol"], "TlsV1_3");
}

#[test]
fn check_input_errors_exit_2_with_one_line_each() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("bad.txt"),
        "localhost:443\n# fine so far\nlocalhost:99999\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.txt"), "# nothing here\n\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["check", "localhost:0"], "\"0\" is not a port number"),
        (
            &["check", "localhost:https"],
            "\"https\" is not a port number",
        ),
        (&["check", "[::1"], "missing ']'"),
        (&["check", ":443"], "no host name"),
        (&["check", "--file", "missing.txt"], "missing.txt"),
        (&["check", "--file", "bad.txt"], "bad.txt:3: "),
        (&["check", "--file", "empty.txt"], "no target"),
        (&["check", "localhost:1", "--timeout", "soon"], "seconds"),
        (
            &["check", "localhost:1", "--ca", "missing.pem"],
            "missing.pem",
        ),
        (
            &["check", "localhost:1", "--protocol", "TlsV1_1"],
            "refused",
        ),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}\n{out}\n{err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("sslsocket: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Every problem is reported before anything is checked.
    let (code, out, err) = run(
        dir.path(),
        &[
            "check",
            "localhost:0",
            "localhost:1",
            "--file",
            "missing.txt",
        ],
    );
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 2, "{err}");
    // Usage errors, from clap.
    for args in [
        &["check"][..],
        &["check", "localhost:1", "--parallel", "0"],
        &["check", "localhost:1", "--peer-name", "x"],
        &["check", "localhost:1", "--warn-expiry", "-1"],
    ] {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}\n{out}\n{err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn check_help_documents_json_fields_exit_status_and_examples() {
    let dir = TempDir::new().unwrap();
    let (code, out, err) = run(dir.path(), &["check", "--help"]);
    assert_eq!(code, Some(0), "{err}");
    for needle in [
        "Examples:",
        "Exit status: 0",
        "2 wins over 1",
        "`unreachable`",
        "`days_left`",
        "`peer_chain`",
        "`key_exchange_group`",
        "--warn-expiry",
        "--parallel",
        "--starttls",
        "--ca",
        "--crl",
        "--protocol",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    let (code, out, _) = run(dir.path(), &["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("sslsocket check"), "{out}");
}
