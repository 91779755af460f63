//! Options shared by `connect` and `serve`: trust, identity, verification
//! mode, protocol, ciphers and ALPN, turned into an [`SslConfiguration`].

use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sslsocket::{
    CertificateRevocationList, Error, KeyType, PeerVerifyMode, SslCertificate, SslConfiguration,
    SslErrorCode, SslKey, SslProtocol,
};

use crate::input::{read_certificates, read_encoded};
use crate::key::read_passphrase_file;
use crate::report::problem;

/// Collects input problems: each is printed as one line on stderr at once,
/// and the command ends with exit code 2 once all inputs were looked at.
#[derive(Debug, Default)]
pub struct Problems {
    failed: bool,
}

impl Problems {
    /// Reports one problem.
    pub fn add(&mut self, context: impl Display, error: impl Display) {
        problem(context, error);
        self.failed = true;
    }

    /// The value, or `None` after reporting the error.
    pub fn check<T, E: Display>(
        &mut self,
        context: impl Display,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.add(context, e);
                None
            }
        }
    }

    /// Whether any problem was reported.
    pub fn any(&self) -> bool {
        self.failed
    }
}

/// How the peer's certificate is checked (`--verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyArg {
    /// Do not ask for or check a certificate (QSslSocket::VerifyNone).
    None,
    /// Ask for the peer's certificate and report its errors, but never fail
    /// because of them (QueryPeer).
    Query,
    /// Require a valid certificate (VerifyPeer).
    Peer,
}

impl VerifyArg {
    pub fn mode(self) -> PeerVerifyMode {
        match self {
            VerifyArg::None => PeerVerifyMode::VerifyNone,
            VerifyArg::Query => PeerVerifyMode::QueryPeer,
            VerifyArg::Peer => PeerVerifyMode::VerifyPeer,
        }
    }
}

/// Trust: `--ca`, `--system-ca`, `--dangerous-qt-host-names`, `--crl`.
#[derive(Args, Debug)]
pub struct TrustArgs {
    /// Trust the certificates in FILE (PEM with any number of certificates,
    /// or DER) instead of the system's roots; may be repeated.
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Trust the system's roots too (the default when no --ca is given).
    #[arg(long)]
    pub system_ca: bool,
    #[command(flatten)]
    pub host_names: HostNameArgs,
    #[command(flatten)]
    pub revocation: RevocationArgs,
}

/// `--crl`.
#[derive(Args, Debug)]
pub struct RevocationArgs {
    /// Check the peer's chain against the certificate revocation lists in
    /// FILE (PEM with any number of lists, or one DER list); may be
    /// repeated. A revoked certificate is CertificateRevoked (13); an
    /// expired list is reported, not used. Nothing is fetched.
    #[arg(long = "crl", value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Every certificate below the root must be covered by a --crl list
    /// from its issuer; one that is not is CertificateStatusUnknown (25).
    #[arg(long)]
    pub crl_required: bool,
}

impl RevocationArgs {
    /// The lists of every --crl file; a file that cannot be read is a problem.
    pub fn load(&self, problems: &mut Problems) -> Vec<CertificateRevocationList> {
        self.crl
            .iter()
            .filter_map(|file| {
                problems.check(file.display(), CertificateRevocationList::from_file(file))
            })
            .flatten()
            .collect()
    }
}

/// `--dangerous-qt-host-names`.
#[derive(Args, Debug)]
pub struct HostNameArgs {
    /// Dangerous: also accept the host names Qt accepts and webpki refuses
    /// (the subject CN of a certificate without DNS names, partial-label
    /// wildcards such as ba*.example.com, names with a trailing dot). For
    /// old devices only; browsers refuse these certificates.
    #[arg(long)]
    pub dangerous_qt_host_names: bool,
}

impl HostNameArgs {
    /// Whether the looser matching was asked for; says so on stderr.
    pub fn enabled(&self) -> bool {
        if self.dangerous_qt_host_names {
            eprintln!(
                "warning: --dangerous-qt-host-names: certificates are also accepted for their \
                 CN and for partial-label wildcards, which webpki and browsers refuse"
            );
        }
        self.dangerous_qt_host_names
    }
}

