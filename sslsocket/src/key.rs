//! Private and public keys (`QSslKey`).
//!
//! An [`SslKey`] is an RSA, DSA, EC (P-256, P-384, P-521), Ed25519 or
//! Diffie-Hellman key, private or public. It reads every container OpenSSL
//! writes for those keys, in PEM or DER:
//!
//! | Container | PEM label |
//! |---|---|
//! | PKCS#8 `PrivateKeyInfo` (all algorithms) | `PRIVATE KEY` |
//! | PKCS#8 `EncryptedPrivateKeyInfo` (PBES2: PBKDF2 or scrypt, AES-CBC or 3DES) | `ENCRYPTED PRIVATE KEY` |
//! | PKCS#1 `RSAPrivateKey` | `RSA PRIVATE KEY` |
//! | SEC1 `ECPrivateKey` | `EC PRIVATE KEY` |
//! | OpenSSL's traditional DSA key | `DSA PRIVATE KEY` |
//! | `SubjectPublicKeyInfo` (all algorithms) | `PUBLIC KEY` |
//! | PKCS#1 `RSAPublicKey` | `RSA PUBLIC KEY` |
//!
//! The traditional labels may also carry OpenSSL's encryption headers
//! (`Proc-Type: 4,ENCRYPTED` and `DEK-Info: AES-256-CBC,<iv>`), with
//! AES-128/192/256-CBC, DES-EDE3-CBC or DES-CBC.
//!
//! Where Qt hands back a null key for bad input, this library returns an
//! [`Error`] that says what was wrong: [`Error::KeyEncrypted`] when a
//! passphrase is needed, [`Error::WrongPassphrase`],
//! [`Error::UnsupportedKeyEncryption`], [`Error::UnsupportedKey`] (e.g. a
//! secp256k1 key) or [`Error::InvalidKey`] for data that is not a key.
//!
//! Whatever container a key came from, it is kept in one canonical form
//! (PKCS#8 for private keys, `SubjectPublicKeyInfo` for public keys), so the
//! same key read from a PKCS#1 file and from a PKCS#8 file compares equal,
//! and [`SslKey::to_der`] / [`SslKey::to_pem`] write that form.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::signature::KeyPair as _;
use base64ct::Encoding as _;
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::pem::LineEnding;
use der::zeroize::Zeroizing;
use der::{Decode, Encode, Reader as _, Tag, Tagged as _};
use pkcs8::{pkcs5, EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::error::{Error, Result};
use crate::ssl::{EncodingFormat, KeyAlgorithm, KeyType};

/// PBKDF2-HMAC-SHA256 iterations used by [`SslKey::to_pem`] when it encrypts.
///
/// OpenSSL 3 writes 2048; a larger count makes guessing the passphrase of a
/// stolen file slower while keeping a load well under a second.
pub const PEM_ENCRYPTION_ITERATIONS: u32 = 100_000;

/// Encrypted keys asking for more PBKDF2 iterations than this are refused,
/// so that a crafted file cannot keep a thread busy for hours.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Upper bound on scrypt's memory use (128 * N * r bytes) for the same reason.
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// Object identifiers of the algorithms and schemes this module deals with.
mod oid {
    use der::asn1::ObjectIdentifier as Oid;

    pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    pub const DH_PKCS3: Oid = Oid::new_unwrap("1.2.840.113549.1.3.1");
    pub const DH_X942: Oid = Oid::new_unwrap("1.2.840.10046.2.1");
    pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");

    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const P521: Oid = Oid::new_unwrap("1.3.132.0.35");

    pub const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
    pub const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
    pub const SCRYPT: Oid = Oid::new_unwrap("1.3.6.1.4.1.11591.4.11");
    pub const HMAC_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
    pub const HMAC_SHA224: Oid = Oid::new_unwrap("1.2.840.113549.2.8");
    pub const HMAC_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
    pub const HMAC_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
    pub const HMAC_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
    pub const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
    pub const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
    pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
    pub const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");

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
    pub fn describe(oid: &Oid) -> String {
        let dotted = oid.to_string();
        match NAMES.iter().find(|(o, _)| *o == dotted) {
            Some((_, name)) => format!("{name} ({dotted})"),
            None => format!("OID {dotted}"),
        }
    }
}

/// The elliptic curves this library can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn from_oid(oid: &ObjectIdentifier) -> Option<Curve> {
        match *oid {
            oid::P256 => Some(Curve::P256),
            oid::P384 => Some(Curve::P384),
            oid::P521 => Some(Curve::P521),
            _ => None,
        }
    }

    fn oid(self) -> &'static ObjectIdentifier {
        match self {
            Curve::P256 => &oid::P256,
            Curve::P384 => &oid::P384,
            Curve::P521 => &oid::P521,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    fn bits(self) -> u32 {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }

    /// Length of a private scalar and of one point coordinate, in bytes.
    fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    fn signing_algorithm(self) -> &'static aws_lc_rs::signature::EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }
}

/// A private or public key (`QSslKey`).
///
/// Keys are immutable; cloning one is cheap (the key material is shared).
/// Two keys are equal when they have the same algorithm, type and key
/// material, whatever container they were read from. The `Debug` output
/// shows the algorithm, type and size only, never key material.
///
/// ```no_run
/// use sslsocket::{EncodingFormat, KeyAlgorithm, KeyType, SslKey};
///
/// let key = SslKey::from_path("server.key", EncodingFormat::Pem, KeyType::PrivateKey, Some(b"secret"))?;
/// assert_eq!(key.algorithm(), KeyAlgorithm::Rsa);
/// println!("{} bits", key.length());
/// let public = key.public_key()?;
/// print!("{}", public.to_pem(None)?);
/// # Ok::<(), sslsocket::Error>(())
/// ```
#[derive(Clone)]
pub struct SslKey {
    inner: Arc<Inner>,
}

struct Inner {
    algorithm: KeyAlgorithm,
    key_type: KeyType,
    bits: u32,
    curve: Option<Curve>,
    /// PKCS#8 `PrivateKeyInfo` (private keys) or `SubjectPublicKeyInfo`.
    der: Zeroizing<Vec<u8>>,
    /// The `SubjectPublicKeyInfo` of a private key when it came with the key
    /// or was cheap to compute. DSA and DH keys read from PKCS#8 store only
    /// x, and y = g^x mod p is computed by `public_key()` when asked for
    /// (not cached: a cache would give the key interior mutability, which
    /// makes it a poor `HashMap` key).
    public: Option<Vec<u8>>,
}

impl SslKey {
    fn from_parts(
        algorithm: KeyAlgorithm,
        key_type: KeyType,
        bits: u32,
        curve: Option<Curve>,
        der: Zeroizing<Vec<u8>>,
        public: Option<Vec<u8>>,
    ) -> SslKey {
        SslKey {
            inner: Arc::new(Inner {
                algorithm,
                key_type,
                bits,
                curve,
                der,
                public,
            }),
        }
    }

    /// Reads a PEM key, detecting the algorithm and the container format.
    ///
    /// The first PEM block holding a key of `key_type` is used; blocks of
    /// other kinds (certificates, `EC PARAMETERS`, ...) are skipped.
    /// `passphrase` is needed for encrypted keys and ignored otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::NoKey`] if there is no key block at all,
    /// [`Error::KeyEncrypted`] / [`Error::WrongPassphrase`] for a missing or
    /// wrong passphrase, [`Error::UnsupportedKeyEncryption`],
    /// [`Error::UnsupportedKey`], and [`Error::InvalidKey`] for malformed
    /// input or a key of the other type (a private key where a public one
    /// was asked for, or the reverse).
    pub fn from_pem(
        pem: impl AsRef<[u8]>,
        key_type: KeyType,
        passphrase: Option<&[u8]>,
    ) -> Result<SslKey> {
        let data = pem.as_ref();
        let text = String::from_utf8_lossy(data);
        let (blocks, broken) = pem_blocks(&text);
        if blocks.is_empty() && broken.is_none() {
            if data.first() == Some(&0x30) {
                return Err(invalid(
                    "no PEM block found; the data looks like DER: use EncodingFormat::Der",
                ));
            }
            return Err(Error::NoKey);
        }
        let mut other_type = None;
        let mut unsupported = None;
        for block in &blocks {
            match Container::from_label(&block.label) {
                Some(container) if container.key_type() == key_type => {
                    return decode_pem_block(block, container, passphrase);
                }
                Some(container) => {
                    other_type.get_or_insert((container, block.label.clone()));
                }
                None => {
                    if let Some(what) = unsupported_label(&block.label) {
                        unsupported.get_or_insert(what);
                    }
                }
            }
        }
        // A broken block after the wanted key does not matter; one before
        // it, or instead of it, is the most useful thing to report.
        if let Some(error) = broken {
            return Err(error);
        }
        if let Some((container, label)) = other_type {
            return Err(type_mismatch(
                key_type,
                container,
                &format!("a '{label}' PEM block"),
            ));
        }
        if let Some(what) = unsupported {
            return Err(Error::UnsupportedKey { what: what.into() });
        }
        Err(Error::NoKey)
    }

