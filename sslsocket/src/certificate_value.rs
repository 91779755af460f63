//! The certificate value: the DER bytes of a certificate that parsed when it
//! was made. It sits below the crate's errors (which carry certificates in
//! Qt's error lists); reading and inspecting certificates, which can fail,
//! is the `certificate` module's.

use std::sync::Arc;

/// An X.509 certificate (`QSslCertificate`).
///
/// Cloning is cheap (the DER bytes are shared). Two certificates are equal,
/// and hash alike, when their DER encodings are identical.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SslCertificate {
    der: Arc<[u8]>,
}

impl SslCertificate {
    /// Wraps `der`, which the caller checked to be exactly one certificate.
    pub(crate) fn from_checked_der(der: &[u8]) -> SslCertificate {
        SslCertificate { der: der.into() }
    }

    /// The certificate's DER encoding.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }
}

impl AsRef<[u8]> for SslCertificate {
    /// The DER encoding.
    fn as_ref(&self) -> &[u8] {
        &self.der
    }
}
