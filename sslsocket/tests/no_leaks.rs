//! After hundreds of hostile connections and a real client, on the blocking
//! and the tokio server, the descriptors and threads of the process are
//! back to their baseline. The only test of its binary: the test harness's
//! own threads would otherwise come and go in the counts.

mod common;

use std::time::{Duration, Instant};

use common::servers::{hostile, Limits, Pki, Running, Server};

/// Open descriptors and threads of this process (Linux).
fn resources() -> (usize, usize) {
    let count = |dir: &str| std::fs::read_dir(dir).map_or(0, |entries| entries.count());
    (count("/proc/self/fd"), count("/proc/self/task"))
}

#[test]
fn nothing_is_left_behind() {
    let pki = Pki::new();
    let before = resources();
    for kind in [Server::Blocking, Server::Tokio] {
        let limits = Limits {
            hello_timeout: Duration::from_secs(2),
            ..Limits::default()
        };
        let server = Running::start(kind, pki.server.clone(), limits);
        let held = hostile(server.port, 200, b"");
        pki.real_client(server.port).unwrap();
        drop(held);
        server.stop();
    }
    // Idle handshake threads end after a while; allow for it, bounded.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut after = resources();
    while (after.0 > before.0 || after.1 > before.1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        after = resources();
    }
    assert!(
        after.0 <= before.0 && after.1 <= before.1,
        "descriptors and threads: {before:?} before, {after:?} after"
    );
}
