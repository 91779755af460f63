//! sslyze, the TLS scanner, against `sslsocket serve` on 127.0.0.1 (issue
//! 12, "Scanners in CI"). With the default settings and an RSA certificate:
//! only TLS 1.2 and 1.3 accepted, only AEAD cipher suites with forward
//! secrecy, none of the weaknesses sslyze tests for (Heartbleed, ROBOT,
//! OpenSSL CCS injection, insecure or client-initiated renegotiation, TLS
//! compression, no TLS_FALLBACK_SCSV, 0-RTT early data, no extended master
//! secret), only the curves Mozilla recommends, and compliance with
//! Mozilla's "intermediate" configuration. With `--protocol TlsV1_3` and an
//! ECDSA certificate: compliance with Mozilla's "modern" configuration. A
//! control scan of a Python (OpenSSL) server offering a CBC suite shows
//! that the checks do fail when the server is weak.
//!
//! sslyze 6 is a Python package: `python3 -m pip install 'sslyze>=6,<7'`
//! (`.ci/run` installs it). Without it these tests fail, they do not skip.
//! Every sslyze run is killed after [`SCAN_TIMEOUT`].

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::peers::{self, Peer, STEP};
use serde_json::{json, Value};
use tempfile::TempDir;

/// The longest an sslyze scan may take: a scan of 127.0.0.1 takes a few
/// seconds, even on a loaded machine.
const SCAN_TIMEOUT: Duration = Duration::from_secs(120);

const POLL: Duration = Duration::from_millis(50);

/// The scan commands run, as (sslyze option, field of `scan_result` in its
/// JSON). Named one by one rather than left to sslyze's defaults, which
/// leave out `--early_data`.
const COMMANDS: &[(&str, &str)] = &[
    ("--certinfo", "certificate_info"),
    ("--sslv2", "ssl_2_0_cipher_suites"),
    ("--sslv3", "ssl_3_0_cipher_suites"),
    ("--tlsv1", "tls_1_0_cipher_suites"),
    ("--tlsv1_1", "tls_1_1_cipher_suites"),
    ("--tlsv1_2", "tls_1_2_cipher_suites"),
    ("--tlsv1_3", "tls_1_3_cipher_suites"),
    ("--compression", "tls_compression"),
    ("--heartbleed", "heartbleed"),
    ("--openssl_ccs", "openssl_ccs_injection"),
    ("--robot", "robot"),
    ("--reneg", "session_renegotiation"),
    ("--fallback", "tls_fallback_scsv"),
    ("--early_data", "tls_1_3_early_data"),
    ("--elliptic_curves", "elliptic_curves"),
    ("--ems", "tls_extended_master_secret"),
];

/// sslyze's other scan commands, not run: `http_headers` looks for HSTS and
/// the like in an HTTP answer (the echo server has none, and sslyze's
/// Mozilla check leaves HSTS out), `session_resumption` measures how often
/// resumption works, which is no weakness either way. A scan command that
/// is in neither list fails the tests, so that a new sslyze check is looked
/// at rather than ignored.
const NOT_RUN: &[&str] = &["http_headers", "session_resumption"];

/// The protocol scans, as (field, name in messages).
const VERSIONS: &[(&str, &str)] = &[
    ("ssl_2_0_cipher_suites", "SSL 2.0"),
    ("ssl_3_0_cipher_suites", "SSL 3.0"),
    ("tls_1_0_cipher_suites", "TLS 1.0"),
    ("tls_1_1_cipher_suites", "TLS 1.1"),
    ("tls_1_2_cipher_suites", "TLS 1.2"),
    ("tls_1_3_cipher_suites", "TLS 1.3"),
];

/// The curves of Mozilla's configurations (5.7), in sslyze's names.
const MOZILLA_CURVES: &[&str] = &["X25519", "secp256r1", "secp384r1"];

/// sslyze's name for the trust store of `--certinfo_ca_file`.
const SUPPLIED_CA: &str = "Supplied CA file";

// ---------------------------------------------------------------------------
// Running sslyze
// ---------------------------------------------------------------------------

