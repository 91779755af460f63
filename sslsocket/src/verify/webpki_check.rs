//! The security decision: does rustls-webpki accept the chain?

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{
    EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth, RevocationOptionsBuilder,
    UnknownStatusPolicy,
};

use super::{extended_key_usage_allows, PeerName, Purpose};
use crate::certificate::SslCertificate;
use crate::crl::CertificateRevocationList;
use crate::error::{SslError, SslErrorCode};

/// Trusted roots in the form webpki takes; built once per root list, because
/// parsing a system store of ~150 roots per connection would be wasteful.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    /// The certificate of each anchor, for the checks webpki does not make
    /// on anchors (extended key usage).
    roots: Vec<SslCertificate>,
    /// Per anchor, once looked at: whether its extended key usage allows
    /// (server, client) authentication. Parsing a root's extensions costs
    /// more than the rest of a handshake's checks, so it is done once.
    purposes: Vec<std::sync::OnceLock<(bool, bool)>>,
}

impl TrustAnchors {
    /// The anchors of `roots`. A root webpki cannot use is left out, which
    /// makes chains through it fail verification rather than the whole list.
    pub(crate) fn new(roots: &[SslCertificate]) -> TrustAnchors {
        let mut trusted = TrustAnchors::default();
        for root in roots {
            let der = CertificateDer::from(root.to_der());
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(&der) {
                trusted.anchors.push(anchor.to_owned());
                trusted.roots.push(root.clone());
                trusted.purposes.push(std::sync::OnceLock::new());
            }
        }
        trusted
    }
}

/// Why a chain was not accepted.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// webpki refused the chain.
    Webpki(webpki::Error),
    /// webpki accepted a path whose trusted root's extended key usage
    /// excludes the purpose (Qt, through OpenSSL, refuses that root).
    RootPurpose,
    /// The leaf cannot be read as a certificate at all.
    Unreadable(webpki::Error),
    /// Every certificate must be covered by a revocation list, and none
    /// was given.
    NoRevocationLists,
}

impl Rejection {
    /// A short reason for people; webpki's own text for some errors lists
    /// every algorithm identifier it supports.
    pub(crate) fn describe(&self) -> String {
        match self {
            Rejection::Webpki(e) => match e {
                webpki::Error::UnsupportedSignatureAlgorithmContext(_)
                | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                    "webpki rejected the chain: a signature uses an unsupported algorithm"
                        .to_owned()
                }
                webpki::Error::CrlExpired { .. } => "webpki rejected the chain: the revocation \
                    list of an issuer on the path has expired (its nextUpdate has passed); \
                    get a current one"
                    .to_owned(),
                webpki::Error::InvalidCrlSignatureForPublicKey => "webpki rejected the chain: \
                    a revocation list is not signed by the issuer it names"
                    .to_owned(),
                webpki::Error::IssuerNotCrlSigner => "webpki rejected the chain: the issuer \
                    of a revocation list may not sign lists (its key usage lacks cRLSign)"
                    .to_owned(),
                e => format!("webpki rejected the chain: {e:?}"),
            },
            Rejection::RootPurpose => {
                "the trusted root's extended key usage does not allow this purpose".to_owned()
            }
            Rejection::Unreadable(e) => format!("webpki cannot read the leaf: {e:?}"),
            Rejection::NoRevocationLists => "every certificate must be covered by a revocation \
                list, and none was given"
                .to_owned(),
        }
    }

    /// Whether webpki refused because of a revocation list: a revoked
    /// certificate, or a list it would not use.
    pub(crate) fn is_revocation(&self) -> bool {
        use webpki::Error as W;
        matches!(
            self,
            Rejection::NoRevocationLists
                | Rejection::Webpki(
                    W::CertRevoked
                        | W::CrlExpired { .. }
                        | W::InvalidCrlSignatureForPublicKey
                        | W::UnsupportedCrlSignatureAlgorithmContext(_)
                        | W::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
                        | W::IssuerNotCrlSigner
                        | W::UnknownRevocationStatus
                )
        )
    }

    /// Whether `code` names the problem behind this rejection, so that a
    /// list containing it explains the rejection.
    pub(crate) fn explained_by(&self, code: SslErrorCode) -> bool {
        use webpki::Error as W;
        use SslErrorCode::*;
        let Rejection::Webpki(error) = self else {
            return match self {
                Rejection::RootPurpose => code == CertificateUntrusted,
                Rejection::NoRevocationLists => code == CertificateStatusUnknown,
                _ => false,
            };
        };
        match error {
            W::CertExpired { .. } => code == CertificateExpired,
            W::CertNotValidYet { .. } => code == CertificateNotYetValid,
            W::UnknownIssuer => matches!(
                code,
                UnableToGetLocalIssuerCertificate
                    | UnableToGetIssuerCertificate
                    | UnableToVerifyFirstCertificate
                    | SelfSignedCertificate
                    | SelfSignedCertificateInChain
                    | CertificateSignatureFailed
            ),
            // webpki reports the last candidate it tried: a same-named
            // certificate with another key is, to OpenSSL, no issuer at all.
            W::InvalidSignatureForPublicKey => matches!(
                code,
                CertificateSignatureFailed
                    | UnableToGetLocalIssuerCertificate
                    | UnableToVerifyFirstCertificate
            ),
            W::UnsupportedSignatureAlgorithmContext(_)
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                code == CertificateSignatureFailed
            }
            // A self-signed CA certificate used as a server's own: to Qt,
            // an untrusted self-signed certificate.
            W::CaUsedAsEndEntity => matches!(code, InvalidCaCertificate | SelfSignedCertificate),
            W::EndEntityUsedAsCa | W::UnsupportedCertVersion => code == InvalidCaCertificate,
            W::PathLenConstraintViolated => code == PathLengthExceeded,
            W::RequiredEkuNotFoundContext(_) => code == InvalidPurpose,
            W::CertRevoked => code == CertificateRevoked,
            W::UnknownRevocationStatus => code == CertificateStatusUnknown,
            _ => false,
        }
    }
}