    /// Reads a DER key, detecting the algorithm and the container format
    /// (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, traditional DSA or
    /// `SubjectPublicKeyInfo`) from the structure of the data.
    ///
    /// # Errors
    ///
    /// As for [`SslKey::from_pem`].
    pub fn from_der(
        der: impl AsRef<[u8]>,
        key_type: KeyType,
        passphrase: Option<&[u8]>,
    ) -> Result<SslKey> {
        let der = der.as_ref();
        if der.is_empty() {
            return Err(Error::NoKey);
        }
        if der.starts_with(b"-----BEGIN") {
            return Err(invalid(
                "the data is PEM text, not DER: use EncodingFormat::Pem",
            ));
        }
        let container = Container::sniff(der)?;
        if container.key_type() != key_type {
            return Err(type_mismatch(key_type, container, "the DER data"));
        }
        container.parse(der, passphrase)
    }

    /// Reads a key in the given encoding; see [`SslKey::from_pem`] and
    /// [`SslKey::from_der`].
    ///
    /// # Errors
    ///
    /// As for [`SslKey::from_pem`].
    pub fn from_data(
        data: impl AsRef<[u8]>,
        format: EncodingFormat,
        key_type: KeyType,
        passphrase: Option<&[u8]>,
    ) -> Result<SslKey> {
        match format {
            EncodingFormat::Pem => SslKey::from_pem(data, key_type, passphrase),
            EncodingFormat::Der => SslKey::from_der(data, key_type, passphrase),
        }
    }

    /// Reads a key from a file; see [`SslKey::from_data`].
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read, otherwise as for
    /// [`SslKey::from_pem`].
    pub fn from_path(
        path: impl AsRef<Path>,
        format: EncodingFormat,
        key_type: KeyType,
        passphrase: Option<&[u8]>,
    ) -> Result<SslKey> {
        let path = path.as_ref();
        let data = Zeroizing::new(std::fs::read(path).map_err(|e| Error::file(path, e))?);
        SslKey::from_data(&*data, format, key_type, passphrase)
    }

    /// Qt's constructor `QSslKey(data, algorithm, format, type, passPhrase)`:
    /// like [`SslKey::from_data`], but the key must be of `algorithm`.
    ///
    /// # Errors
    ///
    /// [`Error::KeyAlgorithmMismatch`] for a key of another algorithm,
    /// otherwise as for [`SslKey::from_pem`].
    pub fn new(
        data: impl AsRef<[u8]>,
        algorithm: KeyAlgorithm,
        format: EncodingFormat,
        key_type: KeyType,
        passphrase: Option<&[u8]>,
    ) -> Result<SslKey> {
        let key = SslKey::from_data(data, format, key_type, passphrase)?;
        if key.algorithm() != algorithm {
            return Err(Error::KeyAlgorithmMismatch {
                expected: algorithm,
                found: key.algorithm(),
            });
        }
        Ok(key)
    }

    /// The key's algorithm (`QSslKey::algorithm()`).
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.inner.algorithm
    }

    /// Whether the key is private or public (`QSslKey::type()`).
    pub fn key_type(&self) -> KeyType {
        self.inner.key_type
    }

    /// The key size in bits (`QSslKey::length()`): the modulus size for RSA,
    /// the size of the prime p for DSA and DH, the curve size for EC (256,
    /// 384 or 521) and 256 for Ed25519.
    pub fn length(&self) -> u32 {
        self.inner.bits
    }

    /// The name of the curve of an EC key (`"P-256"`, `"P-384"` or
    /// `"P-521"`); `None` for other algorithms.
    pub fn curve_name(&self) -> Option<&'static str> {
        self.inner.curve.map(Curve::name)
    }

    /// The key as unencrypted DER (`QSslKey::toDer()`): a PKCS#8
    /// `PrivateKeyInfo` for a private key, a `SubjectPublicKeyInfo` for a
    /// public key.
    pub fn to_der(&self) -> Vec<u8> {
        self.inner.der.to_vec()
    }

    /// The key as PEM (`QSslKey::toPem()`).
    ///
    /// A public key is written as `PUBLIC KEY` and ignores `passphrase`. A
    /// private key without a passphrase (or with an empty one, as in Qt) is
    /// written as unencrypted PKCS#8 (`PRIVATE KEY`); with a passphrase, as
    /// encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2 with
    /// PBKDF2-HMAC-SHA256 over [`PEM_ENCRYPTION_ITERATIONS`] iterations,
    /// AES-256-CBC, random salt and IV), which `openssl pkey -passin` reads.
    /// Unlike Qt with OpenSSL, the traditional `RSA PRIVATE KEY` form with
    /// DES-EDE3 encryption is never written.
    ///
    /// # Errors
    ///
    /// Only if the system's random generator or the encoder fails.
    pub fn to_pem(&self, passphrase: Option<&[u8]>) -> Result<String> {
        let passphrase = passphrase.filter(|p| !p.is_empty());
        let pem = match (self.inner.key_type, passphrase) {
            (KeyType::PublicKey, _) => pem_encode("PUBLIC KEY", &self.inner.der)?,
            (KeyType::PrivateKey, None) => pem_encode("PRIVATE KEY", &self.inner.der)?,
            (KeyType::PrivateKey, Some(passphrase)) => {
                let encrypted = encrypt_pkcs8(&self.inner.der, passphrase)?;
                pem_encode("ENCRYPTED PRIVATE KEY", &encrypted)?
            }
        };
        Ok(pem)
    }

    /// The public half of the key, as a [`KeyType::PublicKey`] key; for a
    /// public key, a copy of itself.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] if the public key cannot be derived (e.g. DSA
    /// or DH domain parameters that make no sense).
    pub fn public_key(&self) -> Result<SslKey> {
        if self.inner.key_type == KeyType::PublicKey {
            return Ok(self.clone());
        }
        let spki = match &self.inner.public {
            Some(spki) => spki.clone(),
            None => derive_public(self.inner.algorithm, &self.inner.der)?,
        };
        Ok(SslKey::from_parts(
            self.inner.algorithm,
            KeyType::PublicKey,
            self.inner.bits,
            self.inner.curve,
            Zeroizing::new(spki),
            None,
        ))
    }

    /// The key in the form rustls signs with (PKCS#8).
    ///
    /// # Errors
    ///
    /// [`Error::KeyUnusableForTls`] for public keys and for DSA and DH keys,
    /// which cannot sign TLS handshakes.
    pub(crate) fn to_rustls_private_key(&self) -> Result<PrivateKeyDer<'static>> {
        if self.inner.key_type == KeyType::PublicKey {
            return Err(Error::KeyUnusableForTls {
                reason: "a public key cannot sign TLS handshakes; load the private key".into(),
            });
        }
        match self.inner.algorithm {
            KeyAlgorithm::Rsa | KeyAlgorithm::Ec | KeyAlgorithm::Ed25519 => Ok(
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.inner.der.to_vec())),
            ),
            KeyAlgorithm::Dsa => Err(Error::KeyUnusableForTls {
                reason: "DSA keys cannot sign TLS handshakes; use RSA, EC or Ed25519".into(),
            }),
            KeyAlgorithm::Dh => Err(Error::KeyUnusableForTls {
                reason: "Diffie-Hellman keys cannot sign TLS handshakes; use RSA, EC or Ed25519"
                    .into(),
            }),
            KeyAlgorithm::Opaque => Err(Error::KeyUnusableForTls {
                reason: "opaque keys cannot sign TLS handshakes; use RSA, EC or Ed25519".into(),
            }),
        }
    }
}

impl PartialEq for SslKey {
    fn eq(&self, other: &SslKey) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.inner.algorithm == other.inner.algorithm
                && self.inner.key_type == other.inner.key_type
                && *self.inner.der == *other.inner.der)
    }
}

impl Eq for SslKey {}

impl Hash for SslKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.algorithm.hash(state);
        self.inner.key_type.hash(state);
        self.inner.der.hash(state);
    }
}

impl fmt::Debug for SslKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SslKey");
        s.field("algorithm", &self.inner.algorithm)
            .field("key_type", &self.inner.key_type)
            .field("length", &self.inner.bits);
        if let Some(curve) = self.inner.curve {
            s.field("curve", &curve.name());
        }
        s.finish()
    }
}

// ---------------------------------------------------------------------------
// Containers

/// The container formats a key can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
    DsaTraditional,
    Spki,
    Pkcs1Public,
}

