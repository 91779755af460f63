//! `SslKey` against keys made by the `openssl` command-line tool, in every
//! container and encryption it writes, plus malformed input.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use common::openssl::{convert, gen_key, openssl, try_convert, KeyKind};
use sslsocket::{EncodingFormat, Error, KeyAlgorithm, KeyType, SslKey};
use tempfile::TempDir;

const PASS: &str = "correct horse battery";
const PASS_ARG: &str = "pass:correct horse battery";

/// The PKCS#8 PEM of one key per kind, generated once per test run (DSA
/// parameter generation is slow enough to be worth sharing).
fn key_pem(kind: KeyKind) -> Vec<u8> {
    static KEYS: OnceLock<Mutex<HashMap<KeyKind, Vec<u8>>>> = OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    let mut keys = keys.lock().unwrap_or_else(|e| e.into_inner());
    keys.entry(kind)
        .or_insert_with(|| {
            let dir = tmp();
            std::fs::read(gen_key(dir.path(), kind)).expect("read generated key")
        })
        .clone()
}

fn tmp() -> TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

fn private_pem(data: &[u8]) -> SslKey {
    SslKey::from_pem(data, KeyType::PrivateKey, None).expect("private PEM key loads")
}

fn load(data: &[u8], format: EncodingFormat, key_type: KeyType) -> SslKey {
    SslKey::from_data(data, format, key_type, None).unwrap_or_else(|e| {
        panic!("{key_type} key in {format} does not load: {e}");
    })
}

fn pem_label(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .find_map(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .unwrap_or_else(|| panic!("no PEM label in {text}"))
        .to_owned()
}

fn assert_props(key: &SslKey, algorithm: KeyAlgorithm, key_type: KeyType, bits: u32) {
    assert_eq!(key.algorithm(), algorithm, "{key:?}");
    assert_eq!(key.key_type(), key_type, "{key:?}");
    assert_eq!(key.length(), bits, "{key:?}");
}

/// One way of writing a key: openssl arguments, the result's format, and
/// the PEM label it must carry (a check on the fixture itself).
struct Form {
    args: &'static [&'static str],
    format: EncodingFormat,
    label: Option<&'static str>,
}

const fn pem(args: &'static [&'static str], label: &'static str) -> Form {
    Form {
        args,
        format: EncodingFormat::Pem,
        label: Some(label),
    }
}

const fn der(args: &'static [&'static str]) -> Form {
    Form {
        args,
        format: EncodingFormat::Der,
        label: None,
    }
}

const PKCS8_PEM: Form = pem(&["pkcs8", "-topk8", "-nocrypt"], "PRIVATE KEY");
const PKCS8_DER: Form = der(&["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"]);
const SPKI_PEM: Form = pem(&["pkey", "-pubout"], "PUBLIC KEY");
const SPKI_DER: Form = der(&["pkey", "-pubout", "-outform", "DER"]);

/// Loads `kind` in every private and public form, and checks properties,
/// equality across forms, `public_key()`, and that the canonical DER is
/// byte-for-byte what OpenSSL writes as PKCS#8 / SubjectPublicKeyInfo.
fn check_family(
    kind: KeyKind,
    algorithm: KeyAlgorithm,
    bits: u32,
    curve: Option<&str>,
    private_forms: &[Form],
    public_forms: &[Form],
) -> SslKey {
    let dir = tmp();
    let base = key_pem(kind);
    let reference = private_pem(&base);
    assert_props(&reference, algorithm, KeyType::PrivateKey, bits);
    assert_eq!(reference.curve_name(), curve);

    for form in private_forms {
        let data = convert(dir.path(), &base, form.args);
        if let Some(label) = form.label {
            assert_eq!(pem_label(&data), label, "openssl {:?}", form.args);
        }
        let key = load(&data, form.format, KeyType::PrivateKey);
        assert_props(&key, algorithm, KeyType::PrivateKey, bits);
        assert_eq!(key.curve_name(), curve);
        assert_eq!(key, reference, "openssl {:?}", form.args);
    }

    let pkcs8_der = convert(dir.path(), &base, PKCS8_DER.args);
    assert_eq!(
        reference.to_der(),
        pkcs8_der,
        "to_der() is OpenSSL's PKCS#8"
    );

    let public_reference = load(
        &convert(dir.path(), &base, SPKI_DER.args),
        EncodingFormat::Der,
        KeyType::PublicKey,
    );
    for form in public_forms {
        let data = convert(dir.path(), &base, form.args);
        if let Some(label) = form.label {
            assert_eq!(pem_label(&data), label, "openssl {:?}", form.args);
        }
        let key = load(&data, form.format, KeyType::PublicKey);
        assert_props(&key, algorithm, KeyType::PublicKey, bits);
        assert_eq!(key.curve_name(), curve);
        assert_eq!(key, public_reference, "openssl {:?}", form.args);
        assert_ne!(key, reference, "a public key never equals a private key");
        assert_eq!(key.public_key().unwrap(), key);
    }
    assert_eq!(
        public_reference.to_der(),
        convert(dir.path(), &base, SPKI_DER.args),
        "to_der() of a public key is OpenSSL's SubjectPublicKeyInfo"
    );

    let derived = reference.public_key().expect("public half");
    assert_props(&derived, algorithm, KeyType::PublicKey, bits);
    assert_eq!(derived, public_reference);
    reference
}

