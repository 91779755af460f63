//! Object identifiers of the algorithms and schemes the key module deals with.

use der::asn1::ObjectIdentifier as Oid;

pub(super) const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub(super) const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub(super) const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
pub(super) const DH_PKCS3: Oid = Oid::new_unwrap("1.2.840.113549.1.3.1");
pub(super) const DH_X942: Oid = Oid::new_unwrap("1.2.840.10046.2.1");
pub(super) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");

pub(super) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub(super) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
pub(super) const P521: Oid = Oid::new_unwrap("1.3.132.0.35");

pub(super) const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
pub(super) const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
pub(super) const SCRYPT: Oid = Oid::new_unwrap("1.3.6.1.4.1.11591.4.11");
pub(super) const HMAC_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
pub(super) const HMAC_SHA224: Oid = Oid::new_unwrap("1.2.840.113549.2.8");
pub(super) const HMAC_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
pub(super) const HMAC_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
pub(super) const HMAC_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
pub(super) const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
pub(super) const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
pub(super) const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
pub(super) const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");

/// Readable names for OIDs that show up in error messages.
const NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.111", "X448"),
    ("1.3.101.113", "Ed448"),
    ("1.2.156.10197.1.301", "SM2"),
    ("1.3.132.0.10", "secp256k1"),
    ("1.3.132.0.33", "secp224r1 (P-224)"),
    ("1.2.840.10045.3.1.1", "prime192v1 (P-192)"),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1"),
    ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1"),
    ("1.2.840.113549.1.5.3", "PBES1 pbeWithMD5AndDES-CBC"),
    ("1.2.840.113549.1.5.6", "PBES1 pbeWithMD5AndRC2-CBC"),
    ("1.2.840.113549.1.5.10", "PBES1 pbeWithSHA1AndDES-CBC"),
    ("1.2.840.113549.1.5.11", "PBES1 pbeWithSHA1AndRC2-CBC"),
    ("1.2.840.113549.1.12.1.1", "PKCS#12 pbeWithSHAAnd128BitRC4"),
    ("1.2.840.113549.1.12.1.2", "PKCS#12 pbeWithSHAAnd40BitRC4"),
    (
        "1.2.840.113549.1.12.1.3",
        "PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC",
    ),
    (
        "1.2.840.113549.1.12.1.4",
        "PKCS#12 pbeWithSHAAnd2-KeyTripleDES-CBC",
    ),
    (
        "1.2.840.113549.1.12.1.5",
        "PKCS#12 pbeWithSHAAnd128BitRC2-CBC",
    ),
    (
        "1.2.840.113549.1.12.1.6",
        "PKCS#12 pbeWithSHAAnd40BitRC2-CBC",
    ),
    ("1.3.14.3.2.7", "DES-CBC"),
    ("1.2.840.113549.3.2", "RC2-CBC"),
    ("1.2.392.200011.61.1.1.1.2", "CAMELLIA-128-CBC"),
    ("1.2.392.200011.61.1.1.1.3", "CAMELLIA-192-CBC"),
    ("1.2.392.200011.61.1.1.1.4", "CAMELLIA-256-CBC"),
    ("1.2.410.200046.1.1.2", "ARIA-128-CBC"),
    ("1.2.410.200046.1.1.7", "ARIA-192-CBC"),
    ("1.2.410.200046.1.1.12", "ARIA-256-CBC"),
    ("2.16.840.1.101.3.4.1.6", "AES-128-GCM"),
    ("2.16.840.1.101.3.4.1.46", "AES-256-GCM"),
    ("1.2.840.113549.2.12", "hmacWithSHA512-224"),
    ("1.2.840.113549.2.13", "hmacWithSHA512-256"),
    ("1.2.156.10197.1.401.2", "hmacWithSM3"),
];

/// `"name (oid)"` for known OIDs, the dotted OID otherwise.
pub(super) fn describe(oid: &Oid) -> String {
    let dotted = oid.to_string();
    match NAMES.iter().find(|(o, _)| *o == dotted) {
        Some((_, name)) => format!("{name} ({dotted})"),
        None => format!("OID {dotted}"),
    }
}
