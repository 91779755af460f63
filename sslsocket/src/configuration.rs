//! TLS settings as a plain value (`QSslConfiguration`), the process-wide
//! default configuration that new configurations start from, and the CA
//! databases (per-configuration, process default, system).
//!
//! A configuration is copied into a socket when its handshake starts, so
//! changing one later affects only the next handshake.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use crate::certificate::{PatternSyntax, SslCertificate};
use crate::cipher::{self, SslCipher};
use crate::crl::CertificateRevocationList;
use crate::error::{Error, Result, SslError};
use crate::key::SslKey;
use crate::key_exchange::KeyExchangeGroup;
use crate::ssl::{
    EncodingFormat, KeyAlgorithm, KeyType, PeerVerifyMode, SslOption, SslOptions, SslProtocol,
};
use crate::verify::{verify_chain, VerifyOptions};

/// How long a socket's waits on a handshake may take together unless
/// configured otherwise (see [`SslConfiguration::set_handshake_timeout`]);
/// the same as Qt's default for `waitForEncrypted`. A server's own
/// handshake timeout is `server::DEFAULT_HANDSHAKE_TIMEOUT`.
pub const DEFAULT_HANDSHAKE_WAIT_LIMIT: Duration = Duration::from_secs(30);

/// Where a configuration's trusted roots come from.
///
/// Qt drops the system roots as soon as one custom CA is added to a
/// configuration; here they stay until the list is replaced with
/// [`SslConfiguration::set_ca_certificates`], which is what a user adding a
/// private CA next to the public ones expects.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CaDatabase {
    include_system: bool,
    added: Vec<SslCertificate>,
}

/// The TLS settings of a socket (`QSslConfiguration`).
///
/// [`SslConfiguration::new`] (and `Default`) start from a copy of the
/// process-wide default configuration, so a program can set its policy once
/// with [`SslConfiguration::set_default_configuration`].
#[derive(Clone)]
pub struct SslConfiguration {
    /// Shared by copies until one of them changes: a socket's copy of its
    /// configuration costs no allocation.
    settings: Arc<Settings>,
    /// Which value this is: the same for a configuration and its copies,
    /// new after every change, so that what is built from a configuration
    /// can be found again without comparing whole configurations.
    generation: u64,
}

/// The settings of a [`SslConfiguration`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    protocol: SslProtocol,
    options: SslOptions,
    peer_verify_mode: PeerVerifyMode,
    peer_verify_depth: u32,
    peer_verify_name: Option<String>,
    ca: CaDatabase,
    ciphers: Vec<SslCipher>,
    key_exchange_groups: Vec<KeyExchangeGroup>,
    local_certificate_chain: Vec<SslCertificate>,
    private_key: Option<SslKey>,
    allowed_next_protocols: Vec<Vec<u8>>,
    handshake_timeout: Option<Duration>,
    dangerous_key_log_file: Option<PathBuf>,
    dangerous_qt_host_name_matching: bool,
    crls: Vec<CertificateRevocationList>,
    crls_required: bool,
}

impl PartialEq for SslConfiguration {
    fn eq(&self, other: &SslConfiguration) -> bool {
        self.generation == other.generation || self.settings == other.settings
    }
}

impl Eq for SslConfiguration {}

impl std::fmt::Debug for SslConfiguration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SslConfiguration")
            .field(&self.settings)
            .finish()
    }
}

/// A generation no configuration value has had.
fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn default_configuration_lock() -> &'static RwLock<SslConfiguration> {
    static DEFAULT: OnceLock<RwLock<SslConfiguration>> = OnceLock::new();
    DEFAULT.get_or_init(|| RwLock::new(SslConfiguration::library_defaults()))
}

/// Reads the process-wide default. A panic in another thread while it held
/// the lock cannot leave the value half-written (every write replaces or
/// pushes whole values), so a poisoned lock is still safe to read.
fn read_default<T>(f: impl FnOnce(&SslConfiguration) -> T) -> T {
    f(&default_configuration_lock()
        .read()
        .unwrap_or_else(PoisonError::into_inner))
}

fn write_default<T>(f: impl FnOnce(&mut SslConfiguration) -> T) -> T {
    f(&mut default_configuration_lock()
        .write()
        .unwrap_or_else(PoisonError::into_inner))
}

