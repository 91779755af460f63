//! Socket behaviour scenarios written once and run against both front ends:
//! the blocking `sslsocket::SslSocket` and the async `sslsocket::tokio::SslSocket`.
//!
//! A scenario is a generic function over a [`Flavor`], which makes sockets
//! of one front end; the sockets are driven through [`TestSocket`], the
//! operations both front ends share, in blocking form. The tokio flavor runs
//! each async call to completion on a shared multi-thread runtime, so the
//! async socket does its real work (its own polling, tokio's reactor and
//! timers) while the scenario reads like the blocking one. Both ends of a
//! connection run on their own threads over 127.0.0.1.
//!
//! ```ignore
//! #[test]
//! fn starttls_blocking() { scenarios::starttls::<scenarios::Blocking>() }
//! #[test]
//! fn starttls_tokio() { scenarios::starttls::<scenarios::Tokio>() }
//! ```

use super::pki::AsSslCertificate;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sslsocket::configuration::SslConfiguration;
use sslsocket::verify::{PeerVerifyDecision, SslErrorsDecision};
use sslsocket::{
    AlertLevel, AlertType, Counters, Error, Event, KeyType, PeerVerifyMode, SocketCore,
    SocketError, SocketState, SslCertificate, SslCipher, SslError, SslErrorCode, SslKey, SslMode,
    SslProtocol,
};

use super::memory::{both, within, TestPki, GUARD, WAIT};
use super::peers;

/// A boxed `ssl_errors` handler.
pub type SslErrorsHandler = Box<dyn Fn(&[SslError]) -> SslErrorsDecision + Send + Sync>;

/// A boxed `peer_verify_error` handler.
pub type PeerVerifyErrorHandler = Box<dyn Fn(&SslError) -> PeerVerifyDecision + Send + Sync>;

