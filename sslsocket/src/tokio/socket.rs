//! The async socket: the blocking socket's model on tokio.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;

use crate::configuration::SslConfiguration;
use crate::driver::{closed_by_peer, Direction, Driver, FrontEnd, Progress};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::net;
use crate::socket_core::{cannot_connect, ReadNow, SocketCore, CLIENT_HELLO_WAIT, DEFAULT_WAIT};
use crate::state::SocketState;

/// A connection being made: the look-up and connect, as one future kept in
/// the socket so that a cancelled wait loses nothing.
type ConnectFuture<S> = Pin<Box<dyn Future<Output = Result<S>> + Send>>;

/// How a socket opens its connections; sockets made over a stream have
/// none.
type Connector<S> = fn(String, u16) -> ConnectFuture<S>;

/// The transport as the synchronous `Read + Write` the channel takes, for
/// one poll: `Poll::Pending` becomes `io::ErrorKind::WouldBlock` (with the
/// waker registered, as for any pending poll).
struct SyncIo<'a, 'b, S> {
    stream: &'a mut S,
    cx: &'a mut Context<'b>,
}

/// A poll's result as a synchronous one. A transport's own `WouldBlock` or
/// `TimedOut` error would read as "pending" without a waker registered,
/// and the socket would never be woken: it becomes a plain failure.
fn sync<T>(polled: Poll<io::Result<T>>) -> io::Result<T> {
    match polled {
        Poll::Ready(Err(e))
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(io::Error::other(e))
        }
        Poll::Ready(result) => result,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl<S: AsyncRead + Unpin> Read for SyncIo<'_, '_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        sync(Pin::new(&mut *self.stream).poll_read(self.cx, &mut buf))?;
        Ok(buf.filled().len())
    }
}

