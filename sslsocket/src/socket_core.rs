//! What the blocking and the async socket share: the TLS channel, the
//! configuration, Qt's state and last error, the peer name, the
//! verification settings and the data written before a connection exists.
//!
//! [`SocketCore`] holds all of it with every operation that does not wait
//! for the network; both `SslSocket` types dereference to it, so its
//! methods are theirs. The front ends add only their transport and how they
//! wait for it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::certificate::{PatternSyntax, SslCertificate};
use crate::channel::{Channel, Counters};
use crate::cipher::SslCipher;
use crate::configuration::SslConfiguration;
use crate::error::{Error, Result, SslError};
use crate::event::Event;
use crate::handshake::{HandshakeSetup, VerificationSettings};
use crate::key::SslKey;
use crate::key_exchange::KeyExchangeGroup;
use crate::ssl::{EncodingFormat, KeyAlgorithm, PeerVerifyMode, SslMode, SslProtocol};
use crate::state::{SocketError, SocketState};
use crate::verify::{PeerVerifyDecision, SslErrorsDecision};

/// A connection to make when the socket is next driven.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) encrypt: bool,
}

/// What a read finds without waiting.
#[derive(Debug)]
pub(crate) enum ReadNow {
    /// This many bytes were read.
    Data(usize),
    /// The peer closed cleanly and everything was read: the connection is
    /// over (the close may have come with the last data).
    Ended,
    /// Nothing yet: wait for more.
    Nothing,
}

/// The last error of a socket: Qt's kind and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LastError {
    kind: SocketError,
    message: String,
}

/// The state and operations both `SslSocket` types share: everything that
/// does not wait for the network. A `SocketCore` is only ever seen through a
/// socket: [`crate::SslSocket`] and `sslsocket::tokio::SslSocket`
/// dereference to it.
pub struct SocketCore {
    pub(crate) channel: Channel,
    configuration: SslConfiguration,
    state: SocketState,
    error: Option<LastError>,
    /// The host name given to the last connect call.
    host_name: Option<String>,
    verification: VerificationSettings,
    /// The connection to make, from a connect call until it is made.
    target: Option<Target>,
    /// Data written while an encrypted connection is still being made; it
    /// goes to TLS when the handshake starts.
    early_writes: Vec<u8>,
    /// A connection was made at some point (so an unconnected socket that
    /// did not fail was closed, rather than never connected).
    was_connected: bool,
}

