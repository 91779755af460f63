//! `sslsocket connect`, `serve`, `gen` and `demo` on 127.0.0.1, against each
//! other and against real peers: `openssl s_server` / `s_client`, `curl`
//! and Python's `ssl` module. The PKI comes from `sslsocket gen`. Every
//! child process is killed when its test ends and every wait is bounded
//! (see `common::peers`).

mod common;

use std::path::Path;
use std::process::Command;

use common::peers::{self, Peer, STEP};
use common::{openssl, run};
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// A directory with `sslsocket gen` output for localhost and 127.0.0.1,
/// with a client certificate for "alice", and a self-signed certificate
/// (`self.pem`, `self.key`) made by openssl.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = TempDir::new().unwrap();
        let (status, out, err) = run(
            dir.path(),
            &[
                "gen",
                "--out",
                ".",
                "--host",
                "localhost",
                "--host",
                "127.0.0.1",
                "--client",
                "alice",
            ],
        );
        assert!(status == Some(0), "gen failed\n{out}\n{err}");
        let pki = Pki { dir };
        openssl(
            pki.dir(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-days",
                "2",
                "-keyout",
                "self.key",
                "-out",
                "self.pem",
            ],
        );
        pki
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The JSON log lines of `serve --json`.
fn log_lines(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

/// `openssl s_server` with the gen'd server certificate, reversing lines.
fn s_server(pki: &Pki, cert: &str, key: &str) -> (Peer, u16) {
    peers::openssl_s_server(
        pki.dir(),
        &[
            "-cert",
            &pki.path(cert),
            "-key",
            &pki.path(key),
            "-rev",
            "-quiet",
        ],
    )
}

/// The SHA-256 of a PEM certificate file, lowercase hex without colons.
fn sha256_of(pki: &Pki, file: &str) -> String {
    let out = openssl(
        pki.dir(),
        &["x509", "-in", file, "-noout", "-fingerprint", "-sha256"],
    );
    out.trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_ascii_lowercase()
}

// ---------------------------------------------------------------------------
// connect against openssl s_server
// ---------------------------------------------------------------------------

#[test]
fn connect_verifies_s_server_and_relays() {
    let pki = Pki::new();
    let (_server, port) = s_server(&pki, "server.pem", "server.key");
    let target = format!("localhost:{port}");
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--send",
            "hello\\n",
            "--timeout",
            "1",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["encrypted"], true, "{report}");
    assert_eq!(report["protocol"], "TlsV1_3");
    assert!(
        report["cipher"].as_str().unwrap().starts_with("TLS_"),
        "{report}"
    );
    assert!(report["key_exchange_group"].is_string(), "{report}");
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["peer_name"], "localhost");
    let chain = report["peer_chain"].as_array().unwrap();
    assert_eq!(chain[0]["subject"], "CN=localhost");
    assert_eq!(chain[0]["issuer"], "CN=sslsocket local CA, O=sslsocket");
    assert!(chain[0]["days_left"].as_i64().unwrap() >= 364);
    assert_eq!(report["received"], "olleh\n", "{report}");

    // The same in text: the report on stderr, the peer's data on stdout.
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--send",
            "abc\\n",
            "--timeout",
            "1",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out, "cba\n");
    assert!(err.contains("Protocol       TlsV1_3"), "{err}");
    assert!(err.contains("0 subject    CN=localhost"), "{err}");
    assert!(
        err.contains("names      DNS:localhost, IP:127.0.0.1"),
        "{err}"
    );
    assert!(
        err.contains("Verification   ok the chain is valid for localhost"),
        "{err}"
    );
    assert!(
        !err.contains('\x1b'),
        "no colour when not on a terminal: {err}"
    );

    // Without --send, stdin is relayed (here until it ends and the peer
    // has been silent for --timeout).
    let mut client = peers::sslsocket(
        pki.dir(),
        &["connect", &target, "--ca", "ca.pem", "--timeout", "1"],
    );
    client.write_stdin(b"line one\n");
    client.wait_for_stdout("eno enil\n", STEP);
    client.write_stdin(b"two\n");
    client.close_stdin();
    let status = client.wait_for_exit(STEP);
    assert!(status.success(), "{}", client.output());
    assert_eq!(client.stdout(), "eno enil\nowt\n");
}

