//! The async socket where it differs from the blocking one: the event
//! stream, `AsyncRead`/`AsyncWrite` (split, bounded buffering, end of
//! stream), cancellation, and what dropping a socket does. Its shared
//! behaviour is checked by the scenarios in `tokio_scenarios.rs`.
#![cfg(feature = "tokio")]

mod common;

use common::pki::AsSslCertificate;
use std::time::Duration;

use common::memory::{TestPki, WAIT};
use common::scenarios::{close_notify_received, close_notify_sent, milestones, pattern};
use common::tokio_pairs::{encrypted_pair, listen, started_pair, tcp_pair};
use sslsocket::tokio::{SslServer, SslSocket};
use sslsocket::{Error, Event, SocketError, SocketState, SslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// A short wait that is expected to run out.
const SHORT: Duration = Duration::from_millis(100);

#[test]
fn sockets_and_servers_can_move_between_tasks() {
    fn assert_send<T: Send>() {}
    assert_send::<SslSocket>();
    assert_send::<SslSocket<tokio::io::DuplexStream>>();
    assert_send::<SslServer>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_drives_the_connection_and_ends_with_it() {
    let pki = TestPki::new();
    let (listener, port) = listen().await;
    let server_configuration = pki.server_configuration();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = SslSocket::from_stream_with_configuration(stream, server_configuration);
        socket.start_server_encryption().unwrap();
        socket.wait_for_encrypted(Some(WAIT)).await.unwrap();
        socket.write_all(b"hello\n").await.unwrap();
        socket.disconnect_from_host().await;
    });

    let mut client = SslSocket::new();
    client.set_ca_certificates(vec![pki.root.certificate()]);
    client.connect_to_host_encrypted("localhost", port);
    client.write_data(b"queued\n").unwrap();
    let mut seen = Vec::new();
    let mut events = client.events();
    while let Some(event) = timeout(WAIT, events.next()).await.expect("events in time") {
        seen.push(event);
    }
    // The stream ended because the connection did.
    assert_eq!(client.state(), SocketState::UnconnectedState);
    let milestones = milestones(&seen);
    assert_eq!(
        milestones[..6],
        [
            Event::StateChanged(SocketState::HostLookupState),
            Event::StateChanged(SocketState::ConnectingState),
            Event::StateChanged(SocketState::ConnectedState),
            Event::Connected,
            Event::ModeChanged(SslMode::SslClientMode),
            Event::Encrypted,
        ]
    );
    assert!(seen.contains(&Event::ReadyRead), "{seen:?}");
    assert!(seen.contains(&Event::BytesWritten(7)), "{seen:?}");
    let received_at = milestones
        .iter()
        .position(|e| *e == close_notify_received());
    assert!(received_at.is_some(), "{milestones:?}");
    assert_eq!(milestones.last(), Some(&Event::Disconnected));
    // What arrived is still there to read.
    assert_eq!(client.read_line(100).await.unwrap(), b"hello\n");
    assert_eq!(client.read_line(100).await.unwrap(), b"");
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_socket_reads_and_writes_at_the_same_time() {
    let pki = TestPki::new();
    let (client, server) = tcp_pair(&pki).await;
    let up = pattern(2 << 20);
    let down: Vec<u8> = up.iter().rev().copied().collect();
    let (mut client_reader, mut client_writer) = tokio::io::split(client);
    let (mut server_reader, mut server_writer) = tokio::io::split(server);

    // Four tasks, each using one direction of one socket.
    let sent_up = up.clone();
    let upload = tokio::spawn(async move {
        client_writer.write_all(&sent_up).await.unwrap();
        client_writer.flush().await.unwrap();
        client_writer
    });
    let sent_down = down.clone();
    let download = tokio::spawn(async move {
        server_writer.write_all(&sent_down).await.unwrap();
        server_writer.flush().await.unwrap();
        server_writer
    });
    let server_reads = tokio::spawn(async move {
        let mut received = vec![0; 2 << 20];
        server_reader.read_exact(&mut received).await.unwrap();
        (server_reader, received)
    });
    let client_reads = tokio::spawn(async move {
        let mut received = vec![0; 2 << 20];
        client_reader.read_exact(&mut received).await.unwrap();
        received
    });
    let all = async {
        (
            upload.await.unwrap(),
            download.await.unwrap(),
            server_reads.await.unwrap(),
            client_reads.await.unwrap(),
        )
    };
    let (mut client_writer, _, (mut server_reader, at_server), at_client) =
        timeout(WAIT, all).await.expect("no deadlock");
    assert!(at_server == up, "the upload arrived changed");
    assert!(at_client == down, "the download arrived changed");

    // A half-close: close_notify and the end of the stream for the server.
    client_writer.shutdown().await.unwrap();
    let mut rest = Vec::new();
    server_reader.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn writes_take_a_bounded_amount_and_everything_arrives() {
    let pki = TestPki::new();
    let (mut client, mut server) = encrypted_pair(&pki, 4096).await;
    let data = pattern(1 << 20);

    // The server reads nothing: the write stalls without the socket
    // taking (and encrypting) the whole megabyte.
    assert!(timeout(SHORT, client.write_all(&data)).await.is_err());
    let queued = client.encrypted_bytes_to_write();
    assert!(
        queued > 0 && queued < 70_000,
        "{queued} bytes of ciphertext queued"
    );
    let taken = client.counters().bytes_written as usize;
    assert!(taken < data.len(), "all {taken} bytes taken at once");

    // Once the server reads, the rest goes through intact.
    let rest = &data[taken..];
    let (sent, received) = tokio::join!(
        async {
            client.write_all(rest).await?;
            client.flush().await.map_err(std::io::Error::from)
        },
        async {
            let mut received = vec![0; data.len()];
            server.read_exact(&mut received).await.map(|_| received)
        }
    );
    sent.unwrap();
    assert!(received.unwrap() == data, "the data arrived changed");
}

#[tokio::test]
async fn the_end_of_stream_without_close_notify_is_an_error() {
    let pki = TestPki::new();
    let (mut client, server) = encrypted_pair(&pki, 4096).await;
    // The server's transport closes without a close_notify.
    drop(server.into_inner());
    let mut rest = Vec::new();
    let error = client.read_to_end(&mut rest).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof, "{error}");

    // With close_notify: a clean end.
    let (mut client, mut server) = encrypted_pair(&pki, 4096).await;
    server.write_all(b"bye\n").await.unwrap();
    server.shutdown().await.unwrap();
    // A half-close: the server can still read until the client closes.
    assert_eq!(server.state(), SocketState::ClosingState);
    assert!(server.write_all(b"more").await.is_err());
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"bye\n");
    let events: Vec<Event> = std::iter::from_fn(|| client.next_event()).collect();
    assert!(events.contains(&close_notify_received()), "{events:?}");
}

