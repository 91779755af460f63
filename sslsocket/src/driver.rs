//! One step of network I/O for a socket, over any `Read + Write` transport:
//! what the waits of both front ends are made of, in the manner of rustls'
//! `Stream`. The blocking socket loops [`Driver::step`] under its deadline
//! (its transport blocks up to the time left); the async socket hands it a
//! transport whose `Poll::Pending` reads as `WouldBlock` and turns
//! [`Progress::Blocked`] into `Poll::Pending`.

use std::io::{self, Read, Write};

use crate::error::{Error, Result};
use crate::socket_core::SocketCore;

/// Which directions a step may use. The async socket's `AsyncRead` and
/// `AsyncWrite` each use only their own, so that a socket split with
/// `tokio::io::split` never has one half take over the other's wake-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Both,
    Read,
    Write,
}

impl Direction {
    fn reads(self) -> bool {
        self != Direction::Write
    }

    fn writes(self) -> bool {
        self != Direction::Read
    }
}

/// What a step achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The condition holds.
    Done,
    /// Something moved; step again.
    Moved,
    /// The transport would block (or its timeout ran out) before the
    /// condition held.
    Blocked,
}

/// A socket's core and its transport, borrowed for one step.
pub(crate) struct Driver<'a, T> {
    pub(crate) core: &'a mut SocketCore,
    pub(crate) transport: &'a mut T,
    /// The transport blocks until a timeout set for the time left (the
    /// blocking socket): a write that still blocks means the time is up, so
    /// the step ends there instead of reading. Otherwise (the async socket)
    /// reading goes on while a write waits.
    pub(crate) timed: bool,
}

impl<T: Read + Write> Driver<'_, T> {
    /// Writes what the channel holds for the network (in `direction`),
    /// checks `done`, and otherwise reads once and processes what arrived.
    /// Errors say why waiting cannot go on: the peer closed
    /// ([`Error::RemoteHostClosed`]), the connection failed now (a TLS
    /// error, rustls' alert queued) or earlier, the read buffer is full,
    /// or the transport failed.
    pub(crate) fn step(
        &mut self,
        direction: Direction,
        operation: &'static str,
        done: &mut impl FnMut(&mut SocketCore) -> bool,
    ) -> Result<Progress> {
        let write_blocked = direction.writes() && self.write_out()? == Progress::Blocked;
        if write_blocked && self.timed {
            return Ok(Progress::Blocked);
        }
        if self.core.channel.has_failed() {
            return Err(Error::InvalidState {
                operation,
                reason: format!(
                    "the connection failed earlier: {}",
                    self.core.error_string()
                ),
            });
        }
        if done(self.core) {
            return Ok(Progress::Done);
        }
        if !direction.reads() {
            // Only writing, and not done: a write is pending.
            return Ok(Progress::Blocked);
        }
        if !self.core.channel.wants_read() {
            if write_blocked || self.core.channel.wants_write() {
                // During a handshake rustls reads again once its records
                // are out: the write is what waits.
                return Ok(Progress::Blocked);
            }
            return Err(if self.core.channel.peer_closed() {
                Error::RemoteHostClosed
            } else {
                Error::InvalidState {
                    operation,
                    reason: "the read buffer is full; read some data first".into(),
                }
            });
        }
        match self.core.channel.read_from(self.transport) {
            Ok(0) if done(self.core) => Ok(Progress::Done),
            Ok(0) => Err(Error::RemoteHostClosed),
            Ok(_) => Ok(Progress::Moved),
            Err(Error::Io(e)) => match classify(&e) {
                Flow::Blocked => Ok(Progress::Blocked),
                Flow::Again => Ok(Progress::Moved),
                Flow::Closed => Err(Error::RemoteHostClosed),
                Flow::Failed => Err(Error::Io(e)),
            },
            Err(e) => Err(e),
        }
    }

    /// Writes until the channel holds nothing for the network (`Done`) or
    /// the transport would block (`Blocked`), then flushes what went out.
    pub(crate) fn write_out(&mut self) -> Result<Progress> {
        let mut wrote = false;
        while self.core.channel.wants_write() {
            match self.core.channel.write_to(self.transport) {
                Ok(0) => return Err(Error::RemoteHostClosed),
                Ok(_) => wrote = true,
                Err(e) => match classify(&e) {
                    Flow::Blocked => return Ok(Progress::Blocked),
                    Flow::Again => {}
                    Flow::Closed => return Err(Error::RemoteHostClosed),
                    Flow::Failed => return Err(Error::Io(e)),
                },
            }
        }
        if wrote {
            // For transports that buffer; a no-op for a TcpStream.
            if let Err(e) = self.transport.flush() {
                return match classify(&e) {
                    Flow::Blocked => Ok(Progress::Blocked),
                    Flow::Again => Ok(Progress::Done),
                    Flow::Closed => Err(Error::RemoteHostClosed),
                    Flow::Failed => Err(Error::Io(e)),
                };
            }
        }
        Ok(Progress::Done)
    }

    /// Writes what rustls queued last (an alert, a close_notify) on a
    /// connection that is ending, while the transport takes it and
    /// `in_time()` holds: the peer may have stopped reading, so the caller
    /// bounds the transport.
    pub(crate) fn send_last_records(&mut self, in_time: impl Fn() -> bool) {
        while self.core.channel.wants_write() && in_time() {
            if !matches!(self.core.channel.write_to(self.transport), Ok(n) if n > 0) {
                break;
            }
        }
        let _ = self.transport.flush();
    }
}

