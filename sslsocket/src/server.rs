//! The blocking TLS server (Qt 6's `QSslServer`, on `QTcpServer`'s model).
//!
//! An [`SslServer`] listens on a TCP address and hands out connected
//! [`SslSocket`]s. In [`ServerMode::Encrypted`] (the default) every accepted
//! connection is put through the TLS handshake first and only sockets whose
//! handshake succeeded are returned; in [`ServerMode::Plain`] (for STARTTLS
//! protocols such as SMTP, IMAP or XMPP) sockets are returned connected and
//! unencrypted, and the program calls
//! [`start_server_encryption`](crate::SocketCore::start_server_encryption) when the
//! protocol says so.
//!
//! The server waits for new connections and finished handshakes with the
//! operating system's readiness API (epoll, kqueue, IOCP, through `mio`),
//! so neither is noticed late.
//!
//! Handshakes run on threads of their own (kept for a while for the next
//! clients), each handshake on one, so a client that connects
//! and then says nothing (or speaks something other than TLS) delays nobody:
//! it is dropped when its [ClientHello deadline](ServerSettings::set_client_hello_timeout)
//! (3 s) or its [handshake timeout](ServerSettings::set_handshake_timeout)
//! (5 s by default, as in Qt) runs out, while the clients behind it are
//! served. Handshakes in progress have a bound of their own
//! ([`set_max_concurrent_handshakes`](ServerSettings::set_max_concurrent_handshakes),
//! hundreds to thousands), apart from Qt's queue of finished connections;
//! at the bound, the oldest handshake still waiting for its ClientHello
//! makes room for a newcomer. A client that is dropped is not returned; it is reported as a
//! [`ServerEvent`] (Qt's `errorOccurred` / `handshakeInterruptedOnError`
//! signals), so the program can log it.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use sslsocket::{SslConfiguration, SslServer, SslSocket};
//! # use sslsocket::{KeyType, SslCertificate, SslKey};
//! # let key = rcgen::KeyPair::generate().unwrap();
//! # let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
//! # let der = params.self_signed(&key).unwrap().der().to_vec();
//! # let certificate = SslCertificate::from_der(&der)?;
//! # let private_key = SslKey::from_pem(key.serialize_pem(), KeyType::PrivateKey, None)?;
//!
//! let mut configuration = SslConfiguration::new();
//! configuration.set_local_identity(vec![certificate.clone()], private_key)?;
//! let mut server = SslServer::new(configuration)?;
//! server.listen("127.0.0.1:0")?;
//! let port = server.local_address().unwrap().port();
//!
//! let client = std::thread::spawn(move || {
//!     let mut socket = SslSocket::new();
//!     socket.set_ca_certificates(vec![certificate]);
//!     socket.connect_to_host_encrypted("localhost", port);
//!     socket.write_all(b"ping")?;
//!     let mut reply = [0; 4];
//!     socket.read_exact(&mut reply)?;
//!     Ok::<_, sslsocket::Error>(reply)
//! });
//!
//! let mut socket = server.accept(Some(Duration::from_secs(10)))?;
//! assert!(socket.is_encrypted());
//! let mut request = [0; 4];
//! socket.read_exact(&mut request)?;
//! assert_eq!(&request, b"ping");
//! socket.write_all(b"pong")?;
//! assert_eq!(&client.join().unwrap()?, b"pong");
//! # Ok::<(), sslsocket::Error>(())
//! ```
//!
//! A server that runs until it is stopped iterates over
//! [`incoming`](SslServer::incoming); clients whose handshake fails are
//! skipped there, so `?` on each item only stops the loop for errors of the
//! server itself:
//!
//! ```no_run
//! use std::io::Write;
//! use sslsocket::server::ServerEvent;
//! use sslsocket::{SslConfiguration, SslServer};
//!
//! # fn configuration() -> SslConfiguration { SslConfiguration::new() }
//! let mut server = SslServer::new(configuration())?;
//! server.listen("0.0.0.0:4433")?;
//! for socket in server.incoming() {
//!     let mut socket = socket?;
//!     std::thread::spawn(move || socket.write_all(b"hello\n"));
//! }
//! // Failed handshakes are kept as events:
//! for event in server.events() {
//!     if let ServerEvent::HandshakeFailed { peer, error } = event {
//!         eprintln!("{peer}: {error}");
//!     }
//! }
//! # Ok::<(), sslsocket::Error>(())
//! ```

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::configuration::SslConfiguration;
use crate::error::{Error, Result, SslError};
use crate::net;
use crate::server_handshakes::{Deadlines, Handshakes, HelloReceived};
pub use crate::server_settings::{
    default_max_concurrent_handshakes, ServerEvent, ServerMode, ServerSettings,
    DEFAULT_CLIENT_HELLO_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_PENDING_CONNECTIONS,
};
use crate::server_settings::{finish_handshake, queue_event, start_handshake};
use crate::socket::SslSocket;
use crate::worker_pool::WorkerPool;

