//! What a socket does with a peer's errors during the handshake: Qt's peer
//! verify modes, ignore rules and the two decision handlers.
//!
//! The steps follow Qt's: the error list is computed, the
//! `peer_verify_error` handler is called once per error (it may abort), then
//! the `ssl_errors` handler once with the whole list (it may ignore some or
//! all), then the ignore rules decide whether an error-carrying handshake
//! may go on. All of it happens inside the handshake, before it completes.

use std::fmt;
use std::sync::Arc;

use crate::error::{SslError, SslErrorCode};
use crate::ssl::{PeerVerifyMode, SslMode};

/// What a `peer_verify_error` handler decides about one error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerVerifyDecision {
    /// Go on: the error is still subject to the ignore rules.
    #[default]
    Continue,
    /// Abort the handshake now (Qt: calling `abort()` in the slot).
    Abort,
}

/// What an `ssl_errors` handler decides about the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SslErrorsDecision {
    /// Leave the decision to the ignore rules already set.
    #[default]
    NoChange,
    /// Ignore every error of this handshake (Qt: `ignoreSslErrors()`).
    IgnoreAll,
    /// Ignore these errors, matched on code and certificate (Qt:
    /// `ignoreSslErrors(list)`); the list replaces any list set before.
    Ignore(Vec<SslError>),
}

/// Called once per error during the handshake (Qt's `peerVerifyError`).
pub(crate) type PeerVerifyErrorHandler = Arc<dyn Fn(&SslError) -> PeerVerifyDecision + Send + Sync>;

/// Called once with every error during the handshake (Qt's `sslErrors`).
pub(crate) type SslErrorsHandler = Arc<dyn Fn(&[SslError]) -> SslErrorsDecision + Send + Sync>;

/// Which errors a handshake may go on despite (Qt's `ignoreSslErrors`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum IgnoreRule {
    /// Nothing is ignored.
    #[default]
    Nothing,
    /// Every error is ignored. Prefer [`IgnoreRule::Listed`]: it keeps
    /// unexpected errors fatal.
    Everything,
    /// The handshake goes on only if every error is in this list (code and
    /// certificate equal). Extra entries do no harm; an empty list is the
    /// same as [`IgnoreRule::Nothing`].
    Listed(Vec<SslError>),
}

impl IgnoreRule {
    /// Whether these rules let a handshake with `errors` go on.
    pub(crate) fn covers(&self, errors: &[SslError]) -> bool {
        match self {
            IgnoreRule::Nothing => errors.is_empty(),
            IgnoreRule::Everything => true,
            IgnoreRule::Listed(list) => errors.iter().all(|e| list.contains(e)),
        }
    }

    /// Qt's `ignoreSslErrors()`: ignore everything, unless a non-empty list
    /// is set, which Qt keeps deciding.
    pub(crate) fn ignore_all(&mut self) {
        if !matches!(self, IgnoreRule::Listed(list) if !list.is_empty()) {
            *self = IgnoreRule::Everything;
        }
    }

    /// Qt's `ignoreSslErrors(list)`: the list replaces any earlier list and
    /// wins over ignore-everything; an empty list clears the list, leaving
    /// an earlier ignore-everything in force.
    pub(crate) fn ignore_listed(&mut self, errors: Vec<SslError>) {
        if !errors.is_empty() {
            *self = IgnoreRule::Listed(errors);
        } else if matches!(self, IgnoreRule::Listed(_)) {
            *self = IgnoreRule::Nothing;
        }
    }

    /// These rules with the handler's decision applied, as the handler's
    /// calls to `ignoreSslErrors` would in Qt.
    fn with(&self, decision: SslErrorsDecision) -> IgnoreRule {
        let mut rule = self.clone();
        match decision {
            SslErrorsDecision::NoChange => {}
            SslErrorsDecision::IgnoreAll => rule.ignore_all(),
            SslErrorsDecision::Ignore(list) => rule.ignore_listed(list),
        }
        rule
    }
}

/// The per-handshake verification settings: a snapshot of the socket's
/// mode, verify mode, ignore rules and handlers when the handshake starts.
#[derive(Clone, Default)]
pub(crate) struct VerificationPolicy {
    /// The side this socket plays; decides what `AutoVerifyPeer` means.
    pub(crate) side: SslMode,
    /// How the peer is verified.
    pub(crate) mode: PeerVerifyMode,
    /// Errors the handshake may go on despite.
    pub(crate) ignore: IgnoreRule,
    /// Called once per error.
    pub(crate) on_peer_verify_error: Option<PeerVerifyErrorHandler>,
    /// Called once with the whole list, when it is not empty.
    pub(crate) on_ssl_errors: Option<SslErrorsHandler>,
}

