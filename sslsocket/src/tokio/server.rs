//! The async TLS server (`QSslServer`) on tokio.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use ::tokio::task::{AbortHandle, JoinError, JoinSet};

use super::SslSocket;
use crate::configuration::SslConfiguration;
use crate::error::{Error, Result};
use crate::net;
use crate::server_handshakes::{Deadlines, Handshakes, HelloReceived};
use crate::server_settings::{
    finish_handshake, queue_event, start_handshake, ServerEvent, ServerMode, ServerSettings,
};

/// Events, shared with the handshake tasks (which report certificate errors
/// as they happen). Bounded as the blocking server's (`queue_event`).
#[derive(Clone, Default)]
struct EventLog(Arc<Mutex<VecDeque<ServerEvent>>>);

impl EventLog {
    fn push(&self, event: ServerEvent) {
        queue_event(
            &mut self.0.lock().unwrap_or_else(PoisonError::into_inner),
            event,
        );
    }

    fn pop(&self) -> Option<ServerEvent> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

/// What a handshake task ends with.
type Handshake = (SocketAddr, Result<SslSocket<TcpStream>>);

/// A TLS server on tokio (`QSslServer`): the blocking
/// [`SslServer`](crate::SslServer)'s model, with each handshake on its own
/// task. See the [module documentation](super) for an example.
///
/// [`accept`](Self::accept) takes connections from the operating system
/// while it waits, runs each client's handshake on a task of its own with
/// the [handshake timeout](ServerSettings::set_handshake_timeout) (5 s by default),
/// and returns the sockets whose handshake succeeded, in the order they
/// finished. A slow or silent client therefore holds up nobody: it only
/// occupies one of the [handshake places](ServerSettings::set_max_concurrent_handshakes)
/// until its [ClientHello deadline](ServerSettings::set_client_hello_timeout)
/// (3 s), and gives it up sooner to a newcomer when they are all taken.
/// Failed clients are reported as [`ServerEvent`]s.
///
/// Dropping the server (or calling [`close`](Self::close)) stops listening,
/// cancels the handshakes still running (their sockets are dropped) and
/// drops the connections not yet taken.
pub struct SslServer {
    settings: ServerSettings,
    listener: Option<TcpListener>,
    handshakes: JoinSet<Handshake>,
    /// The client of each running handshake task, to report one that panics.
    handshaking: Handshakes<::tokio::task::Id, AbortHandle>,
    /// Sockets ready to be taken (`nextPendingConnection`).
    ready: VecDeque<SslSocket<TcpStream>>,
    events: EventLog,
}

server_plumbing!(handshaking);

impl SslServer {
    /// A server using `configuration` for every connection; checked as for
    /// the blocking [`SslServer::new`](crate::SslServer::new).
    pub fn new(configuration: SslConfiguration) -> Result<SslServer> {
        Ok(SslServer {
            settings: ServerSettings::new(configuration)?,
            listener: None,
            handshakes: JoinSet::new(),
            handshaking: Handshakes::new(),
            ready: VecDeque::new(),
            events: EventLog::default(),
        })
    }

    // --- listening ------------------------------------------------------------

    /// Starts listening on `address` (`listen`); port 0 picks a free port,
    /// see [`local_address`](Self::local_address). When the address
    /// resolves to several, the first that can be bound is used.
    ///
    /// Cancel safety: cancelling it leaves the server not listening.
    pub async fn listen(&mut self, address: impl ToSocketAddrs) -> Result<()> {
        if self.listener.is_some() {
            return Err(net::already_listening());
        }
        let candidates: Vec<SocketAddr> = ::tokio::net::lookup_host(address).await?.collect();
        // Binding does not wait for the network; a bound listener joins
        // the runtime non-blocking.
        let listener = net::bind_first(&candidates)?;
        listener.set_nonblocking(true)?;
        self.listener = Some(TcpListener::from_std(listener)?);
        Ok(())
    }

