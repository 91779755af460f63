//! A TLS echo server in a fresh child process of the bench (hidden scenario
//! `server-child`), so that what the server costs (resident memory, heap,
//! descriptors, threads) is measured in a process of its own: the servers
//! of `c10k` and `soak`. The bench's clients are tokio-rustls for every
//! server, so that only the servers differ.
//!
//! The child prints `ready PORT ROOT` (the root certificate, hex DER), then
//! answers `stats` on stdin with one JSON line ([`Tally::report`]) and exits
//! on `quit` or at the end of stdin (the bench went away).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sslsocket::ServerEvent;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::alloc;
use crate::net::{self, AServer, WAIT};
use crate::peers::{self, Spec};
use crate::pki::Pki;

/// The blocking server a child can run beside the tokio peers: sslsocket's
/// `SslServer`, each accepted connection echoed on a thread of its own.
pub const BLOCKING_SERVER: &str = "sslsocket+SslServer";

/// The largest piece an echo reads at once: the clients' payload. It is
/// part of each connection's memory, which c10k measures, so it is no
/// larger.
const ECHO_BUFFER: usize = 1024;

/// How often the `SslServer` accept loops look at the server's events
/// (failed handshakes) when no connection comes.
const EVENT_POLL: Duration = Duration::from_millis(100);

/// How long the child may take to exit after `quit`.
const EXIT_WAIT: Duration = Duration::from_secs(10);

// --- the child ----------------------------------------------------------------

/// What the child's server has done so far, updated by its tasks.
#[derive(Default)]
struct Tally {
    /// Server handshakes completed.
    handshakes: AtomicUsize,
    /// Of those, resumed ones.
    resumed: AtomicUsize,
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
    /// The answer to `stats`: what the process holds, and the counters.
    fn report(&self) -> Value {
        let get = |counter: &AtomicUsize| counter.load(Ordering::SeqCst);
        json!({
            "rss": alloc::rss_bytes(),
            "heap": alloc::malloc_in_use(),
            "rust_heap": alloc::live_bytes(),
            "fds": open_descriptors(),
            "threads": threads(),
            "handshakes": get(&self.handshakes),
            "resumed": get(&self.resumed),
            "failed": get(&self.failed),
            "open": get(&self.open),
            "echoed": get(&self.echoed),
            "errors": get(&self.errors),
        })
    }

    /// Counts a finished server handshake; before the connection's echo
    /// starts, so that a client that got its echo knows it is counted.
    fn established(&self, resumed: bool) {
        self.handshakes.fetch_add(1, Ordering::SeqCst);
        self.resumed
            .fetch_add(usize::from(resumed), Ordering::SeqCst);
        self.open.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a failed handshake; the first one is shown on stderr.
    fn failed(&self, error: &dyn std::fmt::Display) {
        if self.failed.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("server child: a handshake failed: {error}");
        }
    }

    /// Counts the end of an established connection.
    fn closed(&self, ended: io::Result<()>) {
        self.open.fetch_sub(1, Ordering::SeqCst);
        if let Err(e) = ended {
            if self.errors.fetch_add(1, Ordering::SeqCst) == 0 {
                eprintln!("server child: a connection failed: {e}");
            }
        }
    }
}

/// Entries in /proc/self/fd (the listing's own descriptor included).
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// `Threads` of /proc/self/status.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The child (hidden scenario `server-child`): makes its own PKI, listens
/// with the server of `peer` (a tokio peer on a 2-worker runtime, or
/// [`BLOCKING_SERVER`]) and answers the bench until told to quit.
pub fn server_child(peer: &str) {
    let pki = Pki::generate_ecdsa_only();
    let runtime = net::runtime();
    let tally = Arc::new(Tally::default());
    let port = if peer == BLOCKING_SERVER {
        let mut server = sslsocket::SslServer::new(peers::sslsocket_server(&pki, Spec::DEFAULT))
            .expect("SslServer");
        server.listen("127.0.0.1:0").expect("listen");
        let port = server.local_address().expect("address").port();
        let tally = Arc::clone(&tally);
        thread::spawn(move || serve_blocking(server, tally));
        port
    } else {
        let server = runtime.block_on(AServer::listen(peer, &pki, Spec::DEFAULT));
        let port = server.address().port();
        runtime.spawn(serve(server, Arc::clone(&tally)));
        port
    };
    println!("ready {port} {}", hex(&pki.ecdsa.root_der));
    for line in io::stdin().lines() {
        match line.as_deref().map(str::trim) {
            Ok("stats") => println!("{}", tally.report()),
            Ok("quit") | Err(_) => break,
            Ok(other) => fail(&format!("unknown command {other:?}")),
        }
    }
    // At once, without dropping thousands of connection tasks one by one.
    std::process::exit(0);
}

/// Ends the child: the bench sees its stdout close and reports the message.
fn fail(message: &str) -> ! {
    eprintln!("server child: {message}");
    std::process::exit(1)
}

