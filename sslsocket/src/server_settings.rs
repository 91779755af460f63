//! What the blocking and the async server share: Qt's server settings
//! and the verification settings installed on every accepted socket, with
//! the types both report through. Both `SslServer` types dereference to
//! [`ServerSettings`], so its methods are theirs.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::configuration::SslConfiguration;
use crate::driver::FrontEnd;
use crate::error::{Error, Result, SslError};
use crate::event::MAX_QUEUED_EVENTS;
use crate::handshake::VerificationSettings;
use crate::socket_core::SocketCore;
use crate::verify::{IgnoreRule, PeerVerifyDecision, SslErrorsDecision};

/// How long a handshake may take by default: Qt's `QSslServer` default.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many finished connections may wait to be taken by default: Qt's
/// `QTcpServer` default.
pub const DEFAULT_MAX_PENDING_CONNECTIONS: usize = 30;

/// How long a new client has by default, from when it is accepted, to send
/// its ClientHello. Silent connections are what a hostile client holds
/// open cheaply, so this is much shorter than the whole handshake's time.
pub const DEFAULT_CLIENT_HELLO_TIMEOUT: Duration = Duration::from_secs(3);

/// How many handshakes may run at once by default: 256 per processor,
/// between 512 and 4096.
pub fn default_max_concurrent_handshakes() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .saturating_mul(256)
        .clamp(512, 4096)
}

/// Appends `event` to a server's `events`, dropping the oldest beyond
/// [`MAX_QUEUED_EVENTS`].
pub(crate) fn queue_event(events: &mut VecDeque<ServerEvent>, event: ServerEvent) {
    if events.len() == MAX_QUEUED_EVENTS {
        events.pop_front();
    }
    events.push_back(event);
}

/// What a server does with the connections it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerMode {
    /// Run the server handshake first; `accept` returns
    /// encrypted sockets only (`QSslServer`).
    #[default]
    Encrypted,
    /// Hand sockets out connected and unencrypted, for protocols that switch
    /// to TLS later (STARTTLS): the program calls
    /// `start_server_encryption` when it is time. The server's
    /// configuration and verification settings are already installed on
    /// each socket.
    Plain,
}

/// Something that happened to a client of the server, in the order it
/// happened. Clients that fail their handshake are never returned by
/// `accept`; this is where the program learns about them.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client's certificate has an error (`QSslServer::peerVerifyError`).
    /// Reported once per error during the handshake, whether the error turns
    /// out fatal or not (with `QueryPeer` it never is).
    PeerVerifyError {
        /// The client's address.
        peer: SocketAddr,
        /// The error.
        error: SslError,
    },
    /// A client was dropped because its handshake failed or did not finish
    /// within the handshake timeout (`QSslServer::errorOccurred`, and
    /// `handshakeInterruptedOnError` when its certificate was rejected).
    HandshakeFailed {
        /// The client's address.
        peer: SocketAddr,
        /// Why: e.g. [`Error::Timeout`], [`Error::VerificationFailed`] with
        /// the certificate's errors, or [`Error::HandshakeFailed`] for a
        /// client that does not speak TLS.
        error: Error,
    },
}

/// A server-level `ssl_errors` handler: gets the client's address too.
type SslErrorsHook = Arc<dyn Fn(SocketAddr, &[SslError]) -> SslErrorsDecision + Send + Sync>;

/// A server-level `peer_verify_error` handler: gets the client's address too.
type PeerVerifyErrorHook = Arc<dyn Fn(SocketAddr, &SslError) -> PeerVerifyDecision + Send + Sync>;

/// The settings both `SslServer` types share: Qt's server settings, and
/// the verification settings installed on every accepted socket. Both
/// servers dereference to it, so its methods are theirs.
pub struct ServerSettings {
    configuration: SslConfiguration,
    mode: ServerMode,
    handshake_timeout: Option<Duration>,
    client_hello_timeout: Option<Duration>,
    max_pending: usize,
    max_handshakes: usize,
    ignore: IgnoreRule,
    on_ssl_errors: Option<SslErrorsHook>,
    on_peer_verify_error: Option<PeerVerifyErrorHook>,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("mode", &self.mode)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("client_hello_timeout", &self.client_hello_timeout)
            .field("max_pending", &self.max_pending)
            .field("max_handshakes", &self.max_handshakes)
            .finish_non_exhaustive()
    }
}

