//! Real TLS peers for the interop tests: `openssl s_server` / `s_client`,
//! `curl` and Python scripts, run as child processes on 127.0.0.1.
//!
//! Every child lives in a [`Peer`], whose `Drop` kills and reaps it, so a
//! failing assertion never leaves a server behind. Every wait is bounded:
//! a peer that hangs makes the test fail with the peer's output in the
//! message, it never makes the test run hang.
//!
//! Servers that take a port number are started with [`start_server`]: it
//! picks a free port, starts the server, polls the port with short TCP
//! connects until it answers, and starts again on another port when the
//! first one was taken in the meantime. The servers must therefore survive
//! a connection that closes without saying anything (openssl s_server does;
//! the Python scripts of the tests loop over `accept`).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any single step of an interop test may take.
pub const STEP: Duration = Duration::from_secs(20);

/// How long to wait between two polls (port connects, output, exit status).
const POLL: Duration = Duration::from_millis(20);

/// A child process with its output collected in the background. Killed
/// and reaped on drop.
pub struct Peer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Peer {
    /// Starts `program ARGS` in `dir` with piped standard streams. `name`
    /// labels the peer in failure messages.
    pub fn spawn(name: &str, program: &str, args: &[String], dir: &Path) -> Peer {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(
                child.stdout.take().expect("stdout is piped"),
                stdout.clone(),
            ),
            collect(
                child.stderr.take().expect("stderr is piped"),
                stderr.clone(),
            ),
        ];
        Peer {
            name: format!("{name} ({program} {})", args.join(" ")),
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
            status: None,
        }
    }

    /// Writes `data` to the peer's standard input.
    pub fn write_stdin(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin
            .write_all(data)
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("writing to {}: {e}\n{}", self.name, self.output()));
    }

    /// The process id (to send it a signal).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Closes the peer's standard input (end of file for the peer).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Everything the peer wrote to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Everything the peer wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Both outputs, labelled, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- {} stdout ---\n{}\n--- stderr ---\n{}\n---",
            self.name,
            self.stdout(),
            self.stderr()
        )
    }

    /// The exit status, if the peer has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("query child status");
        }
        self.status
    }

    /// Waits (at most `timeout`) for the peer to exit, then for its output
    /// to be fully collected. Panics with the output on timeout.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.try_wait() {
                break status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(POLL);
        };
        // The pipes close with the process; give the readers a moment to
        // drain them (bounded, in case a grandchild holds a pipe open).
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        status
    }

    /// Waits (at most `timeout`) until stdout contains `needle`; panics with
    /// the output otherwise (including when the peer exits first).
    pub fn wait_for_stdout(&mut self, needle: &str, timeout: Duration) {
        self.wait_for(needle, timeout, Peer::stdout);
    }

    /// Like [`wait_for_stdout`](Self::wait_for_stdout), for stderr (where
    /// `openssl s_server` reports connections).
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        self.wait_for(needle, timeout, Peer::stderr);
    }

    fn wait_for(&mut self, needle: &str, timeout: Duration, text: fn(&Peer) -> String) {
        let deadline = Instant::now() + timeout;
        loop {
            if text(self).contains(needle) {
                return;
            }
            let exited = self.try_wait().is_some() && self.readers.iter().all(|r| r.is_finished());
            if exited || Instant::now() >= deadline {
                panic!(
                    "{} did not print {needle:?} within {timeout:?} (exited: {:?})\n{}",
                    self.name,
                    self.status,
                    self.output()
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stdin = None;
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Copies `source` into `sink` on a thread until end of file.
fn collect(mut source: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match source.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// A port on 127.0.0.1 that was free a moment ago (bound, then released).
/// Someone else may take it before the caller does; see [`start_server`].
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// How waiting for a server's port ended without the port answering.
#[derive(Debug)]
pub enum NotListening {
    /// The server exited first.
    Exited(ExitStatus),
    /// The deadline passed.
    TimedOut,
}

/// Polls 127.0.0.1:`port` with short connects until it accepts one, the
/// peer exits, or `timeout` passes. The probe connection is closed at once
/// without a byte sent.
pub fn wait_for_port(port: u16, peer: &mut Peer, timeout: Duration) -> Result<(), NotListening> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = peer.try_wait() {
            return Err(NotListening::Exited(status));
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(NotListening::TimedOut);
        }
        std::thread::sleep(POLL);
    }
}

/// Starts a server on a free port and waits until it listens. `spawn` gets
/// the port and starts the server; when the server exits complaining that
/// the address is in use (someone took the port between [`free_port`] and
/// the server's bind), it is started again on another port.
pub fn start_server(name: &str, mut spawn: impl FnMut(u16) -> Peer) -> (Peer, u16) {
    const ATTEMPTS: usize = 5;
    // The port that answered may be another test's server, which took it
    // first: ours then fails its bind at start-up and exits at once.
    const SETTLE: Duration = Duration::from_millis(300);
    let lost_the_port = |peer: &mut Peer| {
        peer.wait_for_exit(STEP);
        let output = peer.output();
        output.contains("Address already in use") || output.contains("EADDRINUSE")
    };
    for _ in 0..ATTEMPTS {
        let port = free_port();
        let mut peer = spawn(port);
        match wait_for_port(port, &mut peer, STEP) {
            Ok(()) => {
                std::thread::sleep(SETTLE);
                if peer.try_wait().is_some() && lost_the_port(&mut peer) {
                    continue;
                }
                return (peer, port);
            }
            Err(NotListening::Exited(_)) => {
                if lost_the_port(&mut peer) {
                    continue;
                }
                panic!(
                    "{name} exited before listening on port {port}\n{}",
                    peer.output()
                );
            }
            Err(NotListening::TimedOut) => panic!(
                "{name} did not listen on port {port} within {STEP:?}\n{}",
                peer.output()
            ),
        }
    }
    panic!("{name}: every port tried was taken ({ATTEMPTS} attempts)");
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// `openssl s_server ARGS -accept 127.0.0.1:PORT` in `dir`, listening.
/// Runs until dropped (no `-naccept`: the port probes count as connections).
pub fn openssl_s_server(dir: &Path, args: &[&str]) -> (Peer, u16) {
    start_server("openssl s_server", |port| {
        let mut full = strings(&["s_server"]);
        full.extend(strings(args));
        full.extend(["-accept".to_owned(), format!("127.0.0.1:{port}")]);
        Peer::spawn("openssl s_server", "openssl", &full, dir)
    })
}

/// `openssl s_client -connect 127.0.0.1:PORT ARGS` in `dir`, with `stdin`
/// written to its standard input (left open: pass `-ign_eof` or close it).
pub fn openssl_s_client(dir: &Path, port: u16, args: &[&str], stdin: &[u8]) -> Peer {
    let mut full = strings(&["s_client", "-connect"]);
    full.push(format!("127.0.0.1:{port}"));
    full.extend(strings(args));
    let mut peer = Peer::spawn("openssl s_client", "openssl", &full, dir);
    if !stdin.is_empty() {
        peer.write_stdin(stdin);
    }
    peer
}

/// `curl ARGS` in `dir`; stdin is closed at once.
pub fn curl(dir: &Path, args: &[&str]) -> Peer {
    let mut peer = Peer::spawn("curl", "curl", &strings(args), dir);
    peer.close_stdin();
    peer
}

/// Writes `script` to `dir/NAME.py` and runs `python3 -u` on it with `args`.
pub fn python(dir: &Path, name: &str, script: &str, args: &[String]) -> Peer {
    let file = dir.join(format!("{name}.py"));
    std::fs::write(&file, script).expect("write the Python script");
    let mut full = vec![
        "-u".to_owned(),
        file.to_str().expect("UTF-8 path").to_owned(),
    ];
    full.extend(args.iter().cloned());
    Peer::spawn(name, "python3", &full, dir)
}

/// A Python server script (see [`python`]) that takes its port as the
/// first argument, then `args`; listening when this returns.
pub fn python_server(dir: &Path, name: &str, script: &str, args: &[String]) -> (Peer, u16) {
    start_server(name, |port| {
        let mut full = vec![port.to_string()];
        full.extend(args.iter().cloned());
        python(dir, name, script, &full)
    })
}

/// An SMTP server with STARTTLS in Python, listening when this returns:
/// greeting, EHLO, STARTTLS, `SSLContext.wrap_socket(server_side=True)`
/// with `certificate` and `key`, then EHLO and QUIT over TLS and a TLS
/// shutdown. It prints `PLAIN`/`TLS` lines for the commands it got and
/// `VERSION`, `CIPHER` and `DONE` lines for each client.
pub fn python_smtp_server(dir: &Path, certificate: &str, key: &str) -> (Peer, u16) {
    python_server(
        dir,
        "smtp_server",
        PYTHON_SMTP_SERVER,
        &[certificate.to_owned(), key.to_owned()],
    )
}

/// The script of [`python_smtp_server`]. Args: port, certificate file, key file.
const PYTHON_SMTP_SERVER: &str = r#"
import socket, ssl, sys

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
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

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(8)
while True:
    conn, _ = listener.accept()
    conn.settimeout(20)
    try:
        conn.sendall(b"220 localhost ESMTP python\r\n")
        print("PLAIN", read_line(conn))
        conn.sendall(b"250-localhost greets you\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        command = read_line(conn)
        print("PLAIN", command)
        if command.upper() != "STARTTLS":
            conn.sendall(b"503 STARTTLS first\r\n")
            continue
        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        tls = context.wrap_socket(conn, server_side=True)
        print("VERSION", tls.version())
        print("CIPHER", tls.cipher()[0])
        while True:
            command = read_line(tls)
            print("TLS", command)
            if command.upper().startswith("EHLO"):
                tls.sendall(b"250-localhost greets you again\r\n250 AUTH PLAIN\r\n")
            elif command.upper() == "QUIT":
                tls.sendall(b"221 2.0.0 Bye\r\n")
                break
            else:
                tls.sendall(b"500 what?\r\n")
        print("DONE", flush=True)
        tls.unwrap().close()
    except (OSError, EOFError, ValueError) as e:
        print("SKIP", repr(e), file=sys.stderr, flush=True)
    finally:
        conn.close()
"#;

/// Accepts one connection on `listener` within `timeout` (`accept` itself
/// has no timeout). The connection is returned in blocking mode.
pub fn accept_within(listener: &TcpListener, timeout: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + timeout;
    let result = loop {
        match listener.accept() {
            Ok((stream, _)) => break Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    break Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no connection within {timeout:?}"),
                    ));
                }
                std::thread::sleep(POLL);
            }
            Err(e) => break Err(e),
        }
    };
    listener.set_nonblocking(false)?;
    let stream = result?;
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// Reads one line (through `\n`, or what is left at end of stream) a byte
/// at a time, so that nothing after the line is consumed (which matters
/// before a STARTTLS upgrade). Bounded by the reader's own timeout.
pub fn read_line(reader: &mut impl Read) -> io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    loop {
        match reader.read(&mut byte)? {
            0 => break,
            _ => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
        }
    }
    String::from_utf8(line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The value after `key` on the first line of `text` that contains it,
/// trimmed (e.g. `field(out, "Cipher is ")`).
pub fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.split_once(key).map(|(_, value)| value.trim()))
}