impl Container {
    fn from_label(label: &str) -> Option<Container> {
        Some(match label {
            "PRIVATE KEY" => Container::Pkcs8,
            "ENCRYPTED PRIVATE KEY" => Container::EncryptedPkcs8,
            "RSA PRIVATE KEY" => Container::Pkcs1,
            "EC PRIVATE KEY" => Container::Sec1,
            "DSA PRIVATE KEY" => Container::DsaTraditional,
            "PUBLIC KEY" => Container::Spki,
            "RSA PUBLIC KEY" => Container::Pkcs1Public,
            _ => return None,
        })
    }

    fn key_type(self) -> KeyType {
        match self {
            Container::Spki | Container::Pkcs1Public => KeyType::PublicKey,
            _ => KeyType::PrivateKey,
        }
    }

    fn description(self) -> &'static str {
        match self {
            Container::Pkcs8 => "PKCS#8 private key",
            Container::EncryptedPkcs8 => "encrypted PKCS#8 private key",
            Container::Pkcs1 => "PKCS#1 RSA private key",
            Container::Sec1 => "SEC1 EC private key",
            Container::DsaTraditional => "traditional DSA private key",
            Container::Spki => "SubjectPublicKeyInfo public key",
            Container::Pkcs1Public => "PKCS#1 RSA public key",
        }
    }

    /// Which container a DER blob is, judged by the tags of the top-level
    /// SEQUENCE's elements (the formats differ there, so no guessing by
    /// trial parsing is needed, and a malformed key gets the error of the
    /// parser for its own format).
    fn sniff(der: &[u8]) -> Result<Container> {
        let outer = AnyRef::from_der(der)
            .map_err(|e| invalid(format!("the data is not DER-encoded (truncated?): {e}")))?;
        if outer.tag() != Tag::Sequence {
            return Err(invalid(format!(
                "the data is not a DER-encoded key: expected a SEQUENCE, found {}",
                outer.tag()
            )));
        }
        let tags = outer
            .sequence(|reader| {
                let mut tags = Vec::new();
                while !reader.is_finished() {
                    tags.push(AnyRef::decode(reader)?.tag());
                }
                Ok(tags)
            })
            .map_err(|e| invalid(format!("malformed DER key data: {e}")))?;
        use Tag::{BitString, Integer, OctetString, Sequence};
        let integers = tags.iter().take_while(|t| **t == Integer).count();
        let container = match tags.as_slice() {
            [Integer, Sequence, OctetString, ..] => Container::Pkcs8,
            [Sequence, OctetString] => Container::EncryptedPkcs8,
            [Sequence, BitString] => Container::Spki,
            [Integer, OctetString, ..] => Container::Sec1,
            [Integer, Integer] => Container::Pkcs1Public,
            _ if integers == tags.len() && integers == 6 => Container::DsaTraditional,
            _ if integers == 9 && tags.len() <= 10 => Container::Pkcs1,
            _ => {
                return Err(invalid(
                    "the DER data is not a known key structure (PKCS#8, encrypted PKCS#8, \
                     PKCS#1, SEC1, DSA or SubjectPublicKeyInfo)",
                ))
            }
        };
        Ok(container)
    }

    fn parse(self, der: &[u8], passphrase: Option<&[u8]>) -> Result<SslKey> {
        match self {
            Container::Pkcs8 => parse_pkcs8(der),
            Container::EncryptedPkcs8 => parse_encrypted_pkcs8(der, passphrase),
            Container::Pkcs1 => parse_pkcs1(der),
            Container::Sec1 => parse_sec1(der),
            Container::DsaTraditional => parse_dsa_traditional(der),
            Container::Spki => parse_spki(der),
            Container::Pkcs1Public => parse_pkcs1_public(der),
        }
    }

    fn is_traditional_private(self) -> bool {
        matches!(
            self,
            Container::Pkcs1 | Container::Sec1 | Container::DsaTraditional
        )
    }
}

/// PEM labels of keys in formats this library does not read, with advice.
fn unsupported_label(label: &str) -> Option<&'static str> {
    match label {
        "OPENSSH PRIVATE KEY" => Some(
            "OpenSSH private key format (convert it with `ssh-keygen -p -m PEM -f FILE` \
             or `openssl pkey`)",
        ),
        "SSH2 ENCRYPTED PRIVATE KEY" | "SSH2 PUBLIC KEY" => Some("SSH2 key format"),
        "ENCRYPTED PUBLIC KEY" => Some("encrypted public key"),
        _ => None,
    }
}

fn type_mismatch(wanted: KeyType, found: Container, source: &str) -> Error {
    let (wanted, other) = match wanted {
        KeyType::PrivateKey => ("a private key", "public"),
        KeyType::PublicKey => ("a public key", "private"),
    };
    Error::InvalidKey {
        reason: format!(
            "expected {wanted}, but {source} holds a {other} key ({})",
            found.description()
        ),
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidKey {
        reason: reason.into(),
    }
}

fn encode_error(e: &dyn fmt::Display) -> Error {
    Error::Io(std::io::Error::other(format!("cannot encode the key: {e}")))
}

fn pem_encode(label: &'static str, der: &[u8]) -> Result<String> {
    der::pem::encode_string(label, LineEnding::LF, der).map_err(|e| encode_error(&e))
}

// ---------------------------------------------------------------------------
// PEM

/// One `-----BEGIN label-----` ... `-----END label-----` block.
struct PemBlock {
    label: String,
    /// RFC 1421 headers such as `Proc-Type` and `DEK-Info`.
    headers: Vec<(String, String)>,
    /// The base64 text with all whitespace removed.
    base64: Zeroizing<String>,
}

impl PemBlock {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits PEM text into its blocks, stopping at the first block that is not
/// properly closed (returned as the second value).
///
/// The readers in `der`/`pem-rfc7468` reject the headers of OpenSSL's
/// encrypted traditional keys and text around the blocks, both of which
/// are common in key files, hence this small tolerant reader: text outside
/// blocks is ignored, headers (lines with a colon, up to the first blank
/// line) are collected, and everything else inside a block is base64.
fn pem_blocks(text: &str) -> (Vec<PemBlock>, Option<Error>) {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.trim().to_owned();
        let end_line = format!("-----END {label}-----");
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut base64 = Zeroizing::new(String::new());
        let mut in_headers = true;
        let mut ended = false;
        for line in lines.by_ref() {
            if line == end_line {
                ended = true;
                break;
            }
            if line.starts_with("-----END ") || line.starts_with("-----BEGIN ") {
                let error = invalid(format!(
                    "the PEM block '{label}' is not closed by '{end_line}' (found '{line}')"
                ));
                return (blocks, Some(error));
            }
            if in_headers {
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    continue;
                }
                in_headers = false;
                if line.is_empty() {
                    continue;
                }
            }
            base64.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
        }
        if !ended {
            let error = invalid(format!(
                "the PEM block '{label}' has no '{end_line}' line (truncated?)"
            ));
            return (blocks, Some(error));
        }
        blocks.push(PemBlock {
            label,
            headers,
            base64,
        });
    }
    (blocks, None)
}

fn decode_pem_block(
    block: &PemBlock,
    container: Container,
    passphrase: Option<&[u8]>,
) -> Result<SslKey> {
    let der = Zeroizing::new(base64ct::Base64::decode_vec(&block.base64).map_err(|e| {
        invalid(format!(
            "the base64 text of the PEM block '{}' is malformed: {e}",
            block.label
        ))
    })?);
    if der.is_empty() {
        return Err(invalid(format!("the PEM block '{}' is empty", block.label)));
    }
    let encrypted = block
        .header("Proc-Type")
        .is_some_and(|v| v.to_ascii_uppercase().contains("ENCRYPTED"));
    if !encrypted {
        return container.parse(&der, passphrase);
    }
    if !container.is_traditional_private() {
        return Err(invalid(format!(
            "the PEM block '{}' has encryption headers, which only traditional \
             RSA/EC/DSA private keys may carry",
            block.label
        )));
    }
    let dek_info = block.header("DEK-Info").ok_or_else(|| {
        invalid(format!(
            "the PEM block '{}' says it is encrypted but has no DEK-Info header",
            block.label
        ))
    })?;
    let plain = decrypt_traditional(dek_info, passphrase, &der)?;
    match container.parse(&plain, None) {
        // Decrypting with a wrong key passes the padding check about once in
        // 256 tries; the garbage then fails to parse.
        Err(Error::InvalidKey { .. } | Error::NoKey) => Err(Error::WrongPassphrase),
        other => other,
    }
}

// ---------------------------------------------------------------------------
// Traditional ("Proc-Type: 4,ENCRYPTED") PEM encryption

#[derive(Clone, Copy)]
enum PemCipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
    Des,
}

impl PemCipher {
    fn key_len(self) -> usize {
        match self {
            PemCipher::Aes128 => 16,
            PemCipher::Aes192 | PemCipher::DesEde3 => 24,
            PemCipher::Aes256 => 32,
            PemCipher::Des => 8,
        }
    }

