//! X.509 certificates (placeholder until the certificate module lands).

use std::sync::Arc;

/// An X.509 certificate (`QSslCertificate`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SslCertificate {
    der: Arc<[u8]>,
}
