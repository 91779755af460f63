//! A transport whose far end is a script: [`PeerStep`]s carried out one at a
//! time, each when the socket finds nothing left to read.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use sslsocket::Transport;

/// Bounds one piece of scripted data, so that a step cannot ask for more
/// than the fuzzer's input could describe.
const MAX_STEP_DATA: usize = 1 << 16;

/// What the peer does next.
#[derive(Debug, Arbitrary)]
pub enum PeerStep {
    /// Sends application data (through TLS when the peer is a rustls peer).
    Data(Vec<u8>),
    /// Sends these bytes as they are, bypassing TLS: garbage, forged records.
    Raw(Vec<u8>),
    /// Sends close_notify.
    CloseNotify,
    /// Starts a TLS 1.3 KeyUpdate.
    KeyUpdate,
    /// Nothing arrives before this read's timeout.
    Silence,
    /// Closes the connection (the socket reads end of file from now on).
    Hangup,
}

/// The state both the transport and the target can see.
pub struct Wire {
    /// Bytes on their way to the socket.
    incoming: VecDeque<u8>,
    /// The largest piece one read returns: records split across reads.
    chunk: usize,
    /// The peer's steps not yet carried out.
    script: VecDeque<PeerStep>,
    /// The rustls peer, if the script speaks TLS for real.
    peer: Option<rustls::Connection>,
    /// The peer stopped (it failed, or hung up): what the socket writes is dropped.
    peer_gone: bool,
    /// The socket reads end of file.
    hung_up: bool,
    /// Application data the peer sent through TLS, in order.
    pub sent_by_peer: Vec<u8>,
    /// Application data the peer received from the socket, in order.
    pub received_by_peer: Vec<u8>,
}

impl Wire {
    /// A wire with `peer` (or raw bytes only) and its `script`; reads
    /// return at most `chunk` bytes (at least one).
    pub fn new(peer: Option<rustls::Connection>, script: Vec<PeerStep>, chunk: usize) -> Wire {
        let mut wire = Wire {
            incoming: VecDeque::new(),
            chunk: chunk.max(1),
            script: script.into(),
            peer,
            peer_gone: false,
            hung_up: false,
            sent_by_peer: Vec::new(),
            received_by_peer: Vec::new(),
        };
        // A rustls client speaks first: its ClientHello is on the wire
        // before the socket's first read.
        wire.collect_peer_output();
        wire
    }

    /// Moves what the rustls peer has to send onto the wire.
    fn collect_peer_output(&mut self) {
        let Some(peer) = self.peer.as_mut() else {
            return;
        };
        let mut out = Vec::new();
        while peer.wants_write() {
            if peer.write_tls(&mut out).is_err() {
                break;
            }
        }
        self.incoming.extend(out);
    }

    /// Carries out the next step; `false` when the script is over.
    fn step(&mut self) -> io::Result<bool> {
        let Some(step) = self.script.pop_front() else {
            return Ok(false);
        };
        match step {
            PeerStep::Data(mut data) => {
                data.truncate(MAX_STEP_DATA);
                match self.peer.as_mut() {
                    Some(peer) if !self.peer_gone => {
                        // Before the handshake ends rustls holds the data back
                        // (up to its limit) and sends it in order after.
                        if let Ok(taken) = peer.writer().write(&data) {
                            self.sent_by_peer.extend_from_slice(&data[..taken]);
                        }
                    }
                    Some(_) => {}
                    None => self.incoming.extend(data),
                }
            }
            PeerStep::Raw(mut data) => {
                data.truncate(MAX_STEP_DATA);
                self.incoming.extend(data);
            }
            PeerStep::CloseNotify => {
                if let Some(peer) = self.peer.as_mut() {
                    peer.send_close_notify();
                }
            }
            PeerStep::KeyUpdate => {
                if let Some(peer) = self.peer.as_mut() {
                    let _ = peer.refresh_traffic_keys();
                }
            }
            PeerStep::Silence => return Err(io::ErrorKind::WouldBlock.into()),
            PeerStep::Hangup => self.hung_up = true,
        }
        if !self.peer_gone {
            self.collect_peer_output();
        }
        Ok(true)
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.incoming.is_empty() {
                let n = buf.len().min(self.chunk).min(self.incoming.len());
                for (slot, byte) in buf.iter_mut().zip(self.incoming.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
            if self.hung_up || !self.step()? {
                self.hung_up = true;
                return Ok(0);
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.hung_up {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if self.peer_gone {
            return Ok(buf.len());
        }
        let Some(peer) = self.peer.as_mut() else {
            return Ok(buf.len());
        };
        let mut rest = buf;
        while !rest.is_empty() {
            let taken = match peer.read_tls(&mut rest) {
                Ok(taken) => taken,
                Err(_) => break,
            };
            if peer.process_new_packets().is_err() {
                // The peer refuses what it got: its alert goes out, then it stops.
                self.peer_gone = true;
                let mut out = Vec::new();
                while peer.wants_write() && peer.write_tls(&mut out).is_ok() {}
                self.incoming.extend(out);
                return Ok(buf.len());
            }
            let mut plaintext = [0u8; 4096];
            while let Ok(n @ 1..) = peer.reader().read(&mut plaintext) {
                self.received_by_peer.extend_from_slice(&plaintext[..n]);
            }
            if taken == 0 {
                break;
            }
        }
        self.collect_peer_output();
        Ok(buf.len())
    }
}

/// The socket's end of a [`Wire`].
pub struct WireEnd(pub Rc<RefCell<Wire>>);

impl Read for WireEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.borrow_mut().read(buf)
    }
}

impl Write for WireEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for WireEnd {
    fn set_read_timeout(&mut self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    fn set_write_timeout(&mut self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    fn shutdown(&mut self) -> io::Result<()> {
        self.0.borrow_mut().hung_up = true;
        Ok(())
    }
}
