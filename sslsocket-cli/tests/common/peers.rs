//! Peers for the network tests: the library's test peers (`openssl
//! s_server` / `s_client`, `curl`, Python scripts; one file serves both
//! crates), and `sslsocket serve` / `connect` themselves.

use std::path::Path;

#[path = "../../../sslsocket/tests/common/peers.rs"]
mod library;
pub use library::*;

/// Runs the sslsocket binary with `args` in `dir` as a peer.
pub fn sslsocket(dir: &Path, args: &[&str]) -> Peer {
    Peer::spawn(
        "sslsocket",
        env!("CARGO_BIN_EXE_sslsocket"),
        &strings(args),
        dir,
    )
}

/// `sslsocket serve --listen 127.0.0.1:0 ARGS`, listening: the port is
/// read from the first log line (stderr, or stdout with `--json`).
pub fn serve(dir: &Path, args: &[&str]) -> (Peer, u16) {
    let mut full = vec!["serve", "--listen", "127.0.0.1:0"];
    full.extend_from_slice(args);
    let mut peer = sslsocket(dir, &full);
    let json = args.contains(&"--json");
    let key = if json {
        "\"address\":\"127.0.0.1:"
    } else {
        "listening on 127.0.0.1:"
    };
    if json {
        peer.wait_for_stdout(key, STEP);
    } else {
        peer.wait_for_stderr(key, STEP);
    }
    let log = if json { peer.stdout() } else { peer.stderr() };
    let port = log
        .split_once(key)
        .and_then(|(_, rest)| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no port in the log\n{}", peer.output()));
    (peer, port)
}
