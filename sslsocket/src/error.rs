//! Errors: Qt's certificate verification errors ([`SslError`]) and the
//! crate's own [`Error`] for everything else that can go wrong.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::certificate_value::SslCertificate;
use crate::ssl::{KeyAlgorithm, SslProtocol};

qt_enum! {
    /// What is wrong with a peer's certificate chain (`QSslError::SslError`),
    /// with Qt's numbers. [`SslErrorCode::message`] gives Qt's English text.
    pub enum SslErrorCode: "certificate error" {
        /// No error.
        NoError = 0,
        /// The issuer of a certificate in the chain could not be found.
        UnableToGetIssuerCertificate = 1,
        /// A certificate's signature could not be decrypted.
        UnableToDecryptCertificateSignature = 2,
        /// The issuer's public key could not be read.
        UnableToDecodeIssuerPublicKey = 3,
        /// A certificate's signature does not verify against its issuer's key.
        CertificateSignatureFailed = 4,
        /// A certificate's validity starts in the future.
        CertificateNotYetValid = 5,
        /// A certificate's validity has ended.
        CertificateExpired = 6,
        /// A certificate's notBefore field is malformed.
        InvalidNotBeforeField = 7,
        /// A certificate's notAfter field is malformed.
        InvalidNotAfterField = 8,
        /// The leaf is self-signed and not trusted.
        SelfSignedCertificate = 9,
        /// The chain ends at a self-signed root that is not trusted.
        SelfSignedCertificateInChain = 10,
        /// The issuer of a certificate is not among the trusted or supplied ones.
        UnableToGetLocalIssuerCertificate = 11,
        /// Not even the first certificate could be verified.
        UnableToVerifyFirstCertificate = 12,
        /// A certificate has been revoked.
        CertificateRevoked = 13,
        /// An issuing certificate is not a valid CA certificate.
        InvalidCaCertificate = 14,
        /// A CA's basicConstraints path length was exceeded.
        PathLengthExceeded = 15,
        /// A certificate may not be used for this purpose (extended key usage).
        InvalidPurpose = 16,
        /// The root CA is not trusted for this purpose.
        CertificateUntrusted = 17,
        /// The root CA is marked to reject this purpose.
        CertificateRejected = 18,
        /// The candidate issuer's subject does not match the certificate's issuer.
        SubjectIssuerMismatch = 19,
        /// The candidate issuer does not match the authority key identifier.
        AuthorityIssuerSerialNumberMismatch = 20,
        /// The peer sent no certificate.
        NoPeerCertificate = 21,
        /// The certificate is not valid for the name the peer was reached by.
        HostNameMismatch = 22,
        /// TLS is not available.
        NoSslSupport = 23,
        /// The certificate is on a block list.
        CertificateBlacklisted = 24,
        /// The certificate's revocation status could not be established.
        CertificateStatusUnknown = 25,
        /// No OCSP status response was found.
        OcspNoResponseFound = 26,
        /// The OCSP request was malformed.
        OcspMalformedRequest = 27,
        /// The OCSP response was malformed.
        OcspMalformedResponse = 28,
        /// The OCSP responder had an internal error.
        OcspInternalError = 29,
        /// The OCSP responder asked to try later.
        OcspTryLater = 30,
        /// The OCSP responder requires a signed request.
        OcspSigRequred = 31,
        /// The client may not query this OCSP responder.
        OcspUnauthorized = 32,
        /// The OCSP responder's identity cannot be verified.
        OcspResponseCannotBeTrusted = 33,
        /// The OCSP response names an unknown certificate.
        OcspResponseCertIdUnknown = 34,
        /// The OCSP response has expired.
        OcspResponseExpired = 35,
        /// The OCSP status of the certificate is unknown.
        OcspStatusUnknown = 36,
        /// Any other problem, including a chain longer than the peer verify depth.
        UnspecifiedError = -1,
    }
}

