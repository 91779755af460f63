//! Running the `sslsocket` binary and reading what it printed, for the
//! integration tests (`mod common;`), and the peers of the network tests.

// Each test file uses some of the helpers.
#![allow(dead_code)]

pub mod peers;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs the binary with `args`.
pub fn sslsocket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sslsocket"))
        .args(args)
        .output()
        .expect("the sslsocket binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// stdout as JSON; panics with the output when it is not.
pub fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// Asserts the exit code, showing stdout and stderr when it differs.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}stderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Runs `openssl ARGS` in `dir`; panics with its stderr unless it succeeds.
/// Returns its stdout.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `sslsocket ARGS` in `dir` with stdin closed, bounded by
/// [`peers::STEP`]: (exit code, stdout, stderr).
pub fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut peer = peers::sslsocket(dir, args);
    peer.close_stdin();
    let status = peer.wait_for_exit(peers::STEP);
    (status.code(), peer.stdout(), peer.stderr())
}
