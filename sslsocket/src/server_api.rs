//! The part of the server API that the blocking and the async server share
//! word for word: settings, and the verification settings installed on
//! every accepted socket. Both keep the same fields for them
//! (`configuration`, `mode`, `handshake_timeout`, `max_pending`, `ignore`,
//! `on_ssl_errors`, `on_peer_verify_error`), so one definition serves both.

/// Expands to the shared methods inside an `impl SslServer` block.
macro_rules! shared_server_api {
    () => {
        /// The configuration accepted sockets get (`sslConfiguration`).
        pub fn ssl_configuration(&self) -> &SslConfiguration {
            &self.configuration
        }

        /// Replaces the configuration for connections accepted from now on
        /// (`setSslConfiguration`); checked as in [`new`](Self::new), and left
        /// unchanged when the check fails.
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

        /// How many connections may be pending at once, handshaking or ready
        /// to be taken (`maxPendingConnections`); 30 by default.
        pub fn max_pending_connections(&self) -> usize {
            self.max_pending
        }

        /// Sets how many connections may be pending at once
        /// (`setMaxPendingConnections`; at least 1). When that many are, the
        /// server stops taking connections from the operating system until the
        /// program takes some; further clients wait in the listen backlog.
        pub fn set_max_pending_connections(&mut self, max: usize) {
            self.max_pending = max.max(1);
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
        /// (`QSslServer::sslErrors`; see [`SslSocket::on_ssl_errors`]). It runs
        /// where the handshake runs (its thread, or its task), hence `Send + Sync`.
        pub fn on_ssl_errors(
            &mut self,
            handler: impl Fn(SocketAddr, &[SslError]) -> SslErrorsDecision + Send + Sync + 'static,
        ) {
            self.on_ssl_errors = Some(Arc::new(handler));
        }

        /// Calls `handler` with the client's address once per certificate
        /// error; it may abort the handshake (`QSslServer::peerVerifyError`; see
        /// [`SslSocket::on_peer_verify_error`]). It runs where the
        /// handshake runs. Each error is also reported as
        /// [`ServerEvent::PeerVerifyError`] in [`ServerMode::Encrypted`].
        pub fn on_peer_verify_error(
            &mut self,
            handler: impl Fn(SocketAddr, &SslError) -> PeerVerifyDecision + Send + Sync + 'static,
        ) {
            self.on_peer_verify_error = Some(Arc::new(handler));
        }

        /// A socket over `stream` with the server's configuration and
        /// verification settings. The server's own reporting of certificate
        /// errors reads them after the handshake: a handler installed for it
        /// would keep rustls from refusing a missing client certificate with an
        /// alert, and sockets from resuming sessions.
        fn prepare(&self, stream: TcpStream, peer: SocketAddr) -> SslSocket<TcpStream> {
            let mut socket =
                SslSocket::from_stream_with_configuration(stream, self.configuration.clone());
            match &self.ignore {
                IgnoreRule::Nothing => {}
                IgnoreRule::Everything => socket.ignore_ssl_errors(),
                IgnoreRule::Listed(errors) => {
                    socket.ignore_listed_ssl_errors(errors.iter().cloned())
                }
            }
            if let Some(handler) = self.on_ssl_errors.clone() {
                socket.on_ssl_errors(move |errors| handler(peer, errors));
            }
            if let Some(handler) = self.on_peer_verify_error.clone() {
                socket.on_peer_verify_error(move |error| handler(peer, error));
            }
            socket
        }
    };
}
