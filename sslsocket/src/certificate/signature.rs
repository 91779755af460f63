//! Signature and public-key algorithm names, and checking a certificate's
//! signature with aws-lc-rs.
//!
//! Checking here serves reporting (`is_self_signed`, the verifier's error
//! list); whether a chain is trusted is decided by rustls-webpki alone, which
//! is why legacy algorithms such as RSA-1024 or SHA-1 are still recognised.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use super::asn1::{children, oid_to_string, read_tlv};

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";

const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const P521: &str = "1.3.132.0.35";

const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const SHA384: &str = "2.16.840.1.101.3.4.2.2";
const SHA512: &str = "2.16.840.1.101.3.4.2.3";

/// Signature algorithms by OID, with OpenSSL's names (what users compare
/// against `openssl x509 -text`).
const SIGNATURE_NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption"),
    (RSASSA_PSS, "rsassaPss"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224"),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
    (ED25519, "ED25519"),
    ("1.3.101.113", "ED448"),
    ("1.2.840.10040.4.3", "dsaWithSHA1"),
    ("2.16.840.1.101.3.4.3.1", "dsa_with_SHA224"),
    ("2.16.840.1.101.3.4.3.2", "dsa_with_SHA256"),
    ("2.16.840.1.101.3.4.3.17", "ML-DSA-44"),
    ("2.16.840.1.101.3.4.3.18", "ML-DSA-65"),
    ("2.16.840.1.101.3.4.3.19", "ML-DSA-87"),
];

/// Public-key algorithms by OID, with OpenSSL's names.
const KEY_NAMES: &[(&str, &str)] = &[
    (RSA_ENCRYPTION, "rsaEncryption"),
    (RSASSA_PSS, "rsassaPss"),
    (EC_PUBLIC_KEY, "id-ecPublicKey"),
    (ED25519, "ED25519"),
    ("1.3.101.113", "ED448"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.111", "X448"),
    ("1.2.840.10040.4.1", "dsaEncryption"),
    ("1.2.840.10046.2.1", "dhpublicnumber"),
];

/// Named curves: OID, OpenSSL's name and the NIST name where there is one.
const CURVES: &[(&str, &str, Option<&str>, u32)] = &[
    (P256, "prime256v1", Some("P-256"), 256),
    (P384, "secp384r1", Some("P-384"), 384),
    (P521, "secp521r1", Some("P-521"), 521),
    ("1.3.132.0.10", "secp256k1", None, 256),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", None, 256),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", None, 384),
    ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", None, 512),
];

