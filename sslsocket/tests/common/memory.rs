//! An in-memory duplex pipe implementing [`sslsocket::Transport`], and
//! helpers to build TLS sockets over it (or over anything else).
//!
//! ```ignore
//! let pki = memory::TestPki::new();
//! let (client_end, server_end) = memory::pair();
//! let mut client = pki.client(client_end);          // client mode, started
//! let mut server = pki.server(server_end);          // server mode, started
//! let (c, s) = memory::both(
//!     || client.wait_for_encrypted(Some(memory::WAIT)),
//!     || server.wait_for_encrypted(Some(memory::WAIT)),
//! );
//! ```
//!
//! Semantics of the pipe, modelled on a TCP socket:
//!
//! - each end reads what the other end wrote, in order;
//! - a read blocks until data arrives, the writer shuts down (then it
//!   returns 0, end of file, once the buffered data is read), or the read
//!   timeout runs out (`io::ErrorKind::WouldBlock`, as a Unix `TcpStream`);
//! - with [`pair_bounded`], a write blocks while the buffer is full, up to
//!   the write timeout (`io::ErrorKind::TimedOut`), and writes what fits;
//! - [`Transport::shutdown`] (and dropping the last handle of an end) makes
//!   the peer read end of file, and every later write, by either end, fail
//!   with `io::ErrorKind::BrokenPipe`.
//!
//! [`MemoryStream::try_clone`] gives a second handle on the same end, so a
//! test can look at, steal or inject raw bytes while a socket owns the
//! stream.

use super::pki::AsSslCertificate;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sslsocket::configuration::SslConfiguration;
use sslsocket::{KeyType, SslCertificate, SslKey, SslSocket, Transport};

use super::pki::{Identity, LeafSpec};

/// A generous per-operation timeout for tests that are expected to succeed.
pub const WAIT: Duration = Duration::from_secs(10);

/// The bound of a whole scenario (see [`within`]).
pub const GUARD: Duration = Duration::from_secs(20);

#[derive(Default)]
struct PipeState {
    buffer: VecDeque<u8>,
    /// `None`: unbounded.
    capacity: Option<usize>,
    /// The writing end shut down: the reader gets end of file once the
    /// buffer is empty.
    writer_closed: bool,
    /// The reading end shut down: writes fail with `BrokenPipe`.
    reader_closed: bool,
    /// Every byte ever written into the pipe.
    total: u64,
}

/// One direction of the duplex pipe.
#[derive(Default)]
struct Pipe {
    state: Mutex<PipeState>,
    changed: Condvar,
}

impl Pipe {
    fn bounded(capacity: Option<usize>) -> Arc<Pipe> {
        let pipe = Pipe::default();
        pipe.lock().capacity = capacity;
        Arc::new(pipe)
    }

    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on the condition variable until `deadline` (`None`: forever);
    /// returns false when the deadline has passed.
    fn wait<'a>(
        &self,
        guard: MutexGuard<'a, PipeState>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, PipeState>, bool) {
        match deadline {
            None => (
                self.changed
                    .wait(guard)
                    .unwrap_or_else(PoisonError::into_inner),
                true,
            ),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return (guard, false);
                }
                let (guard, _) = self
                    .changed
                    .wait_timeout(guard, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner);
                (guard, true)
            }
        }
    }

    fn read(&self, buf: &mut [u8], timeout: Option<Duration>) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.lock();
        loop {
            if !state.buffer.is_empty() {
                let n = state.buffer.read(buf)?;
                self.changed.notify_all();
                return Ok(n);
            }
            if state.writer_closed || state.reader_closed {
                return Ok(0);
            }
            let (next, in_time) = self.wait(state, deadline);
            state = next;
            if !in_time {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "memory pipe: read timed out",
                ));
            }
        }
    }

    fn write(&self, data: &[u8], timeout: Option<Duration>) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.lock();
        loop {
            if state.writer_closed || state.reader_closed {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "memory pipe: the connection is closed",
                ));
            }
            let room = state
                .capacity
                .map_or(data.len(), |c| c.saturating_sub(state.buffer.len()));
            if room > 0 {
                let n = room.min(data.len());
                state.buffer.extend(&data[..n]);
                state.total += n as u64;
                self.changed.notify_all();
                return Ok(n);
            }
            let (next, in_time) = self.wait(state, deadline);
            state = next;
            if !in_time {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "memory pipe: write timed out",
                ));
            }
        }
    }

    fn close_writer(&self) {
        self.lock().writer_closed = true;
        self.changed.notify_all();
    }

    fn close_reader(&self) {
        self.lock().reader_closed = true;
        self.changed.notify_all();
    }
}

