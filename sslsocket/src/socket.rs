//! The blocking socket (`QSslSocket`).
//!
//! Qt's model is kept: the start calls (`connect_to_host_encrypted`,
//! `start_client_encryption`, ...) return at once, and the `wait_for_*`
//! calls drive the network until their condition holds or their timeout
//! runs out. Data written before the handshake completes is queued and sent
//! encrypted afterwards. The socket also implements [`std::io::Read`] and
//! [`std::io::Write`], which drive the network as needed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::configuration::SslConfiguration;
use crate::driver::{closed_by_peer, Direction, Driver, FrontEnd, Progress};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::net;
use crate::socket_core::{cannot_connect, ReadNow, CLIENT_HELLO_WAIT};
pub use crate::socket_core::{SocketCore, DEFAULT_WAIT};
use crate::state::SocketState;

/// What a blocking [`SslSocket`] needs from its transport: a byte stream
/// with timeouts and a way to close it. Implemented for [`TcpStream`];
/// implement it for an in-memory pipe to test without the network.
pub trait Transport: Read + Write {
    /// Bounds how long a read may block; `None` blocks without limit.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// Bounds how long a write may block; `None` blocks without limit.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// Closes both directions.
    fn shutdown(&mut self) -> io::Result<()>;

    /// Opens a connection to `host:port` within `timeout` (`None`: no
    /// limit). Transports that cannot connect by themselves (an in-memory
    /// pipe) keep the default, which refuses; sockets over them are made
    /// with [`SslSocket::from_stream`].
    fn connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<Self>
    where
        Self: Sized,
    {
        let _ = (host, port, timeout);
        Err(cannot_connect())
    }
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout.map(at_least_a_millisecond))
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout.map(at_least_a_millisecond))
    }

    fn shutdown(&mut self) -> io::Result<()> {
        match TcpStream::shutdown(self, Shutdown::Both) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    fn connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<TcpStream> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let addresses = resolve(host, port, deadline)?;
        let mut last = net::no_address();
        for address in addresses {
            let attempt = match remaining(deadline) {
                Some(Some(left)) => {
                    TcpStream::connect_timeout(&address, at_least_a_millisecond(left))
                }
                Some(None) => TcpStream::connect(address),
                None => {
                    return Err(Error::Timeout {
                        operation: "connecting",
                    })
                }
            };
            match attempt {
                Ok(stream) => {
                    // Requests and replies are small and latency matters more
                    // than packet count; TLS records are already batched.
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = e,
            }
        }
        if last.kind() == io::ErrorKind::TimedOut && deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Timeout {
                operation: "connecting",
            });
        }
        Err(net::connect_failed(host, port, last))
    }
}

/// The OS refuses a zero timeout; a deadline that has just passed still
/// gets one last short read.
fn at_least_a_millisecond(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

/// A TLS socket for clients and servers (`QSslSocket`), blocking, over any
/// [`Transport`] (a [`TcpStream`] by default).
///
/// ```no_run
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use sslsocket::SslSocket;
///
/// let mut socket = SslSocket::new();
/// socket.connect_to_host_encrypted("example.com", 443);
/// socket.wait_for_encrypted(Some(Duration::from_secs(10)))?;
/// socket.write_all(b"GET / HTTP/1.0\r\nHost: example.com\r\n\r\n")?;
/// let mut page = String::new();
/// socket.read_to_string(&mut page)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SslSocket<S = TcpStream> {
    stream: Option<S>,
    core: SocketCore,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// The timeouts last set on the transport, so that a loop of reads or
    /// writes does not pay a system call each to set them again.
    transport_timeouts: (Option<Option<Duration>>, Option<Option<Duration>>),
}

socket_plumbing!(Transport);

impl SslSocket<TcpStream> {
    /// An unconnected socket with a copy of the default configuration.
    pub fn new() -> SslSocket<TcpStream> {
        SslSocket::with_core(None, SocketCore::new(SslConfiguration::new(), false))
    }

    #[cfg(unix)]
    /// Takes over a connected socket from its file descriptor
    /// (`setSocketDescriptor`); the socket is then connected, in plain mode.
    pub fn set_socket_descriptor(&mut self, descriptor: OwnedFd) -> Result<()> {
        if self.core.state() != SocketState::UnconnectedState {
            return Err(Error::InvalidState {
                operation: "set the socket descriptor",
                reason: "the socket is already in use".into(),
            });
        }
        self.stream = Some(TcpStream::from(descriptor));
        self.transport_timeouts = (None, None);
        self.core.set_state(SocketState::ConnectedState);
        self.core.channel.push_event(Event::Connected);
        Ok(())
    }