impl fmt::Debug for VerificationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationPolicy")
            .field("side", &self.side)
            .field("mode", &self.mode)
            .field("ignore", &self.ignore)
            .field("on_peer_verify_error", &self.on_peer_verify_error.is_some())
            .field("on_ssl_errors", &self.on_ssl_errors.is_some())
            .finish()
    }
}

/// What happened to the peer's certificate in one handshake; readable
/// afterwards (`ssl_handshake_errors`), whether the handshake went on or not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct VerificationOutcome {
    /// Every error found, in Qt's order, ignored or not.
    pub(crate) errors: Vec<SslError>,
    /// Whether the handshake was allowed to go on.
    pub(crate) accepted: bool,
    /// Whether a `peer_verify_error` handler aborted the handshake.
    pub(crate) aborted_by_handler: bool,
    /// The certificates the peer sent, leaf first, as sent: rustls keeps
    /// those of a completed handshake only, and a handshake can fail after
    /// verification.
    pub(crate) peer_chain: Vec<rustls_pki_types::CertificateDer<'static>>,
}

impl VerificationPolicy {
    /// The verify mode in effect for this side.
    pub(crate) fn effective_mode(&self) -> PeerVerifyMode {
        self.mode.effective(self.side)
    }

    /// Runs Qt's decision steps for `errors`: the handlers, then the ignore
    /// rules as they stand after the `ssl_errors` handler.
    pub(crate) fn decide(&self, errors: Vec<SslError>) -> VerificationOutcome {
        for error in &errors {
            if let Some(handler) = &self.on_peer_verify_error {
                if handler(error) == PeerVerifyDecision::Abort {
                    return VerificationOutcome {
                        peer_chain: Vec::new(),
                        errors,
                        accepted: false,
                        aborted_by_handler: true,
                    };
                }
            }
        }
        let decision = match &self.on_ssl_errors {
            Some(handler) if !errors.is_empty() => handler(&errors),
            _ => SslErrorsDecision::NoChange,
        };
        let fatal = self.effective_mode() == PeerVerifyMode::VerifyPeer;
        let accepted = !fatal || self.ignore.with(decision).covers(&errors);
        VerificationOutcome {
            errors,
            accepted,
            aborted_by_handler: false,
            peer_chain: Vec::new(),
        }
    }

