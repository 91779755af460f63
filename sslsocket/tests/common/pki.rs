//! The project's run-time test PKI ([`sslsocket_test_pki`]), and its
//! certificates as the library reads them.

use sslsocket::SslCertificate;
pub use sslsocket_test_pki::*;

/// A test identity's certificate as an [`SslCertificate`].
pub trait AsSslCertificate {
    /// The certificate, parsed by the library.
    fn certificate(&self) -> SslCertificate;
}

impl AsSslCertificate for Identity {
    fn certificate(&self) -> SslCertificate {
        SslCertificate::from_der(self.der()).expect("rcgen certificate parses")
    }
}
