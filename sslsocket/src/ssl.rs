//! The `QSsl` namespace: the enums shared by every part of the library.
//!
//! Every enum keeps Qt's numeric values (see `value()` / `from_value()` where Qt
//! gives numbers), so code ported from Qt can keep storing and comparing them.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Not};

qt_enum! {
    /// A TLS protocol version, or a set of versions (`QSsl::SslProtocol`).
    ///
    /// rustls negotiates TLS 1.2 and TLS 1.3 only. The insecure values (SSLv2,
    /// SSLv3, TLS 1.0, TLS 1.1) are kept so that ported code compiles, but a
    /// handshake that asks for them is refused with
    /// [`Error::UnsupportedProtocol`](crate::Error::UnsupportedProtocol).
    #[derive(Default)]
    pub enum SslProtocol: "protocol" {
        /// SSL 3.0. Insecure; refused.
        SslV3 = 0,
        /// SSL 2.0. Insecure; refused.
        SslV2 = 1,
        /// TLS 1.0 (Qt 4's `TlsV1`). Insecure; refused.
        TlsV1 = 2,
        /// Every version this library supports: TLS 1.2 and TLS 1.3.
        AnyProtocol = 3,
        /// Qt 4's "TLS 1.0 or SSL 3"; here, like `AnyProtocol`, TLS 1.2 and 1.3.
        TlsV1SslV3 = 4,
        /// The default: protocols known to be secure, TLS 1.2 or later.
        #[default]
        SecureProtocols = 5,
        /// TLS 1.0 (Qt 5's spelling). Insecure; refused.
        TlsV1_0 = 6,
        /// TLS 1.1. Insecure; refused.
        TlsV1_1 = 7,
        /// TLS 1.2 only.
        TlsV1_2 = 8,
        /// TLS 1.0 or later; here TLS 1.2 and 1.3, since older versions are never negotiated.
        TlsV1_0OrLater = 9,
        /// TLS 1.1 or later; here TLS 1.2 and 1.3.
        TlsV1_1OrLater = 10,
        /// TLS 1.2 or later.
        TlsV1_2OrLater = 11,
        /// DTLS 1.0. Datagram TLS is not supported; refused.
        DtlsV1_0 = 12,
        /// DTLS 1.0 or later. Datagram TLS is not supported; refused.
        DtlsV1_0OrLater = 13,
        /// DTLS 1.2. Datagram TLS is not supported; refused.
        DtlsV1_2 = 14,
        /// DTLS 1.2 or later. Datagram TLS is not supported; refused.
        DtlsV1_2OrLater = 15,
        /// TLS 1.3 only.
        TlsV1_3 = 16,
        /// TLS 1.3 or later.
        TlsV1_3OrLater = 17,
        /// The protocol could not be determined (e.g. of a cipher or a session
        /// that was never established).
        UnknownProtocol = -1,
    }
}

/// A concrete TLS version that this library can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsVersion {
    /// The `SslProtocol` value Qt reports for a session of this version.
    pub const fn protocol(self) -> SslProtocol {
        match self {
            TlsVersion::Tls12 => SslProtocol::TlsV1_2,
            TlsVersion::Tls13 => SslProtocol::TlsV1_3,
        }
    }
}

impl SslProtocol {
    /// The TLS versions a socket configured with this value may negotiate.
    ///
    /// Returns `None` for values that name only insecure or unsupported
    /// versions (SSLv2, SSLv3, TLS 1.0, TLS 1.1, DTLS, `UnknownProtocol`); a
    /// handshake with such a value is refused.
    pub const fn negotiable_versions(self) -> Option<&'static [TlsVersion]> {
        const BOTH: &[TlsVersion] = &[TlsVersion::Tls12, TlsVersion::Tls13];
        match self {
            SslProtocol::AnyProtocol
            | SslProtocol::TlsV1SslV3
            | SslProtocol::SecureProtocols
            | SslProtocol::TlsV1_0OrLater
            | SslProtocol::TlsV1_1OrLater
            | SslProtocol::TlsV1_2OrLater => Some(BOTH),
            SslProtocol::TlsV1_2 => Some(&[TlsVersion::Tls12]),
            SslProtocol::TlsV1_3 | SslProtocol::TlsV1_3OrLater => Some(&[TlsVersion::Tls13]),
            SslProtocol::SslV3
            | SslProtocol::SslV2
            | SslProtocol::TlsV1
            | SslProtocol::TlsV1_0
            | SslProtocol::TlsV1_1
            | SslProtocol::DtlsV1_0
            | SslProtocol::DtlsV1_0OrLater
            | SslProtocol::DtlsV1_2
            | SslProtocol::DtlsV1_2OrLater
            | SslProtocol::UnknownProtocol => None,
        }
    }

    /// True when a handshake with this value can succeed.
    pub const fn is_supported(self) -> bool {
        self.negotiable_versions().is_some()
    }
}

