//! Peer verification the Qt way: the full list of what is wrong with a
//! certificate chain, in Qt's names and order, while the decision itself
//! stays with rustls-webpki.
//!
//! - [`verify_chain`] answers offline: given a chain and [`VerifyOptions`]
//!   (trusted roots, peer name, purpose, depth limit, time) it returns the
//!   [`SslError`] list, empty when the chain is acceptable.
//!   [`SslCertificate::verify`] is Qt's `QSslCertificate::verify` on top of it.
//! - webpki decides whether the chain is trusted. Only when it is not do the
//!   diagnostics run, to say why in Qt's terms; if they find nothing to name,
//!   the list gets an `UnspecifiedError` carrying webpki's reason, so a
//!   rejected chain never comes back with an empty list.
//! - Host names are matched with Qt's rules (see `hostname`), which accept
//!   two things webpki does not: the subject CN of a certificate without DNS
//!   names, and a wildcard at the end of the first label (`www*.example.com`).

mod adapter;
mod diagnostics;
mod hostname;
mod policy;
mod webpki_check;

use std::sync::Arc;
use std::time::SystemTime;

use rustls_pki_types::CertificateDer;

use crate::certificate::{ExtensionValue, SslCertificate};
use crate::crl::CertificateRevocationList;
use crate::error::{SslError, SslErrorCode};

pub(crate) use adapter::{PeerVerifier, VerifierLease};
pub(crate) use hostname::PeerName;
pub(crate) use policy::{
    IgnoreRule, PeerVerifyErrorHandler, SslErrorsHandler, VerificationOutcome, VerificationPolicy,
};
pub use policy::{PeerVerifyDecision, SslErrorsDecision};
pub(crate) use webpki_check::TrustAnchors;

/// What a certificate is being verified for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Purpose {
    /// A TLS server's certificate, as a client checks it (extended key usage
    /// serverAuth).
    #[default]
    ServerAuth,
    /// A TLS client's certificate, as a server checks it (extended key usage
    /// clientAuth).
    ClientAuth,
}

/// The inputs of a verification besides the chain itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    // Shared: a socket's handshake reuses its configuration's list.
    roots: Arc<[SslCertificate]>,
    peer_name: Option<String>,
    purpose: Purpose,
    max_depth: u32,
    time: Option<SystemTime>,
    qt_host_name_matching: bool,
    crls: Arc<[CertificateRevocationList]>,
    crls_required: bool,
}

impl VerifyOptions {
    /// Verification against `roots`, for a server, with no name check, no
    /// depth limit, as of now.
    pub fn new(roots: Vec<SslCertificate>) -> VerifyOptions {
        VerifyOptions::with_shared_roots(roots.into())
    }

    /// [`VerifyOptions::new`] with a root list shared with others.
    pub(crate) fn with_shared_roots(roots: Arc<[SslCertificate]>) -> VerifyOptions {
        VerifyOptions {
            roots,
            peer_name: None,
            purpose: Purpose::ServerAuth,
            max_depth: 0,
            time: None,
            qt_host_name_matching: false,
            crls: Arc::new([]),
            crls_required: false,
        }
    }

    /// Checks that the leaf is valid for `name`: a DNS name (IDN allowed, a
    /// trailing dot ignored) or an IPv4/IPv6 address.
    pub fn with_peer_name(mut self, name: impl Into<String>) -> VerifyOptions {
        self.peer_name = Some(name.into());
        self
    }

    /// Sets what the certificate must be valid for.
    pub fn with_purpose(mut self, purpose: Purpose) -> VerifyOptions {
        self.purpose = purpose;
        self
    }

    /// Limits the verified chain to `depth` certificates, leaf and root
    /// included; 0 means no limit.
    pub fn with_max_depth(mut self, depth: u32) -> VerifyOptions {
        self.max_depth = depth;
        self
    }

    /// Verifies as of `time` instead of now.
    pub fn with_time(mut self, time: SystemTime) -> VerifyOptions {
        self.time = Some(time);
        self
    }

