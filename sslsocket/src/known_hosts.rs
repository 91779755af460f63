//! Trust on first use: a file of the certificates accepted for each peer,
//! as SSH's `known_hosts` (not a Qt class; Qt applications build it on
//! `sslErrors` and the certificate-bound `ignoreSslErrors(list)`).
//!
//! Each line is `host:port sha256 accepted`: the SHA-256 of the leaf
//! certificate's DER in hex (colons allowed), and when it was accepted, in
//! seconds since the Unix epoch. Blank lines and lines starting with `#` are
//! skipped. To accept a peer's new certificate, delete its line.
//!
//! The pin binds a peer to one certificate: a different one is refused with
//! [`Error::PinnedCertificateChanged`] even when it would verify, since
//! noticing the change is the point of pinning.
//!
//! ```
//! use sslsocket::{KnownHosts, PinCheck, SslCertificate};
//! # fn main() -> sslsocket::Result<()> {
//! # let key = rcgen::KeyPair::generate().unwrap();
//! # let der = rcgen::CertificateParams::new(vec!["example.test".into()]).unwrap()
//! #     .self_signed(&key).unwrap().der().to_vec();
//! let leaf = SslCertificate::from_der(&der)?;
//! let dir = tempfile::tempdir()?;
//! let mut hosts = KnownHosts::load(dir.path().join("known_hosts"))?;
//! assert!(matches!(hosts.check("example.test", 443, &leaf)?, PinCheck::Unknown));
//! hosts.record("example.test", 443, &leaf)?;
//! // Another process (or a later run) reads what was recorded.
//! let hosts = KnownHosts::load(dir.path().join("known_hosts"))?;
//! assert!(matches!(hosts.check("example.test", 443, &leaf)?, PinCheck::Pinned(_)));
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::certificate::DigestAlgorithm;
use crate::certificate_value::SslCertificate;
use crate::error::{Error, Result, SslError};
use crate::verify::SslErrorsDecision;

/// Larger files are refused: a known-hosts file is a few lines per peer,
/// and reading one should not exhaust memory.
const MAX_FILE_SIZE: u64 = 16 << 20;

/// The certificate accepted for one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    sha256: [u8; 32],
    accepted: u64,
}

impl Pin {
    fn of(certificate: &SslCertificate) -> Pin {
        let accepted = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Pin {
            sha256: sha256(certificate),
            accepted,
        }
    }

    /// The SHA-256 of the accepted certificate's DER.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// When the certificate was accepted.
    pub fn accepted(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.accepted)
    }

    /// Whether `certificate` is the pinned one.
    pub fn matches(&self, certificate: &SslCertificate) -> bool {
        sha256(certificate) == self.sha256
    }

    /// The decision for an `ssl_errors` handler
    /// ([`SocketCore::on_ssl_errors`](crate::SocketCore::on_ssl_errors)):
    /// ignore exactly the errors bound to the pinned certificate (Qt's
    /// certificate-bound `ignoreSslErrors(list)`), so that any other error,
    /// or the same error on another certificate, stays fatal.
    pub fn ssl_errors_decision(&self, errors: &[SslError]) -> SslErrorsDecision {
        SslErrorsDecision::Ignore(
            errors
                .iter()
                .filter(|e| e.certificate().is_some_and(|c| self.matches(c)))
                .cloned()
                .collect(),
        )
    }
}

/// What [`KnownHosts::check`] found for a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// The peer presented its pinned certificate.
    Pinned(Pin),
    /// Nothing is pinned for the peer: first use.
    Unknown,
}

/// A known-hosts file, as read (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct KnownHosts {
    path: PathBuf,
    pins: BTreeMap<String, Pin>,
}