qt_enum! {
    /// One option flag (`QSsl::SslOption`); combine them in [`SslOptions`].
    pub enum SslOption: "option" {
        /// Do not insert empty fragments before CBC records. rustls never uses
        /// CBC, so this flag has no effect.
        SslOptionDisableEmptyFragments = 0x01,
        /// Do not use session tickets (RFC 5077 / TLS 1.3 tickets); resumption
        /// then relies on server-side session IDs in TLS 1.2 only.
        SslOptionDisableSessionTickets = 0x02,
        /// Disable TLS compression. rustls never compresses, so this flag has
        /// no effect.
        SslOptionDisableCompression = 0x04,
        /// Do not send the Server Name Indication extension.
        SslOptionDisableServerNameIndication = 0x08,
        /// Disable legacy renegotiation. rustls never renegotiates, so this
        /// flag has no effect.
        SslOptionDisableLegacyRenegotiation = 0x10,
        /// Do not share sessions between sockets made from the same configuration.
        SslOptionDisableSessionSharing = 0x20,
        /// Do not keep session data in the configuration after the handshake.
        SslOptionDisableSessionPersistence = 0x40,
        /// As a server, follow the client's cipher preference instead of ours.
        SslOptionDisableServerCipherPreference = 0x80,
    }
}

/// A set of [`SslOption`] flags (`QSsl::SslOptions`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SslOptions(u32);

impl SslOptions {
    /// No option set.
    pub const NONE: SslOptions = SslOptions(0);

    /// Qt's default: `DisableEmptyFragments | DisableLegacyRenegotiation |
    /// DisableCompression`.
    pub const DEFAULT: SslOptions = SslOptions(0x01 | 0x10 | 0x04);

    /// The flags as Qt's bit mask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The set with exactly the flags in `bits`; unknown bits are dropped.
    pub const fn from_bits_truncate(bits: u32) -> SslOptions {
        SslOptions(bits & 0xff)
    }

    /// True when `option` is set.
    pub const fn contains(self, option: SslOption) -> bool {
        self.0 & option.value() as u32 != 0
    }

    /// Sets or clears `option`.
    pub fn set(&mut self, option: SslOption, on: bool) {
        if on {
            self.0 |= option.value() as u32;
        } else {
            self.0 &= !(option.value() as u32);
        }
    }

    /// The options that are set, in Qt's bit order.
    pub fn iter(self) -> impl Iterator<Item = SslOption> {
        SslOption::ALL
            .iter()
            .copied()
            .filter(move |o| self.contains(*o))
    }
}

impl Default for SslOptions {
    fn default() -> Self {
        SslOptions::DEFAULT
    }
}

impl fmt::Debug for SslOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl From<SslOption> for SslOptions {
    fn from(option: SslOption) -> Self {
        SslOptions(option.value() as u32)
    }
}

impl BitOr for SslOption {
    type Output = SslOptions;
    fn bitor(self, rhs: SslOption) -> SslOptions {
        SslOptions::from(self) | rhs
    }
}

impl<T: Into<SslOptions>> BitOr<T> for SslOptions {
    type Output = SslOptions;
    fn bitor(self, rhs: T) -> SslOptions {
        SslOptions(self.0 | rhs.into().0)
    }
}

impl<T: Into<SslOptions>> BitOrAssign<T> for SslOptions {
    fn bitor_assign(&mut self, rhs: T) {
        self.0 |= rhs.into().0;
    }
}

impl<T: Into<SslOptions>> BitAnd<T> for SslOptions {
    type Output = SslOptions;
    fn bitand(self, rhs: T) -> SslOptions {
        SslOptions(self.0 & rhs.into().0)
    }
}

impl Not for SslOptions {
    type Output = SslOptions;
    fn not(self) -> SslOptions {
        SslOptions(!self.0 & 0xff)
    }
}

qt_enum! {
    /// How certificates and keys are encoded (`QSsl::EncodingFormat`).
    #[derive(Default)]
    pub enum EncodingFormat: "encoding format" {
        /// Base64 text between `-----BEGIN ...-----` lines.
        #[default]
        Pem = 0,
        /// Binary ASN.1 DER.
        Der = 1,
    }
}