    /// Always true: TLS is built in (`supportsSsl`).
    pub fn supports_ssl() -> bool {
        SocketCore::supports_ssl()
    }

    /// The TLS library's name and version, e.g. "rustls 0.23 (aws-lc-rs)"
    /// (`sslLibraryVersionString`).
    pub fn ssl_library_version_string() -> &'static str {
        SocketCore::ssl_library_version_string()
    }
}

/// Looks `host` up on a helper thread, so that the caller's deadline bounds
/// the wait even when the resolver is slow.
fn resolve(host: &str, port: u16, deadline: Option<Instant>) -> Result<Vec<SocketAddr>> {
    if let Some(address) = net::literal_address(host, port) {
        return Ok(vec![address]);
    }
    let (sender, receiver) = mpsc::channel();
    let name = (host.to_owned(), port);
    std::thread::spawn(move || {
        let _ = sender.send(name.to_socket_addrs().map(Vec::from_iter));
    });
    let answer = match remaining(deadline) {
        None => {
            return Err(Error::Timeout {
                operation: "looking up the host name",
            })
        }
        Some(None) => receiver.recv().map_err(|_| None),
        Some(Some(left)) => receiver.recv_timeout(left).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => Some(Error::Timeout {
                operation: "looking up the host name",
            }),
            mpsc::RecvTimeoutError::Disconnected => None,
        }),
    };
    match answer {
        Ok(Ok(addresses)) if !addresses.is_empty() => Ok(addresses),
        Ok(Ok(_)) => Err(Error::HostNotFound {
            host: host.to_owned(),
            source: None,
        }),
        Ok(Err(e)) => Err(Error::HostNotFound {
            host: host.to_owned(),
            source: Some(e),
        }),
        Err(Some(timeout)) => Err(timeout),
        Err(None) => Err(Error::HostNotFound {
            host: host.to_owned(),
            source: None,
        }),
    }
}

/// `None` when the deadline has passed, `Some(None)` when there is none.
fn remaining(deadline: Option<Instant>) -> Option<Option<Duration>> {
    match deadline {
        None => Some(None),
        Some(deadline) => deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .map(Some),
    }
}

impl<S> SslSocket<S> {
    /// A socket over `stream` (if connected) with `core`'s state; the
    /// servers hand out their sockets this way.
    pub(crate) fn with_core(stream: Option<S>, core: SocketCore) -> SslSocket<S> {
        SslSocket {
            stream,
            core,
            read_timeout: None,
            write_timeout: None,
            transport_timeouts: (None, None),
        }
    }

    /// The timeout `std::io::Read` uses when waiting for data; `None` (the
    /// default) waits without limit. A timeout is an `io::Error` of kind
    /// `TimedOut`.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// The timeout `std::io::Write` uses for each `write` or `flush`,
    /// including finishing a pending connection and handshake; `None` (the
    /// default) waits without limit.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    // --- reading --------------------------------------------------------------

    /// Reads one line (up to and including `\n`, at most `max` bytes) from
    /// what is available now (`readLine`); empty when no whole line is
    /// available, unless the peer has closed.
    pub fn read_line(&mut self, max: usize) -> Vec<u8> {
        if self.core.channel.can_read_line() || self.core.channel.peer_closed() {
            self.core.channel.read_line(max)
        } else {
            Vec::new()
        }
    }

    /// Reads the next notification without blocking; see [`Event`].
    pub fn events(&mut self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(move || self.core.channel.next_event())
    }
}

impl<S: Transport> SslSocket<S> {
    /// Waits until the connection is made (`waitForConnected`); `None` waits
    /// without limit. The time bounds the name look-up and the connect.
    pub fn wait_for_connected(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        if self.core.target().is_some() {
            return self.establish(deadline);
        }
        self.core.check_connected()
    }

    /// Makes the connection a connect call asked for, if any, and starts
    /// its handshake.
    fn establish(&mut self, deadline: Option<Instant>) -> Result<()> {
        let Some(target) = self.core.target().cloned() else {
            return Ok(());
        };
        self.core.connecting();
        let made = match remaining(deadline) {
            None => Err(Error::Timeout {
                operation: "connecting",
            }),
            Some(left) => S::connect(&target.host, target.port, left).map(|stream| {
                self.stream = Some(stream);
                self.transport_timeouts = (None, None);
            }),
        };
        self.core.connected(made)
    }

    // --- driving the network --------------------------------------------------