#[test]
fn rsa_in_every_format() {
    let key = check_family(
        KeyKind::Rsa2048,
        KeyAlgorithm::Rsa,
        2048,
        None,
        &[
            PKCS8_PEM,
            PKCS8_DER,
            pem(&["rsa", "-traditional"], "RSA PRIVATE KEY"),
            der(&["rsa", "-traditional", "-outform", "DER"]),
        ],
        &[
            SPKI_PEM,
            SPKI_DER,
            pem(&["rsa", "-RSAPublicKey_out"], "RSA PUBLIC KEY"),
            der(&["rsa", "-RSAPublicKey_out", "-outform", "DER"]),
        ],
    );
    assert_eq!(
        format!("{key:?}"),
        "SslKey { algorithm: Rsa, key_type: PrivateKey, length: 2048 }"
    );
}

fn check_ec(kind: KeyKind, bits: u32, curve: &str) {
    let key = check_family(
        kind,
        KeyAlgorithm::Ec,
        bits,
        Some(curve),
        &[
            PKCS8_PEM,
            PKCS8_DER,
            pem(&["ec"], "EC PRIVATE KEY"),
            der(&["ec", "-outform", "DER"]),
            // Without the public point, which then has to be computed.
            pem(&["ec", "-no_public"], "EC PRIVATE KEY"),
            der(&["ec", "-no_public", "-outform", "DER"]),
        ],
        &[SPKI_PEM, SPKI_DER],
    );
    assert_eq!(
        format!("{key:?}"),
        format!(
            "SslKey {{ algorithm: Ec, key_type: PrivateKey, length: {bits}, curve: \"{curve}\" }}"
        )
    );
}

#[test]
fn ec_p256_in_every_format() {
    check_ec(KeyKind::EcP256, 256, "P-256");
}

#[test]
fn ec_p384_in_every_format() {
    check_ec(KeyKind::EcP384, 384, "P-384");
}

#[test]
fn ec_p521_in_every_format() {
    check_ec(KeyKind::EcP521, 521, "P-521");
}

#[test]
fn ed25519_in_every_format() {
    check_family(
        KeyKind::Ed25519,
        KeyAlgorithm::Ed25519,
        256,
        None,
        &[PKCS8_PEM, PKCS8_DER],
        &[SPKI_PEM, SPKI_DER],
    );
}

#[test]
fn ed25519_pkcs8_v2_with_public_key() {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    // aws-lc writes PKCS#8 v2 (RFC 5958, public key included); OpenSSL writes v1.
    let v2 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let key = SslKey::from_der(v2.as_ref(), KeyType::PrivateKey, None).unwrap();
    assert_props(&key, KeyAlgorithm::Ed25519, KeyType::PrivateKey, 256);
    let pair = Ed25519KeyPair::from_pkcs8(v2.as_ref()).unwrap();
    let v1 = pair.to_pkcs8v1().unwrap();
    assert_eq!(key.to_der(), v1.as_ref(), "canonical form is v1");
    let public = key.public_key().unwrap();
    assert!(public.to_der().ends_with(pair.public_key().as_ref()));
}

