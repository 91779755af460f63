//! The rustls side of verification: a verifier per policy that turns the
//! peer's certificates into Qt's error list and applies the
//! [`VerificationPolicy`] inside the handshake.
//!
//! Every rustls verifier type of the crate lives here, so that a rustls
//! upgrade that renames them stays local.
//!
//! A verifier keeps the outcome of its last verification until the
//! connection it serves takes it. rustls gives a verifier no way to tell
//! connections apart, so a verifier serves one handshake at a time: either
//! it belongs to one connection, or it is shared by a configuration's
//! connections (which rustls needs to resume their sessions) and each
//! handshake holds it through a [`VerifierLease`] while it may verify. Handshake signatures are checked
//! by rustls' own functions with the aws-lc-rs algorithms in every mode,
//! `VerifyNone` included: not trusting a certificate is no reason to accept
//! a peer that does not hold its key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::policy::{VerificationOutcome, VerificationPolicy};
use super::webpki_check::{self, signature_algorithms, TrustAnchors};
use super::{chain_errors, host_name_error, PeerName, VerifyOptions};
use crate::certificate::SslCertificate;
use crate::error::{SslError, SslErrorCode};
use crate::ssl::PeerVerifyMode;

/// A verifier applying one policy: the client uses it as its
/// `ServerCertVerifier`, the server as its `ClientCertVerifier`.
///
/// It holds what its last verification found until the connection takes
/// it ([`take_outcome`](Self::take_outcome)); see the module documentation
/// for how a shared verifier serves one handshake at a time.
#[derive(Debug)]
pub(crate) struct PeerVerifier {
    policy: VerificationPolicy,
    options: VerifyOptions,
    anchors: Arc<TrustAnchors>,
    algorithms: WebPkiSupportedAlgorithms,
    outcome: Mutex<Option<VerificationOutcome>>,
    /// Whether a handshake holds this (shared) verifier.
    leased: AtomicBool,
}

impl PeerVerifier {
    /// A verifier applying `policy`, checking against `options` (roots, peer
    /// name, purpose, depth; a time set there overrides the handshake's), with
    /// `anchors` prebuilt from the same roots and shared between connections.
    pub(crate) fn new(
        policy: VerificationPolicy,
        options: VerifyOptions,
        anchors: Arc<TrustAnchors>,
    ) -> PeerVerifier {
        PeerVerifier {
            policy,
            options,
            anchors,
            algorithms: signature_algorithms(),
            outcome: Mutex::new(None),
            leased: AtomicBool::new(false),
        }
    }

    /// The outcome of the last verification, if it was not taken yet.
    pub(crate) fn take_outcome(&self) -> Option<VerificationOutcome> {
        self.outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn keep_outcome(&self, outcome: VerificationOutcome) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
    }

    /// Takes this shared verifier for one handshake, if no other handshake
    /// holds it.
    pub(crate) fn try_lease(self: &Arc<Self>) -> Option<VerifierLease> {
        self.leased
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // Left by a handshake that ended between a verification and its read.
        let _ = self.take_outcome();
        Some(VerifierLease(Some(self.clone())))
    }

    /// For a server whose handshake completed without a client certificate:
    /// the outcome (`NoPeerCertificate` where the mode requires a
    /// certificate), and whether the connection may go on. Must be called
    /// before any application data is exchanged.
    pub(crate) fn finish_without_client_certificate(
        &self,
    ) -> (Result<(), rustls::Error>, VerificationOutcome) {
        let outcome = self.policy.decide_missing_client_certificate();
        let verdict = if outcome.accepted {
            Ok(())
        } else {
            Err(rustls::Error::NoCertificatesPresented)
        };
        (verdict, outcome)
    }

    fn evaluate(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        server_name: Option<&ServerName<'_>>,
    ) -> Result<(), rustls::Error> {
        let time = self
            .options
            .time_override()
            .unwrap_or_else(|| system_time(now));
        let check_path = self.policy.effective_mode() != PeerVerifyMode::VerifyNone;
        // The common case costs what webpki costs; certificates are parsed
        // into `SslCertificate`s only to explain a failure.
        let errors =
            if self.passes_cleanly(end_entity, intermediates, time, server_name, check_path) {
                Vec::new()
            } else {
                let mut options = self.options.clone().with_time(time);
                if let (None, Some(name)) = (options.peer_name(), server_name.and_then(peer_name)) {
                    options = options.with_peer_name(name);
                }
                self.explain(end_entity, intermediates, &options, check_path)
            };
        let outcome = VerificationOutcome {
            peer_chain: std::iter::once(end_entity)
                .chain(intermediates)
                .map(|der| der.clone().into_owned())
                .collect(),
            ..self.policy.decide(errors)
        };
        let verdict = if outcome.accepted {
            Ok(())
        } else {
            Err(rejection(&outcome))
        };
        self.keep_outcome(outcome);
        verdict
    }

