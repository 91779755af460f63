//! A first end-to-end exchange over 127.0.0.1 between two of our sockets.

mod common;

use common::pki::AsSslCertificate;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::pki::{Identity, LeafSpec};
use sslsocket::{Event, KeyExchangeGroup, KeyType, SslKey, SslMode, SslProtocol, SslSocket};

#[test]
fn client_and_server_talk() {
    let root = Identity::new("Smoke Root");
    let server_id = root.leaf(&LeafSpec {
        common_name: "localhost",
        dns: &["localhost"],
        ips: &["127.0.0.1"],
        ..LeafSpec::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let chain = vec![server_id.certificate()];
    let key = SslKey::from_pem(server_id.key_pem(), KeyType::PrivateKey, None).unwrap();

    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut socket = SslSocket::from_stream(stream);
        socket
            .ssl_configuration_mut()
            .set_local_identity(chain, key)
            .unwrap();
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        socket
            .wait_for_encrypted(Some(Duration::from_secs(10)))
            .unwrap();
        socket
            .wait_for_ready_read(Some(Duration::from_secs(10)))
            .unwrap();
        let line = socket.read_line(1024);
        socket.write_all(&line).unwrap();
        socket.disconnect_from_host();
        line
    });

    let keys = tempfile::TempDir::new().unwrap();
    let key_log = keys.path().join("keys.log");
    let mut client = SslSocket::new();
    client.set_ca_certificates(vec![root.certificate()]);
    client
        .ssl_configuration_mut()
        .set_dangerous_key_log_file(Some(key_log.clone()));
    client.connect_to_host_encrypted("localhost", port);
    client.write_data(b"hello over TLS\n").unwrap();
    client
        .wait_for_encrypted(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(client.mode(), SslMode::SslClientMode);
    assert_eq!(client.session_protocol(), SslProtocol::TlsV1_3);
    assert!(client.session_cipher().is_some());
    assert!(
        matches!(
            client.key_exchange_group(),
            Some(KeyExchangeGroup::X25519 | KeyExchangeGroup::X25519MlKem768)
        ),
        "{:?}",
        client.key_exchange_group()
    );
    let logged = std::fs::read_to_string(&key_log).unwrap();
    assert!(
        logged
            .lines()
            .any(|l| l.starts_with("CLIENT_TRAFFIC_SECRET_0 ")),
        "{logged}"
    );
    client.flush().unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "hello over TLS\n");
    assert_eq!(server.join().unwrap(), b"hello over TLS\n");
    let events: Vec<Event> = client.events().collect();
    assert!(events.contains(&Event::Encrypted), "{events:?}");
}