impl Default for SslConfiguration {
    fn default() -> Self {
        SslConfiguration::new()
    }
}

impl SslConfiguration {
    /// The settings, to change them: the configuration becomes a new value.
    fn settings_mut(&mut self) -> &mut Settings {
        self.generation = next_generation();
        Arc::make_mut(&mut self.settings)
    }

    /// Which value this is: equal for copies of one configuration, new
    /// after every change.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// A copy of the process-wide default configuration.
    pub fn new() -> SslConfiguration {
        SslConfiguration::default_configuration()
    }

    /// The library's built-in settings, untouched by
    /// [`set_default_configuration`](Self::set_default_configuration):
    /// `SecureProtocols`, Qt's default options, `AutoVerifyPeer`, no depth
    /// limit, the system CAs, the library default ciphers and key-exchange
    /// groups, no local certificate, no ALPN, a 30 s handshake timeout.
    pub fn library_defaults() -> SslConfiguration {
        let settings = Settings {
            protocol: SslProtocol::SecureProtocols,
            options: SslOptions::DEFAULT,
            peer_verify_mode: PeerVerifyMode::AutoVerifyPeer,
            peer_verify_depth: 0,
            peer_verify_name: None,
            ca: CaDatabase {
                include_system: true,
                added: Vec::new(),
            },
            ciphers: cipher::library_default_ciphers(),
            key_exchange_groups: KeyExchangeGroup::defaults(),
            local_certificate_chain: Vec::new(),
            private_key: None,
            allowed_next_protocols: Vec::new(),
            handshake_timeout: Some(DEFAULT_HANDSHAKE_WAIT_LIMIT),
            dangerous_key_log_file: None,
            dangerous_qt_host_name_matching: false,
            crls: Vec::new(),
            crls_required: false,
        };
        SslConfiguration {
            settings: Arc::new(settings),
            generation: next_generation(),
        }
    }

    // --- process-wide default ---------------------------------------------

    /// A copy of the process-wide default configuration
    /// (`QSslConfiguration::defaultConfiguration()`).
    pub fn default_configuration() -> SslConfiguration {
        read_default(Clone::clone)
    }

    /// Replaces the process-wide default configuration; sockets and
    /// configurations created afterwards start from it.
    pub fn set_default_configuration(configuration: SslConfiguration) {
        write_default(|current| *current = configuration);
    }

    /// The default configuration's CA certificates
    /// (`QSslSocket::defaultCaCertificates()`).
    pub fn default_ca_certificates() -> Vec<SslCertificate> {
        read_default(SslConfiguration::ca_certificates)
    }

    /// Replaces the default configuration's CA certificates, dropping the
    /// system roots from it (`QSslSocket::setDefaultCaCertificates()`).
    pub fn set_default_ca_certificates(certificates: Vec<SslCertificate>) {
        write_default(|c| c.set_ca_certificates(certificates));
    }

    /// Adds one CA certificate to the default configuration.
    pub fn add_default_ca_certificate(certificate: SslCertificate) {
        write_default(|c| c.add_ca_certificate(certificate));
    }

    /// Adds CA certificates to the default configuration.
    pub fn add_default_ca_certificates(certificates: impl IntoIterator<Item = SslCertificate>) {
        write_default(|c| c.add_ca_certificates(certificates));
    }

    /// Adds the certificates found at `path` (see
    /// [`SslCertificate::from_path`]) to the default configuration; returns
    /// whether at least one was added.
    pub fn add_default_ca_certificates_from_path(
        path: &str,
        format: EncodingFormat,
        syntax: PatternSyntax,
    ) -> Result<bool> {
        // Reading files happens outside the lock so that other threads are
        // not held up by disk I/O.
        let found = SslCertificate::from_path(path, format, syntax)?;
        let added = !found.is_empty();
        SslConfiguration::add_default_ca_certificates(found);
        Ok(added)
    }

    /// The default configuration's ciphers (`QSslSocket::defaultCiphers()`).
    pub fn default_ciphers() -> Vec<SslCipher> {
        read_default(|c| c.ciphers().to_vec())
    }

