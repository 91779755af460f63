//! The c10k scenario: 10,000 concurrent TLS connections, each echoing, to a
//! tokio server (sslsocket's `SslServer`, or tokio-rustls) running in a
//! fresh child process of its own, so that its resident memory per
//! connection is measured in a clean process. The client is this process,
//! with tokio-rustls for both servers, so that only the servers differ.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::net::{TOKIO_PEERS, WAIT};
use crate::peers::{self, Spec};
use crate::report::{Better, Collector, Progress};
use crate::server_child::{check_tally, ServerChild};
use crate::Ctx;

/// Bytes each connection sends and gets back.
pub const PAYLOAD: usize = 1024;

/// Connections being made (connect, handshake, echo) at once. Below the
/// listen backlog of both servers (128: tokio's `TcpListener::bind`, which
/// `SslServer::listen` uses too, takes the standard library's value), so
/// that the accept queue never overflows: an overflow drops the client's
/// ACK, and the connection waits a second for a retransmission.
const IN_FLIGHT: usize = 100;

/// File descriptors a process needs beside its connections (standard
/// streams, epoll, the listener, the pipes to the child).
const SPARE_FDS: u64 = 64;

/// Connections made and closed before the baseline RSS is taken. The first
/// connection costs a server about 0.9 MiB once (state made lazily), which
/// would otherwise be charged to the measured connections: about 90 B each
/// of 10,000, 900 B each of 1,000.
const WARM_UP: usize = 1;

// --- the client -------------------------------------------------------------------

/// Panics unless the child's answer `tally` shows `made` connections
/// established and echoed, `open` of them still open, and no failure.
fn check(peer: &str, when: &str, tally: &Value, made: usize, open: usize) {
    let expected = [
        ("handshakes", made as u64),
        ("echoed", (made * PAYLOAD) as u64),
        ("open", open as u64),
        ("failed", 0),
        ("errors", 0),
    ];
    check_tally("c10k", peer, when, tally, &expected);
}

/// What connection `id` sends: every 8-byte word holds the connection's
/// number and the word's index, so a byte from another connection, or out
/// of place, does not compare equal.
pub fn payload(id: usize) -> [u8; PAYLOAD] {
    let mut data = [0u8; PAYLOAD];
    for (i, word) in data.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&((id as u64) << 8 | i as u64).to_le_bytes());
    }
    data
}

/// Connects, completes the handshake (webpki verifies the certificate
/// against the child's root, as `localhost`) and checks one echo.
pub async fn open(
    connector: &TlsConnector,
    address: SocketAddr,
    id: usize,
) -> Result<TlsStream<TcpStream>, String> {
    let work = async {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let mut stream = connector
            .connect(peers::rustls_server_name(), tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let sent = payload(id);
        stream
            .write_all(&sent)
            .await
            .map_err(|e| format!("write: {e}"))?;
        stream.flush().await.map_err(|e| format!("flush: {e}"))?;
        let mut back = [0u8; PAYLOAD];
        stream
            .read_exact(&mut back)
            .await
            .map_err(|e| format!("reading the echo: {e}"))?;
        if back != sent {
            return Err("the echo differs from what was sent".to_string());
        }
        Ok(stream)
    };
    tokio::time::timeout(WAIT, work)
        .await
        .unwrap_or_else(|_| Err(format!("no echo within {WAIT:?}")))
        .map_err(|e| format!("connection {id}: {e}"))
}

/// Opens `conns` connections, [`IN_FLIGHT`] tasks taking the next number
/// as soon as their last connection is up, and keeps them all open (in the
/// groups of the tasks that made them). Stops at the first failure.
async fn open_all(
    connector: TlsConnector,
    address: SocketAddr,
    conns: usize,
) -> Result<Vec<Vec<TlsStream<TcpStream>>>, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..IN_FLIGHT.min(conns))
        .map(|_| {
            let (connector, next, stop) = (connector.clone(), Arc::clone(&next), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut held = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let id = next.fetch_add(1, Ordering::SeqCst);
                    if id >= conns {
                        break;
                    }
                    match open(&connector, address, id).await {
                        Ok(stream) => held.push(stream),
                        Err(e) => {
                            stop.store(true, Ordering::SeqCst);
                            return Err(e);
                        }
                    }
                }
                Ok(held)
            })
        })
        .collect();
    let mut groups = Vec::with_capacity(tasks.len());
    let mut errors = Vec::new();
    for task in tasks {
        match task.await.expect("client task") {
            Ok(held) => groups.push(held),
            Err(e) => errors.push(e),
        }
    }
    match errors.first() {
        None => Ok(groups),
        Some(first) => Err(format!(
            "{} connection(s) failed (the others stopped); first: {first}",
            errors.len()
        )),
    }
}