impl SslErrorCode {
    /// Qt's English message for this code, word for word, so that programs
    /// and logs that match on Qt's texts keep working.
    pub const fn message(self) -> &'static str {
        use SslErrorCode::*;
        match self {
            NoError => "No error",
            UnableToGetIssuerCertificate => "The issuer certificate could not be found",
            UnableToDecryptCertificateSignature => "The certificate signature could not be decrypted",
            UnableToDecodeIssuerPublicKey => "The public key in the certificate could not be read",
            CertificateSignatureFailed => "The signature of the certificate is invalid",
            CertificateNotYetValid => "The certificate is not yet valid",
            CertificateExpired => "The certificate has expired",
            InvalidNotBeforeField => "The certificate's notBefore field contains an invalid time",
            InvalidNotAfterField => "The certificate's notAfter field contains an invalid time",
            SelfSignedCertificate => "The certificate is self-signed, and untrusted",
            SelfSignedCertificateInChain => {
                "The root certificate of the certificate chain is self-signed, and untrusted"
            }
            UnableToGetLocalIssuerCertificate => {
                "The issuer certificate of a locally looked up certificate could not be found"
            }
            UnableToVerifyFirstCertificate => "No certificates could be verified",
            CertificateRevoked => "The certificate has been revoked",
            InvalidCaCertificate => "One of the CA certificates is invalid",
            PathLengthExceeded => "The basicConstraints path length parameter has been exceeded",
            InvalidPurpose => "The supplied certificate is unsuitable for this purpose",
            CertificateUntrusted => "The root CA certificate is not trusted for this purpose",
            CertificateRejected => "The root CA certificate is marked to reject the specified purpose",
            SubjectIssuerMismatch => {
                "The current candidate issuer certificate was rejected because its subject name did not match the issuer name of the current certificate"
            }
            AuthorityIssuerSerialNumberMismatch => {
                "The current candidate issuer certificate was rejected because its issuer name and serial number was present and did not match the authority key identifier of the current certificate"
            }
            NoPeerCertificate => "The peer did not present any certificate",
            HostNameMismatch => "The host name did not match any of the valid hosts for this certificate",
            NoSslSupport => "No SSL support",
            CertificateBlacklisted => "The peer certificate is blacklisted",
            CertificateStatusUnknown => "The certificate's status is unknown",
            OcspNoResponseFound => "No OCSP status response found",
            OcspMalformedRequest => "The OCSP status request had invalid syntax",
            OcspMalformedResponse => {
                "OCSP response contains an unexpected number of SingleResponse structures"
            }
            OcspInternalError => "OCSP responder reached an inconsistent internal state",
            OcspTryLater => "OCSP responder was unable to return a status for the requested certificate",
            OcspSigRequred => {
                "The server requires the client to sign the OCSP request in order to construct a response"
            }
            OcspUnauthorized => "The client is not authorized to request OCSP status from this server",
            OcspResponseCannotBeTrusted => "OCSP responder's identity cannot be verified",
            OcspResponseCertIdUnknown => {
                "The identity of a certificate in an OCSP response cannot be established"
            }
            OcspResponseExpired => "The certificate status response has expired",
            OcspStatusUnknown => "The certificate's status is unknown",
            UnspecifiedError => "Unknown error",
        }
    }
}

/// One problem with a peer's certificate chain (`QSslError`): a code and the
/// certificate it concerns.
///
/// Two errors are equal when their codes and certificates are equal, which is
/// what makes a certificate-bound ignore list work: ignoring
/// `SelfSignedCertificate` for one certificate does not ignore it for another.
#[derive(Debug, Clone)]
pub struct SslError {
    code: SslErrorCode,
    certificate: Option<SslCertificate>,
    detail: Option<String>,
}

impl SslError {
    /// An error with no certificate attached.
    pub fn new(code: SslErrorCode) -> SslError {
        SslError {
            code,
            certificate: None,
            detail: None,
        }
    }

    /// An error about `certificate`.
    pub fn with_certificate(code: SslErrorCode, certificate: SslCertificate) -> SslError {
        SslError {
            code,
            certificate: Some(certificate),
            detail: None,
        }
    }

    /// Attaches a more precise explanation (e.g. the verifier's own reason for
    /// an `UnspecifiedError`). The detail is not part of equality.
    pub fn with_detail(mut self, detail: impl Into<String>) -> SslError {
        self.detail = Some(detail.into());
        self
    }

    /// The kind of error (`QSslError::error()`).
    pub fn code(&self) -> SslErrorCode {
        self.code
    }

    /// Qt's message for the code (`QSslError::errorString()`).
    pub fn error_string(&self) -> &'static str {
        self.code.message()
    }

    /// The certificate the error concerns, if any (`QSslError::certificate()`).
    pub fn certificate(&self) -> Option<&SslCertificate> {
        self.certificate.as_ref()
    }

    /// The extra explanation attached with [`SslError::with_detail`], if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl PartialEq for SslError {
    fn eq(&self, other: &SslError) -> bool {
        self.code == other.code && self.certificate == other.certificate
    }
}

impl Eq for SslError {}

