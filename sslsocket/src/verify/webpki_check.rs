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
            Rejection::Webpki(e) => format!("webpki rejected the chain: {}", reason(e)),
            Rejection::RootPurpose => {
                "the trusted root's extended key usage does not allow this purpose".to_owned()
            }
            Rejection::Unreadable(e) => format!("webpki cannot read the leaf: {}", reason(e)),
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
    /// list containing it explains the rejection. This is the mapping
    /// table of docs/QT_MAPPING.md (D21); a reason Qt has no name for is
    /// explained by `UnspecifiedError` only.
    pub(crate) fn explained_by(&self, code: SslErrorCode) -> bool {
        use webpki::Error as W;
        use SslErrorCode::*;
        let (Rejection::Webpki(error) | Rejection::Unreadable(error)) = self else {
            return match self {
                Rejection::RootPurpose => code == CertificateUntrusted,
                Rejection::NoRevocationLists => code == CertificateStatusUnknown,
                _ => false,
            };
        };
        // A signature webpki cannot take: the signature (its algorithm), or
        // the key that made it (a trusted root's or an intermediate's).
        let signature_refused = matches!(
            code,
            CertificateSignatureFailed | CertificateUntrusted | InvalidCaCertificate
        );
        match error {
            W::CertExpired { .. } => code == CertificateExpired,
            W::CertNotValidYet { .. } => code == CertificateNotYetValid,
            W::InvalidCertValidity => matches!(code, CertificateExpired | CertificateNotYetValid),
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
            W::InvalidSignatureForPublicKey => {
                signature_refused
                    || matches!(
                        code,
                        UnableToGetLocalIssuerCertificate | UnableToVerifyFirstCertificate
                    )
            }
            W::UnsupportedSignatureAlgorithmContext(_)
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => signature_refused,
            W::SignatureAlgorithmMismatch => code == CertificateSignatureFailed,
            W::CaUsedAsEndEntity | W::RequiredEkuNotFoundContext(_) | W::EmptyEkuExtension => {
                code == InvalidPurpose
            }
            W::EndEntityUsedAsCa => code == InvalidCaCertificate,
            W::UnsupportedCertVersion => matches!(code, InvalidCaCertificate | InvalidPurpose),
            W::PathLenConstraintViolated => code == PathLengthExceeded,
            W::CertRevoked => code == CertificateRevoked,
            W::UnknownRevocationStatus => code == CertificateStatusUnknown,
            _ => code == UnspecifiedError,
        }
    }

    /// The certificate of `chain` an `UnspecifiedError` explaining this
    /// rejection belongs on: the CA whose name constraints webpki cannot
    /// use, else the leaf.
    pub(crate) fn culprit<'a>(&self, chain: &'a [SslCertificate]) -> Option<&'a SslCertificate> {
        use webpki::Error as W;
        let constraints_at_fault = matches!(
            self,
            Rejection::Webpki(W::InvalidNetworkMaskConstraint | W::MalformedNameConstraint)
        );
        constraints_at_fault
            .then(|| chain.iter().skip(1).find(|cert| has_name_constraints(cert)))
            .flatten()
            .or(chain.first())
    }
}

/// Whether `certificate` restricts the names below it.
pub(crate) fn has_name_constraints(certificate: &SslCertificate) -> bool {
    certificate
        .extensions()
        .iter()
        .any(|e| e.oid() == NAME_CONSTRAINTS)
}

/// The nameConstraints extension (RFC 5280, 4.2.1.10).
const NAME_CONSTRAINTS: &str = "2.5.29.30";

