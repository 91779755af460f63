//! From an [`SslConfiguration`] to rustls configurations.
//!
//! Everything that depends only on the configuration (the crypto provider
//! restricted to its ciphers and key-exchange groups, the protocol versions, the trusted roots in
//! webpki's form, the local identity, the session stores) is built once per
//! configuration value and cached process-wide, so sockets made from the
//! same configuration share session caches (resumption works across them)
//! and do not re-parse the system roots. Sockets whose verification the
//! configuration alone decides share whole rustls configurations; only the
//! others get a configuration with a verifier of their own per handshake.
//!
//! A shared configuration's verifier serves one handshake at a time (see
//! [`VerifierLease`]), so each configuration keeps a few of them
//! ([`SharedConfigs`]): concurrent handshakes each take a free one, and a
//! handshake that finds none free gets a configuration of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use rustls::client::{ResolvesClientCert, Resumption};
use rustls::crypto::CryptoProvider;
use rustls::server::{ProducesTickets, ServerSessionMemoryCache, StoresServerSessions};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::CertificateDer;

use crate::certificate::SslCertificate;
use crate::configuration::SslConfiguration;
use crate::error::{Error, Result};
use crate::ssl::{PeerVerifyMode, SslMode};
use crate::ssl::{SslOption, TlsVersion};
use crate::verify::{
    PeerVerifier, Purpose, TrustAnchors, VerificationPolicy, VerifierLease, VerifyOptions,
};

/// How many configurations keep their contexts; a program rarely uses more
/// than a handful, and a bounded cache cannot grow without limit when one
/// builds a fresh configuration per connection.
const CACHED_CONTEXTS: usize = 32;

/// How many configuration generations the cache maps to their contexts; a
/// program that changes its configurations often keeps finding them by
/// comparison.
const CACHED_GENERATIONS: usize = 8 * CACHED_CONTEXTS;

/// How many sessions each side remembers for resumption.
const SESSION_CACHE_SIZE: usize = 256;

/// How many handshakes of one configuration can use its shared rustls
/// configurations at once; more get configurations of their own (a client
/// then cannot resume a session).
const SHARED_CONFIGS: usize = 16;

/// A rustls configuration shared by a configuration's connections, with
/// the verifier in it.
type Shared<C> = (Arc<C>, Arc<PeerVerifier>);

/// Up to [`SHARED_CONFIGS`] shared rustls configurations, built when first
/// needed, each lent to one handshake at a time through its verifier.
struct SharedConfigs<C> {
    slots: Box<[OnceLock<Shared<C>>]>,
}

