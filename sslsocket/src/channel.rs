//! The I/O-free core of a socket: a rustls connection (or none, in plain
//! mode) with the socket's mode, buffers, counters, verification outcome
//! and event queue. The blocking and async front ends own the transport and
//! hand it in for each read and write; everything else happens here, so both
//! behave the same.
//!
//! Data path: received plaintext stays in rustls' buffer until the program
//! reads it (no copy on the plain `read` path); it is moved into the
//! channel's own buffer only for `peek`, `read_line` and `can_read_line`.
//! Outgoing ciphertext goes from rustls straight to the transport.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};
use rustls_pki_types::ServerName;

use crate::certificate::SslCertificate;
use crate::cipher::SslCipher;
use crate::error::{Error, Result, SslError, SslErrorCode};
use crate::event::{Event, EventQueue};
use crate::key_exchange::KeyExchangeGroup;
use crate::ssl::{AlertLevel, AlertType, SslMode, SslProtocol};
use crate::tls_context::Prepared;
use crate::verify::{PeerVerifier, VerificationOutcome, VerifierLease};

/// Scratch space for plain-mode reads; a TLS record's worth.
const PLAIN_READ_CHUNK: usize = 16 * 1024;

/// Byte counts since the socket was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Plaintext handed to TLS (or, in plain mode, written to the network).
    pub bytes_written: u64,
    /// Plaintext delivered to the program.
    pub bytes_read: u64,
    /// Ciphertext written to the network.
    pub encrypted_bytes_written: u64,
    /// Ciphertext read from the network.
    pub encrypted_bytes_read: u64,
}

struct Tls {
    connection: Connection,
    /// The verifier of the peer's certificates (a server's also decides a
    /// missing one), while the handshake may still verify.
    verifier: Option<Arc<PeerVerifier>>,
    /// The handshake's hold on a shared verifier, released with `verifier`.
    lease: Option<VerifierLease>,
    /// What verification found, taken from the verifier after each
    /// `process_new_packets`.
    outcome: Option<VerificationOutcome>,
    /// Whether this side's close_notify was queued.
    close_notify_sent: bool,
    /// The handshake completed and the peer was accepted.
    encrypted: bool,
    /// Decrypted bytes waiting in rustls' buffer.
    plaintext_pending: usize,
    /// Plaintext written before the handshake completed, reported as
    /// written once it is encrypted.
    queued_before_handshake: u64,
    /// Ciphertext rustls holds for the network, as of the last processing.
    tls_bytes_to_write: usize,
    /// A server's: the client's hello is in and answered (the server has
    /// its reply to send, or the handshake is over).
    hello_answered: bool,
}

impl Tls {
    /// Lets the verifier go: a shared one may then serve another handshake.
    fn end_verification(&mut self) {
        self.verifier = None;
        self.lease = None;
    }
}

/// See the module documentation.
pub(crate) struct Channel {
    mode: SslMode,
    tls: Option<Tls>,
    /// Plaintext for the program that is no longer in rustls' buffer (plain
    /// mode data, or data pulled forward by `peek` / line reading).
    incoming: VecDeque<u8>,
    /// Plain-mode bytes not yet written to the network.
    outgoing_plain: VecDeque<u8>,
    scratch: Vec<u8>,
    counters: Counters,
    events: EventQueue,
    read_buffer_size: usize,
    peer_closed: bool,
    /// The transport ended without the peer's close_notify after the
    /// handshake: the data may have been cut short by an attacker.
    truncated: bool,
    /// Plaintext arrived since [`take_fresh_data`](Self::take_fresh_data)
    /// was last called.
    fresh_data: bool,
    failed: bool,
}

impl Default for Channel {
    fn default() -> Self {
        Channel {
            mode: SslMode::UnencryptedMode,
            tls: None,
            incoming: VecDeque::new(),
            outgoing_plain: VecDeque::new(),
            scratch: Vec::new(),
            counters: Counters::default(),
            events: EventQueue::default(),
            read_buffer_size: 0,
            peer_closed: false,
            truncated: false,
            fresh_data: false,
            failed: false,
        }
    }
}

impl Channel {
    pub(crate) fn mode(&self) -> SslMode {
        self.mode
    }