    /// Whether the server is listening (`isListening`).
    pub fn is_listening(&self) -> bool {
        self.listener.is_some()
    }

    /// The address the server listens on, with the port actually bound;
    /// `None` when not listening.
    pub fn local_address(&self) -> Option<SocketAddr> {
        self.listener.as_ref()?.local_addr().ok()
    }

    /// Stops listening (`close`): handshakes still running are cancelled
    /// and connections not yet taken are dropped. Events already recorded
    /// stay readable. The server can [`listen`](Self::listen) again.
    pub fn close(&mut self) {
        self.collect(None);
        self.listener = None;
        // Dropping a JoinSet aborts its tasks; each drops its socket.
        self.handshakes = JoinSet::new();
        self.handshaking.drain().for_each(drop);
        self.ready.clear();
    }

    // --- accepting --------------------------------------------------------------

    /// Waits for the next client and returns its socket
    /// (`waitForNewConnection` + `nextPendingConnection`); `None` waits
    /// without limit, `Some(Duration::ZERO)` only takes what is ready. The
    /// blocking [`accept`](crate::SslServer::accept)'s semantics: in
    /// [`ServerMode::Encrypted`] the socket is encrypted, and clients whose
    /// handshake fails or times out are reported as
    /// [`ServerEvent::HandshakeFailed`] while the wait goes on; in
    /// [`ServerMode::Plain`] it is returned as soon as the TCP connection is
    /// accepted.
    ///
    /// Connections are taken from the operating system, and handshakes
    /// started, only while this (or [`poll_accept`](Self::poll_accept)) is
    /// being awaited; handshakes already started go on in the background.
    ///
    /// Cancel safety: cancel-safe. A connection taken from the listener is
    /// kept by the server (handshaking, or ready) and returned by a later
    /// call; a finished socket is only taken when it is returned.
    pub async fn accept(&mut self, timeout: Option<Duration>) -> Result<SslSocket<TcpStream>> {
        let future = poll_fn(|cx| self.poll_accept(cx));
        match timeout {
            None => future.await,
            Some(limit) => {
                ::tokio::time::timeout(limit, future)
                    .await
                    .unwrap_or(Err(Error::Timeout {
                        operation: "waiting for a new connection",
                    }))
            }
        }
    }

