//! Keys (placeholder until the key module lands).

/// A private or public key (`QSslKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslKey {
    der: Vec<u8>,
}