    fn block_len(self) -> usize {
        match self {
            PemCipher::Aes128 | PemCipher::Aes192 | PemCipher::Aes256 => 16,
            PemCipher::DesEde3 | PemCipher::Des => 8,
        }
    }
}

/// Decrypts the body of an encrypted traditional PEM block.
///
/// `DEK-Info: <cipher>,<hex IV>` names the cipher; the key comes from
/// OpenSSL's `EVP_BytesToKey` with MD5, one iteration, and the first 8 bytes
/// of the IV as salt.
fn decrypt_traditional(
    dek_info: &str,
    passphrase: Option<&[u8]>,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let (name, iv_hex) = dek_info
        .split_once(',')
        .ok_or_else(|| invalid(format!("malformed DEK-Info header '{dek_info}'")))?;
    let name = name.trim();
    let cipher = match name.to_ascii_uppercase().as_str() {
        "AES-128-CBC" => PemCipher::Aes128,
        "AES-192-CBC" => PemCipher::Aes192,
        "AES-256-CBC" => PemCipher::Aes256,
        "DES-EDE3-CBC" => PemCipher::DesEde3,
        "DES-CBC" => PemCipher::Des,
        _ => {
            return Err(Error::UnsupportedKeyEncryption {
                scheme: name.to_owned(),
            })
        }
    };
    let iv = decode_hex(iv_hex.trim())
        .filter(|iv| iv.len() == cipher.block_len())
        .ok_or_else(|| invalid(format!("malformed IV in DEK-Info header '{dek_info}'")))?;
    if data.is_empty() || data.len() % cipher.block_len() != 0 {
        return Err(invalid(format!(
            "the encrypted key data ({} bytes) is not a whole number of {name} blocks",
            data.len()
        )));
    }
    let passphrase = passphrase.ok_or(Error::KeyEncrypted)?;
    let key = evp_bytes_to_key(passphrase, &iv[..8], cipher.key_len());
    match cipher {
        PemCipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, &iv, data),
        PemCipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, &iv, data),
        PemCipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, &iv, data),
        PemCipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &iv, data),
        PemCipher::Des => cbc_decrypt::<des::Des>(&key, &iv, data),
    }
}

/// CBC decryption with PKCS#7 padding; a padding failure means the key, and
/// so the passphrase, was wrong.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>>
where
    C: cbc::cipher::BlockDecryptMut + cbc::cipher::BlockCipher + cbc::cipher::KeyInit,
{
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut as _, KeyIvInit as _};
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| invalid("bad key or IV length for the cipher"))?
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .map(Zeroizing::new)
        .map_err(|_| Error::WrongPassphrase)
}

/// OpenSSL's `EVP_BytesToKey(cipher, EVP_md5(), salt, pass, count = 1)`:
/// `D_i = MD5(D_{i-1} || pass || salt)`, concatenated until long enough.
/// Weak by today's standards, but it is what the format defines.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    use md5::{Digest, Md5};
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<[u8; 16]> = None;
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(previous) = &previous {
            md5.update(previous);
        }
        md5.update(passphrase);
        md5.update(salt);
        let digest: [u8; 16] = md5.finalize().into();
        key.extend_from_slice(&digest);
        previous = Some(digest);
    }
    key.truncate(len);
    key
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

// ---------------------------------------------------------------------------
// Encrypted PKCS#8

fn parse_encrypted_pkcs8(der: &[u8], passphrase: Option<&[u8]>) -> Result<SslKey> {
    // The scheme is checked here before pkcs5 sees it: pkcs5 reports an
    // unknown cipher without naming it, and it must never be handed a DES
    // IV of the wrong length or absurd scrypt parameters.
    let algorithm = AnyRef::from_der(der)
        .and_then(|any| {
            any.sequence(|reader| {
                let algorithm = AlgorithmIdentifierRef::decode(reader)?;
                OctetStringRef::decode(reader)?;
                Ok(algorithm)
            })
        })
        .map_err(|e| invalid(format!("malformed encrypted PKCS#8 private key: {e}")))?;
    check_pbes(&algorithm)?;
    let passphrase = passphrase.ok_or(Error::KeyEncrypted)?;
    let info = EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|e| invalid(format!("malformed encrypted PKCS#8 private key: {e}")))?;
    let plain = match pbkdf2_decrypt(&info, passphrase) {
        Some(result) => result?,
        None => Zeroizing::new(
            info.decrypt(passphrase)
                .map_err(|e| match e {
                    pkcs8::Error::EncryptedPrivateKey(
                        pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed,
                    )
                    // The plaintext was not DER: a wrong key that happened to
                    // give valid padding.
                    | pkcs8::Error::Asn1(_) => Error::WrongPassphrase,
                    pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm {
                        oid,
                    }) => Error::UnsupportedKeyEncryption {
                        scheme: oid::describe(&oid),
                    },
                    other => invalid(format!("cannot decrypt the PKCS#8 private key: {other}")),
                })?
                .as_bytes()
                .to_vec(),
        ),
    };
    match parse_pkcs8(&plain) {
        Err(Error::InvalidKey { .. }) => Err(Error::WrongPassphrase),
        other => other,
    }
}

/// PBES2 decryption with PBKDF2 run by aws-lc-rs, for the PRFs it has.
///
/// pkcs5 can do the same, but its pure-Rust PBKDF2 is some thirty times
/// slower in unoptimised builds, which makes loading a key written with
/// [`PEM_ENCRYPTION_ITERATIONS`] take most of a second in a debug build.
/// Returns `None` for schemes left to pkcs5 (scrypt, HMAC-SHA-224).
fn pbkdf2_decrypt(
    info: &EncryptedPrivateKeyInfo<'_>,
    passphrase: &[u8],
) -> Option<Result<Zeroizing<Vec<u8>>>> {
    use pkcs5::pbes2::{EncryptionScheme, Kdf, Pbkdf2Prf};
    let params = info.encryption_algorithm.pbes2()?;
    let Kdf::Pbkdf2(kdf) = &params.kdf else {
        return None;
    };
    let prf = match kdf.prf {
        Pbkdf2Prf::HmacWithSha1 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1,
        Pbkdf2Prf::HmacWithSha256 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        Pbkdf2Prf::HmacWithSha384 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA384,
        Pbkdf2Prf::HmacWithSha512 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
        _ => return None,
    };
    let key_len = params.encryption.key_size();
    if kdf
        .key_length
        .is_some_and(|len| usize::from(len) != key_len)
    {
        return Some(Err(invalid(
            "the PBKDF2 key length does not match the cipher",
        )));
    }
    let block_len = match params.encryption {
        EncryptionScheme::DesEde3Cbc { .. } => 8,
        _ => 16,
    };
    let data = info.encrypted_data;
    if data.is_empty() || data.len() % block_len != 0 {
        return Some(Err(invalid(format!(
            "the encrypted key data ({} bytes) is not a whole number of cipher blocks",
            data.len()
        ))));
    }
    let iterations = std::num::NonZeroU32::new(kdf.iteration_count)?;
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    aws_lc_rs::pbkdf2::derive(prf, iterations, kdf.salt, passphrase, &mut key);
    Some(match params.encryption {
        EncryptionScheme::Aes128Cbc { iv } => cbc_decrypt::<aes::Aes128>(&key, iv, data),
        EncryptionScheme::Aes192Cbc { iv } => cbc_decrypt::<aes::Aes192>(&key, iv, data),
        EncryptionScheme::Aes256Cbc { iv } => cbc_decrypt::<aes::Aes256>(&key, iv, data),
        EncryptionScheme::DesEde3Cbc { iv } => cbc_decrypt::<des::TdesEde3>(&key, iv, data),
        _ => return None,
    })
}

/// Encrypts a PKCS#8 `PrivateKeyInfo` as an `EncryptedPrivateKeyInfo`
/// (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC, random 16-byte salt and IV).
fn encrypt_pkcs8(pkcs8: &[u8], passphrase: &[u8]) -> Result<Vec<u8>> {
    use cbc::cipher::{block_padding::Pkcs7, BlockEncryptMut as _, KeyIvInit as _};
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt)
        .and_then(|()| aws_lc_rs::rand::fill(&mut iv))
        .map_err(|_| Error::Io(std::io::Error::other("the system random generator failed")))?;
    let iterations = std::num::NonZeroU32::new(PEM_ENCRYPTION_ITERATIONS)
        .ok_or_else(|| encode_error(&"zero PBKDF2 iterations"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        passphrase,
        &mut *key,
    );
    let encrypted_data = cbc::Encryptor::<aes::Aes256>::new_from_slices(&*key, &iv)
        .map_err(|e| encode_error(&e))?
        .encrypt_padded_vec_mut::<Pkcs7>(pkcs8);
    let params =
        pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PEM_ENCRYPTION_ITERATIONS, &salt, &iv)
            .map_err(|e| encode_error(&e))?;
    EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: &encrypted_data,
    }
    .to_der()
    .map_err(|e| encode_error(&e))
}