/// What webpki's accepted path tells the rest of verification.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AcceptedPath {
    /// Certificates on the path as the depth limit counts them: leaf,
    /// intermediates and the root, a self-issued intermediate not counted.
    pub(crate) length: usize,
    /// Whether the root restricts the names it may vouch for.
    pub(crate) anchor_name_constrained: bool,
}

/// The time in the form webpki takes; times before 1970 become 1970.
pub(crate) fn unix_time(time: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
}

/// Reads the leaf the way webpki does.
pub(crate) fn end_entity<'a>(leaf: &'a CertificateDer<'a>) -> Result<EndEntityCert<'a>, Rejection> {
    EndEntityCert::try_from(leaf).map_err(Rejection::Unreadable)
}

/// Whether webpki finds `leaf` valid for `name`: DNS subjectAltNames only,
/// a `*` only as a whole leftmost label, addresses only as IP
/// subjectAltNames. A leaf webpki cannot read is valid for nothing.
pub(crate) fn valid_for_name(leaf: &SslCertificate, name: &PeerName) -> bool {
    let der = CertificateDer::from(leaf.to_der());
    match (end_entity(&der), name.server_name()) {
        (Ok(end_entity), Some(name)) => end_entity.verify_is_valid_for_subject_name(&name).is_ok(),
        _ => false,
    }
}

/// What the path is checked against for revocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Revocation<'a> {
    pub(crate) crls: &'a [CertificateRevocationList],
    /// Every certificate on the path below the root must be covered by a
    /// list from its issuer.
    pub(crate) required: bool,
}

/// `CertificateStatusUnknown` on each certificate of `chain` below a root
/// that no list comes from the issuer of (a root sent along is not
/// checked, as webpki does not check the anchor).
pub(crate) fn uncovered(
    chain: &[SslCertificate],
    crls: &[CertificateRevocationList],
) -> Vec<SslError> {
    chain
        .iter()
        .filter(|certificate| !certificate.is_self_signed())
        .filter(|certificate| {
            let der = CertificateDer::from(certificate.to_der());
            end_entity(&der).is_ok_and(|cert| !crls.iter().any(|crl| crl.covers(&cert)))
        })
        .map(|certificate| {
            SslError::with_certificate(SslErrorCode::CertificateStatusUnknown, certificate.clone())
        })
        .collect()
}

/// `crls` in the order webpki is given them: webpki uses the first list
/// from a certificate's issuer, and of several the newest must count.
fn newest_first(crls: &[CertificateRevocationList]) -> Vec<&CertificateRevocationList> {
    let mut lists: Vec<&CertificateRevocationList> = crls.iter().collect();
    lists.sort_by_key(|crl| std::cmp::Reverse(crl.this_update()));
    lists
}