#[test]
fn connect_by_the_wrong_name_fails_unless_that_error_is_ignored() {
    let pki = Pki::new();
    let (_server, port) = s_server(&pki, "server.pem", "server.key");
    let target = format!("127.0.0.1:{port}");
    let base = [
        "connect",
        target.as_str(),
        "--ca",
        "ca.pem",
        "--peer-name",
        "wrong.example",
        "--handshake-only",
    ];

    let (code, out, err) = run(pki.dir(), &base);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("HostNameMismatch (22)"), "{err}");
    assert!(err.contains("Verification   FAIL"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("sslsocket: connect") && last.contains("HostNameMismatch"),
        "{err}"
    );

    let mut json_args = base.to_vec();
    json_args.push("--json");
    let (code, out, _) = run(pki.dir(), &json_args);
    assert_eq!(code, Some(1));
    let report = json(&out);
    assert_eq!(report["encrypted"], false);
    assert_eq!(report["protocol"], Value::Null);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["error"], "HostNameMismatch");
    assert_eq!(errors[0]["code"], 22);
    assert_eq!(errors[0]["certificate"]["subject"], "CN=localhost");
    assert_eq!(
        errors[0]["certificate"]["sha256"],
        sha256_of(&pki, "server.pem")
    );
    assert!(
        report["error"].as_str().unwrap().contains("rejected"),
        "{report}"
    );

    // Ignoring exactly that error lets the connection through; it is still reported.
    let mut ignoring = json_args.clone();
    ignoring.extend(["--ignore", "HostNameMismatch"]);
    let (code, out, err) = run(pki.dir(), &ignoring);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["encrypted"], true);
    assert_eq!(report["errors"][0]["error"], "HostNameMismatch");

    // Ignoring another error does not.
    let mut other = base.to_vec();
    other.extend(["--ignore", "SelfSignedCertificate"]);
    let (code, _, err) = run(pki.dir(), &other);
    assert_eq!(code, Some(1), "{err}");

    // A configuration that cannot work is an input error, found when the
    // handshake starts: one line, exit 2.
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--protocol",
            "TlsV1_3",
            "--ciphers",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "--handshake-only",
        ],
    );
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("none of the configured ciphers"), "{err}");

    // Nor does verifying by the right name fail.
    let (code, _, err) = run(
        pki.dir(),
        &["connect", &target, "--ca", "ca.pem", "--handshake-only"],
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn connect_to_a_self_signed_s_server() {
    let pki = Pki::new();
    let (_server, port) = s_server(&pki, "self.pem", "self.key");
    let target = format!("localhost:{port}");
    for trust in [&["--ca", "ca.pem"][..], &[][..]] {
        let mut args = vec!["connect", target.as_str(), "--handshake-only", "--json"];
        args.extend_from_slice(trust);
        let (code, out, err) = run(pki.dir(), &args);
        assert_eq!(code, Some(1), "{out}\n{err}");
        let report = json(&out);
        let names: Vec<&str> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["error"].as_str().unwrap())
            .collect();
        // Against the system's roots the library currently adds an
        // UnspecifiedError for openssl-made certificates (webpki: "a signature
        // uses an unsupported algorithm"); Qt's error comes first either way.
        if trust.is_empty() {
            assert_eq!(names[0], "SelfSignedCertificate", "{report}");
        } else {
            assert_eq!(names, ["SelfSignedCertificate"], "{report}");
        }
        assert_eq!(
            report["errors"][0]["certificate"]["sha256"],
            sha256_of(&pki, "self.pem")
        );
        assert!(err.contains("SelfSignedCertificate"), "{err}");
    }
    // Trusting it (--ca of the certificate itself) or asking only to
    // query: encrypted.
    let (code, _, err) = run(
        pki.dir(),
        &["connect", &target, "--ca", "self.pem", "--handshake-only"],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(
        pki.dir(),
        &["connect", &target, "--verify", "query", "--handshake-only"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("reported only (--verify query)"), "{err}");
    assert!(err.contains("SelfSignedCertificate"), "{err}");
}

#[test]
fn connect_with_a_client_certificate_to_s_server() {
    let pki = Pki::new();
    let (server, port) = peers::openssl_s_server(
        pki.dir(),
        &[
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
            "-CAfile",
            &pki.path("ca.pem"),
            "-Verify",
            "1",
            "-verify_return_error",
            "-rev",
        ],
    );
    let target = format!("localhost:{port}");
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--cert",
            "client.pem",
            "--key",
            "client.key",
            "--send",
            "mtls\\n",
            "--timeout",
            "1",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}\n{}", server.output());
    assert_eq!(out, "sltm\n");
    assert!(
        server.stderr().contains("Peer certificate: CN = alice"),
        "{}",
        server.output()
    );
}

#[test]
fn connect_with_chosen_groups_to_s_server() {
    let pki = Pki::new();
    let (_server, port) = peers::openssl_s_server(
        pki.dir(),
        &[
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
            "-groups",
            "P-384:P-256",
            "-rev",
            "-quiet",
        ],
    );
    let target = format!("localhost:{port}");
    let connect = |groups: &str| {
        run(
            pki.dir(),
            &[
                "connect",
                &target,
                "--ca",
                "ca.pem",
                "--groups",
                groups,
                "--timeout",
                "1",
                "--json",
            ],
        )
    };
    // P-384 is the server's choice among the client's groups.
    let (code, out, err) = connect("X25519:P-256:P-384");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(json(&out)["key_exchange_group"], "P-384", "{out}");
    // Nothing in common: the handshake fails (exit 1), it is not an input error.
    let (code, out, err) = connect("X25519");
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert_eq!(json(&out)["encrypted"], false, "{out}");
}

#[test]
fn connect_usage_and_input_errors_exit_2() {
    let dir = TempDir::new().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["connect", "localhost:1", "--protocol", "TlsV1_1"],
            "TlsV1_1 is refused",
        ),
        (
            &["connect", "localhost:1", "--protocol", "Tls9"],
            "expected one of",
        ),
        (
            &["connect", "localhost:1", "--ignore", "NoSuchError"],
            "NoSuchError",
        ),
        (&["connect", "localhost:0"], "port"),
        (
            &["connect", "localhost:1", "--ca", "missing.pem"],
            "missing.pem",
        ),
        (
            &["connect", "localhost:1", "--ciphers", "RC4-MD5"],
            "RC4-MD5",
        ),
        (
            &["connect", "localhost:1", "--groups", "X25519:ffdhe2048"],
            "ffdhe2048",
        ),
        (
            &[
                "connect",
                "localhost:1",
                "--protocol",
                "TlsV1_2",
                "--groups",
                "X25519MLKEM768",
            ],
            "TLS 1.3",
        ),
        (
            &[
                "connect",
                "localhost:1",
                "--protocol",
                "TlsV1_3",
                "--ciphers",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
            ],
            "ciphers",
        ),
        (&["connect", "localhost:1", "--timeout", "soon"], "seconds"),
        (&["connect", "localhost:1", "--cert", "c.pem"], "--key"),
        (
            &["connect", "localhost:1", "--starttls", "gopher"],
            "gopher",
        ),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}\n{out}\n{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn connect_to_nothing_exits_1() {
    let dir = TempDir::new().unwrap();
    let port = peers::free_port();
    let (code, out, err) = run(
        dir.path(),
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--handshake-only",
            "--json",
        ],
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["encrypted"], false);
    assert!(
        report["error"].as_str().unwrap().contains("cannot connect"),
        "{report}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, out, err) = run(
        dir.path(),
        &["connect", &format!("127.0.0.1:{port}"), "--handshake-only"],
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("sslsocket: connect 127.0.0.1:"), "{err}");
}