/// Accepts PBES2 with PBKDF2 (HMAC-SHA1/SHA-2) or scrypt, and AES-CBC or
/// DES-EDE3-CBC; anything else is [`Error::UnsupportedKeyEncryption`].
fn check_pbes(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<()> {
    if algorithm.oid != oid::PBES2 {
        return Err(Error::UnsupportedKeyEncryption {
            scheme: oid::describe(&algorithm.oid),
        });
    }
    let malformed = |e: der::Error| invalid(format!("malformed PBES2 parameters: {e}"));
    let params = algorithm
        .parameters
        .ok_or_else(|| invalid("PBES2 without parameters"))?;
    let (kdf, cipher) = params
        .sequence(|reader| {
            Ok((
                AlgorithmIdentifierRef::decode(reader)?,
                AlgorithmIdentifierRef::decode(reader)?,
            ))
        })
        .map_err(malformed)?;

    let iv_len = match cipher.oid {
        oid::AES128_CBC | oid::AES192_CBC | oid::AES256_CBC => 16,
        oid::DES_EDE3_CBC => 8,
        other => {
            return Err(Error::UnsupportedKeyEncryption {
                scheme: format!("PBES2 with {}", oid::describe(&other)),
            })
        }
    };
    let iv = cipher
        .parameters
        .ok_or_else(|| invalid("PBES2 cipher without an IV"))?
        .decode_as::<OctetStringRef<'_>>()
        .map_err(malformed)?;
    if iv.as_bytes().len() != iv_len {
        return Err(invalid(format!(
            "PBES2 cipher IV has {} bytes instead of {iv_len}",
            iv.as_bytes().len()
        )));
    }

    let kdf_params = kdf
        .parameters
        .ok_or_else(|| invalid("PBES2 key derivation without parameters"))?;
    match kdf.oid {
        oid::PBKDF2 => {
            let (iterations, prf) = kdf_params
                .sequence(|reader| {
                    // A salt given as an AlgorithmIdentifier (otherSource) is
                    // not something any tool writes; it fails here as malformed.
                    OctetStringRef::decode(reader)?;
                    let iterations = u32::decode(reader)?;
                    let _key_length = Option::<u32>::decode(reader)?;
                    let prf = Option::<AlgorithmIdentifierRef<'_>>::decode(reader)?;
                    Ok((iterations, prf.map(|p| p.oid)))
                })
                .map_err(malformed)?;
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return Err(invalid(format!(
                    "PBKDF2 iteration count {iterations} is out of range (1 to {MAX_PBKDF2_ITERATIONS})"
                )));
            }
            match prf.unwrap_or(oid::HMAC_SHA1) {
                oid::HMAC_SHA1
                | oid::HMAC_SHA224
                | oid::HMAC_SHA256
                | oid::HMAC_SHA384
                | oid::HMAC_SHA512 => Ok(()),
                other => Err(Error::UnsupportedKeyEncryption {
                    scheme: format!("PBKDF2 with {}", oid::describe(&other)),
                }),
            }
        }
        oid::SCRYPT => {
            let params = pkcs5::pbes2::ScryptParams::try_from(kdf_params).map_err(malformed)?;
            let n = params.cost_parameter;
            let r = u64::from(params.block_size);
            let p = params.parallelization;
            let sane = n >= 2
                && n.is_power_of_two()
                && r >= 1
                && (1..=64).contains(&p)
                && n.checked_mul(r)
                    .and_then(|nr| nr.checked_mul(128))
                    .is_some_and(|bytes| bytes <= MAX_SCRYPT_MEMORY);
            if sane {
                Ok(())
            } else {
                Err(Error::UnsupportedKeyEncryption {
                    scheme: format!("scrypt with N={n}, r={r}, p={p} (out of the accepted range)"),
                })
            }
        }
        other => Err(Error::UnsupportedKeyEncryption {
            scheme: format!("PBES2 key derivation {}", oid::describe(&other)),
        }),
    }
}

// ---------------------------------------------------------------------------
// Unencrypted containers

fn parse_pkcs8(der: &[u8]) -> Result<SslKey> {
    let info = PrivateKeyInfo::from_der(der)
        .map_err(|e| invalid(format!("malformed PKCS#8 private key: {e}")))?;
    let algorithm = info.algorithm;
    match algorithm.oid {
        oid::RSA => {
            check_null_params(&algorithm, "RSA")?;
            let rsa = pkcs1::RsaPrivateKey::from_der(info.private_key)
                .map_err(|e| invalid(format!("malformed RSA key inside PKCS#8: {e}")))?;
            rsa_private(&rsa)
        }
        oid::EC => {
            let curve = curve_from_params(algorithm.parameters)?;
            let ec = sec1::EcPrivateKey::from_der(info.private_key)
                .map_err(|e| invalid(format!("malformed EC key inside PKCS#8: {e}")))?;
            if let Some(inner) = ec.parameters.and_then(|p| p.named_curve()) {
                if inner != *curve.oid() {
                    return Err(invalid(
                        "the EC key's curve differs from the curve in its PKCS#8 header",
                    ));
                }
            }
            ec_private(curve, ec.private_key, ec.public_key.or(info.public_key))
        }
        oid::ED25519 => {
            if algorithm.parameters.is_some() {
                return Err(invalid("Ed25519 keys take no algorithm parameters"));
            }
            let seed = OctetStringRef::from_der(info.private_key)
                .map_err(|e| invalid(format!("malformed Ed25519 key inside PKCS#8: {e}")))?;
            ed25519_private(seed.as_bytes(), info.public_key)
        }
        oid::DSA => {
            let params = DsaParams::from_algorithm(&algorithm)?;
            let x = UintRef::from_der(info.private_key)
                .map_err(|e| invalid(format!("malformed DSA key inside PKCS#8: {e}")))?;
            dsa_private(&params, x, None)
        }
        oid::DH_PKCS3 | oid::DH_X942 => {
            let params = DhParams::from_algorithm(&algorithm)?;
            let x = UintRef::from_der(info.private_key)
                .map_err(|e| invalid(format!("malformed DH key inside PKCS#8: {e}")))?;
            require_positive(x, "DH private value")?;
            let der = pkcs8_der(&algorithm, &x.to_der().map_err(|e| encode_error(&e))?)?;
            Ok(SslKey::from_parts(
                KeyAlgorithm::Dh,
                KeyType::PrivateKey,
                params.bits,
                None,
                der,
                None,
            ))
        }
        other => Err(unsupported_algorithm(&other)),
    }
}

fn parse_spki(der: &[u8]) -> Result<SslKey> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| invalid(format!("malformed SubjectPublicKeyInfo: {e}")))?;
    let algorithm = spki.algorithm;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("the public key BIT STRING has unused bits"))?;
    match algorithm.oid {
        oid::RSA => {
            check_null_params(&algorithm, "RSA")?;
            let rsa = pkcs1::RsaPublicKey::from_der(key)
                .map_err(|e| invalid(format!("malformed RSA public key: {e}")))?;
            rsa_public(&rsa)
        }
        oid::EC => {
            let curve = curve_from_params(algorithm.parameters)?;
            check_point(curve, key)?;
            let der = spki_der(&oid::EC, Some(curve.oid().into()), key)?;
            Ok(public_key_from_parts(
                KeyAlgorithm::Ec,
                curve.bits(),
                Some(curve),
                der,
            ))
        }
        oid::ED25519 => {
            if algorithm.parameters.is_some() {
                return Err(invalid("Ed25519 keys take no algorithm parameters"));
            }
            if key.len() != 32 {
                return Err(invalid(format!(
                    "an Ed25519 public key has 32 bytes, not {}",
                    key.len()
                )));
            }
            let der = spki_der(&oid::ED25519, None, key)?;
            Ok(public_key_from_parts(KeyAlgorithm::Ed25519, 256, None, der))
        }
        oid::DSA => {
            let params = DsaParams::from_algorithm(&algorithm)?;
            let y = UintRef::from_der(key)
                .map_err(|e| invalid(format!("malformed DSA public key: {e}")))?;
            require_positive(y, "DSA public value")?;
            let params_der = params.encoded()?;
            let params_any = AnyRef::from_der(&params_der).map_err(|e| encode_error(&e))?;
            let der = spki_der(&oid::DSA, Some(params_any), &encode(y)?)?;
            Ok(public_key_from_parts(
                KeyAlgorithm::Dsa,
                params.bits(),
                None,
                der,
            ))
        }
        oid::DH_PKCS3 | oid::DH_X942 => {
            let params = DhParams::from_algorithm(&algorithm)?;
            let y = UintRef::from_der(key)
                .map_err(|e| invalid(format!("malformed DH public key: {e}")))?;
            require_positive(y, "DH public value")?;
            let der = spki_der(&algorithm.oid, algorithm.parameters, &encode(y)?)?;
            Ok(public_key_from_parts(
                KeyAlgorithm::Dh,
                params.bits,
                None,
                der,
            ))
        }
        other => Err(unsupported_algorithm(&other)),
    }
}

