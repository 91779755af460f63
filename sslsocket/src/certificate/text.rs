//! `SslCertificate::to_text`: a human-readable dump laid out like
//! `openssl x509 -text -noout`, so that people who know that output can read
//! ours without learning a new layout.

use std::fmt::Write as _;

use x509_parser::certificate::X509Certificate;
use x509_parser::time::ASN1Time;

use super::asn1::hex_join;
use super::extension::CertificateExtension;
use super::{names, signature};

pub(crate) fn to_text(certificate: &X509Certificate<'_>) -> String {
    let tbs = &certificate.tbs_certificate;
    let mut out = String::new();
    out.push_str("Certificate:\n    Data:\n");
    let version = tbs.version.0;
    let _ = writeln!(
        out,
        "        Version: {} (0x{version:x})",
        u64::from(version) + 1
    );
    write_serial(&mut out, tbs.raw_serial());
    let _ = writeln!(
        out,
        "        Signature Algorithm: {}",
        signature::signature_algorithm_name(&tbs.signature)
    );
    let _ = writeln!(out, "        Issuer: {}", names::one_line(&tbs.issuer));
    out.push_str("        Validity\n");
    let _ = writeln!(
        out,
        "            Not Before: {}",
        date(&tbs.validity.not_before)
    );
    let _ = writeln!(
        out,
        "            Not After : {}",
        date(&tbs.validity.not_after)
    );
    let _ = writeln!(out, "        Subject: {}", names::one_line(&tbs.subject));
    write_public_key(&mut out, &tbs.subject_pki);

    let extensions = tbs.extensions();
    if !extensions.is_empty() {
        out.push_str("        X509v3 extensions:\n");
        for extension in extensions {
            let extension = CertificateExtension::from_x509(extension);
            let critical = if extension.is_critical() {
                " critical"
            } else {
                ""
            };
            let _ = writeln!(out, "            {}:{critical}", extension.title());
            for line in extension.lines() {
                let _ = writeln!(out, "                {line}");
            }
        }
    }

    let _ = writeln!(
        out,
        "    Signature Algorithm: {}",
        signature::signature_algorithm_name(&certificate.signature_algorithm)
    );
    out.push_str("    Signature Value:\n");
    write_hex_block(&mut out, certificate.signature_value.data.as_ref(), 18, 8);
    out
}

/// Small serials print as decimal and hex on one line, long ones as a hex
/// block, the way OpenSSL does it.
fn write_serial(out: &mut String, raw: &[u8]) {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let significant: &[u8] = {
        let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
        &raw[start..]
    };
    if !negative && significant.len() <= 8 {
        let value = significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if value <= i64::MAX as u64 {
            let _ = writeln!(out, "        Serial Number: {value} (0x{value:x})");
            return;
        }
    }
    out.push_str("        Serial Number:\n");
    let shown = if significant.is_empty() {
        raw
    } else {
        significant
    };
    let _ = writeln!(out, "            {}", hex_join(shown, ":"));
}

fn write_public_key(out: &mut String, spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) {
    out.push_str("        Subject Public Key Info:\n");
    let _ = writeln!(
        out,
        "            Public Key Algorithm: {}",
        signature::key_algorithm_name(spki)
    );
    let key = spki.subject_public_key.data.as_ref();
    let bits = signature::key_bits(spki);
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match algorithm.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            if let Some((modulus, exponent)) = signature::rsa_parts(key) {
                let _ = writeln!(out, "                Public-Key: ({bits} bit)");
                out.push_str("                Modulus:\n");
                write_hex_block(out, modulus, 15, 20);
                let exponent_text = if exponent.len() <= 8 {
                    let e = exponent
                        .iter()
                        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                    format!("{e} (0x{e:x})")
                } else {
                    hex_join(exponent, ":")
                };
                let _ = writeln!(out, "                Exponent: {exponent_text}");
                return;
            }
        }
        "1.3.101.112" => {
            out.push_str("                ED25519 Public-Key:\n                pub:\n");
            write_hex_block(out, key, 15, 20);
            return;
        }
        _ => {}
    }
    if bits > 0 {
        let _ = writeln!(out, "                Public-Key: ({bits} bit)");
    }
    out.push_str("                pub:\n");
    write_hex_block(out, key, 15, 20);
    if let Some((oid, name, nist, _)) = signature::ec_curve(spki) {
        if name == "unknown curve" {
            let _ = writeln!(out, "                ASN1 OID: {oid}");
        } else {
            let _ = writeln!(out, "                ASN1 OID: {name}");
        }
        if let Some(nist) = nist {
            let _ = writeln!(out, "                NIST CURVE: {nist}");
        }
    }
}

/// Colon-separated hex, `per_line` bytes a line, every line but the last
/// ending in `:` so that the block reads as one value.
fn write_hex_block(out: &mut String, bytes: &[u8], per_line: usize, indent: usize) {
    let lines: Vec<&[u8]> = bytes.chunks(per_line).collect();
    for (i, chunk) in lines.iter().enumerate() {
        out.push_str(&" ".repeat(indent));
        out.push_str(&hex_join(chunk, ":"));
        if i + 1 < lines.len() {
            out.push(':');
        }
        out.push('\n');
    }
}

/// `Jan  1 00:00:00 2024 GMT`, OpenSSL's date layout.
fn date(time: &ASN1Time) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time.to_datetime();
    let month = MONTHS[usize::from(u8::from(t.month())) - 1];
    format!(
        "{month} {:>2} {:02}:{:02}:{:02} {} GMT",
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}