impl KnownHosts {
    /// Reads the file at `path`; a file that does not exist yet holds no
    /// pin. A malformed line is an error naming the file and the line.
    pub fn load(path: impl Into<PathBuf>) -> Result<KnownHosts> {
        let path = path.into();
        let pins = read(&path)?;
        Ok(KnownHosts { path, pins })
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pin for `host`:`port`, if any.
    pub fn pin(&self, host: &str, port: u16) -> Option<&Pin> {
        self.pins.get(&key(host, port))
    }

    /// Checks `leaf`, the certificate `host`:`port` presented, against its
    /// pin: [`Error::PinnedCertificateChanged`] if another one is pinned.
    pub fn check(&self, host: &str, port: u16, leaf: &SslCertificate) -> Result<PinCheck> {
        match self.pin(host, port) {
            None => Ok(PinCheck::Unknown),
            Some(pin) if pin.matches(leaf) => Ok(PinCheck::Pinned(pin.clone())),
            Some(pin) => Err(Error::PinnedCertificateChanged {
                peer: key(host, port),
                file: self.path.clone(),
                pinned: colon_hex(&pin.sha256),
                presented: colon_hex(&sha256(leaf)),
            }),
        }
    }

    /// Pins `leaf` for `host`:`port` and writes the file.
    ///
    /// Safe for concurrent processes: a lock file next to it (`.NAME.lock`)
    /// orders the writers, each reads the file again under the lock, so
    /// that the pins others recorded since [`load`](Self::load) are kept,
    /// and the file is replaced by renaming a complete temporary file, so
    /// that a reader never sees a partial one. A lock left by a crashed
    /// process is taken over after 10 seconds. The file is written anew,
    /// in order of peer: comments are not kept.
    pub fn record(&mut self, host: &str, port: u16, leaf: &SslCertificate) -> Result<()> {
        let _lock = Lock::acquire(&self.path)?;
        self.pins = read(&self.path)?;
        self.pins.insert(key(host, port), Pin::of(leaf));
        let mut text =
            String::from("# sslsocket known hosts: host:port SHA-256-of-leaf accepted-unix-time\n");
        for (peer, pin) in &self.pins {
            let _ = writeln!(text, "{peer} {} {}", colon_hex(&pin.sha256), pin.accepted);
        }
        write_atomically(&self.path, text.as_bytes()).map_err(|e| Error::file(&self.path, e))
    }
}

fn key(host: &str, port: u16) -> String {
    // IPv6 addresses in brackets, as in URLs, so that the port stays apart.
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{}:{port}", host.to_ascii_lowercase())
    }
}

fn sha256(certificate: &SslCertificate) -> [u8; 32] {
    let digest = certificate.digest(DigestAlgorithm::Sha256);
    digest.try_into().expect("a SHA-256 digest is 32 bytes")
}

/// Upper-case hex with colons, as certificate viewers print fingerprints.
fn colon_hex(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

fn read(path: &Path) -> Result<BTreeMap<String, Pin>> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(Error::file(path, e)),
    };
    let mut text = String::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::file(path, e))?;
    if text.len() as u64 > MAX_FILE_SIZE {
        return Err(invalid(path, 0, "larger than 16 MiB"));
    }
    let mut pins = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (peer, pin) = parse_line(line).map_err(|reason| invalid(path, index + 1, reason))?;
        pins.insert(peer, pin);
    }
    Ok(pins)
}

fn parse_line(line: &str) -> std::result::Result<(String, Pin), &'static str> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [peer, fingerprint, accepted] = fields[..] else {
        return Err("expected three fields: host:port SHA-256 accepted-unix-time");
    };
    let (host, port) = peer.rsplit_once(':').ok_or("expected host:port")?;
    let port: u16 = port
        .parse()
        .map_err(|_| "the port is not a number from 0 to 65535")?;
    if host.is_empty() {
        return Err("the host is empty");
    }
    let hex: String = fingerprint.chars().filter(|&c| c != ':').collect();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("the SHA-256 is not hex")?;
    let sha256 = bytes
        .try_into()
        .map_err(|_| "the SHA-256 is not 32 bytes long")?;
    let accepted = accepted
        .parse()
        .map_err(|_| "the accepted time is not a number of seconds")?;
    Ok((key(host, port), Pin { sha256, accepted }))
}

fn invalid(path: &Path, line: usize, reason: &str) -> Error {
    Error::InvalidKnownHosts {
        path: path.to_owned(),
        line,
        reason: reason.to_owned(),
    }
}

