//! PEM, the `-----BEGIN label-----` armour around DER, read and written for
//! certificates and keys alike.
//!
//! Hand-written rather than borrowed: the readers in `der`/`pem-rfc7468`
//! reject what real files contain, namely text around and between the
//! blocks (bundles carry `subject=` comment lines, PKCS#12 exports carry
//! `Bag Attributes`) and the RFC 1421 headers of OpenSSL's encrypted
//! traditional keys (`Proc-Type`, `DEK-Info`). This reader
//!
//! - ignores text outside blocks and reads CRLF as well as LF;
//! - returns every block whatever its label, so that callers pick the
//!   blocks they want and skip the others;
//! - collects the headers: `Name: value` lines opening a block, up to a
//!   blank line or the first line without a colon; an indented line
//!   continues the header before it;
//! - decodes the body strictly, so that a damaged body is reported instead
//!   of yielding bytes that fail later with a less useful message;
//! - reports damage per block ([`Damage`]) and reads on after a damaged
//!   block, so that an unterminated block of one kind does not hide the
//!   blocks after it. Whether a damaged block is fatal is the caller's call.

use std::fmt;

use base64ct::{Base64, Base64Unpadded, Encoding as _};
use der::zeroize::Zeroizing;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// One `-----BEGIN label-----` ... `-----END label-----` block.
pub(crate) struct Block {
    pub(crate) label: String,
    /// RFC 1421 headers such as `Proc-Type` and `DEK-Info`, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// The decoded body (zeroized on drop: it may be a private key), or
    /// what is wrong with the block.
    pub(crate) body: Result<Zeroizing<Vec<u8>>, Damage>,
}

impl Block {
    /// The value of the header `name`, compared without regard to case.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What is wrong with a damaged block.
///
/// Displays as the rest of a sentence about the block, e.g. "the PEM block
/// 'X' {damage}".
#[derive(Debug)]
pub(crate) enum Damage {
    /// The block has no matching END line: `found` is the line that came
    /// first (another block's BEGIN line, an END line with another label, a
    /// malformed boundary), or `None` at the end of the input.
    NotClosed {
        end_line: String,
        found: Option<String>,
    },
    /// The body is not valid base64.
    Base64(base64ct::Error),
    /// The body decodes to nothing.
    Empty,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::NotClosed {
                end_line,
                found: Some(found),
            } => write!(f, "is not closed by '{end_line}' (found '{found}')"),
            Damage::NotClosed {
                end_line,
                found: None,
            } => write!(f, "has no '{end_line}' line (truncated?)"),
            Damage::Base64(e) => write!(f, "has malformed base64 text: {e}"),
            Damage::Empty => f.write_str("is empty"),
        }
    }
}

/// Finds every block of `input`, in order, damaged ones included.
pub(crate) fn blocks(input: &[u8]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<OpenBlock<'_>> = None;
    for raw in input.split(|&b| b == b'\n') {
        let line = raw.trim_ascii();
        let is_boundary = line.starts_with(BEGIN) || line.starts_with(END);
        match open.take() {
            None => open = boundary(line, BEGIN).map(OpenBlock::new),
            Some(mut block) if !is_boundary => {
                block.push(raw, line);
                open = Some(block);
            }
            Some(block) if boundary(line, END) == Some(block.label) => blocks.push(block.close()),
            Some(block) => {
                blocks.push(block.not_closed(Some(line)));
                // A BEGIN line that interrupts a block starts the next one.
                open = boundary(line, BEGIN).map(OpenBlock::new);
            }
        }
    }
    blocks.extend(open.map(|block| block.not_closed(None)));
    blocks
}

/// The PEM form of `der`: base64 in lines of 64 characters, LF line ends
/// and a final newline, the layout OpenSSL and RFC 7468 use.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let mut out = String::with_capacity(der.len() / 48 * 65 + 2 * label.len() + 60);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // 48 bytes are exactly one line of 64 characters.
    for chunk in der.chunks(48) {
        out.push_str(&Zeroizing::new(Base64::encode_string(chunk)));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// A block whose BEGIN line has been read but not yet its END line.
struct OpenBlock<'a> {
    label: &'a [u8],
    headers: Vec<(String, String)>,
    in_headers: bool,
    base64: Zeroizing<Vec<u8>>,
}

impl<'a> OpenBlock<'a> {
    fn new(label: &'a [u8]) -> OpenBlock<'a> {
        OpenBlock {
            label,
            headers: Vec::new(),
            in_headers: true,
            base64: Zeroizing::new(Vec::new()),
        }
    }

    /// Takes a line of the block other than a boundary; `line` is `raw`
    /// without surrounding whitespace.
    fn push(&mut self, raw: &[u8], line: &[u8]) {
        if self.in_headers {
            let indented = raw.starts_with(b" ") || raw.starts_with(b"\t");
            if indented && !line.is_empty() {
                if let Some((_, value)) = self.headers.last_mut() {
                    value.push(' ');
                    value.push_str(&String::from_utf8_lossy(line));
                    return;
                }
            }
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let (name, value) = (&line[..colon], &line[colon + 1..]);
                self.headers.push((
                    String::from_utf8_lossy(name.trim_ascii()).into_owned(),
                    String::from_utf8_lossy(value.trim_ascii()).into_owned(),
                ));
                return;
            }
            self.in_headers = false;
        }
        self.base64
            .extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
    }

    fn close(self) -> Block {
        let body = match decode_base64(&self.base64) {
            Ok(der) if der.is_empty() => Err(Damage::Empty),
            Ok(der) => Ok(der),
            Err(e) => Err(Damage::Base64(e)),
        };
        self.into_block(body)
    }

