//! Key-exchange groups: which (EC)DHE curves and post-quantum KEMs a
//! handshake may use (Qt's `QSslEllipticCurve` and
//! `QSslConfiguration::setEllipticCurves`, widened to the groups TLS 1.3 has
//! beyond elliptic curves).

use std::fmt;
use std::str::FromStr;

use rustls::crypto::aws_lc_rs::kx_group;
use rustls::crypto::SupportedKxGroup;
use rustls::NamedGroup;

use crate::error::Error;

/// A key-exchange group that sslsocket can negotiate.
///
/// The names are OpenSSL's (as in `openssl s_client -groups`), and
/// [`FromStr`] also takes the IANA and SEC names (`secp256r1`,
/// `prime256v1`), ignoring case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyExchangeGroup {
    /// X25519 (RFC 7748): the classical default.
    X25519,
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// X25519 combined with ML-KEM-768: post-quantum, TLS 1.3 only.
    X25519MlKem768,
    /// P-256 combined with ML-KEM-768: post-quantum, TLS 1.3 only.
    P256MlKem768,
    /// ML-KEM-768 alone: post-quantum, TLS 1.3 only.
    MlKem768,
    /// ML-KEM-1024 alone: post-quantum, TLS 1.3 only.
    MlKem1024,
}

impl KeyExchangeGroup {
    /// Every group, in the order of [`KeyExchangeGroup::supported`].
    pub const ALL: &'static [KeyExchangeGroup] = &[
        KeyExchangeGroup::X25519,
        KeyExchangeGroup::P256,
        KeyExchangeGroup::P384,
        KeyExchangeGroup::X25519MlKem768,
        KeyExchangeGroup::P256MlKem768,
        KeyExchangeGroup::MlKem768,
        KeyExchangeGroup::MlKem1024,
    ];

    /// The groups a configuration offers unless told otherwise, most
    /// preferred first: rustls's defaults with post-quantum preferred
    /// (X25519MLKEM768, X25519, P-256, P-384). A peer without ML-KEM
    /// (OpenSSL before 3.5, for one) agrees on X25519.
    pub fn defaults() -> Vec<KeyExchangeGroup> {
        rustls::crypto::aws_lc_rs::DEFAULT_KX_GROUPS
            .iter()
            .filter_map(|group| KeyExchangeGroup::from_named_group(group.name()))
            .collect()
    }

    /// Every group the library can negotiate.
    pub fn supported() -> Vec<KeyExchangeGroup> {
        KeyExchangeGroup::ALL.to_vec()
    }

    /// OpenSSL's name, e.g. `"X25519"`, `"P-256"`, `"X25519MLKEM768"`.
    pub const fn name(self) -> &'static str {
        match self {
            KeyExchangeGroup::X25519 => "X25519",
            KeyExchangeGroup::P256 => "P-256",
            KeyExchangeGroup::P384 => "P-384",
            KeyExchangeGroup::X25519MlKem768 => "X25519MLKEM768",
            KeyExchangeGroup::P256MlKem768 => "SecP256r1MLKEM768",
            KeyExchangeGroup::MlKem768 => "MLKEM768",
            KeyExchangeGroup::MlKem1024 => "MLKEM1024",
        }
    }

    /// Other names the group goes by (IANA, SEC, OpenSSL's curve names).
    const fn aliases(self) -> &'static [&'static str] {
        match self {
            KeyExchangeGroup::X25519 => &["x25519"],
            KeyExchangeGroup::P256 => &["secp256r1", "prime256v1"],
            KeyExchangeGroup::P384 => &["secp384r1"],
            KeyExchangeGroup::X25519MlKem768 => &[],
            KeyExchangeGroup::P256MlKem768 => &["P-256MLKEM768"],
            KeyExchangeGroup::MlKem768 => &["ML-KEM-768"],
            KeyExchangeGroup::MlKem1024 => &["ML-KEM-1024"],
        }
    }

    /// The TLS NamedGroup code point (IANA), e.g. 29 for X25519.
    pub fn code(self) -> u16 {
        u16::from(self.rustls_group().name())
    }

    /// Whether the group resists a quantum computer (it uses ML-KEM).
    /// Such groups exist in TLS 1.3 only.
    pub const fn is_post_quantum(self) -> bool {
        !matches!(
            self,
            KeyExchangeGroup::X25519 | KeyExchangeGroup::P256 | KeyExchangeGroup::P384
        )
    }

    /// Parses a list separated by `:` or `,` (OpenSSL's `-groups` syntax),
    /// e.g. `"X25519:P-256"`. Empty entries are skipped; an unknown name is
    /// an error naming it, and so is a list that names no group at all
    /// (rather than falling back to the defaults unasked).
    pub fn parse_list(list: &str) -> Result<Vec<KeyExchangeGroup>, Error> {
        let groups = list
            .split([':', ','])
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<KeyExchangeGroup>, Error>>()?;
        if groups.is_empty() {
            return Err(Error::EmptyList {
                what: "key exchange groups",
            });
        }
        Ok(groups)
    }

    pub(crate) fn rustls_group(self) -> &'static dyn SupportedKxGroup {
        match self {
            KeyExchangeGroup::X25519 => kx_group::X25519,
            KeyExchangeGroup::P256 => kx_group::SECP256R1,
            KeyExchangeGroup::P384 => kx_group::SECP384R1,
            KeyExchangeGroup::X25519MlKem768 => kx_group::X25519MLKEM768,
            KeyExchangeGroup::P256MlKem768 => kx_group::SECP256R1MLKEM768,
            KeyExchangeGroup::MlKem768 => kx_group::MLKEM768,
            KeyExchangeGroup::MlKem1024 => kx_group::MLKEM1024,
        }
    }

    pub(crate) fn from_named_group(group: NamedGroup) -> Option<KeyExchangeGroup> {
        KeyExchangeGroup::ALL
            .iter()
            .copied()
            .find(|g| g.rustls_group().name() == group)
    }
}

