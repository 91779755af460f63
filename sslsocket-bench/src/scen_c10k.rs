//! The c10k scenario: 10,000 concurrent TLS connections, each echoing, to a
//! tokio server (sslsocket's `SslServer`, or tokio-rustls) running in a
//! fresh child process of its own, so that its resident memory per
//! connection is measured in a clean process. The client is this process,
//! with tokio-rustls for both servers, so that only the servers differ.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sslsocket::ServerEvent;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::alloc;
use crate::net::{self, AServer, TOKIO_PEERS, WAIT};
use crate::peers::{self, Spec};
use crate::pki::Pki;
use crate::report::{Better, Collector, Progress};
use crate::Ctx;

/// Bytes each connection sends and gets back.
const PAYLOAD: usize = 1024;

/// Connections being made (connect, handshake, echo) at once. Below the
/// listen backlog of both servers (128: tokio's `TcpListener::bind`, which
/// `SslServer::listen` uses too, takes the standard library's value), so
/// that the accept queue never overflows: an overflow drops the client's
/// ACK, and the connection waits a second for a retransmission.
const IN_FLIGHT: usize = 100;

/// File descriptors a process needs beside its connections (standard
/// streams, epoll, the listener, the pipes to the child).
const SPARE_FDS: u64 = 64;

/// How often the `SslServer` accept loop looks at the server's events
/// (failed handshakes) when no connection comes.
const EVENT_POLL: Duration = Duration::from_millis(100);

/// Connections made and closed before the baseline RSS is taken. The first
/// connection costs a server about 0.9 MiB once (state made lazily), which
/// would otherwise be charged to the measured connections: about 90 B each
/// of 10,000, 900 B each of 1,000.
const WARM_UP: usize = 1;

/// How long the child may take to exit after `quit`.
const EXIT_WAIT: Duration = Duration::from_secs(10);

// --- the server child -----------------------------------------------------------

/// What the child's server has done so far, updated by its tasks.
#[derive(Default)]
struct Tally {
    /// Server handshakes completed.
    handshakes: AtomicUsize,
    /// Server handshakes failed.
    failed: AtomicUsize,
    /// Connections established and not yet closed by the client.
    open: AtomicUsize,
    /// Bytes read and written back.
    echoed: AtomicUsize,
    /// Established connections that ended with an I/O error.
    errors: AtomicUsize,
}

impl Tally {
    /// The answer to `rss`: the resident set size and the counters.
    fn report(&self) -> Value {
        let get = |counter: &AtomicUsize| counter.load(Ordering::SeqCst);
        json!({
            "rss": alloc::rss_bytes(),
            "handshakes": get(&self.handshakes),
            "failed": get(&self.failed),
            "open": get(&self.open),
            "echoed": get(&self.echoed),
            "errors": get(&self.errors),
        })
    }

    /// Counts a finished server handshake; before the connection's task is
    /// spawned, so that a client that got its echo knows it is counted.
    fn established(&self) {
        self.handshakes.fetch_add(1, Ordering::SeqCst);
        self.open.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a failed handshake; the first one is shown on stderr.
    fn failed(&self, error: &dyn std::fmt::Display) {
        if self.failed.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("c10k server: a handshake failed: {error}");
        }
    }
}

/// The child of [`c10k`] (hidden scenario `c10k-server`): makes its own
/// PKI, listens with the tokio server of `peer` on a 2-worker runtime and
/// prints `ready PORT ROOT` (the root certificate, hex DER). Then it answers
/// `rss` on stdin with one JSON line ([`Tally::report`]) and exits on `quit`
/// or at the end of stdin (the bench went away).
pub fn c10k_server(peer: &str) {
    let pki = Pki::generate_ecdsa_only();
    let runtime = net::runtime();
    let server = runtime.block_on(AServer::listen(peer, &pki, Spec::DEFAULT));
    println!(
        "ready {} {}",
        server.address().port(),
        hex(&pki.ecdsa.root_der)
    );
    let tally = Arc::new(Tally::default());
    runtime.spawn(serve(server, Arc::clone(&tally)));
    for line in io::stdin().lines() {
        match line.as_deref().map(str::trim) {
            Ok("rss") => println!("{}", tally.report()),
            Ok("quit") | Err(_) => break,
            Ok(other) => fail(&format!("unknown command {other:?}")),
        }
    }
    // At once, without dropping thousands of connection tasks one by one.
    std::process::exit(0);
}

