//! Async socket pairs for the tokio tests: over an in-memory
//! `tokio::io::duplex` pipe, or over 127.0.0.1.
#![cfg(feature = "tokio")]

use super::pki::AsSslCertificate;
use sslsocket::tokio::SslSocket;
use tokio::io::DuplexStream;
use tokio::net::{TcpListener, TcpStream};

use super::memory::{TestPki, WAIT};

/// A client and a server over a duplex pipe holding `capacity` bytes per
/// direction, in client and server mode (handshakes started, not driven).
pub fn started_pair(
    pki: &TestPki,
    capacity: usize,
) -> (SslSocket<DuplexStream>, SslSocket<DuplexStream>) {
    let (client_end, server_end) = tokio::io::duplex(capacity);
    let mut client =
        SslSocket::from_stream_with_configuration(client_end, pki.client_configuration());
    client
        .start_client_encryption()
        .expect("client handshake starts");
    let mut server =
        SslSocket::from_stream_with_configuration(server_end, pki.server_configuration());
    server
        .start_server_encryption()
        .expect("server handshake starts");
    (client, server)
}

/// [`started_pair`], encrypted.
pub async fn encrypted_pair(
    pki: &TestPki,
    capacity: usize,
) -> (SslSocket<DuplexStream>, SslSocket<DuplexStream>) {
    let (mut client, mut server) = started_pair(pki, capacity);
    let (c, s) = tokio::join!(
        client.wait_for_encrypted(Some(WAIT)),
        server.wait_for_encrypted(Some(WAIT))
    );
    c.expect("client handshake");
    s.expect("server handshake");
    (client, server)
}

/// A listener on 127.0.0.1 and its port.
pub async fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// A client and a server over 127.0.0.1, encrypted.
pub async fn tcp_pair(pki: &TestPki) -> (SslSocket<TcpStream>, SslSocket<TcpStream>) {
    let (listener, port) = listen().await;
    let mut client = SslSocket::new();
    client.set_ca_certificates(vec![pki.root.certificate()]);
    client.connect_to_host_encrypted("localhost", port);
    let accept = async {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut server =
            SslSocket::from_stream_with_configuration(stream, pki.server_configuration());
        server
            .start_server_encryption()
            .expect("server handshake starts");
        server.wait_for_encrypted(Some(WAIT)).await.map(|()| server)
    };
    let (c, s) = tokio::join!(client.wait_for_encrypted(Some(WAIT)), accept);
    c.expect("client handshake");
    (client, s.expect("server handshake"))
}