    fn not_closed(self, found: Option<&[u8]>) -> Block {
        let damage = Damage::NotClosed {
            end_line: format!("-----END {}-----", String::from_utf8_lossy(self.label)),
            found: found.map(|line| String::from_utf8_lossy(line).into_owned()),
        };
        self.into_block(Err(damage))
    }

    fn into_block(self, body: Result<Zeroizing<Vec<u8>>, Damage>) -> Block {
        Block {
            label: String::from_utf8_lossy(self.label).into_owned(),
            headers: self.headers,
            body,
        }
    }
}

/// The label of a `-----BEGIN label-----` or `-----END label-----` line
/// (`prefix` says which), without surrounding whitespace.
fn boundary<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(prefix)?
        .strip_suffix(DASHES)
        .map(<[u8]>::trim_ascii)
}

/// Strict base64: characters outside the alphabet, misplaced or surplus
/// `=` padding and non-zero trailing bits are errors. Missing padding is
/// accepted, as some writers drop it.
fn decode_base64(text: &[u8]) -> Result<Zeroizing<Vec<u8>>, base64ct::Error> {
    let mut out = Zeroizing::new(vec![0u8; text.len() / 4 * 3 + 3]);
    let len = if text.len() % 4 == 0 {
        Base64::decode(text, &mut out)?.len()
    } else {
        Base64Unpadded::decode(text, &mut out)?.len()
    };
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(block: &Block) -> &[u8] {
        match &block.body {
            Ok(der) => der,
            Err(damage) => panic!("block '{}' {damage}", block.label),
        }
    }

    #[test]
    fn base64_round_trips() {
        for len in 1..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let pem = encode("X", &data);
            assert_eq!(body(&blocks(pem.as_bytes())[0]), data);
            let text = Base64::encode_string(&data);
            let unpadded = text.trim_end_matches('=');
            assert_eq!(*decode_base64(unpadded.as_bytes()).unwrap(), data);
        }
        assert!(encode("X", b"foobar").contains("\nZm9vYmFy\n"));
        assert!(encode("X", b"fo").contains("\nZm8=\n"));
    }

    #[test]
    fn broken_base64_is_refused() {
        assert!(decode_base64(b"Zm9v!mFy").is_err());
        assert!(decode_base64(b"Zm9vY").is_err());
        assert!(decode_base64(b"Zm8=Zm8=").is_err());
        assert!(decode_base64(b"Zm8==").is_err());
        // Non-zero bits after the last byte: "Zm8=" is the only spelling.
        assert!(decode_base64(b"Zm9=").is_err());
    }

    #[test]
    fn encoding_wraps_at_64_columns() {
        let pem = encode("CERTIFICATE", &[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        assert!(pem.ends_with('\n'));
    }

    #[test]
    fn headers_and_body_are_collected() {
        let text = b"junk\r\n-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\n\
                    DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\r\n\r\n\
                    AAEC\r\nAwQ=\r\n-----END RSA PRIVATE KEY-----\r\n";
        let blocks = blocks(text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "RSA PRIVATE KEY");
        assert_eq!(blocks[0].header("proc-type"), Some("4,ENCRYPTED"));
        assert_eq!(
            blocks[0].header("DEK-Info"),
            Some("AES-128-CBC,00112233445566778899AABBCCDDEEFF")
        );
        assert_eq!(body(&blocks[0]), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn header_lines_end_at_a_blank_line_or_the_body() {
        let folded = blocks(b"-----BEGIN X-----\nComment: a\n  b\n\nZm9v\n-----END X-----\n");
        assert_eq!(folded[0].header("Comment"), Some("a b"));
        assert_eq!(body(&folded[0]), b"foo");
        let no_blank = blocks(b"-----BEGIN X-----\nComment: a\nZm9v\n-----END X-----\n");
        assert_eq!(body(&no_blank[0]), b"foo");
    }

    #[test]
    fn damage_is_reported_per_block() {
        let damage = |text: &[u8]| -> Vec<String> {
            blocks(text)
                .iter()
                .map(|block| match &block.body {
                    Ok(_) => "ok".to_owned(),
                    Err(damage) => damage.to_string(),
                })
                .collect()
        };
        assert_eq!(
            damage(b"-----BEGIN X-----\nAAAA\n"),
            ["has no '-----END X-----' line (truncated?)"]
        );
        assert_eq!(
            damage(b"-----BEGIN X-----\nAAAA\n-----END Y-----\n"),
            ["is not closed by '-----END X-----' (found '-----END Y-----')"]
        );
        // A block left open does not hide the one after it.
        assert_eq!(
            damage(b"-----BEGIN X-----\nAAAA\n-----BEGIN Y-----\nAAAA\n-----END Y-----\n"),
            [
                "is not closed by '-----END X-----' (found '-----BEGIN Y-----')",
                "ok"
            ]
        );
        assert_eq!(
            damage(b"-----BEGIN X-----\nAAAA\n-----END X-----\n-----BEGIN Y-----\n"),
            ["ok", "has no '-----END Y-----' line (truncated?)"]
        );
        assert_eq!(
            damage(b"-----BEGIN X-----\n-----END X-----\n"),
            ["is empty"]
        );
        assert!(damage(b"-----BEGIN X-----\n!!\n-----END X-----\n")[0].contains("base64"));
        assert!(blocks(b"no blocks here\n-----END X-----\n").is_empty());
    }
}