fn parse_pkcs1(der: &[u8]) -> Result<SslKey> {
    let rsa = pkcs1::RsaPrivateKey::from_der(der)
        .map_err(|e| invalid(format!("malformed PKCS#1 RSA private key: {e}")))?;
    rsa_private(&rsa)
}

fn parse_pkcs1_public(der: &[u8]) -> Result<SslKey> {
    let rsa = pkcs1::RsaPublicKey::from_der(der)
        .map_err(|e| invalid(format!("malformed PKCS#1 RSA public key: {e}")))?;
    rsa_public(&rsa)
}

fn parse_sec1(der: &[u8]) -> Result<SslKey> {
    let ec = sec1::EcPrivateKey::from_der(der).map_err(|e| {
        if sec1_has_explicit_curve(der) {
            explicit_curve()
        } else {
            invalid(format!("malformed SEC1 EC private key: {e}"))
        }
    })?;
    let curve_oid = ec
        .parameters
        .and_then(|p| p.named_curve())
        .ok_or_else(|| invalid("the SEC1 EC private key does not name its curve"))?;
    let curve = Curve::from_oid(&curve_oid).ok_or_else(|| unsupported_curve(&curve_oid))?;
    ec_private(curve, ec.private_key, ec.public_key)
}

/// Whether a SEC1 key that the sec1 crate refused spells its curve out
/// (`[0] SEQUENCE { ... }`) instead of naming it: sec1 only knows named
/// curves, and such a key deserves "unsupported" rather than "malformed".
fn sec1_has_explicit_curve(der: &[u8]) -> bool {
    AnyRef::from_der(der)
        .and_then(|any| {
            any.sequence(|reader| {
                UintRef::decode(reader)?;
                OctetStringRef::decode(reader)?;
                let params = reader.decode::<der::asn1::ContextSpecific<AnyRef<'_>>>()?;
                while !reader.is_finished() {
                    AnyRef::decode(reader)?;
                }
                Ok(params.tag_number.value() == 0 && params.value.tag() == Tag::Sequence)
            })
        })
        .unwrap_or(false)
}

fn explicit_curve() -> Error {
    Error::UnsupportedKey {
        what: "EC key with explicit curve parameters (use a named curve: P-256, P-384 or P-521)"
            .into(),
    }
}

/// OpenSSL's traditional DSA private key: `SEQUENCE { version, p, q, g, y, x }`.
fn parse_dsa_traditional(der: &[u8]) -> Result<SslKey> {
    let (params, y, x) = AnyRef::from_der(der)
        .and_then(|any| {
            any.sequence(|reader| {
                let version = UintRef::decode(reader)?;
                if version.as_bytes() != [0] {
                    return Err(Tag::Integer.value_error());
                }
                let p = UintRef::decode(reader)?;
                let q = UintRef::decode(reader)?;
                let g = UintRef::decode(reader)?;
                let y = UintRef::decode(reader)?;
                let x = UintRef::decode(reader)?;
                Ok((DsaParams { p, q, g }, y, x))
            })
        })
        .map_err(|e| invalid(format!("malformed traditional DSA private key: {e}")))?;
    dsa_private(&params, x, Some(y))
}

// ---------------------------------------------------------------------------
// Per-algorithm construction of the canonical forms

fn rsa_private(rsa: &pkcs1::RsaPrivateKey<'_>) -> Result<SslKey> {
    require_positive(rsa.modulus, "RSA modulus")?;
    require_positive(rsa.public_exponent, "RSA public exponent")?;
    require_positive(rsa.private_exponent, "RSA private exponent")?;
    let inner = Zeroizing::new(rsa.to_der().map_err(|e| encode_error(&e))?);
    let der = pkcs8_der(
        &AlgorithmIdentifierRef {
            oid: oid::RSA,
            parameters: Some(AnyRef::NULL),
        },
        &inner,
    )?;
    let public = rsa_spki(&rsa.public_key())?;
    Ok(SslKey::from_parts(
        KeyAlgorithm::Rsa,
        KeyType::PrivateKey,
        bit_length(rsa.modulus.as_bytes()),
        None,
        der,
        Some(public),
    ))
}

fn rsa_public(rsa: &pkcs1::RsaPublicKey<'_>) -> Result<SslKey> {
    require_positive(rsa.modulus, "RSA modulus")?;
    require_positive(rsa.public_exponent, "RSA public exponent")?;
    Ok(public_key_from_parts(
        KeyAlgorithm::Rsa,
        bit_length(rsa.modulus.as_bytes()),
        None,
        rsa_spki(rsa)?,
    ))
}

fn rsa_spki(rsa: &pkcs1::RsaPublicKey<'_>) -> Result<Vec<u8>> {
    let key = rsa.to_der().map_err(|e| encode_error(&e))?;
    spki_der(&oid::RSA, Some(AnyRef::NULL), &key)
}

fn ec_private(curve: Curve, scalar: &[u8], public: Option<&[u8]>) -> Result<SslKey> {
    // SEC1 asks for a fixed-length scalar, but some encoders drop leading zeros.
    let significant = &scalar[scalar.iter().take_while(|b| **b == 0).count()..];
    let len = curve.field_len();
    if significant.is_empty() || significant.len() > len {
        return Err(invalid(format!(
            "the EC private key is not a valid {} scalar",
            curve.name()
        )));
    }
    let mut d = Zeroizing::new(vec![0u8; len]);
    d[len - significant.len()..].copy_from_slice(significant);

    let point = match public {
        Some(point) => {
            check_point(curve, point)?;
            // A mismatched pair would otherwise load here and only fail
            // later, inside a TLS configuration.
            aws_lc_rs::signature::EcdsaKeyPair::from_private_key_and_public_key(
                curve.signing_algorithm(),
                &d,
                point,
            )
            .map_err(|e| {
                invalid(format!(
                    "the EC public key does not match the private key: {e}"
                ))
            })?;
            point.to_vec()
        }
        None => {
            // aws-lc computes the public point when the SEC1 structure lacks it.
            let sec1 = Zeroizing::new(
                sec1::EcPrivateKey {
                    private_key: &d,
                    parameters: Some(sec1::EcParameters::NamedCurve(*curve.oid())),
                    public_key: None,
                }
                .to_der()
                .map_err(|e| encode_error(&e))?,
            );
            let pair = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_der(
                curve.signing_algorithm(),
                &sec1,
            )
            .map_err(|e| {
                invalid(format!(
                    "the EC private key is not valid on {}: {e}",
                    curve.name()
                ))
            })?;
            pair.public_key().as_ref().to_vec()
        }
    };
    // OpenSSL's PKCS#8 form: curve in the PKCS#8 header only, public point kept.
    let inner = Zeroizing::new(
        sec1::EcPrivateKey {
            private_key: &d,
            parameters: None,
            public_key: Some(&point),
        }
        .to_der()
        .map_err(|e| encode_error(&e))?,
    );
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::EC,
        parameters: Some(curve.oid().into()),
    };
    let der = pkcs8_der(&algorithm, &inner)?;
    let public = spki_der(&oid::EC, Some(curve.oid().into()), &point)?;
    Ok(SslKey::from_parts(
        KeyAlgorithm::Ec,
        KeyType::PrivateKey,
        curve.bits(),
        Some(curve),
        der,
        Some(public),
    ))
}

/// Accepts an uncompressed or compressed point of the right length.
fn check_point(curve: Curve, point: &[u8]) -> Result<()> {
    let len = curve.field_len();
    let ok = match point.first() {
        Some(0x04) => point.len() == 1 + 2 * len,
        Some(0x02 | 0x03) => point.len() == 1 + len,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "the EC public key is not a {} point",
            curve.name()
        )))
    }
}

fn ed25519_private(seed: &[u8], public: Option<&[u8]>) -> Result<SslKey> {
    use aws_lc_rs::signature::Ed25519KeyPair;
    if seed.len() != 32 {
        return Err(invalid(format!(
            "an Ed25519 private key has 32 bytes, not {}",
            seed.len()
        )));
    }
    let pair = match public {
        Some(public) => Ed25519KeyPair::from_seed_and_public_key(seed, public).map_err(|e| {
            invalid(format!(
                "the Ed25519 public key does not match the private key: {e}"
            ))
        })?,
        None => Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| invalid(format!("invalid Ed25519 private key: {e}")))?,
    };
    let inner = Zeroizing::new(
        OctetStringRef::new(seed)
            .and_then(|s| s.to_der())
            .map_err(|e| encode_error(&e))?,
    );
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::ED25519,
        parameters: None,
    };
    let der = pkcs8_der(&algorithm, &inner)?;
    let public = spki_der(&oid::ED25519, None, pair.public_key().as_ref())?;
    Ok(SslKey::from_parts(
        KeyAlgorithm::Ed25519,
        KeyType::PrivateKey,
        256,
        None,
        der,
        Some(public),
    ))
}