impl fmt::Display for KeyExchangeGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyExchangeGroup {
    type Err = Error;

    fn from_str(text: &str) -> Result<KeyExchangeGroup, Error> {
        KeyExchangeGroup::ALL
            .iter()
            .copied()
            .find(|group| {
                std::iter::once(group.name())
                    .chain(group.aliases().iter().copied())
                    .any(|name| name.eq_ignore_ascii_case(text))
            })
            .ok_or_else(|| Error::UnknownName {
                what: "key exchange group",
                name: text.to_owned(),
                expected: KeyExchangeGroup::ALL.iter().map(|g| g.name()).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for group in KeyExchangeGroup::ALL {
            assert_eq!(group.name().parse::<KeyExchangeGroup>().unwrap(), *group);
            assert_eq!(
                group
                    .name()
                    .to_lowercase()
                    .parse::<KeyExchangeGroup>()
                    .unwrap(),
                *group
            );
            assert_eq!(
                KeyExchangeGroup::from_named_group(group.rustls_group().name()),
                Some(*group)
            );
        }
        assert_eq!(
            "prime256v1".parse::<KeyExchangeGroup>().unwrap(),
            KeyExchangeGroup::P256
        );
        assert_eq!(
            "secp384r1".parse::<KeyExchangeGroup>().unwrap(),
            KeyExchangeGroup::P384
        );
    }

    #[test]
    fn code_points_are_ianas() {
        assert_eq!(KeyExchangeGroup::X25519.code(), 29);
        assert_eq!(KeyExchangeGroup::P256.code(), 23);
        assert_eq!(KeyExchangeGroup::P384.code(), 24);
        assert_eq!(KeyExchangeGroup::X25519MlKem768.code(), 0x11ec);
    }

    #[test]
    fn lists_parse_in_order_and_unknown_names_are_named() {
        assert_eq!(
            KeyExchangeGroup::parse_list("X25519:P-256, x25519mlkem768").unwrap(),
            [
                KeyExchangeGroup::X25519,
                KeyExchangeGroup::P256,
                KeyExchangeGroup::X25519MlKem768
            ]
        );
        let error = KeyExchangeGroup::parse_list("X25519:brainpoolP256r1").unwrap_err();
        assert!(error.to_string().contains("brainpoolP256r1"), "{error}");
        assert!(error.to_string().contains("P-384"), "{error}");
    }

    #[test]
    fn a_list_naming_no_group_is_an_error() {
        for list in ["", " ", ":", " , :"] {
            let error = KeyExchangeGroup::parse_list(list).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::EmptyList {
                        what: "key exchange groups"
                    }
                ),
                "{list:?}: {error}"
            );
        }
    }

    #[test]
    fn defaults_are_the_providers() {
        assert_eq!(
            KeyExchangeGroup::defaults().len(),
            rustls::crypto::aws_lc_rs::DEFAULT_KX_GROUPS.len()
        );
        assert_eq!(
            KeyExchangeGroup::defaults().first(),
            Some(&KeyExchangeGroup::X25519MlKem768),
            "post-quantum first"
        );
        assert!(KeyExchangeGroup::defaults().contains(&KeyExchangeGroup::X25519));
        assert!(!KeyExchangeGroup::X25519.is_post_quantum());
        assert!(KeyExchangeGroup::X25519MlKem768.is_post_quantum());
    }
}