impl std::fmt::Debug for SocketCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslSocket")
            .field("state", &self.state)
            .field("mode", &self.channel.mode())
            .field("encrypted", &self.channel.is_encrypted())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl SocketCore {
    /// Always true: TLS is built in (`supportsSsl`).
    pub fn supports_ssl() -> bool {
        true
    }

    /// The TLS library's name and version, e.g. "rustls 0.23 (aws-lc-rs)"
    /// (`sslLibraryVersionString`).
    pub fn ssl_library_version_string() -> &'static str {
        "rustls 0.23 (aws-lc-rs)"
    }

    /// A core with `configuration`: unconnected, or connected in plain mode
    /// over a transport the front end already has.
    pub(crate) fn new(configuration: SslConfiguration, connected: bool) -> SocketCore {
        let mut core = SocketCore {
            channel: Channel::default(),
            configuration,
            state: SocketState::UnconnectedState,
            error: None,
            host_name: None,
            verification: VerificationSettings::default(),
            target: None,
            early_writes: Vec::new(),
            was_connected: connected,
        };
        if connected {
            core.state = SocketState::ConnectedState;
            core.channel.push_event(Event::Connected);
        }
        core
    }

    pub(crate) fn set_state(&mut self, state: SocketState) {
        if self.state != state {
            self.state = state;
            self.was_connected |= state == SocketState::ConnectedState;
            self.channel.push_event(Event::StateChanged(state));
        }
    }

    /// Keeps `error` as the socket's last error and returns it.
    pub(crate) fn record(&mut self, error: Error) -> Error {
        self.error = Some(LastError {
            kind: SocketError::of(&error),
            message: error.to_string(),
        });
        error
    }

    /// Qt prints a warning and does nothing for misplaced calls; here the
    /// reason is kept as the socket's error.
    fn warn(&mut self, operation: &'static str, reason: &str) {
        let _ = self.record(Error::InvalidState {
            operation,
            reason: reason.to_owned(),
        });
    }

    /// The connection to make, if a connect call is waiting for one.
    pub(crate) fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// Gives up the connection being made (a timeout): the socket is
    /// unconnected again. Returns whether there was one.
    // Only the async socket's connect can be given up while it waits.
    #[cfg(feature = "tokio")]
    pub(crate) fn cancel_connecting(&mut self) -> bool {
        let cancelled = self.target.take().is_some();
        if cancelled {
            self.early_writes.clear();
            self.set_state(SocketState::UnconnectedState);
        }
        cancelled
    }

    /// The front end starts making the connection.
    pub(crate) fn connecting(&mut self) {
        self.set_state(SocketState::ConnectingState);
    }

    /// The front end made the connection (`Ok`) or could not: the socket is
    /// connected, and an encrypted connection starts its handshake with the
    /// data written so far queued for it.
    pub(crate) fn connected(&mut self, made: Result<()>) -> Result<()> {
        let Some(target) = self.target.take() else {
            return Ok(());
        };
        if let Err(e) = made {
            self.early_writes.clear();
            self.set_state(SocketState::UnconnectedState);
            return Err(self.record(e));
        }
        self.set_state(SocketState::ConnectedState);
        self.channel.push_event(Event::Connected);
        if target.encrypt {
            let begun = self.begin_handshake(SslMode::SslClientMode);
            begun.map_err(|e| self.record(e))?;
            let early = std::mem::take(&mut self.early_writes);
            if !early.is_empty() {
                let queued = self.channel.write_plaintext(&early);
                queued.map_err(|e| self.record(e))?;
            }
        }
        Ok(())
    }

    /// `waitForConnected` on a socket with no connection being made: fine
    /// when it is connected, else an error kept as the socket's.
    pub(crate) fn check_connected(&mut self) -> Result<()> {
        match self.state {
            SocketState::ConnectedState | SocketState::ClosingState => Ok(()),
            _ => Err(self.record(Error::InvalidState {
                operation: "wait for the connection",
                reason: "the socket is not connecting".into(),
            })),
        }
    }

    /// `waitForEncrypted` once any connection is made: an error, kept as
    /// the socket's, when no handshake was started.
    pub(crate) fn check_handshake_started(&mut self) -> Result<()> {
        if self.channel.mode() == SslMode::UnencryptedMode && !self.channel.has_failed() {
            return Err(self.record(Error::InvalidState {
                operation: "wait for encryption",
                reason: "no handshake was started".into(),
            }));
        }
        Ok(())
    }

    /// An error, kept as the socket's, for `operation` on a socket that is
    /// neither connected nor connecting.
    pub(crate) fn check_not_unconnected(&mut self, operation: &'static str) -> Result<()> {
        if self.state == SocketState::UnconnectedState {
            return Err(self.record(Error::InvalidState {
                operation,
                reason: "the socket is not connected".into(),
            }));
        }
        Ok(())
    }

    /// The transport is closed: the socket is unconnected.
    pub(crate) fn closed(&mut self) {
        self.channel.end_verification();
        if self.state != SocketState::UnconnectedState {
            self.set_state(SocketState::UnconnectedState);
            self.channel.push_event(Event::Disconnected);
        }
    }

    /// Whether this side closed the connection (disconnect or abort) and
    /// no other has been asked for: reads then see the end of the stream,
    /// as a shut-down TCP socket gives.
    pub(crate) fn closed_by_this_side(&self) -> bool {
        self.state == SocketState::UnconnectedState
            && self.target.is_none()
            && self.was_connected
            && !self.channel.has_failed()
    }

    /// Drops everything not yet sent or read, and a connection being made
    /// (`abort`); the front end then closes its transport.
    pub(crate) fn discard(&mut self) {
        self.target = None;
        self.early_writes.clear();
        self.channel.discard();
    }

    /// Starts a disconnect: no connection is made any more, and an
    /// encrypted session gets its close_notify (once). Returns false when
    /// there is nothing to disconnect, or the disconnect already started.
    pub(crate) fn begin_disconnect(&mut self) -> bool {
        if matches!(
            self.state,
            SocketState::UnconnectedState | SocketState::ClosingState
        ) {
            return false;
        }
        self.target = None;
        self.set_state(SocketState::ClosingState);
        if self.channel.is_encrypted() {
            self.channel.send_close_notify();
        }
        true
    }

    /// `deadline`, shortened to the configuration's handshake timeout (30 s
    /// unless set otherwise), so that no wait on a handshake is unbounded.
    pub(crate) fn handshake_deadline(&self, deadline: Option<Instant>) -> Option<Instant> {
        let limit = self
            .configuration
            .handshake_timeout()
            .map(|t| Instant::now() + t);
        match (deadline, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // --- connecting -------------------------------------------------------------

    fn start_connecting(&mut self, host: &str, port: u16, encrypt: bool) {
        if self.state != SocketState::UnconnectedState {
            self.warn(
                "connect",
                "the socket is already connected or connecting; abort it first",
            );
            return;
        }
        self.host_name = Some(host.to_owned());
        self.target = Some(Target {
            host: host.to_owned(),
            port,
            encrypt,
        });
        self.error = None;
        self.set_state(SocketState::HostLookupState);
    }

    /// Starts connecting to `host:port` and then a client handshake
    /// (`connectToHostEncrypted`). Returns at once; the work happens in the
    /// `wait_for_*` calls (or the first read or write). The certificate must
    /// be valid for `host` unless a peer verify name is set.
    pub fn connect_to_host_encrypted(&mut self, host: &str, port: u16) {
        self.start_connecting(host, port, true);
    }

    /// Like [`connect_to_host_encrypted`](Self::connect_to_host_encrypted),
    /// but the certificate is checked against (and SNI carries) `peer_name`.
    pub fn connect_to_host_encrypted_with_peer_name(
        &mut self,
        host: &str,
        port: u16,
        peer_name: &str,
    ) {
        self.configuration
            .set_peer_verify_name(Some(peer_name.to_owned()));
        self.start_connecting(host, port, true);
    }

    /// Starts a plain connection (`connectToHost`); call
    /// [`start_client_encryption`](Self::start_client_encryption) later for
    /// STARTTLS.
    pub fn connect_to_host(&mut self, host: &str, port: u16) {
        self.start_connecting(host, port, false);
    }

    // --- state ---------------------------------------------------------------

    /// The connection state (`state`).
    pub fn state(&self) -> SocketState {
        self.state
    }

    /// Plain, client or server mode (`mode`).
    pub fn mode(&self) -> SslMode {
        self.channel.mode()
    }

    /// Whether the handshake completed and the peer was accepted (`isEncrypted`).
    pub fn is_encrypted(&self) -> bool {
        self.channel.is_encrypted()
    }

    /// The kind of the last error, if any (`error`).
    pub fn error(&self) -> Option<SocketError> {
        self.error.as_ref().map(|last| last.kind)
    }

    /// The last error's message, or an empty string (`errorString`).
    pub fn error_string(&self) -> &str {
        self.error.as_ref().map_or("", |last| &last.message)
    }

    /// The next notification, oldest first.
    pub fn next_event(&mut self) -> Option<Event> {
        self.channel.next_event()
    }

    /// Byte counts in both directions, plain and encrypted.
    pub fn counters(&self) -> Counters {
        self.channel.counters()
    }

    // --- configuration ------------------------------------------------------

    /// The socket's configuration (`sslConfiguration`).
    pub fn ssl_configuration(&self) -> &SslConfiguration {
        &self.configuration
    }

    /// Replaces the configuration; it applies from the next handshake
    /// (`setSslConfiguration`).
    pub fn set_ssl_configuration(&mut self, configuration: SslConfiguration) {
        self.configuration = configuration;
    }

    /// The configuration, to change one setting; it applies from the next handshake.
    pub fn ssl_configuration_mut(&mut self) -> &mut SslConfiguration {
        &mut self.configuration
    }

    /// See [`SslConfiguration::protocol`].
    pub fn protocol(&self) -> SslProtocol {
        self.configuration.protocol()
    }

    /// See [`SslConfiguration::set_protocol`].
    pub fn set_protocol(&mut self, protocol: SslProtocol) {
        self.configuration.set_protocol(protocol);
    }

    /// See [`SslConfiguration::ciphers`].
    pub fn ciphers(&self) -> &[SslCipher] {
        self.configuration.ciphers()
    }

    /// See [`SslConfiguration::set_ciphers`].
    pub fn set_ciphers(&mut self, ciphers: Vec<SslCipher>) {
        self.configuration.set_ciphers(ciphers);
    }

    /// See [`SslConfiguration::set_cipher_list`].
    pub fn set_cipher_list(&mut self, list: &str) -> Result<()> {
        self.configuration.set_cipher_list(list)
    }

    /// See [`SslConfiguration::ca_certificates`].
    pub fn ca_certificates(&self) -> Vec<SslCertificate> {
        self.configuration.ca_certificates()
    }

    /// See [`SslConfiguration::set_ca_certificates`].
    pub fn set_ca_certificates(&mut self, certificates: Vec<SslCertificate>) {
        self.configuration.set_ca_certificates(certificates);
    }

    /// See [`SslConfiguration::add_ca_certificate`].
    pub fn add_ca_certificate(&mut self, certificate: SslCertificate) {
        self.configuration.add_ca_certificate(certificate);
    }

    /// See [`SslConfiguration::add_ca_certificates`].
    pub fn add_ca_certificates(&mut self, certificates: impl IntoIterator<Item = SslCertificate>) {
        self.configuration.add_ca_certificates(certificates);
    }

    /// See [`SslConfiguration::add_ca_certificates_from_path`].
    pub fn add_ca_certificates_from_path(
        &mut self,
        path: &str,
        format: EncodingFormat,
        syntax: PatternSyntax,
    ) -> Result<bool> {
        self.configuration
            .add_ca_certificates_from_path(path, format, syntax)
    }

    /// See [`SslConfiguration::local_certificate`].
    pub fn local_certificate(&self) -> Option<&SslCertificate> {
        self.configuration.local_certificate()
    }

    /// See [`SslConfiguration::local_certificate_chain`].
    pub fn local_certificate_chain(&self) -> &[SslCertificate] {
        self.configuration.local_certificate_chain()
    }

    /// See [`SslConfiguration::set_local_certificate`].
    pub fn set_local_certificate(&mut self, certificate: SslCertificate) {
        self.configuration.set_local_certificate(certificate);
    }

    /// See [`SslConfiguration::set_local_certificate_chain`].
    pub fn set_local_certificate_chain(&mut self, chain: Vec<SslCertificate>) {
        self.configuration.set_local_certificate_chain(chain);
    }

    /// See [`SslConfiguration::set_local_certificate_from_path`].
    pub fn set_local_certificate_from_path(
        &mut self,
        path: impl AsRef<Path>,
        format: EncodingFormat,
    ) -> Result<()> {
        self.configuration
            .set_local_certificate_from_path(path, format)
    }

    /// See [`SslConfiguration::private_key`].
    pub fn private_key(&self) -> Option<&SslKey> {
        self.configuration.private_key()
    }

    /// See [`SslConfiguration::set_private_key`].
    pub fn set_private_key(&mut self, key: SslKey) {
        self.configuration.set_private_key(key);
    }

    /// See [`SslConfiguration::set_private_key_from_path`].
    pub fn set_private_key_from_path(
        &mut self,
        path: impl AsRef<Path>,
        algorithm: KeyAlgorithm,
        format: EncodingFormat,
        passphrase: Option<&[u8]>,
    ) -> Result<()> {
        self.configuration
            .set_private_key_from_path(path, algorithm, format, passphrase)
    }

    /// See [`SslConfiguration::peer_verify_mode`].
    pub fn peer_verify_mode(&self) -> PeerVerifyMode {
        self.configuration.peer_verify_mode()
    }

    /// See [`SslConfiguration::set_peer_verify_mode`].
    pub fn set_peer_verify_mode(&mut self, mode: PeerVerifyMode) {
        self.configuration.set_peer_verify_mode(mode);
    }

    /// See [`SslConfiguration::peer_verify_depth`].
    pub fn peer_verify_depth(&self) -> u32 {
        self.configuration.peer_verify_depth()
    }

    /// See [`SslConfiguration::set_peer_verify_depth`].
    pub fn set_peer_verify_depth(&mut self, depth: u32) {
        self.configuration.set_peer_verify_depth(depth);
    }

    /// The name the peer's certificate is checked against: the peer verify
    /// name if set, else the host name connected to (`peerVerifyName`).
    pub fn peer_verify_name(&self) -> Option<&str> {
        self.configuration
            .peer_verify_name()
            .or(self.host_name.as_deref())
    }

    /// Sets the name the peer's certificate is checked against and SNI
    /// carries (`setPeerVerifyName`).
    pub fn set_peer_verify_name(&mut self, name: &str) {
        self.configuration
            .set_peer_verify_name(Some(name.to_owned()));
    }

    /// See [`SslConfiguration::allowed_next_protocols`].
    pub fn allowed_next_protocols(&self) -> &[Vec<u8>] {
        self.configuration.allowed_next_protocols()
    }

    /// See [`SslConfiguration::set_allowed_next_protocols`].
    pub fn set_allowed_next_protocols<I, P>(&mut self, protocols: I) -> Result<()>
    where
        I: IntoIterator<Item = P>,
        P: Into<Vec<u8>>,
    {
        self.configuration.set_allowed_next_protocols(protocols)
    }

    // --- verification -------------------------------------------------------

    /// Lets the coming handshakes go on whatever errors the peer's
    /// certificate has (`ignoreSslErrors()`). Prefer
    /// [`ignore_listed_ssl_errors`](Self::ignore_listed_ssl_errors), which
    /// keeps unexpected errors fatal.
    pub fn ignore_ssl_errors(&mut self) {
        self.verification.ignore.ignore_all();
    }

    /// Lets the coming handshakes go on only if every error is in `errors`,
    /// matched on code and certificate (`ignoreSslErrors(list)`). As in Qt,
    /// the list replaces an earlier one and wins over
    /// [`ignore_ssl_errors`](Self::ignore_ssl_errors); an empty list clears it.
    pub fn ignore_listed_ssl_errors(&mut self, errors: impl IntoIterator<Item = SslError>) {
        self.verification
            .ignore
            .ignore_listed(errors.into_iter().collect());
    }

    /// Calls `handler` during the handshake once per error, before the
    /// `ssl_errors` handler; it may abort the handshake (`peerVerifyError`).
    pub fn on_peer_verify_error(
        &mut self,
        handler: impl Fn(&SslError) -> PeerVerifyDecision + Send + Sync + 'static,
    ) {
        self.verification.on_peer_verify_error = Some(Arc::new(handler));
    }

    /// Calls `handler` during the handshake once with every error, when there
    /// is any; it may ignore some or all of them (`sslErrors`).
    pub fn on_ssl_errors(
        &mut self,
        handler: impl Fn(&[SslError]) -> SslErrorsDecision + Send + Sync + 'static,
    ) {
        self.verification.on_ssl_errors = Some(Arc::new(handler));
    }

    /// Every error found in the peer's certificate in the last handshake,
    /// ignored or not (`sslHandshakeErrors`).
    pub fn ssl_handshake_errors(&self) -> Vec<SslError> {
        self.channel.handshake_errors()
    }

    /// Qt 4's name for [`ssl_handshake_errors`](Self::ssl_handshake_errors) (`sslErrors`).
    pub fn ssl_errors(&self) -> Vec<SslError> {
        self.ssl_handshake_errors()
    }

    // --- session ------------------------------------------------------------

    /// The negotiated cipher, once encrypted (`sessionCipher`).
    pub fn session_cipher(&self) -> Option<SslCipher> {
        self.channel.session_cipher()
    }

    /// The negotiated protocol: `TlsV1_2`, `TlsV1_3`, or `UnknownProtocol`
    /// before a handshake (`sessionProtocol`).
    pub fn session_protocol(&self) -> SslProtocol {
        self.channel.session_protocol()
    }

    /// The peer's certificate (`peerCertificate`).
    pub fn peer_certificate(&self) -> Option<SslCertificate> {
        self.channel.peer_certificate_chain().into_iter().next()
    }

    /// The certificates the peer sent, leaf first (`peerCertificateChain`).
    pub fn peer_certificate_chain(&self) -> Vec<SslCertificate> {
        self.channel.peer_certificate_chain()
    }

    /// The ALPN protocol agreed on, if any (`nextNegotiatedProtocol`).
    pub fn next_negotiated_protocol(&self) -> Option<Vec<u8>> {
        self.channel.next_negotiated_protocol()
    }

    /// The key-exchange group of the session, e.g.
    /// [`KeyExchangeGroup::X25519`], once the handshake got that far (see
    /// [`SslConfiguration::set_key_exchange_groups`]).
    pub fn key_exchange_group(&self) -> Option<KeyExchangeGroup> {
        self.channel.key_exchange_group()
    }

    /// Whether the last handshake resumed an earlier session.
    pub fn is_session_resumed(&self) -> bool {
        self.channel.is_resumed()
    }

    // --- data without waiting -------------------------------------------------

    /// Decrypted bytes ready to read (`bytesAvailable`).
    pub fn bytes_available(&self) -> usize {
        self.channel.bytes_available()
    }

    /// Plaintext written but not yet encrypted or sent (`bytesToWrite`).
    pub fn bytes_to_write(&self) -> usize {
        self.early_writes.len() + self.channel.bytes_to_write()
    }

    /// Ciphertext received but not yet decrypted (`encryptedBytesAvailable`).
    /// Records are decrypted as soon as they arrive, so this is 0 between calls.
    pub fn encrypted_bytes_available(&self) -> usize {
        0
    }

    /// Ciphertext waiting to be written to the network (`encryptedBytesToWrite`).
    pub fn encrypted_bytes_to_write(&mut self) -> usize {
        self.channel.encrypted_bytes_to_write()
    }

    /// Bounds the decrypted data held; reading from the network pauses while
    /// that much is waiting. 0 means no bound (`setReadBufferSize`).
    pub fn set_read_buffer_size(&mut self, size: usize) {
        self.channel.set_read_buffer_size(size);
    }

    /// Reads what is available now, without waiting (`read`); 0 when nothing is.
    pub fn read_available(&mut self, buf: &mut [u8]) -> usize {
        self.channel.read_plaintext(buf)
    }

    /// The read step of `Read` and `AsyncRead`: data if there is some, the
    /// end of the stream, or an `UnexpectedEof` error when the stream ended
    /// without close_notify after the handshake.
    pub(crate) fn read_now(&mut self, buf: &mut [u8]) -> std::io::Result<ReadNow> {
        let n = self.channel.read_plaintext(buf);
        if n > 0 {
            return Ok(ReadNow::Data(n));
        }
        if self.channel.truncated() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the peer closed the connection without close_notify; the data may be truncated",
            ));
        }
        if self.channel.peer_closed() {
            return Ok(ReadNow::Ended);
        }
        Ok(ReadNow::Nothing)
    }

    /// Copies what is available into `buf` without consuming it (`peek`).
    pub fn peek(&mut self, buf: &mut [u8]) -> usize {
        self.channel.peek(buf)
    }

    /// Whether a whole line can be read now (`canReadLine`).
    pub fn can_read_line(&mut self) -> bool {
        self.channel.can_read_line()
    }

    /// Reads one byte, if one is available (`getChar`).
    pub fn get_char(&mut self) -> Option<u8> {
        let mut byte = [0];
        (self.channel.read_plaintext(&mut byte) == 1).then_some(byte[0])
    }

    /// Queues one byte for writing (`putChar`).
    pub fn put_char(&mut self, byte: u8) -> Result<()> {
        self.write_data(&[byte]).map(|_| ())
    }

    /// Queues `data` (`write`): encrypted and sent once the handshake is
    /// done, or as it is in plain mode. Nothing is sent until the socket is
    /// driven: its `flush`, a `wait_for_*` call, or a write through the
    /// socket's `Write` / `AsyncWrite`.
    pub fn write_data(&mut self, data: &[u8]) -> Result<usize> {
        self.check_not_unconnected("write")?;
        if self.target.as_ref().is_some_and(|t| t.encrypt) {
            self.early_writes.extend_from_slice(data);
            return Ok(data.len());
        }
        let written = self.channel.write_plaintext(data);
        written.map_err(|e| self.record(e))
    }

    // --- encryption -------------------------------------------------------------

    /// Starts a client handshake on a connected plain socket (STARTTLS,
    /// `startClientEncryption`). Refused, with the reason also kept in
    /// [`error_string`](Self::error_string), unless the socket is connected
    /// and in plain mode, or when the configuration cannot be used (an
    /// insecure protocol, no usable cipher, a key that does not match). The
    /// certificate is checked against the peer verify name, or the host
    /// connected to. Returns at once: the handshake runs when the socket is
    /// driven (`wait_for_encrypted`, or a read or write).
    pub fn start_client_encryption(&mut self) -> Result<()> {
        self.start_encryption("start client encryption", SslMode::SslClientMode)
    }

    /// Starts a server handshake on a connected plain socket
    /// (`startServerEncryption`); see [`start_client_encryption`](Self::start_client_encryption).
    pub fn start_server_encryption(&mut self) -> Result<()> {
        self.start_encryption("start server encryption", SslMode::SslServerMode)
    }

    /// Starts a handshake as `side` if the socket is connected and in plain
    /// mode; a refusal, or a configuration that cannot be used, is recorded
    /// as the socket's error.
    fn start_encryption(&mut self, operation: &'static str, side: SslMode) -> Result<()> {
        let refused = if self.state != SocketState::ConnectedState {
            Some("the socket is not connected")
        } else if self.channel.mode() != SslMode::UnencryptedMode {
            Some("the socket is already in client or server mode")
        } else {
            None
        };
        if let Some(reason) = refused {
            return Err(self.record(Error::InvalidState {
                operation,
                reason: reason.into(),
            }));
        }
        let begun = self.begin_handshake(side);
        begun.map_err(|e| self.record(e))
    }

    /// Starts the channel's handshake as `side` with this socket's
    /// configuration and verification settings.
    fn begin_handshake(&mut self, side: SslMode) -> Result<()> {
        let setup = HandshakeSetup {
            configuration: &self.configuration,
            peer_name: self.peer_verify_name(),
            verification: &self.verification,
        };
        let start = if side == SslMode::SslServerMode {
            setup.server()?
        } else {
            setup.client()?
        };
        start.begin(&mut self.channel)
    }

    /// The end of a handshake wait: encrypted, and nothing is left for the
    /// network. A TLS 1.2 server's and a TLS 1.3 client's last handshake
    /// record is still queued when the handshake completes on their side;
    /// until it is out the peer's handshake cannot complete, and a read
    /// alone would wait for a peer that waits for it.
    pub(crate) fn handshake_delivered(&self) -> bool {
        self.channel.is_encrypted() && !self.channel.wants_write()
    }

    /// Installs a server's verification settings on an accepted socket.
    pub(crate) fn set_verification(&mut self, verification: VerificationSettings) {
        self.verification = verification;
    }
}

/// What a server's socket waits for first: the client's hello.
pub(crate) const CLIENT_HELLO_WAIT: &str = "waiting for the client's hello";

/// Qt's default for the `waitFor*` functions, and how long a disconnect
/// may take to send what is queued.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Why a socket over a transport that cannot open connections (one made
/// from a stream, such as an in-memory pipe) does not connect.
pub(crate) fn cannot_connect() -> Error {
    Error::InvalidState {
        operation: "connect",
        reason: "this transport cannot open connections; create the socket from a connected stream"
            .into(),
    }
}
