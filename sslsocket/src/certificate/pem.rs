//! Which PEM blocks are certificates, and how a damaged one is reported.
//!
//! The PEM reading itself is [`crate::pem`]'s. Here, blocks of other kinds
//! (keys, parameters) are skipped whatever their state, while a damaged
//! certificate block is an error that says which block it was.

use crate::error::{Error, Result};
use crate::pem;

/// Labels whose body is a DER certificate. "X509 CERTIFICATE" is the
/// pre-RFC 7468 spelling; "TRUSTED CERTIFICATE" is OpenSSL's certificate
/// followed by trust settings, of which we keep the certificate.
const CERTIFICATE_LABELS: &[&str] = &["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];

/// A certificate block found in PEM text.
pub(crate) struct Block {
    /// 1-based position among the certificate blocks, for error messages.
    pub(crate) number: usize,
    /// True for "TRUSTED CERTIFICATE", whose DER has trailing trust data.
    pub(crate) trusted: bool,
    pub(crate) der: Vec<u8>,
}

/// Finds and decodes every certificate block of `input`, in order.
pub(crate) fn certificate_blocks(input: &[u8]) -> Result<Vec<Block>> {
    pem::blocks(input)
        .into_iter()
        .filter(|block| CERTIFICATE_LABELS.contains(&block.label.as_str()))
        .enumerate()
        .map(|(index, block)| {
            let number = index + 1;
            match block.body {
                Ok(der) => Ok(Block {
                    number,
                    trusted: block.label == "TRUSTED CERTIFICATE",
                    der: der.to_vec(),
                }),
                Err(damage) => Err(Error::InvalidCertificate {
                    reason: format!("PEM certificate block {number} {damage}"),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_blocks_are_skipped_and_certificate_blocks_found() {
        let text = b"junk\n-----BEGIN PRIVATE KEY-----\n!!not base64!!\n-----END PRIVATE KEY-----\r\n\
            subject=CN = x\r\n-----BEGIN CERTIFICATE-----\r\nZm9v\r\nYmFy\r\n-----END CERTIFICATE-----\r\n";
        let blocks = certificate_blocks(text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].der, b"foobar");
        assert_eq!(blocks[0].number, 1);
    }

    #[test]
    fn damaged_certificate_blocks_are_errors() {
        let unterminated = b"-----BEGIN CERTIFICATE-----\nZm9v\n";
        assert!(certificate_blocks(unterminated).is_err());
        let mismatched = b"-----BEGIN CERTIFICATE-----\nZm9v\n-----END PRIVATE KEY-----\n";
        assert!(certificate_blocks(mismatched).is_err());
        let empty = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        assert!(certificate_blocks(empty).is_err());
        assert!(certificate_blocks(b"").unwrap().is_empty());
        let nested = b"-----BEGIN CERTIFICATE-----\nZm9v\n-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n";
        assert!(certificate_blocks(nested).is_err());
    }

    #[test]
    fn an_unterminated_key_block_does_not_hide_certificates() {
        let text = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n-----BEGIN EC PARAMETERS-----\n";
        assert_eq!(certificate_blocks(text).unwrap()[0].der, b"foo");
    }

    #[test]
    fn headers_are_skipped() {
        let text =
            b"-----BEGIN CERTIFICATE-----\nComment: hello\n\nZm9v\n-----END CERTIFICATE-----\n";
        assert_eq!(certificate_blocks(text).unwrap()[0].der, b"foo");
    }
}
