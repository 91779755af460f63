//! Keys in every container (PKCS #8, encrypted PKCS #8, PKCS #1, SEC 1,
//! SubjectPublicKeyInfo, OpenSSL's encrypted PEM, DSA, DH), PEM or DER,
//! private or public, with or without a passphrase taken from the input.
//!
//! Layout: one byte of flags (bit 0 PEM, bit 1 public, bit 2 a passphrase),
//! with a passphrase one byte of length and the passphrase, then the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sslsocket::{EncodingFormat, KeyType, SslKey};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let format = if flags & 1 != 0 {
        EncodingFormat::Pem
    } else {
        EncodingFormat::Der
    };
    let key_type = if flags & 2 != 0 {
        KeyType::PublicKey
    } else {
        KeyType::PrivateKey
    };
    let (passphrase, key) = if flags & 4 != 0 {
        let Some((&length, rest)) = rest.split_first() else {
            return;
        };
        let length = usize::from(length).min(rest.len());
        let (passphrase, key) = rest.split_at(length);
        (Some(passphrase), key)
    } else {
        (None, rest)
    };
    let Ok(read) = SslKey::from_data(key, format, key_type, passphrase) else {
        return;
    };
    let _ = (
        read.algorithm(),
        read.key_type(),
        read.length(),
        read.curve_name(),
    );
    let der = read.to_der();
    let again = SslKey::from_der(&der, read.key_type(), None).expect("our own DER reads back");
    assert_eq!(again.to_der(), der, "DER round trip changed the key");
    if let Ok(pem) = read.to_pem(None) {
        let again = SslKey::from_pem(pem.as_bytes(), read.key_type(), None)
            .expect("our own PEM reads back");
        assert_eq!(again.to_der(), der, "PEM round trip changed the key");
    }
    if let Ok(public) = read.public_key() {
        assert_eq!(public.algorithm(), read.algorithm());
        assert_eq!(public.key_type(), KeyType::PublicKey);
    }
});
