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

use crate::certificate::{ExtensionValue, SslCertificate};
use crate::configuration::SslConfiguration;
use crate::error::{SslError, SslErrorCode};

pub(crate) use adapter::PeerVerifier;
pub(crate) use hostname::PeerName;
pub use policy::{
    IgnoreRule, PeerVerifyDecision, PeerVerifyErrorHandler, SslErrorsDecision, SslErrorsHandler,
    VerificationOutcome, VerificationPolicy,
};
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

    /// The verification time: the one set, or now.
    pub fn time(&self) -> SystemTime {
        self.time.unwrap_or_else(SystemTime::now)
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
/// per-connection verifiers hold them.
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
    let verdict = webpki_check::check_chain(chain, anchors, options.purpose(), time);
    let name_ok = valid_for_peer_name(leaf, options.peer_name());
    let depth_ok = match &verdict {
        Ok(path_len) => options.max_depth() == 0 || *path_len <= options.max_depth() as usize,
        Err(_) => true,
    };
    if verdict.is_ok() && name_ok && depth_ok {
        return Vec::new();
    }
    let mut errors = diagnostics::diagnose(chain, options, time);
    if errors.is_empty() {
        let reason = match verdict {
            Err(reason) => reason,
            Ok(_) if !depth_ok => "the chain is longer than the peer verify depth".to_owned(),
            Ok(_) => "the peer name is not valid".to_owned(),
        };
        errors.push(
            SslError::with_certificate(SslErrorCode::UnspecifiedError, leaf.clone())
                .with_detail(reason),
        );
    }
    errors
}

/// Whether `leaf` is valid for `name` (always, when there is no name); a
/// name that is neither a host name nor an address matches nothing.
pub(crate) fn valid_for_peer_name(leaf: &SslCertificate, name: Option<&str>) -> bool {
    name.is_none_or(|name| PeerName::parse(name).is_some_and(|name| hostname::matches(leaf, &name)))
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

impl SslCertificate {
    /// Qt's `QSslCertificate::verify`: verifies `chain` (leaf first, then
    /// untrusted intermediates) against the default configuration's CA
    /// certificates, for a server, as of now, optionally for `host_name`.
    ///
    /// Errors come in Qt's order: `HostNameMismatch` first, then the chain's
    /// problems. An empty chain gives `[UnspecifiedError]`.
    pub fn verify(chain: &[SslCertificate], host_name: Option<&str>) -> Vec<SslError> {
        let mut options = VerifyOptions::new(SslConfiguration::default_ca_certificates());
        if let Some(name) = host_name {
            options = options.with_peer_name(name);
        }
        verify_chain(chain, &options)
    }
}