    /// Dangerous: also accepts the host names Qt's own matching accepts and
    /// webpki refuses, which is the subject CN of a leaf without DNS
    /// subjectAltNames, and partial-label wildcards such as
    /// `ba*.example.com`. RFC 6125, the CA/Browser Forum and every browser
    /// refuse both; use this only to talk to old devices whose certificates
    /// cannot be replaced.
    /// [`SslConfiguration::set_dangerous_qt_host_name_matching`](crate::SslConfiguration::set_dangerous_qt_host_name_matching)
    /// is the same for handshakes.
    pub fn with_dangerous_qt_host_name_matching(mut self, enabled: bool) -> VerifyOptions {
        self.qt_host_name_matching = enabled;
        self
    }

    /// The trusted roots.
    pub fn roots(&self) -> &[SslCertificate] {
        &self.roots
    }

    /// The name the leaf must be valid for, if any.
    pub fn peer_name(&self) -> Option<&str> {
        self.peer_name.as_deref()
    }

    /// What the certificate must be valid for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The depth limit; 0 means none.
    pub fn max_depth(&self) -> u32 {
        self.max_depth
    }

    /// Checks every certificate on the path against `crls` (webpki's CRL
    /// support): one that a list from its issuer names is
    /// `CertificateRevoked`; a list that has expired, or whose signature
    /// its issuer did not make, is reported (`UnspecifiedError`, with
    /// webpki's reason) rather than used. A certificate whose issuer has no
    /// list here is not an error.
    pub fn with_crls(mut self, crls: Vec<CertificateRevocationList>) -> VerifyOptions {
        self.crls = crls.into();
        self
    }

    /// The revocation lists checked.
    pub fn crls(&self) -> &[CertificateRevocationList] {
        &self.crls
    }

    /// Strict revocation checking: every certificate below the root must
    /// be covered by a list from its issuer; one that is not is
    /// `CertificateStatusUnknown` (also when no list is given at all).
    pub fn with_crls_required(mut self, required: bool) -> VerifyOptions {
        self.crls_required = required;
        self
    }

    /// Whether every certificate must be covered by a revocation list.
    pub fn crls_required(&self) -> bool {
        self.crls_required
    }

    /// The revocation check webpki makes.
    pub(crate) fn revocation(&self) -> webpki_check::Revocation<'_> {
        webpki_check::Revocation {
            crls: &self.crls,
            required: self.crls_required,
        }
    }

    /// Whether Qt's looser host-name matching is on; see
    /// [`with_dangerous_qt_host_name_matching`](Self::with_dangerous_qt_host_name_matching).
    pub fn dangerous_qt_host_name_matching(&self) -> bool {
        self.qt_host_name_matching
    }

    /// The verification time: the one set, or now.
    pub fn time(&self) -> SystemTime {
        self.time.unwrap_or_else(SystemTime::now)
    }

    /// Whether a verified path of `length` certificates is within the
    /// depth limit.
    pub(crate) fn allows_depth(&self, length: usize) -> bool {
        self.max_depth == 0 || length <= self.max_depth as usize
    }

    /// The time set with [`with_time`](Self::with_time), if any.
    pub(crate) fn time_override(&self) -> Option<SystemTime> {
        self.time
    }
}

/// Verifies `chain` (leaf first, then untrusted intermediates in any order)
/// and returns Qt's list of errors; an empty list means the chain is
/// acceptable. An empty chain gives `[UnspecifiedError]`, as in Qt.
pub fn verify_chain(chain: &[SslCertificate], options: &VerifyOptions) -> Vec<SslError> {
    chain_errors(chain, &TrustAnchors::new(options.roots()), options)
}

