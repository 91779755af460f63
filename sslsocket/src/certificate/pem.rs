//! Reading and writing the PEM armour around certificates.
//!
//! Hand-written rather than borrowed from a PEM crate because the rules we
//! want are specific: blocks of other kinds (keys, parameters) are skipped
//! without being decoded, text between blocks is ignored (bundles often carry
//! `subject=` comment lines), and a damaged certificate block is an error
//! that says which block it was.

use crate::error::{Error, Result};

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
    // The label and body lines of the block being read, if any.
    let mut open: Option<(&[u8], Vec<&[u8]>)> = None;
    let mut blocks = Vec::new();
    for line in input.split(|&b| b == b'\n').map(trim_ascii) {
        if let Some(label) = boundary(line, b"-----BEGIN ") {
            if let Some((previous, _)) = open {
                // A block of another kind left open must not hide the
                // certificates after it; an open certificate block is damage.
                if is_certificate_label(previous) {
                    return Err(invalid(blocks.len() + 1, "the END line is missing"));
                }
            }
            open = Some((label, Vec::new()));
            continue;
        }
        let Some((label, body)) = open.as_mut() else {
            continue;
        };
        let Some(end_label) = boundary(line, b"-----END ") else {
            body.push(line);
            continue;
        };
        let label: &[u8] = label;
        if is_certificate_label(label) {
            let number = blocks.len() + 1;
            if end_label != label {
                return Err(invalid(
                    number,
                    format!(
                        "BEGIN {} closed by END {}",
                        String::from_utf8_lossy(label),
                        String::from_utf8_lossy(end_label)
                    ),
                ));
            }
            let der =
                decode_base64(strip_headers(body)).map_err(|reason| invalid(number, reason))?;
            if der.is_empty() {
                return Err(invalid(number, "the block is empty"));
            }
            blocks.push(Block {
                number,
                trusted: label == b"TRUSTED CERTIFICATE",
                der,
            });
        }
        open = None;
    }
    if let Some((label, _)) = open {
        if is_certificate_label(label) {
            return Err(invalid(
                blocks.len() + 1,
                "the END line is missing (truncated file?)",
            ));
        }
    }
    Ok(blocks)
}

fn is_certificate_label(label: &[u8]) -> bool {
    CERTIFICATE_LABELS.iter().any(|l| l.as_bytes() == label)
}

/// The PEM form of a DER certificate: 64-column base64 and a final newline,
/// the layout every other tool writes.
pub(crate) fn encode_certificate(der: &[u8]) -> String {
    let encoded = encode_base64(der);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn invalid(number: usize, reason: impl std::fmt::Display) -> Error {
    Error::InvalidCertificate {
        reason: format!("PEM certificate block {number}: {reason}"),
    }
}

fn trim_ascii(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|b| !b.is_ascii_whitespace());
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace());
    match (start, end) {
        (Some(start), Some(end)) => &line[start..=end],
        _ => &[],
    }
}

/// The label of a `-----BEGIN label-----` / `-----END label-----` line.
fn boundary<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(prefix)?.strip_suffix(b"-----")
}

/// Drops RFC 1421 header lines (`Proc-Type: ...`) that may open a block;
/// they end at the first blank line.
fn strip_headers<'a>(body: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let has_headers = body.first().is_some_and(|line| line.contains(&b':'));
    if !has_headers {
        return body.to_vec();
    }
    match body.iter().position(|line| line.is_empty()) {
        Some(blank) => body[blank + 1..].to_vec(),
        None => Vec::new(),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn encode_base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes the base64 body lines, ignoring whitespace and checking the
/// padding, so that a damaged body is reported instead of yielding bytes
/// that fail later with a less useful message.
fn decode_base64(lines: Vec<&[u8]>) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut accumulator: u32 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    let mut padding = 0usize;
    for (line_number, line) in lines.iter().enumerate() {
        for &byte in line.iter() {
            if byte.is_ascii_whitespace() {
                continue;
            }
            if byte == b'=' {
                padding += 1;
                continue;
            }
            if padding > 0 {
                return Err(format!(
                    "invalid base64: data after '=' padding on body line {}",
                    line_number + 1
                ));
            }
            let Some(value) = ALPHABET.iter().position(|&c| c == byte) else {
                return Err(format!(
                    "invalid base64: unexpected character {:?} on body line {}",
                    char::from(byte),
                    line_number + 1
                ));
            };
            symbols += 1;
            accumulator = (accumulator << 6) | value as u32;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((accumulator >> bits) as u8);
                accumulator &= (1 << bits) - 1;
            }
        }
    }
    let remainder = symbols % 4;
    if remainder == 1 {
        return Err("invalid base64: the body length is impossible (truncated?)".to_owned());
    }
    let expected_padding = if remainder == 0 { 0 } else { 4 - remainder };
    if padding != 0 && padding != expected_padding {
        return Err("invalid base64: wrong amount of '=' padding".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode_base64(&data);
            assert_eq!(decode_base64(vec![text.as_bytes()]).unwrap(), data);
            let unpadded = text.trim_end_matches('=');
            assert_eq!(decode_base64(vec![unpadded.as_bytes()]).unwrap(), data);
        }
        assert_eq!(encode_base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode_base64(b"fo"), "Zm8=");
    }

    #[test]
    fn broken_base64_is_refused() {
        assert!(decode_base64(vec![b"Zm9v!mFy"]).is_err());
        assert!(decode_base64(vec![b"Zm9vY"]).is_err());
        assert!(decode_base64(vec![b"Zm8=Zm8="]).is_err());
        assert!(decode_base64(vec![b"Zm8=="]).is_err());
    }

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

    #[test]
    fn encoding_wraps_at_64_columns() {
        let pem = encode_certificate(&[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        assert!(pem.ends_with('\n'));
    }
}
