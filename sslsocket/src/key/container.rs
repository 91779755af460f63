//! The containers a key comes in (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1,
//! OpenSSL's traditional DSA key, `SubjectPublicKeyInfo`): telling them
//! apart and reading them.

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::{Decode, Encode, Reader as _, Tag, Tagged as _};
use pkcs8::PrivateKeyInfo;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::canonical::{
    ec_private, ed25519_private, encode, pkcs8_der, public_key_from_parts, require_positive,
    rsa_private, rsa_public, spki_der,
};
use super::curve::{check_point, curve_from_params, explicit_curve, unsupported_curve, Curve};
use super::dsa::{dsa_private, DhParams, DsaParams};
use super::{encode_error, encryption, invalid, oid, SslKey};
use crate::error::{Error, Result};
use crate::ssl::{KeyAlgorithm, KeyType};

/// The container formats a key can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
    DsaTraditional,
    Spki,
    Pkcs1Public,
}

impl Container {
    pub(super) fn from_label(label: &str) -> Option<Container> {
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

    pub(super) fn key_type(self) -> KeyType {
        match self {
            Container::Spki | Container::Pkcs1Public => KeyType::PublicKey,
            _ => KeyType::PrivateKey,
        }
    }

    pub(super) fn description(self) -> &'static str {
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
    pub(super) fn sniff(der: &[u8]) -> Result<Container> {
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

    pub(super) fn parse(self, der: &[u8], passphrase: Option<&[u8]>) -> Result<SslKey> {
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

    pub(super) fn is_traditional_private(self) -> bool {
        matches!(
            self,
            Container::Pkcs1 | Container::Sec1 | Container::DsaTraditional
        )
    }
}

/// PEM labels of keys in formats this library does not read, with advice.
pub(super) fn unsupported_label(label: &str) -> Option<&'static str> {
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

fn parse_encrypted_pkcs8(der: &[u8], passphrase: Option<&[u8]>) -> Result<SslKey> {
    let plain = encryption::decrypt_pkcs8(der, passphrase)?;
    match parse_pkcs8(&plain) {
        Err(Error::InvalidKey { .. }) => Err(Error::WrongPassphrase),
        other => other,
    }
}

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

fn unsupported_algorithm(oid: &ObjectIdentifier) -> Error {
    Error::UnsupportedKey {
        what: format!(
            "key algorithm {} (supported: RSA, DSA, EC, Ed25519, DH)",
            oid::describe(oid)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::dsa::toy_dsa_pkcs8;

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