    /// Sets the default configuration's ciphers (`QSslSocket::setDefaultCiphers()`).
    pub fn set_default_ciphers(ciphers: Vec<SslCipher>) {
        write_default(|c| c.set_ciphers(ciphers));
    }

    /// Every cipher this library can negotiate (`QSslSocket::supportedCiphers()`).
    pub fn supported_ciphers() -> Vec<SslCipher> {
        cipher::supported_ciphers()
    }

    /// The platform's trusted root certificates (`QSslSocket::systemCaCertificates()`).
    ///
    /// They are read once per process from the platform store (on Linux the
    /// usual bundle files, or the files named by `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` when either is set). When that yields no certificate,
    /// the Mozilla root program's list bundled with the library is used, so a
    /// minimal container still verifies public servers. Certificates the
    /// store holds but that cannot be parsed are skipped.
    pub fn system_ca_certificates() -> Vec<SslCertificate> {
        system_roots().as_ref().clone()
    }

    // --- protocol and options --------------------------------------------

    /// The protocol versions the socket may negotiate.
    pub fn protocol(&self) -> SslProtocol {
        self.settings.protocol
    }

    /// Sets the protocol. Insecure values are accepted here (so ported code
    /// keeps compiling) and refused when a handshake starts.
    pub fn set_protocol(&mut self, protocol: SslProtocol) {
        self.settings_mut().protocol = protocol;
    }

    /// All option flags.
    pub fn ssl_options(&self) -> SslOptions {
        self.settings.options
    }

    /// Replaces all option flags.
    pub fn set_ssl_options(&mut self, options: SslOptions) {
        self.settings_mut().options = options;
    }

    /// Turns one option on or off (`QSslConfiguration::setSslOption()`).
    pub fn set_ssl_option(&mut self, option: SslOption, on: bool) {
        self.settings_mut().options.set(option, on);
    }

    /// Whether one option is on (`QSslConfiguration::testSslOption()`).
    pub fn test_ssl_option(&self, option: SslOption) -> bool {
        self.settings.options.contains(option)
    }

    // --- peer verification ------------------------------------------------

    /// How the peer is verified.
    pub fn peer_verify_mode(&self) -> PeerVerifyMode {
        self.settings.peer_verify_mode
    }

    /// Sets how the peer is verified.
    pub fn set_peer_verify_mode(&mut self, mode: PeerVerifyMode) {
        self.settings_mut().peer_verify_mode = mode;
    }

    /// The longest peer chain accepted (leaf included); 0 means no limit.
    pub fn peer_verify_depth(&self) -> u32 {
        self.settings.peer_verify_depth
    }

    /// Sets the longest peer chain accepted; 0 means no limit. Qt's
    /// negative depths cannot be expressed.
    pub fn set_peer_verify_depth(&mut self, depth: u32) {
        self.settings_mut().peer_verify_depth = depth;
    }

    /// The name the peer's certificate must match, when it differs from the
    /// host name connected to.
    pub fn peer_verify_name(&self) -> Option<&str> {
        self.settings.peer_verify_name.as_deref()
    }

    /// Sets (or, with `None`, clears) the name the peer's certificate must
    /// match; it is also the name sent in SNI.
    pub fn set_peer_verify_name(&mut self, name: Option<String>) {
        self.settings_mut().peer_verify_name = name;
    }

    // --- CA database ------------------------------------------------------

    /// The trusted roots: the system roots (unless the list was replaced)
    /// followed by the added certificates.
    pub fn ca_certificates(&self) -> Vec<SslCertificate> {
        let mut all = if self.settings.ca.include_system {
            SslConfiguration::system_ca_certificates()
        } else {
            Vec::new()
        };
        for certificate in &self.settings.ca.added {
            if !all.contains(certificate) {
                all.push(certificate.clone());
            }
        }
        all
    }

    /// Whether [`ca_certificates`](Self::ca_certificates) includes the system roots.
    pub fn uses_system_ca_certificates(&self) -> bool {
        self.settings.ca.include_system
    }