/// Ends the child: the bench sees its stdout close and reports the message.
fn fail(message: &str) -> ! {
    eprintln!("c10k server: {message}");
    std::process::exit(1)
}

/// The accept loop: each client gets a task that echoes until it closes.
async fn serve(server: AServer, tally: Arc<Tally>) {
    match server {
        AServer::Ssl(mut server) => loop {
            // Handshakes run on the server's own tasks; the wait is bounded
            // only so that failures are counted while no client comes.
            match server.accept(Some(EVENT_POLL)).await {
                Ok(socket) => {
                    tally.established();
                    tokio::spawn(echo(socket, Arc::clone(&tally)));
                }
                Err(sslsocket::Error::Timeout { .. }) => {}
                Err(e) => fail(&format!("SslServer::accept: {e}")),
            }
            for event in server.events() {
                if let ServerEvent::HandshakeFailed { error, .. } = event {
                    tally.failed(&error);
                }
            }
        },
        AServer::Rustls(listener, acceptor) => loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                Err(e) => fail(&format!("accept: {e}")),
            };
            // As SslServer does for its connections.
            let _ = tcp.set_nodelay(true);
            let (acceptor, tally) = (acceptor.clone(), Arc::clone(&tally));
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(stream) => {
                        tally.established();
                        echo(stream, tally).await;
                    }
                    Err(e) => tally.failed(&e),
                }
            });
        },
    }
}

/// Echoes until the client closes, then closes too (close_notify).
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, tally: Arc<Tally>) {
    let mut buf = [0u8; PAYLOAD];
    let ended: io::Result<()> = async {
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            tally.echoed.fetch_add(n, Ordering::SeqCst);
            stream.write_all(&buf[..n]).await?;
            stream.flush().await?;
        }
    }
    .await;
    tally.open.fetch_sub(1, Ordering::SeqCst);
    if let Err(e) = ended {
        if tally.errors.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("c10k server: a connection failed: {e}");
        }
    }
    let _ = stream.shutdown().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

// --- the bench's side of the child ------------------------------------------------

