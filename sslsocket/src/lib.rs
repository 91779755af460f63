//! sslsocket: Qt's `QSslSocket` model on rustls.
//!
//! (Tutorial to be written.)

#[macro_use]
mod qt_enum;

pub mod certificate;
pub mod cipher;
pub mod error;
pub mod key;
pub mod ssl;

pub use certificate::SslCertificate;
pub use error::{Error, Result, SslError, SslErrorCode};
pub use key::SslKey;
pub use ssl::{
    AlertLevel, AlertType, AlternativeNameEntryType, EncodingFormat, KeyAlgorithm, KeyType,
    PeerVerifyMode, SslMode, SslOption, SslOptions, SslProtocol, TlsVersion,
};