/// The operations of a socket that the scenarios use, in blocking form.
pub trait TestSocket: Send + 'static {
    /// The state and non-waiting operations every socket shares.
    fn core(&self) -> &SocketCore;
    fn core_mut(&mut self) -> &mut SocketCore;

    fn connect_to_host_encrypted(&mut self, host: &str, port: u16) {
        self.core_mut().connect_to_host_encrypted(host, port);
    }
    fn connect_to_host(&mut self, host: &str, port: u16) {
        self.core_mut().connect_to_host(host, port);
    }
    fn start_client_encryption(&mut self) -> sslsocket::Result<()> {
        self.core_mut().start_client_encryption()
    }
    fn start_server_encryption(&mut self) -> sslsocket::Result<()> {
        self.core_mut().start_server_encryption()
    }
    fn wait_for_connected(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()>;
    fn wait_for_encrypted(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()>;
    fn wait_for_ready_read(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()>;
    fn wait_for_disconnected(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()>;
    /// Queues data without sending it (`write`).
    fn write_data(&mut self, data: &[u8]) -> sslsocket::Result<usize> {
        self.core_mut().write_data(data)
    }
    fn flush(&mut self) -> sslsocket::Result<()>;
    /// Waits for a whole line (or the end of the stream) and reads it.
    fn read_line(&mut self) -> sslsocket::Result<Vec<u8>>;
    /// `std::io::Read::read_exact` / `AsyncReadExt::read_exact`, within `WAIT`.
    fn read_exact(&mut self, n: usize) -> io::Result<Vec<u8>>;
    /// `read_to_end`, within `WAIT`.
    fn read_to_end(&mut self) -> io::Result<Vec<u8>>;
    /// `write_all` + `flush` through `std::io::Write` / `AsyncWrite`.
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
    fn disconnect_from_host(&mut self);
    fn abort(&mut self);

    fn configuration_mut(&mut self) -> &mut SslConfiguration {
        self.core_mut().ssl_configuration_mut()
    }
    fn set_peer_verify_name(&mut self, name: &str) {
        self.core_mut().set_peer_verify_name(name);
    }
    fn ignore_ssl_errors(&mut self) {
        self.core_mut().ignore_ssl_errors();
    }
    fn ignore_listed_ssl_errors(&mut self, errors: Vec<SslError>) {
        self.core_mut().ignore_listed_ssl_errors(errors);
    }
    fn on_ssl_errors(&mut self, handler: SslErrorsHandler) {
        self.core_mut().on_ssl_errors(handler);
    }
    fn on_peer_verify_error(&mut self, handler: PeerVerifyErrorHandler) {
        self.core_mut().on_peer_verify_error(handler);
    }

    fn state(&self) -> SocketState {
        self.core().state()
    }
    fn mode(&self) -> SslMode {
        self.core().mode()
    }
    fn is_encrypted(&self) -> bool {
        self.core().is_encrypted()
    }
    fn error(&self) -> Option<SocketError> {
        self.core().error()
    }
    fn error_string(&self) -> String {
        self.core().error_string().to_owned()
    }
    fn session_protocol(&self) -> SslProtocol {
        self.core().session_protocol()
    }
    fn session_cipher(&self) -> Option<SslCipher> {
        self.core().session_cipher()
    }
    fn peer_certificate_chain(&self) -> Vec<SslCertificate> {
        self.core().peer_certificate_chain()
    }
    fn ssl_handshake_errors(&self) -> Vec<SslError> {
        self.core().ssl_handshake_errors()
    }
    fn next_negotiated_protocol(&self) -> Option<Vec<u8>> {
        self.core().next_negotiated_protocol()
    }
    fn is_session_resumed(&self) -> bool {
        self.core().is_session_resumed()
    }
    fn peer_verify_name(&self) -> Option<String> {
        self.core().peer_verify_name().map(str::to_owned)
    }
    fn counters(&self) -> Counters {
        self.core().counters()
    }
    fn bytes_to_write(&self) -> usize {
        self.core().bytes_to_write()
    }
    fn next_event(&mut self) -> Option<Event> {
        self.core_mut().next_event()
    }
}

/// A front end: how to make its sockets.
pub trait Flavor: 'static {
    type Socket: TestSocket;
    /// An unconnected socket with `configuration`.
    fn socket(configuration: SslConfiguration) -> Self::Socket;
    /// A plain-mode socket over an accepted connection.
    fn accepted(stream: TcpStream, configuration: SslConfiguration) -> Self::Socket;
}

// ---------------------------------------------------------------------------
// The blocking front end
// ---------------------------------------------------------------------------

/// The blocking `sslsocket::SslSocket` over a `TcpStream`.
pub struct Blocking;

pub struct BlockingSocket(sslsocket::SslSocket);

impl Flavor for Blocking {
    type Socket = BlockingSocket;

    fn socket(configuration: SslConfiguration) -> BlockingSocket {
        let mut socket = sslsocket::SslSocket::new();
        socket.set_ssl_configuration(configuration);
        socket.set_read_timeout(Some(WAIT));
        socket.set_write_timeout(Some(WAIT));
        BlockingSocket(socket)
    }

    fn accepted(stream: TcpStream, configuration: SslConfiguration) -> BlockingSocket {
        let mut socket =
            sslsocket::SslSocket::from_stream_with_configuration(stream, configuration);
        socket.set_read_timeout(Some(WAIT));
        socket.set_write_timeout(Some(WAIT));
        BlockingSocket(socket)
    }
}

impl TestSocket for BlockingSocket {
    fn core(&self) -> &SocketCore {
        &self.0
    }
    fn core_mut(&mut self) -> &mut SocketCore {
        &mut self.0
    }
    fn wait_for_connected(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        self.0.wait_for_connected(timeout)
    }
    fn wait_for_encrypted(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        self.0.wait_for_encrypted(timeout)
    }
    fn wait_for_ready_read(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        self.0.wait_for_ready_read(timeout)
    }
    fn wait_for_disconnected(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        self.0.wait_for_disconnected(timeout)
    }
    fn flush(&mut self) -> sslsocket::Result<()> {
        self.0.flush()
    }
    fn read_line(&mut self) -> sslsocket::Result<Vec<u8>> {
        loop {
            if self.0.can_read_line() {
                return Ok(self.0.read_line(1024));
            }
            match self.0.wait_for_ready_read(Some(WAIT)) {
                Ok(()) => {}
                Err(Error::RemoteHostClosed) => return Ok(self.0.read_line(1024)),
                Err(e) => return Err(e),
            }
        }
    }
    fn read_exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut data = vec![0; n];
        Read::read_exact(&mut self.0, &mut data)?;
        Ok(data)
    }
    fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        let mut data = Vec::new();
        Read::read_to_end(&mut self.0, &mut data)?;
        Ok(data)
    }
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        Write::write_all(&mut self.0, data)?;
        Write::flush(&mut self.0)
    }
    fn disconnect_from_host(&mut self) {
        self.0.disconnect_from_host();
    }
    fn abort(&mut self) {
        self.0.abort();
    }
}

// ---------------------------------------------------------------------------
// The tokio front end
// ---------------------------------------------------------------------------

/// The async `sslsocket::tokio::SslSocket` over a tokio `TcpStream`, each
/// call run to completion on [`runtime`].
#[cfg(feature = "tokio")]
pub struct Tokio;

#[cfg(feature = "tokio")]
pub struct TokioSocket(sslsocket::tokio::SslSocket);

/// The runtime the tokio flavor's sockets live on: multi-threaded, so that
/// its reactor runs while scenario threads wait in `block_on`.
#[cfg(feature = "tokio")]
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

#[cfg(feature = "tokio")]
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    runtime().block_on(future)
}

#[cfg(feature = "tokio")]
fn within_wait<T>(future: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    block_on(async {
        tokio::time::timeout(WAIT, future)
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    })
}

#[cfg(feature = "tokio")]
impl Flavor for Tokio {
    type Socket = TokioSocket;