/// DSA domain parameters `Dss-Parms ::= SEQUENCE { p, q, g }`.
struct DsaParams<'a> {
    p: UintRef<'a>,
    q: UintRef<'a>,
    g: UintRef<'a>,
}

impl<'a> DsaParams<'a> {
    fn from_algorithm(algorithm: &AlgorithmIdentifierRef<'a>) -> Result<DsaParams<'a>> {
        let params = algorithm.parameters.ok_or_else(|| {
            invalid("the DSA key has no domain parameters (p, q, g), so it cannot be used alone")
        })?;
        let params = params
            .sequence(|reader| {
                Ok(DsaParams {
                    p: UintRef::decode(reader)?,
                    q: UintRef::decode(reader)?,
                    g: UintRef::decode(reader)?,
                })
            })
            .map_err(|e| invalid(format!("malformed DSA parameters: {e}")))?;
        params.check()?;
        Ok(params)
    }

    fn check(&self) -> Result<()> {
        require_positive(self.p, "DSA p")?;
        require_positive(self.q, "DSA q")?;
        require_positive(self.g, "DSA g")
    }

    fn bits(&self) -> u32 {
        bit_length(self.p.as_bytes())
    }

    fn encoded(&self) -> Result<Vec<u8>> {
        let mut content = encode(self.p)?;
        content.extend(encode(self.q)?);
        content.extend(encode(self.g)?);
        AnyRef::new(Tag::Sequence, &content)
            .and_then(|any| any.to_der())
            .map_err(|e| encode_error(&e))
    }
}

fn dsa_private(params: &DsaParams<'_>, x: UintRef<'_>, y: Option<UintRef<'_>>) -> Result<SslKey> {
    params.check()?;
    require_positive(x, "DSA private value")?;
    let params_der = params.encoded()?;
    let params_any = AnyRef::from_der(&params_der).map_err(|e| encode_error(&e))?;
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::DSA,
        parameters: Some(params_any),
    };
    let x_der = Zeroizing::new(encode(x)?);
    let der = pkcs8_der(&algorithm, &x_der)?;
    let public = match y {
        Some(y) => {
            require_positive(y, "DSA public value")?;
            Some(spki_der(&oid::DSA, Some(params_any), &encode(y)?)?)
        }
        None => None,
    };
    Ok(SslKey::from_parts(
        KeyAlgorithm::Dsa,
        KeyType::PrivateKey,
        params.bits(),
        None,
        der,
        public,
    ))
}

/// The prime and generator of Diffie-Hellman parameters, in either PKCS#3
/// form (`SEQUENCE { p, g, privateValueLength OPTIONAL }`) or X9.42 form
/// (`SEQUENCE { p, g, q, j OPTIONAL, validationParms OPTIONAL }`); both start
/// with p and g.
struct DhParams {
    bits: u32,
    p: Vec<u8>,
    g: Vec<u8>,
}

impl DhParams {
    fn from_algorithm(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<DhParams> {
        let params = algorithm
            .parameters
            .ok_or_else(|| invalid("the DH key has no domain parameters"))?;
        let (p, g) = params
            .sequence(|reader| {
                let p = UintRef::decode(reader)?;
                let g = UintRef::decode(reader)?;
                while !reader.is_finished() {
                    AnyRef::decode(reader)?;
                }
                Ok((p, g))
            })
            .map_err(|e| invalid(format!("malformed DH parameters: {e}")))?;
        require_positive(p, "DH p")?;
        require_positive(g, "DH g")?;
        Ok(DhParams {
            bits: bit_length(p.as_bytes()),
            p: p.as_bytes().to_vec(),
            g: g.as_bytes().to_vec(),
        })
    }
}

/// Computes the `SubjectPublicKeyInfo` of a private key from its canonical
/// PKCS#8 form, for keys whose public half was not known at load time.
fn derive_public(algorithm: KeyAlgorithm, pkcs8: &[u8]) -> Result<Vec<u8>> {
    let info = PrivateKeyInfo::from_der(pkcs8)
        .map_err(|e| invalid(format!("malformed PKCS#8 private key: {e}")))?;
    let x = UintRef::from_der(info.private_key)
        .map_err(|e| invalid(format!("malformed private value: {e}")))?;
    match algorithm {
        KeyAlgorithm::Dsa => {
            let params = DsaParams::from_algorithm(&info.algorithm)?;
            let y = mod_exp(params.g.as_bytes(), x.as_bytes(), params.p.as_bytes())?;
            let y = UintRef::new(&y).map_err(|e| encode_error(&e))?;
            spki_der(&oid::DSA, info.algorithm.parameters, &encode(y)?)
        }
        KeyAlgorithm::Dh => {
            let params = DhParams::from_algorithm(&info.algorithm)?;
            let y = mod_exp(&params.g, x.as_bytes(), &params.p)?;
            let y = UintRef::new(&y).map_err(|e| encode_error(&e))?;
            spki_der(&info.algorithm.oid, info.algorithm.parameters, &encode(y)?)
        }
        other => Err(invalid(format!(
            "internal error: no public key recorded for a {other} key"
        ))),
    }
}

/// `base ^ exponent mod modulus` over big-endian unsigned integers: the DSA
/// and DH public value y = g^x mod p.
fn mod_exp(base: &[u8], exponent: &[u8], modulus: &[u8]) -> Result<Vec<u8>> {
    use num_bigint::BigUint;
    let modulus = BigUint::from_bytes_be(modulus);
    // An even or tiny modulus is not a prime: refuse instead of computing
    // nonsense (and num-bigint panics on a zero modulus).
    if modulus.bits() < 2 || !modulus.bit(0) {
        return Err(invalid("the key's prime p is not an odd prime"));
    }
    let result = BigUint::from_bytes_be(base).modpow(&BigUint::from_bytes_be(exponent), &modulus);
    Ok(result.to_bytes_be())
}

// ---------------------------------------------------------------------------
// Small DER helpers

fn pkcs8_der(
    algorithm: &AlgorithmIdentifierRef<'_>,
    private_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    PrivateKeyInfo {
        algorithm: *algorithm,
        private_key,
        public_key: None,
    }
    .to_der()
    .map(Zeroizing::new)
    .map_err(|e| encode_error(&e))
}

fn spki_der(oid: &ObjectIdentifier, parameters: Option<AnyRef<'_>>, key: &[u8]) -> Result<Vec<u8>> {
    let subject_public_key = BitStringRef::from_bytes(key).map_err(|e| encode_error(&e))?;
    SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: *oid,
            parameters,
        },
        subject_public_key,
    }
    .to_der()
    .map_err(|e| encode_error(&e))
}

fn public_key_from_parts(
    algorithm: KeyAlgorithm,
    bits: u32,
    curve: Option<Curve>,
    spki: Vec<u8>,
) -> SslKey {
    SslKey::from_parts(
        algorithm,
        KeyType::PublicKey,
        bits,
        curve,
        Zeroizing::new(spki),
        None,
    )
}

fn encode(value: UintRef<'_>) -> Result<Vec<u8>> {
    value.to_der().map_err(|e| encode_error(&e))
}

fn require_positive(value: UintRef<'_>, what: &str) -> Result<()> {
    if value.as_bytes().iter().all(|b| *b == 0) {
        return Err(invalid(format!("the {what} is zero")));
    }
    Ok(())
}

/// RSA keys put NULL (or, from some encoders, nothing) in their
/// algorithm parameters; anything else is a different algorithm in disguise.
fn check_null_params(algorithm: &AlgorithmIdentifierRef<'_>, name: &str) -> Result<()> {
    match algorithm.parameters {
        None => Ok(()),
        Some(p) if p.tag() == Tag::Null => Ok(()),
        Some(_) => Err(invalid(format!(
            "unexpected algorithm parameters for an {name} key"
        ))),
    }
}

fn curve_from_params(params: Option<AnyRef<'_>>) -> Result<Curve> {
    let params = params.ok_or_else(|| invalid("the EC key does not name its curve"))?;
    match params.tag() {
        Tag::ObjectIdentifier => {
            let oid = params
                .decode_as::<ObjectIdentifier>()
                .map_err(|e| invalid(format!("malformed EC curve identifier: {e}")))?;
            Curve::from_oid(&oid).ok_or_else(|| unsupported_curve(&oid))
        }
        Tag::Sequence => Err(explicit_curve()),
        other => Err(invalid(format!("unexpected EC parameters of type {other}"))),
    }
}

