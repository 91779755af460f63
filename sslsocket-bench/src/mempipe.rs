//! A single-threaded in-memory duplex pipe, so that a client and a server
//! can run in one thread and the measurement is pure CPU work (no thread
//! hand-offs, no system calls).
//!
//! A read of an empty pipe fails at once with the end's "empty" error kind
//! instead of blocking. rustls and OpenSSL expect `WouldBlock` there. The
//! blocking `sslsocket::SslSocket` retries `WouldBlock` until its deadline
//! (and a zero deadline does nothing at all), so its ends report another
//! kind, which ends a `wait_for_*` call with an `Error::Io` and no harm done:
//! that is how one thread drives both blocking sockets.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::rc::Rc;
use std::time::Duration;

#[derive(Default)]
struct Buffer {
    data: VecDeque<u8>,
    closed: bool,
}

/// One end of a [`pair`].
pub struct MemEnd {
    incoming: Rc<RefCell<Buffer>>,
    outgoing: Rc<RefCell<Buffer>>,
    empty: io::ErrorKind,
}

/// What an empty read reports to the blocking sslsocket (see the module docs).
pub const SSLSOCKET_EMPTY: io::ErrorKind = io::ErrorKind::Other;

/// Two connected ends; reads of an empty pipe fail with `empty`.
pub fn pair(empty: io::ErrorKind) -> (MemEnd, MemEnd) {
    let a_to_b = Rc::new(RefCell::new(Buffer::default()));
    let b_to_a = Rc::new(RefCell::new(Buffer::default()));
    (
        MemEnd {
            incoming: b_to_a.clone(),
            outgoing: a_to_b.clone(),
            empty,
        },
        MemEnd {
            incoming: a_to_b,
            outgoing: b_to_a,
            empty,
        },
    )
}

impl MemEnd {
    /// Bytes waiting to be read by this end.
    pub fn available(&self) -> usize {
        self.incoming.borrow().data.len()
    }

    /// Gives the memory of both directions back (for idle-memory counts).
    pub fn shrink(&self) {
        self.incoming.borrow_mut().data.shrink_to_fit();
        self.outgoing.borrow_mut().data.shrink_to_fit();
    }
}

impl Read for MemEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut incoming = self.incoming.borrow_mut();
        if incoming.data.is_empty() {
            if incoming.closed {
                return Ok(0);
            }
            return Err(self.empty.into());
        }
        let n = buf.len().min(incoming.data.len());
        let (front, back) = incoming.data.as_slices();
        let from_front = n.min(front.len());
        buf[..from_front].copy_from_slice(&front[..from_front]);
        buf[from_front..n].copy_from_slice(&back[..n - from_front]);
        incoming.data.drain(..n);
        Ok(n)
    }
}

impl Write for MemEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outgoing.borrow_mut().data.extend(buf);
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut outgoing = self.outgoing.borrow_mut();
        let mut n = 0;
        for buf in bufs {
            outgoing.data.extend(buf.iter());
            n += buf.len();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl sslsocket::Transport for MemEnd {
    fn set_read_timeout(&mut self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    fn set_write_timeout(&mut self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    fn shutdown(&mut self) -> io::Result<()> {
        self.outgoing.borrow_mut().closed = true;
        Ok(())
    }
}