// ---------------------------------------------------------------------------
// connect --showcerts, --save-chain and --reconnect against our serve
// ---------------------------------------------------------------------------

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";

#[test]
fn connect_showcerts_output_feeds_openssl_verify() {
    let pki = Pki::new();
    let (_server, port) = peers::serve(pki.dir(), &["--cert", "chain.pem", "--key", "server.key"]);
    let target = format!("localhost:{port}");
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--handshake-only",
            "--showcerts",
            "--save-chain",
            "saved.pem",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    // stdout is the chain alone: the report is on stderr.
    assert!(out.starts_with(PEM_BEGIN), "{out}");
    assert_eq!(out.matches(PEM_BEGIN).count(), 2, "{out}");
    assert!(err.contains("Verification   ok"), "{err}");
    std::fs::write(pki.dir().join("shown.pem"), &out).unwrap();
    let verified = openssl(
        pki.dir(),
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-untrusted",
            "shown.pem",
            "server.pem",
        ],
    );
    assert_eq!(verified.trim(), "server.pem: OK");
    // Leaf first, as sent.
    assert_eq!(sha256_of(&pki, "shown.pem"), sha256_of(&pki, "server.pem"));
    let saved = std::fs::read_to_string(pki.dir().join("saved.pem")).unwrap();
    assert_eq!(saved, out);

    // With --json the chain is a field, and stdout stays one object.
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--handshake-only",
            "--showcerts",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    let pem: Vec<&str> = report["peer_chain_pem"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(pem.concat(), saved);
    let (_, out, _) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--handshake-only",
            "--json",
        ],
    );
    assert!(json(&out).get("peer_chain_pem").is_none(), "{out}");

    // Without --ca the chain is rejected, and still saved to be inspected.
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--handshake-only",
            "--save-chain",
            "rejected.pem",
        ],
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("rejected"), "{err}");
    let rejected = std::fs::read_to_string(pki.dir().join("rejected.pem")).unwrap();
    assert_eq!(rejected, saved);
}

#[test]
fn connect_reconnect_resumes_the_session() {
    let pki = Pki::new();
    let (mut server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "chain.pem",
            "--key",
            "server.key",
            "--max-connections",
            "6",
            "--json",
        ],
    );
    let target = format!("localhost:{port}");
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--handshake-only",
            "--reconnect",
            "2",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("connection "))
        .collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].starts_with("connection 1: full handshake, handshake "),
        "{err}"
    );
    assert!(
        lines[1].starts_with("connection 2: resumed, handshake "),
        "{err}"
    );
    assert!(
        lines[2].starts_with("connection 3: resumed, handshake "),
        "{err}"
    );
    assert!(lines.iter().all(|l| l.contains(" ms")), "{err}");

    // The relay is the first connection's.
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--send",
            "hello\\n",
            "--timeout",
            "1",
            "--reconnect",
            "2",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["received"], "hello\n", "{report}");
    let connections = report["connections"].as_array().unwrap();
    let resumed: Vec<&Value> = connections.iter().map(|c| &c["resumed"]).collect();
    assert_eq!(resumed, [false, true, true], "{report}");
    for (n, connection) in connections.iter().enumerate() {
        assert_eq!(connection["index"], n + 1, "{report}");
        assert_eq!(connection["protocol"], "TlsV1_3", "{report}");
        assert_eq!(connection["error"], Value::Null, "{report}");
        for time in ["connect_ms", "handshake_ms"] {
            assert!(connection[time].as_f64().unwrap() > 0.0, "{report}");
        }
    }
    assert_eq!(report["session_resumed"], false);

    // The server saw the same: each process starts without sessions.
    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
    let resumed: Vec<Value> = log_lines(&server.stdout())
        .into_iter()
        .filter(|l| l["event"] == "connection")
        .map(|l| l["session_resumed"].clone())
        .collect();
    assert_eq!(resumed, [false, true, true, false, true, true]);

    // A reconnection that fails fails the run: this server takes one client.
    let (_server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "chain.pem",
            "--key",
            "server.key",
            "--max-connections",
            "1",
        ],
    );
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &format!("localhost:{port}"),
            "--ca",
            "ca.pem",
            "--handshake-only",
            "--timeout",
            "5",
            "--reconnect",
            "1",
            "--json",
        ],
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["connections"][0]["error"], Value::Null, "{report}");
    assert!(report["connections"][1]["error"].is_string(), "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .starts_with("connection 2: "),
        "{report}"
    );
    assert!(err.contains("(connection 2)"), "{err}");
}