    /// Replaces the trusted roots with exactly `certificates`; the system
    /// roots are no longer included.
    pub fn set_ca_certificates(&mut self, certificates: Vec<SslCertificate>) {
        self.settings_mut().ca = CaDatabase {
            include_system: false,
            added: Vec::new(),
        };
        self.add_ca_certificates(certificates);
    }

    /// Adds one trusted root; the system roots stay.
    pub fn add_ca_certificate(&mut self, certificate: SslCertificate) {
        if !self.settings.ca.added.contains(&certificate) {
            self.settings_mut().ca.added.push(certificate);
        }
    }

    /// Adds trusted roots; the system roots stay.
    pub fn add_ca_certificates(&mut self, certificates: impl IntoIterator<Item = SslCertificate>) {
        for certificate in certificates {
            self.add_ca_certificate(certificate);
        }
    }

    /// Adds the certificates found at `path` with Qt's pattern rules (see
    /// [`SslCertificate::from_path`]); returns whether at least one was added.
    pub fn add_ca_certificates_from_path(
        &mut self,
        path: &str,
        format: EncodingFormat,
        syntax: PatternSyntax,
    ) -> Result<bool> {
        let found = SslCertificate::from_path(path, format, syntax)?;
        let added = !found.is_empty();
        self.add_ca_certificates(found);
        Ok(added)
    }

    // --- ciphers ----------------------------------------------------------

    /// The ciphers a handshake may use, in preference order.
    pub fn ciphers(&self) -> &[SslCipher] {
        &self.settings.ciphers
    }

    /// Sets the ciphers a handshake may use. An empty list means the
    /// library default ciphers, as in Qt.
    pub fn set_ciphers(&mut self, ciphers: Vec<SslCipher>) {
        self.settings_mut().ciphers = if ciphers.is_empty() {
            cipher::library_default_ciphers()
        } else {
            ciphers
        };
    }

    /// Sets the ciphers from a colon-separated list of names (see
    /// [`cipher::parse_cipher_list`]); an unknown name is an error and
    /// leaves the configuration unchanged.
    pub fn set_cipher_list(&mut self, list: &str) -> Result<()> {
        let ciphers = cipher::parse_cipher_list(list)?;
        self.set_ciphers(ciphers);
        Ok(())
    }

    // --- key exchange -----------------------------------------------------

    /// The key-exchange groups a handshake may use, most preferred first
    /// (Qt's `ellipticCurves`).
    pub fn key_exchange_groups(&self) -> &[KeyExchangeGroup] {
        &self.settings.key_exchange_groups
    }

    /// Sets the key-exchange groups a handshake may use, most preferred
    /// first (Qt's `setEllipticCurves`). An empty list means
    /// [`KeyExchangeGroup::defaults`]. A client sends a key share for the
    /// first group only and retries when the server wants another, so the
    /// first group is the one that costs no extra round trip.
    pub fn set_key_exchange_groups(&mut self, groups: Vec<KeyExchangeGroup>) {
        let mut unique: Vec<KeyExchangeGroup> = Vec::with_capacity(groups.len());
        for group in groups {
            if !unique.contains(&group) {
                unique.push(group);
            }
        }
        self.settings_mut().key_exchange_groups = if unique.is_empty() {
            KeyExchangeGroup::defaults()
        } else {
            unique
        };
    }

    /// Sets the key-exchange groups from a list separated by `:` or `,`
    /// (OpenSSL's `-groups` syntax, e.g. `"X25519:P-256"`); an unknown name
    /// is an error and leaves the configuration unchanged.
    pub fn set_key_exchange_group_list(&mut self, list: &str) -> Result<()> {
        let groups = KeyExchangeGroup::parse_list(list)?;
        self.set_key_exchange_groups(groups);
        Ok(())
    }

    // --- local identity ---------------------------------------------------

    /// The local certificate (the first of the chain), if one is set.
    pub fn local_certificate(&self) -> Option<&SslCertificate> {
        self.settings.local_certificate_chain.first()
    }

    /// The local certificate followed by the intermediates sent with it.
    pub fn local_certificate_chain(&self) -> &[SslCertificate] {
        &self.settings.local_certificate_chain
    }

    /// Sets the local certificate, with no intermediates.
    pub fn set_local_certificate(&mut self, certificate: SslCertificate) {
        self.settings_mut().local_certificate_chain = vec![certificate];
    }