#[test]
fn dsa_in_every_format() {
    let key = check_family(
        KeyKind::Dsa2048,
        KeyAlgorithm::Dsa,
        2048,
        None,
        &[
            PKCS8_PEM,
            PKCS8_DER,
            pem(&["dsa"], "DSA PRIVATE KEY"),
            der(&["dsa", "-outform", "DER"]),
        ],
        &[SPKI_PEM, SPKI_DER],
    );
    // From PKCS#8 the public value is not stored and is computed as g^x mod p.
    let dir = tmp();
    let pkcs8 = SslKey::from_der(
        convert(dir.path(), &key_pem(KeyKind::Dsa2048), PKCS8_DER.args),
        KeyType::PrivateKey,
        None,
    )
    .unwrap();
    assert_eq!(pkcs8.public_key().unwrap(), key.public_key().unwrap());
}

#[test]
fn dh_keys_load_and_derive_their_public_value() {
    check_family(
        KeyKind::DhFfdhe2048,
        KeyAlgorithm::Dh,
        2048,
        None,
        &[PKCS8_PEM, PKCS8_DER],
        &[SPKI_PEM, SPKI_DER],
    );
}

#[test]
fn different_keys_differ_and_hash_apart() {
    let rsa = private_pem(&key_pem(KeyKind::Rsa2048));
    let ec = private_pem(&key_pem(KeyKind::EcP256));
    let dir = tmp();
    let other_ec = private_pem(&std::fs::read(gen_key(dir.path(), KeyKind::EcP256)).unwrap());
    assert_ne!(rsa, ec);
    assert_ne!(ec, other_ec);
    let traditional = load(
        &convert(dir.path(), &key_pem(KeyKind::EcP256), &["ec"]),
        EncodingFormat::Pem,
        KeyType::PrivateKey,
    );
    let set: HashSet<SslKey> = [rsa.clone(), ec.clone(), other_ec, traditional, rsa.clone()]
        .into_iter()
        .collect();
    assert_eq!(
        set.len(),
        3,
        "the same key from two formats hashes the same"
    );
    let copy = rsa.clone();
    assert_eq!(copy, rsa);
}

// ---------------------------------------------------------------------------
// Encrypted keys

/// Checks an encrypted key: it loads with the passphrase, is refused with
/// KeyEncrypted without one and WrongPassphrase with a wrong one.
fn check_encrypted(data: &[u8], format: EncodingFormat, expected: &SslKey) {
    let with = SslKey::from_data(data, format, KeyType::PrivateKey, Some(PASS.as_bytes()))
        .unwrap_or_else(|e| panic!("encrypted key does not load with its passphrase: {e}"));
    assert_eq!(&with, expected);
    assert!(
        matches!(
            SslKey::from_data(data, format, KeyType::PrivateKey, None),
            Err(Error::KeyEncrypted)
        ),
        "no passphrase must be KeyEncrypted"
    );
    for wrong in [&b"wrong"[..], b"", b"correct horse batter"] {
        match SslKey::from_data(data, format, KeyType::PrivateKey, Some(wrong)) {
            Err(Error::WrongPassphrase) => {}
            other => panic!("wrong passphrase {wrong:?} gave {other:?}"),
        }
    }
}

#[test]
fn encrypted_pkcs8() {
    let dir = tmp();
    for kind in [KeyKind::Rsa2048, KeyKind::EcP384, KeyKind::Ed25519] {
        let base = key_pem(kind);
        let expected = private_pem(&base);
        for cipher in ["aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des3"] {
            let args = ["pkcs8", "-topk8", "-v2", cipher, "-passout", PASS_ARG];
            let data = convert(dir.path(), &base, &args);
            assert_eq!(pem_label(&data), "ENCRYPTED PRIVATE KEY");
            check_encrypted(&data, EncodingFormat::Pem, &expected);
        }
        // DER, and the other PBKDF2 PRFs (OpenSSL's default is HMAC-SHA256).
        for prf in [
            "hmacWithSHA1",
            "hmacWithSHA224",
            "hmacWithSHA384",
            "hmacWithSHA512",
        ] {
            let args = [
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-v2prf",
                prf,
                "-outform",
                "DER",
                "-passout",
                PASS_ARG,
            ];
            let data = convert(dir.path(), &base, &args);
            check_encrypted(&data, EncodingFormat::Der, &expected);
        }
    }
}

#[test]
fn encrypted_pkcs8_with_scrypt() {
    let dir = tmp();
    let base = key_pem(KeyKind::EcP256);
    let args = [
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-scrypt_N",
        "1024",
        "-scrypt_r",
        "8",
        "-scrypt_p",
        "1",
        "-passout",
        PASS_ARG,
    ];
    let data = convert(dir.path(), &base, &args);
    check_encrypted(&data, EncodingFormat::Pem, &private_pem(&base));
}