#[test]
fn connect_reconnect_and_save_chain_usage_errors_exit_2() {
    let dir = TempDir::new().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["connect", "localhost:1", "--reconnect", "0"],
            "--reconnect",
        ),
        (
            &["connect", "localhost:1", "--reconnect", "101"],
            "--reconnect",
        ),
        (
            &[
                "connect",
                "localhost:1",
                "--save-chain",
                "missing/chain.pem",
            ],
            "--save-chain missing/chain.pem",
        ),
        (
            &["connect", "localhost:1", "--save-chain", "."],
            "--save-chain .",
        ),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}\n{out}\n{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        if needle.starts_with("--save-chain") {
            // Refused before connecting: one line, no report.
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}

// ---------------------------------------------------------------------------
// STARTTLS
// ---------------------------------------------------------------------------

#[test]
fn connect_starttls_against_our_serve() {
    let pki = Pki::new();
    for protocol in ["smtp", "imap", "pop3"] {
        let (mut server, port) = peers::serve(
            pki.dir(),
            &[
                "--cert",
                "server.pem",
                "--key",
                "server.key",
                "--starttls",
                protocol,
                "--max-connections",
                "1",
                "--json",
            ],
        );
        let target = format!("localhost:{port}");
        let (code, out, err) = run(
            pki.dir(),
            &[
                "connect",
                &target,
                "--ca",
                "ca.pem",
                "--starttls",
                protocol,
                "--send",
                "over TLS\\n",
                "--timeout",
                "1",
                "--json",
            ],
        );
        assert_eq!(
            code,
            Some(0),
            "{protocol}\n{out}\n{err}\n{}",
            server.output()
        );
        let report = json(&out);
        assert_eq!(report["starttls"], protocol);
        assert_eq!(report["encrypted"], true);
        assert_eq!(report["received"], "over TLS\n", "{report}");
        assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
        let log = log_lines(&server.stdout());
        assert_eq!(log[0]["event"], "listening");
        assert_eq!(log[0]["starttls"], protocol);
        assert_eq!(log[1]["event"], "connection", "{log:?}");
        assert_eq!(log[1]["protocol"], "TlsV1_3");
        assert_eq!(log[2]["event"], "stopped");
        assert_eq!(log[2]["reason"], "max-connections");
    }
}

#[test]
fn connect_starttls_smtp_against_python() {
    let pki = Pki::new();
    let (mut server, port) =
        peers::python_smtp_server(pki.dir(), &pki.path("server.pem"), &pki.path("server.key"));
    let target = format!("localhost:{port}");
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &target,
            "--ca",
            "ca.pem",
            "--starttls",
            "smtp",
            "--crlf",
            "--send",
            "EHLO again.example\\nQUIT\\n",
            "--timeout",
            "2",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}\n{}", server.output());
    assert_eq!(
        out,
        "250-localhost greets you again\r\n250 AUTH PLAIN\r\n221 2.0.0 Bye\r\n"
    );
    assert!(err.contains("STARTTLS       smtp"), "{err}");
    server.wait_for_stdout("DONE", STEP);
    let log = server.stdout();
    assert!(
        log.contains("PLAIN EHLO [127.0.0.1]\nPLAIN STARTTLS\n"),
        "{log}"
    );
    assert!(log.contains("VERSION TLSv1.3\n"), "{log}");
    assert!(log.contains("TLS EHLO again.example\nTLS QUIT\n"), "{log}");
}

/// A server in Python for the other STARTTLS exchanges of `connect`:
/// ftp, xmpp or postgres (the first argument after the port), then
/// `wrap_socket(server_side=True)`, one line echoed as "echo: LINE", and a
/// clean TLS close. Args: port, mode, certificate file, key file.
const PYTHON_STARTTLS_SERVER: &str = r#"
import socket, ssl, sys

port, mode, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)

def read_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        if not byte:
            raise EOFError("connection closed")
        line += byte
    return line.decode().rstrip("\r\n")

def read_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data.decode()