    /// Whether the chain (`leaf`, then untrusted `intermediates`) passes
    /// with no error at all, as of `time`: webpki accepts the path within
    /// the depth limit, its root allows the purpose, and webpki finds the
    /// leaf valid for the verifier's own peer name or, without one, for
    /// `server_name`, the name the client connects by. `check_path: false`
    /// skips the path (for `VerifyNone`, where only the name counts).
    ///
    /// This is what every handshake runs; it reads the certificates only as
    /// webpki does. A chain that fails it gets Qt's error list from
    /// [`chain_errors`], which parses them fully. Where webpki accepts a
    /// name, Qt's rules accept it too (see `hostname`). A certificate that
    /// webpki reads but this crate's parser does not (none is known) would
    /// pass here where [`chain_errors`] reports it.
    fn passes_cleanly(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        time: SystemTime,
        server_name: Option<&ServerName<'_>>,
        check_path: bool,
    ) -> bool {
        let Ok(end_entity) = webpki_check::end_entity(leaf) else {
            return false;
        };
        // webpki reads an intermediate only when it tries it on a path; one
        // that cannot be read at all is an error to explain, as it was sent.
        if !intermediates.iter().all(webpki_check::readable) {
            return false;
        }
        if check_path {
            let verdict = webpki_check::check_chain(
                &end_entity,
                intermediates,
                &self.anchors,
                self.options.purpose(),
                time,
                self.options.revocation(),
            );
            if !verdict.is_ok_and(|path| self.options.allows_depth(path.length)) {
                return false;
            }
        }
        let valid_for =
            |name: &ServerName<'_>| end_entity.verify_is_valid_for_subject_name(name).is_ok();
        match self.options.peer_name() {
            // A verifier's own peer name wins over the connection's.
            Some(own) => PeerName::parse(own)
                .and_then(|name| name.server_name())
                .is_some_and(|name| valid_for(&name)),
            None => server_name.is_none_or(valid_for),
        }
    }

    /// Qt's error list for a chain that did not pass cleanly.
    fn explain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        options: &VerifyOptions,
        check_path: bool,
    ) -> Vec<SslError> {
        let chain: Result<Vec<SslCertificate>, _> = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|der| SslCertificate::from_der(der.as_ref()))
            .collect();
        match chain {
            Err(e) => vec![
                SslError::new(SslErrorCode::UnspecifiedError).with_detail(format!(
                    "the peer sent a certificate that cannot be read: {e}"
                )),
            ],
            Ok(chain) if check_path => chain_errors(&chain, &self.anchors, options),
            // Qt collects no chain errors here, but still reports a wrong name.
            Ok(chain) => host_name_error(&chain, options, false)
                .into_iter()
                .collect(),
        }
    }
}

/// One handshake's hold on a shared [`PeerVerifier`]: while it lasts, no
/// other handshake is given the verifier, so every outcome it keeps is this
/// handshake's. Released when dropped, or by [`release`](Self::release)
/// once the handshake can no longer verify.
#[derive(Debug)]
pub(crate) struct VerifierLease(Option<Arc<PeerVerifier>>);

impl VerifierLease {
    pub(crate) fn release(&mut self) {
        if let Some(verifier) = self.0.take() {
            verifier.leased.store(false, Ordering::Release);
        }
    }
}

impl Drop for VerifierLease {
    fn drop(&mut self) {
        self.release();
    }
}

/// The name rustls was given for the server, as a peer name.
fn peer_name(server_name: &ServerName<'_>) -> Option<String> {
    match server_name {
        ServerName::DnsName(name) => Some(name.as_ref().to_owned()),
        ServerName::IpAddress(ip) => Some(std::net::IpAddr::from(*ip).to_string()),
        _ => None,
    }
}

fn system_time(now: UnixTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(now.as_secs())
}

