//! Reading certificate and key files given on the command line.

use std::path::Path;

use sslsocket::{EncodingFormat, SslCertificate};

/// The contents of `file` and their [encoding](encoding_of).
pub fn read_encoded(file: &Path) -> std::io::Result<(Vec<u8>, EncodingFormat)> {
    let data = std::fs::read(file)?;
    let format = encoding_of(&data);
    Ok((data, format))
}

/// PEM when `data` starts (after any whitespace) with PEM armour, else DER.
pub fn encoding_of(data: &[u8]) -> EncodingFormat {
    if data.trim_ascii_start().starts_with(b"-----BEGIN") {
        EncodingFormat::Pem
    } else {
        EncodingFormat::Der
    }
}

/// Every certificate in `file`: PEM (any number) or DER (one).
pub fn read_certificates(file: &Path) -> Result<Vec<SslCertificate>, sslsocket::Error> {
    let (data, format) = read_encoded(file)?;
    SslCertificate::from_data(&data, format)
}