    /// Writes out what is ready to go (`flush`): handshake messages, and
    /// data once encrypted; a pending connection is made first. Within the
    /// write timeout (see [`set_write_timeout`](Self::set_write_timeout)).
    /// Qt's `flush` writes only what fits without blocking. Data written
    /// during the handshake waits for it: see `std::io::Write::flush`.
    pub fn flush(&mut self) -> Result<()> {
        self.core.check_not_unconnected("flush")?;
        let deadline = self.write_timeout.map(|t| Instant::now() + t);
        self.establish(deadline)?;
        self.drive(deadline, "writing", |core| !core.channel.wants_write())
    }

    /// Waits until the handshake completes and the peer is accepted
    /// (`waitForEncrypted`); `None` waits without limit. The time bounds the
    /// name look-up, the connect and the handshake together.
    pub fn wait_for_encrypted(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.establish(deadline)?;
        self.core.check_handshake_started()?;
        let deadline = self.core.handshake_deadline(deadline);
        self.drive(deadline, "waiting for the handshake", |core| {
            core.handshake_delivered()
        })
    }

    /// A server's handshake up to the client's hello, answered, within
    /// `timeout`: the servers' deadline for a new client's first bytes.
    pub(crate) fn wait_for_client_hello(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.core.check_handshake_started()?;
        self.drive(deadline, CLIENT_HELLO_WAIT, |core| {
            core.channel.client_hello_answered()
        })
    }

    /// Waits until new data has arrived (`waitForReadyRead`): data that
    /// came since the last call returns at once (also data that arrived
    /// with the end of the handshake), otherwise it waits for more. So
    /// `while !s.can_read_line() { s.wait_for_ready_read(t)? }` waits for
    /// the rest of a line instead of spinning.
    pub fn wait_for_ready_read(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.establish(deadline)?;
        self.drive(deadline, "waiting for data", |core| {
            core.channel.has_fresh_data()
        })?;
        self.core.channel.take_fresh_data();
        Ok(())
    }

    /// Waits until the queued data is written (`waitForBytesWritten`).
    pub fn wait_for_bytes_written(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.establish(deadline)?;
        self.drive(deadline, "writing", |core| {
            !core.channel.is_handshaking()
                && core.channel.bytes_to_write() == 0
                && !core.channel.wants_write()
        })
    }

    /// Waits until the peer closes the connection, or until a disconnect
    /// started with [`disconnect_from_host`](Self::disconnect_from_host)
    /// finishes (`waitForDisconnected`).
    pub fn wait_for_disconnected(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.core.state() == SocketState::UnconnectedState {
            return Ok(());
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let closed = self.drive(deadline, "waiting for the disconnect", |core| {
            core.channel.peer_closed()
        });
        closed_by_peer(closed)?;
        self.end_connection();
        Ok(())
    }

    /// Closes after sending what is queued and, with TLS, a close_notify
    /// (`disconnectFromHost`). Waits at most 30 s for the data to go out.
    pub fn disconnect_from_host(&mut self) {
        if !self.core.begin_disconnect() {
            return;
        }
        let deadline = Some(Instant::now() + DEFAULT_WAIT);
        if let Err(e) = self.drive(deadline, "sending the last data", |core| {
            !core.channel.wants_write()
        }) {
            if !matches!(e, Error::RemoteHostClosed) {
                self.core.record(e);
            }
        }
        self.close_transport();
    }

    /// Closes at once, dropping anything not yet sent (`abort`).
    pub fn abort(&mut self) {
        self.abort_connection();
    }

    /// Qt's `close`: the same as [`disconnect_from_host`](Self::disconnect_from_host).
    pub fn close(&mut self) {
        self.disconnect_from_host();
    }

    /// Drives reads and writes until `done` holds, the deadline passes, or
    /// the connection fails.
    fn drive(
        &mut self,
        deadline: Option<Instant>,
        operation: &'static str,
        done: impl FnMut(&mut SocketCore) -> bool,
    ) -> Result<()> {
        let result = self.drive_inner(deadline, operation, done);
        result.map_err(|e| self.wait_failed(e))
    }

    /// [`Driver::step`] until `done`, each step's reads and writes blocking
    /// at most until the deadline. Once it has passed, one last step over a
    /// transport that takes and gives nothing says whether `done` holds
    /// after all.
    fn drive_inner(
        &mut self,
        deadline: Option<Instant>,
        operation: &'static str,
        mut done: impl FnMut(&mut SocketCore) -> bool,
    ) -> Result<()> {
        loop {
            let Some(stream) = self.stream.as_mut() else {
                return Err(Error::InvalidState {
                    operation: "use the socket",
                    reason: "the socket is not connected".into(),
                });
            };
            let Some(left) = remaining(deadline).map(coarse) else {
                let mut last = Driver {
                    core: &mut self.core,
                    transport: &mut Stalled,
                    timed: true,
                };
                return match last.step(Direction::Both, operation, &mut done)? {
                    Progress::Done => Ok(()),
                    Progress::Moved | Progress::Blocked => Err(Error::Timeout { operation }),
                };
            };
            if self.transport_timeouts.1 != Some(left) {
                stream.set_write_timeout(left)?;
                self.transport_timeouts.1 = Some(left);
            }
            if self.transport_timeouts.0 != Some(left) {
                stream.set_read_timeout(left)?;
                self.transport_timeouts.0 = Some(left);
            }
            let mut driver = Driver {
                core: &mut self.core,
                transport: stream,
                timed: true,
            };
            if driver.step(Direction::Both, operation, &mut done)? == Progress::Done {
                return Ok(());
            }
        }
    }
}

impl<S: Transport> FrontEnd for SslSocket<S> {
    fn core_mut(&mut self) -> &mut SocketCore {
        &mut self.core
    }