impl ServerSettings {
    /// Qt's defaults around `configuration`, once it is checked as
    /// `SslServer::new` documents.
    pub(crate) fn new(configuration: SslConfiguration) -> Result<ServerSettings> {
        check_server_configuration(&configuration)?;
        Ok(ServerSettings {
            configuration,
            mode: ServerMode::Encrypted,
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
            client_hello_timeout: Some(DEFAULT_CLIENT_HELLO_TIMEOUT),
            max_pending: DEFAULT_MAX_PENDING_CONNECTIONS,
            max_handshakes: default_max_concurrent_handshakes(),
            ignore: IgnoreRule::Nothing,
            on_ssl_errors: None,
            on_peer_verify_error: None,
        })
    }

    /// The configuration accepted sockets get (`sslConfiguration`).
    pub fn ssl_configuration(&self) -> &SslConfiguration {
        &self.configuration
    }

    /// Replaces the configuration for connections accepted from now on
    /// (`setSslConfiguration`); checked as `SslServer::new` checks it, and
    /// left unchanged when the check fails.
    pub fn set_ssl_configuration(&mut self, configuration: SslConfiguration) -> Result<()> {
        check_server_configuration(&configuration)?;
        self.configuration = configuration;
        Ok(())
    }

    /// Whether accepted sockets are encrypted first or handed out plain.
    pub fn mode(&self) -> ServerMode {
        self.mode
    }

    /// Sets whether connections accepted from now on are encrypted first
    /// ([`ServerMode::Encrypted`], the default) or handed out plain, for
    /// STARTTLS ([`ServerMode::Plain`]).
    pub fn set_mode(&mut self, mode: ServerMode) {
        self.mode = mode;
    }

    /// How long a client may take to complete its handshake
    /// (`handshakeTimeout`); `None` means no limit.
    pub fn handshake_timeout(&self) -> Option<Duration> {
        self.handshake_timeout
    }

    /// Sets how long a client may take to complete its handshake before it
    /// is dropped (`setHandshakeTimeout`); 5 s by default. `None` removes
    /// the limit, which lets silent clients hold a pending slot (see
    /// [`set_max_pending_connections`](Self::set_max_pending_connections))
    /// for as long as they keep the connection open.
    ///
    /// This bounds the handshakes the server runs; in [`ServerMode::Plain`]
    /// the program runs the handshake and chooses its own timeout.
    pub fn set_handshake_timeout(&mut self, timeout: Option<Duration>) {
        self.handshake_timeout = timeout;
    }

    /// How long a new client has, from when it is accepted, to send its
    /// ClientHello; [`DEFAULT_CLIENT_HELLO_TIMEOUT`] (3 s) by default. `None`
    /// leaves only the [handshake timeout](Self::handshake_timeout), which
    /// also bounds this one.
    pub fn client_hello_timeout(&self) -> Option<Duration> {
        self.client_hello_timeout
    }

    /// Sets how long a new client has to send its ClientHello. A client
    /// that has not sent a complete one by then is dropped (reported as
    /// [`ServerEvent::HandshakeFailed`] with [`Error::Timeout`]).
    pub fn set_client_hello_timeout(&mut self, timeout: Option<Duration>) {
        self.client_hello_timeout = timeout;
    }

    /// How many finished connections may wait to be taken
    /// (`maxPendingConnections`); 30 by default.
    pub fn max_pending_connections(&self) -> usize {
        self.max_pending
    }

    /// Sets how many finished connections may wait to be taken
    /// (`setMaxPendingConnections`; at least 1). When that many wait, the
    /// server stops taking connections from the operating system until the
    /// program takes some; further clients wait in the listen backlog.
    /// Handshakes in progress do not count: they have their own, larger
    /// bound ([`set_max_concurrent_handshakes`](Self::set_max_concurrent_handshakes)),
    /// so clients that connect and say nothing cannot fill this queue.
    pub fn set_max_pending_connections(&mut self, max: usize) {
        self.max_pending = max.max(1);
    }

    /// How many handshakes may run at once;
    /// [`default_max_concurrent_handshakes`] by default.
    pub fn max_concurrent_handshakes(&self) -> usize {
        self.max_handshakes
    }

    /// Sets how many handshakes may run at once (at least 1). At the bound,
    /// a new client still gets in if some handshake has not sent a complete
    /// ClientHello yet: the oldest such one is dropped to make room
    /// (reported as [`ServerEvent::HandshakeFailed`] with
    /// [`Error::HandshakeEvicted`]). Only when every running handshake has
    /// sent its hello does the server stop taking connections until one
    /// ends. The blocking server runs each handshake on a thread, so this
    /// also bounds its threads.
    pub fn set_max_concurrent_handshakes(&mut self, max: usize) {
        self.max_handshakes = max.max(1);
    }