    /// The decision when a client sent no certificate: an error only for a
    /// server that requires one.
    pub(crate) fn decide_missing_client_certificate(&self) -> VerificationOutcome {
        if self.effective_mode() == PeerVerifyMode::VerifyPeer {
            self.decide(vec![SslError::new(SslErrorCode::NoPeerCertificate)])
        } else {
            VerificationOutcome {
                errors: Vec::new(),
                accepted: true,
                aborted_by_handler: false,
                peer_chain: Vec::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn error(code: SslErrorCode) -> SslError {
        SslError::new(code)
    }

    fn client(mode: PeerVerifyMode) -> VerificationPolicy {
        VerificationPolicy {
            side: SslMode::SslClientMode,
            mode,
            ..VerificationPolicy::default()
        }
    }

    #[test]
    fn modes_decide_fatality() {
        let errors = vec![error(SslErrorCode::HostNameMismatch)];
        assert!(
            !client(PeerVerifyMode::VerifyPeer)
                .decide(errors.clone())
                .accepted
        );
        assert!(
            !client(PeerVerifyMode::AutoVerifyPeer)
                .decide(errors.clone())
                .accepted
        );
        assert!(
            client(PeerVerifyMode::QueryPeer)
                .decide(errors.clone())
                .accepted
        );
        assert!(
            client(PeerVerifyMode::VerifyNone)
                .decide(errors.clone())
                .accepted
        );
        let server = VerificationPolicy {
            side: SslMode::SslServerMode,
            ..client(PeerVerifyMode::AutoVerifyPeer)
        };
        assert!(
            server.decide(errors.clone()).accepted,
            "AutoVerifyPeer is QueryPeer on a server"
        );
        assert!(
            client(PeerVerifyMode::VerifyPeer)
                .decide(Vec::new())
                .accepted
        );
    }

    #[test]
    fn ignore_rules() {
        let a = error(SslErrorCode::HostNameMismatch);
        let b = error(SslErrorCode::CertificateExpired);
        let listed =
            IgnoreRule::Listed(vec![a.clone(), error(SslErrorCode::SelfSignedCertificate)]);
        assert!(
            listed.covers(std::slice::from_ref(&a)),
            "extra entries do no harm"
        );
        assert!(
            !listed.covers(&[a.clone(), b.clone()]),
            "every error must be listed"
        );
        assert!(IgnoreRule::Everything.covers(&[a.clone(), b.clone()]));
        assert!(
            !IgnoreRule::Listed(Vec::new()).covers(std::slice::from_ref(&a)),
            "empty list ignores nothing"
        );
        assert!(!IgnoreRule::Nothing.covers(&[a]));
    }

    #[test]
    fn handlers_run_in_qt_order_and_can_abort_or_ignore() {
        let errors = vec![
            error(SslErrorCode::HostNameMismatch),
            error(SslErrorCode::CertificateExpired),
        ];
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let mut policy = client(PeerVerifyMode::VerifyPeer);
        policy.on_peer_verify_error = Some(Arc::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
            PeerVerifyDecision::Continue
        }));
        policy.on_ssl_errors = Some(Arc::new(|list: &[SslError]| {
            SslErrorsDecision::Ignore(list.to_vec())
        }));
        let outcome = policy.decide(errors.clone());
        assert_eq!(calls.load(Ordering::SeqCst), 2, "once per error");
        assert!(outcome.accepted);
        assert_eq!(outcome.errors, errors);

        policy.on_ssl_errors = Some(Arc::new(|list: &[SslError]| {
            SslErrorsDecision::Ignore(list[..1].to_vec())
        }));
        assert!(
            !policy.decide(errors.clone()).accepted,
            "one error left unignored"
        );

        policy.on_peer_verify_error = Some(Arc::new(|_| PeerVerifyDecision::Abort));
        policy.on_ssl_errors = Some(Arc::new(|_: &[SslError]| SslErrorsDecision::IgnoreAll));
        let aborted = policy.decide(errors.clone());
        assert!(
            !aborted.accepted && aborted.aborted_by_handler,
            "abort wins over a later ignore"
        );

        let mut query = client(PeerVerifyMode::QueryPeer);
        query.on_peer_verify_error = Some(Arc::new(|_| PeerVerifyDecision::Abort));
        assert!(
            !query.decide(errors).accepted,
            "a handler may abort even in QueryPeer"
        );
    }

    #[test]
    fn handler_lists_replace_earlier_lists_and_win_over_ignore_all() {
        let a = error(SslErrorCode::HostNameMismatch);
        let b = error(SslErrorCode::CertificateExpired);
        let mut policy = client(PeerVerifyMode::VerifyPeer);
        policy.ignore = IgnoreRule::Listed(vec![a.clone()]);
        let only_b = b.clone();
        policy.on_ssl_errors = Some(Arc::new(move |_: &[SslError]| {
            SslErrorsDecision::Ignore(vec![only_b.clone()])
        }));
        assert!(
            !policy.decide(vec![a.clone(), b.clone()]).accepted,
            "Qt replaces the list"
        );
        assert!(policy.decide(vec![b.clone()]).accepted);

        policy.on_ssl_errors = Some(Arc::new(|_: &[SslError]| SslErrorsDecision::IgnoreAll));
        assert!(
            !policy.decide(vec![b.clone()]).accepted,
            "a non-empty list wins over ignore-all"
        );
        policy.ignore = IgnoreRule::Nothing;
        assert!(policy.decide(vec![a.clone(), b.clone()]).accepted);
    }

    #[test]
    fn qt_ignore_calls() {
        let a = error(SslErrorCode::HostNameMismatch);
        let mut rule = IgnoreRule::Nothing;
        rule.ignore_all();
        assert_eq!(rule, IgnoreRule::Everything);
        rule.ignore_listed(vec![a.clone()]);
        assert_eq!(rule, IgnoreRule::Listed(vec![a.clone()]));
        rule.ignore_all();
        assert_eq!(rule, IgnoreRule::Listed(vec![a]), "the list keeps deciding");
        rule.ignore_listed(Vec::new());
        assert_eq!(rule, IgnoreRule::Nothing, "an empty list clears the list");
        rule.ignore_all();
        rule.ignore_listed(Vec::new());
        assert_eq!(rule, IgnoreRule::Everything);
    }

    #[test]
    fn missing_client_certificate() {
        let mut server = VerificationPolicy {
            side: SslMode::SslServerMode,
            ..client(PeerVerifyMode::VerifyPeer)
        };
        let outcome = server.decide_missing_client_certificate();
        assert!(!outcome.accepted);
        assert_eq!(outcome.errors, [error(SslErrorCode::NoPeerCertificate)]);
        server.ignore = IgnoreRule::Listed(vec![error(SslErrorCode::NoPeerCertificate)]);
        assert!(server.decide_missing_client_certificate().accepted);
        server.mode = PeerVerifyMode::QueryPeer;
        server.ignore = IgnoreRule::Nothing;
        let query = server.decide_missing_client_certificate();
        assert!(query.accepted && query.errors.is_empty());
    }
}