/// webpki's reason in words. Its own text for some errors lists every
/// algorithm identifier it supports, which helps nobody.
pub(crate) fn reason(error: &webpki::Error) -> String {
    use webpki::Error as W;
    match error {
        W::UnsupportedSignatureAlgorithmContext(_) => {
            "a signature uses an algorithm webpki does not accept".to_owned()
        }
        W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a signature uses an algorithm webpki does not accept for the signer's key".to_owned()
        }
        W::CrlExpired { .. } => "the revocation list of an issuer on the path has expired \
            (its nextUpdate has passed); get a current one"
            .to_owned(),
        W::InvalidCrlSignatureForPublicKey => {
            "a revocation list is not signed by the issuer it names".to_owned()
        }
        W::IssuerNotCrlSigner => "the issuer of a revocation list may not sign lists (its key \
            usage lacks cRLSign)"
            .to_owned(),
        W::UnsupportedCriticalExtension => {
            "a certificate has a critical extension webpki does not know".to_owned()
        }
        W::MaximumPathDepthExceeded => {
            format!("webpki follows at most {WEBPKI_MAX_INTERMEDIATES} intermediates")
        }
        W::MaximumSignatureChecksExceeded | W::MaximumPathBuildCallsExceeded => {
            format!("webpki gave up building a path ({error:?}): too many candidate issuers")
        }
        W::NameConstraintViolation => {
            "a name of the leaf is outside a CA's name constraints".to_owned()
        }
        e => format!("{e:?}"),
    }
}

/// Most intermediates webpki puts on a path.
pub(crate) const WEBPKI_MAX_INTERMEDIATES: usize = 6;

/// Why webpki cannot read `certificate` at all, if it cannot: what it
/// finds malformed or unsupported in the certificate itself.
pub(crate) fn unreadable(certificate: &SslCertificate) -> Option<webpki::Error> {
    let der = CertificateDer::from(certificate.to_der());
    EndEntityCert::try_from(&der).err()
}

/// Why webpki would not take a signature that sslsocket's own check finds
/// sound: webpki accepts fewer algorithms and key sizes than exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureRefusal {
    /// The algorithm named inside the signed part differs from the one the
    /// signature is made with.
    AlgorithmMismatch,
    /// webpki verifies no signatures of this algorithm.
    UnsupportedAlgorithm,
    /// webpki does not verify this algorithm's signatures with a key of the
    /// issuer's kind or size (an RSA key under 2048 bits, say).
    UnusableKey,
}

/// How webpki's own signature check, with the algorithms the handshake
/// uses, treats `subject` signed by `issuer`; `None` when it takes it (or
/// the certificate cannot be read, which is reported elsewhere).
pub(crate) fn signature_refusal(
    subject: &SslCertificate,
    issuer: &SslCertificate,
) -> Option<SignatureRefusal> {
    let signed = subject.signed_parts()?;
    if signed.inner_algorithm != signed.algorithm {
        return Some(SignatureRefusal::AlgorithmMismatch);
    }
    let (key_algorithm, key) = issuer.public_key_parts()?;
    let mut algorithms = signature_algorithms()
        .all
        .iter()
        .filter(|algorithm| algorithm.signature_alg_id().as_ref() == signed.algorithm)
        .peekable();
    if algorithms.peek().is_none() {
        return Some(SignatureRefusal::UnsupportedAlgorithm);
    }
    let verified = algorithms
        .filter(|algorithm| algorithm.public_key_alg_id().as_ref() == key_algorithm)
        .any(|algorithm| {
            algorithm
                .verify_signature(key, signed.tbs, signed.signature)
                .is_ok()
        });
    (!verified).then_some(SignatureRefusal::UnusableKey)
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
        .enumerate()
        .filter(|(_, certificate)| !certificate.is_self_signed())
        .filter(|&(i, certificate)| {
            let der = CertificateDer::from(certificate.to_der());
            end_entity(&der).is_ok_and(|cert| {
                !crls
                    .iter()
                    .any(|crl| crl.covers(&cert, certificate, i == 0))
            })
        })
        .map(|(_, certificate)| {
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
        .enumerate()
        .filter(|&(i, certificate)| {
            let der = CertificateDer::from(certificate.to_der());
            end_entity(&der).is_ok_and(|cert| {
                lists
                    .iter()
                    .find(|crl| crl.covers(&cert, certificate, i == 0))
                    .is_some_and(|crl| crl.names(&cert))
            })
        })
        .map(|(_, certificate)| {
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