def upgrade(conn):
    if mode == "ftp":
        conn.sendall(b"220-python FTP\r\n220 ready\r\n")
        command = read_line(conn)
        print("PLAIN", command)
        conn.sendall(b"234 AUTH TLS OK\r\n")
    elif mode == "xmpp":
        header = read_until(conn, b"version='1.0'>")
        print("PLAIN", "to='localhost'" in header and "stream header" or header)
        conn.sendall(b"<?xml version='1.0'?><stream:stream from='localhost' id='s1' version='1.0' "
                     b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                     b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                     b"<required/></starttls></stream:features>")
        print("PLAIN", read_until(conn, b"/>"))
        conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    elif mode == "postgres":
        request = b""
        while len(request) < 8:
            chunk = conn.recv(8 - len(request))
            if not chunk:
                raise EOFError("connection closed")
            request += chunk
        print("PLAIN", request.hex())
        conn.sendall(b"S")

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(8)
while True:
    conn, _ = listener.accept()
    conn.settimeout(20)
    try:
        upgrade(conn)
        tls = context.wrap_socket(conn, server_side=True)
        line = read_line(tls)
        print("TLS", line)
        tls.sendall(("echo: " + line + "\n").encode())
        print("DONE", flush=True)
        tls.unwrap().close()
    except (OSError, EOFError, ValueError) as e:
        print("SKIP", repr(e), file=sys.stderr, flush=True)
    finally:
        conn.close()
"#;

#[test]
fn connect_starttls_ftp_xmpp_postgres_against_python() {
    let pki = Pki::new();
    for (mode, plain) in [
        ("ftp", "PLAIN AUTH TLS\n"),
        (
            "xmpp",
            "PLAIN stream header\nPLAIN <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\n",
        ),
        ("postgres", "PLAIN 0000000804d2162f\n"),
    ] {
        let (mut server, port) = peers::python_server(
            pki.dir(),
            "starttls_server",
            PYTHON_STARTTLS_SERVER,
            &[
                mode.to_owned(),
                pki.path("server.pem"),
                pki.path("server.key"),
            ],
        );
        let (code, out, err) = run(
            pki.dir(),
            &[
                "connect",
                &format!("localhost:{port}"),
                "--ca",
                "ca.pem",
                "--starttls",
                mode,
                "--send",
                "ping\\n",
                "--json",
            ],
        );
        assert_eq!(code, Some(0), "{mode}\n{out}\n{err}\n{}", server.output());
        let report = json(&out);
        assert_eq!(report["encrypted"], true, "{report}");
        assert_eq!(report["received"], "echo: ping\n", "{report}");
        assert_eq!(report["truncated"], false, "{report}");
        server.wait_for_stdout("DONE", STEP);
        let log = server.stdout();
        assert!(log.contains(plain), "{mode}: {log}");
        assert!(log.contains("TLS ping\n"), "{mode}: {log}");
    }
}

// ---------------------------------------------------------------------------
// serve against openssl s_client and curl
// ---------------------------------------------------------------------------

/// s_client arguments that verify our server strictly and relay stdin.
fn strict_s_client(ca: &str) -> Vec<&str> {
    vec![
        "-CAfile",
        ca,
        "-servername",
        "localhost",
        "-verify_hostname",
        "localhost",
        "-verify_return_error",
        "-ign_eof",
        "-nocommands",
    ]
}

#[test]
fn s_client_to_serve_echo() {
    let pki = Pki::new();
    let (mut server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "chain.pem",
            "--key",
            "server.key",
            "--max-connections",
            "1",
            "--timeout",
            "1",
        ],
    );
    let ca = pki.path("ca.pem");
    let mut client = peers::openssl_s_client(
        pki.dir(),
        port,
        &strict_s_client(&ca),
        b"hello from s_client\n",
    );
    let status = client.wait_for_exit(STEP);
    assert!(status.success(), "{}\n{}", client.output(), server.output());
    let out = client.stdout();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.contains("hello from s_client\n"), "{out}");
    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
    let log = server.stderr();
    assert!(
        log.contains("TlsV1_3  TLS_") && log.contains("no client certificate  errors: none"),
        "{log}"
    );
    assert!(log.contains("stopped after 1 connection(s)"), "{log}");
}

#[test]
fn s_client_starttls_smtp_to_serve() {
    let pki = Pki::new();
    let (mut server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "server.pem",
            "--key",
            "server.key",
            "--starttls",
            "smtp",
            "--max-connections",
            "1",
            "--timeout",
            "1",
        ],
    );
    let ca = pki.path("ca.pem");
    let mut args = strict_s_client(&ca);
    args.extend(["-starttls", "smtp", "-name", "client.example"]);
    let mut client = peers::openssl_s_client(pki.dir(), port, &args, b"EHLO over tls\n");
    let status = client.wait_for_exit(STEP);
    assert!(status.success(), "{}\n{}", client.output(), server.output());
    let out = client.stdout();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    // After the upgrade the echo responder answers.
    assert!(out.contains("EHLO over tls\n"), "{out}");
    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
    assert!(server.stderr().contains("TlsV1_3"), "{}", server.output());
}