/// A running `c10k-server` child. Its stdout is read by a thread, so that
/// every wait on the child has a time limit. Killed when dropped, so that a
/// failed measurement leaves no server behind.
struct ServerChild {
    peer: String,
    process: Child,
    commands: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl ServerChild {
    /// Starts the server of `peer` in a child process.
    fn spawn(peer: &str) -> ServerChild {
        let mut process = Command::new(std::env::current_exe().expect("own executable"))
            .args(["c10k-server", "--peer", peer])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the c10k server child");
        let commands = process.stdin.take().expect("child stdin");
        let stdout = process.stdout.take().expect("child stdout");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ServerChild {
            peer: peer.to_string(),
            process,
            commands,
            lines,
        }
    }

    /// The next line the child prints, within [`WAIT`]; `what` says what
    /// it was expected to do, for the failure message.
    fn line(&mut self, what: &str) -> String {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "c10k: the {} server child did not {what} within {WAIT:?}; killed",
                self.peer
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "c10k: the {} server child exited ({}) instead of {what} (its stderr is above)",
                self.peer,
                match self.process.try_wait() {
                    Ok(Some(status)) => status.to_string(),
                    _ => "still running, stdout closed".to_string(),
                }
            ),
        }
    }

    /// Waits for `ready PORT ROOT`: where to connect, and the root to trust.
    fn ready(&mut self) -> (SocketAddr, Vec<u8>) {
        let line = self.line("listen");
        line.strip_prefix("ready ")
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(port, root)| Some((port.parse::<u16>().ok()?, unhex(root)?)))
            .map(|(port, root)| (SocketAddr::from(([127, 0, 0, 1], port)), root))
            .unwrap_or_else(|| panic!("c10k: unexpected line from the server child: {line}"))
    }

    fn send(&mut self, command: &str) {
        writeln!(self.commands, "{command}")
            .and_then(|()| self.commands.flush())
            .unwrap_or_else(|e| panic!("c10k: cannot send {command:?} to the server child: {e}"));
    }

    /// The child's resident set size and counters.
    fn ask(&mut self) -> Value {
        self.send("rss");
        let line = self.line("answer `rss`");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("c10k: bad answer from the server child ({e}): {line}"))
    }

    /// Asks until no connection is open any more, or [`WAIT`] has passed: a
    /// client sees the end of its connection when the server shuts the
    /// transport down, which may come before its task has finished.
    fn ask_until_closed(&mut self) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let tally = self.ask();
            if tally["open"].as_u64() == Some(0) || Instant::now() >= deadline {
                return tally;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asks the child to exit and waits for it, within [`EXIT_WAIT`].
    fn quit(mut self) {
        self.send("quit");
        let deadline = Instant::now() + EXIT_WAIT;
        loop {
            match self.process.try_wait().expect("child status") {
                Some(status) if status.success() => return,
                Some(status) => panic!("c10k: the {} server child {status}", self.peer),
                None if Instant::now() >= deadline => panic!(
                    "c10k: the {} server child did not exit within {EXIT_WAIT:?}; killed",
                    self.peer
                ),
                None => thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Panics unless the child's answer `tally` shows `made` connections
/// established and echoed, `open` of them still open, and no failure.
fn check_tally(peer: &str, when: &str, tally: &Value, made: usize, open: usize) {
    let expected = [
        ("handshakes", made),
        ("echoed", made * PAYLOAD),
        ("open", open),
        ("failed", 0),
        ("errors", 0),
    ];
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(key, value)| tally[key].as_u64() != Some(*value as u64))
        .map(|(key, value)| format!("{key} = {} (expected {value})", tally[key]))
        .collect();
    assert!(
        wrong.is_empty(),
        "c10k: the {peer} server {when}: {}",
        wrong.join(", ")
    );
}

// --- the client -------------------------------------------------------------------

/// What connection `id` sends: every 8-byte word holds the connection's
/// number and the word's index, so a byte from another connection, or out
/// of place, does not compare equal.
fn payload(id: usize) -> [u8; PAYLOAD] {
    let mut data = [0u8; PAYLOAD];
    for (i, word) in data.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&((id as u64) << 8 | i as u64).to_le_bytes());
    }
    data
}

/// Connects, completes the handshake (webpki verifies the certificate
/// against the child's root, as `localhost`) and checks one echo.
async fn open(
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

/// Closes every connection (close_notify, then the TCP shutdown) and waits
/// for the server to close too. Returns how many servers closed without a
/// close_notify of their own.
async fn close_all(groups: Vec<Vec<TlsStream<TcpStream>>>) -> Result<usize, String> {
    let tasks: Vec<_> = groups
        .into_iter()
        .map(|group| {
            tokio::spawn(async move {
                let mut without_close_notify = 0;
                for mut stream in group {
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
                        Ok(Ok(bare)) => without_close_notify += usize::from(bare),
                        Ok(Err(e)) => return Err(format!("closing: {e}")),
                        Err(_) => return Err(format!("the server did not close within {WAIT:?}")),
                    }
                }
                Ok(without_close_notify)
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
    let mut child = ServerChild::spawn(peer);
    let (address, root) = child.ready();
    let connector = TlsConnector::from(peers::rustls_client_trusting(&root, Spec::DEFAULT));
    ctx.runtime
        .block_on(async {
            let groups = open_all(connector.clone(), address, WARM_UP).await?;
            close_all(groups).await
        })
        .unwrap_or_else(|e| panic!("c10k {peer}: warm-up: {e}"));
    let baseline = child.ask_until_closed();
    check_tally(peer, "after the warm-up", &baseline, WARM_UP, 0);
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
    check_tally(peer, &when, &loaded, WARM_UP + conns, conns);
    let without_close_notify = ctx
        .runtime
        .block_on(close_all(groups))
        .unwrap_or_else(|e| panic!("c10k {peer}: {e}"));
    let after = child.ask_until_closed();
    check_tally(peer, "after the clients closed", &after, WARM_UP + conns, 0);
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