    fn socket(configuration: SslConfiguration) -> TokioSocket {
        let mut socket = sslsocket::tokio::SslSocket::new();
        socket.set_ssl_configuration(configuration);
        TokioSocket(socket)
    }

    fn accepted(stream: TcpStream, configuration: SslConfiguration) -> TokioSocket {
        stream.set_nonblocking(true).expect("non-blocking stream");
        let _entered = runtime().enter();
        let stream = tokio::net::TcpStream::from_std(stream).expect("register with tokio");
        TokioSocket(sslsocket::tokio::SslSocket::from_stream_with_configuration(
            stream,
            configuration,
        ))
    }
}

#[cfg(feature = "tokio")]
impl TestSocket for TokioSocket {
    fn core(&self) -> &SocketCore {
        &self.0
    }
    fn core_mut(&mut self) -> &mut SocketCore {
        &mut self.0
    }
    fn wait_for_connected(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        block_on(self.0.wait_for_connected(timeout))
    }
    fn wait_for_encrypted(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        block_on(self.0.wait_for_encrypted(timeout))
    }
    fn wait_for_ready_read(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        block_on(self.0.wait_for_ready_read(timeout))
    }
    fn wait_for_disconnected(&mut self, timeout: Option<Duration>) -> sslsocket::Result<()> {
        block_on(self.0.wait_for_disconnected(timeout))
    }
    fn flush(&mut self) -> sslsocket::Result<()> {
        block_on(self.0.flush())
    }
    fn read_line(&mut self) -> sslsocket::Result<Vec<u8>> {
        block_on(async {
            tokio::time::timeout(WAIT, self.0.read_line(1024))
                .await
                .unwrap_or(Err(Error::Timeout {
                    operation: "reading a line",
                }))
        })
    }
    fn read_exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        within_wait(async {
            let mut data = vec![0; n];
            self.0.read_exact(&mut data).await?;
            Ok(data)
        })
    }
    fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        within_wait(async {
            let mut data = Vec::new();
            self.0.read_to_end(&mut data).await?;
            Ok(data)
        })
    }
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        use tokio::io::AsyncWriteExt;
        within_wait(async {
            self.0.write_all(data).await?;
            AsyncWriteExt::flush(&mut self.0).await
        })
    }
    fn disconnect_from_host(&mut self) {
        block_on(self.0.disconnect_from_host());
    }
    fn abort(&mut self) {
        self.0.abort();
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

pub fn events<T: TestSocket>(socket: &mut T) -> Vec<Event> {
    std::iter::from_fn(|| socket.next_event()).collect()
}

/// The events without byte counts and ready-read notifications, whose
/// number depends on how the data was split.
pub fn milestones(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            !matches!(
                e,
                Event::ReadyRead | Event::BytesWritten(_) | Event::EncryptedBytesWritten(_)
            )
        })
        .cloned()
        .collect()
}

pub fn bytes_written(events: &[Event]) -> u64 {
    events
        .iter()
        .map(|e| match e {
            Event::BytesWritten(n) => *n,
            _ => 0,
        })
        .sum()
}

pub fn codes(errors: &[SslError]) -> Vec<SslErrorCode> {
    errors.iter().map(SslError::code).collect()
}

pub fn close_notify_sent() -> Event {
    Event::AlertSent {
        level: AlertLevel::Warning,
        kind: AlertType::CloseNotify,
    }
}

pub fn close_notify_received() -> Event {
    Event::AlertReceived {
        level: AlertLevel::Warning,
        kind: AlertType::CloseNotify,
    }
}

/// Test data that is easy to check: the position in every byte.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A listener on 127.0.0.1 and its port.
pub fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// A client configuration trusting only the test root; the host connected
/// to is what is verified.
pub fn client_configuration(pki: &TestPki) -> SslConfiguration {
    let mut configuration = SslConfiguration::new();
    configuration.set_ca_certificates(vec![pki.root.certificate()]);
    configuration
}

/// Runs `server` on the connection accepted from `listener` (a plain socket
/// of flavor `F` with `configuration`) on a thread, and `client` here;
/// returns both results.
pub fn serve_and_connect<F: Flavor, A: Send, B>(
    listener: TcpListener,
    configuration: SslConfiguration,
    server: impl FnOnce(&mut F::Socket) -> A + Send,
    client: impl FnOnce() -> B,
) -> (A, B) {
    both(
        move || {
            let stream = peers::accept_within(&listener, WAIT).expect("a client connects");
            let mut socket = F::accepted(stream, configuration);
            server(&mut socket)
        },
        client,
    )
}

/// A server socket's handshake: start and wait.
pub fn server_handshake<T: TestSocket>(socket: &mut T) -> sslsocket::Result<()> {
    socket.start_server_encryption()?;
    assert_eq!(socket.mode(), SslMode::SslServerMode);
    socket.wait_for_encrypted(Some(WAIT))
}