    // --- verification settings, installed on every accepted socket -----------

    /// Lets the handshakes of clients accepted from now on go on whatever
    /// errors their certificates have (`SslSocket::ignore_ssl_errors`).
    /// Prefer [`ignore_listed_ssl_errors`](Self::ignore_listed_ssl_errors).
    pub fn ignore_ssl_errors(&mut self) {
        self.ignore.ignore_all();
    }

    /// Lets the handshakes of clients accepted from now on go on only if
    /// every error is in `errors`, matched on code and certificate
    /// (`SslSocket::ignore_listed_ssl_errors`, with Qt's rules: the list
    /// replaces an earlier one and wins over ignore-all; empty clears it).
    pub fn ignore_listed_ssl_errors(&mut self, errors: impl IntoIterator<Item = SslError>) {
        self.ignore.ignore_listed(errors.into_iter().collect());
    }

    /// Calls `handler` with the client's address and its certificate's
    /// errors, once per handshake with errors, to decide which to ignore
    /// (`QSslServer::sslErrors`; see [`SocketCore::on_ssl_errors`]). It runs
    /// where the handshake runs (its thread, or its task), hence `Send + Sync`.
    pub fn on_ssl_errors(
        &mut self,
        handler: impl Fn(SocketAddr, &[SslError]) -> SslErrorsDecision + Send + Sync + 'static,
    ) {
        self.on_ssl_errors = Some(Arc::new(handler));
    }

    /// Calls `handler` with the client's address once per certificate
    /// error; it may abort the handshake (`QSslServer::peerVerifyError`; see
    /// [`SocketCore::on_peer_verify_error`]). It runs where the
    /// handshake runs. Each error is also reported as
    /// [`ServerEvent::PeerVerifyError`] in [`ServerMode::Encrypted`].
    pub fn on_peer_verify_error(
        &mut self,
        handler: impl Fn(SocketAddr, &SslError) -> PeerVerifyDecision + Send + Sync + 'static,
    ) {
        self.on_peer_verify_error = Some(Arc::new(handler));
    }

    /// The core of a socket accepted from `peer`, connected in plain mode,
    /// with the server's configuration and verification settings. The
    /// server's own reporting of certificate errors reads them after the
    /// handshake: a handler installed for it would keep rustls from
    /// refusing a missing client certificate with an alert, and sockets
    /// from resuming sessions.
    pub(crate) fn socket_core(&self, peer: SocketAddr) -> SocketCore {
        let mut core = SocketCore::new(self.configuration.clone(), true);
        core.set_verification(VerificationSettings {
            ignore: self.ignore.clone(),
            on_ssl_errors: self.on_ssl_errors.clone().map(|handler| {
                Arc::new(move |errors: &[SslError]| handler(peer, errors))
                    as crate::verify::SslErrorsHandler
            }),
            on_peer_verify_error: self.on_peer_verify_error.clone().map(|handler| {
                Arc::new(move |error: &SslError| handler(peer, error))
                    as crate::verify::PeerVerifyErrorHandler
            }),
        });
        core
    }
}

/// Checks what the first handshake would otherwise find out.
fn check_server_configuration(configuration: &SslConfiguration) -> Result<()> {
    if configuration.local_certificate().is_none() || configuration.private_key().is_none() {
        configuration.check_local_identity()?;
        return Err(Error::KeyUnusableForTls {
            reason: "a server needs a local certificate and its private key; set them with \
                     SslConfiguration::set_local_identity before creating the server"
                .into(),
        });
    }
    configuration.check_usable()
}

/// Starts the server handshake of an accepted socket; a socket that cannot
/// start one is closed.
pub(crate) fn start_handshake<T: FrontEnd>(socket: &mut T) -> Result<()> {
    let started = socket.core_mut().start_server_encryption();
    if started.is_err() {
        socket.abort_connection();
    }
    started
}

/// The end of an accepted socket's server handshake: each of the client's
/// certificate errors is reported, and a socket whose handshake failed is
/// closed.
pub(crate) fn finish_handshake<T: FrontEnd>(
    mut socket: T,
    result: Result<()>,
    mut report: impl FnMut(SslError),
) -> Result<T> {
    for error in socket.core_mut().ssl_handshake_errors() {
        report(error);
    }
    match result {
        Ok(()) => Ok(socket),
        Err(e) => {
            socket.abort_connection();
            Err(e)
        }
    }
}
