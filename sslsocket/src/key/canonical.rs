//! The canonical forms every key is kept in (PKCS#8 `PrivateKeyInfo` for
//! private keys, `SubjectPublicKeyInfo` for public keys), built for RSA, EC
//! and Ed25519 keys, and the DER helpers all algorithms share.

use aws_lc_rs::signature::KeyPair as _;
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::zeroize::Zeroizing;
use der::Encode;
use pkcs8::PrivateKeyInfo;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::curve::{check_point, Curve};
use super::{encode_error, invalid, oid, SslKey};
use crate::error::Result;
use crate::ssl::{KeyAlgorithm, KeyType};

pub(super) fn rsa_private(rsa: &pkcs1::RsaPrivateKey<'_>) -> Result<SslKey> {
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

pub(super) fn rsa_public(rsa: &pkcs1::RsaPublicKey<'_>) -> Result<SslKey> {
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

pub(super) fn ec_private(curve: Curve, scalar: &[u8], public: Option<&[u8]>) -> Result<SslKey> {
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

pub(super) fn ed25519_private(seed: &[u8], public: Option<&[u8]>) -> Result<SslKey> {
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

pub(super) fn pkcs8_der(
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

pub(super) fn spki_der(
    oid: &ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    key: &[u8],
) -> Result<Vec<u8>> {
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

pub(super) fn public_key_from_parts(
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

pub(super) fn encode(value: UintRef<'_>) -> Result<Vec<u8>> {
    value.to_der().map_err(|e| encode_error(&e))
}

pub(super) fn require_positive(value: UintRef<'_>, what: &str) -> Result<()> {
    if value.as_bytes().iter().all(|b| *b == 0) {
        return Err(invalid(format!("the {what} is zero")));
    }
    Ok(())
}

pub(super) fn bit_length(big_endian: &[u8]) -> u32 {
    let significant = &big_endian[big_endian.iter().take_while(|b| **b == 0).count()..];
    match significant.first() {
        None => 0,
        Some(first) => (significant.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
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
}