/// One connection: a server with `server_configuration` (after `server_setup`)
/// and a client connecting to localhost with `client_configuration` (after
/// `client_setup`). The server writes a line once encrypted, which the
/// client reads (so TLS 1.3 tickets have arrived), then the client
/// disconnects. Returns the client, its handshake result, and the server's.
pub fn connect_once<F: Flavor>(
    client_configuration: &SslConfiguration,
    server_configuration: &SslConfiguration,
    client_setup: impl FnOnce(&mut F::Socket),
    server_setup: impl FnOnce(&mut F::Socket) + Send,
) -> (F::Socket, sslsocket::Result<()>, sslsocket::Result<()>) {
    let (listener, port) = listen();
    let mut client = F::socket(client_configuration.clone());
    client_setup(&mut client);
    let (server_result, client_result) = serve_and_connect::<F, _, _>(
        listener,
        server_configuration.clone(),
        |server| {
            server_setup(server);
            let result = server_handshake(server);
            if result.is_ok() {
                let _ = server.write_all(b"welcome\n");
                let _ = server.wait_for_disconnected(Some(WAIT));
            }
            result
        },
        || {
            client.connect_to_host_encrypted("localhost", port);
            let result = client.wait_for_encrypted(Some(WAIT));
            if result.is_ok() {
                assert_eq!(client.read_line().unwrap(), b"welcome\n");
            }
            client.disconnect_from_host();
            result
        },
    );
    (client, client_result, server_result)
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// A handshake over TCP, then data both ways, states, events and counters,
/// and a disconnect with close_notify.
pub fn handshake_and_data_both_ways<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = listen();
        let data = pattern(200_000);
        let expected = data.clone();
        let leaf = pki.server.certificate();
        let chain = pki.server_chain();
        let mut client = F::socket(client_configuration(&pki));
        let (server_view, ()) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            move |server| {
                server_handshake(server).expect("server handshake");
                let received = server
                    .read_exact(expected.len())
                    .expect("the client's data");
                assert!(received == expected, "the data arrived changed");
                server.write_all(&received).expect("echo");
                // The client disconnects: end of stream, after close_notify.
                let rest = server.read_to_end().expect("a clean end of stream");
                assert!(rest.is_empty());
                assert_eq!(server.state(), SocketState::UnconnectedState);
                (
                    server.session_protocol(),
                    server.session_cipher(),
                    server.counters(),
                    events(server),
                )
            },
            || {
                assert_eq!(client.state(), SocketState::UnconnectedState);
                client.connect_to_host_encrypted("localhost", port);
                assert_eq!(client.state(), SocketState::HostLookupState);
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
                assert_eq!(client.state(), SocketState::ConnectedState);
                assert_eq!(client.mode(), SslMode::SslClientMode);
                assert!(client.is_encrypted());
                assert_eq!(client.peer_verify_name().as_deref(), Some("localhost"));
                assert_eq!(client.peer_certificate_chain(), chain);
                assert_eq!(client.peer_certificate_chain()[0], leaf);
                assert!(client.ssl_handshake_errors().is_empty());
                let handshake_events = events(&mut client);
                assert_eq!(
                    milestones(&handshake_events),
                    [
                        Event::StateChanged(SocketState::HostLookupState),
                        Event::StateChanged(SocketState::ConnectingState),
                        Event::StateChanged(SocketState::ConnectedState),
                        Event::Connected,
                        Event::ModeChanged(SslMode::SslClientMode),
                        Event::Encrypted,
                    ]
                );

                client.write_all(&data).expect("write");
                let echo = client.read_exact(data.len()).expect("the echo");
                assert!(echo == data, "the echo arrived changed");
                client.disconnect_from_host();
                assert_eq!(client.state(), SocketState::UnconnectedState);
                assert_eq!(client.error(), None, "{}", client.error_string());
                let closing = milestones(&events(&mut client));
                let sent_at = closing.iter().position(|e| *e == close_notify_sent());
                assert!(
                    closing.contains(&Event::StateChanged(SocketState::ClosingState))
                        && sent_at.is_some()
                        && closing.last() == Some(&Event::Disconnected),
                    "{closing:?}"
                );
            },
        );
        let (protocol, cipher, server_counters, server_events) = server_view;
        assert_eq!(client.session_protocol(), SslProtocol::TlsV1_3);
        assert_eq!(protocol, SslProtocol::TlsV1_3);
        assert!(cipher.is_some());
        assert_eq!(client.session_cipher(), cipher);
        let counters = client.counters();
        assert_eq!(counters.bytes_written, data.len() as u64);
        assert_eq!(counters.bytes_read, data.len() as u64);
        assert!(counters.encrypted_bytes_written > data.len() as u64);
        assert_eq!(
            counters.encrypted_bytes_written,
            server_counters.encrypted_bytes_read
        );
        assert_eq!(server_counters.bytes_read, data.len() as u64);
        let server_milestones = milestones(&server_events);
        assert_eq!(
            &server_milestones[..3],
            [
                Event::Connected,
                Event::ModeChanged(SslMode::SslServerMode),
                Event::Encrypted
            ]
        );
        assert!(
            server_milestones.contains(&close_notify_received()),
            "{server_milestones:?}"
        );
        assert_eq!(server_milestones.last(), Some(&Event::Disconnected));
    });
}