impl<C> SharedConfigs<C> {
    fn new() -> SharedConfigs<C> {
        SharedConfigs {
            slots: (0..SHARED_CONFIGS).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Slot `index`, built by `build` if it is new.
    fn slot(&self, index: usize, build: &impl Fn() -> Result<Shared<C>>) -> Result<&Shared<C>> {
        let slot = &self.slots[index];
        if let Some(built) = slot.get() {
            return Ok(built);
        }
        let built = build()?;
        // Two handshakes may build the same slot; one is kept.
        Ok(slot.get_or_init(|| built))
    }

    /// The first configuration, however many handshakes use it: only for a
    /// verifier that never verifies.
    fn first(&self, build: impl Fn() -> Result<Shared<C>>) -> Result<Shared<C>> {
        self.slot(0, &build).cloned()
    }

    /// The first configuration no handshake holds, leased; `None` when
    /// every one is held.
    fn lease(&self, build: impl Fn() -> Result<Shared<C>>) -> Result<Option<Prepared<C>>> {
        for index in 0..self.slots.len() {
            let (config, verifier) = self.slot(index, &build)?;
            if let Some(lease) = verifier.try_lease() {
                return Ok(Some(Prepared {
                    config: config.clone(),
                    verifier: verifier.clone(),
                    lease: Some(lease),
                }));
            }
        }
        Ok(None)
    }
}

/// A rustls configuration for one handshake, with the verifier its outcome
/// comes from and, for a shared one, the handshake's hold on it.
pub(crate) struct Prepared<C> {
    pub(crate) config: Arc<C>,
    pub(crate) verifier: Arc<PeerVerifier>,
    pub(crate) lease: Option<VerifierLease>,
}

impl SslConfiguration {
    /// Checks that a handshake can start with this configuration: a
    /// protocol that can be negotiated, ciphers and key-exchange groups
    /// usable with it, and a consistent local identity. Handshakes make the
    /// same checks; this reports a problem before any connection is made.
    /// What it builds (trusted roots in webpki's form, session caches) is
    /// kept for the handshakes of this configuration.
    pub fn check_usable(&self) -> Result<()> {
        TlsContext::for_configuration(self).map(|_| ())
    }
}

/// The process-wide cache of contexts.
#[derive(Default)]
struct ContextCache {
    /// The contexts built, oldest first.
    contexts: Vec<Arc<TlsContext>>,
    /// The context of each configuration generation seen (see
    /// [`SslConfiguration::generation`]): most handshakes find theirs here.
    by_generation: HashMap<u64, Arc<TlsContext>>,
}

impl ContextCache {
    /// Records that configurations of `generation` use `context`, keeping
    /// both maps bounded.
    fn insert(&mut self, generation: u64, context: &Arc<TlsContext>) {
        if !self.contexts.iter().any(|c| Arc::ptr_eq(c, context)) {
            if self.contexts.len() >= CACHED_CONTEXTS {
                let evicted = self.contexts.remove(0);
                self.by_generation.retain(|_, c| !Arc::ptr_eq(c, &evicted));
            }
            self.contexts.push(context.clone());
        }
        if self.by_generation.len() >= CACHED_GENERATIONS {
            // Generations come back through the comparison above.
            self.by_generation.clear();
        }
        self.by_generation.insert(generation, context.clone());
    }
}

/// The rustls pieces built from one configuration value.
pub(crate) struct TlsContext {
    configuration: SslConfiguration,
    provider: Arc<CryptoProvider>,
    versions: Vec<&'static SupportedProtocolVersion>,
    roots: Arc<[SslCertificate]>,
    anchors: Arc<TrustAnchors>,
    identity: Option<Arc<CertifiedKey>>,
    server_sessions: Arc<dyn StoresServerSessions>,
    ticketer: Option<Arc<dyn ProducesTickets>>,
    key_log: Option<Arc<KeyLogFile>>,
    client_credentials: Option<Arc<dyn ResolvesClientCert>>,
    /// The client configurations of sockets whose verification cannot
    /// accept any error. They are shared, verifier included, because rustls
    /// resumes a session only with the very verifier and credentials that
    /// made it; each has its own session store, as a session stored through
    /// one cannot be resumed through another.
    strict_clients: SharedConfigs<ClientConfig>,
    /// The server configurations of sockets whose verification the
    /// configuration alone decides, shared so that a handshake does not
    /// build one. They share one session store.
    plain_servers: SharedConfigs<ServerConfig>,
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContext")
            .field("versions", &self.versions)
            .finish_non_exhaustive()
    }
}

impl TlsContext {
    /// The context for `configuration`, from the cache or built now.
    pub(crate) fn for_configuration(configuration: &SslConfiguration) -> Result<Arc<TlsContext>> {
        static CACHE: OnceLock<RwLock<ContextCache>> = OnceLock::new();
        let cache = CACHE.get_or_init(RwLock::default);
        let generation = configuration.generation();
        if let Some(found) = cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_generation
            .get(&generation)
        {
            return Ok(found.clone());
        }
        // A configuration not seen yet may equal one already built: a copy
        // made before a change that was then undone, or the same settings
        // made twice.
        let equal = cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contexts
            .iter()
            .find(|c| c.configuration == *configuration)
            .cloned();
        let context = match equal {
            Some(context) => context,
            // Built outside the lock: loading roots and keys takes a while.
            None => Arc::new(TlsContext::build(configuration)?),
        };
        cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(generation, &context);
        Ok(context)
    }