#[test]
fn traditional_encrypted_pem() {
    let dir = tmp();
    let cases: &[(KeyKind, &str, &str, &str)] = &[
        (KeyKind::Rsa2048, "rsa", "-aes128", "AES-128-CBC"),
        (KeyKind::Rsa2048, "rsa", "-aes256", "AES-256-CBC"),
        (KeyKind::Rsa2048, "rsa", "-des3", "DES-EDE3-CBC"),
        (KeyKind::EcP256, "ec", "-aes192", "AES-192-CBC"),
        (KeyKind::EcP521, "ec", "-des3", "DES-EDE3-CBC"),
        (KeyKind::Dsa2048, "dsa", "-aes256", "AES-256-CBC"),
    ];
    for &(kind, command, cipher, dek) in cases {
        let base = key_pem(kind);
        // `openssl rsa` writes PKCS#8 unless told otherwise; `ec` and `dsa`
        // only know the traditional form (and reject the flag).
        let mut args = vec![command, cipher, "-passout", PASS_ARG];
        if command == "rsa" {
            args.push("-traditional");
        }
        let data = convert(dir.path(), &base, &args);
        let text = String::from_utf8(data.clone()).unwrap();
        assert!(text.contains("Proc-Type: 4,ENCRYPTED"), "{text}");
        assert!(text.contains(&format!("DEK-Info: {dek},")), "{text}");
        check_encrypted(&data, EncodingFormat::Pem, &private_pem(&base));
    }
}