/// A peer that closes with close_notify gets one back before the
/// connection ends (RFC 8446, 6.1): a rustls client that keeps reading after
/// its close_notify sees a clean end of stream, not a truncation.
pub fn a_clean_close_is_answered_with_close_notify<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = listen();
        let root = pki.root.certificate();
        let (server_milestones, client_end) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            |server| {
                server_handshake(server).expect("server handshake");
                let rest = server.read_to_end().expect("a clean end of stream");
                assert!(rest.is_empty());
                assert_eq!(server.state(), SocketState::UnconnectedState);
                milestones(&events(server))
            },
            move || {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(root.to_der().to_vec().into())
                    .expect("the root is usable");
                let config = rustls::ClientConfig::builder()
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let name = "localhost".try_into().expect("a DNS name");
                let mut connection =
                    rustls::ClientConnection::new(Arc::new(config), name).expect("a client");
                let mut tcp = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
                tcp.set_read_timeout(Some(WAIT)).expect("read timeout");
                while connection.is_handshaking() {
                    connection.complete_io(&mut tcp).expect("client handshake");
                }
                connection.send_close_notify();
                connection
                    .complete_io(&mut tcp)
                    .expect("close_notify goes out");
                // The write side stays open: only the server's close_notify
                // makes this a clean end of stream.
                let mut rest = Vec::new();
                rustls::Stream::new(&mut connection, &mut tcp).read_to_end(&mut rest)
            },
        );
        let read = client_end.expect("the server's close_notify ends the stream cleanly");
        assert_eq!(read, 0);
        let received = server_milestones
            .iter()
            .position(|e| *e == close_notify_received());
        let sent = server_milestones
            .iter()
            .position(|e| *e == close_notify_sent());
        assert!(
            matches!((received, sent), (Some(r), Some(s)) if r < s),
            "{server_milestones:?}"
        );
    });
}

/// Data written before the connection and handshake is queued and sent
/// encrypted once the handshake completes.
pub fn early_writes_go_out_after_the_handshake<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = listen();
        let secret = b"queued before the handshake: attack at dawn\n";
        let mut client = F::socket(client_configuration(&pki));
        let (line, ()) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            |server| {
                server_handshake(server).expect("server handshake");
                server.read_line().expect("a line")
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                assert_eq!(client.write_data(secret).unwrap(), secret.len());
                assert_eq!(client.bytes_to_write(), secret.len());
                assert!(!client.is_encrypted());
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
                assert_eq!(client.bytes_to_write(), 0);
            },
        );
        assert_eq!(line, secret);
        let client_events = events(&mut client);
        assert_eq!(bytes_written(&client_events), secret.len() as u64);
        let encrypted_at = client_events
            .iter()
            .position(|e| *e == Event::Encrypted)
            .expect("Encrypted");
        let written_at = client_events
            .iter()
            .position(|e| matches!(e, Event::BytesWritten(_)))
            .expect("BytesWritten");
        assert!(written_at > encrypted_at, "{client_events:?}");
    });
}

/// A plain connection, a line each way, then STARTTLS; data written while
/// the client's handshake runs is sent encrypted after it.
pub fn starttls<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = listen();
        let mut client = F::socket(client_configuration(&pki));
        let (server_line, ()) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            |server| {
                assert_eq!(server.mode(), SslMode::UnencryptedMode);
                assert_eq!(server.read_line().unwrap(), b"STARTTLS\r\n");
                server.write_all(b"220 go ahead\r\n").unwrap();
                server_handshake(server).expect("server handshake");
                let line = server.read_line().unwrap();
                server.write_all(b"250 secret ok\r\n").unwrap();
                line
            },
            || {
                client.connect_to_host("localhost", port);
                client.wait_for_connected(Some(WAIT)).expect("connected");
                assert_eq!(client.state(), SocketState::ConnectedState);
                assert_eq!(client.mode(), SslMode::UnencryptedMode);
                client.write_data(b"STARTTLS\r\n").unwrap();
                client.flush().unwrap();
                assert_eq!(client.read_line().unwrap(), b"220 go ahead\r\n");
                client
                    .start_client_encryption()
                    .expect("the handshake starts");
                assert_eq!(client.mode(), SslMode::SslClientMode);
                assert_eq!(client.peer_verify_name().as_deref(), Some("localhost"));
                client.write_data(b"AUTH secret\r\n").unwrap();
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
                assert_eq!(client.read_line().unwrap(), b"250 secret ok\r\n");
            },
        );
        assert_eq!(server_line, b"AUTH secret\r\n");
        assert_eq!(
            milestones(&events(&mut client)),
            [
                Event::StateChanged(SocketState::HostLookupState),
                Event::StateChanged(SocketState::ConnectingState),
                Event::StateChanged(SocketState::ConnectedState),
                Event::Connected,
                Event::ModeChanged(SslMode::SslClientMode),
                Event::Encrypted
            ]
        );
    });
}