/// How long [`Incoming`] waits after an error before trying again, so that
/// a lasting failure (no file descriptors left) does not spin.
const ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// What handshake threads tell the server.
enum Message {
    PeerVerifyError {
        peer: SocketAddr,
        error: SslError,
    },
    Done {
        id: u64,
        peer: SocketAddr,
        /// Boxed: a socket is large, and most messages are not sockets.
        result: Result<Box<SslSocket<TcpStream>>>,
    },
}

/// A blocking TLS server (`QSslServer`); see the [module documentation](self).
///
/// Dropping the server (or calling [`close`](Self::close)) stops listening,
/// cuts off the handshakes still running and drops the connections that
/// were not taken yet.
pub struct SslServer {
    settings: ServerSettings,
    listener: Option<Listening>,
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    /// Handshakes running, by id: a clone of each stream, so that `close`
    /// can cut them off (`None` if the clone could not be made).
    handshaking: Handshakes<u64, Option<TcpStream>>,
    next_id: u64,
    /// Encrypted sockets not yet taken (`nextPendingConnection`).
    ready: VecDeque<SslSocket<TcpStream>>,
    events: VecDeque<ServerEvent>,
    /// The threads handshakes run on.
    workers: WorkerPool,
}

server_plumbing!(handshaking);

impl SslServer {
    /// A server using `configuration` for every connection. The
    /// configuration must carry a local certificate and its private key
    /// ([`SslConfiguration::set_local_identity`]), also in
    /// [`ServerMode::Plain`], where they are used when the program starts
    /// encryption; and it must be usable for a handshake (a negotiable
    /// protocol, at least one cipher for it). Problems are reported here
    /// rather than at the first client.
    pub fn new(configuration: SslConfiguration) -> Result<SslServer> {
        let settings = ServerSettings::new(configuration)?;
        let (sender, receiver) = mpsc::channel();
        Ok(SslServer {
            settings,
            listener: None,
            sender,
            receiver,
            handshaking: Handshakes::new(),
            next_id: 0,
            ready: VecDeque::new(),
            events: VecDeque::new(),
            workers: WorkerPool::new("sslsocket-handshake"),
        })
    }

    // --- listening ------------------------------------------------------------

    /// Starts listening on `address` (`listen`); port 0 picks a free port,
    /// see [`local_address`](Self::local_address). When the address
    /// resolves to several, the first that can be bound is used.
    pub fn listen(&mut self, address: impl ToSocketAddrs) -> Result<()> {
        if self.listener.is_some() {
            return Err(net::already_listening());
        }
        let candidates: Vec<SocketAddr> = address.to_socket_addrs()?.collect();
        let listener = net::bind_first(&candidates)?;
        self.listener = Some(Listening::new(listener)?);
        Ok(())
    }

    /// Whether the server is listening (`isListening`).
    pub fn is_listening(&self) -> bool {
        self.listener.is_some()
    }

    /// The address the server listens on, with the port actually bound
    /// (`serverAddress`/`serverPort`); `None` when not listening.
    pub fn local_address(&self) -> Option<SocketAddr> {
        self.listener.as_ref()?.listener.local_addr().ok()
    }

    /// Stops listening (`close`): handshakes still running are cut off and
    /// connections not yet taken are dropped. Events already recorded stay
    /// readable. The server can [`listen`](Self::listen) again.
    pub fn close(&mut self) {
        self.collect();
        self.listener = None;
        for stream in self.handshaking.drain().flatten() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.ready.clear();
        // Late reports of the handshakes just cut off go nowhere.
        let (sender, receiver) = mpsc::channel();
        self.sender = sender;
        self.receiver = receiver;
    }

    // --- accepting --------------------------------------------------------------