impl<S: AsyncWrite + Unpin> Write for SyncIo<'_, '_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        sync(Pin::new(&mut *self.stream).poll_write(self.cx, buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        sync(Pin::new(&mut *self.stream).poll_write_vectored(self.cx, bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        sync(Pin::new(&mut *self.stream).poll_flush(self.cx))
    }
}

/// The most plaintext one `poll_write` takes: four full records. Data is
/// accepted only once the previous write is on its way, so this bounds
/// what a socket holds for the network.
const WRITE_CHUNK: usize = 64 * 1024;

/// A TLS socket for clients and servers (`QSslSocket`) on tokio, over any
/// `AsyncRead + AsyncWrite + Unpin` transport (a [`TcpStream`] by default).
/// See the [module documentation](super) for examples and for what each
/// method does when its future is cancelled.
///
/// It has the blocking [`SslSocket`](crate::SslSocket)'s operations, with
/// `async` versions of the ones that wait, the same verification handlers
/// and the same [`Event`]s, and it implements [`AsyncRead`] and
/// [`AsyncWrite`].
pub struct SslSocket<S = TcpStream> {
    stream: Option<S>,
    core: SocketCore,
    /// The connection being made, once the socket is driven after a connect call.
    connecting: Option<ConnectFuture<S>>,
    connector: Option<Connector<S>>,
}

socket_plumbing!(AsyncRead + AsyncWrite + Unpin);

impl SslSocket<TcpStream> {
    /// An unconnected socket with a copy of the default configuration.
    pub fn new() -> SslSocket<TcpStream> {
        let mut socket =
            SslSocket::with_core(None, SocketCore::new(SslConfiguration::new(), false));
        socket.connector = Some(|host, port| Box::pin(connect_tcp(host, port)));
        socket
    }

    /// Always true: TLS is built in (`supportsSsl`).
    pub fn supports_ssl() -> bool {
        SocketCore::supports_ssl()
    }

    /// The TLS library's name and version (`sslLibraryVersionString`).
    pub fn ssl_library_version_string() -> &'static str {
        SocketCore::ssl_library_version_string()
    }
}

/// Looks `host` up and connects to the first address that answers.
async fn connect_tcp(host: String, port: u16) -> Result<TcpStream> {
    let addresses: Vec<SocketAddr> = match net::literal_address(&host, port) {
        Some(address) => vec![address],
        None => {
            let found = ::tokio::net::lookup_host((host.as_str(), port))
                .await
                .map(Iterator::collect::<Vec<_>>);
            match found {
                Ok(found) => found,
                Err(e) => {
                    return Err(Error::HostNotFound {
                        host,
                        source: Some(e),
                    })
                }
            }
        }
    };
    if addresses.is_empty() {
        return Err(Error::HostNotFound { host, source: None });
    }
    let mut last = net::no_address();
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // As the blocking socket: TLS records are already batched.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(net::connect_failed(&host, port, last))
}

impl<S> SslSocket<S> {
    /// A socket over `stream` (if connected) with `core`'s state; the
    /// server hands out its sockets this way.
    pub(crate) fn with_core(stream: Option<S>, core: SocketCore) -> SslSocket<S> {
        SslSocket {
            stream,
            core,
            connecting: None,
            connector: None,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FrontEnd for SslSocket<S> {
    fn core_mut(&mut self) -> &mut SocketCore {
        &mut self.core
    }

    /// One attempt, without waiting (and without a waker, so a reading task
    /// never takes a writer's place), to send the records rustls queued
    /// last (an alert, a close_notify) on a connection that is ending.
    fn send_last_records(&mut self) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let mut cx = Context::from_waker(Waker::noop());
        let mut io = SyncIo {
            stream,
            cx: &mut cx,
        };
        Driver {
            core: &mut self.core,
            transport: &mut io,
            timed: false,
        }
        .send_last_records(|| true);
    }

    /// Gives up a connection being made, shuts the transport's writing side
    /// down (one attempt, without a waker) and makes the socket
    /// unconnected. The transport is kept (see
    /// [`into_inner`](SslSocket::into_inner)); it closes when dropped.
    fn close_transport(&mut self) {
        self.connecting = None;
        // As in the blocking socket, the transport goes with the connection.
        if let Some(mut stream) = self.stream.take() {
            let mut cx = Context::from_waker(Waker::noop());
            let _ = Pin::new(&mut stream).poll_shutdown(&mut cx);
        }
        self.core.closed();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> SslSocket<S> {
    /// Closes at once, dropping anything not yet sent (`abort`). The
    /// transport is shut down without waiting.
    pub fn abort(&mut self) {
        self.abort_connection();
    }

    // --- waiting ----------------------------------------------------------------

    /// Runs `poll` to completion, within `timeout` (`None`: no limit). A
    /// timeout is recorded as the socket's error and leaves the socket
    /// usable, except that a connection still being made is given up (as
    /// the blocking socket does).
    async fn run<T>(
        &mut self,
        timeout: Option<Duration>,
        operation: &'static str,
        mut poll: impl FnMut(&mut Self, &mut Context<'_>) -> Poll<Result<T>>,
    ) -> Result<T> {
        let finished = {
            let this = &mut *self;
            let future = poll_fn(move |cx| poll(this, cx));
            match timeout {
                None => Some(future.await),
                Some(limit) => ::tokio::time::timeout(limit, future).await.ok(),
            }
        };
        match finished {
            Some(result) => result,
            None => {
                let operation = if self.core.cancel_connecting() {
                    self.connecting = None;
                    "connecting"
                } else {
                    operation
                };
                Err(self.core.record(Error::Timeout { operation }))
            }
        }
    }

    /// Waits until the connection is made (`waitForConnected`); `None` waits
    /// without limit. The time bounds the name look-up and the connect.
    ///
    /// Cancel safety: cancel-safe; the connection attempt goes on at the
    /// next wait.
    pub async fn wait_for_connected(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.core.target().is_some() {
            return self
                .run(timeout, "connecting", |s, cx| s.poll_establish(cx))
                .await;
        }
        self.core.check_connected()
    }

    /// Waits until the handshake completes and the peer is accepted
    /// (`waitForEncrypted`); `None` waits without limit. The time bounds the
    /// name look-up, the connect and the handshake together. Data queued
    /// before is sent encrypted once the handshake completes.
    ///
    /// Cancel safety: cancel-safe; the handshake's state is in the socket,
    /// and the next wait (or read or write) goes on from where it stopped.
    pub async fn wait_for_encrypted(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.run(timeout, "waiting for the handshake", |s, cx| {
            ready!(s.poll_establish(cx))?;
            s.core.check_handshake_started()?;
            s.poll_drive(cx, Direction::Both, "waiting for the handshake", |core| {
                core.handshake_delivered()
            })
        })
        .await
    }

    /// A server's handshake up to the client's hello, answered, within
    /// `timeout`: the servers' deadline for a new client's first bytes.
    pub(crate) async fn wait_for_client_hello(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.run(timeout, CLIENT_HELLO_WAIT, |s, cx| {
            s.core.check_handshake_started()?;
            s.poll_drive(cx, Direction::Both, CLIENT_HELLO_WAIT, |core| {
                core.channel.client_hello_answered()
            })
        })
        .await
    }

    /// Waits until new data has arrived (`waitForReadyRead`), with the
    /// blocking socket's meaning: data that came since the last call
    /// returns at once, otherwise it waits for more.
    ///
    /// Cancel safety: cancel-safe; data that arrives stays in the socket.
    pub async fn wait_for_ready_read(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.run(timeout, "waiting for data", |s, cx| {
            ready!(s.poll_establish(cx))?;
            s.poll_drive(cx, Direction::Both, "waiting for data", |core| {
                core.channel.has_fresh_data()
            })
        })
        .await?;
        self.core.channel.take_fresh_data();
        Ok(())
    }

    /// Waits until the queued data is written (`waitForBytesWritten`),
    /// completing a pending connection and handshake first.
    ///
    /// Cancel safety: cancel-safe; what is not yet written stays queued.
    pub async fn wait_for_bytes_written(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.run(timeout, "writing", |s, cx| {
            ready!(s.poll_establish(cx))?;
            s.poll_drive(cx, Direction::Both, "writing", |core| {
                !core.channel.is_handshaking()
                    && core.channel.bytes_to_write() == 0
                    && !core.channel.wants_write()
            })
        })
        .await
    }

    /// Waits until the peer closes the connection (`waitForDisconnected`);
    /// the socket is then unconnected.
    ///
    /// Cancel safety: cancel-safe.
    pub async fn wait_for_disconnected(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.core.state() == SocketState::UnconnectedState {
            return Ok(());
        }
        let closed = self
            .run(timeout, "waiting for the disconnect", |s, cx| {
                s.poll_drive(cx, Direction::Both, "waiting for the disconnect", |core| {
                    core.channel.peer_closed()
                })
            })
            .await;
        closed_by_peer(closed)?;
        self.end_connection();
        Ok(())
    }

    /// Writes out what is queued (`flush`): a pending connection and
    /// handshake are completed first, so that data queued before them goes
    /// out too.
    ///
    /// Cancel safety: cancel-safe; what is not yet written stays queued.
    pub async fn flush(&mut self) -> Result<()> {
        self.core.check_not_unconnected("flush")?;
        self.run(None, "writing", |s, cx| s.poll_flush_all(cx))
            .await
    }

    /// Waits for one whole line (up to and including `\n`), at most `max`
    /// bytes, or the rest of the data once the peer has closed, and reads
    /// it (`canReadLine` + `readLine`). An empty line means the stream has
    /// ended. Like the blocking socket's `read_line`, but waiting.
    ///
    /// Cancel safety: cancel-safe; nothing is consumed until the line is
    /// complete.
    pub async fn read_line(&mut self, max: usize) -> Result<Vec<u8>> {
        self.run(None, "waiting for a line", |s, cx| {
            ready!(s.poll_establish(cx))?;
            if !line_ready(&mut s.core, max) {
                ready!(
                    s.poll_drive(cx, Direction::Both, "waiting for a line", |core| {
                        line_ready(core, max)
                    })
                )?;
            }
            Poll::Ready(Ok(s.core.channel.read_line(max)))
        })
        .await
    }

    /// Sends what is queued and, with TLS, a close_notify, then closes
    /// (`disconnectFromHost`). Waits at most 30 s for the data to go out.
    ///
    /// Cancel safety: cancel-safe; the close_notify is queued once, and a
    /// later call (or [`AsyncWrite::poll_shutdown`]) finishes the job.
    pub async fn disconnect_from_host(&mut self) {
        let finished = {
            let this = &mut *self;
            let future = poll_fn(move |cx| this.poll_disconnect(cx, true));
            ::tokio::time::timeout(DEFAULT_WAIT, future).await.is_ok()
        };
        if !finished {
            self.core.record(Error::Timeout {
                operation: "sending the last data",
            });
            self.close_transport();
        }
    }

    /// Qt's `close`: the same as [`disconnect_from_host`](Self::disconnect_from_host),
    /// and as cancel-safe.
    pub async fn close(&mut self) {
        self.disconnect_from_host().await;
    }

    /// Notifications, as a [`Stream`](futures_core::Stream) that drives the
    /// socket while it waits, like Qt's event loop: awaiting the next event
    /// connects, handshakes, sends what is queued and receives what arrives.
    /// The stream ends once the socket is unconnected and every event has
    /// been taken, or when the socket cannot make progress (its
    /// [`error`](SocketCore::error) says why, e.g. a full read buffer).
    ///
    /// Cancel safety: dropping a `next()` future loses no event; events are
    /// queued in the socket until taken.
    pub fn events(&mut self) -> Events<'_, S> {
        Events { socket: self }
    }

    // --- polling ------------------------------------------------------------

    /// Makes the connection a connect call asked for, if any, and starts
    /// its handshake.
    fn poll_establish(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some(target) = self.core.target().cloned() else {
            return Poll::Ready(Ok(()));
        };
        let connecting = match &mut self.connecting {
            Some(connecting) => connecting,
            None => {
                // Look-up and connect are one step here.
                self.core.connecting();
                let Some(connect) = self.connector else {
                    return Poll::Ready(self.core.connected(Err(cannot_connect())));
                };
                self.connecting.insert(connect(target.host, target.port))
            }
        };
        let connected = ready!(connecting.as_mut().poll(cx));
        self.connecting = None;
        let made = connected.map(|stream| self.stream = Some(stream));
        Poll::Ready(self.core.connected(made))
    }

    /// Drives I/O until `done` holds or the connection fails; the blocking
    /// socket's `drive`, with `Poll::Pending` where it would block. A
    /// failure that ends the connection makes the socket unconnected, and
    /// every failure is recorded.
    fn poll_drive(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        operation: &'static str,
        mut done: impl FnMut(&mut SocketCore) -> bool,
    ) -> Poll<Result<()>> {
        let result = ready!(self.poll_drive_inner(cx, direction, operation, &mut done));
        Poll::Ready(result.map_err(|e| self.wait_failed(e)))
    }

    /// [`Driver::step`] until `done`, pending while the transport is.
    fn poll_drive_inner(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        operation: &'static str,
        done: &mut impl FnMut(&mut SocketCore) -> bool,
    ) -> Poll<Result<()>> {
        loop {
            let closed = self.core.state() == SocketState::UnconnectedState;
            let Some(stream) = self.stream.as_mut().filter(|_| !closed) else {
                return Poll::Ready(Err(Error::InvalidState {
                    operation,
                    reason: if self.core.channel.has_failed() {
                        format!(
                            "the connection failed earlier: {}",
                            self.core.error_string()
                        )
                    } else {
                        "the socket is not connected".into()
                    },
                }));
            };
            let mut io = SyncIo {
                stream,
                cx: &mut *cx,
            };
            let mut driver = Driver {
                core: &mut self.core,
                transport: &mut io,
                timed: false,
            };
            match driver.step(direction, operation, done) {
                Ok(Progress::Done) => return Poll::Ready(Ok(())),
                Ok(Progress::Moved) => {}
                Ok(Progress::Blocked) => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Completes a pending connection and handshake, as the blocking
    /// socket's `std::io::Write` does before data can go out.
    fn poll_ready_for_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        ready!(self.poll_establish(cx))?;
        if self.core.channel.is_handshaking() {
            ready!(
                self.poll_drive(cx, Direction::Both, "waiting for the handshake", |core| {
                    core.handshake_delivered()
                })
            )?;
        }
        Poll::Ready(Ok(()))
    }

    /// `flush`: connection and handshake first, then everything queued.
    fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        ready!(self.poll_ready_for_data(cx))?;
        ready!(self.poll_drive(cx, Direction::Write, "writing", |core| {
            !core.channel.wants_write()
        }))?;
        match &mut self.stream {
            Some(stream) => Pin::new(stream).poll_flush(cx).map_err(Error::Io),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Closes the writing side: close_notify (once), what is queued, then
    /// the transport's shutdown. `full` (Qt's disconnect) then makes the
    /// socket unconnected; otherwise (`AsyncWrite::poll_shutdown`, a
    /// half-close) that happens once the peer has closed too, and reading
    /// goes on until then.
    fn poll_disconnect(&mut self, cx: &mut Context<'_>, full: bool) -> Poll<()> {
        if self.core.state() == SocketState::UnconnectedState {
            return Poll::Ready(());
        }
        // The first call queues the close_notify, once, so that a cancelled
        // and repeated disconnect does not send two.
        if self.core.begin_disconnect() {
            self.connecting = None;
        }
        if self.stream.is_some() {
            let sent = ready!(self.poll_drive(
                cx,
                Direction::Write,
                "sending the last data",
                |core| !core.channel.wants_write()
            ));
            // Failures are recorded; the transport is closed either way.
            let _ = sent;
        }
        if let Some(stream) = &mut self.stream {
            let _ = ready!(Pin::new(stream).poll_shutdown(cx));
        }
        if full || self.core.channel.peer_closed() || self.stream.is_none() {
            self.close_transport();
        }
        Poll::Ready(())
    }

    /// Reads more ciphertext (or plain data), without writing: the read half
    /// of the data path.
    /// As for the blocking socket, the end of the stream ends the
    /// connection (the socket becomes unconnected).
    fn poll_read_more(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_drive(cx, Direction::Read, "reading", |core| {
            core.channel.has_fresh_data()
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for SslSocket<S> {
    /// Reads decrypted data; `Ok(())` with nothing read at the end of the
    /// stream. A pending connection and handshake are completed first; after
    /// that only the reading side of the transport is waited on, so the
    /// socket can be split (at the end of the stream one close_notify is
    /// written, without waiting). As for the blocking socket, an end of stream without
    /// close_notify after the handshake is an `UnexpectedEof` error, and the
    /// end of the stream makes the socket unconnected (Qt has no half-open
    /// state: nothing can be written after the peer closed).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            match this.core.read_now(buf.initialize_unfilled())? {
                ReadNow::Data(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                ReadNow::Ended => {
                    this.end_connection();
                    return Poll::Ready(Ok(()));
                }
                ReadNow::Nothing => {}
            }
            if this.core.closed_by_this_side() {
                return Poll::Ready(Ok(()));
            }
            let progress = if this.core.target().is_some() || this.core.channel.is_handshaking() {
                ready!(this.poll_ready_for_data(cx))
            } else {
                ready!(this.poll_read_more(cx))
            };
            match progress {
                // As the blocking socket's reads: the data is no longer new.
                Ok(()) => {
                    this.core.channel.take_fresh_data();
                }
                // The loop turns the end of the stream into Ok or the truncation error.
                Err(Error::RemoteHostClosed) if this.core.channel.peer_closed() => {}
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for SslSocket<S> {
    /// Queues `buf` and sends it (encrypted, after the handshake). A pending
    /// connection and handshake are completed first, and data queued
    /// earlier must be on its way before more is taken, which bounds what
    /// the socket holds. After the handshake only the writing side of the
    /// transport is used, so the socket can be split.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.core.state() == SocketState::ClosingState {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the socket was shut down for writing",
            )));
        }
        if this.core.state() != SocketState::UnconnectedState || this.core.target().is_some() {
            ready!(this.poll_ready_for_data(cx))?;
            ready!(this.poll_drive(cx, Direction::Write, "writing", |core| {
                !core.channel.wants_write()
            }))?;
        }
        let n = this.write_data(&buf[..buf.len().min(WRITE_CHUNK)])?;
        // Start sending now; what does not fit stays queued for the next call.
        if let Poll::Ready(Err(e)) = this.poll_drive(cx, Direction::Write, "writing", |core| {
            !core.channel.wants_write()
        }) {
            return Poll::Ready(Err(e.into()));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.core.state() == SocketState::UnconnectedState && this.core.target().is_none() {
            return Poll::Ready(Ok(()));
        }
        this.poll_flush_all(cx).map_err(Into::into)
    }

    /// Sends what is queued and a close_notify, then shuts the transport's
    /// writing side down: a half-close, as `AsyncWrite` expects. The socket
    /// is closing; reading goes on until the peer closes too, and then the
    /// socket is unconnected. [`disconnect_from_host`](SslSocket::disconnect_from_host)
    /// is the full close.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_disconnect(cx, false).map(Ok)
    }
}

/// Whether a line (or all that is left) can be read: once unconnected,
/// what is left is all there will be.
fn line_ready(core: &mut SocketCore, max: usize) -> bool {
    (core.state() == SocketState::UnconnectedState && core.target().is_none())
        || core.channel.peer_closed()
        || core.channel.bytes_available() >= max
        || core.channel.can_read_line()
}

/// The stream of [`SslSocket::events`].
#[derive(Debug)]
pub struct Events<'a, S> {
    socket: &'a mut SslSocket<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Events<'_, S> {
    /// The next event, waiting (and driving the socket) until there is one;
    /// `None` at the end of the stream. The same as `StreamExt::next`,
    /// without needing a stream utility crate.
    ///
    /// Cancel safety: cancel-safe; an event is only taken from the socket
    /// when it is returned.
    pub async fn next(&mut self) -> Option<Event> {
        poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for Events<'_, S> {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let socket = &mut *self.get_mut().socket;
        loop {
            if let Some(event) = socket.core.channel.next_event() {
                return Poll::Ready(Some(event));
            }
            if socket.core.target().is_some() {
                // Success and failure both queue events.
                let _ = ready!(socket.poll_establish(cx));
                continue;
            }
            if socket.core.state() == SocketState::UnconnectedState {
                return Poll::Ready(None);
            }
            let mut found = None;
            let driven =
                ready!(
                    socket.poll_drive(cx, Direction::Both, "waiting for events", |core| {
                        found = core.channel.next_event();
                        found.is_some()
                    })
                );
            if let Some(event) = found {
                return Poll::Ready(Some(event));
            }
            if driven.is_err() && socket.core.state() != SocketState::UnconnectedState {
                // Stuck (e.g. a full read buffer): the error says why.
                return Poll::Ready(socket.core.channel.next_event());
            }
        }
    }
}