/// A certificate for another name: the handshake fails with
/// `HostNameMismatch`, bound to the server's certificate, and an alert.
pub fn host_name_mismatch_fails_the_handshake<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = listen();
        let mut configuration = client_configuration(&pki);
        configuration.set_peer_verify_name(Some("wrong.test".to_owned()));
        let mut client = F::socket(configuration);
        let ((server_result, mut server_events), result) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            |server| {
                let result = server_handshake(server);
                assert!(!server.is_encrypted());
                (result, events(server))
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                client.wait_for_encrypted(Some(WAIT))
            },
        );
        let errors = match result {
            Err(Error::VerificationFailed { errors }) => errors,
            other => panic!("client: {other:?}"),
        };
        assert_eq!(codes(&errors), [SslErrorCode::HostNameMismatch]);
        assert_eq!(errors[0].certificate(), Some(&pki.server.certificate()));
        assert_eq!(client.ssl_handshake_errors(), errors);
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(
            client
                .error_string()
                .contains(SslErrorCode::HostNameMismatch.message()),
            "{}",
            client.error_string()
        );
        assert!(!client.is_encrypted());
        assert_eq!(client.state(), SocketState::UnconnectedState);
        let client_events = events(&mut client);
        assert!(
            client_events.contains(&Event::AlertSent {
                level: AlertLevel::Fatal,
                kind: AlertType::BadCertificate
            }),
            "{client_events:?}"
        );
        assert!(!client_events.contains(&Event::Encrypted));
        assert_eq!(client_events.last(), Some(&Event::Disconnected));
        assert!(client.write_data(b"too late").is_err());

        assert!(server_result.is_err(), "the server went on");
        server_events.retain(|e| matches!(e, Event::AlertReceived { .. }));
        assert_eq!(
            server_events,
            [Event::AlertReceived {
                level: AlertLevel::Fatal,
                kind: AlertType::BadCertificate
            }]
        );
    });
}

/// An ignore list bound to the server's certificate lets the handshake
/// through; the same code bound to another certificate does not.
pub fn certificate_bound_ignore_list<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let mut configuration = client_configuration(&pki);
        configuration.set_peer_verify_name(Some("wrong.test".to_owned()));
        let expected = vec![SslError::with_certificate(
            SslErrorCode::HostNameMismatch,
            pki.server.certificate(),
        )];
        let listed = expected.clone();
        let (mut client, c, s) = connect_once::<F>(
            &configuration,
            &pki.server_configuration(),
            |client| client.ignore_listed_ssl_errors(listed),
            |_| {},
        );
        c.expect("client");
        s.expect("server");
        assert_eq!(client.ssl_handshake_errors(), expected);
        let client_events = milestones(&events(&mut client));
        let errors_at = client_events
            .iter()
            .position(|e| *e == Event::SslErrors(expected.clone()));
        let encrypted_at = client_events.iter().position(|e| *e == Event::Encrypted);
        assert!(
            errors_at.is_some() && errors_at < encrypted_at,
            "{client_events:?}"
        );

        let other = pki.intermediate.certificate();
        let (client, c, _s) = connect_once::<F>(
            &configuration,
            &pki.server_configuration(),
            |client| {
                client.ignore_listed_ssl_errors(vec![SslError::with_certificate(
                    SslErrorCode::HostNameMismatch,
                    other,
                )])
            },
            |_| {},
        );
        assert!(matches!(c, Err(Error::VerificationFailed { .. })), "{c:?}");
        assert!(!client.is_encrypted());
    });
}

/// The `ssl_errors` handler can ignore; the `peer_verify_error` handler can abort.
pub fn verification_handlers<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let mut configuration = client_configuration(&pki);
        configuration.set_peer_verify_name(Some("wrong.test".to_owned()));

        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let (client, c, s) = connect_once::<F>(
            &configuration,
            &pki.server_configuration(),
            move |client| {
                client.on_ssl_errors(Box::new(move |errors| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(codes(errors), [SslErrorCode::HostNameMismatch]);
                    SslErrorsDecision::IgnoreAll
                }))
            },
            |_| {},
        );
        c.expect("client");
        s.expect("server");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            codes(&client.ssl_handshake_errors()),
            [SslErrorCode::HostNameMismatch]
        );

        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let (client, c, s) = connect_once::<F>(
            &configuration,
            &pki.server_configuration(),
            move |client| {
                client.ignore_ssl_errors();
                client.on_peer_verify_error(Box::new(move |error| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(error.code(), SslErrorCode::HostNameMismatch);
                    PeerVerifyDecision::Abort
                }))
            },
            |_| {},
        );
        assert!(matches!(c, Err(Error::VerificationFailed { .. })), "{c:?}");
        assert!(s.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
    });
}