    /// Sets the local certificate chain: the leaf first, then the
    /// intermediates to send with it.
    pub fn set_local_certificate_chain(&mut self, chain: Vec<SslCertificate>) {
        self.settings_mut().local_certificate_chain = chain;
    }

    /// Reads the local certificate chain from a file (every certificate in
    /// it, leaf first).
    pub fn set_local_certificate_from_path(
        &mut self,
        path: impl AsRef<Path>,
        format: EncodingFormat,
    ) -> Result<()> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|e| Error::file(path, e))?;
        self.settings_mut().local_certificate_chain = SslCertificate::from_data(&data, format)?;
        Ok(())
    }

    /// The private key of the local certificate, if one is set.
    pub fn private_key(&self) -> Option<&SslKey> {
        self.settings.private_key.as_ref()
    }

    /// Sets the private key of the local certificate.
    pub fn set_private_key(&mut self, key: SslKey) {
        self.settings_mut().private_key = Some(key);
    }

    /// Reads the private key from a file; `algorithm` is what the caller
    /// expects (a key of another algorithm is an error).
    pub fn set_private_key_from_path(
        &mut self,
        path: impl AsRef<Path>,
        algorithm: KeyAlgorithm,
        format: EncodingFormat,
        passphrase: Option<&[u8]>,
    ) -> Result<()> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|e| Error::file(path, e))?;
        self.settings_mut().private_key = Some(SslKey::new(
            data,
            algorithm,
            format,
            KeyType::PrivateKey,
            passphrase,
        )?);
        Ok(())
    }

    /// Sets the certificate chain and its private key together, checking
    /// that the key belongs to the certificate.
    pub fn set_local_identity(&mut self, chain: Vec<SslCertificate>, key: SslKey) -> Result<()> {
        check_identity(&chain, Some(&key))?;
        self.settings_mut().local_certificate_chain = chain;
        self.settings_mut().private_key = Some(key);
        Ok(())
    }

    /// Checks that the local certificate and private key can be used
    /// together: both or neither set, the key private and usable for TLS,
    /// and matching the certificate. Handshakes run this check first.
    pub fn check_local_identity(&self) -> Result<()> {
        check_identity(
            &self.settings.local_certificate_chain,
            self.settings.private_key.as_ref(),
        )
    }

    // --- ALPN and timeouts --------------------------------------------------

    /// The ALPN protocols offered (client) or accepted (server), in preference order.
    pub fn allowed_next_protocols(&self) -> &[Vec<u8>] {
        &self.settings.allowed_next_protocols
    }

    /// Sets the ALPN protocols, e.g. `["h2", "http/1.1"]`. Each name must be
    /// 1 to 255 bytes long; on error nothing changes.
    pub fn set_allowed_next_protocols<I, P>(&mut self, protocols: I) -> Result<()>
    where
        I: IntoIterator<Item = P>,
        P: Into<Vec<u8>>,
    {
        let protocols: Vec<Vec<u8>> = protocols.into_iter().map(Into::into).collect();
        if let Some(bad) = protocols.iter().find(|p| p.is_empty() || p.len() > 255) {
            return Err(Error::InvalidAlpnProtocol(bad.clone()));
        }
        self.settings_mut().allowed_next_protocols = protocols;
        Ok(())
    }

    /// How long a handshake may take; `None` means no limit.
    pub fn handshake_timeout(&self) -> Option<Duration> {
        self.settings.handshake_timeout
    }

    /// Sets how long a handshake may take; `None` means no limit.
    pub fn set_handshake_timeout(&mut self, timeout: Option<Duration>) {
        self.settings_mut().handshake_timeout = timeout;
    }

    /// The file session secrets are appended to, if any.
    pub fn dangerous_key_log_file(&self) -> Option<&Path> {
        self.settings.dangerous_key_log_file.as_deref()
    }

    /// Appends every session's secrets to `path` in the NSS key log format,
    /// so that Wireshark can decrypt captured traffic. Dangerous: anyone who
    /// can read the file can read the connections. For debugging only.
    pub fn set_dangerous_key_log_file(&mut self, path: Option<PathBuf>) {
        self.settings_mut().dangerous_key_log_file = path;
    }

    /// The certificate revocation lists the peer's chain is checked
    /// against (none by default).
    pub fn crls(&self) -> &[CertificateRevocationList] {
        &self.settings.crls
    }

    /// Checks the peer's chain against `crls` from the next handshake on
    /// (a server: its clients' chains): a certificate a list from its
    /// issuer names is `CertificateRevoked`; an expired list, or one its
    /// issuer did not sign, is reported rather than used; a certificate
    /// whose issuer has no list is not an error. Lists are only read from
    /// what is given here, never fetched. See
    /// [`VerifyOptions::with_crls`](crate::VerifyOptions::with_crls).
    pub fn set_crls(&mut self, crls: Vec<CertificateRevocationList>) {
        self.settings_mut().crls = crls;
    }

    /// Adds `crls` to the lists checked, skipping ones already there.
    pub fn add_crls(&mut self, crls: impl IntoIterator<Item = CertificateRevocationList>) {
        let settings = self.settings_mut();
        for crl in crls {
            if !settings.crls.contains(&crl) {
                settings.crls.push(crl);
            }
        }
    }

    /// Whether every certificate of the peer's chain must be covered by a
    /// revocation list (off by default).
    pub fn crls_required(&self) -> bool {
        self.settings.crls_required
    }

    /// Strict revocation checking: a certificate below the root whose
    /// issuer has no list among [`crls`](Self::crls) is
    /// `CertificateStatusUnknown`; see
    /// [`VerifyOptions::with_crls_required`](crate::VerifyOptions::with_crls_required).
    pub fn set_crls_required(&mut self, required: bool) {
        self.settings_mut().crls_required = required;
    }

    /// Whether Qt's looser host-name matching is on (off by default).
    pub fn dangerous_qt_host_name_matching(&self) -> bool {
        self.settings.dangerous_qt_host_name_matching
    }

    /// Dangerous: also accepts the peer names Qt accepts and webpki
    /// refuses, which is the subject CN of a leaf without DNS
    /// subjectAltNames, partial-label wildcards such as `ba*.example.com`,
    /// and subjectAltNames with a trailing dot. RFC 6125, the CA/Browser
    /// Forum and every browser refuse these; by default a certificate is
    /// valid for a name only when webpki says so. Switch this on only for
    /// old devices whose certificates cannot be replaced; better still,
    /// ignore the `HostNameMismatch` for that one certificate.
    pub fn set_dangerous_qt_host_name_matching(&mut self, enabled: bool) {
        self.settings_mut().dangerous_qt_host_name_matching = enabled;
    }
}