/// The rustls error (and so the TLS alert) for a rejected certificate: the
/// closest match for the first error.
fn rejection(outcome: &VerificationOutcome) -> rustls::Error {
    if outcome.aborted_by_handler {
        return CertificateError::ApplicationVerificationFailure.into();
    }
    let Some(first) = outcome.errors.first() else {
        return CertificateError::ApplicationVerificationFailure.into();
    };
    use SslErrorCode::*;
    match first.code() {
        NoPeerCertificate => rustls::Error::NoCertificatesPresented,
        CertificateExpired => CertificateError::Expired.into(),
        CertificateNotYetValid => CertificateError::NotValidYet.into(),
        HostNameMismatch => CertificateError::NotValidForName.into(),
        CertificateRevoked => CertificateError::Revoked.into(),
        CertificateSignatureFailed => CertificateError::BadSignature.into(),
        InvalidPurpose => CertificateError::InvalidPurpose.into(),
        SelfSignedCertificate
        | SelfSignedCertificateInChain
        | UnableToGetIssuerCertificate
        | UnableToGetLocalIssuerCertificate
        | UnableToVerifyFirstCertificate
        | CertificateUntrusted => CertificateError::UnknownIssuer.into(),
        _ => CertificateError::ApplicationVerificationFailure.into(),
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // A per-connection verifier checks its own peer name; one shared by
        // a configuration's connections checks the name each connects by.
        self.evaluate(end_entity, intermediates, now, Some(server_name))
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn offer_client_auth(&self) -> bool {
        self.policy.effective_mode() != PeerVerifyMode::VerifyNone
    }

    fn client_auth_mandatory(&self) -> bool {
        // When nothing could accept a missing certificate, rustls refuses it
        // in the handshake, with the proper alert. Otherwise the handlers and
        // ignore rules decide, in `finish_without_client_certificate`.
        let missing = [SslError::new(SslErrorCode::NoPeerCertificate)];
        self.policy.effective_mode() == PeerVerifyMode::VerifyPeer
            && self.policy.on_ssl_errors.is_none()
            && self.policy.on_peer_verify_error.is_none()
            && !self.policy.ignore.covers(&missing)
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.evaluate(end_entity, intermediates, now, None)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    //! Whole handshakes between in-memory rustls peers, one of them (or
    //! both) verifying with a `PeerVerifier`.

    use super::*;
    use crate::error::SslErrorCode::*;
    use crate::ssl::SslMode;
    use crate::verify::policy::{IgnoreRule, PeerVerifyDecision, SslErrorsDecision};
    use crate::verify::Purpose;
    use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    use sslsocket_test_pki::{Identity, LeafSpec};

    /// A test identity's certificate as the crate reads it.
    trait AsSslCertificate {
        fn certificate(&self) -> SslCertificate;
    }

    impl AsSslCertificate for Identity {
        fn certificate(&self) -> SslCertificate {
            SslCertificate::from_der(self.der()).expect("rcgen certificate parses")
        }
    }

    /// Which side a handshake failed on.
    #[derive(Debug, PartialEq)]
    enum Failed {
        Client,
        Server,
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn chain_and_key(
        identity: &Identity,
        intermediates: &[&Identity],
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let chain = std::iter::once(identity)
            .chain(intermediates.iter().copied())
            .map(|i| CertificateDer::from(i.der()))
            .collect();
        (
            chain,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der())),
        )
    }

    fn verifier(policy: VerificationPolicy, options: VerifyOptions) -> Arc<PeerVerifier> {
        let anchors = Arc::new(TrustAnchors::new(options.roots()));
        Arc::new(PeerVerifier::new(policy, options, anchors))
    }

    fn client_policy(mode: PeerVerifyMode) -> VerificationPolicy {
        VerificationPolicy {
            side: SslMode::SslClientMode,
            mode,
            ..VerificationPolicy::default()
        }
    }

    fn server_policy(mode: PeerVerifyMode) -> VerificationPolicy {
        VerificationPolicy {
            side: SslMode::SslServerMode,
            mode,
            ..VerificationPolicy::default()
        }
    }

    fn client_config(
        verifier: Arc<PeerVerifier>,
        identity: Option<&Identity>,
        tls12_only: bool,
    ) -> Arc<ClientConfig> {
        let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
            &[&rustls::version::TLS12]
        } else {
            rustls::DEFAULT_VERSIONS
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        Arc::new(match identity {
            Some(identity) => {
                let (chain, key) = chain_and_key(identity, &[]);
                builder.with_client_auth_cert(chain, key).unwrap()
            }
            None => builder.with_no_client_auth(),
        })
    }

    fn server_config(
        client_verifier: Option<Arc<PeerVerifier>>,
        identity: &Identity,
        intermediates: &[&Identity],
    ) -> Arc<ServerConfig> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_verifier {
            Some(verifier) => builder.with_client_cert_verifier(verifier),
            None => builder.with_no_client_auth(),
        };
        let (chain, key) = chain_and_key(identity, intermediates);
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }

    /// What each side's verifier kept during a handshake.
    #[derive(Debug, Default)]
    struct Published {
        client: Option<VerificationOutcome>,
        server: Option<VerificationOutcome>,
    }

    /// Runs the handshake to completion or to the first error, taking each
    /// side's outcome from its verifier (if it has one of ours) right after
    /// its `process_new_packets`, as a session does.
    fn handshake(
        client: &mut ClientConnection,
        server: &mut ServerConnection,
        client_verifier: Option<&PeerVerifier>,
        server_verifier: Option<&PeerVerifier>,
    ) -> (Result<(), Failed>, Published) {
        let mut published = Published::default();
        let mut wire = Vec::new();
        for _ in 0..20 {
            wire.clear();
            while client.wants_write() {
                client.write_tls(&mut wire).unwrap();
            }
            if !wire.is_empty() {
                server.read_tls(&mut wire.as_slice()).unwrap();
                let processed = server.process_new_packets();
                if let Some(outcome) = server_verifier.and_then(PeerVerifier::take_outcome) {
                    published.server = Some(outcome);
                }
                if processed.is_err() {
                    return (Err(Failed::Server), published);
                }
            }
            wire.clear();
            while server.wants_write() {
                server.write_tls(&mut wire).unwrap();
            }
            if !wire.is_empty() {
                client.read_tls(&mut wire.as_slice()).unwrap();
                let processed = client.process_new_packets();
                if let Some(outcome) = client_verifier.and_then(PeerVerifier::take_outcome) {
                    published.client = Some(outcome);
                }
                if processed.is_err() {
                    return (Err(Failed::Client), published);
                }
            }
            if !client.is_handshaking() && !server.is_handshaking() {
                return (Ok(()), published);
            }
        }
        panic!("the handshake made no progress");
    }

    struct Pki {
        root: Identity,
        server: Identity,
        client: Identity,
    }

    fn pki() -> Pki {
        let root = Identity::new("Adapter Root");
        let server = root.leaf(&LeafSpec {
            common_name: "server.test",
            dns: &["server.test"],
            ..LeafSpec::default()
        });
        let client = root.leaf(&LeafSpec {
            common_name: "client",
            client_auth_only: true,
            ..LeafSpec::default()
        });
        Pki {
            root,
            server,
            client,
        }
    }

    /// A client verifying `server` (sent with `intermediates`) for `name`.
    fn connect(
        policy: VerificationPolicy,
        options: VerifyOptions,
        server: &Identity,
        intermediates: &[&Identity],
    ) -> (Result<(), Failed>, Option<VerificationOutcome>) {
        let verifier = verifier(policy, options);
        let mut client = ClientConnection::new(
            client_config(verifier.clone(), None, false),
            ServerName::try_from("server.test").unwrap(),
        )
        .unwrap();
        let mut server = ServerConnection::new(server_config(None, server, intermediates)).unwrap();
        let (result, published) = handshake(&mut client, &mut server, Some(&verifier), None);
        (result, published.client)
    }

    fn codes(outcome: &VerificationOutcome) -> Vec<SslErrorCode> {
        outcome.errors.iter().map(SslError::code).collect()
    }

    #[test]
    fn a_valid_server_is_accepted_with_no_errors() {
        let p = pki();
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("server.test");
        let (result, outcome) = connect(
            client_policy(PeerVerifyMode::AutoVerifyPeer),
            options,
            &p.server,
            &[],
        );
        assert_eq!(result, Ok(()));
        let outcome = outcome.unwrap();
        assert!(outcome.accepted && outcome.errors.is_empty());
    }

    #[test]
    fn a_wrong_name_aborts_unless_that_exact_error_is_ignored() {
        let p = pki();
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("other.test");
        let (result, outcome) = connect(
            client_policy(PeerVerifyMode::VerifyPeer),
            options.clone(),
            &p.server,
            &[],
        );
        assert_eq!(result, Err(Failed::Client));
        let outcome = outcome.unwrap();
        assert!(!outcome.accepted);
        assert_eq!(
            outcome.errors,
            [SslError::with_certificate(
                HostNameMismatch,
                p.server.certificate()
            )]
        );

        let mut bound = client_policy(PeerVerifyMode::VerifyPeer);
        bound.ignore = IgnoreRule::Listed(vec![SslError::with_certificate(
            HostNameMismatch,
            p.server.certificate(),
        )]);
        let (result, outcome) = connect(bound, options.clone(), &p.server, &[]);
        assert_eq!(result, Ok(()));
        assert_eq!(
            codes(&outcome.unwrap()),
            [HostNameMismatch],
            "ignored errors stay readable"
        );

        let elsewhere = p.root.leaf(&LeafSpec {
            common_name: "server.test",
            dns: &["server.test"],
            ..LeafSpec::default()
        });
        let mut wrong_certificate = client_policy(PeerVerifyMode::VerifyPeer);
        wrong_certificate.ignore = IgnoreRule::Listed(vec![SslError::with_certificate(
            HostNameMismatch,
            elsewhere.certificate(),
        )]);
        let (result, _) = connect(wrong_certificate, options.clone(), &p.server, &[]);
        assert_eq!(
            result,
            Err(Failed::Client),
            "an ignore bound to another certificate does not apply"
        );

        let mut everything = client_policy(PeerVerifyMode::VerifyPeer);
        everything.ignore = IgnoreRule::Everything;
        assert_eq!(connect(everything, options, &p.server, &[]).0, Ok(()));
    }

    #[test]
    fn query_peer_reports_but_never_aborts() {
        let p = pki();
        let stranger = Identity::self_signed(&LeafSpec {
            common_name: "server.test",
            dns: &["server.test"],
            ..LeafSpec::default()
        });
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("server.test");
        let (result, outcome) = connect(
            client_policy(PeerVerifyMode::QueryPeer),
            options,
            &stranger,
            &[],
        );
        assert_eq!(result, Ok(()));
        let outcome = outcome.unwrap();
        assert!(outcome.accepted);
        assert!(
            !outcome.errors.is_empty(),
            "the untrusted self-signed server is reported"
        );
    }

    #[test]
    fn verify_none_collects_no_chain_errors_but_reports_the_name() {
        let stranger = Identity::self_signed(&LeafSpec {
            common_name: "server.test",
            dns: &["server.test"],
            ..LeafSpec::default()
        });
        let right = VerifyOptions::new(Vec::new()).with_peer_name("server.test");
        let (result, outcome) = connect(
            client_policy(PeerVerifyMode::VerifyNone),
            right,
            &stranger,
            &[],
        );
        assert_eq!(result, Ok(()));
        assert!(outcome.unwrap().errors.is_empty());

        let wrong = VerifyOptions::new(Vec::new()).with_peer_name("elsewhere.test");
        let (result, outcome) = connect(
            client_policy(PeerVerifyMode::VerifyNone),
            wrong,
            &stranger,
            &[],
        );
        assert_eq!(result, Ok(()), "never fatal");
        assert_eq!(codes(&outcome.unwrap()), [HostNameMismatch]);
    }

    #[test]
    fn handlers_decide_inside_the_handshake() {
        let p = pki();
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("other.test");

        let mut aborting = client_policy(PeerVerifyMode::QueryPeer);
        aborting.on_peer_verify_error = Some(Arc::new(|_| PeerVerifyDecision::Abort));
        let (result, outcome) = connect(aborting, options.clone(), &p.server, &[]);
        assert_eq!(result, Err(Failed::Client));
        assert!(outcome.unwrap().aborted_by_handler);

        let mut ignoring = client_policy(PeerVerifyMode::VerifyPeer);
        ignoring.on_ssl_errors = Some(Arc::new(|errors: &[SslError]| {
            SslErrorsDecision::Ignore(errors.to_vec())
        }));
        assert_eq!(connect(ignoring, options, &p.server, &[]).0, Ok(()));
    }

    #[test]
    fn peer_verify_depth_counts_the_whole_path() {
        let p = pki();
        let intermediate = p.root.intermediate("Adapter Intermediate");
        let server = intermediate.leaf(&LeafSpec {
            common_name: "server.test",
            dns: &["server.test"],
            ..LeafSpec::default()
        });
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("server.test");
        let at_limit = options.clone().with_max_depth(3);
        assert_eq!(
            connect(
                client_policy(PeerVerifyMode::VerifyPeer),
                at_limit,
                &server,
                &[&intermediate]
            )
            .0,
            Ok(())
        );
        let too_deep = options.with_max_depth(2);
        let (result, outcome) = connect(
            client_policy(PeerVerifyMode::VerifyPeer),
            too_deep,
            &server,
            &[&intermediate],
        );
        assert_eq!(result, Err(Failed::Client));
        assert_eq!(codes(&outcome.unwrap()), [UnspecifiedError]);
    }

    #[test]
    fn tls12_signatures_are_checked_too() {
        let p = pki();
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("server.test");
        let verifier = verifier(client_policy(PeerVerifyMode::VerifyPeer), options);
        let mut client = ClientConnection::new(
            client_config(verifier.clone(), None, true),
            ServerName::try_from("server.test").unwrap(),
        )
        .unwrap();
        let mut server = ServerConnection::new(server_config(None, &p.server, &[])).unwrap();
        let (result, published) = handshake(&mut client, &mut server, Some(&verifier), None);
        assert_eq!(result, Ok(()));
        assert_eq!(
            client.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        assert!(published.client.unwrap().accepted);
    }

    #[test]
    fn an_unreadable_extra_certificate_is_an_error_even_off_the_path() {
        let p = pki();
        let (mut chain, key) = chain_and_key(&p.server, &[]);
        chain.push(CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]));
        let server_config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let options = VerifyOptions::new(vec![p.root.certificate()]).with_peer_name("server.test");
        let verifier = verifier(client_policy(PeerVerifyMode::VerifyPeer), options);
        let mut client = ClientConnection::new(
            client_config(verifier.clone(), None, false),
            ServerName::try_from("server.test").unwrap(),
        )
        .unwrap();
        let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
        let (result, published) = handshake(&mut client, &mut server, Some(&verifier), None);
        assert_eq!(result, Err(Failed::Client));
        let outcome = published.client.unwrap();
        assert_eq!(codes(&outcome), [UnspecifiedError]);
        assert!(
            outcome.errors[0]
                .detail()
                .unwrap_or_default()
                .contains("cannot be read"),
            "{:?}",
            outcome.errors
        );
        assert_eq!(outcome.peer_chain.len(), 2, "the chain is kept as sent");
    }

    /// What a server verifying clients saw.
    struct Served {
        result: Result<(), Failed>,
        verifier: Arc<PeerVerifier>,
        server: ServerConnection,
        outcome: Option<VerificationOutcome>,
    }

    /// A server verifying clients with `policy`; the client sends `identity` if any.
    fn serve(
        policy: VerificationPolicy,
        roots: Vec<SslCertificate>,
        identity: Option<&Identity>,
    ) -> Served {
        let p = pki();
        let options = VerifyOptions::new(roots).with_purpose(Purpose::ClientAuth);
        let server_verifier = verifier(policy, options);
        let trusting_client = verifier(
            client_policy(PeerVerifyMode::VerifyNone),
            VerifyOptions::new(Vec::new()),
        );
        let mut client = ClientConnection::new(
            client_config(trusting_client, identity, false),
            ServerName::try_from("server.test").unwrap(),
        )
        .unwrap();
        let mut server =
            ServerConnection::new(server_config(Some(server_verifier.clone()), &p.server, &[]))
                .unwrap();
        let (result, published) = handshake(&mut client, &mut server, None, Some(&server_verifier));
        Served {
            result,
            verifier: server_verifier,
            server,
            outcome: published.server,
        }
    }

    #[test]
    fn servers_request_and_verify_client_certificates_by_mode() {
        let p = pki();
        let roots = vec![p.root.certificate()];

        let served = serve(
            server_policy(PeerVerifyMode::VerifyPeer),
            roots.clone(),
            Some(&p.client),
        );
        assert_eq!(served.result, Ok(()));
        assert!(served.outcome.unwrap().errors.is_empty());
        assert!(served.server.peer_certificates().is_some());

        let outsider = Identity::new("Other Root").leaf(&LeafSpec {
            common_name: "outsider",
            client_auth_only: true,
            ..LeafSpec::default()
        });
        let served = serve(
            server_policy(PeerVerifyMode::VerifyPeer),
            roots.clone(),
            Some(&outsider),
        );
        assert_eq!(served.result, Err(Failed::Server));
        assert!(!served.outcome.unwrap().errors.is_empty());

        let served = serve(
            server_policy(PeerVerifyMode::AutoVerifyPeer),
            roots.clone(),
            Some(&outsider),
        );
        assert_eq!(
            served.result,
            Ok(()),
            "AutoVerifyPeer means QueryPeer on a server"
        );
        assert!(!served.outcome.unwrap().errors.is_empty());
        assert!(served.server.peer_certificates().is_some());

        let served = serve(
            server_policy(PeerVerifyMode::VerifyNone),
            roots,
            Some(&p.client),
        );
        assert_eq!(served.result, Ok(()));
        assert!(
            served.server.peer_certificates().is_none(),
            "VerifyNone asks for no certificate"
        );
        assert!(served.outcome.is_none());
    }

    #[test]
    fn a_missing_client_certificate_is_decided_like_any_error() {
        let roots = vec![pki().root.certificate()];
        let served = serve(
            server_policy(PeerVerifyMode::VerifyPeer),
            roots.clone(),
            None,
        );
        assert_eq!(
            served.result,
            Err(Failed::Server),
            "nothing can accept the missing certificate: rustls refuses it with an alert"
        );
        assert!(served.server.peer_certificates().is_none());
        let (result, outcome) = served.verifier.finish_without_client_certificate();
        assert!(matches!(
            result,
            Err(rustls::Error::NoCertificatesPresented)
        ));
        assert_eq!(codes(&outcome), [NoPeerCertificate]);

        // With a handler that could ignore it, rustls completes and the
        // socket decides before any data flows.
        let mut handled = server_policy(PeerVerifyMode::VerifyPeer);
        handled.on_ssl_errors = Some(Arc::new(|_: &[SslError]| SslErrorsDecision::NoChange));
        let served = serve(handled, roots.clone(), None);
        assert_eq!(served.result, Ok(()));
        let (result, outcome) = served.verifier.finish_without_client_certificate();
        assert!(result.is_err());
        assert_eq!(codes(&outcome), [NoPeerCertificate]);

        let mut tolerant = server_policy(PeerVerifyMode::VerifyPeer);
        tolerant.ignore = IgnoreRule::Listed(vec![SslError::new(NoPeerCertificate)]);
        let served = serve(tolerant, roots.clone(), None);
        assert!(served
            .verifier
            .finish_without_client_certificate()
            .0
            .is_ok());

        let served = serve(server_policy(PeerVerifyMode::QueryPeer), roots, None);
        let (result, outcome) = served.verifier.finish_without_client_certificate();
        assert!(result.is_ok());
        assert!(outcome.errors.is_empty());
    }

    #[test]
    fn one_verifier_serves_many_connections_each_with_its_own_outcome() {
        let p = pki();
        let options = VerifyOptions::new(vec![p.root.certificate()]);
        let shared = verifier(client_policy(PeerVerifyMode::QueryPeer), options);
        let config = client_config(shared.clone(), None, false);
        let impostor = Identity::new("Impostor Root").leaf(&LeafSpec {
            common_name: "server.test",
            dns: &["server.test"],
            ..LeafSpec::default()
        });
        for (server, expected) in [
            (&p.server, Vec::new()),
            (
                &impostor,
                vec![
                    UnableToGetLocalIssuerCertificate,
                    UnableToVerifyFirstCertificate,
                ],
            ),
            (&p.server, Vec::new()),
        ] {
            let mut client =
                ClientConnection::new(config.clone(), ServerName::try_from("server.test").unwrap())
                    .unwrap();
            let mut server = ServerConnection::new(server_config(None, server, &[])).unwrap();
            let (result, published) = handshake(&mut client, &mut server, Some(&shared), None);
            assert_eq!(result, Ok(()), "QueryPeer goes on");
            assert_eq!(codes(&published.client.unwrap()), expected);
        }
    }

    #[test]
    fn a_shared_verifier_serves_one_handshake_at_a_time() {
        let shared = verifier(
            client_policy(PeerVerifyMode::VerifyPeer),
            VerifyOptions::new(Vec::new()),
        );
        let mut first = shared.try_lease().expect("free");
        assert!(shared.try_lease().is_none(), "held by the first handshake");
        first.release();
        let second = shared.try_lease().expect("released");
        assert!(shared.try_lease().is_none());
        drop(second);
        assert!(shared.try_lease().is_some(), "a dropped lease is released");
    }
}
