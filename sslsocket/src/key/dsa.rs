//! DSA and Diffie-Hellman keys: their domain parameters, the canonical
//! forms of DSA private keys, and the public value y = g^x mod p of both.

use der::asn1::{AnyRef, UintRef};
use der::zeroize::Zeroizing;
use der::{Decode, Encode, Reader as _, Tag};
use pkcs8::PrivateKeyInfo;
use spki::AlgorithmIdentifierRef;

use super::canonical::{bit_length, encode, pkcs8_der, require_positive, spki_der};
use super::{encode_error, invalid, oid, SslKey};
use crate::error::Result;
use crate::ssl::{KeyAlgorithm, KeyType};

/// DSA domain parameters `Dss-Parms ::= SEQUENCE { p, q, g }`.
pub(super) struct DsaParams<'a> {
    pub(super) p: UintRef<'a>,
    pub(super) q: UintRef<'a>,
    pub(super) g: UintRef<'a>,
}

impl<'a> DsaParams<'a> {
    pub(super) fn from_algorithm(algorithm: &AlgorithmIdentifierRef<'a>) -> Result<DsaParams<'a>> {
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

    pub(super) fn bits(&self) -> u32 {
        bit_length(self.p.as_bytes())
    }

    pub(super) fn encoded(&self) -> Result<Vec<u8>> {
        let mut content = encode(self.p)?;
        content.extend(encode(self.q)?);
        content.extend(encode(self.g)?);
        AnyRef::new(Tag::Sequence, &content)
            .and_then(|any| any.to_der())
            .map_err(|e| encode_error(&e))
    }
}

pub(super) fn dsa_private(
    params: &DsaParams<'_>,
    x: UintRef<'_>,
    y: Option<UintRef<'_>>,
) -> Result<SslKey> {
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
pub(super) struct DhParams {
    pub(super) bits: u32,
    p: Vec<u8>,
    g: Vec<u8>,
}

impl DhParams {
    pub(super) fn from_algorithm(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<DhParams> {
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
pub(super) fn derive_public(algorithm: KeyAlgorithm, pkcs8: &[u8]) -> Result<Vec<u8>> {
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

/// A toy DSA key (p = 23, q = 11, g = 4, x = 3, so y = 4^3 mod 23 = 18),
/// built by hand: the format does not care about sizes, and building it
/// here keeps the unit tests free of the `openssl` tool.
#[cfg(test)]
pub(super) fn toy_dsa_pkcs8() -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use spki::SubjectPublicKeyInfoRef;

    use super::*;

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
}