/// Both directions as seen from one end; closed when the last handle goes.
struct End {
    incoming: Arc<Pipe>,
    outgoing: Arc<Pipe>,
}

impl End {
    fn close(&self) {
        self.outgoing.close_writer();
        self.incoming.close_reader();
    }
}

impl Drop for End {
    fn drop(&mut self) {
        self.close();
    }
}

/// One end of an in-memory duplex pipe; see the module documentation.
pub struct MemoryStream {
    end: Arc<End>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl std::fmt::Debug for MemoryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStream")
            .field("available", &self.available())
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish()
    }
}

/// Two connected ends with unbounded buffers.
pub fn pair() -> (MemoryStream, MemoryStream) {
    pair_with_capacity(None)
}

/// Two connected ends whose buffers (one per direction) hold at most
/// `capacity` bytes, so a writer blocks until the reader catches up.
pub fn pair_bounded(capacity: usize) -> (MemoryStream, MemoryStream) {
    assert!(capacity > 0, "a pipe needs room for at least one byte");
    pair_with_capacity(Some(capacity))
}

fn pair_with_capacity(capacity: Option<usize>) -> (MemoryStream, MemoryStream) {
    let a_to_b = Pipe::bounded(capacity);
    let b_to_a = Pipe::bounded(capacity);
    let a = MemoryStream::new(End {
        incoming: b_to_a.clone(),
        outgoing: a_to_b.clone(),
    });
    let b = MemoryStream::new(End {
        incoming: a_to_b,
        outgoing: b_to_a,
    });
    (a, b)
}

impl MemoryStream {
    fn new(end: End) -> MemoryStream {
        MemoryStream {
            end: Arc::new(end),
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// Another handle on the same end (like `TcpStream::try_clone`), with
    /// its own timeouts (copied). The end closes when every handle is
    /// dropped or one of them shuts it down.
    pub fn try_clone(&self) -> MemoryStream {
        MemoryStream {
            end: self.end.clone(),
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
        }
    }

    /// Bytes the peer wrote that this end has not read yet.
    pub fn available(&self) -> usize {
        self.end.incoming.lock().buffer.len()
    }

    /// Every byte the peer has written to this end so far.
    pub fn total_received(&self) -> u64 {
        self.end.incoming.lock().total
    }

    /// Every byte this end has written so far.
    pub fn total_sent(&self) -> u64 {
        self.end.outgoing.lock().total
    }

    /// Adds `data` to what this end will read, as if the peer had sent it
    /// (after what the peer already sent); ignores capacity and closure.
    pub fn inject(&self, data: &[u8]) {
        let mut state = self.end.incoming.lock();
        state.buffer.extend(data);
        state.total += data.len() as u64;
        drop(state);
        self.end.incoming.changed.notify_all();
    }

    /// Removes and returns everything waiting to be read by this end.
    pub fn take_incoming(&self) -> Vec<u8> {
        let mut state = self.end.incoming.lock();
        let taken = state.buffer.drain(..).collect();
        drop(state);
        self.end.incoming.changed.notify_all();
        taken
    }

    /// Waits until at least `n` bytes are waiting to be read by this end,
    /// the peer closes, or `timeout` passes; returns how many are waiting.
    pub fn wait_available(&self, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let pipe = &self.end.incoming;
        let mut state = pipe.lock();
        loop {
            if state.buffer.len() >= n || state.writer_closed || state.reader_closed {
                return state.buffer.len();
            }
            let (next, in_time) = pipe.wait(state, Some(deadline));
            state = next;
            if !in_time {
                return state.buffer.len();
            }
        }
    }

    /// Whether the peer has shut its end down (or dropped it).
    pub fn peer_closed(&self) -> bool {
        self.end.incoming.lock().writer_closed
    }

    /// Reads exactly one TLS record (header and body) from this end, within
    /// `timeout`; `None` if the stream ends or times out first.
    pub fn read_tls_record(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let saved = self.read_timeout;
        self.read_timeout = Some(timeout);
        let mut header = [0u8; 5];
        let result = self.read_exact(&mut header).ok().and_then(|()| {
            let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let mut record = header.to_vec();
            record.resize(5 + length, 0);
            self.read_exact(&mut record[5..]).ok().map(|()| record)
        });
        self.read_timeout = saved;
        result
    }
}

impl Read for MemoryStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.end.incoming.read(buf, self.read_timeout)
    }
}