/// What a front end does with its own transport, and what both front ends
/// then do the same way when a connection ends.
pub(crate) trait FrontEnd {
    fn core_mut(&mut self) -> &mut SocketCore;

    /// One bounded attempt to send what rustls queued last (an alert, a
    /// close_notify): the peer may have stopped reading.
    fn send_last_records(&mut self);

    /// Shuts the transport down, without waiting, and makes the socket
    /// unconnected.
    fn close_transport(&mut self);

    /// Closes a connection that is over (the peer closed it, or it
    /// failed), answering a clean close with close_notify first.
    fn end_connection(&mut self) {
        if self.core_mut().channel.answer_close_notify() {
            self.send_last_records();
        }
        self.close_transport();
    }

    /// What a failed wait leaves: the peer hears why when rustls queued an
    /// alert, a connection that failed or that the peer closed is over (as
    /// in Qt, the socket becomes unconnected; a timeout is not fatal), and
    /// the error is the socket's last.
    fn wait_failed(&mut self, error: Error) -> Error {
        if alert_queued(&error) {
            self.send_last_records();
        }
        if ends_connection(&error) {
            self.end_connection();
        }
        self.core_mut().record(error)
    }

    /// Closes at once, dropping anything not yet sent (`abort`).
    fn abort_connection(&mut self) {
        self.core_mut().discard();
        self.close_transport();
    }
}

/// A wait for the peer's close: the peer closing is what it waited for.
pub(crate) fn closed_by_peer(waited: Result<()>) -> Result<()> {
    match waited {
        Err(Error::RemoteHostClosed) => Ok(()),
        other => other,
    }
}

/// What an I/O error means for driving.
enum Flow {
    /// The transport would block, or its timeout ran out.
    Blocked,
    /// A signal interrupted the call; try again.
    Again,
    /// The peer is gone.
    Closed,
    Failed,
}

fn classify(e: &io::Error) -> Flow {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Flow::Blocked,
        io::ErrorKind::Interrupted => Flow::Again,
        _ if is_closed(e) => Flow::Closed,
        _ => Flow::Failed,
    }
}

/// Whether `e` means the peer is gone.
fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// Whether `error` is a failure rustls answered with an alert, queued for
/// the peer.
fn alert_queued(error: &Error) -> bool {
    matches!(
        error,
        Error::VerificationFailed { .. } | Error::HandshakeFailed(_) | Error::Tls(_)
    )
}

/// Whether `error` ends the connection (the socket becomes unconnected);
/// a timeout, for one, does not.
fn ends_connection(error: &Error) -> bool {
    matches!(
        error,
        Error::RemoteHostClosed
            | Error::VerificationFailed { .. }
            | Error::HandshakeFailed(_)
            | Error::Tls(_)
    )
}

#[cfg(test)]
mod tests;