/// The blocking accept loop: each client gets a thread that echoes until
/// it closes.
fn serve_blocking(mut server: sslsocket::SslServer, tally: Arc<Tally>) {
    loop {
        match server.accept(Some(EVENT_POLL)) {
            Ok(mut socket) => {
                tally.established(socket.is_session_resumed());
                let tally = Arc::clone(&tally);
                thread::spawn(move || {
                    socket.set_read_timeout(Some(WAIT));
                    socket.set_write_timeout(Some(WAIT));
                    let ended = echo_blocking(&mut socket, &tally);
                    socket.disconnect_from_host();
                    tally.closed(ended);
                });
            }
            Err(sslsocket::Error::Timeout { .. }) => {}
            Err(e) => fail(&format!("SslServer::accept: {e}")),
        }
        for event in server.events() {
            if let ServerEvent::HandshakeFailed { error, .. } = event {
                tally.failed(&error);
            }
        }
    }
}

fn echo_blocking(socket: &mut (impl Read + Write), tally: &Tally) -> io::Result<()> {
    let mut buf = [0u8; ECHO_BUFFER];
    loop {
        let n = socket.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        tally.echoed.fetch_add(n, Ordering::SeqCst);
        socket.write_all(&buf[..n])?;
        socket.flush()?;
    }
}

/// The tokio accept loops: each client gets a task that echoes until it
/// closes.
async fn serve(server: AServer, tally: Arc<Tally>) {
    match server {
        AServer::Ssl(mut server) => loop {
            // Handshakes run on the server's own tasks; the wait is bounded
            // only so that failures are counted while no client comes.
            match server.accept(Some(EVENT_POLL)).await {
                Ok(socket) => {
                    tally.established(socket.is_session_resumed());
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
                        let resumed = stream.get_ref().1.handshake_kind()
                            == Some(rustls::HandshakeKind::Resumed);
                        tally.established(resumed);
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
    let mut buf = [0u8; ECHO_BUFFER];
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
    tally.closed(ended);
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

// --- the bench's side -------------------------------------------------------------

/// A running server child. Its stdout is read by a thread, so that every
/// wait on the child has a time limit. Killed when dropped, so that a failed
/// measurement leaves no server behind.
pub struct ServerChild {
    /// The scenario it serves, for messages.
    scenario: &'static str,
    peer: String,
    process: Child,
    commands: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl ServerChild {
    /// Starts the server of `peer` in a child process, for `scenario`.
    pub fn spawn(scenario: &'static str, peer: &str) -> ServerChild {
        let mut process = Command::new(std::env::current_exe().expect("own executable"))
            .args(["server-child", "--peer", peer])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server child");
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
            scenario,
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
                "{}: the {} server child did not {what} within {WAIT:?}; killed",
                self.scenario, self.peer
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "{}: the {} server child exited ({}) instead of {what} (its stderr is above)",
                self.scenario,
                self.peer,
                match self.process.try_wait() {
                    Ok(Some(status)) => status.to_string(),
                    _ => "still running, stdout closed".to_string(),
                }
            ),
        }
    }

    /// Waits for `ready PORT ROOT`: where to connect, and the root to trust.
    pub fn ready(&mut self) -> (SocketAddr, Vec<u8>) {
        let line = self.line("listen");
        line.strip_prefix("ready ")
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(port, root)| Some((port.parse::<u16>().ok()?, unhex(root)?)))
            .map(|(port, root)| (SocketAddr::from(([127, 0, 0, 1], port)), root))
            .unwrap_or_else(|| {
                panic!(
                    "{}: unexpected line from the server child: {line}",
                    self.scenario
                )
            })
    }

    fn send(&mut self, command: &str) {
        writeln!(self.commands, "{command}")
            .and_then(|()| self.commands.flush())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: cannot send {command:?} to the server child: {e}",
                    self.scenario
                )
            });
    }

    /// What the child holds, and its counters ([`Tally::report`]).
    pub fn ask(&mut self) -> Value {
        self.send("stats");
        let line = self.line("answer `stats`");
        serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "{}: bad answer from the server child ({e}): {line}",
                self.scenario
            )
        })
    }

    /// Asks until `settled` holds for the answer, or [`WAIT`] has passed
    /// (then returns the last answer): a client sees the end of its
    /// connection when the server shuts the transport down, which may come
    /// before its task or thread has finished.
    pub fn ask_until(&mut self, settled: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let tally = self.ask();
            if settled(&tally) || Instant::now() >= deadline {
                return tally;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asks until no connection is open any more (see [`ask_until`](Self::ask_until)).
    pub fn ask_until_closed(&mut self) -> Value {
        self.ask_until(|tally| tally["open"].as_u64() == Some(0))
    }

    /// Asks the child to exit and waits for it, within [`EXIT_WAIT`].
    pub fn quit(mut self) {
        self.send("quit");
        let deadline = Instant::now() + EXIT_WAIT;
        loop {
            match self.process.try_wait().expect("child status") {
                Some(status) if status.success() => return,
                Some(status) => {
                    panic!("{}: the {} server child {status}", self.scenario, self.peer)
                }
                None if Instant::now() >= deadline => panic!(
                    "{}: the {} server child did not exit within {EXIT_WAIT:?}; killed",
                    self.scenario, self.peer
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

/// Panics unless each counter of the child's answer `tally` has its
/// expected value; `when` says at what point, for the message.
pub fn check_tally(
    scenario: &str,
    peer: &str,
    when: &str,
    tally: &Value,
    expected: &[(&str, u64)],
) {
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(key, value)| tally[key].as_u64() != Some(*value))
        .map(|(key, value)| format!("{key} = {} (expected {value})", tally[key]))
        .collect();
    assert!(
        wrong.is_empty(),
        "{scenario}: the {peer} server {when}: {}",
        wrong.join(", ")
    );
}