/// [`verify_chain`] with the roots already in webpki's form, as the
/// handshake verifiers hold them.
pub(crate) fn chain_errors(
    chain: &[SslCertificate],
    anchors: &TrustAnchors,
    options: &VerifyOptions,
) -> Vec<SslError> {
    let Some(leaf) = chain.first() else {
        return vec![
            SslError::new(SslErrorCode::UnspecifiedError).with_detail("the chain is empty")
        ];
    };
    let time = options.time();
    let leaf_der = CertificateDer::from(leaf.to_der());
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.to_der()))
        .collect();
    let verdict = webpki_check::end_entity(&leaf_der).and_then(|end_entity| {
        webpki_check::check_chain(
            &end_entity,
            &intermediates,
            anchors,
            options.purpose(),
            time,
            options.revocation(),
        )
    });
    let anchor_constrained = verdict
        .as_ref()
        .is_ok_and(|path| path.anchor_name_constrained);
    let host_error = host_name_error(chain, options, anchor_constrained);
    let depth_ok = match &verdict {
        Ok(path) => options.allows_depth(path.length),
        Err(_) => true,
    };
    match (&verdict, depth_ok) {
        (Ok(_), true) => return host_error.into_iter().collect(),
        (Ok(_), false) | (Err(_), _) => {}
    }
    let mut errors = diagnostics::diagnose(chain, options, time, host_error);
    if let Err(rejection) = &verdict {
        if rejection.is_revocation() {
            errors.extend(webpki_check::revoked(chain, options.crls()));
            if options.crls_required() {
                errors.extend(webpki_check::uncovered(chain, options.crls()));
            }
        }
    }
    // The list must explain webpki's rejection: otherwise ignoring the listed
    // errors would accept a chain for a reason nobody was shown.
    let unexplained = match &verdict {
        Err(rejection) => {
            (!errors.iter().any(|e| rejection.explained_by(e.code()))).then(|| rejection.describe())
        }
        Ok(_) => errors
            .iter()
            .all(|e| e.code() == SslErrorCode::HostNameMismatch)
            .then(|| "the chain is longer than the peer verify depth".to_owned()),
    };
    if let Some(reason) = unexplained {
        let culprit = match &verdict {
            Err(rejection) => rejection.culprit(chain),
            Ok(_) => None,
        };
        errors.push(
            SslError::with_certificate(
                SslErrorCode::UnspecifiedError,
                culprit.unwrap_or(leaf).clone(),
            )
            .with_detail(reason),
        );
    }
    errors
}

/// `HostNameMismatch` on the leaf of `chain` if it is not valid for the
/// options' peer name (nothing without a name). webpki decides; a name that
/// is neither a host name nor an address matches nothing.
///
/// With Qt's matching switched on, a name Qt's rules accept is valid too,
/// except that the subject CN stands in for DNS names only when no
/// certificate that could be on the path restricts names: webpki applies
/// name constraints to subjectAltNames only, so a CN must not slip past a
/// constrained CA.
pub(crate) fn host_name_error(
    chain: &[SslCertificate],
    options: &VerifyOptions,
    anchor_name_constrained: bool,
) -> Option<SslError> {
    let (name, leaf) = (options.peer_name()?, chain.first()?);
    let allow_common_name =
        || !anchor_name_constrained && !chain[1..].iter().any(webpki_check::has_name_constraints);
    let valid = PeerName::parse(name).is_some_and(|name| {
        webpki_check::valid_for_name(leaf, &name)
            || (options.dangerous_qt_host_name_matching()
                && hostname::qt_rules_match(leaf, &name, allow_common_name))
    });
    (!valid).then(|| {
        let error = SslError::with_certificate(SslErrorCode::HostNameMismatch, leaf.clone());
        match webpki_check::unreadable(leaf) {
            Some(_) => error.with_detail("webpki cannot read the leaf, so it is valid for no name"),
            None => error,
        }
    })
}

/// Whether `cert`'s extended key usage, if it has one, allows `purpose`.
/// As in webpki and OpenSSL, anyExtendedKeyUsage does not stand in for
/// serverAuth or clientAuth. An extension we cannot decode is left to webpki.
pub(crate) fn extended_key_usage_allows(cert: &SslCertificate, purpose: Purpose) -> bool {
    let (name, oid) = match purpose {
        Purpose::ServerAuth => ("serverAuth", "1.3.6.1.5.5.7.3.1"),
        Purpose::ClientAuth => ("clientAuth", "1.3.6.1.5.5.7.3.2"),
    };
    cert.extensions()
        .iter()
        .filter(|extension| extension.oid() == "2.5.29.37")
        .all(|extension| match extension.value() {
            ExtensionValue::ExtendedKeyUsage(usages) => {
                usages.iter().any(|usage| usage == name || usage == oid)
            }
            _ => true,
        })
}
