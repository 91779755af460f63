//! From a socket's configuration and verification settings to a started
//! rustls handshake: which rustls configuration (shared or the
//! connection's own) and which verifier. Both front ends start handshakes
//! through here.

use crate::channel::Channel;
use crate::configuration::SslConfiguration;
use crate::error::{Error, Result};
use crate::ssl::{PeerVerifyMode, SslMode};
use crate::tls_context::{Prepared, TlsContext};
use crate::verify::{
    IgnoreRule, PeerName, PeerVerifyErrorHandler, SslErrorsHandler, VerificationPolicy,
};

/// What a handshake is made from: a socket's configuration and verification
/// settings.
pub(crate) struct HandshakeSetup<'a> {
    pub(crate) configuration: &'a SslConfiguration,
    /// The name the server is verified against (and SNI carries); clients only.
    pub(crate) peer_name: Option<&'a str>,
    pub(crate) verification: &'a VerificationSettings,
}

/// A socket's own verification settings: what it ignores and its handlers.
#[derive(Clone, Default)]
pub(crate) struct VerificationSettings {
    pub(crate) ignore: IgnoreRule,
    pub(crate) on_peer_verify_error: Option<PeerVerifyErrorHandler>,
    pub(crate) on_ssl_errors: Option<SslErrorsHandler>,
}

/// A handshake ready to be started on a [`Channel`].
pub(crate) enum HandshakeStart {
    Client {
        prepared: Prepared<rustls::ClientConfig>,
        name: rustls_pki_types::ServerName<'static>,
    },
    Server(Prepared<rustls::ServerConfig>),
}

impl HandshakeStart {
    /// Starts the handshake on `channel`.
    pub(crate) fn begin(self, channel: &mut Channel) -> Result<()> {
        match self {
            HandshakeStart::Client { prepared, name } => channel.start_client(prepared, name),
            HandshakeStart::Server(prepared) => channel.start_server(prepared),
        }
    }
}

impl HandshakeSetup<'_> {
    fn policy(&self, side: SslMode) -> VerificationPolicy {
        VerificationPolicy {
            side,
            mode: self.configuration.peer_verify_mode(),
            ignore: self.verification.ignore.clone(),
            on_peer_verify_error: self.verification.on_peer_verify_error.clone(),
            on_ssl_errors: self.verification.on_ssl_errors.clone(),
        }
    }

    /// Whether sessions of this socket may be shared: only when no error
    /// can be accepted, so that a resumed session never skips a check a
    /// fresh handshake would have failed.
    fn strict(policy: &VerificationPolicy) -> bool {
        policy.effective_mode() == PeerVerifyMode::VerifyPeer && Self::plain(policy)
    }

    /// Whether the configuration alone decides verification: nothing is
    /// ignored and no handler is set.
    fn plain(policy: &VerificationPolicy) -> bool {
        policy.ignore == IgnoreRule::Nothing
            && policy.on_ssl_errors.is_none()
            && policy.on_peer_verify_error.is_none()
    }

    /// A client handshake: the configuration's shared strict client
    /// configuration when no error can be accepted (sessions resume), else
    /// a per-connection verifier.
    pub(crate) fn client(&self) -> Result<HandshakeStart> {
        let context = TlsContext::for_configuration(self.configuration)?;
        let name = self
            .peer_name
            .map(str::to_owned)
            .ok_or_else(|| Error::InvalidState {
                operation: "start client encryption",
                reason: "no host name to verify the server against; set a peer verify name".into(),
            })?;
        let server_name = PeerName::parse(&name)
            .and_then(|n| n.server_name())
            .ok_or_else(|| Error::InvalidPeerName { name: name.clone() })?;
        let policy = self.policy(SslMode::SslClientMode);
        if Self::strict(&policy) {
            // The shared verifier checks the name the connection is made by,
            // which is `name`: the same check, and sessions can be resumed.
            if let Some(prepared) = context.lease_strict_client()? {
                return Ok(HandshakeStart::Client {
                    prepared,
                    name: server_name,
                });
            }
            // Every shared configuration is in a handshake: this one gets
            // its own, and cannot resume a session.
        }
        let verifier = context.verifier(policy, Some(name));
        Ok(HandshakeStart::Client {
            prepared: Prepared {
                config: context.client_config(verifier.clone())?,
                verifier,
                lease: None,
            },
            name: server_name,
        })
    }

    /// A server handshake: the configuration's shared server configuration
    /// when the configuration alone decides verification, else one with the
    /// connection's own verifier.
    pub(crate) fn server(&self) -> Result<HandshakeStart> {
        let context = TlsContext::for_configuration(self.configuration)?;
        let policy = self.policy(SslMode::SslServerMode);
        let plain = Self::plain(&policy);
        if plain {
            if let Some(prepared) = context.plain_server()? {
                return Ok(HandshakeStart::Server(prepared));
            }
        }
        // Resumed clients skip certificate checks; with handlers or ignore
        // rules that is safe only where no check could have failed the
        // handshake, or none is made.
        let share = plain
            || policy.effective_mode() == PeerVerifyMode::VerifyNone
            || (policy.effective_mode() == PeerVerifyMode::QueryPeer
                && policy.on_peer_verify_error.is_none());
        let verifier = context.verifier(policy, None);
        Ok(HandshakeStart::Server(Prepared {
            config: context.server_config(verifier.clone(), share)?,
            verifier,
            lease: None,
        }))
    }
}
