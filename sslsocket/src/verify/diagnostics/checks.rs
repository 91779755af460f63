//! The checks made on one path, in OpenSSL's order (see the module docs of
//! `diagnostics` for the rules).

use std::time::{SystemTime, UNIX_EPOCH};

use super::path::{End, Path, MAX_PATH_LEN};
use crate::certificate::SslCertificate;
use crate::error::{SslError, SslErrorCode};
use crate::verify::{extended_key_usage_allows, Purpose};

/// What a path's certificates are checked against.
pub(super) struct Limits {
    /// What the leaf must be good for.
    pub(super) purpose: Purpose,
    /// Most certificates a path may have, leaf and root included; 0: no limit.
    pub(super) max_depth: usize,
    /// The verification time in whole seconds since 1970 (negative before).
    pub(super) time: i128,
}

/// Where `certs` (leaf first) goes beyond `max_depth` (0: no limit), if it
/// does. As in the handshake's check, a self-issued intermediate (a CA's
/// new key certified by its old one) repeats the name above it and is not
/// counted again.
fn first_beyond_depth(certs: &[&SslCertificate], max_depth: usize) -> Option<usize> {
    if max_depth == 0 {
        return None;
    }
    let mut counted = 0;
    for (i, cert) in certs.iter().enumerate() {
        let self_issued_intermediate =
            i > 0 && i + 1 < certs.len() && cert.subject_name_der() == cert.issuer_name_der();
        if !self_issued_intermediate {
            counted += 1;
        }
        if counted > max_depth {
            return Some(i);
        }
    }
    None
}

/// Every problem with `path` (host name aside), in Qt's order.
pub(super) fn path_errors(path: &Path<'_>, limits: &Limits) -> Vec<SslError> {
    let mut errors = Vec::new();
    let error =
        |code, certificate: &SslCertificate| SslError::with_certificate(code, certificate.clone());

    // b. How the path ends, or that it is too long (which in OpenSSL stops
    //    the chain at the limit, so there is no end to speak of).
    let mut certs = &path.certs[..];
    let mut end = Some(path.end);
    if let Some(over) = first_beyond_depth(certs, limits.max_depth) {
        errors.push(
            error(SslErrorCode::UnspecifiedError, certs[over]).with_detail(format!(
                "the chain is longer than the peer verify depth ({} certificates at most)",
                limits.max_depth
            )),
        );
        if certs.len() > over + 1 {
            certs = &certs[..=over];
            end = None;
        }
    } else {
        match path.end {
            End::Trusted => {}
            End::SelfSigned if certs.len() == 1 => {
                errors.push(error(SslErrorCode::SelfSignedCertificate, certs[0]))
            }
            End::SelfSigned => errors.push(error(
                SslErrorCode::SelfSignedCertificateInChain,
                certs[certs.len() - 1],
            )),
            End::NoIssuer => errors.push(error(
                SslErrorCode::UnableToGetLocalIssuerCertificate,
                certs[certs.len() - 1],
            )),
            End::TooLong => errors.push(
                error(SslErrorCode::UnspecifiedError, certs[certs.len() - 1]).with_detail(format!(
                    "no trusted root within {MAX_PATH_LEN} certificates"
                )),
            ),
        }
    }
    let last = certs.len() - 1;
    // The trusted root at the top: webpki takes only its name and key, so its
    // validity, CA flag and path length are not checked.
    let trusted_root = |i: usize| i == last && i > 0 && end == Some(End::Trusted);

    // c. Extensions, from the leaf up.
    let mut intermediates_below = 0u64;
    for (i, &cert) in certs.iter().enumerate() {
        if trusted_root(i) {
            if !extended_key_usage_allows(cert, limits.purpose) {
                errors.push(error(SslErrorCode::CertificateUntrusted, cert));
            }
            continue;
        }
        let mut purpose_ok = extended_key_usage_allows(cert, limits.purpose);
        if i > 0 {
            let v1_root = i == last && cert.version() == 1 && cert.is_self_signed();
            if !cert.is_ca() && !v1_root {
                errors.push(error(SslErrorCode::InvalidCaCertificate, cert));
                // OpenSSL's purpose check for a CA also requires a CA.
                purpose_ok = false;
            }
        }
        if !purpose_ok {
            errors.push(error(SslErrorCode::InvalidPurpose, cert));
        }
        if i > 0 {
            if let Some((true, Some(limit))) = cert.basic_constraints() {
                if intermediates_below > u64::from(limit) {
                    errors.push(error(SslErrorCode::PathLengthExceeded, cert));
                }
            }
            if cert.subject_name_der() != cert.issuer_name_der() {
                intermediates_below += 1;
            }
        }
    }

    // d. Signatures and validity, from the top down. A lone leaf without an
    //    issuer cannot have its signature checked at all.
    if end == Some(End::NoIssuer) && certs.len() == 1 {
        errors.push(error(
            SslErrorCode::UnableToVerifyFirstCertificate,
            certs[0],
        ));
    }
    for i in (0..certs.len()).rev() {
        let cert = certs[i];
        let signed = if i < last {
            path.signed[i]
        } else {
            end != Some(End::SelfSigned) || path.top_signed
        };
        if !signed {
            errors.push(error(SslErrorCode::CertificateSignatureFailed, cert));
        }
        if trusted_root(i) {
            continue;
        }
        if limits.time < seconds(cert.effective_date()) {
            errors.push(error(SslErrorCode::CertificateNotYetValid, cert));
        }
        if limits.time > seconds(cert.expiry_date()) {
            errors.push(error(SslErrorCode::CertificateExpired, cert));
        }
    }
    errors
}

/// `time` in whole seconds since 1970, rounded down (negative before 1970).
pub(super) fn seconds(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::from(after.as_secs()),
        Err(before) => {
            let before = before.duration();
            -i128::from(before.as_secs()) - i128::from(before.subsec_nanos() > 0)
        }
    }
}