qt_enum! {
    /// A public-key algorithm (`QSsl::KeyAlgorithm`).
    ///
    /// The numbers of `Rsa`, `Dsa`, `Ec`, `Opaque` and `Dh` are Qt's;
    /// `Ed25519` is an addition of this library.
    pub enum KeyAlgorithm: "key algorithm" {
        /// A key whose algorithm is handled outside this library.
        Opaque = 0,
        /// RSA.
        Rsa = 1,
        /// DSA. Loads and reports its properties; TLS cannot sign with it here.
        Dsa = 2,
        /// Elliptic-curve keys on NIST P-256, P-384 or P-521.
        Ec = 3,
        /// Diffie-Hellman parameters; recognised, but no operation uses them.
        Dh = 4,
        /// Ed25519 (RFC 8032).
        Ed25519 = 5,
    }
}

qt_enum! {
    /// Whether a key is private or public (`QSsl::KeyType`).
    #[derive(Default)]
    pub enum KeyType: "key type" {
        /// A private key (which also holds its public half).
        #[default]
        PrivateKey = 0,
        /// A public key.
        PublicKey = 1,
    }
}

qt_enum! {
    /// The kind of a subject alternative name (`QSsl::AlternativeNameEntryType`).
    pub enum AlternativeNameEntryType: "alternative name type" {
        /// An e-mail address (rfc822Name).
        EmailEntry = 0,
        /// A DNS host name, possibly with a wildcard.
        DnsEntry = 1,
        /// An IPv4 or IPv6 address.
        IpAddressEntry = 2,
    }
}

qt_enum! {
    /// How a socket verifies its peer (`QSslSocket::PeerVerifyMode`).
    #[derive(Default)]
    pub enum PeerVerifyMode: "peer verify mode" {
        /// Ask for no certificate (servers) and treat chain errors as
        /// information only (clients).
        VerifyNone = 0,
        /// Ask for the peer's certificate and report its errors, but never
        /// fail the handshake because of them.
        QueryPeer = 1,
        /// Require a valid peer certificate; any error not ignored aborts the handshake.
        VerifyPeer = 2,
        /// `VerifyPeer` for a client socket, `QueryPeer` for a server socket.
        #[default]
        AutoVerifyPeer = 3,
    }
}

impl PeerVerifyMode {
    /// The mode in effect for a socket in `mode`: resolves `AutoVerifyPeer`.
    pub const fn effective(self, mode: SslMode) -> PeerVerifyMode {
        match (self, mode) {
            (PeerVerifyMode::AutoVerifyPeer, SslMode::SslServerMode) => PeerVerifyMode::QueryPeer,
            (PeerVerifyMode::AutoVerifyPeer, _) => PeerVerifyMode::VerifyPeer,
            (other, _) => other,
        }
    }
}

qt_enum! {
    /// Which side of TLS a socket plays (`QSslSocket::SslMode`).
    #[derive(Default)]
    pub enum SslMode: "mode" {
        /// No TLS: the socket behaves as a plain TCP socket.
        #[default]
        UnencryptedMode = 0,
        /// The socket is, or is becoming, a TLS client.
        SslClientMode = 1,
        /// The socket is, or is becoming, a TLS server.
        SslServerMode = 2,
    }
}

qt_enum! {
    /// The level of a TLS alert (`QSsl::AlertLevel`).
    pub enum AlertLevel: "alert level" {
        /// A warning; the connection may continue.
        Warning = 0,
        /// A fatal alert; the connection ends.
        Fatal = 1,
        /// A level this library does not know.
        Unknown = 2,
    }
}

qt_enum! {
    /// The description of a TLS alert (`QSsl::AlertType`); the numbers are the
    /// protocol's alert codes (RFC 8446, section 6).
    pub enum AlertType: "alert type" {
        /// close_notify: the peer finished sending.
        CloseNotify = 0,
        /// unexpected_message.
        UnexpectedMessage = 10,
        /// bad_record_mac.
        BadRecordMac = 20,
        /// record_overflow.
        RecordOverflow = 22,
        /// decompression_failure (TLS 1.2 and earlier).
        DecompressionFailure = 30,
        /// handshake_failure.
        HandshakeFailure = 40,
        /// no_certificate (SSL 3 only).
        NoCertificate = 41,
        /// bad_certificate.
        BadCertificate = 42,
        /// unsupported_certificate.
        UnsupportedCertificate = 43,
        /// certificate_revoked.
        CertificateRevoked = 44,
        /// certificate_expired.
        CertificateExpired = 45,
        /// certificate_unknown.
        CertificateUnknown = 46,
        /// illegal_parameter.
        IllegalParameter = 47,
        /// unknown_ca.
        UnknownCa = 48,
        /// access_denied.
        AccessDenied = 49,
        /// decode_error.
        DecodeError = 50,
        /// decrypt_error.
        DecryptError = 51,
        /// export_restriction (obsolete).
        ExportRestriction = 60,
        /// protocol_version.
        ProtocolVersion = 70,
        /// insufficient_security.
        InsufficientSecurity = 71,
        /// internal_error.
        InternalError = 80,
        /// inappropriate_fallback.
        InappropriateFallback = 86,
        /// user_canceled.
        UserCancelled = 90,
        /// no_renegotiation.
        NoRenegotiation = 100,
        /// missing_extension.
        MissingExtension = 109,
        /// unsupported_extension.
        UnsupportedExtension = 110,
        /// certificate_unobtainable (obsolete).
        CertificateUnobtainable = 111,
        /// unrecognized_name.
        UnrecognizedName = 112,
        /// bad_certificate_status_response.
        BadCertificateStatusResponse = 113,
        /// bad_certificate_hash_value (obsolete).
        BadCertificateHashValue = 114,
        /// unknown_psk_identity.
        UnknownPskIdentity = 115,
        /// certificate_required.
        CertificateRequired = 116,
        /// no_application_protocol.
        NoApplicationProtocol = 120,
        /// An alert code this library does not know.
        UnknownAlertMessage = 255,
    }
}

