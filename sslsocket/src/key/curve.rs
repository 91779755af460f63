//! The elliptic curves EC keys may use, and how keys name them.

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Tag, Tagged as _};

use super::{invalid, oid};
use crate::error::{Error, Result};

/// The elliptic curves this library can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub(super) fn from_oid(oid: &ObjectIdentifier) -> Option<Curve> {
        match *oid {
            oid::P256 => Some(Curve::P256),
            oid::P384 => Some(Curve::P384),
            oid::P521 => Some(Curve::P521),
            _ => None,
        }
    }

    pub(super) fn oid(self) -> &'static ObjectIdentifier {
        match self {
            Curve::P256 => &oid::P256,
            Curve::P384 => &oid::P384,
            Curve::P521 => &oid::P521,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    pub(super) fn bits(self) -> u32 {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }

    /// Length of a private scalar and of one point coordinate, in bytes.
    pub(super) fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    pub(super) fn signing_algorithm(self) -> &'static aws_lc_rs::signature::EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }
}

/// Accepts an uncompressed or compressed point of the right length.
pub(super) fn check_point(curve: Curve, point: &[u8]) -> Result<()> {
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

pub(super) fn curve_from_params(params: Option<AnyRef<'_>>) -> Result<Curve> {
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

pub(super) fn unsupported_curve(oid: &ObjectIdentifier) -> Error {
    Error::UnsupportedKey {
        what: format!(
            "EC curve {} (supported: P-256, P-384, P-521)",
            oid::describe(oid)
        ),
    }
}

pub(super) fn explicit_curve() -> Error {
    Error::UnsupportedKey {
        what: "EC key with explicit curve parameters (use a named curve: P-256, P-384 or P-521)"
            .into(),
    }
}