#[test]
fn s_client_with_and_without_a_client_certificate() {
    let pki = Pki::new();
    let (mut server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "server.pem",
            "--key",
            "server.key",
            "--ca",
            "ca.pem",
            "--verify",
            "peer",
            "--max-connections",
            "2",
            "--timeout",
            "1",
            "--json",
        ],
    );
    let ca = pki.path("ca.pem");
    let mut args = strict_s_client(&ca);
    args.extend(["-cert", "client.pem", "-key", "client.key"]);
    let mut client = peers::openssl_s_client(pki.dir(), port, &args, b"with a certificate\n");
    let status = client.wait_for_exit(STEP);
    assert!(status.success(), "{}\n{}", client.output(), server.output());
    // (s_client prints the session tickets without a line end after them.)
    assert!(
        client.stdout().contains("with a certificate\n"),
        "{}",
        client.output()
    );

    let mut anonymous =
        peers::openssl_s_client(pki.dir(), port, &strict_s_client(&ca), b"anonymous\n");
    anonymous.wait_for_exit(STEP);
    assert!(
        !anonymous.stdout().contains("anonymous\n"),
        "{}",
        anonymous.output()
    );

    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
    let log = log_lines(&server.stdout());
    let connection = log.iter().find(|l| l["event"] == "connection").unwrap();
    assert_eq!(connection["client_certificate"], "CN=alice", "{log:?}");
    assert_eq!(connection["errors"], serde_json::json!([]));
    let failed = log.iter().find(|l| l["event"] == "failed").unwrap();
    assert_eq!(failed["errors"][0]["error"], "NoPeerCertificate", "{log:?}");
}

#[test]
fn curl_to_serve_http() {
    let pki = Pki::new();
    let (mut server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "server.pem",
            "--key",
            "server.key",
            "--http",
            "--max-connections",
            "1",
            "--json",
        ],
    );
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/hello");
    let ca = pki.path("ca.pem");
    let mut curl = peers::curl(
        pki.dir(),
        &[
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            &ca,
            "--resolve",
            &resolve,
            &url,
            &url,
        ],
    );
    let status = curl.wait_for_exit(STEP);
    assert_eq!(
        status.code(),
        Some(0),
        "{}\n{}",
        curl.output(),
        server.output()
    );
    let page = curl.stdout();
    assert_eq!(
        page.matches("request             GET /hello HTTP/1.1")
            .count(),
        2,
        "{page}"
    );
    assert!(page.contains("protocol            TlsV1_3"), "{page}");
    assert!(page.contains("alpn                http/1.1"), "{page}");
    assert!(page.contains("client certificate  none"), "{page}");
    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
    let log = log_lines(&server.stdout());
    // Two requests, one connection (keep-alive).
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[1]["alpn"], "http/1.1");
    assert_eq!(log[1]["client_certificate"], Value::Null);
}

#[test]
fn serve_self_signed_and_connect_by_fingerprint() {
    let dir = TempDir::new().unwrap();
    let (mut server, port) = peers::serve(
        dir.path(),
        &["--max-connections", "1", "--alpn", "http/1.1", "--json"],
    );
    let listening = json(server.stdout().lines().next().unwrap());
    assert_eq!(listening["certificate"]["self_signed"], true);
    assert_eq!(listening["certificate"]["subject"], "CN=127.0.0.1");
    let (code, out, err) = run(
        dir.path(),
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--verify",
            "query",
            "--handshake-only",
            "--alpn",
            "h2,http/1.1",
            "--keylog",
            "keys.log",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["errors"][0]["error"], "SelfSignedCertificate");
    assert_eq!(report["alpn"], "http/1.1", "{report}");
    // Both with the default groups: post-quantum.
    assert_eq!(report["key_exchange_group"], "X25519MLKEM768", "{report}");
    assert!(err.contains("--keylog"), "{err}");
    let keys = std::fs::read_to_string(dir.path().join("keys.log")).unwrap();
    assert!(keys.contains("CLIENT_TRAFFIC_SECRET_0 "), "{keys}");
    assert_eq!(
        report["peer_chain"][0]["sha256_fingerprint"],
        listening["certificate"]["sha256_fingerprint"]
    );
    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
}

/// `--hello-timeout` closes connections that say nothing, and
/// `--max-handshakes` lets a real client in past more silent ones than it
/// allows (the oldest silent one makes room).
#[test]
fn serve_drops_silent_clients_and_still_serves() {
    use std::io::Read;
    let dir = TempDir::new().unwrap();
    let (mut server, port) = peers::serve(
        dir.path(),
        &[
            "--hello-timeout",
            "1",
            "--timeout",
            "60",
            "--max-handshakes",
            "5",
        ],
    );
    let mut silent: Vec<std::net::TcpStream> = (0..10)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let (code, out, err) = run(
        dir.path(),
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--verify",
            "query",
            "--handshake-only",
            "--timeout",
            "10",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}\n{}", server.output());
    for stream in &mut silent {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let ended = match stream.read(&mut [0; 64]) {
            Ok(n) => n == 0,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        };
        assert!(
            ended,
            "a silent connection stayed open\n{}",
            server.output()
        );
    }
    let stop = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(stop.success());
    assert!(server.wait_for_exit(STEP).success(), "{}", server.output());
    assert!(
        server.stderr().contains("dropped before its ClientHello"),
        "{}",
        server.output()
    );
}

