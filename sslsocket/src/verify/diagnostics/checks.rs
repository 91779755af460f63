//! The checks made on one path, in OpenSSL's order (see the module docs of
//! `diagnostics` for the rules).

use std::time::{SystemTime, UNIX_EPOCH};

use super::path::{End, Path, MAX_PATH_LEN};
use crate::certificate::SslCertificate;
use crate::error::{SslError, SslErrorCode};
use crate::verify::webpki_check::{
    self, signature_refusal, SignatureRefusal, WEBPKI_MAX_INTERMEDIATES,
};
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
    //    the chain at the limit, so there is no end to speak of): longer than
    //    the peer verify depth, or than webpki follows.
    let mut certs = &path.certs[..];
    let mut end = Some(path.end);
    let beyond_depth = first_beyond_depth(certs, limits.max_depth).map(|i| {
        let detail = format!(
            "the chain is longer than the peer verify depth ({} certificates at most)",
            limits.max_depth
        );
        (i, detail)
    });
    let beyond_webpki = first_beyond_webpki(path).map(|i| {
        let detail = format!("webpki follows at most {WEBPKI_MAX_INTERMEDIATES} intermediates");
        (i, detail)
    });
    let beyond = beyond_depth
        .into_iter()
        .chain(beyond_webpki)
        .min_by_key(|(i, _)| *i);
    if let Some((over, detail)) = beyond {
        errors.push(error(SslErrorCode::UnspecifiedError, certs[over]).with_detail(detail));
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

    // What webpki makes of each signature on the path that is sound:
    // `refusals[i]` is about `certs[i]` signed by `certs[i + 1]`.
    let refusals: Vec<Option<SignatureRefusal>> = (0..last)
        .map(|i| {
            path.signed[i]
                .then(|| signature_refusal(certs[i], certs[i + 1]))
                .flatten()
        })
        .collect();
    let key_refused = |i: usize| i > 0 && refusals[i - 1] == Some(SignatureRefusal::UnusableKey);
    let key_detail = |cert: &SslCertificate| {
        let key = cert.public_key().map_or_else(
            |_| "its key".to_owned(),
            |key| format!("its {}-bit {:?} key", key.length(), key.algorithm()),
        );
        format!("webpki does not verify signatures made with {key}")
    };

    // c. The certificates themselves and their extensions, from the leaf up.
    let mut intermediates_below = 0u64;
    for (i, &cert) in certs.iter().enumerate() {
        if trusted_root(i) {
            if key_refused(i) {
                errors.push(
                    error(SslErrorCode::CertificateUntrusted, cert).with_detail(key_detail(cert)),
                );
            } else if !extended_key_usage_allows(cert, limits.purpose) {
                errors.push(error(SslErrorCode::CertificateUntrusted, cert));
            }
            continue;
        }
        if let Some(reason) = unreadable(cert) {
            errors.push(error(SslErrorCode::UnspecifiedError, cert).with_detail(reason));
        }
        let mut purpose_ok = extended_key_usage_allows(cert, limits.purpose);
        let mut purpose_detail = None;
        if i == 0 && cert.is_ca() {
            purpose_ok = false;
            purpose_detail =
                Some("a CA certificate (basicConstraints cA=TRUE) cannot be an end entity's");
        }
        if i == 0 && cert.version() != 3 {
            purpose_ok = false;
            purpose_detail = Some("webpki takes X.509 v3 certificates only");
        }
        if i > 0 {
            let v1_root = i == last && cert.version() == 1 && cert.is_self_signed();
            if !cert.is_ca() && !v1_root {
                errors.push(error(SslErrorCode::InvalidCaCertificate, cert));
                // OpenSSL's purpose check for a CA also requires a CA.
                purpose_ok = false;
            } else if key_refused(i) {
                errors.push(
                    error(SslErrorCode::InvalidCaCertificate, cert).with_detail(key_detail(cert)),
                );
            }
        }
        if !purpose_ok {
            let purpose_error = error(SslErrorCode::InvalidPurpose, cert);
            errors.push(match purpose_detail {
                Some(detail) => purpose_error.with_detail(detail),
                None => purpose_error,
            });
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
        let refusal = if i < last { refusals[i] } else { None };
        if !signed {
            errors.push(error(SslErrorCode::CertificateSignatureFailed, cert));
        } else if let Some(detail) = algorithm_refused(cert, refusal) {
            errors.push(error(SslErrorCode::CertificateSignatureFailed, cert).with_detail(detail));
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

/// Where `path` goes beyond the intermediates webpki follows, if it does.
fn first_beyond_webpki(path: &Path<'_>) -> Option<usize> {
    let root = usize::from(path.end == End::Trusted);
    let intermediates = path.certs.len().saturating_sub(1 + root);
    (intermediates > WEBPKI_MAX_INTERMEDIATES).then_some(WEBPKI_MAX_INTERMEDIATES + 1)
}

/// What webpki cannot read in `cert` itself, in words; `None` when it reads
/// it, or when the reason is reported under a Qt name elsewhere (the
/// version, the signature algorithm fields).
fn unreadable(cert: &SslCertificate) -> Option<String> {
    match webpki_check::unreadable(cert)? {
        webpki::Error::UnsupportedCertVersion | webpki::Error::SignatureAlgorithmMismatch => None,
        reason => Some(format!(
            "webpki cannot read this certificate: {}",
            webpki_check::reason(&reason)
        )),
    }
}

/// Why webpki refuses the algorithm of `cert`'s sound signature, if it
/// does (the signer's key is reported on the signer).
fn algorithm_refused(cert: &SslCertificate, refusal: Option<SignatureRefusal>) -> Option<String> {
    let algorithm = cert.signature_algorithm_name();
    match refusal? {
        SignatureRefusal::AlgorithmMismatch => Some(format!(
            "the signature algorithm named inside the certificate is not the one it is signed \
             with ({algorithm})"
        )),
        SignatureRefusal::UnsupportedAlgorithm => {
            Some(format!("webpki does not accept {algorithm} signatures"))
        }
        SignatureRefusal::UnusableKey => None,
    }
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
