//! Generating keys and certificates with the `openssl` command-line tool.
//!
//! Every helper panics with openssl's stderr when the command fails, so a
//! broken fixture shows up as a readable test failure, not as a confusing
//! assertion further down.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `openssl ARGS` in `dir` and returns its stdout.
pub fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    openssl_with_stdin(args, dir, &[])
}

/// Runs `openssl ARGS` in `dir` with `stdin` as its standard input and
/// returns its stdout.
pub fn openssl_with_stdin(args: &[&str], dir: &Path, stdin: &[u8]) -> Vec<u8> {
    let output = try_openssl(args, dir, stdin);
    assert!(
        output.status.success(),
        "openssl {} failed ({}):\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `openssl ARGS` in `dir` and returns whatever happened, for tests
/// that expect openssl to fail or want to look at stderr.
pub fn try_openssl(args: &[&str], dir: &Path, stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl (is it installed?): {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin).expect("write to openssl's stdin");
    drop(input);
    child.wait_with_output().expect("wait for openssl")
}

/// The kinds of key [`gen_key`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA, 2048 bits.
    Rsa2048,
    /// EC on P-256.
    EcP256,
    /// EC on P-384.
    EcP384,
    /// EC on P-521.
    EcP521,
    /// EC on secp256k1 (a curve the library does not support).
    EcSecp256k1,
    /// Ed25519.
    Ed25519,
    /// DSA with a 2048-bit p.
    Dsa2048,
    /// Diffie-Hellman in the RFC 7919 ffdhe2048 group.
    DhFfdhe2048,
}

impl KeyKind {
    /// A short name, used for file names.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Rsa2048 => "rsa2048",
            KeyKind::EcP256 => "p256",
            KeyKind::EcP384 => "p384",
            KeyKind::EcP521 => "p521",
            KeyKind::EcSecp256k1 => "secp256k1",
            KeyKind::Ed25519 => "ed25519",
            KeyKind::Dsa2048 => "dsa2048",
            KeyKind::DhFfdhe2048 => "dh2048",
        }
    }
}

/// Generates a fresh private key of `kind` in `dir` and returns the path of
/// its unencrypted PKCS#8 PEM file (`<name>.pem`, OpenSSL 3's default form).
pub fn gen_key(dir: &Path, kind: KeyKind) -> PathBuf {
    let file = format!("{}.pem", kind.name());
    let ec = |curve: &str| {
        let opt = format!("ec_paramgen_curve:{curve}");
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                &opt,
                "-pkeyopt",
                "ec_param_enc:named_curve",
                "-out",
                &file,
            ],
            dir,
        );
    };
    match kind {
        KeyKind::Rsa2048 => {
            openssl(
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                    &file,
                ],
                dir,
            );
        }
        KeyKind::EcP256 => ec("P-256"),
        KeyKind::EcP384 => ec("P-384"),
        KeyKind::EcP521 => ec("P-521"),
        KeyKind::EcSecp256k1 => ec("secp256k1"),
        KeyKind::Ed25519 => {
            openssl(&["genpkey", "-algorithm", "ED25519", "-out", &file], dir);
        }
        KeyKind::Dsa2048 => {
            let params = format!("{}-params.pem", kind.name());
            openssl(
                &[
                    "genpkey",
                    "-genparam",
                    "-algorithm",
                    "DSA",
                    "-pkeyopt",
                    "dsa_paramgen_bits:2048",
                    "-out",
                    &params,
                ],
                dir,
            );
            openssl(&["genpkey", "-paramfile", &params, "-out", &file], dir);
        }
        KeyKind::DhFfdhe2048 => {
            openssl(
                &[
                    "genpkey",
                    "-algorithm",
                    "DH",
                    "-pkeyopt",
                    "group:ffdhe2048",
                    "-out",
                    &file,
                ],
                dir,
            );
        }
    }
    dir.join(file)
}

/// Runs `openssl ARGS -in INPUT` in `dir`, feeding it `input` through a file
/// (some openssl subcommands insist on a file to detect the format), and
/// returns stdout. `-passin`/`-passout` go in `args` as usual.
pub fn convert(dir: &Path, input: &[u8], args: &[&str]) -> Vec<u8> {
    let path = write_temp(dir, input);
    let path = path.to_str().expect("temp path is UTF-8");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["-in", path]);
    openssl(&full, dir)
}

/// Like [`convert`], but returns openssl's raw result.
pub fn try_convert(dir: &Path, input: &[u8], args: &[&str]) -> std::process::Output {
    let path = write_temp(dir, input);
    let path = path.to_str().expect("temp path is UTF-8");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["-in", path]);
    try_openssl(&full, dir, &[])
}

fn write_temp(dir: &Path, data: &[u8]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("input-{n}.bin"));
    std::fs::write(&path, data).expect("write openssl input");
    path
}