    pub(crate) fn is_encrypted(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| tls.encrypted)
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| !tls.encrypted)
    }

    /// For a server: whether the client's hello has come and been answered.
    pub(crate) fn client_hello_answered(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| tls.hello_answered)
    }

    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Whether plaintext arrived since the last call; clears the mark.
    pub(crate) fn take_fresh_data(&mut self) -> bool {
        std::mem::take(&mut self.fresh_data)
    }

    /// Whether new plaintext arrived since the last [`take_fresh_data`](Self::take_fresh_data).
    pub(crate) fn has_fresh_data(&self) -> bool {
        self.fresh_data
    }

    /// Whether the stream ended without close_notify after the handshake.
    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    pub(crate) fn counters(&self) -> Counters {
        self.counters
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        self.events.push(event);
    }

    pub(crate) fn next_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// Whether the channel ended with an error.
    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }

    pub(crate) fn set_read_buffer_size(&mut self, size: usize) {
        self.read_buffer_size = size;
    }

    /// Starts a client handshake; plaintext already received in plain mode
    /// (a STARTTLS peer may have sent its first TLS bytes early) is handed
    /// to TLS first.
    pub(crate) fn start_client(
        &mut self,
        prepared: Prepared<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<()> {
        let connection = ClientConnection::new(prepared.config, name).map_err(Error::Tls)?;
        self.start(
            Connection::Client(connection),
            prepared.verifier,
            prepared.lease,
            SslMode::SslClientMode,
        )
    }

    /// Starts a server handshake; see [`start_client`](Self::start_client).
    pub(crate) fn start_server(&mut self, prepared: Prepared<ServerConfig>) -> Result<()> {
        let connection = ServerConnection::new(prepared.config).map_err(Error::Tls)?;
        self.start(
            Connection::Server(connection),
            prepared.verifier,
            prepared.lease,
            SslMode::SslServerMode,
        )
    }

    fn start(
        &mut self,
        mut connection: Connection,
        verifier: Arc<PeerVerifier>,
        lease: Option<VerifierLease>,
        mode: SslMode,
    ) -> Result<()> {
        // Qt queues every write; rustls' default limit would make early writes partial.
        connection.set_buffer_limit(None);
        let early: Vec<u8> = self.incoming.drain(..).collect();
        self.tls = Some(Tls {
            connection,
            verifier: Some(verifier),
            lease,
            outcome: None,
            close_notify_sent: false,
            encrypted: false,
            plaintext_pending: 0,
            queued_before_handshake: 0,
            tls_bytes_to_write: 0,
            hello_answered: false,
        });
        self.mode = mode;
        self.events.push(Event::ModeChanged(mode));
        if !early.is_empty() {
            let tls = self.tls.as_mut().expect("just set");
            let mut rest = early.as_slice();
            while !rest.is_empty() {
                tls.connection.read_tls(&mut rest)?;
            }
            self.process()?;
        }
        Ok(())
    }

    /// Whether reading from the network would make progress: false when the
    /// read buffer is full or the peer has finished sending.
    pub(crate) fn wants_read(&mut self) -> bool {
        if self.peer_closed || self.failed {
            return false;
        }
        if self.read_buffer_size > 0 && self.bytes_available() >= self.read_buffer_size {
            return false;
        }
        let Some(tls) = &self.tls else { return true };
        if !tls.connection.wants_read() && tls.encrypted && tls.plaintext_pending > 0 {
            // rustls holds back while its own plaintext buffer is full; the
            // read buffer bound (if any) is ours to enforce, so make room.
            self.pull_plaintext();
        }
        self.tls
            .as_ref()
            .is_some_and(|tls| tls.connection.wants_read())
    }

    /// Reads once from `transport` and processes what arrived. `Ok(0)` means
    /// the transport reached end of file.
    pub(crate) fn read_from(&mut self, transport: &mut dyn Read) -> Result<usize> {
        match &mut self.tls {
            Some(tls) => {
                let n = match tls.connection.read_tls(transport) {
                    Ok(n) => n,
                    Err(e) => {
                        if !transient(&e) {
                            tls.end_verification();
                        }
                        return Err(e.into());
                    }
                };
                self.counters.encrypted_bytes_read += n as u64;
                if n == 0 {
                    // A handshake cut short here cannot verify any more.
                    tls.end_verification();
                    self.truncated = tls.encrypted && !self.peer_closed;
                    self.peer_closed = true;
                } else {
                    self.process()?;
                }
                Ok(n)
            }
            None => {
                self.scratch.resize(PLAIN_READ_CHUNK, 0);
                let n = transport.read(&mut self.scratch)?;
                if n == 0 {
                    self.peer_closed = true;
                } else {
                    self.incoming.extend(&self.scratch[..n]);
                    self.fresh_data = true;
                    self.events.push(Event::ReadyRead);
                }
                Ok(n)
            }
        }
    }

    /// Lets rustls process received records; completes the handshake when
    /// it is done, and turns a failure into the crate's error. Once the
    /// handshake is over, the verifier is let go: a shared one may then
    /// serve another handshake.
    fn process(&mut self) -> Result<()> {
        let result = self.process_records();
        if let Some(tls) = &mut self.tls {
            if result.is_err() || !tls.connection.is_handshaking() {
                tls.end_verification();
            }
        }
        result
    }

    fn process_records(&mut self) -> Result<()> {
        let Some(tls) = &mut self.tls else {
            return Ok(());
        };
        let processed = tls.connection.process_new_packets();
        if let Some(outcome) = tls.verifier.as_ref().and_then(|v| v.take_outcome()) {
            tls.outcome = Some(outcome);
        }
        let state = match processed {
            Ok(state) => state,
            Err(e) => {
                let error = classify(&e, tls);
                if let rustls::Error::AlertReceived(alert) = &e {
                    self.events.push(Event::AlertReceived {
                        level: AlertLevel::Fatal,
                        kind: AlertType::from_code(u8::from(*alert)),
                    });
                }
                return Err(self.fail(error));
            }
        };
        let fresh_plaintext = state.plaintext_bytes_to_read() > tls.plaintext_pending;
        tls.plaintext_pending = state.plaintext_bytes_to_read();
        tls.tls_bytes_to_write = state.tls_bytes_to_write();
        if matches!(tls.connection, Connection::Server(_))
            && (state.tls_bytes_to_write() > 0 || !tls.connection.is_handshaking())
        {
            tls.hello_answered = true;
        }
        if state.peer_has_closed() && !self.peer_closed {
            self.peer_closed = true;
            self.events.push(Event::AlertReceived {
                level: AlertLevel::Warning,
                kind: AlertType::CloseNotify,
            });
        }
        if !tls.encrypted && !tls.connection.is_handshaking() {
            self.complete_handshake()?;
        }
        let tls = self.tls.as_ref().expect("checked above");
        if tls.encrypted && fresh_plaintext {
            self.fresh_data = true;
            self.events.push(Event::ReadyRead);
        }
        Ok(())
    }

    fn complete_handshake(&mut self) -> Result<()> {
        let tls = self.tls.as_mut().expect("only called with TLS");
        if matches!(tls.connection, Connection::Server(_))
            && tls.connection.peer_certificates().is_none()
            && tls.outcome.is_none()
        {
            let missing = tls
                .verifier
                .as_ref()
                .map(|v| v.finish_without_client_certificate());
            let verdict = missing.map(|(verdict, outcome)| {
                tls.outcome = Some(outcome);
                verdict
            });
            if let Some(Err(e)) = verdict {
                // The handshake is over on rustls' side, so no alert can say
                // why; close_notify ends the connection before any data.
                let error = classify(&e, tls);
                tls.connection.send_close_notify();
                self.events.push(Event::AlertSent {
                    level: AlertLevel::Warning,
                    kind: AlertType::CloseNotify,
                });
                self.failed = true;
                return Err(error);
            }
        }
        tls.encrypted = true;
        let queued = std::mem::take(&mut tls.queued_before_handshake);
        let errors = tls
            .outcome
            .as_ref()
            .map(|o| o.errors.clone())
            .unwrap_or_default();
        if !errors.is_empty() {
            self.events.push(Event::SslErrors(errors));
        }
        self.events.push(Event::Encrypted);
        if queued > 0 {
            self.events.push(Event::BytesWritten(queued));
        }
        Ok(())
    }

    /// Records that the channel ended with `error`, and the alert rustls
    /// sent for it (an alert the peer sent is reported as received instead).
    fn fail(&mut self, error: Error) -> Error {
        if let Some(kind) = sent_alert(&error) {
            self.events.push(Event::AlertSent {
                level: AlertLevel::Fatal,
                kind,
            });
        }
        self.failed = true;
        error
    }

    /// Whether there is anything to write to the network.
    pub(crate) fn wants_write(&self) -> bool {
        !self.outgoing_plain.is_empty()
            || self
                .tls
                .as_ref()
                .is_some_and(|tls| tls.connection.wants_write())
    }

    /// Writes once to `transport`; returns how many bytes went out. Plain
    /// bytes queued before a STARTTLS upgrade go out before any TLS record.
    pub(crate) fn write_to(&mut self, transport: &mut dyn Write) -> io::Result<usize> {
        if !self.outgoing_plain.is_empty() {
            let (front, _) = self.outgoing_plain.as_slices();
            let n = transport.write(front)?;
            self.outgoing_plain.drain(..n);
            if n > 0 {
                self.counters.bytes_written += n as u64;
                self.events.push(Event::BytesWritten(n as u64));
            }
            return Ok(n);
        }
        let Some(tls) = &mut self.tls else {
            return Ok(0);
        };
        let n = tls.connection.write_tls(transport)?;
        if n > 0 {
            self.counters.encrypted_bytes_written += n as u64;
            self.events.push(Event::EncryptedBytesWritten(n as u64));
        }
        Ok(n)
    }

    /// Queues plaintext: encrypted at once when the handshake is done,
    /// otherwise when it completes (plain mode: sent as it is).
    pub(crate) fn write_plaintext(&mut self, data: &[u8]) -> Result<usize> {
        if self.failed {
            return Err(Error::InvalidState {
                operation: "write",
                reason: "the connection failed; see the socket's error".into(),
            });
        }
        match &mut self.tls {
            Some(tls) => {
                let n = tls.connection.writer().write(data)?;
                self.counters.bytes_written += n as u64;
                if tls.encrypted {
                    self.events.push(Event::BytesWritten(n as u64));
                } else {
                    tls.queued_before_handshake += n as u64;
                }
                Ok(n)
            }
            None => {
                self.outgoing_plain.extend(data);
                Ok(data.len())
            }
        }
    }

    /// Sends close_notify (TLS); the caller then writes it out.
    pub(crate) fn send_close_notify(&mut self) {
        if let Some(tls) = &mut self.tls {
            tls.close_notify_sent = true;
            tls.connection.send_close_notify();
            self.events.push(Event::AlertSent {
                level: AlertLevel::Warning,
                kind: AlertType::CloseNotify,
            });
        }
    }

    /// Queues close_notify in answer to the peer's, when the peer closed an
    /// encrypted session cleanly and this side has not sent one: TLS (RFC
    /// 8446, 6.1) has each side send close_notify before closing its write
    /// side. Returns whether one was queued.
    pub(crate) fn answer_close_notify(&mut self) -> bool {
        let clean = self.peer_closed && !self.truncated && !self.failed;
        match &self.tls {
            Some(tls) if clean && tls.encrypted && !tls.close_notify_sent => {
                self.send_close_notify();
                true
            }
            _ => false,
        }
    }

    /// Ends verification for a connection that is over before its
    /// handshake finished.
    pub(crate) fn end_verification(&mut self) {
        if let Some(tls) = &mut self.tls {
            tls.end_verification();
        }
    }

    /// Whether a handshake still holds its verifier (and a shared one's lease).
    #[cfg(test)]
    pub(crate) fn holds_verifier(&self) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|tls| tls.verifier.is_some() || tls.lease.is_some())
    }

    /// Drops everything not yet sent or read (`abort`).
    pub(crate) fn discard(&mut self) {
        self.outgoing_plain.clear();
        self.incoming.clear();
        self.tls = None;
    }

    /// Decrypted bytes the program can read now.
    pub(crate) fn bytes_available(&self) -> usize {
        self.incoming.len()
            + self.tls.as_ref().map_or(0, |tls| {
                if tls.encrypted {
                    tls.plaintext_pending
                } else {
                    0
                }
            })
    }

    /// Plaintext not yet handed to the network or encrypted.
    pub(crate) fn bytes_to_write(&self) -> usize {
        match &self.tls {
            Some(tls) if !tls.encrypted => tls.queued_before_handshake as usize,
            Some(_) => 0,
            None => self.outgoing_plain.len(),
        }
    }

    /// Ciphertext waiting to be written to the network. Asking rustls means
    /// processing whatever it holds, through the same path as a read.
    pub(crate) fn encrypted_bytes_to_write(&mut self) -> usize {
        if self.failed || self.process().is_err() {
            return 0;
        }
        self.tls.as_ref().map_or(0, |tls| tls.tls_bytes_to_write)
    }

    /// Reads plaintext into `buf`; 0 means nothing is available now (check
    /// [`peer_closed`](Self::peer_closed) for end of stream).
    pub(crate) fn read_plaintext(&mut self, buf: &mut [u8]) -> usize {
        // `VecDeque`'s own `read` stops at the end of its first slice; what
        // rustls holds must not be read before the rest of the buffer.
        let mut n = buf.len().min(self.incoming.len());
        let (front, back) = self.incoming.as_slices();
        let from_front = n.min(front.len());
        buf[..from_front].copy_from_slice(&front[..from_front]);
        buf[from_front..n].copy_from_slice(&back[..n - from_front]);
        self.incoming.drain(..n);
        if n < buf.len() {
            n += self.read_from_tls(&mut buf[n..]);
        }
        self.counters.bytes_read += n as u64;
        n
    }

    fn read_from_tls(&mut self, buf: &mut [u8]) -> usize {
        let Some(tls) = &mut self.tls else { return 0 };
        if !tls.encrypted || tls.plaintext_pending == 0 {
            return 0;
        }
        match tls.connection.reader().read(buf) {
            Ok(n) => {
                tls.plaintext_pending -= n;
                n
            }
            Err(_) => 0,
        }
    }

    /// Moves plaintext from rustls into the channel's buffer, so that it can
    /// be looked at without being consumed.
    fn pull_plaintext(&mut self) {
        let Some(tls) = &mut self.tls else { return };
        while tls.encrypted && tls.plaintext_pending > 0 {
            self.scratch.resize(PLAIN_READ_CHUNK, 0);
            match tls.connection.reader().read(&mut self.scratch) {
                Ok(n) if n > 0 => {
                    tls.plaintext_pending -= n;
                    self.incoming.extend(&self.scratch[..n]);
                }
                _ => break,
            }
        }
    }

    /// Copies up to `buf.len()` bytes without consuming them.
    pub(crate) fn peek(&mut self, buf: &mut [u8]) -> usize {
        self.pull_plaintext();
        let n = buf.len().min(self.incoming.len());
        for (dst, src) in buf.iter_mut().zip(self.incoming.iter()) {
            *dst = *src;
        }
        n
    }

    /// Whether a whole line (ending in `\n`) can be read.
    pub(crate) fn can_read_line(&mut self) -> bool {
        self.pull_plaintext();
        self.incoming.contains(&b'\n')
    }

    /// Reads up to and including the next `\n`, or at most `max` bytes, or
    /// (at end of stream) what is left.
    pub(crate) fn read_line(&mut self, max: usize) -> Vec<u8> {
        self.pull_plaintext();
        let end = self
            .incoming
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.incoming.len(), |i| i + 1)
            .min(max);
        let line: Vec<u8> = self.incoming.drain(..end).collect();
        self.counters.bytes_read += line.len() as u64;
        line
    }

    pub(crate) fn session_cipher(&self) -> Option<SslCipher> {
        let suite = self.tls.as_ref()?.connection.negotiated_cipher_suite()?;
        SslCipher::from_suite(suite.suite())
    }

    pub(crate) fn session_protocol(&self) -> SslProtocol {
        match self
            .tls
            .as_ref()
            .and_then(|tls| tls.connection.protocol_version())
        {
            Some(rustls::ProtocolVersion::TLSv1_3) => SslProtocol::TlsV1_3,
            Some(rustls::ProtocolVersion::TLSv1_2) => SslProtocol::TlsV1_2,
            _ => SslProtocol::UnknownProtocol,
        }
    }

    /// The certificates the peer sent: from rustls after an accepted
    /// handshake (also a resumed one), else as the verifier saw them, so
    /// that a rejected chain can still be shown.
    pub(crate) fn peer_certificate_chain(&self) -> Vec<SslCertificate> {
        let Some(tls) = &self.tls else {
            return Vec::new();
        };
        let presented = match tls.connection.peer_certificates() {
            Some(certificates) => certificates,
            None => tls.outcome.as_ref().map_or(&[][..], |o| &o.peer_chain),
        };
        // Every one was read when verified; one that cannot be shown as an
        // `SslCertificate` is left out rather than failing the accessor.
        presented
            .iter()
            .filter_map(|der| SslCertificate::from_der(der.as_ref()).ok())
            .collect()
    }

    pub(crate) fn next_negotiated_protocol(&self) -> Option<Vec<u8>> {
        self.tls
            .as_ref()?
            .connection
            .alpn_protocol()
            .map(<[u8]>::to_vec)
    }

    pub(crate) fn key_exchange_group(&self) -> Option<KeyExchangeGroup> {
        let group = self
            .tls
            .as_ref()?
            .connection
            .negotiated_key_exchange_group()?;
        KeyExchangeGroup::from_named_group(group.name())
    }

    pub(crate) fn is_resumed(&self) -> bool {
        self.tls
            .as_ref()
            .and_then(|tls| tls.connection.handshake_kind())
            .is_some_and(|kind| kind == rustls::HandshakeKind::Resumed)
    }

    /// The verification outcome of the current or last handshake.
    pub(crate) fn verification(&self) -> Option<VerificationOutcome> {
        self.tls.as_ref()?.outcome.clone()
    }

    pub(crate) fn handshake_errors(&self) -> Vec<SslError> {
        self.verification().map(|o| o.errors).unwrap_or_default()
    }
}