fn lookup(table: &[(&str, &'static str)], oid: &str) -> Option<&'static str> {
    table.iter().find(|(o, _)| *o == oid).map(|(_, name)| *name)
}

/// OpenSSL's name for a signature algorithm, or the dotted OID.
pub(crate) fn signature_algorithm_name(algorithm: &AlgorithmIdentifier<'_>) -> String {
    let oid = algorithm.algorithm.to_id_string();
    lookup(SIGNATURE_NAMES, &oid).map_or(oid, str::to_owned)
}

/// OpenSSL's name for a public-key algorithm, or the dotted OID.
pub(crate) fn key_algorithm_name(spki: &SubjectPublicKeyInfo<'_>) -> String {
    let oid = spki.algorithm.algorithm.to_id_string();
    lookup(KEY_NAMES, &oid).map_or(oid, str::to_owned)
}

/// The named curve of an EC key: (dotted OID, OpenSSL name, NIST name, bits).
pub(crate) fn ec_curve(
    spki: &SubjectPublicKeyInfo<'_>,
) -> Option<(String, &'static str, Option<&'static str>, u32)> {
    if spki.algorithm.algorithm.to_id_string() != EC_PUBLIC_KEY {
        return None;
    }
    let parameters = spki.algorithm.parameters.as_ref()?;
    // Only namedCurve (an OID) is supported; explicit curve parameters are
    // long deprecated and RFC 5480 forbids them.
    if parameters.tag().0 != 6 {
        return None;
    }
    let oid = oid_to_string(parameters.data)?;
    let known = CURVES.iter().find(|(o, ..)| *o == oid);
    Some(match known {
        Some((_, name, nist, bits)) => (oid, name, *nist, *bits),
        None => (oid, "unknown curve", None, 0),
    })
}

/// The key size in bits as OpenSSL reports it: modulus bits for RSA, the
/// field size for EC, 256 for Ed25519; 0 when unknown.
pub(crate) fn key_bits(spki: &SubjectPublicKeyInfo<'_>) -> u32 {
    let oid = spki.algorithm.algorithm.to_id_string();
    match oid.as_str() {
        RSA_ENCRYPTION | RSASSA_PSS => {
            rsa_modulus(spki.subject_public_key.data.as_ref()).map_or(0, significant_bits)
        }
        EC_PUBLIC_KEY => ec_curve(spki).map_or(0, |(.., bits)| bits),
        ED25519 => 256,
        "1.3.101.113" => 456,
        "1.3.101.110" => 253,
        "1.3.101.111" => 448,
        _ => 0,
    }
}

/// The modulus of an RSAPublicKey (PKCS #1), with its sign byte.
pub(crate) fn rsa_modulus(rsa_public_key: &[u8]) -> Option<&[u8]> {
    rsa_parts(rsa_public_key).map(|(modulus, _)| modulus)
}

/// The (modulus, public exponent) INTEGER contents of an RSAPublicKey.
pub(crate) fn rsa_parts(rsa_public_key: &[u8]) -> Option<(&[u8], &[u8])> {
    let outer = read_tlv(rsa_public_key)?;
    if outer.tag != 0x30 {
        return None;
    }
    let parts = children(outer.content)?;
    match parts.as_slice() {
        [modulus, exponent] if modulus.tag == 0x02 && exponent.tag == 0x02 => {
            Some((modulus.content, exponent.content))
        }
        _ => None,
    }
}

fn significant_bits(integer: &[u8]) -> u32 {
    let Some(first) = integer.iter().position(|&b| b != 0) else {
        return 0;
    };
    let rest = u32::try_from(integer.len() - first - 1).unwrap_or(0);
    rest.saturating_mul(8) + (8 - integer[first].leading_zeros())
}

/// True when `certificate`'s signature verifies with `issuer_key`.
///
/// An algorithm we cannot map, a key of the wrong type, or malformed
/// parameters all give `false`: this answers "is it provably signed by",
/// never "might it be".
pub(crate) fn verify(
    certificate: &X509Certificate<'_>,
    issuer_key: &SubjectPublicKeyInfo<'_>,
) -> bool {
    let Some(algorithm) = choose_algorithm(&certificate.signature_algorithm, issuer_key) else {
        return false;
    };
    let key = UnparsedPublicKey::new(algorithm, issuer_key.subject_public_key.data.as_ref());
    key.verify(
        certificate.tbs_certificate.as_ref(),
        certificate.signature_value.data.as_ref(),
    )
    .is_ok()
}

fn choose_algorithm(
    signature_algorithm: &AlgorithmIdentifier<'_>,
    issuer_key: &SubjectPublicKeyInfo<'_>,
) -> Option<&'static dyn VerificationAlgorithm> {
    let signature_oid = signature_algorithm.algorithm.to_id_string();
    let key_oid = issuer_key.algorithm.algorithm.to_id_string();
    match (signature_oid.as_str(), key_oid.as_str()) {
        // RSA PKCS #1 v1.5. The 1024-bit floor keeps old roots checkable.
        ("1.2.840.113549.1.1.5", RSA_ENCRYPTION) => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY)
        }
        ("1.2.840.113549.1.1.11", RSA_ENCRYPTION) => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)
        }
        ("1.2.840.113549.1.1.12", RSA_ENCRYPTION) => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
        ("1.2.840.113549.1.1.13", RSA_ENCRYPTION) => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY)
        }
        (RSASSA_PSS, RSA_ENCRYPTION | RSASSA_PSS) => {
            match pss_hash(signature_algorithm)?.as_str() {
                SHA256 => Some(&signature::RSA_PSS_2048_8192_SHA256),
                SHA384 => Some(&signature::RSA_PSS_2048_8192_SHA384),
                SHA512 => Some(&signature::RSA_PSS_2048_8192_SHA512),
                _ => None,
            }
        }
        (ecdsa, EC_PUBLIC_KEY) if ecdsa.starts_with("1.2.840.10045.4.") => {
            let (curve, ..) = ec_curve(issuer_key)?;
            ecdsa_algorithm(ecdsa, &curve)
        }
        (ED25519, ED25519) => Some(&signature::ED25519),
        _ => None,
    }
}

fn ecdsa_algorithm(signature_oid: &str, curve: &str) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match (signature_oid, curve) {
        ("1.2.840.10045.4.1", P256) => &signature::ECDSA_P256_SHA1_ASN1,
        ("1.2.840.10045.4.3.2", P256) => &signature::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", P256) => &signature::ECDSA_P256_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", P256) => &signature::ECDSA_P256_SHA512_ASN1,
        ("1.2.840.10045.4.3.2", P384) => &signature::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", P384) => &signature::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", P384) => &signature::ECDSA_P384_SHA512_ASN1,
        ("1.2.840.10045.4.1", P521) => &signature::ECDSA_P521_SHA1_ASN1,
        ("1.2.840.10045.4.3.2", P521) => &signature::ECDSA_P521_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", P521) => &signature::ECDSA_P521_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", P521) => &signature::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