    /// The poll behind [`accept`](Self::accept), for hand-written futures.
    pub fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Result<SslSocket<TcpStream>>> {
        loop {
            self.collect(Some(cx));
            if let Some(socket) = self.ready.pop_front() {
                return Poll::Ready(Ok(socket));
            }
            let Some(listener) = &self.listener else {
                return Poll::Ready(Err(net::not_listening()));
            };
            let limit = self.settings.max_concurrent_handshakes();
            if self.ready.len() >= self.settings.max_pending_connections()
                || !self.handshaking.has_room(limit)
            {
                // A finishing handshake wakes us (collect polled the set).
                return Poll::Pending;
            }
            match listener.poll_accept(cx) {
                Poll::Ready(Ok((stream, peer))) => self.take_connection(stream, peer),
                Poll::Ready(Err(e)) if net::passing_accept_error(&e) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Whether a connection is ready to be taken without waiting
    /// (`hasPendingConnections`). Connections still handshaking do not count.
    pub fn has_pending_connections(&mut self) -> bool {
        self.collect(None);
        !self.ready.is_empty()
    }

    /// Takes a connection that is ready, without waiting
    /// (`nextPendingConnection`).
    pub fn next_pending_connection(&mut self) -> Option<SslSocket<TcpStream>> {
        self.collect(None);
        self.ready.pop_front()
    }

    /// Connections being handshaken right now.
    pub fn handshakes_in_progress(&self) -> usize {
        self.handshaking.len()
    }

    // --- events -------------------------------------------------------------

    /// The next event, oldest first, without waiting; see [`ServerEvent`].
    pub fn next_event(&mut self) -> Option<ServerEvent> {
        self.collect(None);
        self.events.pop()
    }

    /// The events recorded so far, oldest first, without waiting.
    pub fn events(&mut self) -> impl Iterator<Item = ServerEvent> + '_ {
        self.collect(None);
        std::iter::from_fn(move || self.events.pop())
    }

    // --- internals ------------------------------------------------------------

    /// Takes the finished handshakes: sockets to the ready queue, failures
    /// to the events. With `cx`, the set is polled, so that the next
    /// finishing handshake wakes the task.
    fn collect(&mut self, mut cx: Option<&mut Context<'_>>) {
        loop {
            let finished = match cx.as_deref_mut() {
                Some(cx) => match self.handshakes.poll_join_next_with_id(cx) {
                    Poll::Ready(Some(finished)) => finished,
                    Poll::Ready(None) | Poll::Pending => return,
                },
                None => match self.handshakes.try_join_next_with_id() {
                    Some(finished) => finished,
                    None => return,
                },
            };
            self.handle(finished);
        }
    }

    fn handle(&mut self, finished: std::result::Result<(::tokio::task::Id, Handshake), JoinError>) {
        match finished {
            Ok((id, (peer, result))) => {
                if self.handshaking.remove(&id).is_none() {
                    // Dropped to make room: reported then.
                    return;
                }
                match result {
                    Ok(socket) => self.ready.push_back(socket),
                    Err(error) => self
                        .events
                        .push(ServerEvent::HandshakeFailed { peer, error }),
                }
            }
            Err(error) => {
                let peer = self.handshaking.remove(&error.id());
                if let (true, Some(peer)) = (error.is_panic(), peer) {
                    self.events.push(ServerEvent::HandshakeFailed {
                        peer,
                        error: Error::InvalidState {
                            operation: "complete the handshake",
                            reason: "a verification handler panicked".into(),
                        },
                    });
                }
            }
        }
    }

    /// A new client: to the ready queue in plain mode, to a handshake task
    /// of its own in encrypted mode.
    /// At the bound on handshakes, drops the oldest one still without a
    /// ClientHello to make room for a new client.
    fn make_room(&mut self) {
        if self.handshaking.len() < self.settings.max_concurrent_handshakes() {
            return;
        }
        if let Some((peer, task)) = self.handshaking.evict_silent() {
            task.abort();
            self.events.push(ServerEvent::HandshakeFailed {
                peer,
                error: Error::HandshakeEvicted,
            });
        }
    }

    fn take_connection(&mut self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        match self.settings.mode() {
            ServerMode::Plain => {
                let socket = SslSocket::with_core(Some(stream), self.settings.socket_core(peer));
                self.ready.push_back(socket);
            }
            ServerMode::Encrypted => {
                self.make_room();
                let deadlines = Deadlines::starting_now(&self.settings);
                let socket = SslSocket::with_core(Some(stream), self.settings.socket_core(peer));
                let hello = HelloReceived::default();
                let hello_in = hello.clone();
                let log = self.events.clone();
                let task = self.handshakes.spawn(async move {
                    let result = handshake(socket, deadlines, &hello_in, peer, &log).await;
                    (peer, result)
                });
                self.handshaking.insert(task.id(), peer, task, hello);
            }
        }
    }
}

/// Runs the server handshake of `socket` on its task, and reports each
/// certificate error of the client to the server.
async fn handshake(
    mut socket: SslSocket<TcpStream>,
    deadlines: Deadlines,
    hello: &HelloReceived,
    peer: SocketAddr,
    log: &EventLog,
) -> Result<SslSocket<TcpStream>> {
    start_handshake(&mut socket)?;
    let mut result = socket
        .wait_for_client_hello(Deadlines::left(deadlines.hello))
        .await;
    if result.is_ok() {
        hello.set();
        result = socket
            .wait_for_encrypted(Deadlines::left(deadlines.overall))
            .await;
    }
    finish_handshake(socket, result, |error| {
        log.push(ServerEvent::PeerVerifyError { peer, error });
    })
}
