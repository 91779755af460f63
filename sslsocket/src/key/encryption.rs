//! Encrypted keys: PKCS#8 `EncryptedPrivateKeyInfo` (PBES2) in both
//! directions, and the decryption of OpenSSL's traditional encrypted PEM
//! (`Proc-Type: 4,ENCRYPTED` with a `DEK-Info` header).

use der::asn1::{AnyRef, OctetStringRef};
use der::zeroize::Zeroizing;
use der::{Decode, Encode};
use pkcs8::{pkcs5, EncryptedPrivateKeyInfo};
use spki::AlgorithmIdentifierRef;

use super::{encode_error, invalid, oid, PEM_ENCRYPTION_ITERATIONS};
use crate::error::{Error, Result};

/// Encrypted keys asking for more PBKDF2 iterations than this are refused,
/// so that a crafted file cannot keep a thread busy for hours.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Upper bound on scrypt's memory use (128 * N * r bytes) for the same reason.
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// Upper bound on scrypt's total work (128 * N * r * p bytes mixed, the p
/// lanes running one after another): a few seconds at most, like the PBKDF2
/// bound, however the cost is split between memory and parallelism.
const MAX_SCRYPT_WORK: u64 = 1024 * 1024 * 1024;

/// Decrypts an `EncryptedPrivateKeyInfo` into the DER of the
/// `PrivateKeyInfo` inside.
pub(super) fn decrypt_pkcs8(der: &[u8], passphrase: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>> {
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
    match pbkdf2_decrypt(&info, passphrase) {
        Some(result) => result,
        None => Ok(Zeroizing::new(
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
        )),
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
pub(super) fn encrypt_pkcs8(pkcs8: &[u8], passphrase: &[u8]) -> Result<Vec<u8>> {
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
            let memory = n.checked_mul(r).and_then(|nr| nr.checked_mul(128));
            let work = memory.and_then(|bytes| bytes.checked_mul(u64::from(p)));
            let sane = n >= 2
                && n.is_power_of_two()
                && r >= 1
                && p >= 1
                && memory.is_some_and(|bytes| bytes <= MAX_SCRYPT_MEMORY)
                && work.is_some_and(|bytes| bytes <= MAX_SCRYPT_WORK);
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
pub(super) fn decrypt_traditional(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check_scheme(kdf: pkcs5::pbes2::Kdf<'_>) -> Result<()> {
        let parameters = pkcs5::pbes2::Parameters {
            kdf,
            encryption: pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv: &[7; 16] },
        };
        let der = pkcs5::EncryptionScheme::Pbes2(parameters).to_der().unwrap();
        check_pbes(&AlgorithmIdentifierRef::from_der(&der).unwrap())
    }

    fn scrypt(n: u64, r: u16, p: u16) -> pkcs5::pbes2::Kdf<'static> {
        pkcs5::pbes2::ScryptParams {
            salt: b"saltsalt",
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: None,
        }
        .into()
    }

    #[test]
    fn scrypt_cost_is_bounded_in_memory_and_in_work() {
        // OpenSSL's default (16 MiB) and the largest accepted memory, once.
        check_scheme(scrypt(1 << 14, 8, 1)).unwrap();
        check_scheme(scrypt(1 << 18, 8, 1)).unwrap();
        // The same total work split into lanes.
        check_scheme(scrypt(1 << 14, 8, 64)).unwrap();
        for (n, r, p) in [
            (1 << 19, 8, 1),   // 512 MiB of memory
            (1 << 18, 8, 5),   // 256 MiB, five times over
            (1 << 16, 8, 64),  // 64 MiB, 64 lanes: 4 GiB of work
            (1 << 14, 8, 100), // more lanes than the work allows
            (1000, 8, 1),      // N not a power of two
            (1 << 14, 0, 1),
            (1 << 14, 8, 0),
            (u64::MAX / 2 + 1, u16::MAX, u16::MAX), // overflow
        ] {
            let error = check_scheme(scrypt(n, r, p)).unwrap_err();
            assert!(
                matches!(&error, Error::UnsupportedKeyEncryption { scheme } if scheme.contains("scrypt")),
                "N={n} r={r} p={p}: {error}"
            );
        }
    }

    #[test]
    fn pbkdf2_iterations_are_bounded() {
        let pbkdf2 = |iterations| {
            pkcs5::pbes2::Pbkdf2Params {
                salt: b"saltsalt",
                iteration_count: iterations,
                key_length: None,
                prf: pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256,
            }
            .into()
        };
        check_scheme(pbkdf2(MAX_PBKDF2_ITERATIONS)).unwrap();
        for iterations in [0, MAX_PBKDF2_ITERATIONS + 1, u32::MAX] {
            let error = check_scheme(pbkdf2(iterations)).unwrap_err();
            assert!(
                error.to_string().contains("iteration count"),
                "{iterations}: {error}"
            );
        }
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
    fn hex_decoding() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é0"), None);
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
}