/// A file beside the known-hosts file, created exclusively: who creates it
/// may write; it is removed on drop.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path) -> Result<Lock> {
        // A writer holds the lock for a read and a write of a small file.
        const STALE: Duration = Duration::from_secs(10);
        const GIVE_UP: Duration = Duration::from_secs(30);
        let lock = sibling(path, "lock");
        let started = Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(_) => return Ok(Lock(lock)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let age = fs::metadata(&lock)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|modified| modified.elapsed().ok());
                    if age.is_some_and(|age| age > STALE) {
                        // Its owner died without removing it.
                        let _ = fs::remove_file(&lock);
                    } else if started.elapsed() > GIVE_UP {
                        let held = io::Error::new(
                            io::ErrorKind::TimedOut,
                            "locked by another process for too long; remove the lock file if none runs",
                        );
                        return Err(Error::file(lock, held));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(Error::file(lock, e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// `.NAME.SUFFIX` in the directory of `path`: the same file system, so that
/// a rename from it is atomic.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{suffix}"))
}

/// Writes a temporary file next to `path` and renames it over `path`: the
/// rename is atomic within a directory, so `path` is always a whole file.
fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    // Unique even without the lock (a stale one taken over): the process
    // id and a count for the threads of one.
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let temporary = sibling(
        path,
        &format!(
            "{}.{}.tmp",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ),
    );
    let written = fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(name: &str) -> SslCertificate {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        SslCertificate::from_der(cert.der()).unwrap()
    }

    #[test]
    fn parses_lines_comments_and_ipv6() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let hex = "ab".repeat(32);
        let colons = vec!["CD"; 32].join(":");
        fs::write(
            &path,
            format!("# comment\n\nExample.test:443 {hex} 1700000000\n[::1]:8443 {colons} 5\n"),
        )
        .unwrap();
        let hosts = KnownHosts::load(&path).unwrap();
        let pin = hosts.pin("example.test", 443).unwrap();
        assert_eq!(
            pin.sha256(),
            [0xab; 32],
            "host names compare case-insensitively"
        );
        assert_eq!(
            pin.accepted(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(hosts.pin("::1", 8443).unwrap().sha256(), [0xcd; 32]);
        assert!(hosts.pin("example.test", 444).is_none());
    }

    #[test]
    fn a_missing_file_is_empty_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        assert!(KnownHosts::load(&path).unwrap().pin("a", 1).is_none());
        for (line, reason) in [
            ("host:443 abcd 1", "32 bytes"),
            ("host 00 1", "host:port"),
            ("host:443", "three fields"),
            ("host:99999 00 1", "port"),
            (&format!("host:443 {} x", "00".repeat(32)), "accepted time"),
            (&format!("host:443 {} 1", "zz".repeat(32)), "not hex"),
        ] {
            fs::write(&path, format!("# ok\n{line}\n")).unwrap();
            let message = KnownHosts::load(&path).unwrap_err().to_string();
            assert!(
                message.contains(&format!("{}:2:", path.display())),
                "{message}"
            );
            assert!(message.contains(reason), "{line}: {message}");
        }
    }

    #[test]
    fn record_then_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let (first, second) = (certificate("a.test"), certificate("a.test"));
        let mut hosts = KnownHosts::load(&path).unwrap();
        assert_eq!(
            hosts.check("a.test", 443, &first).unwrap(),
            PinCheck::Unknown
        );
        hosts.record("a.test", 443, &first).unwrap();
        let hosts = KnownHosts::load(&path).unwrap();
        assert!(matches!(
            hosts.check("a.test", 443, &first),
            Ok(PinCheck::Pinned(_))
        ));
        assert_eq!(
            hosts.check("a.test", 444, &second).unwrap(),
            PinCheck::Unknown
        );
        let changed = hosts.check("a.test", 443, &second).unwrap_err();
        let message = changed.to_string();
        assert!(message.contains(&colon_hex(&sha256(&first))), "{message}");
        assert!(message.contains(&colon_hex(&sha256(&second))), "{message}");
        assert!(message.contains("a.test:443"), "{message}");
    }

    #[test]
    fn the_decision_ignores_only_the_pinned_certificates_errors() {
        use crate::error::SslErrorCode::*;
        let (pinned, other) = (certificate("a.test"), certificate("a.test"));
        let pin = Pin::of(&pinned);
        let bound = SslError::with_certificate(SelfSignedCertificate, pinned);
        let errors = [
            bound.clone(),
            SslError::with_certificate(SelfSignedCertificate, other),
            SslError::new(NoPeerCertificate),
        ];
        assert_eq!(
            pin.ssl_errors_decision(&errors),
            SslErrorsDecision::Ignore(vec![bound])
        );
    }

    #[test]
    fn racing_writers_keep_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let threads: Vec<_> = (0..4)
            .map(|n| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let leaf = certificate("race.test");
                    for round in 0..20 {
                        let mut hosts = KnownHosts::load(&path).unwrap();
                        hosts.record(&format!("host{n}"), round, &leaf).unwrap();
                        // Every read, mid-race, sees a whole file.
                        KnownHosts::load(&path).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let hosts = KnownHosts::load(&path).unwrap();
        for n in 0..4 {
            assert!(
                hosts.pin(&format!("host{n}"), 19).is_some(),
                "each writer's last pin is there"
            );
        }
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary or lock file is left behind");
    }
}