/// ALPN: the server picks from the client's list; nothing configured,
/// nothing negotiated.
pub fn alpn<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let mut client_configuration = client_configuration(&pki);
        client_configuration
            .set_allowed_next_protocols(["h2", "http/1.1"])
            .unwrap();
        let mut server_configuration = pki.server_configuration();
        server_configuration
            .set_allowed_next_protocols(["http/1.1"])
            .unwrap();
        let (listener, port) = listen();
        let mut client = F::socket(client_configuration);
        let (server_protocol, ()) = serve_and_connect::<F, _, _>(
            listener,
            server_configuration,
            |server| {
                server_handshake(server).expect("server handshake");
                server.next_negotiated_protocol()
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
            },
        );
        assert_eq!(server_protocol, Some(b"http/1.1".to_vec()));
        assert_eq!(
            client.next_negotiated_protocol(),
            Some(b"http/1.1".to_vec())
        );

        let (client, c, _s) = connect_once::<F>(
            &self::client_configuration(&pki),
            &pki.server_configuration(),
            |_| {},
            |_| {},
        );
        c.expect("client");
        assert_eq!(client.next_negotiated_protocol(), None);
    });
}

/// A second client made from the same configuration resumes the session.
pub fn resumption<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let client_configuration = client_configuration(&pki);
        let server_configuration = pki.server_configuration();
        let (first, c, s) =
            connect_once::<F>(&client_configuration, &server_configuration, |_| {}, |_| {});
        c.expect("first client");
        s.expect("first server");
        assert!(!first.is_session_resumed());
        let (second, c, s) =
            connect_once::<F>(&client_configuration, &server_configuration, |_| {}, |_| {});
        c.expect("second client");
        s.expect("second server");
        assert!(
            second.is_session_resumed(),
            "the second connection did a full handshake"
        );
        assert_eq!(second.session_protocol(), SslProtocol::TlsV1_3);
        assert_eq!(second.peer_certificate_chain()[0], pki.server.certificate());
    });
}

/// Mutual TLS: a `VerifyPeer` server sees the client's certificate, and
/// refuses a client without one.
pub fn mutual_tls<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let client_id = pki.client_identity("client one");
        let mut client_configuration = client_configuration(&pki);
        let key = SslKey::from_pem(client_id.key_pem(), KeyType::PrivateKey, None).unwrap();
        client_configuration
            .set_local_identity(vec![client_id.certificate()], key)
            .unwrap();
        let mut server_configuration = pki.server_configuration();
        server_configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
        server_configuration.set_ca_certificates(vec![pki.root.certificate()]);

        let (listener, port) = listen();
        let mut client = F::socket(client_configuration);
        let ((chain, errors), ()) = serve_and_connect::<F, _, _>(
            listener,
            server_configuration.clone(),
            |server| {
                server_handshake(server).expect("server handshake");
                (
                    server.peer_certificate_chain(),
                    server.ssl_handshake_errors(),
                )
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
            },
        );
        assert_eq!(chain, [client_id.certificate()]);
        assert!(errors.is_empty());

        // Without a certificate.
        let (listener, port) = listen();
        let mut client = F::socket(self::client_configuration(&pki));
        let ((result, errors, error), client_result) = serve_and_connect::<F, _, _>(
            listener,
            server_configuration,
            |server| {
                let result = server_handshake(server);
                (result, server.ssl_handshake_errors(), server.error())
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                let result = client.wait_for_encrypted(Some(WAIT));
                // TLS 1.3: the client may finish first; it learns of the
                // refusal when it next reads.
                if result.is_ok() {
                    assert!(client.wait_for_ready_read(Some(WAIT)).is_err());
                }
                result
            },
        );
        match &result {
            Err(Error::VerificationFailed { errors }) => {
                assert_eq!(codes(errors), [SslErrorCode::NoPeerCertificate]);
            }
            other => panic!("server: {other:?}"),
        }
        assert_eq!(codes(&errors), [SslErrorCode::NoPeerCertificate]);
        assert_eq!(error, Some(SocketError::SslHandshakeFailedError));
        let _ = client_result;
    });
}