    fn build(configuration: &SslConfiguration) -> Result<TlsContext> {
        let protocol = configuration.protocol();
        let allowed = protocol
            .negotiable_versions()
            .ok_or(Error::UnsupportedProtocol(protocol))?;
        let versions: Vec<&'static SupportedProtocolVersion> = allowed
            .iter()
            .map(|v| match v {
                TlsVersion::Tls12 => &rustls::version::TLS12,
                TlsVersion::Tls13 => &rustls::version::TLS13,
            })
            .collect();
        let suites: Vec<_> = configuration
            .ciphers()
            .iter()
            .filter(|c| allowed.iter().any(|v| v.protocol() == c.protocol()))
            .map(|c| c.rustls_suite())
            .collect();
        if suites.is_empty() {
            return Err(Error::NoUsableCipher { protocol });
        }
        let tls13_allowed = allowed.contains(&TlsVersion::Tls13);
        let kx_groups: Vec<_> = configuration
            .key_exchange_groups()
            .iter()
            .filter(|group| tls13_allowed || !group.is_post_quantum())
            .map(|group| group.rustls_group())
            .collect();
        if kx_groups.is_empty() {
            return Err(Error::NoUsableKeyExchangeGroup { protocol });
        }
        let provider = Arc::new(CryptoProvider {
            cipher_suites: suites,
            kx_groups,
            ..rustls::crypto::aws_lc_rs::default_provider()
        });

        configuration.check_local_identity()?;
        let identity = match (
            configuration.local_certificate_chain(),
            configuration.private_key(),
        ) {
            (chain, Some(key)) if !chain.is_empty() => {
                let chain: Vec<CertificateDer<'static>> = chain
                    .iter()
                    .map(|c| CertificateDer::from(c.to_der().to_vec()))
                    .collect();
                let key = provider
                    .key_provider
                    .load_private_key(key.to_rustls_private_key()?)
                    .map_err(Error::Tls)?;
                Some(Arc::new(CertifiedKey::new(chain, key)))
            }
            _ => None,
        };

        let ticketer = if configuration.test_ssl_option(SslOption::SslOptionDisableSessionTickets) {
            None
        } else {
            Some(rustls::crypto::aws_lc_rs::Ticketer::new().map_err(Error::Tls)?)
        };

        let roots: Arc<[SslCertificate]> = configuration.ca_certificates().into();
        let anchors = Arc::new(TrustAnchors::new(&roots));
        let client_credentials = identity.clone().map(|identity| {
            Arc::new(SingleCertAndKey::from(identity)) as Arc<dyn ResolvesClientCert>
        });
        let key_log = configuration
            .dangerous_key_log_file()
            .map(|path| Arc::new(KeyLogFile::new(path)));
        let context = TlsContext {
            configuration: configuration.clone(),
            provider,
            versions,
            anchors,
            roots,
            identity,
            server_sessions: ServerSessionMemoryCache::new(SESSION_CACHE_SIZE),
            ticketer,
            key_log,
            client_credentials,
            strict_clients: SharedConfigs::new(),
            plain_servers: SharedConfigs::new(),
        };
        // Built now, so that a configuration rustls refuses fails here and
        // the first client handshake finds it ready.
        let first = context.strict_client()?;
        let _ = context.strict_clients.slots[0].set(first);
        Ok(context)
    }

    /// A verifier applying `policy` with this configuration's roots and
    /// depth limit, checking the server against `peer_name` (clients; a
    /// verifier without one checks the name each connection is made by).
    pub(crate) fn verifier(
        &self,
        policy: VerificationPolicy,
        peer_name: Option<String>,
    ) -> Arc<PeerVerifier> {
        let mut options = VerifyOptions::with_shared_roots(self.roots.clone())
            .with_max_depth(self.configuration.peer_verify_depth())
            .with_dangerous_qt_host_name_matching(
                self.configuration.dangerous_qt_host_name_matching(),
            )
            .with_crls(self.configuration.crls().to_vec())
            .with_crls_required(self.configuration.crls_required());
        if let Some(name) = peer_name {
            options = options.with_peer_name(name);
        }
        verifier(policy, options, &self.anchors)
    }

    /// Whether this configuration lets sockets share sessions at all.
    fn sessions_shared(&self) -> bool {
        !self
            .configuration
            .test_ssl_option(SslOption::SslOptionDisableSessionSharing)
    }

    /// A client configuration that accepts no error, with its own
    /// verifier and session store (see [`TlsContext::strict_clients`]).
    fn strict_client(&self) -> Result<Shared<ClientConfig>> {
        let verifier = self.verifier(
            VerificationPolicy {
                side: SslMode::SslClientMode,
                mode: PeerVerifyMode::VerifyPeer,
                ..VerificationPolicy::default()
            },
            None,
        );
        let mut resumption = Resumption::disabled();
        if self.sessions_shared() {
            resumption = Resumption::in_memory_sessions(SESSION_CACHE_SIZE);
            if self.ticketer.is_none() {
                resumption =
                    resumption.tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly);
            }
        }
        let config = client_config(ClientParts {
            configuration: &self.configuration,
            provider: &self.provider,
            versions: &self.versions,
            verifier: verifier.clone(),
            credentials: self.client_credentials.clone(),
            resumption,
            key_log: self.key_log.clone(),
        })?;
        Ok((config, verifier))
    }

    /// A shared configuration for a client that accepts no error, whose
    /// sessions can be resumed; `None` when every one is in a handshake.
    pub(crate) fn lease_strict_client(&self) -> Result<Option<Prepared<ClientConfig>>> {
        self.strict_clients.lease(|| self.strict_client())
    }

    /// A client configuration with the connection's own `verifier`, for a
    /// policy that may accept a chain with errors. Such a connection never
    /// resumes nor stores sessions: a session it stored would let later,
    /// stricter connections resume without a certificate check.
    pub(crate) fn client_config(&self, verifier: Arc<PeerVerifier>) -> Result<Arc<ClientConfig>> {
        client_config(ClientParts {
            configuration: &self.configuration,
            provider: &self.provider,
            versions: &self.versions,
            verifier,
            credentials: self.client_credentials.clone(),
            resumption: Resumption::disabled(),
            key_log: self.key_log.clone(),
        })
    }