#[tokio::test]
async fn cancelled_waits_lose_nothing() {
    let pki = TestPki::new();

    // A handshake interrupted by a timeout goes on at the next wait.
    let (mut client, mut server) = started_pair(&pki, 64 * 1024);
    assert!(
        timeout(Duration::from_millis(1), client.wait_for_encrypted(None))
            .await
            .is_err()
    );
    let (c, s) = tokio::join!(
        client.wait_for_encrypted(Some(WAIT)),
        server.wait_for_encrypted(Some(WAIT))
    );
    c.unwrap();
    s.unwrap();

    // read_line consumes nothing until the line is complete.
    server.write_all(b"half a ").await.unwrap();
    assert!(timeout(SHORT, client.read_line(1024)).await.is_err());
    server.write_all(b"line\n").await.unwrap();
    assert_eq!(client.read_line(1024).await.unwrap(), b"half a line\n");

    // A read that lost a select! loses no data.
    let mut buf = [0u8; 64];
    tokio::select! {
        biased;
        _ = client.read(&mut buf) => panic!("nothing was sent"),
        _ = tokio::time::sleep(SHORT) => {}
    }
    server.write_all(b"after\n").await.unwrap();
    let n = client.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"after\n");

    // wait_for_ready_read: a timeout is reported and harmless.
    match client.wait_for_ready_read(Some(SHORT)).await {
        Err(Error::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));
    server.write_all(b"more\n").await.unwrap();
    client.wait_for_ready_read(Some(WAIT)).await.unwrap();
    assert_eq!(client.read_line(100).await.unwrap(), b"more\n");
}