/// Timeouts: a silent server makes the handshake time out, which is
/// reported and leaves the socket connected; a silent peer makes
/// `wait_for_ready_read` time out, and the connection stays usable.
pub fn timeouts<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let short = Some(Duration::from_millis(200));

        // A server that accepts and says nothing.
        let (listener, port) = listen();
        let mut client = F::socket(client_configuration(&pki));
        client.connect_to_host_encrypted("localhost", port);
        let silent = std::thread::spawn(move || {
            let stream = peers::accept_within(&listener, WAIT).expect("a client connects");
            std::thread::sleep(Duration::from_millis(600));
            drop(stream);
        });
        match client.wait_for_encrypted(short) {
            Err(Error::Timeout { .. }) => {}
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));
        assert_eq!(client.state(), SocketState::ConnectedState);
        assert!(!client.is_encrypted());
        // The server hangs up: the handshake fails for good.
        let after = client.wait_for_encrypted(Some(WAIT));
        assert!(
            matches!(
                after,
                Err(Error::RemoteHostClosed) | Err(Error::HandshakeFailed(_))
            ),
            "{after:?}"
        );
        assert_eq!(client.state(), SocketState::UnconnectedState);
        silent.join().unwrap();

        // An encrypted connection whose peer is quiet for a while.
        let (listener, port) = listen();
        let mut client = F::socket(client_configuration(&pki));
        let ((), ()) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            |server| {
                server_handshake(server).expect("server handshake");
                assert_eq!(server.read_line().unwrap(), b"quiet?\n");
                server.write_all(b"not any more\n").unwrap();
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
                match client.wait_for_ready_read(short) {
                    Err(Error::Timeout { .. }) => {}
                    other => panic!("expected a timeout, got {other:?}"),
                }
                assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));
                assert!(client.is_encrypted());
                client.write_all(b"quiet?\n").unwrap();
                assert_eq!(client.read_line().unwrap(), b"not any more\n");
            },
        );
    });
}

/// `abort` drops what is queued and sends no close_notify; the peer sees the
/// stream end (without close_notify: a truncation error for its reads).
pub fn abort_drops_pending_data<F: Flavor>() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = listen();
        let mut client = F::socket(client_configuration(&pki));
        let ((received, server_events), ()) = serve_and_connect::<F, _, _>(
            listener,
            pki.server_configuration(),
            |server| {
                server_handshake(server).expect("server handshake");
                let received = server.read_to_end();
                (received, events(server))
            },
            || {
                client.connect_to_host_encrypted("localhost", port);
                client.wait_for_encrypted(Some(WAIT)).expect("handshake");
                let _ = events(&mut client);
                client.write_data(b"this is never sent").unwrap();
                client.abort();
                assert_eq!(client.state(), SocketState::UnconnectedState);
                assert_eq!(client.bytes_to_write(), 0);
            },
        );
        match received {
            Ok(data) => assert!(data.is_empty(), "{:?}", String::from_utf8_lossy(&data)),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}"),
        }
        assert!(!server_events.contains(&close_notify_received()));
        let client_events = milestones(&events(&mut client));
        assert_eq!(client_events.last(), Some(&Event::Disconnected));
        assert!(!client_events.contains(&close_notify_sent()));
        assert!(client.write_data(b"more").is_err());
        assert_eq!(client.error(), Some(SocketError::OperationError));
    });
}

/// Connecting to a refused port or an unknown host fails, and the socket
/// is unconnected again.
pub fn connect_errors<F: Flavor>() {
    within(GUARD, || {
        let port = {
            let (listener, port) = listen();
            drop(listener);
            port
        };
        let mut client = F::socket(SslConfiguration::new());
        client.connect_to_host_encrypted("127.0.0.1", port);
        let result = client.wait_for_encrypted(Some(WAIT));
        assert!(
            matches!(result, Err(Error::ConnectFailed { .. })),
            "{result:?}"
        );
        assert_eq!(client.error(), Some(SocketError::ConnectionRefusedError));
        assert_eq!(client.state(), SocketState::UnconnectedState);
        assert_eq!(
            milestones(&events(&mut client)),
            [
                Event::StateChanged(SocketState::HostLookupState),
                Event::StateChanged(SocketState::ConnectingState),
                Event::StateChanged(SocketState::UnconnectedState),
            ]
        );

        let mut plain = F::socket(SslConfiguration::new());
        plain.connect_to_host("localhost", port);
        let result = plain.wait_for_connected(Some(WAIT));
        assert!(
            matches!(result, Err(Error::ConnectFailed { .. })),
            "{result:?}"
        );
        assert_eq!(plain.state(), SocketState::UnconnectedState);

        let mut unknown = F::socket(SslConfiguration::new());
        unknown.connect_to_host_encrypted("no-such-host.invalid", 443);
        let result = unknown.wait_for_encrypted(Some(WAIT));
        assert!(
            matches!(result, Err(Error::HostNotFound { .. })),
            "{result:?}"
        );
        assert_eq!(unknown.error(), Some(SocketError::HostNotFoundError));
        assert_eq!(unknown.state(), SocketState::UnconnectedState);

        // Not connected at all: waiting is refused, writing too.
        let mut idle = F::socket(SslConfiguration::new());
        assert!(idle.wait_for_encrypted(Some(WAIT)).is_err());
        assert!(idle.write_data(b"x").is_err());
        assert_eq!(idle.error(), Some(SocketError::OperationError));
        assert!(idle.start_client_encryption().is_err());
        assert_eq!(idle.mode(), SslMode::UnencryptedMode);
    });
}