    /// Waits for the next client and returns its socket
    /// (`waitForNewConnection` + `nextPendingConnection`); `None` waits
    /// without limit, `Some(Duration::ZERO)` only takes what is ready.
    ///
    /// In [`ServerMode::Encrypted`] the socket is returned encrypted: its
    /// handshake completed and the client was accepted under the
    /// configuration's peer verify mode. Clients whose handshake fails or
    /// times out are dropped, reported as [`ServerEvent::HandshakeFailed`],
    /// and the wait goes on for the next. Handshakes run in the background,
    /// so `timeout` bounds the call even while one is running; a handshake
    /// still running when it returns stays pending for the next call.
    ///
    /// In [`ServerMode::Plain`] the socket is returned as soon as the TCP
    /// connection is accepted.
    ///
    /// Errors: [`Error::Timeout`] when no client was ready in time,
    /// [`Error::InvalidState`] when the server is not listening, and
    /// [`Error::Io`] when the operating system refused to accept (e.g. out
    /// of file descriptors; the client stays in the backlog, so calling
    /// again later may succeed).
    pub fn accept(&mut self, timeout: Option<Duration>) -> Result<SslSocket<TcpStream>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            self.collect();
            if let Some(socket) = self.ready.pop_front() {
                return Ok(socket);
            }
            if self.take_connection()? {
                // A plain socket is ready now; an encrypted one is handshaking.
                if let Some(socket) = self.ready.pop_front() {
                    return Ok(socket);
                }
                continue;
            }
            let left = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => {
                        return Err(Error::Timeout {
                            operation: "waiting for a new connection",
                        })
                    }
                },
            };
            // The listener said WouldBlock (or there is no room): sleep until
            // a client connects or a handshake thread reports.
            if let Some(listening) = &mut self.listener {
                listening.wait(left)?;
            }
        }
    }

    /// Whether a connection is ready to be taken without waiting
    /// (`hasPendingConnections`). Connections still handshaking do not count.
    pub fn has_pending_connections(&mut self) -> bool {
        self.collect();
        !self.ready.is_empty()
    }

    /// Takes a connection that is ready, without waiting
    /// (`nextPendingConnection`). Unlike `accept(Some(Duration::ZERO))` it
    /// does not look at the listener.
    pub fn next_pending_connection(&mut self) -> Option<SslSocket<TcpStream>> {
        self.collect();
        self.ready.pop_front()
    }

    /// An endless iterator of accepted sockets, for servers that run until
    /// they are stopped: each item is [`accept`](Self::accept) without a
    /// timeout.
    ///
    /// Clients whose handshake fails are skipped, never yielded as errors
    /// (read them with [`events`](Self::events)): one bad client must not
    /// end a `for socket in server.incoming() { let socket = socket?; ... }`
    /// loop. The errors yielded concern the server itself, such as the
    /// operating system refusing to accept for lack of file descriptors;
    /// after one, the next item waits briefly before trying again. The
    /// iterator ends when the server is not listening.
    pub fn incoming(&mut self) -> Incoming<'_> {
        Incoming {
            server: self,
            failed: false,
        }
    }

    // --- events -------------------------------------------------------------

    /// The next event, oldest first; see [`ServerEvent`].
    pub fn next_event(&mut self) -> Option<ServerEvent> {
        self.collect();
        self.events.pop_front()
    }

    /// The events recorded so far, oldest first, without waiting.
    pub fn events(&mut self) -> impl Iterator<Item = ServerEvent> + '_ {
        self.collect();
        std::iter::from_fn(move || self.events.pop_front())
    }

    // --- internals ------------------------------------------------------------

    /// Takes what the handshake threads reported, without waiting.
    fn collect(&mut self) {
        while let Ok(message) = self.receiver.try_recv() {
            self.handle(message);
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::PeerVerifyError { peer, error } => {
                self.record(ServerEvent::PeerVerifyError { peer, error });
            }
            Message::Done { id, peer, result } => {
                if self.handshaking.remove(&id).is_none() {
                    // A handshake cut off by `close`: nothing to report.
                    return;
                }
                match result {
                    Ok(socket) => self.ready.push_back(*socket),
                    Err(error) => self.record(ServerEvent::HandshakeFailed { peer, error }),
                }
            }
        }
    }

    fn record(&mut self, event: ServerEvent) {
        queue_event(&mut self.events, event);
    }

    /// Takes one connection from the listener if there is one and there is
    /// room for it: in plain mode it goes to the ready queue, in encrypted
    /// mode to a handshake thread. Returns whether one was taken.
    fn take_connection(&mut self) -> Result<bool> {
        let Some(listening) = &self.listener else {
            return Err(net::not_listening());
        };
        let limit = self.settings.max_concurrent_handshakes();
        if self.ready.len() >= self.settings.max_pending_connections()
            || !self.handshaking.has_room(limit)
        {
            return Ok(false);
        }
        let (stream, peer) = match listening.listener.accept() {
            Ok((stream, peer)) => (TcpStream::from(stream), peer),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if net::passing_accept_error(&e) => return Ok(true),
            Err(e) => return Err(Error::Io(e)),
        };
        // Accepted sockets come non-blocking (from mio); the handshake and
        // the socket handed out block.
        if let Err(error) = stream.set_nonblocking(false) {
            self.record(ServerEvent::HandshakeFailed {
                peer,
                error: Error::Io(error),
            });
            return Ok(true);
        }
        let _ = stream.set_nodelay(true);
        match self.settings.mode() {
            ServerMode::Plain => {
                let socket = SslSocket::with_core(Some(stream), self.settings.socket_core(peer));
                self.ready.push_back(socket);
            }
            ServerMode::Encrypted => self.start_handshake(stream, peer),
        }
        Ok(true)
    }

    /// At the bound on handshakes, drops the oldest one still without a
    /// ClientHello to make room for a new client.
    fn make_room(&mut self) {
        if self.handshaking.len() < self.settings.max_concurrent_handshakes() {
            return;
        }
        let Some((peer, stream)) = self.handshaking.evict_silent() else {
            return;
        };
        // Its thread sees the connection end and finishes; its report is
        // ignored, as it is no longer running.
        if let Some(stream) = stream {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.record(ServerEvent::HandshakeFailed {
            peer,
            error: Error::HandshakeEvicted,
        });
    }

    fn start_handshake(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.make_room();
        let id = self.next_id;
        self.next_id += 1;
        let deadlines = Deadlines::starting_now(&self.settings);
        let handle = stream.try_clone().ok();
        let socket = SslSocket::with_core(Some(stream), self.settings.socket_core(peer));
        let hello = HelloReceived::default();
        let hello_in = hello.clone();
        let sender = self.sender.clone();
        let waker = self.listener.as_ref().map(|l| l.waker.clone());
        let started = self.workers.run(Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                handshake(socket, deadlines, &hello_in, peer, &sender)
            }))
            .unwrap_or_else(|_| {
                Err(Error::InvalidState {
                    operation: "complete the handshake",
                    reason: "a verification handler panicked".into(),
                })
            });
            let _ = sender.send(Message::Done { id, peer, result });
            if let Some(waker) = waker {
                let _ = waker.wake();
            }
        }));
        match started {
            Ok(()) => self.handshaking.insert(id, peer, handle, hello),
            Err(error) => self.record(ServerEvent::HandshakeFailed {
                peer,
                error: Error::Io(error),
            }),
        }
    }
}