impl AlertType {
    /// The alert for a protocol alert code; unknown codes map to `UnknownAlertMessage`.
    pub fn from_code(code: u8) -> AlertType {
        AlertType::from_value(i32::from(code)).unwrap_or(AlertType::UnknownAlertMessage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qt_numbers() {
        assert_eq!(SslProtocol::SslV3.value(), 0);
        assert_eq!(SslProtocol::SecureProtocols.value(), 5);
        assert_eq!(SslProtocol::UnknownProtocol.value(), -1);
        assert_eq!(SslProtocol::from_value(16), Some(SslProtocol::TlsV1_3));
        assert_eq!(
            SslOption::SslOptionDisableServerCipherPreference.value(),
            0x80
        );
        assert_eq!(PeerVerifyMode::AutoVerifyPeer.value(), 3);
        assert_eq!(SslMode::SslServerMode.value(), 2);
        assert_eq!(AlternativeNameEntryType::IpAddressEntry.value(), 2);
        assert_eq!(EncodingFormat::Der.value(), 1);
        assert_eq!(KeyType::PublicKey.value(), 1);
        assert_eq!(AlertType::from_code(42), AlertType::BadCertificate);
        assert_eq!(AlertType::from_code(7), AlertType::UnknownAlertMessage);
    }

    #[test]
    fn default_options_match_qt() {
        let options = SslOptions::default();
        assert_eq!(options.bits(), 0x15);
        assert!(options.contains(SslOption::SslOptionDisableEmptyFragments));
        assert!(options.contains(SslOption::SslOptionDisableCompression));
        assert!(options.contains(SslOption::SslOptionDisableLegacyRenegotiation));
        assert!(!options.contains(SslOption::SslOptionDisableSessionTickets));
        let more = options | SslOption::SslOptionDisableSessionTickets;
        assert_eq!(more.bits(), 0x17);
        let mut edited = more;
        edited.set(SslOption::SslOptionDisableSessionTickets, false);
        assert_eq!(edited, options);
        assert_eq!((!SslOptions::NONE).iter().count(), 8);
    }

    #[test]
    fn protocol_versions() {
        assert_eq!(
            SslProtocol::SecureProtocols.negotiable_versions(),
            Some(&[TlsVersion::Tls12, TlsVersion::Tls13][..])
        );
        assert_eq!(
            SslProtocol::TlsV1_3.negotiable_versions(),
            Some(&[TlsVersion::Tls13][..])
        );
        for insecure in [
            SslProtocol::SslV2,
            SslProtocol::SslV3,
            SslProtocol::TlsV1,
            SslProtocol::TlsV1_1,
        ] {
            assert!(!insecure.is_supported(), "{insecure} must be refused");
        }
        assert_eq!(SslProtocol::default(), SslProtocol::SecureProtocols);
    }

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!(
            "tlsv1_3".parse::<SslProtocol>().unwrap(),
            SslProtocol::TlsV1_3
        );
        assert_eq!(
            "VerifyNone".parse::<PeerVerifyMode>().unwrap(),
            PeerVerifyMode::VerifyNone
        );
        let err = "TlsV9".parse::<SslProtocol>().unwrap_err();
        assert!(err.to_string().contains("TlsV9"), "{err}");
    }

    #[test]
    fn auto_verify_resolves_per_side() {
        let auto = PeerVerifyMode::AutoVerifyPeer;
        assert_eq!(
            auto.effective(SslMode::SslClientMode),
            PeerVerifyMode::VerifyPeer
        );
        assert_eq!(
            auto.effective(SslMode::SslServerMode),
            PeerVerifyMode::QueryPeer
        );
        assert_eq!(
            PeerVerifyMode::VerifyNone.effective(SslMode::SslServerMode),
            PeerVerifyMode::VerifyNone
        );
    }
}