/// Whether a transport error only means "not now" (the transport would
/// block, its timeout ran out, or a signal interrupted it).
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Tells verification failures, handshake failures and later protocol
/// errors apart.
fn classify(error: &rustls::Error, tls: &mut Tls) -> Error {
    if let (rustls::Error::NoCertificatesPresented, Connection::Server(_), Some(verifier), None) =
        (error, &tls.connection, &tls.verifier, &tls.outcome)
    {
        // rustls refused the missing client certificate itself; record it
        // as the verification outcome, in Qt's terms.
        tls.outcome = Some(verifier.finish_without_client_certificate().1);
    }
    match &tls.outcome {
        Some(outcome) if !outcome.accepted => Error::VerificationFailed {
            errors: outcome.errors.clone(),
        },
        _ if tls.encrypted => Error::Tls(error.clone()),
        _ => Error::HandshakeFailed(error.clone()),
    }
}

/// The alert rustls sends for a failure of ours, where one is sent.
fn sent_alert(error: &Error) -> Option<AlertType> {
    use rustls::CertificateError as C;
    let rustls_error = match error {
        Error::VerificationFailed { errors } => {
            return Some(match errors.first().map(SslError::code) {
                Some(SslErrorCode::NoPeerCertificate) => AlertType::CertificateRequired,
                Some(SslErrorCode::CertificateExpired)
                | Some(SslErrorCode::CertificateNotYetValid) => AlertType::CertificateExpired,
                _ => AlertType::BadCertificate,
            })
        }
        Error::HandshakeFailed(rustls::Error::AlertReceived(_))
        | Error::Tls(rustls::Error::AlertReceived(_)) => return None,
        Error::HandshakeFailed(e) | Error::Tls(e) => e,
        _ => return None,
    };
    Some(match rustls_error {
        rustls::Error::InvalidCertificate(C::Expired | C::NotValidYet) => {
            AlertType::CertificateExpired
        }
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => AlertType::UnknownCa,
        rustls::Error::InvalidCertificate(_) => AlertType::BadCertificate,
        rustls::Error::PeerIncompatible(_) => AlertType::HandshakeFailure,
        rustls::Error::InvalidMessage(_) => AlertType::DecodeError,
        rustls::Error::DecryptError => AlertType::BadRecordMac,
        _ => AlertType::InternalError,
    })
}
