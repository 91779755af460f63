//! The tokio `SslServer` over 127.0.0.1: a thousand handshakes at once,
//! slow clients that hold up nobody, STARTTLS through the plain mode,
//! failed clients as events, and what closing the server does.
#![cfg(feature = "tokio")]

mod common;

use common::pki::AsSslCertificate;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::memory::{TestPki, WAIT};
use sslsocket::server::{ServerEvent, ServerMode, DEFAULT_HANDSHAKE_TIMEOUT};
use sslsocket::tokio::{SslServer, SslSocket};
use sslsocket::verify::PeerVerifyDecision;
use sslsocket::{Error, KeyType, PeerVerifyMode, SslConfiguration, SslErrorCode, SslKey, SslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;

async fn listening(configuration: SslConfiguration) -> (SslServer, u16) {
    let mut server = SslServer::new(configuration).unwrap();
    server.listen("127.0.0.1:0").await.unwrap();
    let port = server.local_address().unwrap().port();
    (server, port)
}

/// A client trusting the test root, connecting to 127.0.0.1 (an IP
/// literal: no name look-up per connection).
fn client(pki: &TestPki, port: u16) -> SslSocket {
    let mut socket = SslSocket::new();
    socket.set_ca_certificates(vec![pki.root.certificate()]);
    socket.connect_to_host_encrypted("127.0.0.1", port);
    socket
}

/// Sends `line`, returns the reply line.
async fn exchange(mut socket: SslSocket, line: String) -> sslsocket::Result<Vec<u8>> {
    socket.write_data(line.as_bytes())?;
    socket.wait_for_encrypted(Some(WAIT)).await?;
    let reply = socket.read_line(4096).await?;
    socket.disconnect_from_host().await;
    Ok(reply)
}

/// The server side of [`exchange`]: echoes one line.
async fn echo(mut socket: SslSocket) -> sslsocket::Result<()> {
    let line = socket.read_line(4096).await?;
    socket.write_all(&line).await?;
    socket.disconnect_from_host().await;
    Ok(())
}

/// Waits (at most `WAIT`) for the server's next event.
async fn next_event(server: &mut SslServer) -> ServerEvent {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(event) = server.next_event() {
            return event;
        }
        assert!(Instant::now() < deadline, "no server event within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The soft limit on open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    soft.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_handshakes_at_once() {
    const WANTED: usize = 1000;
    // Each connection takes two descriptors here (client and server end),
    // plus a few for the runtime and the test harness.
    let connections = match open_files_limit() {
        Some(limit) if limit < (2 * WANTED + 64) as u64 => {
            let fit = (limit.saturating_sub(64) / 2) as usize;
            eprintln!(
                "the open-files limit is {limit}: running {fit} connections instead of \
                 {WANTED} (each needs 2 descriptors in this process); raise it with \
                 `ulimit -n` to run them all"
            );
            fit
        }
        _ => WANTED,
    };
    // Generous: two cores doing every handshake of both sides, unoptimised.
    // This test is about concurrency and correctness, not speed.
    let load_wait = Some(Duration::from_secs(120));

    let pki = TestPki::new();
    let (mut server, port) = listening(pki.server_configuration()).await;
    server.set_max_pending_connections(connections);
    server.set_max_concurrent_handshakes(connections);
    server.set_handshake_timeout(load_wait);
    // The clients connect, then all wait for the last before saying hello.
    server.set_client_hello_timeout(load_wait);
    let serving = tokio::spawn(async move {
        let mut echoes = JoinSet::new();
        let mut peak = 0;
        for _ in 0..connections {
            let socket = server.accept(load_wait).await?;
            assert!(socket.is_encrypted());
            peak = peak.max(server.handshakes_in_progress() + 1);
            echoes.spawn(echo(socket));
        }
        while let Some(done) = echoes.join_next().await {
            done.expect("echo task")?;
        }
        let failures: Vec<String> = server.events().map(|e| format!("{e:?}")).collect();
        Ok::<_, Error>((peak, failures))
    });

    // Every client connects first; then all start their handshakes together.
    let start = Arc::new(tokio::sync::Barrier::new(connections));
    let mut clients = JoinSet::new();
    for i in 0..connections {
        let mut socket = client(&pki, port);
        let start = start.clone();
        clients.spawn(async move {
            socket.wait_for_connected(load_wait).await?;
            start.wait().await;
            let line = format!("client {i} says {}\n", "x".repeat(i % 97));
            let reply = exchange(socket, line.clone()).await?;
            Ok::<_, Error>(reply == line.as_bytes())
        });
    }
    let mut verified = 0;
    while let Some(done) = clients.join_next().await {
        assert!(
            done.expect("client task").expect("client"),
            "an echo came back changed"
        );
        verified += 1;
    }
    let (peak, failures) = serving.await.unwrap().expect("server");
    assert_eq!(verified, connections);
    assert!(failures.is_empty(), "{failures:?}");
    eprintln!("{connections} connections verified; up to {peak} handshaking at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_hold_up_nobody() {
    let pki = TestPki::new();
    let (mut server, port) = listening(pki.server_configuration()).await;
    assert_eq!(server.handshake_timeout(), Some(DEFAULT_HANDSHAKE_TIMEOUT));
    assert_eq!(DEFAULT_HANDSHAKE_TIMEOUT, Duration::from_secs(5));
    server.set_handshake_timeout(Some(Duration::from_secs(3)));

    // Five clients that connect and say nothing, and one that sends the
    // first bytes of a record and then nothing.
    let mut slow = Vec::new();
    for _ in 0..5 {
        slow.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    let mut trickle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    trickle.write_all(&[22, 3, 1]).await.unwrap();
    slow.push(trickle);
    // Nobody is ready yet; the server has taken them all and is waiting.
    match server.accept(Some(Duration::from_millis(200))).await {
        Err(Error::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.handshakes_in_progress(), 6);

    // A good client behind them is served at once.
    let good = tokio::spawn(exchange(client(&pki, port), "hello\n".to_owned()));
    let socket = server.accept(Some(WAIT)).await.expect("the good client");
    assert!(socket.is_encrypted());
    assert_eq!(socket.mode(), SslMode::SslServerMode);
    // The slow ones are still waiting for their timeout: the good client
    // did not wait for them.
    assert_eq!(server.handshakes_in_progress(), 6);
    assert!(server.next_event().is_none());
    echo(socket).await.unwrap();
    assert_eq!(good.await.unwrap().unwrap(), b"hello\n");

    // Then each slow client is dropped and reported.
    let mut timed_out = Vec::new();
    while timed_out.len() < 6 {
        match next_event(&mut server).await {
            ServerEvent::HandshakeFailed {
                peer,
                error: Error::Timeout { .. },
            } => timed_out.push(peer),
            other => panic!("{other:?}"),
        }
    }
    timed_out.sort();
    let mut expected: Vec<SocketAddr> = slow.iter().map(|s| s.local_addr().unwrap()).collect();
    expected.sort();
    assert_eq!(timed_out, expected);
    assert_eq!(server.handshakes_in_progress(), 0);
    for mut stream in slow {
        let mut rest = Vec::new();
        let closed = timeout(WAIT, stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "a dropped client's connection is closed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_mode_hands_out_sockets_for_starttls() {
    let pki = TestPki::new();
    let (mut server, port) = listening(pki.server_configuration()).await;
    server.set_mode(ServerMode::Plain);
    assert_eq!(server.mode(), ServerMode::Plain);

    let client = tokio::spawn({
        let root = pki.root.certificate();
        async move {
            let mut socket = SslSocket::new();
            socket.set_ca_certificates(vec![root]);
            socket.connect_to_host("localhost", port);
            socket.wait_for_connected(Some(WAIT)).await?;
            socket.write_all(b"STARTTLS\n").await?;
            assert_eq!(socket.read_line(100).await?, b"GO\n");
            socket.start_client_encryption()?;
            socket.wait_for_encrypted(Some(WAIT)).await?;
            socket.write_all(b"secret\n").await?;
            let reply = socket.read_line(100).await?;
            socket.disconnect_from_host().await;
            Ok::<_, Error>(reply)
        }
    });
    let mut socket = server.accept(Some(WAIT)).await.unwrap();
    assert_eq!(socket.mode(), SslMode::UnencryptedMode);
    assert!(!socket.is_encrypted());
    assert_eq!(socket.read_line(100).await.unwrap(), b"STARTTLS\n");
    socket.write_all(b"GO\n").await.unwrap();
    // The server's identity is installed: the handshake can start.
    socket.start_server_encryption().unwrap();
    socket.wait_for_encrypted(Some(WAIT)).await.unwrap();
    let line = socket.read_line(100).await.unwrap();
    socket.write_all(&line.to_ascii_uppercase()).await.unwrap();
    assert_eq!(client.await.unwrap().unwrap(), b"SECRET\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_clients_are_events_and_accept_goes_on() {
    let pki = TestPki::new();
    let mut configuration = pki.server_configuration();
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    configuration.set_ca_certificates(vec![pki.root.certificate()]);
    let (mut server, port) = listening(configuration).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    server.on_peer_verify_error(move |peer, error| {
        record.lock().unwrap().push((peer, error.code()));
        PeerVerifyDecision::Continue
    });

    // A client speaking plain HTTP.
    let mut plaintext = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let plaintext_address = plaintext.local_addr().unwrap();
    plaintext
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    // A client with a certificate from a root the server does not trust.
    let stranger = TestPki::new();
    let untrusted = stranger.client_identity("mallory");
    let mut mallory = client(&pki, port);
    let key = SslKey::from_pem(untrusted.key_pem(), KeyType::PrivateKey, None).unwrap();
    mallory
        .ssl_configuration_mut()
        .set_local_identity(vec![untrusted.certificate()], key)
        .unwrap();
    let mallory = tokio::spawn(async move {
        // The address goes with the connection: read it while connected.
        mallory.wait_for_connected(Some(WAIT)).await.unwrap();
        let address = mallory.local_address();
        let _ = mallory.wait_for_encrypted(Some(WAIT)).await;
        let _ = mallory.wait_for_ready_read(Some(WAIT)).await;
        assert_eq!(mallory.local_address(), None, "closed after the failure");
        address
    });
    // Nobody acceptable yet.
    match server.accept(Some(Duration::from_millis(300))).await {
        Err(Error::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }

    // A good client is accepted all the same.
    let alice = pki.client_identity("alice");
    let mut good = client(&pki, port);
    let key = SslKey::from_pem(alice.key_pem(), KeyType::PrivateKey, None).unwrap();
    good.ssl_configuration_mut()
        .set_local_identity(vec![alice.certificate()], key)
        .unwrap();
    let good = tokio::spawn(exchange(good, "alice\n".to_owned()));
    let socket = server.accept(Some(WAIT)).await.unwrap();
    assert_eq!(socket.peer_certificate(), Some(alice.certificate()));
    echo(socket).await.unwrap();
    assert_eq!(good.await.unwrap().unwrap(), b"alice\n");

    let mallory_address = mallory.await.unwrap();
    let mut failed = Vec::new();
    let mut verify_errors = Vec::new();
    while failed.len() < 2 {
        match next_event(&mut server).await {
            ServerEvent::HandshakeFailed { peer, error } => failed.push((peer, error)),
            ServerEvent::PeerVerifyError { peer, error } => verify_errors.push((peer, error)),
            other => panic!("{other:?}"),
        }
    }
    let plain_failure = failed.iter().find(|(peer, _)| *peer == plaintext_address);
    assert!(
        matches!(plain_failure, Some((_, Error::HandshakeFailed(_)))),
        "{failed:?}"
    );
    let mallory_failure = failed
        .iter()
        .find(|(peer, _)| Some(*peer) == mallory_address)
        .expect("mallory's failure");
    match &mallory_failure.1 {
        Error::VerificationFailed { errors } => assert!(!errors.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(!verify_errors.is_empty());
    assert!(verify_errors
        .iter()
        .all(|(peer, _)| Some(*peer) == mallory_address));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), verify_errors.len());
    assert!(seen
        .iter()
        .any(|(_, code)| *code != SslErrorCode::NoPeerCertificate));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_only_its_client() {
    let pki = TestPki::new();
    let mut configuration = pki.server_configuration();
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    let (mut server, port) = listening(configuration).await;
    server.on_peer_verify_error(|_, _| panic!("a handler that panics"));
    let mut anonymous = client(&pki, port);
    let anonymous = tokio::spawn(async move {
        let _ = anonymous.wait_for_encrypted(Some(WAIT)).await;
        let _ = anonymous.wait_for_ready_read(Some(WAIT)).await;
    });
    // Connections are taken (and their handshakes started) while accept waits.
    match server.accept(Some(Duration::from_millis(300))).await {
        Err(Error::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }
    loop {
        match next_event(&mut server).await {
            // Reported before the handler runs.
            ServerEvent::PeerVerifyError { error, .. } => {
                assert_eq!(error.code(), SslErrorCode::NoPeerCertificate);
            }
            ServerEvent::HandshakeFailed {
                error: Error::InvalidState { reason, .. },
                ..
            } => {
                assert!(reason.contains("panicked"), "{reason}");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    anonymous.await.unwrap();
    assert!(server.is_listening());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_server_cancels_its_handshakes() {
    let pki = TestPki::new();
    let (mut server, port) = listening(pki.server_configuration()).await;
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(server
        .accept(Some(Duration::from_millis(100)))
        .await
        .is_err());
    assert_eq!(server.handshakes_in_progress(), 1);
    server.close();
    assert!(!server.is_listening());
    assert_eq!(server.handshakes_in_progress(), 0);
    // The cancelled handshake's socket is gone, and its connection with it.
    let mut rest = Vec::new();
    let closed = timeout(WAIT, silent.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was left open");
    assert!(server.next_event().is_none());
    match server.accept(Some(WAIT)).await {
        Err(Error::InvalidState { .. }) => {}
        other => panic!("{other:?}"),
    }

    // Dropping the server does the same.
    let (server, port) = listening(pki.server_configuration()).await;
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut server = server;
    assert!(server
        .accept(Some(Duration::from_millis(100)))
        .await
        .is_err());
    drop(server);
    let closed = timeout(WAIT, silent.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was left open");
}

#[tokio::test]
async fn listening_and_configuration_errors() {
    let pki = TestPki::new();
    // A server needs an identity.
    assert!(SslServer::new(SslConfiguration::new()).is_err());
    let (mut server, _) = listening(pki.server_configuration()).await;
    assert!(server.listen("127.0.0.1:0").await.is_err());
    let taken = server.local_address().unwrap();
    let mut other = SslServer::new(pki.server_configuration()).unwrap();
    assert!(other.listen(taken).await.is_err());
    assert!(!other.is_listening());
    match other.accept(Some(WAIT)).await {
        Err(Error::InvalidState { .. }) => {}
        other => panic!("{other:?}"),
    }
    match server.accept(Some(Duration::from_millis(50))).await {
        Err(Error::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(server
        .set_ssl_configuration(SslConfiguration::new())
        .is_err());
    assert!(server.next_pending_connection().is_none());
    assert!(!server.has_pending_connections());
}