#[tokio::test]
async fn an_interrupted_disconnect_sends_everything_and_one_close_notify() {
    let pki = TestPki::new();
    let (mut client, mut server) = encrypted_pair(&pki, 16 * 1024).await;
    let data = pattern(256 * 1024);
    client.write_data(&data).unwrap();
    // The server is not reading: the disconnect cannot finish yet.
    assert!(timeout(SHORT, client.disconnect_from_host()).await.is_err());
    assert_eq!(client.state(), SocketState::ClosingState);

    let (received, ()) = tokio::join!(
        async {
            let mut received = Vec::new();
            server.read_to_end(&mut received).await.map(|_| received)
        },
        client.disconnect_from_host()
    );
    let received = received.expect("a clean end of stream");
    assert_eq!(received.len(), data.len());
    assert!(received == data);
    assert_eq!(client.state(), SocketState::UnconnectedState);
    assert_eq!(client.error(), None, "{}", client.error_string());
    let events: Vec<Event> = std::iter::from_fn(|| client.next_event()).collect();
    let sent = events.iter().filter(|e| **e == close_notify_sent()).count();
    assert_eq!(sent, 1, "{events:?}");
    assert_eq!(milestones(&events).last(), Some(&Event::Disconnected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_sockets_mid_handshake_closes_their_connections() {
    const CLIENTS: usize = 50;
    let pki = TestPki::new();
    let (listener, port) = listen().await;

    // Clients whose server never answers, each stopped mid-handshake.
    let mut connecting = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let root = pki.root.certificate();
        connecting.spawn(async move {
            let mut client = SslSocket::new();
            client.set_ca_certificates(vec![root]);
            client.connect_to_host_encrypted("127.0.0.1", port);
            let waited = client.wait_for_encrypted(Some(SHORT)).await;
            assert!(matches!(waited, Err(Error::Timeout { .. })), "{waited:?}");
            client
        });
    }
    let mut accepted = Vec::new();
    for _ in 0..CLIENTS {
        accepted.push(listener.accept().await.unwrap().0);
    }
    let mut clients = Vec::new();
    while let Some(client) = connecting.join_next().await {
        clients.push(client.unwrap());
    }
    // Every server end got a ClientHello.
    for stream in &mut accepted {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await.unwrap();
        assert_eq!(header[0], 22, "a handshake record");
    }

    drop(clients);
    // Every connection is closed: the server ends read to the end.
    for mut stream in accepted {
        let mut rest = Vec::new();
        let read = timeout(WAIT, stream.read_to_end(&mut rest)).await;
        assert!(read.expect("closed in time").is_ok());
    }

    // The other way round: a server socket dropped mid-handshake.
    let (listener, port) = listen().await;
    let mut client = SslSocket::new();
    client.set_ca_certificates(vec![pki.root.certificate()]);
    client.connect_to_host_encrypted("localhost", port);
    let server_configuration = pki.server_configuration();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = SslSocket::from_stream_with_configuration(stream, server_configuration);
        socket.start_server_encryption().unwrap();
        // Dropped with its handshake started.
        drop(socket);
    });
    let result = client.wait_for_encrypted(Some(WAIT)).await;
    server.await.unwrap();
    assert!(
        matches!(
            result,
            Err(Error::RemoteHostClosed) | Err(Error::HandshakeFailed(_))
        ),
        "{result:?}"
    );
    assert_eq!(client.state(), SocketState::UnconnectedState);
}

#[tokio::test]
async fn starting_encryption_twice_or_unconnected_is_refused() {
    let pki = TestPki::new();
    let (mut client, mut server) = started_pair(&pki, 64 * 1024);
    assert!(client.start_client_encryption().is_err());
    assert_eq!(client.error(), Some(SocketError::OperationError));
    assert!(server.start_client_encryption().is_err());
    assert_eq!(server.mode(), SslMode::SslServerMode);
    let (c, s) = tokio::join!(
        client.wait_for_encrypted(Some(WAIT)),
        server.wait_for_encrypted(Some(WAIT))
    );
    c.unwrap();
    s.unwrap();
    let mode_changes = std::iter::from_fn(|| client.next_event())
        .filter(|e| matches!(e, Event::ModeChanged(_)))
        .count();
    assert_eq!(mode_changes, 1);

    // Plain socket: waiting for a handshake nobody started is refused.
    let (end, _other) = tokio::io::duplex(1024);
    let mut plain = SslSocket::from_stream(end);
    let result = plain.wait_for_encrypted(Some(WAIT)).await;
    assert!(
        matches!(result, Err(Error::InvalidState { .. })),
        "{result:?}"
    );

    // Aborted: nothing works any more.
    client.abort();
    assert_eq!(client.state(), SocketState::UnconnectedState);
    assert!(client.write_data(b"x").is_err());
    assert!(client.start_client_encryption().is_err());
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).await.unwrap(), 0);
}