impl std::hash::Hash for SslError {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code.hash(state);
        self.certificate.hash(state);
    }
}

impl fmt::Display for SslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.message())?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for SslError {}

/// Everything that can go wrong in this crate, apart from the per-certificate
/// verification results, which are [`SslError`] values.
///
/// Each variant says what was wrong and, where it helps, what to do about it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    File {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// An I/O operation failed.
    Io(io::Error),
    /// The input holds no certificate at all (e.g. an empty file, or PEM
    /// blocks of another kind only).
    NoCertificate,
    /// The input looks like a certificate but cannot be parsed.
    InvalidCertificate {
        /// What the parser found wrong.
        reason: String,
    },
    /// The input holds no certificate revocation list.
    NoCrl,
    /// The input looks like a certificate revocation list but webpki cannot
    /// read it (webpki takes version 2 lists with a nextUpdate, no delta
    /// lists).
    InvalidCrl {
        /// What is wrong with it.
        reason: String,
    },
    /// The input holds no key of the expected kind.
    NoKey,
    /// The input looks like a key but cannot be parsed.
    InvalidKey {
        /// What the parser found wrong.
        reason: String,
    },
    /// The key is encrypted and no passphrase was given.
    KeyEncrypted,
    /// The passphrase does not decrypt the key.
    WrongPassphrase,
    /// The key is encrypted with a cipher or key-derivation scheme this
    /// library does not implement.
    UnsupportedKeyEncryption {
        /// The scheme, as named in the input.
        scheme: String,
    },
    /// The key's algorithm is not the one the caller asked for.
    KeyAlgorithmMismatch {
        /// The algorithm the caller asked for.
        expected: KeyAlgorithm,
        /// The algorithm of the key that was found.
        found: KeyAlgorithm,
    },
    /// The key uses an algorithm or curve this library cannot handle.
    UnsupportedKey {
        /// What is unsupported, e.g. "EC curve secp256k1".
        what: String,
    },
    /// The key cannot be used to sign TLS handshakes (e.g. a DSA key, or a
    /// public key where a private key is needed).
    KeyUnusableForTls {
        /// Why not.
        reason: String,
    },
    /// The private key does not belong to the local certificate.
    KeyDoesNotMatchCertificate,
    /// One or more cipher names are not supported ciphers.
    UnknownCiphers {
        /// The names that were not recognised.
        names: Vec<String>,
    },
    /// A name (of a protocol, verify mode, error, ...) is not one Qt knows.
    UnknownName {
        /// What kind of name it was meant to be.
        what: &'static str,
        /// The name given.
        name: String,
        /// The names that would have been accepted.
        expected: Vec<&'static str>,
    },
    /// A list given as text (of ciphers, of key-exchange groups) names
    /// nothing: it is empty or only separators and spaces.
    EmptyList {
        /// What the list was meant to name.
        what: &'static str,
    },
    /// A path pattern for `from_path` is not a valid pattern.
    InvalidPattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An ALPN protocol name is empty or longer than 255 bytes.
    InvalidAlpnProtocol(Vec<u8>),
    /// The configured protocol cannot be negotiated (SSLv2, SSLv3, TLS 1.0,
    /// TLS 1.1, DTLS), so no handshake is attempted.
    UnsupportedProtocol(SslProtocol),
    /// None of the configured ciphers can be used with the configured protocol.
    NoUsableCipher {
        /// The configured protocol.
        protocol: SslProtocol,
    },
    /// None of the configured key-exchange groups can be used with the
    /// configured protocol versions (the post-quantum groups need TLS 1.3).
    NoUsableKeyExchangeGroup {
        /// The configured protocol.
        protocol: SslProtocol,
    },
    /// An operation was asked of a socket in a state that does not allow it
    /// (e.g. starting encryption on an unconnected socket).
    InvalidState {
        /// What was asked.
        operation: &'static str,
        /// Why it cannot be done now.
        reason: String,
    },
    /// The name to verify the peer against is neither a valid host name
    /// nor an IP address.
    InvalidPeerName {
        /// The name given.
        name: String,
    },
    /// The host name could not be resolved.
    HostNotFound {
        /// The name looked up.
        host: String,
        /// What the resolver said, if anything.
        source: Option<io::Error>,
    },
    /// No connection could be made to any address of the host.
    ConnectFailed {
        /// The host and port connected to.
        target: String,
        /// The error for the last address tried.
        source: io::Error,
    },
    /// The operation did not finish in the time given.
    Timeout {
        /// What was being waited for.
        operation: &'static str,
    },
    /// A server dropped a client whose handshake had not received a
    /// complete ClientHello, to make room for a new client: it was at its
    /// limit of concurrent handshakes, and this was the oldest such one.
    HandshakeEvicted,
    /// The peer closed the connection before the operation could finish
    /// (e.g. in the middle of the handshake).
    RemoteHostClosed,
    /// The peer's certificate was rejected: the list says why, in Qt's terms
    /// (none of the errors was ignored, or a handler aborted).
    VerificationFailed {
        /// Every error found in the peer's certificate chain.
        errors: Vec<SslError>,
    },
    /// The TLS handshake failed for a reason other than the peer's
    /// certificate: no common protocol or cipher, an alert from the peer, a
    /// peer that does not speak TLS.
    HandshakeFailed(rustls::Error),
    /// The TLS library rejected the configuration or the connection.
    Tls(rustls::Error),
    /// A known-hosts file ([`KnownHosts`](crate::KnownHosts)) could not be
    /// read: a malformed line, or a file too large.
    InvalidKnownHosts {
        /// The file.
        path: PathBuf,
        /// The line, from 1 (0 for the whole file).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A peer presented another certificate than the one pinned for it in
    /// a known-hosts file ([`KnownHosts::check`](crate::KnownHosts::check)),
    /// whether or not the new one would verify.
    PinnedCertificateChanged {
        /// The peer, as `host:port`.
        peer: String,
        /// The known-hosts file.
        file: PathBuf,
        /// The SHA-256 of the pinned certificate, colon hex.
        pinned: String,
        /// The SHA-256 of the certificate presented, colon hex.
        presented: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::File { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::NoCertificate => f.write_str("no certificate found in the input"),
            Error::InvalidCertificate { reason } => write!(f, "invalid certificate: {reason}"),
            Error::NoCrl => f.write_str("no certificate revocation list found in the input"),
            Error::InvalidCrl { reason } => {
                write!(f, "invalid certificate revocation list: {reason}")
            }
            Error::NoKey => f.write_str("no key found in the input"),
            Error::InvalidKey { reason } => write!(f, "invalid key: {reason}"),
            Error::KeyEncrypted => f.write_str("the key is encrypted: pass a passphrase"),
            Error::WrongPassphrase => f.write_str("the passphrase does not decrypt the key"),
            Error::UnsupportedKeyEncryption { scheme } => {
                write!(
                    f,
                    "the key is encrypted with {scheme}, which is not supported"
                )
            }
            Error::KeyAlgorithmMismatch { expected, found } => {
                write!(f, "expected a {expected} key but found a {found} key")
            }
            Error::UnsupportedKey { what } => write!(f, "unsupported key: {what}"),
            Error::KeyUnusableForTls { reason } => {
                write!(f, "the key cannot be used for TLS: {reason}")
            }
            Error::KeyDoesNotMatchCertificate => {
                f.write_str("the private key does not match the local certificate's public key")
            }
            Error::UnknownCiphers { names } => {
                let plural = if names.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "unknown cipher{plural}: {} (run `sslsocket ciphers` for the supported names)",
                    names.join(", ")
                )
            }
            Error::UnknownName {
                what,
                name,
                expected,
            } => {
                write!(
                    f,
                    "unknown {what} '{name}'; expected one of: {}",
                    expected.join(", ")
                )
            }
            Error::EmptyList { what } => {
                write!(f, "the list of {what} names none; give at least one")
            }
            Error::InvalidPattern { pattern, reason } => {
                write!(f, "invalid path pattern '{pattern}': {reason}")
            }
            Error::InvalidAlpnProtocol(name) => write!(
                f,
                "ALPN protocol names must be 1 to 255 bytes long; got {} bytes",
                name.len()
            ),
            Error::UnsupportedProtocol(protocol) => write!(
                f,
                "unsupported protocol {protocol}: only TLS 1.2 and TLS 1.3 can be negotiated \
                 (SSL 2/3 and TLS 1.0/1.1 are insecure and refused)"
            ),
            Error::NoUsableCipher { protocol } => write!(
                f,
                "none of the configured ciphers can be used with {protocol}; add ciphers of that protocol version"
            ),
            Error::NoUsableKeyExchangeGroup { protocol } => write!(
                f,
                "none of the configured key exchange groups can be used with {protocol} \
                 (post-quantum groups need TLS 1.3); add X25519, P-256 or P-384"
            ),
            Error::InvalidState { operation, reason } => write!(f, "cannot {operation}: {reason}"),
            Error::InvalidPeerName { name } => {
                write!(f, "'{name}' is not a valid host name or IP address to verify the peer against")
            }
            Error::HostNotFound { host, source } => match source {
                Some(e) => write!(f, "host {host} not found: {e}"),
                None => write!(f, "host {host} not found"),
            },
            Error::ConnectFailed { target, source } => write!(f, "cannot connect to {target}: {source}"),
            Error::Timeout { operation } => write!(f, "timed out while {operation}"),
            Error::HandshakeEvicted => f.write_str(
                "dropped before its ClientHello was complete: the server was at its limit of \
                 concurrent handshakes, and the oldest such client makes room for a new one",
            ),
            Error::RemoteHostClosed => f.write_str("the remote host closed the connection"),
            Error::VerificationFailed { errors } => {
                f.write_str("the peer's certificate was rejected")?;
                for (n, e) in errors.iter().enumerate() {
                    write!(f, "{} {} ({})", if n == 0 { ":" } else { ";" }, e, e.code())?;
                }
                Ok(())
            }
            Error::HandshakeFailed(e) => write!(f, "the TLS handshake failed: {e}"),
            Error::Tls(e) => write!(f, "TLS error: {e}"),
            Error::InvalidKnownHosts { path, line, reason } => {
                write!(f, "{}:{line}: invalid known-hosts line: {reason}", path.display())
            }
            Error::PinnedCertificateChanged {
                peer,
                file,
                pinned,
                presented,
            } => write!(
                f,
                "THE CERTIFICATE OF {peer} HAS CHANGED since it was pinned: someone may be \
                 intercepting the connection, or the server got a new certificate.\n  \
                 pinned:    SHA-256 {pinned}\n  \
                 presented: SHA-256 {presented}\n\
                 The connection was refused. If the change is expected, remove the line for \
                 {peer} from {}.",
                file.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::File { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            Error::Tls(e) | Error::HandshakeFailed(e) => Some(e),
            Error::HostNotFound {
                source: Some(e), ..
            }
            | Error::ConnectFailed { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<Error> for io::Error {
    /// Keeps the kinds `std::io` users match on: timeouts, closed
    /// connections, refused connections.
    fn from(e: Error) -> Self {
        if let Error::Io(inner) = e {
            return inner;
        }
        let kind = match &e {
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            Error::RemoteHostClosed | Error::HandshakeEvicted => io::ErrorKind::ConnectionAborted,
            Error::ConnectFailed { source, .. } => source.kind(),
            Error::HostNotFound { .. } => io::ErrorKind::NotFound,
            Error::InvalidState { .. } => io::ErrorKind::NotConnected,
            Error::VerificationFailed { .. }
            | Error::HandshakeFailed(_)
            | Error::Tls(_)
            | Error::PinnedCertificateChanged { .. } => io::ErrorKind::InvalidData,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

impl Error {
    /// Wraps a file error with the path it concerns.
    pub(crate) fn file(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::File {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qt_numbers_and_messages() {
        assert_eq!(SslErrorCode::HostNameMismatch.value(), 22);
        assert_eq!(SslErrorCode::CertificateBlacklisted.value(), 24);
        assert_eq!(SslErrorCode::UnspecifiedError.value(), -1);
        assert_eq!(
            SslErrorCode::from_value(9),
            Some(SslErrorCode::SelfSignedCertificate)
        );
        assert_eq!(
            SslErrorCode::CertificateExpired.message(),
            "The certificate has expired"
        );
        assert_eq!(
            SslErrorCode::SelfSignedCertificate.message(),
            "The certificate is self-signed, and untrusted"
        );
        for code in SslErrorCode::ALL {
            assert!(!code.message().is_empty(), "{code} has no message");
        }
    }

    #[test]
    fn detail_is_not_part_of_equality() {
        let plain = SslError::new(SslErrorCode::UnspecifiedError);
        let detailed = plain.clone().with_detail("webpki said no");
        assert_eq!(plain, detailed);
        assert_eq!(detailed.to_string(), "Unknown error (webpki said no)");
    }

    #[test]
    fn messages_say_what_to_do() {
        assert_eq!(
            Error::KeyEncrypted.to_string(),
            "the key is encrypted: pass a passphrase"
        );
        let e = Error::UnknownCiphers {
            names: vec!["RC4-MD5".into()],
        };
        assert!(e.to_string().contains("RC4-MD5"));
        let io: io::Error = Error::WrongPassphrase.into();
        assert_eq!(io.kind(), io::ErrorKind::Other);
    }
}