impl Write for MemoryStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.end.outgoing.write(buf, self.write_timeout)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for MemoryStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout = timeout;
        Ok(())
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.write_timeout = timeout;
        Ok(())
    }

    fn shutdown(&mut self) -> io::Result<()> {
        self.end.close();
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Scenario helpers.
// ---------------------------------------------------------------------------

/// Runs `scenario` on its own thread and fails the test if it takes longer
/// than `limit`, so that a hanging socket cannot hang the test run. Panics
/// in the scenario are passed on.
pub fn within<T: Send + 'static>(
    limit: Duration,
    scenario: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (sender, receiver) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("scenario".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(scenario));
            let _ = sender.send(result);
        })
        .expect("spawn the scenario thread");
    match receiver.recv_timeout(limit) {
        Ok(Ok(value)) => {
            let _ = worker.join();
            value
        }
        Ok(Err(panic)) => {
            let _ = worker.join();
            std::panic::resume_unwind(panic)
        }
        Err(_) => panic!(
            "the scenario did not finish within {limit:?}: something hangs \
             (a panic printed above, on one side of a connection, can leave the other side blocked)"
        ),
    }
}

/// Runs `first` on a scoped thread and `second` on this one (a blocking
/// socket needs a thread per side); returns both results.
pub fn both<A: Send, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let handle = scope.spawn(first);
        let b = second();
        let a = match handle.join() {
            Ok(a) => a,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (a, b)
    })
}

/// The name the test server's certificate is valid for.
pub const SERVER_NAME: &str = "server.test";

/// A root, an intermediate and a server leaf issued by the intermediate,
/// valid for [`SERVER_NAME`], `localhost` and `127.0.0.1`.
pub struct TestPki {
    /// The trusted root.
    pub root: Identity,
    /// The intermediate the server sends after its leaf.
    pub intermediate: Identity,
    /// The server's certificate and key.
    pub server: Identity,
}

impl Default for TestPki {
    fn default() -> Self {
        TestPki::new()
    }
}

impl TestPki {
    /// A fresh PKI (unique per call, so TLS contexts and session caches of
    /// different tests never mix).
    pub fn new() -> TestPki {
        let root = Identity::new("Memory Test Root");
        let intermediate = root.intermediate("Memory Test Intermediate");
        let server = intermediate.leaf(&LeafSpec {
            common_name: SERVER_NAME,
            dns: &[SERVER_NAME, "localhost"],
            ips: &["127.0.0.1"],
            ..LeafSpec::default()
        });
        TestPki {
            root,
            intermediate,
            server,
        }
    }

    /// A client leaf issued by the root, for mutual TLS.
    pub fn client_identity(&self, name: &str) -> Identity {
        self.root.leaf(&LeafSpec {
            common_name: name,
            dns: &[],
            ..LeafSpec::default()
        })
    }

    /// The chain the server sends: leaf, intermediate.
    pub fn server_chain(&self) -> Vec<SslCertificate> {
        vec![self.server.certificate(), self.intermediate.certificate()]
    }

    /// A server configuration with the leaf + intermediate chain and its key.
    pub fn server_configuration(&self) -> SslConfiguration {
        configuration_with_identity(self.server_chain(), &self.server)
    }

    /// A client configuration trusting only the root and verifying the
    /// server as [`SERVER_NAME`].
    pub fn client_configuration(&self) -> SslConfiguration {
        let mut configuration = SslConfiguration::new();
        configuration.set_ca_certificates(vec![self.root.certificate()]);
        configuration.set_peer_verify_name(Some(SERVER_NAME.to_owned()));
        configuration
    }