/// Closes the connection (close_notify, then the TCP shutdown) and waits
/// for the server to close too; `true` when it closed without a
/// close_notify of its own.
pub async fn close(mut stream: TlsStream<TcpStream>) -> Result<bool, String> {
    let work = async {
        stream.shutdown().await?;
        let mut byte = [0u8; 1];
        match stream.read(&mut byte).await {
            Ok(0) => Ok(false),
            Ok(_) => Err(io::Error::other("data after the echo")),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(true),
            Err(e) => Err(e),
        }
    };
    match tokio::time::timeout(WAIT, work).await {
        Ok(Ok(bare)) => Ok(bare),
        Ok(Err(e)) => Err(format!("closing: {e}")),
        Err(_) => Err(format!("the server did not close within {WAIT:?}")),
    }
}

/// Closes every connection (close_notify, then the TCP shutdown) and waits
/// for the server to close too. Returns how many servers closed without a
/// close_notify of their own.
async fn close_all(groups: Vec<Vec<TlsStream<TcpStream>>>) -> Result<usize, String> {
    let tasks: Vec<_> = groups
        .into_iter()
        .map(|group| {
            tokio::spawn(async move {
                let mut without_close_notify = 0;
                for stream in group {
                    without_close_notify += usize::from(close(stream).await?);
                }
                Ok::<_, String>(without_close_notify)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client task")?;
    }
    Ok(total)
}

/// One measurement's results.
struct Sample {
    handshakes_per_s: f64,
    rss_per_connection: f64,
    baseline_mib: f64,
    served: usize,
    without_close_notify: usize,
}

/// One measurement: a fresh server child, the warm-up, `conns`
/// connections, their close.
fn measure(ctx: &Ctx, peer: &str, conns: usize) -> Sample {
    let mut child = ServerChild::spawn("c10k", peer);
    let (address, root) = child.ready();
    let connector = TlsConnector::from(peers::rustls_client_trusting(&root, Spec::DEFAULT));
    ctx.runtime
        .block_on(async {
            let groups = open_all(connector.clone(), address, WARM_UP).await?;
            close_all(groups).await
        })
        .unwrap_or_else(|e| panic!("c10k {peer}: warm-up: {e}"));
    let baseline = child.ask_until_closed();
    check(peer, "after the warm-up", &baseline, WARM_UP, 0);
    let start = Instant::now();
    let groups = ctx
        .runtime
        .block_on(open_all(connector, address, conns))
        .unwrap_or_else(|e| panic!("c10k {peer}: {e}"));
    let elapsed = start.elapsed();
    let served: usize = groups.iter().map(Vec::len).sum();
    assert_eq!(served, conns, "c10k {peer}: connections held");
    let loaded = child.ask();
    let when = format!("with {conns} connections up");
    check(peer, &when, &loaded, WARM_UP + conns, conns);
    let without_close_notify = ctx
        .runtime
        .block_on(close_all(groups))
        .unwrap_or_else(|e| panic!("c10k {peer}: {e}"));
    let after = child.ask_until_closed();
    check(peer, "after the clients closed", &after, WARM_UP + conns, 0);
    child.quit();
    let rss = |tally: &Value| tally["rss"].as_f64().expect("rss");
    Sample {
        handshakes_per_s: conns as f64 / elapsed.as_secs_f64(),
        rss_per_connection: (rss(&loaded) - rss(&baseline)) / conns as f64,
        baseline_mib: rss(&baseline) / (1024.0 * 1024.0),
        served,
        without_close_notify,
    }
}

/// The soft limit on open files (`RLIMIT_NOFILE`), from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let soft = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?;
    match soft {
        "unlimited" => Some(u64::MAX),
        number => number.parse().ok(),
    }
}

/// c10k: 10,000 concurrent echoing connections to each tokio server.
pub fn c10k(ctx: &Ctx) -> Collector {
    let conns = if ctx.quick { 1000 } else { 10_000 };
    let needed = conns as u64 + SPARE_FDS;
    let limit = open_files_limit().expect("read RLIMIT_NOFILE from /proc/self/limits");
    assert!(
        limit >= needed,
        "c10k needs {needed} open files per process ({conns} connections + {SPARE_FDS}), \
         but RLIMIT_NOFILE is {limit}: raise it, e.g. `ulimit -n {needed}`"
    );
    let mut collector = Collector::new("c10k", &[("sslsocket-tokio", "tokio-rustls")]);
    collector.note(format!(
        "{conns} concurrent connections per measurement to a server in a fresh child process \
         (2-worker tokio runtime; sslsocket-tokio: SslServer::accept, tokio-rustls: \
         TcpListener + TlsAcceptor; a task per connection echoing until the client closes). \
         The client is this process, tokio-rustls for both servers, {IN_FLIGHT} connections \
         being made at once; each: TLS 1.3 handshake (ECDSA P-256, X25519, AES-128-GCM), \
         1 KiB unique to the connection echoed and compared byte for byte, then kept open \
         until all are up"
    ));
    collector.note(
        "handshakes/s: connections / time from the first connect to the last echo verified; \
         RSS per connection: (server VmRSS with all connections up - baseline) / connections, \
         kernel socket buffers not included; baseline: server VmRSS after one warm-up \
         connection, closed (the first connection costs about 0.9 MiB once)",
    );
    collector.case("handshakes/s", "handshakes/s", Better::Higher, &[], true);
    collector.case("server RSS per connection", "B", Better::Lower, &[], false);
    collector.case("server RSS baseline", "MiB", Better::Lower, &[], false);
    collector.case("connections served", "count", Better::Higher, &[], false);
    let peers = ctx.select(&TOKIO_PEERS);
    let mut verified = 0;
    // Per peer: connections its server closed without a close_notify.
    let mut bare = vec![0; peers.len()];
    let mut progress = Progress::new(ctx.rounds * peers.len());
    for round in 0..ctx.rounds {
        for (&peer, bare) in peers.iter().zip(&mut bare) {
            progress.step(&format!("c10k round {}/{} {peer}", round + 1, ctx.rounds));
            let sample = measure(ctx, peer, conns);
            collector.add("handshakes/s", peer, sample.handshakes_per_s);
            collector.add("server RSS per connection", peer, sample.rss_per_connection);
            collector.add("server RSS baseline", peer, sample.baseline_mib);
            collector.add("connections served", peer, sample.served as f64);
            verified += sample.served;
            *bare += sample.without_close_notify;
        }
    }
    progress.finish();
    for (peer, bare) in peers.iter().zip(bare).filter(|(_, bare)| *bare > 0) {
        collector.note(format!(
            "{peer}: the server answered the client's close_notify with a bare TCP close \
             (no close_notify) on {bare} of {} connections",
            conns * ctx.rounds
        ));
    }
    collector.note(format!(
        "{verified} connections in all, every one verified (certificate and echo); none failed"
    ));
    collector
}