impl Drop for SslServer {
    fn drop(&mut self) {
        self.close();
    }
}

/// The listening socket, registered for readiness together with a waker
/// that handshake threads use when they report.
struct Listening {
    listener: mio::net::TcpListener,
    poll: mio::Poll,
    events: mio::Events,
    waker: Arc<mio::Waker>,
}

impl Listening {
    const LISTENER: mio::Token = mio::Token(0);
    const WAKER: mio::Token = mio::Token(1);

    fn new(listener: TcpListener) -> io::Result<Listening> {
        listener.set_nonblocking(true)?;
        let mut listener = mio::net::TcpListener::from_std(listener);
        let poll = mio::Poll::new()?;
        poll.registry()
            .register(&mut listener, Self::LISTENER, mio::Interest::READABLE)?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), Self::WAKER)?);
        Ok(Listening {
            listener,
            poll,
            events: mio::Events::with_capacity(4),
            waker,
        })
    }

    /// Sleeps until a client connects, a handshake thread reports, or
    /// `timeout` passes. Readiness is edge-triggered: callers wait only
    /// after `accept` said WouldBlock (or when there is no room to take a
    /// client, in which case a finished handshake wakes them).
    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            other => other,
        }
    }
}

/// Runs the server handshake of `socket` on a handshake thread, and reports
/// each certificate error of the client to the server.
fn handshake(
    mut socket: SslSocket<TcpStream>,
    deadlines: Deadlines,
    hello: &HelloReceived,
    peer: SocketAddr,
    sender: &mpsc::Sender<Message>,
) -> Result<Box<SslSocket<TcpStream>>> {
    start_handshake(&mut socket)?;
    let result = socket
        .wait_for_client_hello(Deadlines::left(deadlines.hello))
        .and_then(|()| {
            hello.set();
            socket.wait_for_encrypted(Deadlines::left(deadlines.overall))
        });
    let socket = finish_handshake(socket, result, |error| {
        let _ = sender.send(Message::PeerVerifyError { peer, error });
    })?;
    Ok(Box::new(socket))
}

/// The iterator of [`SslServer::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    server: &'a mut SslServer,
    failed: bool,
}

impl Iterator for Incoming<'_> {
    type Item = Result<SslSocket<TcpStream>>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.server.is_listening() {
            return None;
        }
        if self.failed {
            std::thread::sleep(ERROR_BACKOFF);
        }
        let result = self.server.accept(None);
        self.failed = result.is_err();
        Some(result)
    }
}