fn unsupported_curve(oid: &ObjectIdentifier) -> Error {
    Error::UnsupportedKey {
        what: format!(
            "EC curve {} (supported: P-256, P-384, P-521)",
            oid::describe(oid)
        ),
    }
}

fn unsupported_algorithm(oid: &ObjectIdentifier) -> Error {
    Error::UnsupportedKey {
        what: format!(
            "key algorithm {} (supported: RSA, DSA, EC, Ed25519, DH)",
            oid::describe(oid)
        ),
    }
}

fn bit_length(big_endian: &[u8]) -> u32 {
    let significant = &big_endian[big_endian.iter().take_while(|b| **b == 0).count()..];
    match significant.first() {
        None => 0,
        Some(first) => (significant.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy DSA key (p = 23, q = 11, g = 4, x = 3, so y = 4^3 mod 23 = 18),
    /// built by hand: the format does not care about sizes, and building it
    /// here keeps the unit tests free of the `openssl` tool.
    fn toy_dsa_pkcs8() -> Vec<u8> {
        let params = DsaParams {
            p: UintRef::new(&[23]).unwrap(),
            q: UintRef::new(&[11]).unwrap(),
            g: UintRef::new(&[4]).unwrap(),
        };
        let params_der = params.encoded().unwrap();
        let algorithm = AlgorithmIdentifierRef {
            oid: oid::DSA,
            parameters: Some(AnyRef::from_der(&params_der).unwrap()),
        };
        let x = encode(UintRef::new(&[3]).unwrap()).unwrap();
        pkcs8_der(&algorithm, &x).unwrap().to_vec()
    }

    #[test]
    fn dsa_public_value_is_g_to_the_x_mod_p() {
        let key = SslKey::from_der(toy_dsa_pkcs8(), KeyType::PrivateKey, None).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Dsa);
        assert_eq!(key.length(), 5);
        let public = key.public_key().unwrap();
        let spki = SubjectPublicKeyInfoRef::from_der(&public.inner.der).unwrap();
        let y = UintRef::from_der(spki.subject_public_key.as_bytes().unwrap()).unwrap();
        assert_eq!(y.as_bytes(), [18]);
        assert_eq!(key.public_key().unwrap(), public);
    }

    #[test]
    fn even_modulus_is_refused_not_panicking() {
        assert!(mod_exp(&[4], &[3], &[0]).is_err());
        assert!(mod_exp(&[4], &[3], &[22]).is_err());
        assert_eq!(mod_exp(&[4], &[3], &[23]).unwrap(), [18]);
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -pass pass:secret -S 0102030405060708 -md md5 -P`
        let key = evp_bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        assert_eq!(
            decode_hex("C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB"),
            Some(key.to_vec())
        );
        let short = evp_bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 24);
        assert_eq!(&short[..], &key[..24]);
    }

    #[test]
    fn hex_and_bit_lengths() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é0"), None);
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
    }

    #[test]
    fn pem_reader_collects_headers_and_body() {
        let text = "junk\r\n-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\n\
                    DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\r\n\r\n\
                    AAEC\r\nAwQ=\r\n-----END RSA PRIVATE KEY-----\r\n";
        let (blocks, broken) = pem_blocks(text);
        assert!(broken.is_none());
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "RSA PRIVATE KEY");
        assert_eq!(blocks[0].header("proc-type"), Some("4,ENCRYPTED"));
        assert_eq!(
            blocks[0].header("DEK-Info"),
            Some("AES-128-CBC,00112233445566778899AABBCCDDEEFF")
        );
        assert_eq!(blocks[0].base64.as_str(), "AAECAwQ=");

        assert!(pem_blocks("-----BEGIN X-----\nAAAA\n").1.is_some());
        assert!(pem_blocks("-----BEGIN X-----\nAAAA\n-----END Y-----\n")
            .1
            .is_some());
        let (blocks, broken) =
            pem_blocks("-----BEGIN X-----\nAAAA\n-----END X-----\n-----BEGIN Y-----\n");
        assert_eq!(blocks.len(), 1);
        assert!(broken.is_some());
        let (blocks, broken) = pem_blocks("no blocks here");
        assert!(blocks.is_empty() && broken.is_none());
    }

    #[test]
    fn traditional_encryption_errors() {
        let data = [0u8; 32];
        let unsupported = decrypt_traditional("CAMELLIA-128-CBC,00", None, &data);
        assert!(
            matches!(unsupported, Err(Error::UnsupportedKeyEncryption { ref scheme }) if scheme == "CAMELLIA-128-CBC")
        );
        let iv = "00112233445566778899AABBCCDDEEFF";
        assert!(matches!(
            decrypt_traditional(&format!("AES-128-CBC,{iv}"), None, &data),
            Err(Error::KeyEncrypted)
        ));
        assert!(matches!(
            decrypt_traditional("AES-128-CBC,0011", Some(b"x"), &data),
            Err(Error::InvalidKey { .. })
        ));
        assert!(matches!(
            decrypt_traditional(&format!("AES-128-CBC,{iv}"), Some(b"x"), &data[..20]),
            Err(Error::InvalidKey { .. })
        ));
        assert!(matches!(
            decrypt_traditional("AES-128-CBC", Some(b"x"), &data),
            Err(Error::InvalidKey { .. })
        ));
    }

    #[test]
    fn rustls_gets_pkcs8_for_signing_keys() {
        use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let ec = EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        let ed = Ed25519KeyPair::generate_pkcs8v1(&rng).unwrap();
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let rsa =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&rsa).unwrap();
        for (der, algorithm) in [
            (ec.as_ref(), KeyAlgorithm::Ec),
            (ed.as_ref(), KeyAlgorithm::Ed25519),
            (rsa.as_ref(), KeyAlgorithm::Rsa),
        ] {
            let key = SslKey::from_der(der, KeyType::PrivateKey, None).unwrap();
            assert_eq!(key.algorithm(), algorithm);
            let rustls_key = key.to_rustls_private_key().unwrap();
            let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&rustls_key)
                .unwrap_or_else(|e| panic!("rustls refuses the {algorithm} key: {e}"));
            // rustls derives the same public key as we do.
            let spki = signer.public_key().expect("public key");
            assert_eq!(spki.as_ref(), key.public_key().unwrap().to_der());

            let public = key.public_key().unwrap();
            assert!(matches!(
                public.to_rustls_private_key(),
                Err(Error::KeyUnusableForTls { .. })
            ));
        }

        let dsa = SslKey::from_der(toy_dsa_pkcs8(), KeyType::PrivateKey, None).unwrap();
        match dsa.to_rustls_private_key() {
            Err(Error::KeyUnusableForTls { reason }) => assert_eq!(
                reason,
                "DSA keys cannot sign TLS handshakes; use RSA, EC or Ed25519"
            ),
            other => panic!("expected KeyUnusableForTls, got {other:?}"),
        }
    }

    #[test]
    fn mismatched_ec_halves_are_refused() {
        use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING as P256};
        let a = EcdsaKeyPair::generate(&P256).unwrap();
        let b = EcdsaKeyPair::generate(&P256).unwrap();
        use aws_lc_rs::encoding::{AsBigEndian, EcPrivateKeyBin};
        let d: EcPrivateKeyBin<'_> = a.private_key().as_be_bytes().unwrap();
        let good = ec_private(Curve::P256, d.as_ref(), Some(a.public_key().as_ref())).unwrap();
        let computed = ec_private(Curve::P256, d.as_ref(), None).unwrap();
        assert_eq!(good, computed);
        assert!(matches!(
            ec_private(Curve::P256, d.as_ref(), Some(b.public_key().as_ref())),
            Err(Error::InvalidKey { .. })
        ));
        assert!(matches!(
            ec_private(Curve::P384, d.as_ref(), None),
            Ok(_) | Err(Error::InvalidKey { .. })
        ));
        assert!(ec_private(Curve::P256, &[0; 32], None).is_err());
        assert!(ec_private(Curve::P256, &[1; 33], None).is_err());
    }

    #[test]
    fn sniffing_picks_the_container_by_structure() {
        let dsa = toy_dsa_pkcs8();
        assert_eq!(Container::sniff(&dsa).unwrap(), Container::Pkcs8);
        // SEQUENCE { INTEGER 0, INTEGER 1 .. 5 } is a traditional DSA key.
        let mut content = Vec::new();
        for v in 0u8..6 {
            content.extend(encode(UintRef::new(&[v]).unwrap()).unwrap());
        }
        let seq = AnyRef::new(Tag::Sequence, &content)
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(Container::sniff(&seq).unwrap(), Container::DsaTraditional);
        assert!(Container::sniff(&[0x02, 0x01, 0x00]).is_err());
        assert!(Container::sniff(&[0x30, 0x05]).is_err());
    }
}