/// `CertificateRevoked` on each certificate of `chain` that the list
/// webpki uses for it (the newest from its issuer) names, as webpki reads
/// both: the explanation of webpki's `CertRevoked`, which does not say
/// which certificate it was.
pub(crate) fn revoked(
    chain: &[SslCertificate],
    crls: &[CertificateRevocationList],
) -> Vec<SslError> {
    let lists = newest_first(crls);
    chain
        .iter()
        .filter(|certificate| {
            let der = CertificateDer::from(certificate.to_der());
            end_entity(&der).is_ok_and(|cert| {
                lists
                    .iter()
                    .find(|crl| crl.covers(&cert))
                    .is_some_and(|crl| crl.names(&cert))
            })
        })
        .map(|certificate| {
            SslError::with_certificate(SslErrorCode::CertificateRevoked, certificate.clone())
        })
        .collect()
}

/// Whether `certificate` can be read as an X.509 certificate at all.
pub(crate) fn readable(certificate: &CertificateDer<'_>) -> bool {
    EndEntityCert::try_from(certificate).is_ok()
}

/// Runs webpki's path building for `leaf` with the untrusted
/// `intermediates` (in any order). Names are not checked here.
pub(crate) fn check_chain(
    leaf: &EndEntityCert<'_>,
    intermediates: &[CertificateDer<'_>],
    anchors: &TrustAnchors,
    purpose: Purpose,
    time: SystemTime,
    revocation: Revocation<'_>,
) -> Result<AcceptedPath, Rejection> {
    let Revocation { crls, required } = revocation;
    if required && crls.is_empty() {
        return Err(Rejection::NoRevocationLists);
    }
    let usage = match purpose {
        Purpose::ServerAuth => KeyUsage::server_auth(),
        Purpose::ClientAuth => KeyUsage::client_auth(),
    };
    let newest_first = newest_first(crls);
    let lists: Vec<&webpki::CertRevocationList<'_>> =
        newest_first.iter().map(|crl| crl.webpki()).collect();
    // Every certificate on the path; one whose issuer has no list passes,
    // and a list past its nextUpdate is an error, not a silent pass.
    let revocation = RevocationOptionsBuilder::new(&lists).ok().map(|builder| {
        builder
            .with_depth(RevocationCheckDepth::Chain)
            .with_status_policy(if required {
                UnknownStatusPolicy::Deny
            } else {
                UnknownStatusPolicy::Allow
            })
            .with_expiration_policy(ExpirationPolicy::Enforce)
            .build()
    });
    let path = leaf
        .verify_for_usage(
            signature_algorithms().all,
            &anchors.anchors,
            intermediates,
            unix_time(time),
            usage,
            revocation,
            None,
        )
        .map_err(Rejection::Webpki)?;
    let anchor = anchors
        .anchors
        .iter()
        .position(|a| std::ptr::eq(a, path.anchor()));
    let allows = |i: usize| {
        let (server, client) = *anchors.purposes[i].get_or_init(|| {
            let root = &anchors.roots[i];
            (
                extended_key_usage_allows(root, Purpose::ServerAuth),
                extended_key_usage_allows(root, Purpose::ClientAuth),
            )
        });
        match purpose {
            Purpose::ServerAuth => server,
            Purpose::ClientAuth => client,
        }
    };
    if anchor.is_some_and(|i| !allows(i)) {
        return Err(Rejection::RootPurpose);
    }
    // A self-issued intermediate (a CA's new key certified by its old one)
    // repeats the name of the certificate above it, which is counted; as in
    // OpenSSL, it does not count toward the depth again.
    let counted_intermediates = path
        .intermediate_certificates()
        .filter(|cert| cert.subject() != cert.issuer())
        .count();
    Ok(AcceptedPath {
        length: 2 + counted_intermediates,
        anchor_name_constrained: path.anchor().name_constraints.is_some(),
    })
}

/// The signature algorithms of the crate's crypto provider.
pub(crate) fn signature_algorithms() -> rustls::crypto::WebPkiSupportedAlgorithms {
    // Building the provider allocates its suite and group lists; a handshake
    // needs only this table, so it is taken once.
    static ALGORITHMS: std::sync::OnceLock<rustls::crypto::WebPkiSupportedAlgorithms> =
        std::sync::OnceLock::new();
    *ALGORITHMS.get_or_init(|| {
        rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms
    })
}