/// The local identity: `--cert`, `--key`, `--passphrase(-file)`.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("secret").args(["passphrase", "passphrase_file"]))]
pub struct IdentityArgs {
    /// The local certificate chain: PEM, the leaf first, then intermediates
    /// to send along (or a DER leaf).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert (PEM or DER: PKCS#8, PKCS#1, SEC1, also encrypted).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The passphrase of an encrypted --key.
    #[arg(long, value_name = "TEXT")]
    pub passphrase: Option<String>,
    /// A file whose first line is the passphrase of --key.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// The TLS settings: `--protocol`, `--ciphers`, `--groups`, `--alpn`, `--keylog`.
#[derive(Args, Debug)]
pub struct TlsArgs {
    /// The protocol versions to allow, by Qt's QSsl::SslProtocol name:
    /// SecureProtocols (the default: TLS 1.2 and 1.3), TlsV1_2, TlsV1_3,
    /// TlsV1_2OrLater, ... Insecure ones (SslV3, TlsV1_0, TlsV1_1, ...) are
    /// refused.
    #[arg(long, value_name = "NAME")]
    pub protocol: Option<String>,
    /// The cipher suites to allow, colon separated, by OpenSSL or IANA name
    /// (see `sslsocket ciphers`), e.g. TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384.
    #[arg(long, value_name = "LIST")]
    pub ciphers: Option<String>,
    /// The key-exchange groups to allow, colon (or comma) separated, most preferred
    /// first, by OpenSSL name: X25519, P-256, P-384, X25519MLKEM768,
    /// SecP256r1MLKEM768, MLKEM768, MLKEM1024 (default: X25519MLKEM768,
    /// X25519, P-256, P-384: post-quantum first).
    #[arg(long, value_name = "LIST")]
    pub groups: Option<String>,
    /// The ALPN protocols to offer (client) or accept (server), comma
    /// separated, in order of preference, e.g. h2,http/1.1.
    #[arg(long, value_name = "LIST")]
    pub alpn: Option<String>,
    /// Append the session secrets to FILE in the NSS key log format (for
    /// Wireshark). Dangerous: whoever reads FILE can read the traffic.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

/// A protocol by Qt's name, refused when it cannot be negotiated.
pub fn parse_protocol(text: &str) -> Result<SslProtocol, String> {
    let protocol = SslProtocol::from_str(text.trim()).map_err(|e| e.to_string())?;
    if protocol.is_supported() {
        Ok(protocol)
    } else {
        Err(format!(
            "{protocol} is refused: only TLS 1.2 and TLS 1.3 can be negotiated; SSL 2/3, \
             TLS 1.0/1.1 are insecure and DTLS is not supported (use SecureProtocols, \
             TlsV1_2OrLater, TlsV1_2 or TlsV1_3)"
        ))
    }
}

/// A Qt error name (`HostNameMismatch`) or number (`22`).
pub fn parse_error_code(text: &str) -> Result<SslErrorCode, String> {
    let text = text.trim();
    if let Ok(value) = text.parse::<i32>() {
        return SslErrorCode::from_value(value)
            .ok_or_else(|| format!("{value} is not a QSslError::SslError number"));
    }
    SslErrorCode::from_str(text).map_err(|e| e.to_string())
}

/// Seconds, as given to `--timeout`: from a millisecond (anything shorter
/// would round to a wait of nothing) to about 30 years.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if (0.001..=1e9).contains(&seconds) => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 0.001 to 1000000000"
        )),
    }
}

/// The ALPN names in `list` (comma separated, blanks around names ignored).
pub fn alpn_names(list: &str) -> Vec<Vec<u8>> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| name.as_bytes().to_vec())
        .collect()
}

impl TrustArgs {
    /// Sets the configuration's CA certificates: the --ca files, plus the
    /// system's roots with --system-ca; untouched (system roots) without --ca.
    pub fn apply(&self, configuration: &mut SslConfiguration, problems: &mut Problems) {
        configuration.set_dangerous_qt_host_name_matching(self.host_names.enabled());
        configuration.set_crls(self.revocation.load(problems));
        configuration.set_crls_required(self.revocation.crl_required);
        if self.ca.is_empty() {
            return;
        }
        let mut roots = Vec::new();
        for file in &self.ca {
            if let Some(certificates) = problems.check(file.display(), read_certificates(file)) {
                roots.extend(certificates);
            }
        }
        if self.system_ca {
            roots.extend(SslConfiguration::system_ca_certificates());
        }
        configuration.set_ca_certificates(roots);
    }
}

impl IdentityArgs {
    /// Whether a certificate and key were given.
    pub fn given(&self) -> bool {
        self.cert.is_some()
    }