    /// A plain-mode server socket over `stream`, configured but not started.
    pub fn server_socket<S: Transport>(&self, stream: S) -> SslSocket<S> {
        let mut socket = SslSocket::from_stream(stream);
        socket.set_ssl_configuration(self.server_configuration());
        socket
    }

    /// A plain-mode client socket over `stream`, configured but not started.
    pub fn client_socket<S: Transport>(&self, stream: S) -> SslSocket<S> {
        let mut socket = SslSocket::from_stream(stream);
        socket.set_ssl_configuration(self.client_configuration());
        socket
    }

    /// A server socket in server mode (the handshake is started, not driven).
    pub fn server<S: Transport>(&self, stream: S) -> SslSocket<S> {
        let mut socket = self.server_socket(stream);
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        assert_eq!(socket.error(), None, "{}", socket.error_string());
        socket
    }

    /// A client socket in client mode (the handshake is started, not driven).
    pub fn client<S: Transport>(&self, stream: S) -> SslSocket<S> {
        let mut socket = self.client_socket(stream);
        socket
            .start_client_encryption()
            .expect("the handshake starts");
        assert_eq!(socket.error(), None, "{}", socket.error_string());
        socket
    }
}

/// A configuration whose local identity is `chain` with `owner`'s key.
pub fn configuration_with_identity(
    chain: Vec<SslCertificate>,
    owner: &Identity,
) -> SslConfiguration {
    let key =
        SslKey::from_pem(owner.key_pem(), KeyType::PrivateKey, None).expect("test key parses");
    let mut configuration = SslConfiguration::new();
    configuration
        .set_local_identity(chain, key)
        .expect("the test identity is consistent");
    configuration
}

/// Drives both handshakes to the end (client here, server on a thread);
/// returns (client result, server result).
pub fn handshake<C: Transport, S: Transport + Send>(
    client: &mut SslSocket<C>,
    server: &mut SslSocket<S>,
) -> (sslsocket::Result<()>, sslsocket::Result<()>) {
    let (server_result, client_result) = both(
        || server.wait_for_encrypted(Some(WAIT)),
        || client.wait_for_encrypted(Some(WAIT)),
    );
    (client_result, server_result)
}

/// A client and a server in memory, encrypted, with the default settings
/// of [`TestPki`].
pub fn encrypted_pair(pki: &TestPki) -> (SslSocket<MemoryStream>, SslSocket<MemoryStream>) {
    let (client_end, server_end) = pair();
    let mut client = pki.client(client_end);
    let mut server = pki.server(server_end);
    let (c, s) = handshake(&mut client, &mut server);
    c.expect("client handshake");
    s.expect("server handshake");
    (client, server)
}

/// What went through a [`tapped_pair`], per direction.
#[derive(Clone, Default)]
pub struct Tap {
    client_to_server: Arc<Mutex<Vec<u8>>>,
    server_to_client: Arc<Mutex<Vec<u8>>>,
}

impl Tap {
    /// Every byte the client end sent so far.
    pub fn client_to_server(&self) -> Vec<u8> {
        self.client_to_server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every byte the server end sent so far.
    pub fn server_to_client(&self) -> Vec<u8> {
        self.server_to_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Like [`pair`], but every byte goes through two relay threads that
/// record it: (client end, server end, recordings). Closing one end closes
/// the other once what was sent before has been delivered.
pub fn tapped_pair() -> (MemoryStream, MemoryStream, Tap) {
    let (client, client_relay) = pair();
    let (server_relay, server) = pair();
    let tap = Tap::default();
    relay(
        client_relay.try_clone(),
        server_relay.try_clone(),
        tap.client_to_server.clone(),
    );
    relay(server_relay, client_relay, tap.server_to_client.clone());
    (client, server, tap)
}

fn relay(mut from: MemoryStream, mut to: MemoryStream, record: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    record
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(&buffer[..n]);
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = Transport::shutdown(&mut to);
        let _ = Transport::shutdown(&mut from);
    });
}
