//! Writes the seed corpora: real certificates, keys, lists, chains and
//! dialogues made at run time, in each target's input layout.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds -- fuzz/corpus`

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use sslsocket::{KeyType, SslKey};
use sslsocket_test_pki::{days_from_now, Identity, KeyKind, LeafSpec};

/// Where `verify_chain`'s four bytes of time count from (2020-01-01).
const EPOCH: u64 = 1_577_836_800;

struct Corpus {
    root: PathBuf,
}

impl Corpus {
    fn add(&self, target: &str, name: &str, seed: impl AsRef<[u8]>) {
        let directory = self.root.join(target);
        std::fs::create_dir_all(&directory).expect("create the corpus directory");
        std::fs::write(directory.join(name), seed).expect("write a seed");
    }
}

fn with_prefix(prefix: &[u8], rest: impl AsRef<[u8]>) -> Vec<u8> {
    [prefix, rest.as_ref()].concat()
}

fn item(der: &[u8]) -> Vec<u8> {
    let length = u16::try_from(der.len()).expect("a seed item fits in 64 KiB");
    [&length.to_be_bytes()[..], der].concat()
}

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let corpus = Corpus { root };

    let ca = Identity::new("Seed Root");
    let intermediate = ca.intermediate("Seed Intermediate");
    let mut leaves = Vec::new();
    for (index, kind) in KeyKind::ALL.into_iter().enumerate() {
        let leaf = intermediate.leaf(&LeafSpec {
            common_name: "seed.sslsocket.test",
            dns: &["seed.sslsocket.test", "*.wild.sslsocket.test"],
            ips: &["127.0.0.1", "::1"],
            emails: &["seed@sslsocket.test"],
            uris: &["https://seed.sslsocket.test/"],
            key: kind,
            ..LeafSpec::default()
        });
        corpus.add("certificate", &format!("leaf-{index}.der"), leaf.der());
        corpus.add("certificate", &format!("leaf-{index}.pem"), leaf.pem());
        corpus.add(
            "cli_inputs",
            &format!("cert-{index}"),
            with_prefix(b"\x02", leaf.pem()),
        );
        leaves.push(leaf);
    }
    let bundle = sslsocket_test_pki::pem_bundle(&[&leaves[0], &intermediate, &ca]);
    corpus.add("certificate", "bundle.pem", &bundle);
    corpus.add("certificate", "root.der", ca.der());

    // Keys: every kind, PKCS #8 DER and PEM, encrypted PEM, public keys.
    for (index, leaf) in leaves.iter().enumerate() {
        let key = SslKey::from_der(leaf.key_der(), KeyType::PrivateKey, None).expect("a key");
        corpus.add(
            "key",
            &format!("pkcs8-{index}.der"),
            with_prefix(&[0], key.to_der()),
        );
        let pem = key.to_pem(None).expect("PEM");
        corpus.add(
            "key",
            &format!("pkcs8-{index}.pem"),
            with_prefix(&[1], &pem),
        );
        let encrypted = key.to_pem(Some(b"seed")).expect("encrypted PEM");
        corpus.add(
            "key",
            &format!("encrypted-{index}.pem"),
            with_prefix(&[1 | 4, 4], [&b"seed"[..], encrypted.as_bytes()].concat()),
        );
        corpus.add(
            "cli_inputs",
            &format!("key-{index}"),
            with_prefix(b"\x03seed\n\x00", &encrypted),
        );
        corpus.add(
            "key",
            &format!("public-{index}.der"),
            with_prefix(&[2], leaf.public_key_der()),
        );
    }

    // Revocation lists.
    let list = CertificateRevocationListParams {
        this_update: days_from_now(-1),
        next_update: days_from_now(30),
        crl_number: SerialNumber::from(7u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&[1, 2, 3]),
            revocation_time: days_from_now(-1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&intermediate.issuer())
    .expect("rcgen signs the list");
    corpus.add("crl", "list.der", list.der());
    let list_pem = list.pem().expect("the list in PEM");
    corpus.add("crl", "list.pem", &list_pem);
    corpus.add("cli_inputs", "crl", with_prefix(b"\x04", &list_pem));

    // Chains for verify_chain: a good one, one for the wrong name, one
    // with a list, one with the chain out of order.
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        - EPOCH;
    let header = |flags: u8, host: &str, counts: u8| {
        let mut header = vec![flags, 9];
        header.extend_from_slice(&u32::try_from(seconds).expect("before 2156").to_be_bytes());
        header.push(u8::try_from(host.len()).expect("a short host name"));
        header.extend_from_slice(host.as_bytes());
        header.push(counts);
        header
    };
    for (index, leaf) in leaves.iter().enumerate() {
        let chain = [
            item(&ca.der()),
            item(&leaf.der()),
            item(&intermediate.der()),
        ]
        .concat();
        corpus.add(
            "verify_chain",
            &format!("good-{index}"),
            [header(0, "seed.sslsocket.test", 1), chain.clone()].concat(),
        );
        corpus.add(
            "verify_chain",
            &format!("wrong-name-{index}"),
            [header(2, "other.sslsocket.test", 1), chain].concat(),
        );
    }
    corpus.add(
        "verify_chain",
        "with-list",
        [
            header(4, "x.wild.sslsocket.test", 0x11),
            item(&ca.der()),
            item(list.der()),
            item(&leaves[0].der()),
            item(&intermediate.der()),
        ]
        .concat(),
    );
    corpus.add(
        "verify_chain",
        "out-of-order",
        [
            header(1, "", 1),
            item(&ca.der()),
            item(&intermediate.der()),
            item(&leaves[1].der()),
            item(&ca.der()),
        ]
        .concat(),
    );

    // Lists and patterns (the first byte picks the parser).
    for (name, seed) in [
        ("ciphers", &b"\x00ECDHE+AESGCM:!SHA1:@STRENGTH"[..]),
        (
            "ciphers-tls13",
            b"\x00TLS_AES_128_GCM_SHA256:ECDHE-RSA-CHACHA20-POLY1305",
        ),
        ("cipher", b"\x01ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("groups", b"\x02X25519MLKEM768:X25519, P-256:secp384r1"),
        ("enums", b"\x03TlsV1_2OrLater"),
        ("wildcard", b"\x04sub/*.pem"),
        ("wildcard-class", b"\x04[a-c].[!x]*"),
        ("regex", b"\x05sub/(deeper/)?[a-z]+\\.pem"),
    ] {
        corpus.add("patterns", name, seed);
    }

    // STARTTLS: each protocol's dialogue as the server answers a client
    // (first byte: protocol) and as a client speaks to a server (bit 7),
    // the client's followed by a real ClientHello.
    let hello = client_hello();
    for (index, (server_says, client_says)) in [
        (
            &b"220 seed ESMTP\r\n250-seed\r\n250 STARTTLS\r\n220 go ahead\r\n"[..],
            &b"EHLO seed\r\nSTARTTLS\r\n"[..],
        ),
        (b"* OK ready\r\na OK begin\r\n", b"a STARTTLS\r\n"),
        (b"+OK ready\r\n+OK begin\r\n", b"STLS\r\n"),
        (b"220 ready\r\n234 AUTH TLS ok\r\n", b"AUTH TLS\r\n"),
        (
            b"<?xml version='1.0'?><stream:stream from='seed' version='1.0'><stream:features>\
              <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features><proceed/>",
            b"<?xml version='1.0'?><stream:stream to='seed' version='1.0'>\
              <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        ),
        (b"S", b"\x00\x00\x00\x08\x04\xd2\x16\x2f"),
    ]
    .into_iter()
    .enumerate()
    {
        let protocol = u8::try_from(index).expect("six protocols");
        corpus.add(
            "starttls",
            &format!("client-{index}"),
            with_prefix(&[protocol], server_says),
        );
        corpus.add(
            "starttls",
            &format!("server-{index}"),
            with_prefix(&[protocol | 0x80], [client_says, &hello].concat()),
        );
    }

    // Command lines (NUL-separated) and option values.
    for (name, seed) in [
        (
            "connect",
            &b"\x00connect\x00localhost:8443\x00--starttls\x00smtp\x00--json"[..],
        ),
        (
            "serve",
            b"\x00serve\x00--cert\x00a.pem\x00--key\x00a.key\x00--max-handshakes\x0010",
        ),
        (
            "verify",
            b"\x00verify\x00chain.pem\x00--ca\x00root.pem\x00--crl\x00l.pem",
        ),
        ("protocol", b"\x01TlsV1_3"),
        ("seconds", b"\x012.5"),
        ("alpn", b"\x01h2, http/1.1"),
    ] {
        corpus.add("cli_inputs", name, seed);
    }

    println!("seeds written to {}", corpus.root.display());
}

/// A ClientHello as rustls sends it, offering TLS 1.3 and 1.2.
fn client_hello() -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    let ca = Identity::new("Hello Root");
    roots
        .add(rustls::pki_types::CertificateDer::from(ca.der()))
        .expect("a trust anchor");
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("fuzz.sslsocket.test").expect("a name");
    let mut client =
        rustls::ClientConnection::new(std::sync::Arc::new(config), name).expect("a client");
    let mut hello = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut hello).expect("into a Vec");
    }
    hello
}
