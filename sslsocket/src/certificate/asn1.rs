//! The few DER primitives the certificate module reads by hand: walking
//! tag-length-value triples and printing object identifiers.
//!
//! x509-parser does the real parsing; these exist for the corners it leaves
//! as raw bytes (algorithm parameters, extension bodies whose element order
//! matters to us) and must never panic on hostile input.

/// One DER element: its tag byte, its contents and the bytes that follow it.
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) rest: &'a [u8],
}

/// Reads one definite-length, single-byte-tag DER element from the front
/// of `input`. Indefinite lengths and multi-byte tags are refused because DER
/// forbids the former and nothing we read by hand uses the latter.
pub(crate) fn read_tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, after_len) = after_tag.split_first()?;
    let (length, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > std::mem::size_of::<usize>() || after_len.len() < count {
            return None;
        }
        let (bytes, body) = after_len.split_at(count);
        let length = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (length, body)
    };
    if body.len() < length {
        return None;
    }
    let (content, rest) = body.split_at(length);
    Some(Tlv { tag, content, rest })
}

/// Splits the contents of a constructed element into its children; `None`
/// when any child is malformed or bytes are left over.
pub(crate) fn children(mut content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let tlv = read_tlv(content)?;
        content = tlv.rest;
        out.push(tlv);
    }
    Some(out)
}

/// Dotted-decimal form of an OBJECT IDENTIFIER's content bytes, or `None`
/// when the encoding is malformed (truncated arc, arc too large for u64).
pub(crate) fn oid_to_string(content: &[u8]) -> Option<String> {
    if content.is_empty() {
        return None;
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    let mut in_arc = false;
    for &byte in content {
        if !in_arc && byte == 0x80 {
            // A leading 0x80 pads an arc, which DER forbids.
            return None;
        }
        value = value
            .checked_mul(128)?
            .checked_add(u64::from(byte & 0x7f))?;
        in_arc = byte & 0x80 != 0;
        if !in_arc {
            arcs.push(value);
            value = 0;
        }
    }
    if in_arc {
        return None;
    }
    // The first encoded arc packs the first two arcs of the identifier.
    let first = arcs[0];
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut text = format!("{a}.{b}");
    for arc in &arcs[1..] {
        text.push('.');
        text.push_str(&arc.to_string());
    }
    Some(text)
}

/// Lowercase hex bytes joined by `separator`, the way Qt and OpenSSL print
/// serial numbers, fingerprints and key material.
pub(crate) fn hex_join(bytes: &[u8], separator: &str) -> String {
    let mut out = String::with_capacity(bytes.len() * (2 + separator.len()));
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_print_in_dotted_form() {
        assert_eq!(
            oid_to_string(&[0x55, 0x04, 0x03]).as_deref(),
            Some("2.5.4.3")
        );
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]).as_deref(),
            Some("1.2.840.113549.1.9.1")
        );
        assert_eq!(oid_to_string(&[]), None);
        assert_eq!(oid_to_string(&[0x2a, 0x86]), None);
        assert_eq!(oid_to_string(&[0x80, 0x01]), None);
        assert_eq!(oid_to_string(&[0xff; 12]), None);
    }

    #[test]
    fn tlv_reader_refuses_bad_lengths() {
        let tlv = read_tlv(&[0x30, 0x02, 0x05, 0x00, 0xaa]).unwrap();
        assert_eq!(tlv.tag, 0x30);
        assert_eq!(tlv.content, &[0x05, 0x00]);
        assert_eq!(tlv.rest, &[0xaa]);
        assert!(read_tlv(&[0x30, 0x03, 0x05, 0x00]).is_none());
        assert!(read_tlv(&[0x30, 0x80]).is_none());
        assert!(read_tlv(&[0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_none());
        assert!(read_tlv(&[0x1f, 0x01, 0x00]).is_none());
        assert!(read_tlv(&[]).is_none());
        let long = read_tlv(&[0x04, 0x81, 0x01, 0x07]).unwrap();
        assert_eq!(long.content, &[0x07]);
        assert!(children(&[0x05, 0x00, 0x05]).is_none());
        assert_eq!(children(&[0x05, 0x00, 0x05, 0x00]).unwrap().len(), 2);
    }

    #[test]
    fn hex_is_lowercase_and_separated() {
        assert_eq!(hex_join(&[0x01, 0x2a, 0xff], ":"), "01:2a:ff");
        assert_eq!(hex_join(&[], ":"), "");
    }
}