fn check_identity(chain: &[SslCertificate], key: Option<&SslKey>) -> Result<()> {
    match (chain.first(), key) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(Error::KeyUnusableForTls {
            reason: "a local certificate is set but no private key".into(),
        }),
        (None, Some(_)) => Err(Error::KeyUnusableForTls {
            reason: "a private key is set but no local certificate".into(),
        }),
        (Some(leaf), Some(key)) => {
            if key.key_type() != KeyType::PrivateKey {
                return Err(Error::KeyUnusableForTls {
                    reason: "a public key cannot sign; set the private key".into(),
                });
            }
            key.to_rustls_private_key()?;
            if key.public_key()? != leaf.public_key()? {
                return Err(Error::KeyDoesNotMatchCertificate);
            }
            Ok(())
        }
    }
}

fn system_roots() -> &'static Arc<Vec<SslCertificate>> {
    static ROOTS: OnceLock<Arc<Vec<SslCertificate>>> = OnceLock::new();
    ROOTS.get_or_init(|| Arc::new(load_system_roots()))
}

fn load_system_roots() -> Vec<SslCertificate> {
    let parse = |ders: &[rustls_pki_types::CertificateDer<'_>]| -> Vec<SslCertificate> {
        ders.iter()
            .filter_map(|der| SslCertificate::from_der(der.as_ref()).ok())
            .collect()
    };
    let native = parse(&rustls_native_certs::load_native_certs().certs);
    if native.is_empty() {
        parse(webpki_root_certs::TLS_SERVER_ROOT_CERTS)
    } else {
        native
    }
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