    /// A shared server configuration for the configuration's own
    /// verification policy (no handlers, nothing ignored); `None` when every
    /// one is in a handshake. Under `VerifyNone` no client certificate is
    /// asked for, so the verifier never verifies and one configuration
    /// serves every handshake at once.
    pub(crate) fn plain_server(&self) -> Result<Option<Prepared<ServerConfig>>> {
        let build = || {
            let verifier = self.verifier(
                VerificationPolicy {
                    side: SslMode::SslServerMode,
                    mode: self.configuration.peer_verify_mode(),
                    ..VerificationPolicy::default()
                },
                None,
            );
            Ok((self.server_config(verifier.clone(), true)?, verifier))
        };
        if self
            .configuration
            .peer_verify_mode()
            .effective(SslMode::SslServerMode)
            == PeerVerifyMode::VerifyNone
        {
            let (config, verifier) = self.plain_servers.first(build)?;
            return Ok(Some(Prepared {
                config,
                verifier,
                lease: None,
            }));
        }
        self.plain_servers.lease(build)
    }

    /// A server configuration verifying clients with `verifier`, sharing
    /// the configuration's session store and tickets if `share_sessions`.
    pub(crate) fn server_config(
        &self,
        verifier: Arc<PeerVerifier>,
        share_sessions: bool,
    ) -> Result<Arc<ServerConfig>> {
        let identity = self
            .identity
            .clone()
            .ok_or_else(|| Error::KeyUnusableForTls {
                reason: "a server needs a local certificate and its private key".into(),
            })?;
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(Error::Tls)?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(identity)));
        config.alpn_protocols = self.configuration.allowed_next_protocols().to_vec();
        config.ignore_client_order = !self
            .configuration
            .test_ssl_option(SslOption::SslOptionDisableServerCipherPreference);
        if share_sessions && self.sessions_shared() {
            config.session_storage = self.server_sessions.clone();
            if let Some(ticketer) = &self.ticketer {
                config.ticketer = ticketer.clone();
            }
        } else {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        }
        if self.ticketer.is_none() || !share_sessions || !self.sessions_shared() {
            config.send_tls13_tickets = 0;
        }
        if let Some(key_log) = &self.key_log {
            config.key_log = key_log.clone();
        }
        Ok(Arc::new(config))
    }
}

/// A verifier applying `policy` with `options`, for the purpose its side
/// checks: a client verifies servers, a server verifies clients.
fn verifier(
    policy: VerificationPolicy,
    options: VerifyOptions,
    anchors: &Arc<TrustAnchors>,
) -> Arc<PeerVerifier> {
    let purpose = match policy.side {
        SslMode::SslServerMode => Purpose::ClientAuth,
        _ => Purpose::ServerAuth,
    };
    Arc::new(PeerVerifier::new(
        policy,
        options.with_purpose(purpose),
        anchors.clone(),
    ))
}

/// Session secrets appended to a file in the NSS key log format
/// (`LABEL <client random hex> <secret hex>`), which Wireshark reads.
#[derive(Debug)]
struct KeyLogFile {
    path: std::path::PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl KeyLogFile {
    fn new(path: &std::path::Path) -> KeyLogFile {
        KeyLogFile {
            path: path.to_owned(),
            file: Mutex::new(None),
        }
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use std::fmt::Write as _;
        use std::io::Write as _;
        let mut line =
            String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
        line.push_str(label);
        line.push(' ');
        for byte in client_random {
            let _ = write!(line, "{byte:02x}");
        }
        line.push(' ');
        for byte in secret {
            let _ = write!(line, "{byte:02x}");
        }
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if file.is_none() {
            // A debugging aid must not break connections: a file that cannot
            // be opened just gets no lines.
            *file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok();
        }
        if let Some(file) = file.as_mut() {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// What a client configuration is made of.
struct ClientParts<'a> {
    configuration: &'a SslConfiguration,
    provider: &'a Arc<CryptoProvider>,
    versions: &'a [&'static SupportedProtocolVersion],
    verifier: Arc<PeerVerifier>,
    credentials: Option<Arc<dyn ResolvesClientCert>>,
    resumption: Resumption,
    key_log: Option<Arc<KeyLogFile>>,
}

fn client_config(parts: ClientParts<'_>) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(parts.provider.clone())
        .with_protocol_versions(parts.versions)
        .map_err(Error::Tls)?
        .dangerous()
        .with_custom_certificate_verifier(parts.verifier);
    let mut config = match parts.credentials {
        Some(credentials) => builder.with_client_cert_resolver(credentials),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = parts.configuration.allowed_next_protocols().to_vec();
    config.enable_sni = !parts
        .configuration
        .test_ssl_option(SslOption::SslOptionDisableServerNameIndication);
    config.resumption = parts.resumption;
    if let Some(key_log) = parts.key_log {
        config.key_log = key_log;
    }
    Ok(Arc::new(config))
}