/// A process that ran to its end.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Kills and reaps the child when dropped before it exited (a panic while
/// waiting must not leave a scanner behind).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Runs `program ARGS` in `dir`, stdin closed, output into `dir/LABEL.stdout`
/// and `.stderr`; polls for its exit and kills it after `timeout`, then
/// panics with what it printed. Files rather than pipes: nothing to drain
/// while polling, and a timeout still shows the output so far. `Err` only
/// when the program cannot be started.
fn run_bounded(
    dir: &Path,
    label: &str,
    program: &str,
    args: &[String],
    timeout: Duration,
) -> io::Result<Finished> {
    let out = dir.join(format!("{label}.stdout"));
    let err = dir.join(format!("{label}.stderr"));
    let create = |path: &Path| {
        File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()))
    };
    let mut child = Reaped(
        Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(create(&out))
            .stderr(create(&err))
            .spawn()?,
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("query the child's status") {
            break Some(status);
        }
        if started.elapsed() >= timeout {
            let _ = child.0.kill();
            let _ = child.0.wait();
            break None;
        }
        std::thread::sleep(POLL);
    };
    let read = |path: &Path| {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    };
    let (stdout, stderr) = (read(&out), read(&err));
    match status {
        Some(status) => Ok(Finished {
            status,
            stdout,
            stderr,
        }),
        None => panic!(
            "{program} {} did not finish within {timeout:?}; killed\n\
             --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n---",
            args.join(" ")
        ),
    }
}

/// What to do when sslyze is missing. On CI `.ci/run` installs it, so a
/// missing sslyze there means that step went wrong.
fn install_hint() -> &'static str {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        "on CI, .ci/run installs it (python3 -m pip install 'sslyze>=6,<7'): see its output"
    } else {
        "install it: python3 -m pip install 'sslyze>=6,<7'"
    }
}

/// Fails the test, with how to install sslyze, unless `python3 -m sslyze`
/// is sslyze 6 (whose JSON the checks read field by field).
fn require_sslyze(dir: &Path) {
    let args = [
        "-c".to_owned(),
        "import sslyze; from sslyze.__version__ import __version__; print(__version__)".to_owned(),
    ];
    let probe = run_bounded(dir, "sslyze-version", "python3", &args, STEP).unwrap_or_else(|e| {
        panic!(
            "cannot run python3 ({e}): these tests scan `sslsocket serve` with sslyze, \
             a Python package; {}",
            install_hint()
        )
    });
    assert!(
        probe.status.success(),
        "sslyze is not installed for python3; {}\n{}",
        install_hint(),
        probe.stderr
    );
    let version = probe.stdout.trim();
    assert!(
        version.starts_with("6."),
        "python3 has sslyze {version}; these tests read the JSON of sslyze 6: {}",
        install_hint()
    );
}