#[test]
fn unsupported_key_encryption_is_named() {
    let dir = tmp();
    let base = key_pem(KeyKind::Rsa2048);

    // Traditional PEM with a cipher we do not implement.
    let data = convert(
        dir.path(),
        &base,
        &["rsa", "-aes128", "-traditional", "-passout", PASS_ARG],
    );
    let edited = String::from_utf8(data)
        .unwrap()
        .replace("DEK-Info: AES-128-CBC,", "DEK-Info: CAMELLIA-128-CBC,");
    for passphrase in [None, Some(PASS.as_bytes())] {
        match SslKey::from_pem(&edited, KeyType::PrivateKey, passphrase) {
            Err(Error::UnsupportedKeyEncryption { scheme }) => {
                assert_eq!(scheme, "CAMELLIA-128-CBC")
            }
            other => panic!("expected UnsupportedKeyEncryption, got {other:?}"),
        }
    }

    // PKCS#8 with PBES2 and Camellia, and with PKCS#12's PBE-SHA1-3DES.
    for (args, name) in [
        (
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "camellia128",
                "-passout",
                PASS_ARG,
            ][..],
            "CAMELLIA-128-CBC",
        ),
        (
            &[
                "pkcs8",
                "-topk8",
                "-v1",
                "PBE-SHA1-3DES",
                "-passout",
                PASS_ARG,
            ][..],
            "pbeWithSHAAnd3-KeyTripleDES-CBC",
        ),
    ] {
        let data = convert(dir.path(), &base, args);
        for passphrase in [None, Some(PASS.as_bytes())] {
            match SslKey::from_pem(&data, KeyType::PrivateKey, passphrase) {
                Err(Error::UnsupportedKeyEncryption { scheme }) => {
                    assert!(scheme.contains(name), "{scheme}")
                }
                other => panic!("expected UnsupportedKeyEncryption for {args:?}, got {other:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Writing

#[test]
fn to_pem_round_trips_and_openssl_reads_it() {
    let dir = tmp();
    for kind in [
        KeyKind::Rsa2048,
        KeyKind::EcP256,
        KeyKind::EcP521,
        KeyKind::Ed25519,
        KeyKind::Dsa2048,
    ] {
        let base = key_pem(kind);
        let key = private_pem(&base);
        let openssl_public = load(
            &convert(dir.path(), &base, SPKI_DER.args),
            EncodingFormat::Der,
            KeyType::PublicKey,
        );

        // Unencrypted, and an empty passphrase means unencrypted (as in Qt).
        let plain = key.to_pem(None).unwrap();
        assert_eq!(pem_label(plain.as_bytes()), "PRIVATE KEY");
        assert_eq!(key.to_pem(Some(b"")).unwrap(), plain);
        assert_eq!(private_pem(plain.as_bytes()), key);
        let public = convert(dir.path(), plain.as_bytes(), SPKI_DER.args);
        assert_eq!(
            load(&public, EncodingFormat::Der, KeyType::PublicKey),
            openssl_public,
            "{kind:?}"
        );
        // DER round trip.
        assert_eq!(
            load(&key.to_der(), EncodingFormat::Der, KeyType::PrivateKey),
            key
        );

        // Encrypted.
        let encrypted = key.to_pem(Some(PASS.as_bytes())).unwrap();
        assert_eq!(pem_label(encrypted.as_bytes()), "ENCRYPTED PRIVATE KEY");
        assert_ne!(
            encrypted,
            key.to_pem(Some(PASS.as_bytes())).unwrap(),
            "salt and IV are random"
        );
        check_encrypted(encrypted.as_bytes(), EncodingFormat::Pem, &key);
        let public = convert(
            dir.path(),
            encrypted.as_bytes(),
            &["pkey", "-passin", PASS_ARG, "-pubout", "-outform", "DER"],
        );
        assert_eq!(
            load(&public, EncodingFormat::Der, KeyType::PublicKey),
            openssl_public,
            "{kind:?}"
        );
        let refused = try_convert(
            dir.path(),
            encrypted.as_bytes(),
            &["pkey", "-passin", "pass:wrong", "-noout"],
        );
        assert!(
            !refused.status.success(),
            "openssl accepted a wrong passphrase"
        );

        // Public keys ignore the passphrase.
        let public_key = key.public_key().unwrap();
        let public_pem = public_key.to_pem(Some(PASS.as_bytes())).unwrap();
        assert_eq!(pem_label(public_pem.as_bytes()), "PUBLIC KEY");
        assert_eq!(public_pem, public_key.to_pem(None).unwrap());
        assert_eq!(
            SslKey::from_pem(&public_pem, KeyType::PublicKey, None).unwrap(),
            openssl_public
        );
    }
}

#[test]
fn encrypted_output_uses_pbes2_pbkdf2_sha256_aes256() {
    let dir = tmp();
    let key = private_pem(&key_pem(KeyKind::EcP256));
    let encrypted = key.to_pem(Some(PASS.as_bytes())).unwrap();
    let dump =
        String::from_utf8(convert(dir.path(), encrypted.as_bytes(), &["asn1parse"])).unwrap();
    for expected in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
        assert!(dump.contains(expected), "{expected} missing in\n{dump}");
    }
}

// ---------------------------------------------------------------------------
// Errors

#[test]
fn qt_constructor_checks_the_algorithm() {
    let rsa = key_pem(KeyKind::Rsa2048);
    let key = SslKey::new(
        &rsa,
        KeyAlgorithm::Rsa,
        EncodingFormat::Pem,
        KeyType::PrivateKey,
        None,
    )
    .unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Rsa);
    match SslKey::new(
        &rsa,
        KeyAlgorithm::Ec,
        EncodingFormat::Pem,
        KeyType::PrivateKey,
        None,
    ) {
        Err(Error::KeyAlgorithmMismatch { expected, found }) => {
            assert_eq!(expected, KeyAlgorithm::Ec);
            assert_eq!(found, KeyAlgorithm::Rsa);
        }
        other => panic!("expected KeyAlgorithmMismatch, got {other:?}"),
    }
    let dir = tmp();
    let public = convert(dir.path(), &key_pem(KeyKind::Ed25519), SPKI_DER.args);
    assert!(matches!(
        SslKey::new(
            &public,
            KeyAlgorithm::Dsa,
            EncodingFormat::Der,
            KeyType::PublicKey,
            None
        ),
        Err(Error::KeyAlgorithmMismatch {
            expected: KeyAlgorithm::Dsa,
            found: KeyAlgorithm::Ed25519
        })
    ));
}

fn expect_invalid(result: sslsocket::Result<SslKey>, needle: &str) {
    match result {
        Err(Error::InvalidKey { reason }) => {
            assert!(reason.contains(needle), "'{needle}' not in '{reason}'")
        }
        other => panic!("expected InvalidKey containing '{needle}', got {other:?}"),
    }
}

#[test]
fn private_and_public_are_not_confused() {
    let dir = tmp();
    let base = key_pem(KeyKind::Rsa2048);
    let pkcs1 = convert(dir.path(), &base, &["rsa", "-traditional"]);
    let pkcs8_der = convert(dir.path(), &base, PKCS8_DER.args);
    let spki_pem = convert(dir.path(), &base, SPKI_PEM.args);
    let spki_der = convert(dir.path(), &base, SPKI_DER.args);
    let encrypted = convert(
        dir.path(),
        &base,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            PASS_ARG,
        ],
    );

    for private in [&base, &pkcs1, &encrypted] {
        expect_invalid(
            SslKey::from_pem(private, KeyType::PublicKey, None),
            "expected a public key, but a",
        );
    }
    expect_invalid(
        SslKey::from_der(&pkcs8_der, KeyType::PublicKey, None),
        "holds a private key (PKCS#8",
    );
    expect_invalid(
        SslKey::from_pem(&spki_pem, KeyType::PrivateKey, None),
        "expected a private key, but a 'PUBLIC KEY' PEM block holds a public key",
    );
    expect_invalid(
        SslKey::from_der(&spki_der, KeyType::PrivateKey, None),
        "holds a public key",
    );

    // With both kinds in one file, each request finds its own block.
    let mut both = spki_pem.clone();
    both.extend_from_slice(&pkcs1);
    let public = SslKey::from_pem(&both, KeyType::PublicKey, None).unwrap();
    let private = SslKey::from_pem(&both, KeyType::PrivateKey, None).unwrap();
    assert_eq!(private.public_key().unwrap(), public);
}

#[test]
fn unsupported_curve_is_named() {
    let dir = tmp();
    let base = key_pem(KeyKind::EcSecp256k1);
    let forms = [
        (base.clone(), EncodingFormat::Pem, KeyType::PrivateKey),
        (
            convert(dir.path(), &base, &["ec"]),
            EncodingFormat::Pem,
            KeyType::PrivateKey,
        ),
        (
            convert(dir.path(), &base, PKCS8_DER.args),
            EncodingFormat::Der,
            KeyType::PrivateKey,
        ),
        (
            convert(dir.path(), &base, SPKI_DER.args),
            EncodingFormat::Der,
            KeyType::PublicKey,
        ),
    ];
    for (data, format, key_type) in forms {
        match SslKey::from_data(&data, format, key_type, None) {
            Err(Error::UnsupportedKey { what }) => {
                assert!(what.contains("secp256k1"), "{what}");
                assert!(what.contains("1.3.132.0.10"), "{what}");
            }
            other => panic!("expected UnsupportedKey, got {other:?}"),
        }
    }
}

#[test]
fn explicit_curve_parameters_are_unsupported() {
    let dir = tmp();
    let base = key_pem(KeyKind::EcP256);
    let sec1 = convert(dir.path(), &base, &["ec", "-param_enc", "explicit"]);
    assert_eq!(pem_label(&sec1), "EC PRIVATE KEY");
    let forms = [
        (sec1.clone(), KeyType::PrivateKey),
        (
            convert(dir.path(), &sec1, PKCS8_PEM.args),
            KeyType::PrivateKey,
        ),
        (
            convert(dir.path(), &sec1, SPKI_PEM.args),
            KeyType::PublicKey,
        ),
    ];
    for (data, key_type) in forms {
        match SslKey::from_pem(&data, key_type, None) {
            Err(Error::UnsupportedKey { what }) => assert!(what.contains("explicit"), "{what}"),
            other => panic!("expected UnsupportedKey, got {other:?}"),
        }
    }
}

#[test]
fn malformed_input_is_an_error() {
    for key_type in [KeyType::PrivateKey, KeyType::PublicKey] {
        assert!(matches!(
            SslKey::from_pem(b"", key_type, None),
            Err(Error::NoKey)
        ));
        assert!(matches!(
            SslKey::from_der(b"", key_type, None),
            Err(Error::NoKey)
        ));
        assert!(matches!(
            SslKey::from_pem(b"hello, world\nnot a key\n", key_type, None),
            Err(Error::NoKey)
        ));
    }
    // Only blocks of other kinds.
    let cert_only = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        SslKey::from_pem(cert_only, KeyType::PrivateKey, None),
        Err(Error::NoKey)
    ));
    expect_invalid(
        SslKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----\n",
            KeyType::PrivateKey,
            None,
        ),
        "base64",
    );
    expect_invalid(
        SslKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
            KeyType::PrivateKey,
            None,
        ),
        "empty",
    );

    let base = key_pem(KeyKind::Rsa2048);
    let text = String::from_utf8(base.clone()).unwrap();
    // No END line.
    let cut = &text[..text.len() / 2];
    expect_invalid(
        SslKey::from_pem(cut, KeyType::PrivateKey, None),
        "no '-----END",
    );
    // Base64 cut short (a whole line and a half dropped), END line kept.
    let lines: Vec<&str> = text.lines().collect();
    let mut short = lines[..lines.len() - 3].join("\n");
    short.truncate(short.len() - 20);
    short.push_str("\n-----END PRIVATE KEY-----\n");
    assert!(matches!(
        SslKey::from_pem(&short, KeyType::PrivateKey, None),
        Err(Error::InvalidKey { .. })
    ));
    // A broken block after the key does not hide it.
    let mut followed = base.clone();
    followed.extend_from_slice(b"-----BEGIN CERTIFICATE-----\nAAAA\n");
    assert_eq!(private_pem(&followed), private_pem(&base));
    // Mismatched END label.
    let wrong_end = text.replace("END PRIVATE KEY", "END RSA PRIVATE KEY");
    expect_invalid(
        SslKey::from_pem(&wrong_end, KeyType::PrivateKey, None),
        "not closed",
    );

    // DER given as PEM and the other way round.
    let dir = tmp();
    let der_data = convert(dir.path(), &base, PKCS8_DER.args);
    expect_invalid(
        SslKey::from_pem(&der_data, KeyType::PrivateKey, None),
        "EncodingFormat::Der",
    );
    expect_invalid(
        SslKey::from_der(&base, KeyType::PrivateKey, None),
        "EncodingFormat::Pem",
    );
    // Truncated DER.
    expect_invalid(
        SslKey::from_der(&der_data[..der_data.len() - 1], KeyType::PrivateKey, None),
        "truncated",
    );
    // A DER SEQUENCE that is no key.
    expect_invalid(
        SslKey::from_der([0x30, 0x03, 0x01, 0x01, 0xff], KeyType::PrivateKey, None),
        "not a known key structure",
    );
}

