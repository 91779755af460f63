//! `connect --tofu`: trust on first use against `sslsocket serve` with its
//! self-signed certificate, which each start of `serve` makes anew.

mod common;

use std::path::Path;

use common::peers::{self, Peer, STEP};
use common::{assert_exit, json_of, stderr};
use sslsocket::KnownHosts;
use tempfile::TempDir;

/// `serve` with a fresh self-signed certificate on `port`, listening.
fn serve_on(dir: &Path, port: u16) -> Peer {
    let address = format!("127.0.0.1:{port}");
    let mut peer = peers::sslsocket(dir, &["serve", "--listen", &address]);
    peer.wait_for_stderr("listening on", STEP);
    peer
}

fn connect(port: u16, extra: &[&str]) -> std::process::Output {
    let target = format!("127.0.0.1:{port}");
    let mut args = vec!["connect", &target, "--handshake-only"];
    args.extend_from_slice(extra);
    common::sslsocket(&args)
}

/// The SHA-256 fingerprints `connect` printed for the leaf, in order.
fn fingerprints(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("SHA-256"))
        .map(|rest| rest.trim().to_owned())
        .collect()
}

#[test]
fn records_then_matches_then_refuses_a_changed_certificate() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("known_hosts");
    let file_arg = file.to_str().unwrap();
    let port = peers::free_port();
    let server = serve_on(dir.path(), port);

    let strict = connect(port, &["--tofu", file_arg, "--tofu-strict"]);
    assert_exit(&strict, 1);
    assert!(
        stderr(&strict).contains("is not pinned in"),
        "the fingerprint is shown, to add by hand: {}",
        stderr(&strict)
    );
    assert!(!file.exists(), "--tofu-strict never adds");

    let first = connect(port, &["--tofu", file_arg]);
    assert_exit(&first, 0);
    let first_err = stderr(&first);
    let fingerprint = fingerprints(&first_err)[0].clone();
    assert!(
        first_err.contains(&format!("SHA-256 {fingerprint} recorded in {file_arg}")),
        "{first_err}"
    );
    let hosts = KnownHosts::load(&file).unwrap();
    assert!(hosts.pin("127.0.0.1", port).is_some());

    let second = connect(port, &["--tofu", file_arg, "--tofu-strict"]);
    assert_exit(&second, 0);
    assert!(!stderr(&second).contains("recorded"), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("the certificate is pinned"),
        "{}",
        stderr(&second)
    );

    drop(server);
    let _server = serve_on(dir.path(), port);
    let third = connect(port, &["--tofu", file_arg]);
    assert_exit(&third, 1);
    let third_err = stderr(&third);
    let presented = fingerprints(&third_err)[0].clone();
    assert_ne!(presented, fingerprint, "serve made a new certificate");
    assert!(third_err.contains("HAS CHANGED"), "{third_err}");
    assert!(
        third_err.contains(&format!("pinned:    SHA-256 {fingerprint}")),
        "{third_err}"
    );
    assert!(
        third_err.contains(&format!("presented: SHA-256 {presented}")),
        "{third_err}"
    );
    assert!(third_err.contains("remove the line"), "{third_err}");
    let hosts = KnownHosts::load(&file).unwrap();
    assert!(
        hosts.pin("127.0.0.1", port).is_some(),
        "the pin stays until removed"
    );
}

#[test]
fn check_pins_and_flags_a_changed_certificate() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("known_hosts");
    let file_arg = file.to_str().unwrap();
    let port = peers::free_port();
    let target = format!("127.0.0.1:{port}");
    let check = || {
        common::sslsocket(&[
            "check",
            &target,
            "--tofu",
            file_arg,
            "--warn-expiry",
            "0",
            "--json",
        ])
    };
    let server = serve_on(dir.path(), port);
    for run in ["records", "matches"] {
        let output = check();
        assert_exit(&output, 0);
        let result = &json_of(&output)[0];
        assert_eq!(result["status"], "ok", "{run}: {result}");
        assert_eq!(result["verified"], true, "{run}: {result}");
    }
    drop(server);
    let _server = serve_on(dir.path(), port);
    let output = check();
    assert_exit(&output, 1);
    let result = &json_of(&output)[0];
    assert_eq!(result["status"], "failed", "{result}");
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("CERTIFICATE CHANGED"), "{error}");
    let presented = result["peer_chain"][0]["sha256_fingerprint"]
        .as_str()
        .unwrap();
    assert!(error.contains(presented), "{error}");
}

#[test]
fn racing_connects_keep_both_pins() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("known_hosts");
    let file_arg = file.to_str().unwrap().to_owned();
    let ports = [peers::free_port(), peers::free_port()];
    let _servers: Vec<Peer> = ports
        .iter()
        .map(|&port| serve_on(dir.path(), port))
        .collect();
    let runs: Vec<_> = ports
        .iter()
        .map(|&port| {
            let file_arg = file_arg.clone();
            std::thread::spawn(move || connect(port, &["--tofu", &file_arg]))
        })
        .collect();
    for run in runs {
        assert_exit(&run.join().unwrap(), 0);
    }
    let hosts = KnownHosts::load(&file).expect("the file parses");
    for port in ports {
        assert!(hosts.pin("127.0.0.1", port).is_some(), "port {port}");
    }
}

#[test]
fn a_bad_file_is_an_input_error_naming_the_line() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("known_hosts");
    std::fs::write(&file, "127.0.0.1:1 nothex 0\n").unwrap();
    let output = connect(1, &["--tofu", file.to_str().unwrap()]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains(&format!("{}:1:", file.display())),
        "{}",
        stderr(&output)
    );
}
