//! A socket's connection state and last error, with Qt's names and numbers
//! (`QAbstractSocket::SocketState` and `QAbstractSocket::SocketError`).

use crate::error::Error;

qt_enum! {
    /// Where a socket is in its life (`QAbstractSocket::SocketState`).
    #[derive(Default)]
    pub enum SocketState: "socket state" {
        /// Not connected.
        #[default]
        UnconnectedState = 0,
        /// Looking up the host name.
        HostLookupState = 1,
        /// Connecting to the host.
        ConnectingState = 2,
        /// Connected (the TLS handshake may still be running).
        ConnectedState = 3,
        /// Bound to an address (servers).
        BoundState = 4,
        /// Listening for connections (servers).
        ListeningState = 5,
        /// Closing: pending data is being sent before the connection closes.
        ClosingState = 6,
    }
}

qt_enum! {
    /// The kind of the last error of a socket (`QAbstractSocket::SocketError`).
    pub enum SocketError: "socket error" {
        /// The peer refused the connection (or it timed out).
        ConnectionRefusedError = 0,
        /// The peer closed the connection.
        RemoteHostClosedError = 1,
        /// The host name was not found.
        HostNotFoundError = 2,
        /// The operation was refused for lack of privileges.
        SocketAccessError = 3,
        /// The system ran out of resources.
        SocketResourceError = 4,
        /// The operation timed out.
        SocketTimeoutError = 5,
        /// A network error (e.g. the cable was unplugged).
        NetworkError = 7,
        /// The operation is not supported on this socket.
        UnsupportedSocketOperationError = 10,
        /// The TLS handshake failed: no common protocol or cipher, an alert,
        /// or a rejected certificate (see `ssl_handshake_errors`).
        SslHandshakeFailedError = 13,
        /// The operation is not allowed in the socket's current state.
        OperationError = 19,
        /// An internal TLS error: the peer broke the protocol after the handshake.
        SslInternalError = 20,
        /// The TLS configuration was invalid (e.g. a key that does not match).
        SslInvalidUserDataError = 21,
        /// Some other error.
        UnknownSocketError = -1,
    }
}

impl SocketError {
    /// The kind Qt would report for `error`.
    pub fn of(error: &Error) -> SocketError {
        match error {
            Error::HostNotFound { .. } => SocketError::HostNotFoundError,
            Error::ConnectFailed { .. } => SocketError::ConnectionRefusedError,
            Error::RemoteHostClosed => SocketError::RemoteHostClosedError,
            Error::Timeout { .. } => SocketError::SocketTimeoutError,
            Error::VerificationFailed { .. }
            | Error::HandshakeFailed(_)
            | Error::PinnedCertificateChanged { .. } => SocketError::SslHandshakeFailedError,
            Error::UnsupportedProtocol(_) => SocketError::SslHandshakeFailedError,
            Error::Tls(_) => SocketError::SslInternalError,
            Error::InvalidState { .. } => SocketError::OperationError,
            Error::Io(_) | Error::File { .. } => SocketError::NetworkError,
            Error::NoUsableCipher { .. }
            | Error::NoUsableKeyExchangeGroup { .. }
            | Error::KeyUnusableForTls { .. }
            | Error::KeyDoesNotMatchCertificate
            | Error::InvalidAlpnProtocol(_)
            | Error::InvalidPeerName { .. } => SocketError::SslInvalidUserDataError,
            _ => SocketError::UnknownSocketError,
        }
    }
}