#[test]
fn tolerant_pem_reading() {
    let dir = tmp();
    let base = key_pem(KeyKind::EcP256);
    let expected = private_pem(&base);

    // CRLF line endings, text around the block, other blocks before it.
    let crlf = String::from_utf8(base.clone())
        .unwrap()
        .replace('\n', "\r\n");
    let params = openssl(&["ecparam", "-name", "prime256v1"], dir.path());
    let mut busy = b"Bag Attributes\n    friendlyName: server\n".to_vec();
    busy.extend_from_slice(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    busy.extend_from_slice(&params);
    busy.extend_from_slice(crlf.as_bytes());
    busy.extend_from_slice(b"trailing text\n");
    assert_eq!(private_pem(&busy), expected);
    assert_eq!(private_pem(crlf.as_bytes()), expected);

    // `openssl ecparam -genkey` writes EC PARAMETERS then EC PRIVATE KEY.
    let generated = openssl(&["ecparam", "-name", "secp384r1", "-genkey"], dir.path());
    assert_eq!(pem_label(&generated), "EC PARAMETERS");
    let key = private_pem(&generated);
    assert_eq!(key.curve_name(), Some("P-384"));

    // OpenSSH keys are recognised and refused with advice.
    let ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    assert!(matches!(
        SslKey::from_pem(ssh, KeyType::PrivateKey, None),
        Err(Error::UnsupportedKey { .. })
    ));
}

#[test]
fn from_path_reads_files() {
    let dir = tmp();
    let base = key_pem(KeyKind::Ed25519);
    let expected = private_pem(&base);
    let pem_path = dir.path().join("key.pem");
    let der_path = dir.path().join("key.der");
    std::fs::write(&pem_path, &base).unwrap();
    std::fs::write(&der_path, expected.to_der()).unwrap();
    let from_pem =
        SslKey::from_path(&pem_path, EncodingFormat::Pem, KeyType::PrivateKey, None).unwrap();
    let from_der =
        SslKey::from_path(&der_path, EncodingFormat::Der, KeyType::PrivateKey, None).unwrap();
    assert_eq!(from_pem, expected);
    assert_eq!(from_der, expected);
    let missing = dir.path().join("missing.pem");
    match SslKey::from_path(&missing, EncodingFormat::Pem, KeyType::PrivateKey, None) {
        Err(Error::File { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Error::File, got {other:?}"),
    }
}

#[test]
fn debug_never_shows_key_material() {
    for kind in [
        KeyKind::Rsa2048,
        KeyKind::EcP256,
        KeyKind::Ed25519,
        KeyKind::Dsa2048,
    ] {
        let key = private_pem(&key_pem(kind));
        let debug = format!("{key:?} {key:#?}").to_lowercase();
        let der = key.to_der();
        // No 4-byte run of the key, in hex or as a decimal list.
        for window in der.windows(4) {
            let hex: String = window.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!debug.contains(&hex), "{debug}");
            let list = format!("{}, {}, {}, {}", window[0], window[1], window[2], window[3]);
            assert!(!debug.contains(&list), "{debug}");
        }
        assert!(debug.len() < 250, "{debug}");
        assert!(debug.contains(&format!("{:?}", key.algorithm()).to_lowercase()));
    }
}

// ---------------------------------------------------------------------------
// Robustness: truncations, mutations and random bytes never panic.

/// A small deterministic generator, so that a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn try_everything(data: &[u8], passphrase: Option<&[u8]>) {
    for key_type in [KeyType::PrivateKey, KeyType::PublicKey] {
        for format in [EncodingFormat::Pem, EncodingFormat::Der] {
            if let Ok(key) = SslKey::from_data(data, format, key_type, passphrase) {
                // Whatever loads must be usable.
                let _ = key.public_key();
                let _ = key.to_pem(None);
                let _ = format!("{key:?}");
            }
        }
    }
}

fn all_forms(dir: &Path) -> Vec<(Vec<u8>, Option<&'static [u8]>)> {
    let mut forms = Vec::new();
    let cases: &[(KeyKind, &[&[&str]])] = &[
        (
            KeyKind::Rsa2048,
            &[
                PKCS8_DER.args,
                SPKI_DER.args,
                &["rsa", "-traditional", "-outform", "DER"],
                &["rsa", "-RSAPublicKey_out", "-outform", "DER"],
            ],
        ),
        (
            KeyKind::EcP256,
            &[
                PKCS8_DER.args,
                SPKI_DER.args,
                &["ec", "-outform", "DER"],
                &["ec", "-no_public", "-outform", "DER"],
            ],
        ),
        (KeyKind::Ed25519, &[PKCS8_DER.args, SPKI_DER.args]),
        (
            KeyKind::Dsa2048,
            &[PKCS8_DER.args, SPKI_DER.args, &["dsa", "-outform", "DER"]],
        ),
        (KeyKind::DhFfdhe2048, &[PKCS8_DER.args, SPKI_DER.args]),
    ];
    for (kind, args_list) in cases {
        let base = key_pem(*kind);
        forms.push((base.clone(), None));
        for args in *args_list {
            forms.push((convert(dir, &base, args), None));
        }
    }
    let rsa = key_pem(KeyKind::Rsa2048);
    forms.push((
        convert(
            dir,
            &rsa,
            &[
                "pkcs8", "-topk8", "-v2", "des3", "-outform", "DER", "-passout", PASS_ARG,
            ],
        ),
        Some(PASS.as_bytes()),
    ));
    forms.push((
        convert(
            dir,
            &rsa,
            &["rsa", "-aes128", "-traditional", "-passout", PASS_ARG],
        ),
        Some(PASS.as_bytes()),
    ));
    forms
}

#[test]
fn truncations_never_panic() {
    let dir = tmp();
    for (data, passphrase) in all_forms(dir.path()) {
        // Every prefix of the unencrypted forms; encrypted ones cost a key
        // derivation per attempt, so only a sample of their prefixes.
        let step = if passphrase.is_some() { 37 } else { 1 };
        for len in (0..data.len()).step_by(step) {
            try_everything(&data[..len], passphrase);
            try_everything(&data[..len], None);
        }
    }
}

#[test]
fn mutations_and_random_bytes_never_panic() {
    let dir = tmp();
    let mut rng = XorShift(0x5eed_1234_abcd_ef01);
    for (data, passphrase) in all_forms(dir.path()) {
        let rounds = if passphrase.is_some() { 40 } else { 400 };
        for _ in 0..rounds {
            let mut mutated = data.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(mutated.len());
                match rng.below(3) {
                    0 => mutated[at] = rng.next() as u8,
                    1 => mutated[at] ^= 1 << rng.below(8),
                    _ => {
                        mutated.remove(at);
                    }
                }
            }
            try_everything(&mutated, passphrase);
        }
    }
    for _ in 0..2000 {
        let len = rng.below(300);
        let mut random: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half of them start like a DER SEQUENCE to get past the first check.
        if len > 2 && rng.below(2) == 0 {
            random[0] = 0x30;
            random[1] = (len - 2).min(127) as u8;
        }
        try_everything(&random, None);
        try_everything(&random, Some(b"x"));
    }
}