/// The hash of RSASSA-PSS parameters, provided the mask generation uses the
/// same hash (the only combination aws-lc-rs verifies). The parameters'
/// defaults mean SHA-1, which we do not accept for PSS.
fn pss_hash(algorithm: &AlgorithmIdentifier<'_>) -> Option<String> {
    let parameters = algorithm.parameters.as_ref()?;
    if parameters.tag().0 != 0x10 {
        return None;
    }
    let mut hash = None;
    let mut mgf_hash = None;
    for field in children(parameters.data)? {
        match field.tag {
            // [0] EXPLICIT hashAlgorithm AlgorithmIdentifier
            0xa0 => hash = algorithm_oid(read_tlv(field.content)?.content),
            // [1] EXPLICIT maskGenAlgorithm: mgf1 with a hash AlgorithmIdentifier
            0xa1 => {
                let mgf = read_tlv(field.content)?;
                let parts = children(mgf.content)?;
                let [mgf_oid, mgf_parameters] = parts.as_slice() else {
                    return None;
                };
                if oid_to_string(mgf_oid.content)? != "1.2.840.113549.1.1.8" {
                    return None;
                }
                mgf_hash = algorithm_oid(mgf_parameters.content);
            }
            _ => {}
        }
    }
    let hash = hash?;
    (mgf_hash.as_deref() == Some(hash.as_str())).then_some(hash)
}

/// The OID inside an AlgorithmIdentifier's contents.
fn algorithm_oid(content: &[u8]) -> Option<String> {
    let oid = read_tlv(content)?;
    (oid.tag == 0x06)
        .then(|| oid_to_string(oid.content))
        .flatten()
}

/// A certificate's signed parts in the form webpki reads them, for
/// explaining why webpki refused a signature.
pub(crate) struct SignedParts<'a> {
    /// The whole TBSCertificate element: what the signature covers.
    pub(crate) tbs: &'a [u8],
    /// The contents of the signature AlgorithmIdentifier inside the
    /// TBSCertificate.
    pub(crate) inner_algorithm: &'a [u8],
    /// The contents of the outer signature AlgorithmIdentifier, which the
    /// signature is made with.
    pub(crate) algorithm: &'a [u8],
    /// The signature bits.
    pub(crate) signature: &'a [u8],
}

/// The signed parts of the certificate `der`; `None` when it is not a
/// well-formed Certificate.
pub(crate) fn signed_parts(der: &[u8]) -> Option<SignedParts<'_>> {
    let certificate = read_tlv(der)?;
    let [tbs, algorithm, signature] = <[_; 3]>::try_from(children(certificate.content)?).ok()?;
    let fields = children(tbs.content)?;
    // serialNumber, then signature; an explicit version comes first.
    let inner = fields.get(usize::from(fields.first()?.tag == 0xa0) + 1)?;
    let (&unused_bits, bits) = signature.content.split_first()?;
    (tbs.tag == 0x30 && algorithm.tag == 0x30 && signature.tag == 0x03 && unused_bits == 0)
        .then_some(SignedParts {
            tbs: &certificate.content[..certificate.content.len() - tbs.rest.len()],
            inner_algorithm: inner.content,
            algorithm: algorithm.content,
            signature: bits,
        })
}

/// The (AlgorithmIdentifier contents, key bits) of a SubjectPublicKeyInfo.
pub(crate) fn public_key_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let spki = read_tlv(spki)?;
    let [algorithm, key] = <[_; 2]>::try_from(children(spki.content)?).ok()?;
    let (&unused_bits, bits) = key.content.split_first()?;
    (algorithm.tag == 0x30 && key.tag == 0x03 && unused_bits == 0)
        .then_some((algorithm.content, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_counts() {
        assert_eq!(significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(significant_bits(&[0x01]), 1);
        assert_eq!(significant_bits(&[0x00]), 0);
        assert_eq!(significant_bits(&[]), 0);
    }

    #[test]
    fn rsa_public_key_parts() {
        // SEQUENCE { INTEGER 0x00c5, INTEGER 3 }
        let der = [0x30, 0x07, 0x02, 0x02, 0x00, 0xc5, 0x02, 0x01, 0x03];
        let (modulus, exponent) = rsa_parts(&der).unwrap();
        assert_eq!(modulus, &[0x00, 0xc5]);
        assert_eq!(exponent, &[0x03]);
        assert!(rsa_parts(&der[..5]).is_none());
        assert!(rsa_parts(&[0x31, 0x00]).is_none());
    }

    #[test]
    fn signed_parts_of_a_certificate() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["a.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = cert.der();
        let parts = signed_parts(der).unwrap();
        assert_eq!(parts.inner_algorithm, parts.algorithm);
        assert_eq!(parts.tbs[0], 0x30);
        assert!(der.windows(parts.tbs.len()).any(|w| w == parts.tbs));
        // What the key signed is exactly the TBSCertificate.
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let (_, key_bits) = public_key_parts(&spki).unwrap();
        let public_key = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, key_bits);
        assert!(public_key.verify(parts.tbs, parts.signature).is_ok());
        assert!(signed_parts(&der[..der.len() - 1]).is_none());
        assert!(signed_parts(&[0x30, 0x00]).is_none());
        assert!(public_key_parts(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_none());
    }
}