/// `json` with its integers of more than 19 digits made strings: sslyze
/// writes RSA moduli, EC coordinates and serial numbers as JSON integers,
/// and serde_json (without `arbitrary_precision`) refuses the 617-digit
/// ones. None of them is checked.
fn quote_big_integers(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars().peekable();
    let (mut in_string, mut escaped) = (false, false);
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '-' || c.is_ascii_digit() {
            let mut number = String::from(c);
            while let Some(&next) = chars.peek() {
                if !(next.is_ascii_digit() || matches!(next, '.' | 'e' | 'E' | '+' | '-')) {
                    break;
                }
                number.push(next);
                chars.next();
            }
            let digits = number.strip_prefix('-').unwrap_or(&number);
            if digits.len() > 19 && digits.bytes().all(|b| b.is_ascii_digit()) {
                out.push('"');
                out.push_str(&number);
                out.push('"');
            } else {
                out.push_str(&number);
            }
        } else {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// One sslyze scan of 127.0.0.1:`port`.
struct Scan {
    target: String,
    finished: Finished,
    /// sslyze's JSON (`--json_out`).
    json: Value,
}

impl Scan {
    /// Scans 127.0.0.1:`port` with [`COMMANDS`], trusting the CA in `ca`,
    /// and checks it against Mozilla's `mozilla` configuration.
    fn run(dir: &Path, port: u16, ca: &Path, mozilla: &str) -> Scan {
        require_sslyze(dir);
        let target = format!("127.0.0.1:{port}");
        let label = format!("sslyze-{mozilla}-{port}");
        let json_path = dir.join(format!("{label}.json"));
        let mut args = vec![
            "-m".to_owned(),
            "sslyze".to_owned(),
            format!("--json_out={}", json_path.display()),
            format!("--certinfo_ca_file={}", ca.display()),
            format!("--mozilla_config={mozilla}"),
        ];
        args.extend(COMMANDS.iter().map(|(option, _)| (*option).to_owned()));
        args.push(target.clone());
        let finished = run_bounded(dir, &label, "python3", &args, SCAN_TIMEOUT)
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {}", install_hint()));
        let text = std::fs::read_to_string(&json_path).unwrap_or_else(|e| {
            panic!(
                "sslyze wrote no JSON ({e}); exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                finished.status, finished.stdout, finished.stderr
            )
        });
        let json = serde_json::from_str(&quote_big_integers(&text))
            .unwrap_or_else(|e| panic!("sslyze's JSON does not parse ({e}):\n{text}"));
        Scan {
            target,
            finished,
            json,
        }
    }

    fn server(&self) -> &Value {
        &self.json["server_scan_results"][0]
    }

    /// The attempt of scan command `field`: `status`, `error_reason`, `result`.
    fn command(&self, field: &str) -> &Value {
        &self.server()["scan_result"][field]
    }

    fn result(&self, field: &str) -> &Value {
        &self.command(field)["result"]
    }

    /// The names of the suites accepted with `version_field`.
    fn accepted(&self, version_field: &str) -> Vec<String> {
        self.result(version_field)["accepted_cipher_suites"]
            .as_array()
            .map(|suites| {
                suites
                    .iter()
                    .map(|s| s["cipher_suite"]["name"].as_str().unwrap_or("?").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// sslyze's report on the Mozilla configuration (the end of its stdout).
    fn compliance(&self) -> &str {
        let stdout = &self.finished.stdout;
        stdout
            .find("COMPLIANCE AGAINST TLS CONFIGURATION")
            .map_or(stdout.as_str(), |at| &stdout[at..])
            .trim()
    }

    /// What sslyze found, briefly: printed by the tests (`--nocapture`).
    fn summary(&self) -> String {
        let mut lines = vec![format!("sslyze {}", self.target)];
        for (field, name) in VERSIONS {
            let accepted = self.accepted(field);
            if !accepted.is_empty() {
                lines.push(format!("  {name}: {}", accepted.join(", ")));
            }
        }
        let curves = self.result("elliptic_curves")["supported_curves"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|c| c["name"].as_str())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        lines.push(format!("  curves: {}", curves.join(", ")));
        lines.push(format!("  sslyze {}", self.finished.status));
        lines.push(self.compliance().to_owned());
        lines.join("\n")
    }

    /// Everything sslyze printed, for failure messages.
    fn console(&self) -> String {
        format!(
            "--- sslyze exit {} stdout ---\n{}\n--- stderr ---\n{}\n---",
            self.finished.status, self.finished.stdout, self.finished.stderr
        )
    }
}

// ---------------------------------------------------------------------------
// What a good server looks like to sslyze
// ---------------------------------------------------------------------------

/// Everything wrong with the server according to `scan` (empty: nothing),
/// for a server that should accept exactly the versions in `accepted` and
/// comply with the configuration the scan checked. Each finding quotes what
/// sslyze said.
fn findings(scan: &Scan, accepted: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let server = scan.server();
    if server["connectivity_status"] != "COMPLETED" || server["scan_status"] != "COMPLETED" {
        found.push(format!(
            "sslyze could not scan {}: connectivity {}, scan {}, {}",
            scan.target,
            server["connectivity_status"],
            server["scan_status"],
            server["connectivity_error_trace"]
        ));
        return found;
    }

    // Every scan command that sslyze has is either checked here or left out
    // on purpose.
    let known: BTreeSet<&str> = COMMANDS
        .iter()
        .map(|(_, field)| *field)
        .chain(NOT_RUN.iter().copied())
        .collect();
    let reported: BTreeSet<&str> = server["scan_result"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for unknown in reported.difference(&known) {
        found.push(format!(
            "sslyze has a scan command these tests do not know: {unknown} = {}; \
             add it to COMMANDS and check it, or to NOT_RUN with the reason",
            scan.command(unknown)
        ));
    }
    for (option, field) in COMMANDS {
        let attempt = scan.command(field);
        if attempt["status"] != "COMPLETED" {
            found.push(format!(
                "{field} ({option}) did not complete: status {}, {} {}",
                attempt["status"], attempt["error_reason"], attempt["error_trace"]
            ));
        }
    }

    for (field, name) in VERSIONS {
        let expected = accepted.contains(name);
        let result = scan.result(field);
        if result["is_tls_version_supported"] != expected {
            found.push(format!(
                "{name}: is_tls_version_supported is {}, expected {expected}; accepted suites: {:?}",
                result["is_tls_version_supported"],
                scan.accepted(field)
            ));
        }
        if !expected && !scan.accepted(field).is_empty() {
            found.push(format!(
                "{name} is refused but suites were accepted: {:?}",
                scan.accepted(field)
            ));
        }
        // Every TLS 1.3 suite is AEAD with an ephemeral key exchange.
        if *field == "tls_1_3_cipher_suites" {
            continue;
        }
        for suite in scan.accepted(field) {
            if !(suite.contains("_GCM_") || suite.contains("_CHACHA20_POLY1305_")) {
                found.push(format!("{name}: {suite} is accepted and is not AEAD"));
            }
            if !(suite.starts_with("TLS_ECDHE_") || suite.starts_with("TLS_DHE_")) {
                found.push(format!(
                    "{name}: {suite} is accepted and has no forward secrecy"
                ));
            }
        }
    }
    for name in accepted {
        let (field, _) = VERSIONS.iter().find(|(_, n)| n == name).expect("a version");
        if scan.accepted(field).is_empty() {
            found.push(format!("{name}: no suite accepted"));
        }
    }

    // (scan command, field of its result, the good value, the weakness)
    let expectations = [
        (
            "tls_compression",
            "supports_compression",
            json!(false),
            "TLS compression (CRIME)",
        ),
        (
            "heartbleed",
            "is_vulnerable_to_heartbleed",
            json!(false),
            "Heartbleed",
        ),
        (
            "openssl_ccs_injection",
            "is_vulnerable_to_ccs_injection",
            json!(false),
            "OpenSSL CCS injection (CVE-2014-0224)",
        ),
        (
            "session_renegotiation",
            "supports_secure_renegotiation",
            json!(true),
            "insecure renegotiation (RFC 5746 missing)",
        ),
        (
            "session_renegotiation",
            "is_vulnerable_to_client_renegotiation_dos",
            json!(false),
            "client-initiated renegotiation (DoS)",
        ),
        (
            "session_renegotiation",
            "client_renegotiations_success_count",
            json!(0),
            "client-initiated renegotiation accepted",
        ),
        (
            "tls_fallback_scsv",
            "supports_fallback_scsv",
            json!(true),
            "downgrade without TLS_FALLBACK_SCSV",
        ),
        (
            "tls_1_3_early_data",
            "supports_early_data",
            json!(false),
            "0-RTT early data (replayable)",
        ),
        (
            "tls_extended_master_secret",
            "supports_ems_extension",
            json!(true),
            "no extended master secret (triple handshake)",
        ),
    ];
    for (command, field, good, weakness) in expectations {
        let actual = &scan.result(command)[field];
        if *actual != good {
            found.push(format!(
                "{weakness}: {command}.{field} is {actual}, expected {good}"
            ));
        }
    }
    let robot = &scan.result("robot")["robot_result"];
    let robot_ok = [
        "NOT_VULNERABLE_RSA_NOT_SUPPORTED",
        "NOT_VULNERABLE_NO_ORACLE",
    ];
    if !robot_ok.iter().any(|ok| robot == ok) {
        found.push(format!("ROBOT: robot.robot_result is {robot}"));
    }

    let curves = &scan.result("elliptic_curves")["supported_curves"];
    match curves.as_array() {
        Some(curves) => {
            for curve in curves {
                let name = curve["name"].as_str().unwrap_or("?");
                if !MOZILLA_CURVES.contains(&name) {
                    found.push(format!(
                        "curve {name} is accepted; Mozilla's are {MOZILLA_CURVES:?}"
                    ));
                }
            }
        }
        None => found.push(format!("elliptic_curves.supported_curves is {curves}")),
    }

    // The local CA is in no public store; with it supplied, a trust
    // failure would be the certificate's own fault.
    let deployments = &scan.result("certificate_info")["certificate_deployments"];
    match deployments.as_array() {
        Some(deployments) if !deployments.is_empty() => {
            for deployment in deployments {
                let validations = deployment["path_validation_results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let supplied = validations
                    .iter()
                    .find(|v| v["trust_store"]["name"] == SUPPLIED_CA);
                match supplied {
                    Some(v) if v["was_validation_successful"] == true => {}
                    other => found.push(format!(
                        "the certificate does not verify against --certinfo_ca_file: {other:?}"
                    )),
                }
            }
        }
        _ => found.push(format!(
            "certificate_info has no certificate deployments: {deployments}"
        )),
    }

    let compliant = format!("{}: OK - Compliant.", scan.target);
    if !scan.finished.status.success() || !scan.compliance().contains(&compliant) {
        found.push(format!(
            "not compliant with the Mozilla configuration (exit {}):\n{}",
            scan.finished.status,
            scan.compliance()
        ));
    }
    found
}

/// Fails with every finding and sslyze's whole output.
#[track_caller]
fn assert_no_findings(scan: &Scan, accepted: &[&str], server: &Peer) {
    let found = findings(scan, accepted);
    assert!(
        found.is_empty(),
        "sslyze found {} problem(s) with {}:\n  - {}\n{}\n{}",
        found.len(),
        scan.target,
        found.join("\n  - "),
        scan.console(),
        server.output()
    );
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// `sslsocket gen --out . --host localhost --host 127.0.0.1 ARGS` in `dir`.
fn gen(dir: &Path, args: &[&str]) {
    let mut full = vec![
        "gen",
        "--out",
        ".",
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
    ];
    full.extend_from_slice(args);
    let mut peer = peers::sslsocket(dir, &full);
    peer.close_stdin();
    let status = peer.wait_for_exit(STEP);
    assert!(status.success(), "gen failed\n{}", peer.output());
}

// ---------------------------------------------------------------------------
// The scans
// ---------------------------------------------------------------------------

#[test]
fn default_serve_is_mozilla_intermediate() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    gen(d, &["--key-type", "rsa"]);
    let (server, port) = peers::serve(d, &["--cert", "chain.pem", "--key", "server.key"]);
    let scan = Scan::run(d, port, &d.join("ca.pem"), "intermediate");
    println!("{}", scan.summary());
    assert_no_findings(&scan, &["TLS 1.2", "TLS 1.3"], &server);
}

#[test]
fn tls13_only_serve_is_mozilla_modern() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // ECDSA P-256 is gen's default key. Mozilla's modern configuration
    // also caps the certificate's lifetime at 90 days (sslyze checks it;
    // gen's default of 365 days fails it): that is the certificate's
    // business, not the server's.
    gen(d, &["--days", "90"]);
    let (server, port) = peers::serve(
        d,
        &[
            "--cert",
            "chain.pem",
            "--key",
            "server.key",
            "--protocol",
            "TlsV1_3",
        ],
    );
    let scan = Scan::run(d, port, &d.join("ca.pem"), "modern");
    println!("{}", scan.summary());
    assert_no_findings(&scan, &["TLS 1.3"], &server);
}

/// The control: a server on Python's `ssl` (OpenSSL) offering a CBC suite
/// besides a GCM one in TLS 1.2. The checks must name the CBC suite, and
/// sslyze must find the server not compliant; otherwise the scans above
/// prove nothing.
#[test]
fn findings_name_a_cbc_suite() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    gen(d, &["--key-type", "rsa"]);
    // Not `openssl s_server`: it serves one client at a time, and sslyze's
    // parallel connections time out waiting for it (then scan commands
    // fail and sslyze skips its Mozilla check), even with --slow_connection.
    let (server, port) = peers::python_server(
        d,
        "cbc_server",
        CBC_SERVER,
        &peers::strings(&[
            "server.pem",
            "server.key",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA",
        ]),
    );
    let scan = Scan::run(d, port, &d.join("ca.pem"), "intermediate");
    println!("{}", scan.summary());
    let found = findings(&scan, &["TLS 1.2", "TLS 1.3"]);
    let context = format!("{found:#?}\n{}\n{}", scan.console(), server.output());
    assert!(
        found
            .iter()
            .any(|f| f == "TLS 1.2: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA is accepted and is not AEAD"),
        "the CBC suite is not among the findings: {context}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("not compliant")
                && f.contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")),
        "sslyze did not find the CBC suite against Mozilla's configuration: {context}"
    );
}

/// A TLS server with a thread per client that reads until the client is
/// done. Args: port, certificate file, key file, OpenSSL cipher list (TLS
/// 1.2; TLS 1.3 keeps OpenSSL's defaults).
const CBC_SERVER: &str = r#"
import socket, ssl, sys, threading

port, cert, key, ciphers = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.set_ciphers(ciphers)

def serve(conn):
    try:
        conn.settimeout(20)
        with context.wrap_socket(conn, server_side=True) as tls:
            while tls.recv(4096):
                pass
    except (OSError, ValueError):
        pass
    finally:
        conn.close()

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(128)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;
