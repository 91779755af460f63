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

mod canonical;
mod container;
mod curve;
mod dsa;
mod encryption;
mod oid;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use der::zeroize::Zeroizing;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{Error, Result};
use crate::pem;
use crate::ssl::{EncodingFormat, KeyAlgorithm, KeyType};
use container::{unsupported_label, Container};
use curve::Curve;

/// PBKDF2-HMAC-SHA256 iterations used by [`SslKey::to_pem`] when it encrypts.
///
/// OpenSSL 3 writes 2048; a larger count makes guessing the passphrase of a
/// stolen file slower while keeping a load well under a second.
pub const PEM_ENCRYPTION_ITERATIONS: u32 = 100_000;

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
        let blocks = pem::blocks(data);
        if blocks.is_empty() {
            if data.first() == Some(&0x30) {
                return Err(invalid(
                    "no PEM block found; the data looks like DER: use EncodingFormat::Der",
                ));
            }
            return Err(Error::NoKey);
        }
        let mut broken = None;
        let mut other_type = None;
        let mut unsupported = None;
        for block in &blocks {
            // The search ends at the first block that is not properly
            // closed: keys after it are not read.
            if let Err(damage @ pem::Damage::NotClosed { .. }) = &block.body {
                broken = Some(damaged(block, damage));
                break;
            }
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
            (KeyType::PublicKey, _) => pem::encode("PUBLIC KEY", &self.inner.der),
            (KeyType::PrivateKey, None) => pem::encode("PRIVATE KEY", &self.inner.der),
            (KeyType::PrivateKey, Some(passphrase)) => {
                let encrypted = encryption::encrypt_pkcs8(&self.inner.der, passphrase)?;
                pem::encode("ENCRYPTED PRIVATE KEY", &encrypted)
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
            None => dsa::derive_public(self.inner.algorithm, &self.inner.der)?,
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

pub(super) fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidKey {
        reason: reason.into(),
    }
}

pub(super) fn encode_error(e: &dyn fmt::Display) -> Error {
    Error::Io(std::io::Error::other(format!("cannot encode the key: {e}")))
}

fn decode_pem_block(
    block: &pem::Block,
    container: Container,
    passphrase: Option<&[u8]>,
) -> Result<SslKey> {
    let der = block
        .body
        .as_ref()
        .map_err(|damage| damaged(block, damage))?;
    let encrypted = block
        .header("Proc-Type")
        .is_some_and(|v| v.to_ascii_uppercase().contains("ENCRYPTED"));
    if !encrypted {
        return container.parse(der, passphrase);
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
    let plain = encryption::decrypt_traditional(dek_info, passphrase, der)?;
    match container.parse(&plain, None) {
        // Decrypting with a wrong key passes the padding check about once in
        // 256 tries; the garbage then fails to parse.
        Err(Error::InvalidKey { .. } | Error::NoKey) => Err(Error::WrongPassphrase),
        other => other,
    }
}

fn damaged(block: &pem::Block, damage: &pem::Damage) -> Error {
    invalid(format!("the PEM block '{}' {damage}", block.label))
}

#[cfg(test)]
mod tests {
    use super::dsa::toy_dsa_pkcs8;
    use super::*;

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
    fn a_block_left_open_ends_the_search() {
        let key = pem::encode("PRIVATE KEY", &toy_dsa_pkcs8());
        let expected = SslKey::from_der(toy_dsa_pkcs8(), KeyType::PrivateKey, None).unwrap();
        let open_before = format!("-----BEGIN CERTIFICATE-----\nAAAA\n{key}");
        match SslKey::from_pem(&open_before, KeyType::PrivateKey, None) {
            Err(Error::InvalidKey { reason }) => assert_eq!(
                reason,
                "the PEM block 'CERTIFICATE' is not closed by '-----END CERTIFICATE-----' \
                 (found '-----BEGIN PRIVATE KEY-----')"
            ),
            other => panic!("expected InvalidKey, got {other:?}"),
        }
        // Damage inside another closed block does not matter.
        let bad_base64_before =
            format!("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n{key}");
        assert_eq!(
            SslKey::from_pem(&bad_base64_before, KeyType::PrivateKey, None).unwrap(),
            expected
        );
    }
}