#[test]
fn serve_stops_cleanly_on_sigint() {
    let dir = TempDir::new().unwrap();
    let (mut server, _port) = peers::serve(dir.path(), &[]);
    let kill = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = server.wait_for_exit(STEP);
    assert_eq!(status.code(), Some(0), "{}", server.output());
    assert!(
        server
            .stderr()
            .contains("stopped after 0 connection(s): interrupted"),
        "{}",
        server.output()
    );
}

#[test]
fn serve_input_errors_exit_2() {
    let dir = TempDir::new().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["serve", "--cert", "missing.pem", "--key", "missing.key"],
            "missing.pem",
        ),
        (&["serve", "--starttls", "ftp"], "ftp"),
        (&["serve", "--echo", "--http"], "cannot be used with"),
        (&["serve", "--listen", "256.0.0.1:1"], "256.0.0.1"),
        (&["serve", "--protocol", "SslV3"], "SslV3 is refused"),
        (&["serve", "--max-handshakes", "0"], "at least 1"),
        (&["serve", "--hello-timeout", "soon"], "--hello-timeout"),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}\n{out}\n{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

// ---------------------------------------------------------------------------
// gen and demo
// ---------------------------------------------------------------------------

#[test]
fn gen_output_is_accepted_by_openssl() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let (code, out, err) = run(
        d,
        &[
            "gen",
            "--out",
            "pki",
            "--host",
            "localhost",
            "--host",
            "::1",
            "--days",
            "10",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["names"], serde_json::json!(["localhost", "::1"]));
    assert_eq!(report["files"]["client"], Value::Null);
    let pki = d.join("pki");
    let verified = openssl(&pki, &["verify", "-CAfile", "ca.pem", "server.pem"]);
    assert_eq!(verified.trim(), "server.pem: OK");
    let verified = openssl(&pki, &["verify", "-CAfile", "ca.pem", "chain.pem"]);
    assert_eq!(verified.trim(), "chain.pem: OK");
    let chain = std::fs::read_to_string(pki.join("chain.pem")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    let leaf = std::fs::read_to_string(pki.join("server.pem")).unwrap();
    assert_eq!(leaf.matches("BEGIN CERTIFICATE").count(), 1);
    assert!(chain.starts_with(&leaf));
    let text = openssl(&pki, &["x509", "-in", "server.pem", "-noout", "-text"]);
    assert!(
        text.contains("DNS:localhost, IP Address:0:0:0:0:0:0:0:1"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    // The key matches the certificate.
    let key = openssl(&pki, &["pkey", "-in", "server.key", "-pubout"]);
    let cert_key = openssl(&pki, &["x509", "-in", "server.pem", "-noout", "-pubkey"]);
    assert_eq!(key, cert_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(pki.join("server.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by others: {mode:o}");
    }

    // Existing files are kept unless --force.
    let (code, _, err) = run(d, &["gen", "--out", "pki", "--host", "localhost"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--force"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, _, err) = run(
        d,
        &["gen", "--out", "pki", "--host", "localhost", "--force"],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(d, &["gen", "--out", "other", "--host", "not a name"]);
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn gen_makes_each_key_type_and_openssl_agrees() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    for (key_type, openssl_says) in [
        ("rsa", "rsaEncryption"),
        ("ecdsa", "id-ecPublicKey"),
        ("ed25519", "ED25519"),
    ] {
        let (code, out, err) = run(
            d,
            &[
                "gen",
                "--out",
                key_type,
                "--host",
                "localhost",
                "--client",
                "alice",
                "--key-type",
                key_type,
                "--days",
                "3",
                "--json",
            ],
        );
        assert_eq!(code, Some(0), "{out}\n{err}");
        assert_eq!(json(&out)["key_type"], key_type);
        let pki = d.join(key_type);
        for leaf in ["server.pem", "client.pem"] {
            let verified = openssl(&pki, &["verify", "-CAfile", "ca.pem", leaf]);
            assert_eq!(verified.trim(), format!("{leaf}: OK"));
        }
        for cert in ["ca.pem", "server.pem", "client.pem"] {
            let text = openssl(&pki, &["x509", "-in", cert, "-noout", "-text"]);
            assert!(
                text.contains(&format!("Public Key Algorithm: {openssl_says}")),
                "{key_type} {cert}: {text}"
            );
        }
        // Three days, as asked, give or take the hour of slack before now.
        let end = openssl(
            &pki,
            &["x509", "-in", "server.pem", "-noout", "-checkend", "259000"],
        );
        assert!(end.contains("will not expire"), "{end}");
        let past = Command::new("openssl")
            .current_dir(&pki)
            .args(["x509", "-in", "server.pem", "-noout", "-checkend", "260000"])
            .output()
            .unwrap();
        assert!(!past.status.success(), "valid for more than three days");
    }
    let (code, _, err) = run(
        d,
        &[
            "gen",
            "--out",
            "dsa",
            "--host",
            "localhost",
            "--key-type",
            "dsa",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("rsa") && err.contains("ed25519"), "{err}");
}

#[test]
fn a_reader_that_goes_away_ends_the_tool_quietly() {
    let dir = TempDir::new().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_sslsocket"))
        .current_dir(dir.path())
        .args(["gen", "--out", "pki", "--host", "localhost", "--json"])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(dir.path().join("pki/server.key").exists());
}

#[test]
fn demo_passes_with_a_summary() {
    let dir = TempDir::new().unwrap();
    let (code, out, err) = run(dir.path(), &["demo"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("== Summary"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    for step in [
        "verified connection",
        "wrong host name",
        "self-signed server",
        "STARTTLS",
        "mutual TLS",
        "session resumption",
    ] {
        assert!(out.contains(step), "{step} missing:\n{out}");
    }

    let (code, out, err) = run(dir.path(), &["demo", "--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report = json(&out);
    assert_eq!(report["passed"], true);
    assert!(report["steps"].as_array().unwrap().len() >= 7);
}

#[test]
fn every_command_has_examples_in_its_help() {
    let dir = TempDir::new().unwrap();
    for command in [
        &["connect"][..],
        &["check"],
        &["serve"],
        &["gen"],
        &["demo"],
        &["verify"],
        &["cert", "show"],
        &["key", "show"],
        &["ciphers"],
        &[],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let (code, out, _) = run(dir.path(), &args);
        assert_eq!(code, Some(0), "{args:?}");
        assert!(out.contains("Examples:"), "{args:?}:\n{out}");
    }
}

#[test]
fn connect_refuses_a_cn_only_certificate_unless_qt_host_names_are_asked_for() {
    let pki = Pki::new();
    openssl(
        pki.dir(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=cn-only.example",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-days",
            "2",
            "-keyout",
            "cn-only.key",
            "-out",
            "cn-only.pem",
        ],
    );
    let (_server, port) = s_server(&pki, "cn-only.pem", "cn-only.key");
    let target = format!("127.0.0.1:{port}");
    let base = [
        "connect",
        target.as_str(),
        "--ca",
        "cn-only.pem",
        "--peer-name",
        "cn-only.example",
        "--handshake-only",
    ];
    let (code, out, err) = run(pki.dir(), &base);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("HostNameMismatch (22)"), "{err}");

    let mut opted_in = base.to_vec();
    opted_in.push("--dangerous-qt-host-names");
    let (code, out, err) = run(pki.dir(), &opted_in);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("warning: --dangerous-qt-host-names"), "{err}");
}

#[test]
fn connect_and_serve_refuse_revoked_certificates_given_a_crl() {
    let pki = Pki::new();
    // The gen'd CA revokes the server and the client certificate, with
    // `openssl ca`.
    std::fs::write(pki.dir().join("index.txt"), "").unwrap();
    std::fs::write(pki.dir().join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        pki.dir().join("ca.cnf"),
        "[ca]\ndefault_ca = local\n[local]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 7\n",
    )
    .unwrap();
    let ca = ["-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key"];
    openssl(
        pki.dir(),
        &[&["ca"], &ca[..], &["-gencrl", "-out", "clean.crl"]].concat(),
    );
    for revoked in ["server.pem", "client.pem"] {
        openssl(
            pki.dir(),
            &[&["ca"], &ca[..], &["-revoke", revoked]].concat(),
        );
    }
    openssl(
        pki.dir(),
        &[&["ca"], &ca[..], &["-gencrl", "-out", "revoked.crl"]].concat(),
    );

    // connect: the server's certificate is revoked.
    let (_server, port) = s_server(&pki, "server.pem", "server.key");
    let target = format!("localhost:{port}");
    let connect = |crl: &str| {
        run(
            pki.dir(),
            &[
                "connect",
                &target,
                "--ca",
                "ca.pem",
                "--crl",
                crl,
                "--handshake-only",
            ],
        )
    };
    let (code, out, err) = connect("clean.crl");
    assert_eq!(code, Some(0), "{out}\n{err}");
    let (code, out, err) = connect("revoked.crl");
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("CertificateRevoked (13)"), "{err}");

    // serve --verify peer: the client's certificate is revoked.
    let (mut server, port) = peers::serve(
        pki.dir(),
        &[
            "--cert",
            "server.pem",
            "--key",
            "server.key",
            "--ca",
            "ca.pem",
            "--verify",
            "peer",
            "--crl",
            "revoked.crl",
            "--max-connections",
            "1",
            "--json",
        ],
    );
    let (code, out, err) = run(
        pki.dir(),
        &[
            "connect",
            &format!("localhost:{port}"),
            "--ca",
            "ca.pem",
            "--cert",
            "client.pem",
            "--key",
            "client.key",
            "--send",
            "hello\\n",
            "--timeout",
            "2",
        ],
    );
    assert_ne!(code, Some(0), "{out}\n{err}");
    let status = server.wait_for_exit(STEP);
    let log = server.stdout();
    assert!(log.contains("CertificateRevoked"), "{log}\n{status:?}");
}