    /// Reads the certificate chain and its key.
    pub fn load(&self, problems: &mut Problems) -> Option<(Vec<SslCertificate>, SslKey)> {
        let (cert, key) = (self.cert.as_ref()?, self.key.as_ref()?);
        let chain = problems.check(cert.display(), read_certificates(cert));
        let passphrase = match (&self.passphrase, &self.passphrase_file) {
            (Some(text), _) => Some(text.clone().into_bytes()),
            (None, Some(file)) => Some(problems.check(file.display(), read_passphrase_file(file))?),
            (None, None) => None,
        };
        let key = problems.check(
            key.display(),
            read_encoded(key)
                .map_err(Error::from)
                .and_then(|(data, format)| {
                    SslKey::from_data(&data, format, KeyType::PrivateKey, passphrase.as_deref())
                }),
        );
        Some((chain?, key?))
    }

    /// Installs the identity on `configuration`, checking that the key
    /// belongs to the certificate.
    pub fn apply(&self, configuration: &mut SslConfiguration, problems: &mut Problems) {
        if let Some((chain, key)) = self.load(problems) {
            let context = format!(
                "{} and {}",
                self.cert
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                self.key
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            problems.check(context, configuration.set_local_identity(chain, key));
        }
    }
}

impl TlsArgs {
    /// Applies protocol, ciphers, ALPN (`default_alpn` when --alpn is not
    /// given) and the key log.
    pub fn apply(
        &self,
        configuration: &mut SslConfiguration,
        default_alpn: &[&str],
        problems: &mut Problems,
    ) {
        if let Some(text) = &self.protocol {
            if let Some(protocol) = problems.check("--protocol", parse_protocol(text)) {
                configuration.set_protocol(protocol);
            }
        }
        if let Some(list) = &self.ciphers {
            problems.check("--ciphers", configuration.set_cipher_list(list));
        }
        if let Some(list) = &self.groups {
            problems.check("--groups", configuration.set_key_exchange_group_list(list));
        }
        let alpn = match &self.alpn {
            Some(list) => {
                let names = alpn_names(list);
                if names.is_empty() {
                    problems.add("--alpn", "no protocol name given");
                }
                names
            }
            None => default_alpn.iter().map(|n| n.as_bytes().to_vec()).collect(),
        };
        problems.check("--alpn", configuration.set_allowed_next_protocols(alpn));
        if let Some(file) = &self.keylog {
            eprintln!(
                "warning: session secrets go to {} (--keylog): whoever can read it can read the traffic",
                file.display()
            );
            configuration.set_dangerous_key_log_file(Some(file.clone()));
        }
    }
}

/// Configuration problems that only show when a handshake starts: these
/// are input errors (exit 2), not a failed check.
pub fn is_configuration_error(error: &Error) -> bool {
    matches!(
        error,
        Error::UnsupportedProtocol(_)
            | Error::NoUsableCipher { .. }
            | Error::NoUsableKeyExchangeGroup { .. }
            | Error::KeyUnusableForTls { .. }
            | Error::KeyDoesNotMatchCertificate
            | Error::UnknownCiphers { .. }
            | Error::InvalidAlpnProtocol(_)
            | Error::InvalidPeerName { .. }
    ) || matches!(
        // No name to verify the server against.
        error,
        Error::InvalidState { operation, .. } if *operation == "start client encryption"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_by_qt_name() {
        assert_eq!(parse_protocol("TlsV1_3"), Ok(SslProtocol::TlsV1_3));
        assert_eq!(
            parse_protocol("tlsv1_2orlater"),
            Ok(SslProtocol::TlsV1_2OrLater)
        );
        let refused = parse_protocol("TlsV1_1").unwrap_err();
        assert!(refused.contains("TlsV1_1 is refused"), "{refused}");
        assert!(parse_protocol("TLS9")
            .unwrap_err()
            .contains("expected one of"));
    }

    #[test]
    fn error_codes_by_name_or_number() {
        assert_eq!(
            parse_error_code("HostNameMismatch"),
            Ok(SslErrorCode::HostNameMismatch)
        );
        assert_eq!(
            parse_error_code("9"),
            Ok(SslErrorCode::SelfSignedCertificate)
        );
        assert!(parse_error_code("NoSuchError").is_err());
        assert!(parse_error_code("99").is_err());
    }

    #[test]
    fn alpn_lists() {
        assert_eq!(
            alpn_names("h2, http/1.1,"),
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(alpn_names(" , ").is_empty());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert_eq!(parse_seconds("0.001"), Ok(Duration::from_millis(1)));
        // Found by fuzzing: positive, yet a wait of nothing.
        for never in ["1e-46", "0.0009", "NaN", "inf", "1e10"] {
            assert!(parse_seconds(never).is_err(), "{never}");
        }
    }
}
