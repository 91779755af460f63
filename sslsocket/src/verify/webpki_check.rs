//! The security decision: does rustls-webpki accept the chain?

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::{extended_key_usage_allows, Purpose};
use crate::certificate::SslCertificate;

/// Trusted roots in the form webpki takes; built once per root list, because
/// parsing a system store of ~150 roots per connection would be wasteful.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    /// Per anchor: whether its extended key usage allows (server, client)
    /// authentication. webpki looks only at an anchor's name and key; Qt
    /// (through OpenSSL) also refuses a root whose EKU excludes the purpose.
    purposes: Vec<(bool, bool)>,
}

impl TrustAnchors {
    /// The anchors of `roots`; a root webpki cannot use is left out, which
    /// makes chains through it fail verification rather than the whole list.
    pub(crate) fn new(roots: &[SslCertificate]) -> TrustAnchors {
        let mut trusted = TrustAnchors::default();
        for root in roots {
            let der = CertificateDer::from(root.to_der());
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(&der) {
                trusted.anchors.push(anchor.to_owned());
                trusted.purposes.push((
                    extended_key_usage_allows(root, Purpose::ServerAuth),
                    extended_key_usage_allows(root, Purpose::ClientAuth),
                ));
            }
        }
        trusted
    }
}

/// The time in the form webpki takes; times before 1970 become 1970.
pub(crate) fn unix_time(time: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
}

/// Runs webpki's path building for `chain` (leaf first) and returns the
/// length of the verified path (leaf, intermediates and root), or webpki's
/// reason for rejecting it, or the root's refusal of the purpose. Names are
/// not checked here.
pub(crate) fn check_chain(
    chain: &[SslCertificate],
    anchors: &TrustAnchors,
    purpose: Purpose,
    time: SystemTime,
) -> Result<usize, String> {
    let (leaf, intermediates) = chain.split_first().ok_or("the chain is empty")?;
    let leaf_der = CertificateDer::from(leaf.to_der());
    let leaf = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| format!("webpki cannot read the leaf: {e}"))?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.to_der()))
        .collect();
    let usage = match purpose {
        Purpose::ServerAuth => KeyUsage::server_auth(),
        Purpose::ClientAuth => KeyUsage::client_auth(),
    };
    let algorithms = rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all;
    let path = leaf
        .verify_for_usage(
            algorithms,
            &anchors.anchors,
            &intermediates,
            unix_time(time),
            usage,
            None,
            None,
        )
        .map_err(|e| format!("webpki rejected the chain: {e}"))?;
    let anchor = anchors
        .anchors
        .iter()
        .position(|a| std::ptr::eq(a, path.anchor()));
    let allowed =
        anchor
            .map(|i| anchors.purposes[i])
            .is_none_or(|(server, client)| match purpose {
                Purpose::ServerAuth => server,
                Purpose::ClientAuth => client,
            });
    if !allowed {
        return Err("the trusted root's extended key usage does not allow this purpose".to_owned());
    }
    Ok(2 + path.intermediate_certificates().count())
}