    /// One bounded attempt to send the records rustls queued last (an alert,
    /// a close_notify) on a connection that is ending: the peer may have
    /// stopped reading, so this must not wait long.
    fn send_last_records(&mut self) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        if self.transport_timeouts.1 != Some(Some(LAST_RECORDS_WAIT)) {
            let _ = stream.set_write_timeout(Some(LAST_RECORDS_WAIT));
            self.transport_timeouts.1 = Some(Some(LAST_RECORDS_WAIT));
        }
        let deadline = Instant::now() + LAST_RECORDS_WAIT;
        Driver {
            core: &mut self.core,
            transport: stream,
            timed: true,
        }
        .send_last_records(|| Instant::now() < deadline);
    }

    /// Shuts the transport down and lets it go: nothing can be read from a
    /// closed connection afterwards, not even bytes already on their way
    /// (after `abort` they would be read as plain data).
    fn close_transport(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            let _ = stream.shutdown();
        }
        self.core.closed();
    }
}

/// How long the last records of an ending connection may take to go out.
const LAST_RECORDS_WAIT: Duration = Duration::from_secs(1);

/// A remaining time rounded down to whole seconds when it is at least one:
/// the loop checks the deadline after every read or write anyway, and equal
/// values let the transport keep its timeout without a system call each.
fn coarse(left: Option<Duration>) -> Option<Duration> {
    left.map(|t| {
        if t >= Duration::from_secs(1) {
            Duration::from_secs(t.as_secs())
        } else {
            t
        }
    })
}

/// A transport with nothing to give and no room to take: the last look at
/// a socket whose deadline has passed.
struct Stalled;

impl Read for Stalled {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Stalled {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: Transport> Read for SslSocket<S> {
    /// Waits for data (up to the read timeout) and reads it; 0 at end of stream.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.core.read_now(buf)? {
                ReadNow::Data(n) => return Ok(n),
                ReadNow::Ended => {
                    self.end_connection();
                    return Ok(0);
                }
                ReadNow::Nothing if self.core.closed_by_this_side() => return Ok(0),
                ReadNow::Nothing => {}
            }
            match self.wait_for_ready_read(self.read_timeout) {
                Ok(()) => {}
                // The loop turns the end of the stream into Ok(0) or the truncation error.
                Err(Error::RemoteHostClosed) if self.core.channel.peer_closed() => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl<S: Transport> Write for SslSocket<S> {
    /// Queues up to 64 KiB of `buf` and sends it (after the handshake, with
    /// TLS). Taking a record-friendly slice at a time lets encryption and
    /// sending alternate, as rustls' own streams do, instead of encrypting
    /// a large buffer whole before the first byte goes out.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        const MAX_WRITE: usize = 64 * 1024;
        let n = self.write_data(&buf[..buf.len().min(MAX_WRITE)])?;
        self.flush_for_write()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_for_write().map_err(Into::into)
    }
}

impl<S: Transport> SslSocket<S> {
    /// `std::io::Write` semantics: a connection still being set up is
    /// completed first, so that queued data really goes out; the write
    /// timeout bounds all of it.
    fn flush_for_write(&mut self) -> Result<()> {
        let deadline = self.write_timeout.map(|t| Instant::now() + t);
        self.establish(deadline)?;
        if self.core.channel.is_handshaking() {
            let deadline = self.core.handshake_deadline(deadline);
            self.drive(deadline, "waiting for the handshake", |core| {
                core.handshake_delivered()
            })?;
        }
        self.drive(deadline, "writing", |core| !core.channel.wants_write())?;
        Ok(())
    }
}
