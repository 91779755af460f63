//! Behaviour of the blocking `SslSocket`, checked against Qt's `QSslSocket`
//! (see QT_SEMANTICS.md): in memory where the behaviour is about TLS, over
//! 127.0.0.1 where it is about TCP (connection states, name look-up,
//! refused ports, IP literals).
//!
//! Every test runs inside `within(GUARD, ..)`, so a hanging socket fails the
//! test instead of hanging the run.

mod common;

use common::pki::AsSslCertificate;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::memory::{
    both, configuration_with_identity, encrypted_pair, handshake, pair, pair_bounded, tapped_pair,
    within, MemoryStream, TestPki, GUARD, SERVER_NAME, WAIT,
};
use common::pki::LeafSpec;
use sslsocket::configuration::SslConfiguration;
use sslsocket::verify::{PeerVerifyDecision, SslErrorsDecision};
use sslsocket::{
    AlertLevel, AlertType, Error, Event, KeyExchangeGroup, KeyType, PeerVerifyMode, SocketError,
    SocketState, SslError, SslErrorCode, SslKey, SslMode, SslOption, SslProtocol, SslSocket,
    Transport,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn events<S>(socket: &mut SslSocket<S>) -> Vec<Event> {
    std::iter::from_fn(|| socket.next_event()).collect()
}

/// The events without the byte counts and ready-read notifications, whose
/// number depends on how the data was split.
fn milestones(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            !matches!(
                e,
                Event::ReadyRead | Event::BytesWritten(_) | Event::EncryptedBytesWritten(_)
            )
        })
        .cloned()
        .collect()
}

fn bytes_written(events: &[Event]) -> u64 {
    events
        .iter()
        .map(|e| match e {
            Event::BytesWritten(n) => *n,
            _ => 0,
        })
        .sum()
}

fn encrypted_bytes_written(events: &[Event]) -> u64 {
    events
        .iter()
        .map(|e| match e {
            Event::EncryptedBytesWritten(n) => *n,
            _ => 0,
        })
        .sum()
}

fn codes(errors: &[SslError]) -> Vec<SslErrorCode> {
    errors.iter().map(SslError::code).collect()
}

fn close_notify_sent() -> Event {
    Event::AlertSent {
        level: AlertLevel::Warning,
        kind: AlertType::CloseNotify,
    }
}

fn close_notify_received() -> Event {
    Event::AlertReceived {
        level: AlertLevel::Warning,
        kind: AlertType::CloseNotify,
    }
}

/// Reads until `n` bytes have been read (or the peer closes, or `WAIT`
/// passes), waiting for data when there is none.
fn read_n<S: Transport>(socket: &mut SslSocket<S>, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < n && Instant::now() < deadline {
        let want = (n - out.len()).min(buf.len());
        let got = socket.read_available(&mut buf[..want]);
        if got > 0 {
            out.extend_from_slice(&buf[..got]);
            continue;
        }
        if socket.wait_for_ready_read(Some(WAIT)).is_err() {
            break;
        }
    }
    out
}

/// Test data that is easy to check: the position in every byte.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn tcp_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// A TCP client that trusts the test root (no peer verify name: the host
/// connected to is verified).
fn tcp_client(pki: &TestPki) -> SslSocket {
    let mut client = SslSocket::new();
    client.set_ca_certificates(vec![pki.root.certificate()]);
    client
}

/// What a ClientHello carried.
#[derive(Debug, Default)]
struct ClientHello {
    server_name: Option<String>,
    cipher_suites: Vec<u16>,
    alpn: Vec<Vec<u8>>,
    /// supported_groups, in the client's order.
    groups: Vec<u16>,
    /// The groups of the key shares sent.
    key_shares: Vec<u16>,
}

/// Parses the first TLS record of a client (a ClientHello).
fn parse_client_hello(record: &[u8]) -> ClientHello {
    assert_eq!(record[0], 0x16, "not a handshake record: {record:02x?}");
    let body = &record[5..];
    assert_eq!(body[0], 1, "not a ClientHello");
    let be16 = |b: &[u8], at: usize| usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
    let mut at = 4 + 2 + 32; // header, legacy_version, random
    at += 1 + usize::from(body[at]); // session id
    let suites_len = be16(body, at);
    let cipher_suites = body[at + 2..at + 2 + suites_len]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    at += 2 + suites_len;
    at += 1 + usize::from(body[at]); // compression methods
    let mut hello = ClientHello {
        cipher_suites,
        ..ClientHello::default()
    };
    let extensions_end = at + 2 + be16(body, at);
    at += 2;
    while at < extensions_end {
        let kind = be16(body, at);
        let len = be16(body, at + 2);
        let data = &body[at + 4..at + 4 + len];
        match kind {
            0 => {
                // server_name_list: list length, then (type, length, name).
                assert_eq!(data[2], 0, "host_name type");
                let name_len = be16(data, 3);
                hello.server_name =
                    Some(String::from_utf8(data[5..5 + name_len].to_vec()).expect("ASCII SNI"));
            }
            10 => {
                hello.groups = data[2..]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
            }
            51 => {
                // client_shares: list length, then (group, length, key).
                let mut p = 2;
                while p < data.len() {
                    hello.key_shares.push(be16(data, p) as u16);
                    p += 4 + be16(data, p + 2);
                }
            }
            16 => {
                let mut p = 2;
                while p < data.len() {
                    let l = usize::from(data[p]);
                    hello.alpn.push(data[p + 1..p + 1 + l].to_vec());
                    p += 1 + l;
                }
            }
            _ => {}
        }
        at += 4 + len;
    }
    hello
}

/// The ClientHello a memory client sends: the client's first flight is
/// written with `flush` and read raw from the other end.
fn client_hello_of(
    client: &mut SslSocket<MemoryStream>,
    server_end: &mut MemoryStream,
) -> ClientHello {
    client.flush().expect("the ClientHello goes out");
    let record = server_end
        .read_tls_record(WAIT)
        .expect("a ClientHello record");
    parse_client_hello(&record)
}

/// The ClientHello a TCP client sends to a raw listener.
fn tcp_client_hello(pki: &TestPki, host: &'static str) -> ClientHello {
    let (listener, port) = tcp_listener();
    let raw = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).expect("record header");
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let mut record = header.to_vec();
        record.resize(5 + len, 0);
        stream.read_exact(&mut record[5..]).expect("record body");
        record
    });
    let mut client = tcp_client(pki);
    client.connect_to_host_encrypted(host, port);
    // The raw server hangs up after the ClientHello: the handshake fails.
    let result = client.wait_for_encrypted(Some(WAIT));
    assert!(result.is_err());
    parse_client_hello(&raw.join().expect("raw server"))
}

// ---------------------------------------------------------------------------
// Writing: queued before the handshake, plain mode, STARTTLS
// ---------------------------------------------------------------------------

#[test]
fn data_written_before_the_handshake_goes_out_encrypted_after_it() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end, tap) = tapped_pair();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);

        let secret = b"queued before the handshake: attack at dawn\n";
        assert_eq!(client.write_data(secret).unwrap(), secret.len());
        assert!(!client.is_encrypted());
        assert_eq!(client.bytes_to_write(), secret.len());

        let (c, s) = handshake(&mut client, &mut server);
        c.unwrap();
        s.unwrap();
        assert!(client.is_encrypted() && server.is_encrypted());
        assert_eq!(read_n(&mut server, secret.len()), secret);
        assert_eq!(client.bytes_to_write(), 0);

        let wire = tap.client_to_server();
        assert!(!wire.is_empty());
        assert!(
            !wire.windows(12).any(|w| w == b"attack at da"),
            "the queued data went out in clear"
        );
        let client_events = events(&mut client);
        assert_eq!(bytes_written(&client_events), secret.len() as u64);
        // BytesWritten for the queued data comes with (after) Encrypted.
        let encrypted_at = client_events
            .iter()
            .position(|e| *e == Event::Encrypted)
            .expect("Encrypted");
        let written_at = client_events
            .iter()
            .position(|e| matches!(e, Event::BytesWritten(_)))
            .expect("BytesWritten");
        assert!(written_at > encrypted_at, "{client_events:?}");
    });
}

#[test]
fn plain_mode_sends_and_receives_in_clear() {
    within(GUARD, || {
        let (end, mut raw) = pair();
        let mut socket = SslSocket::from_stream(end);
        assert_eq!(socket.state(), SocketState::ConnectedState);
        assert_eq!(socket.mode(), SslMode::UnencryptedMode);

        socket.write_data(b"EHLO client.test\r\n").unwrap();
        assert_eq!(
            raw.available(),
            0,
            "nothing is sent until the socket is driven"
        );
        socket.flush().unwrap();
        let mut got = vec![0u8; 18];
        raw.set_read_timeout(Some(WAIT)).unwrap();
        raw.read_exact(&mut got).unwrap();
        assert_eq!(got, b"EHLO client.test\r\n");

        raw.write_all(b"250 hello\r\n").unwrap();
        socket.wait_for_ready_read(Some(WAIT)).unwrap();
        assert!(socket.can_read_line());
        assert_eq!(socket.read_line(1024), b"250 hello\r\n");
        assert!(!socket.is_encrypted());

        let all = events(&mut socket);
        assert_eq!(bytes_written(&all), 18);
        assert_eq!(encrypted_bytes_written(&all), 0);
        assert!(all.contains(&Event::ReadyRead), "{all:?}");
        assert_eq!(milestones(&all), [Event::Connected]);
        assert_eq!(socket.counters().bytes_written, 18);
        assert_eq!(socket.counters().bytes_read, 11);
    });
}

#[test]
fn starttls_in_memory_plain_lines_then_encrypted_data() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end, tap) = tapped_pair();
        let mut client = pki.client_socket(client_end);
        let mut server = pki.server_socket(server_end);

        let (server_result, ()) = both(
            || {
                server.wait_for_ready_read(Some(WAIT)).unwrap();
                assert_eq!(server.read_line(100), b"STARTTLS\r\n");
                server.write_data(b"220 go ahead\r\n").unwrap();
                server.flush().unwrap();
                server
                    .start_server_encryption()
                    .expect("the handshake starts");
                assert_eq!(server.mode(), SslMode::SslServerMode);
                server.wait_for_encrypted(Some(WAIT))?;
                let line = read_n(&mut server, 14);
                server.write_all(b"250 secret ok\r\n").unwrap();
                Ok::<_, Error>(line)
            },
            || {
                client.write_data(b"STARTTLS\r\n").unwrap();
                client.flush().unwrap();
                client.wait_for_ready_read(Some(WAIT)).unwrap();
                assert_eq!(client.read_line(100), b"220 go ahead\r\n");
                client
                    .start_client_encryption()
                    .expect("the handshake starts");
                assert_eq!(client.error(), None, "{}", client.error_string());
                assert_eq!(client.mode(), SslMode::SslClientMode);
                client.write_data(b"AUTH secret\r\n\r\n").unwrap();
                client.wait_for_encrypted(Some(WAIT)).unwrap();
            },
        );
        assert_eq!(server_result.unwrap(), b"AUTH secret\r\n\r");
        assert_eq!(read_n(&mut client, 15), b"250 secret ok\r\n");

        let wire = tap.client_to_server();
        assert!(wire.starts_with(b"STARTTLS\r\n"));
        assert!(!wire.windows(6).any(|w| w == b"secret"));
        let client_events = milestones(&events(&mut client));
        assert_eq!(
            client_events,
            [
                Event::Connected,
                Event::ModeChanged(SslMode::SslClientMode),
                Event::Encrypted
            ]
        );
    });
}

#[test]
fn starttls_over_tcp_verifies_the_host_connected_to() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = tcp_listener();
        let server_configuration = pki.server_configuration();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut socket = SslSocket::from_stream(stream);
            socket.set_ssl_configuration(server_configuration);
            socket.wait_for_ready_read(Some(WAIT)).unwrap();
            assert_eq!(socket.read_line(100), b"STARTTLS\n");
            socket.write_all(b"GO\n").unwrap();
            socket
                .start_server_encryption()
                .expect("the handshake starts");
            socket.wait_for_encrypted(Some(WAIT)).unwrap();
            let line = read_n(&mut socket, 6);
            socket.write_all(&line).unwrap();
            socket.disconnect_from_host();
        });

        let mut client = tcp_client(&pki);
        client.connect_to_host("localhost", port);
        client.wait_for_connected(Some(WAIT)).unwrap();
        assert_eq!(client.state(), SocketState::ConnectedState);
        assert_eq!(client.mode(), SslMode::UnencryptedMode);
        client.write_all(b"STARTTLS\n").unwrap();
        client.wait_for_ready_read(Some(WAIT)).unwrap();
        assert_eq!(client.read_line(100), b"GO\n");
        client
            .start_client_encryption()
            .expect("the handshake starts");
        assert_eq!(client.peer_verify_name(), Some("localhost"));
        client.wait_for_encrypted(Some(WAIT)).unwrap();
        client.write_all(b"hello\n").unwrap();
        let mut echo = Vec::new();
        client.read_to_end(&mut echo).unwrap();
        assert_eq!(echo, b"hello\n");
        server.join().unwrap();
    });
}

#[test]
fn start_encryption_does_nothing_unless_connected_and_plain() {
    within(GUARD, || {
        let pki = TestPki::new();

        // Not connected.
        let mut unconnected = SslSocket::new();
        assert!(unconnected.start_client_encryption().is_err());
        assert_eq!(unconnected.error(), Some(SocketError::OperationError));
        assert!(!unconnected.error_string().is_empty());
        assert_eq!(unconnected.mode(), SslMode::UnencryptedMode);
        let mut unconnected = SslSocket::new();
        assert!(unconnected.start_server_encryption().is_err());
        assert_eq!(unconnected.error(), Some(SocketError::OperationError));
        assert_eq!(unconnected.mode(), SslMode::UnencryptedMode);

        // Already in client / server mode: refused, and the running
        // handshake is not disturbed.
        let (client_end, server_end) = pair();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        assert!(client.start_client_encryption().is_err());
        assert_eq!(client.error(), Some(SocketError::OperationError));
        assert!(!client.error_string().is_empty());
        assert!(client.start_server_encryption().is_err());
        assert_eq!(client.error(), Some(SocketError::OperationError));
        assert_eq!(client.mode(), SslMode::SslClientMode);
        assert!(server.start_client_encryption().is_err());
        assert_eq!(server.error(), Some(SocketError::OperationError));
        assert_eq!(server.mode(), SslMode::SslServerMode);
        let mode_changes = |events: Vec<Event>| {
            events
                .into_iter()
                .filter(|e| matches!(e, Event::ModeChanged(_)))
                .count()
        };
        let (c, s) = handshake(&mut client, &mut server);
        c.unwrap();
        s.unwrap();
        assert_eq!(mode_changes(events(&mut client)), 1);
        assert_eq!(mode_changes(events(&mut server)), 1);

        // After the connection is closed.
        client.disconnect_from_host();
        assert_eq!(client.state(), SocketState::UnconnectedState);
        let (end, _other) = pair();
        let mut closed = pki.client_socket(end);
        closed.abort();
        assert!(closed.start_client_encryption().is_err());
        assert_eq!(closed.error(), Some(SocketError::OperationError));
        assert_eq!(closed.mode(), SslMode::UnencryptedMode);
    });
}

// ---------------------------------------------------------------------------
// States and events
// ---------------------------------------------------------------------------

#[test]
fn tcp_connection_states_and_events() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = tcp_listener();
        let server_configuration = pki.server_configuration();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut socket = SslSocket::from_stream(stream);
            socket.set_ssl_configuration(server_configuration);
            socket
                .start_server_encryption()
                .expect("the handshake starts");
            socket.wait_for_encrypted(Some(WAIT)).unwrap();
            let line = read_n(&mut socket, 5);
            socket.write_all(&line).unwrap();
            socket.wait_for_disconnected(Some(WAIT)).unwrap();
            assert_eq!(socket.state(), SocketState::UnconnectedState);
            events(&mut socket)
        });

        let mut client = tcp_client(&pki);
        assert_eq!(client.state(), SocketState::UnconnectedState);
        client.connect_to_host_encrypted("localhost", port);
        assert_eq!(client.state(), SocketState::HostLookupState);
        client.write_data(b"ping\n").unwrap();
        client.wait_for_encrypted(Some(WAIT)).unwrap();
        assert_eq!(client.state(), SocketState::ConnectedState);
        assert_eq!(client.mode(), SslMode::SslClientMode);
        assert!(client.is_encrypted());
        assert!(client.peer_address().is_some_and(|a| a.port() == port));
        assert!(client.local_address().is_some());

        let handshake_events = events(&mut client);
        assert_eq!(
            milestones(&handshake_events),
            [
                Event::StateChanged(SocketState::HostLookupState),
                Event::StateChanged(SocketState::ConnectingState),
                Event::StateChanged(SocketState::ConnectedState),
                Event::Connected,
                Event::ModeChanged(SslMode::SslClientMode),
                Event::Encrypted,
            ]
        );
        assert_eq!(bytes_written(&handshake_events), 5);
        assert!(encrypted_bytes_written(&handshake_events) > 0);

        client.wait_for_ready_read(Some(WAIT)).unwrap();
        assert_eq!(client.read_line(100), b"ping\n");
        client.disconnect_from_host();
        assert_eq!(client.state(), SocketState::UnconnectedState);
        let closing_events = events(&mut client);
        assert!(
            closing_events.contains(&Event::ReadyRead),
            "{closing_events:?}"
        );
        assert_eq!(
            client.counters().encrypted_bytes_written,
            encrypted_bytes_written(&handshake_events) + encrypted_bytes_written(&closing_events)
        );
        let closing = milestones(&closing_events);
        let sent_at = closing.iter().position(|e| *e == close_notify_sent());
        let disconnected_at = closing.iter().position(|e| *e == Event::Disconnected);
        assert!(
            closing.contains(&Event::StateChanged(SocketState::ClosingState))
                && sent_at.is_some()
                && disconnected_at.is_some()
                && sent_at < disconnected_at,
            "{closing:?}"
        );
        assert_eq!(
            closing.last(),
            Some(&Event::Disconnected),
            "Disconnected comes last: {closing:?}"
        );

        let server_events = server.join().unwrap();
        let server_milestones = milestones(&server_events);
        assert_eq!(
            &server_milestones[..3],
            [
                Event::Connected,
                Event::ModeChanged(SslMode::SslServerMode),
                Event::Encrypted
            ]
        );
        assert!(server_milestones.contains(&close_notify_received()));
        assert_eq!(server_milestones.last(), Some(&Event::Disconnected));
    });
}

#[test]
fn memory_events_and_byte_counts() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair();
        let client_wire = client_end.try_clone();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        let (c, s) = handshake(&mut client, &mut server);
        c.unwrap();
        s.unwrap();

        let data = pattern(40_000);
        client.write_all(&data).unwrap();
        assert_eq!(read_n(&mut server, data.len()), data);
        server.write_all(b"thanks\n").unwrap();
        assert_eq!(read_n(&mut client, 7), b"thanks\n");

        let client_events = events(&mut client);
        let server_events = events(&mut server);
        assert_eq!(
            milestones(&client_events),
            [
                Event::Connected,
                Event::ModeChanged(SslMode::SslClientMode),
                Event::Encrypted
            ]
        );
        assert_eq!(
            milestones(&server_events),
            [
                Event::Connected,
                Event::ModeChanged(SslMode::SslServerMode),
                Event::Encrypted
            ]
        );
        assert_eq!(bytes_written(&client_events), data.len() as u64);
        assert_eq!(bytes_written(&server_events), 7);
        assert!(server_events.contains(&Event::ReadyRead));
        assert!(client_events.contains(&Event::ReadyRead));

        // Ciphertext counts agree with what crossed the pipe.
        let counters = client.counters();
        assert_eq!(counters.bytes_written, data.len() as u64);
        assert_eq!(counters.bytes_read, 7);
        assert_eq!(
            encrypted_bytes_written(&client_events),
            counters.encrypted_bytes_written
        );
        assert_eq!(counters.encrypted_bytes_written, client_wire.total_sent());
        assert_eq!(
            counters.encrypted_bytes_read,
            client_wire.total_received() - client_wire.available() as u64
        );
        assert!(counters.encrypted_bytes_written > data.len() as u64);
        assert_eq!(server.counters().bytes_read, data.len() as u64);
        assert_eq!(client.encrypted_bytes_available(), 0);
        assert_eq!(client.encrypted_bytes_to_write(), 0);
    });
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

#[test]
fn reading_lines_characters_and_peeking() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);

        // One write: one record, available all at once.
        let text = b"line one\nline two\nrest";
        server.write_all(text).unwrap();
        client.wait_for_ready_read(Some(WAIT)).unwrap();
        assert_eq!(client.bytes_available(), text.len());

        let mut peeked = [0u8; 4];
        assert_eq!(client.peek(&mut peeked), 4);
        assert_eq!(&peeked, b"line");
        assert_eq!(
            client.bytes_available(),
            text.len(),
            "peek does not consume"
        );
        let mut everything = [0u8; 64];
        assert_eq!(client.peek(&mut everything), text.len());

        assert!(client.can_read_line());
        assert_eq!(client.read_line(1024), b"line one\n");
        assert_eq!(client.read_line(4), b"line", "read_line stops at max");
        assert_eq!(client.read_line(1024), b" two\n");
        assert!(!client.can_read_line(), "'rest' has no newline");
        assert!(client.read_line(1024).is_empty(), "no whole line yet");
        assert_eq!(client.bytes_available(), 4);
        assert_eq!(client.get_char(), Some(b'r'));
        let mut rest = [0u8; 16];
        assert_eq!(client.read_available(&mut rest), 3);
        assert_eq!(&rest[..3], b"est");
        assert_eq!(client.get_char(), None);
        assert_eq!(client.read_available(&mut rest), 0);
        assert_eq!(client.bytes_available(), 0);
        assert_eq!(client.counters().bytes_read, text.len() as u64);

        // put_char queues single bytes.
        for &b in b"ok!\n" {
            client.put_char(b).unwrap();
        }
        client.flush().unwrap();
        server.wait_for_ready_read(Some(WAIT)).unwrap();
        assert_eq!(read_n(&mut server, 4), b"ok!\n");
    });
}

/// The fuzzer's finding (FUZZING.md, client_socket): bytes that `peek`-like
/// calls had moved into the socket's buffer were read after newer ones
/// still in rustls whenever that buffer had wrapped around its end.
#[test]
fn reads_keep_the_order_of_the_data_whatever_mix_of_calls_reads_it() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        let sent = pattern(200_000);
        let mut next = 0;
        let mut send = |server: &mut SslSocket<_>, client: &mut SslSocket<_>, len: usize| {
            server.write_all(&sent[next..next + len]).unwrap();
            next += len;
            client.wait_for_ready_read(Some(WAIT)).unwrap();
        };
        let mut received = Vec::new();
        for round in 0..300usize {
            // Into the socket's buffer (can_read_line looks at all of it),
            // part of it read, more into the buffer behind that, and more
            // left in rustls: then one read for everything.
            send(&mut server, &mut client, 1 + round % 61);
            let _ = client.can_read_line();
            let mut buf = vec![0u8; 1 + round % 13];
            let n = client.read_available(&mut buf);
            received.extend_from_slice(&buf[..n]);
            received.extend(client.get_char());
            send(&mut server, &mut client, 1 + round % 7);
            let _ = client.can_read_line();
            send(&mut server, &mut client, 1 + round % 17);
            let mut everything = vec![0u8; 4096];
            let n = match round % 2 {
                0 => client.read_available(&mut everything),
                _ => client.read(&mut everything).unwrap(),
            };
            received.extend_from_slice(&everything[..n]);
            assert!(sent.starts_with(&received), "out of order in round {round}");
            assert_eq!(client.bytes_available(), 0, "round {round}");
        }
        assert_eq!(received, sent[..next]);
    });
}

#[test]
fn read_line_at_end_of_stream_returns_the_rest() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        // Data and close_notify are both in the pipe before the client reads,
        // so they arrive together.
        server.write_data(b"last words without newline").unwrap();
        server.disconnect_from_host();
        client.wait_for_ready_read(Some(WAIT)).unwrap();
        assert!(!client.can_read_line());
        assert_eq!(client.read_line(1024), b"last words without newline");
        assert!(client.read_line(1024).is_empty());
        assert!(events(&mut client).contains(&close_notify_received()));
    });
}

#[test]
fn std_read_reaches_end_of_file_after_the_peer_disconnects() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        let data = pattern(100_000);
        let expected = data.clone();
        let ((), received) = both(
            move || {
                server.write_all(&data).unwrap();
                server.disconnect_from_host();
                assert_eq!(server.state(), SocketState::UnconnectedState);
            },
            || {
                let mut received = Vec::new();
                client.read_to_end(&mut received).unwrap();
                received
            },
        );
        assert_eq!(received.len(), expected.len());
        assert!(received == expected);
        // End of file stays end of file.
        let mut more = [0u8; 8];
        assert_eq!(client.read(&mut more).unwrap(), 0);
        assert!(events(&mut client).contains(&close_notify_received()));
    });
}

#[test]
fn small_read_buffer_bounds_what_is_held_but_the_transfer_completes() {
    within(GUARD, || {
        const BOUND: usize = 4096;
        const RECORD: usize = 16 * 1024;
        const TOTAL: usize = 1 << 20;
        let pki = TestPki::new();
        let (client_end, server_end) = pair_bounded(64 * 1024);
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        let (c, s) = handshake(&mut client, &mut server);
        c.unwrap();
        s.unwrap();
        client.set_read_buffer_size(BOUND);

        let data = pattern(TOTAL);
        let expected = data.clone();
        let ((), (received, most_held)) = both(
            move || {
                server.write_all(&data).unwrap();
                server.disconnect_from_host();
            },
            || {
                let mut received = Vec::with_capacity(TOTAL);
                let mut most_held = 0;
                let mut buf = [0u8; 3000];
                loop {
                    match client.wait_for_ready_read(Some(WAIT)) {
                        Ok(()) => {}
                        Err(Error::RemoteHostClosed) => break,
                        Err(e) => panic!("reading failed after {} bytes: {e}", received.len()),
                    }
                    // Drain what is there before waiting for more (waiting
                    // is for new data, as in Qt).
                    loop {
                        most_held = most_held.max(client.bytes_available());
                        let n = client.read_available(&mut buf);
                        if n == 0 {
                            break;
                        }
                        received.extend_from_slice(&buf[..n]);
                    }
                }
                (received, most_held)
            },
        );
        assert_eq!(received.len(), TOTAL);
        assert!(received == expected);
        assert!(
            most_held <= BOUND + 2 * RECORD,
            "{most_held} bytes were held with a read buffer of {BOUND}"
        );
    });
}

// ---------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------

#[test]
fn disconnect_sends_pending_data_then_close_notify() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair_bounded(16 * 1024);
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        let (c, s) = handshake(&mut client, &mut server);
        c.unwrap();
        s.unwrap();
        let data = pattern(256 * 1024);
        let expected = data.clone();

        let (received, ()) = both(
            || {
                let mut received = Vec::new();
                server.read_to_end(&mut received).unwrap();
                received
            },
            || {
                client.write_data(&data).unwrap();
                // Nothing flushed: disconnect_from_host must send it all.
                client.disconnect_from_host();
            },
        );
        assert_eq!(received.len(), expected.len());
        assert!(received == expected);
        assert_eq!(client.state(), SocketState::UnconnectedState);
        assert_eq!(client.error(), None, "{}", client.error_string());
        let client_events = milestones(&events(&mut client));
        assert!(
            client_events.contains(&close_notify_sent()),
            "{client_events:?}"
        );
        assert_eq!(client_events.last(), Some(&Event::Disconnected));
        assert!(milestones(&events(&mut server)).contains(&close_notify_received()));
    });
}

#[test]
fn abort_drops_pending_data() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        let _ = events(&mut client);
        client.write_data(b"this is never sent").unwrap();
        client.abort();
        assert_eq!(client.state(), SocketState::UnconnectedState);
        assert_eq!(client.bytes_to_write(), 0);
        let client_events = milestones(&events(&mut client));
        assert_eq!(client_events.last(), Some(&Event::Disconnected));
        assert!(
            !client_events.contains(&close_notify_sent()),
            "{client_events:?}"
        );

        let mut received = Vec::new();
        let _ = server.read_to_end(&mut received);
        assert!(
            received.is_empty(),
            "got {:?}",
            String::from_utf8_lossy(&received)
        );
        assert!(!events(&mut server).contains(&close_notify_received()));

        // An aborted socket cannot be written to.
        assert!(client.write_data(b"more").is_err());
        assert_eq!(client.error(), Some(SocketError::OperationError));
    });
}

#[test]
fn records_on_their_way_are_never_read_after_abort() {
    // Found by fuzzing: the transport outlived abort, and with TLS gone
    // from the channel its ciphertext was read as plain data.
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        server.write_all(b"sent before the abort").unwrap();
        server.wait_for_bytes_written(Some(WAIT)).unwrap();
        client.abort();

        let mut buf = [0u8; 64];
        assert_eq!(client.read(&mut buf).unwrap(), 0, "end of stream");
        assert_eq!(client.read_available(&mut buf), 0);
        assert_eq!(client.get_char(), None);
        assert!(client.wait_for_ready_read(Some(WAIT)).is_err());
        assert_eq!(client.bytes_available(), 0);
        assert_eq!(client.read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn close_sends_data_and_close_notify_like_disconnect() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        client.write_data(b"goodbye\n").unwrap();
        client.close();
        assert_eq!(client.state(), SocketState::UnconnectedState);
        let mut received = Vec::new();
        server.read_to_end(&mut received).unwrap();
        assert_eq!(received, b"goodbye\n");
        assert!(events(&mut server).contains(&close_notify_received()));
    });
}

#[test]
fn wait_for_disconnected_returns_when_the_peer_closes() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        let _ = events(&mut client);
        let ((), result) = both(
            || {
                std::thread::sleep(Duration::from_millis(50));
                server.disconnect_from_host();
            },
            || client.wait_for_disconnected(Some(WAIT)),
        );
        result.unwrap();
        assert_eq!(client.state(), SocketState::UnconnectedState);
        let client_events = milestones(&events(&mut client));
        assert!(
            client_events.contains(&close_notify_received()),
            "{client_events:?}"
        );
        assert_eq!(client_events.last(), Some(&Event::Disconnected));
        // Already unconnected: returns at once.
        client.wait_for_disconnected(Some(WAIT)).unwrap();
    });
}

/// Qt's `waitForDisconnected` does not care whether received data has been
/// read; the data stays readable after the disconnect.
#[test]
fn wait_for_disconnected_with_unread_data() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        server.write_all(b"unread\n").unwrap();
        client.wait_for_ready_read(Some(WAIT)).unwrap();
        server.disconnect_from_host();

        let result = client.wait_for_disconnected(Some(WAIT));
        assert!(result.is_ok(), "wait_for_disconnected: {result:?}");
        assert_eq!(client.state(), SocketState::UnconnectedState);
        assert_eq!(client.read_line(100), b"unread\n");
    });
}

// ---------------------------------------------------------------------------
// wait_* and timeouts
// ---------------------------------------------------------------------------

#[test]
fn wait_for_ready_read_times_out_with_a_silent_peer_and_the_socket_stays_usable() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        let started = Instant::now();
        let result = client.wait_for_ready_read(Some(Duration::from_millis(200)));
        let elapsed = started.elapsed();
        assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
        assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));
        assert!(!client.error_string().is_empty());
        assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

        // A timeout is not fatal (Qt): the connection goes on.
        assert_eq!(client.state(), SocketState::ConnectedState);
        server.write_all(b"late\n").unwrap();
        client.wait_for_ready_read(Some(WAIT)).unwrap();
        assert_eq!(client.read_line(100), b"late\n");
        client.write_all(b"still here\n").unwrap();
        assert_eq!(read_n(&mut server, 11), b"still here\n");
    });
}

/// Qt's idiom `while (!canReadLine()) waitForReadyRead();` must make
/// progress when a partial line is buffered: waiting has to wait for new data.
#[test]
fn waiting_for_a_whole_line_while_a_partial_one_is_buffered() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        server.write_all(b"hel").unwrap();
        client.wait_for_ready_read(Some(WAIT)).unwrap();
        assert!(!client.can_read_line());

        let ((), got_line) = both(
            || {
                std::thread::sleep(Duration::from_millis(100));
                server.write_all(b"lo\n").unwrap();
            },
            || {
                let deadline = Instant::now() + Duration::from_secs(3);
                while !client.can_read_line() && Instant::now() < deadline {
                    if client
                        .wait_for_ready_read(Some(Duration::from_secs(3)))
                        .is_err()
                    {
                        break;
                    }
                }
                client.can_read_line()
            },
        );
        assert!(got_line, "the second half of the line was never read");
        assert_eq!(client.read_line(100), b"hello\n");
    });
}

#[test]
fn wait_for_bytes_written_sends_what_is_queued() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        let wire = client.get_ref().unwrap().try_clone();
        let before = wire.total_sent();
        client.write_data(b"0123456789").unwrap();
        assert_eq!(wire.total_sent(), before, "write_data only queues");
        client.wait_for_bytes_written(Some(WAIT)).unwrap();
        assert!(wire.total_sent() > before + 10);
        assert_eq!(client.bytes_to_write(), 0);
        assert_eq!(client.encrypted_bytes_to_write(), 0);
        assert_eq!(read_n(&mut server, 10), b"0123456789");
    });
}

// ---------------------------------------------------------------------------
// Session information
// ---------------------------------------------------------------------------

#[test]
fn session_protocol_and_cipher_default_to_tls13() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        assert_eq!(client.session_protocol(), SslProtocol::UnknownProtocol);
        assert!(client.session_cipher().is_none());
        let (c, s) = handshake(&mut client, &mut server);
        c.unwrap();
        s.unwrap();
        for socket_protocol in [client.session_protocol(), server.session_protocol()] {
            assert_eq!(socket_protocol, SslProtocol::TlsV1_3);
        }
        let cipher = client.session_cipher().expect("a cipher");
        assert_eq!(cipher.protocol(), SslProtocol::TlsV1_3);
        assert!(cipher.name().starts_with("TLS_"), "{}", cipher.name());
        assert_eq!(server.session_cipher(), Some(cipher));
        assert!(client.ssl_handshake_errors().is_empty());
        assert!(server.ssl_handshake_errors().is_empty());
    });
}

#[test]
fn tls12_is_negotiated_when_either_side_asks_for_it() {
    within(GUARD, || {
        let pki = TestPki::new();
        for restrict_client in [true, false] {
            let (client_end, server_end) = pair();
            let mut client = pki.client_socket(client_end);
            let mut server = pki.server_socket(server_end);
            if restrict_client {
                client.set_protocol(SslProtocol::TlsV1_2);
            } else {
                server.set_protocol(SslProtocol::TlsV1_2);
            }
            client
                .start_client_encryption()
                .expect("the handshake starts");
            server
                .start_server_encryption()
                .expect("the handshake starts");
            let (c, s) = handshake(&mut client, &mut server);
            c.unwrap();
            s.unwrap();
            assert_eq!(client.session_protocol(), SslProtocol::TlsV1_2);
            assert_eq!(server.session_protocol(), SslProtocol::TlsV1_2);
            let cipher = client.session_cipher().expect("a cipher");
            assert_eq!(cipher.protocol(), SslProtocol::TlsV1_2);
            assert_eq!(cipher.protocol_string(), "TLSv1.2");
            // Data flows both ways.
            client.write_all(b"12\n").unwrap();
            assert_eq!(read_n(&mut server, 3), b"12\n");
        }
    });
}

#[test]
fn peer_certificate_chain_is_leaf_then_intermediate() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client, server) = encrypted_pair(&pki);
        let leaf = pki.server.certificate();
        assert_eq!(client.peer_certificate(), Some(leaf.clone()));
        assert_eq!(
            client.peer_certificate_chain(),
            [leaf, pki.intermediate.certificate()]
        );
        assert!(client.ssl_handshake_errors().is_empty());
        assert!(client.ssl_errors().is_empty());
        // The client sent no certificate.
        assert_eq!(server.peer_certificate(), None);
        assert!(server.peer_certificate_chain().is_empty());
    });
}

#[test]
fn insecure_protocols_are_refused_before_anything_is_sent() {
    within(GUARD, || {
        let pki = TestPki::new();
        let insecure = [
            SslProtocol::SslV3,
            SslProtocol::SslV2,
            SslProtocol::TlsV1,
            SslProtocol::TlsV1_0,
            SslProtocol::TlsV1_1,
        ];
        for protocol in insecure {
            // Client side.
            let (client_end, server_end) = pair();
            let mut client = pki.client_socket(client_end);
            client.set_protocol(protocol);
            let refused = client.start_client_encryption().unwrap_err();
            assert!(
                matches!(refused, Error::UnsupportedProtocol(p) if p == protocol),
                "{refused:?}"
            );
            assert_eq!(
                client.error(),
                Some(SocketError::SslHandshakeFailedError),
                "{protocol}: {}",
                client.error_string()
            );
            assert!(
                client.error_string().contains(protocol.name()),
                "the message names {protocol}: {}",
                client.error_string()
            );
            assert!(!client.is_encrypted());
            assert!(client
                .wait_for_encrypted(Some(Duration::from_millis(100)))
                .is_err());
            assert!(!client.is_encrypted());
            assert_eq!(server_end.available(), 0, "{protocol}: something was sent");

            // Server side.
            let (_client_end, server_end) = pair();
            let mut server = pki.server_socket(server_end);
            server.set_protocol(protocol);
            assert!(server.start_server_encryption().is_err());
            assert_eq!(server.error(), Some(SocketError::SslHandshakeFailedError));
            assert!(server.error_string().contains(protocol.name()));
        }

        // Over TCP, the error comes from wait_for_encrypted.
        let (listener, port) = tcp_listener();
        let raw = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut buf = [0u8; 64];
            // Nothing arrives: a timeout, or end of file once the client goes.
            stream.read(&mut buf).unwrap_or_default()
        });
        let mut client = tcp_client(&pki);
        client.set_protocol(SslProtocol::SslV3);
        client.connect_to_host_encrypted("127.0.0.1", port);
        let result = client.wait_for_encrypted(Some(WAIT));
        assert!(
            matches!(result, Err(Error::UnsupportedProtocol(SslProtocol::SslV3))),
            "{result:?}"
        );
        let message = result.unwrap_err().to_string();
        assert!(message.contains("SslV3"), "{message}");
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        assert_eq!(raw.join().unwrap(), 0, "bytes were sent");
    });
}

// ---------------------------------------------------------------------------
// Key-exchange groups
// ---------------------------------------------------------------------------

#[test]
fn a_client_offers_its_groups_in_order_and_shares_a_key_for_the_first() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, mut server_end) = pair();
        let mut probe = pki.client_socket(client_end);
        probe
            .ssl_configuration_mut()
            .set_key_exchange_group_list("P-384:X25519")
            .unwrap();
        probe
            .start_client_encryption()
            .expect("the handshake starts");
        let hello = client_hello_of(&mut probe, &mut server_end);
        let p384 = KeyExchangeGroup::P384.code();
        assert_eq!(hello.groups, [p384, KeyExchangeGroup::X25519.code()]);
        assert_eq!(hello.key_shares, [p384]);
    });
}

#[test]
fn the_negotiated_group_is_reported_on_both_sides() {
    within(GUARD, || {
        let pki = TestPki::new();
        // The client shares a P-256 key, but the server only takes P-384:
        // it asks for another share (HelloRetryRequest) and gets it.
        let (client, server, c, s) = cipher_pair(
            &pki,
            |client| {
                client
                    .ssl_configuration_mut()
                    .set_key_exchange_groups(vec![KeyExchangeGroup::P256, KeyExchangeGroup::P384]);
            },
            |server| {
                server
                    .ssl_configuration_mut()
                    .set_key_exchange_groups(vec![KeyExchangeGroup::P384]);
            },
        );
        c.unwrap();
        s.unwrap();
        assert_eq!(client.key_exchange_group(), Some(KeyExchangeGroup::P384));
        assert_eq!(server.key_exchange_group(), Some(KeyExchangeGroup::P384));

        for protocol in [SslProtocol::TlsV1_2, SslProtocol::TlsV1_3] {
            let (client, server, c, s) = cipher_pair(
                &pki,
                |client| {
                    client.set_protocol(protocol);
                    client
                        .ssl_configuration_mut()
                        .set_key_exchange_group_list("P-256")
                        .unwrap();
                },
                |_| {},
            );
            c.unwrap();
            s.unwrap();
            assert_eq!(client.key_exchange_group(), Some(KeyExchangeGroup::P256));
            assert_eq!(server.key_exchange_group(), Some(KeyExchangeGroup::P256));
        }
    });
}

#[test]
fn disjoint_groups_fail_the_handshake() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client, server, c, s) = cipher_pair(
            &pki,
            |client| {
                client
                    .ssl_configuration_mut()
                    .set_key_exchange_groups(vec![KeyExchangeGroup::X25519]);
            },
            |server| {
                server
                    .ssl_configuration_mut()
                    .set_key_exchange_groups(vec![KeyExchangeGroup::P256]);
            },
        );
        assert!(matches!(c, Err(Error::HandshakeFailed(_))), "client: {c:?}");
        assert!(matches!(s, Err(Error::HandshakeFailed(_))), "server: {s:?}");
        assert!(client.key_exchange_group().is_none() && !server.is_encrypted());
    });
}

#[test]
fn default_peers_agree_on_post_quantum_x25519mlkem768() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, server) = encrypted_pair(&pki);
        assert_eq!(
            client.key_exchange_group(),
            Some(KeyExchangeGroup::X25519MlKem768)
        );
        assert_eq!(
            server.key_exchange_group(),
            Some(KeyExchangeGroup::X25519MlKem768)
        );
        assert_eq!(client.session_protocol(), SslProtocol::TlsV1_3);
        client.disconnect_from_host();

        // The default ClientHello offers the hybrid first, X25519 next.
        let (client_end, mut server_end) = pair();
        let mut probe = pki.client_socket(client_end);
        probe
            .start_client_encryption()
            .expect("the handshake starts");
        let hello = client_hello_of(&mut probe, &mut server_end);
        assert_eq!(
            hello.groups[..2],
            [
                KeyExchangeGroup::X25519MlKem768.code(),
                KeyExchangeGroup::X25519.code()
            ]
        );
        assert_eq!(hello.key_shares[0], KeyExchangeGroup::X25519MlKem768.code());
    });
}

#[test]
fn post_quantum_groups_alone_cannot_serve_tls12() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, _server_end) = pair();
        let mut client = pki.client_socket(client_end);
        client.set_protocol(SslProtocol::TlsV1_2);
        client
            .ssl_configuration_mut()
            .set_key_exchange_groups(vec![KeyExchangeGroup::X25519MlKem768]);
        let error = client.start_client_encryption().unwrap_err();
        assert!(
            matches!(
                error,
                Error::NoUsableKeyExchangeGroup {
                    protocol: SslProtocol::TlsV1_2
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("TLS 1.3"), "{error}");
        assert_eq!(client.error(), Some(SocketError::SslInvalidUserDataError));
    });
}

#[test]
fn group_settings_keep_order_drop_repeats_and_reject_unknown_names() {
    let mut configuration = SslConfiguration::new();
    assert_eq!(
        configuration.key_exchange_groups(),
        KeyExchangeGroup::defaults()
    );
    configuration.set_key_exchange_groups(vec![
        KeyExchangeGroup::P384,
        KeyExchangeGroup::X25519,
        KeyExchangeGroup::P384,
    ]);
    assert_eq!(
        configuration.key_exchange_groups(),
        [KeyExchangeGroup::P384, KeyExchangeGroup::X25519]
    );
    let error = configuration
        .set_key_exchange_group_list("X25519:ffdhe2048")
        .unwrap_err();
    assert!(error.to_string().contains("ffdhe2048"), "{error}");
    assert_eq!(
        configuration.key_exchange_groups(),
        [KeyExchangeGroup::P384, KeyExchangeGroup::X25519],
        "a bad list changes nothing"
    );
    configuration.set_key_exchange_groups(Vec::new());
    assert_eq!(
        configuration.key_exchange_groups(),
        KeyExchangeGroup::defaults()
    );
}

// ---------------------------------------------------------------------------
// Ciphers
// ---------------------------------------------------------------------------

fn cipher_pair(
    pki: &TestPki,
    client_setup: impl FnOnce(&mut SslSocket<MemoryStream>),
    server_setup: impl FnOnce(&mut SslSocket<MemoryStream>),
) -> (
    SslSocket<MemoryStream>,
    SslSocket<MemoryStream>,
    sslsocket::Result<()>,
    sslsocket::Result<()>,
) {
    let (client_end, server_end) = pair();
    let mut client = pki.client_socket(client_end);
    let mut server = pki.server_socket(server_end);
    client_setup(&mut client);
    server_setup(&mut server);
    client
        .start_client_encryption()
        .expect("the handshake starts");
    server
        .start_server_encryption()
        .expect("the handshake starts");
    let (c, s) = handshake(&mut client, &mut server);
    (client, server, c, s)
}

#[test]
fn a_client_offering_one_tls12_cipher_gets_it() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, mut server_end) = pair();
        let mut probe = pki.client_socket(client_end);
        probe.set_protocol(SslProtocol::TlsV1_2);
        probe
            .set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
            .unwrap();
        probe
            .start_client_encryption()
            .expect("the handshake starts");
        let hello = client_hello_of(&mut probe, &mut server_end);
        let offered: Vec<u16> = hello
            .cipher_suites
            .iter()
            .copied()
            .filter(|&s| s != 0x00ff) // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
            .collect();
        assert_eq!(offered, [0xc02b], "offered {:04x?}", hello.cipher_suites);

        let (client, server, c, s) = cipher_pair(
            &pki,
            |client| {
                client.set_protocol(SslProtocol::TlsV1_2);
                client
                    .set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
                    .unwrap();
            },
            |_| {},
        );
        c.unwrap();
        s.unwrap();
        for socket_cipher in [client.session_cipher(), server.session_cipher()] {
            let cipher = socket_cipher.expect("a cipher");
            assert_eq!(cipher.name(), "ECDHE-ECDSA-AES128-GCM-SHA256");
            assert_eq!(cipher.protocol(), SslProtocol::TlsV1_2);
        }
    });
}

#[test]
fn disjoint_cipher_lists_fail_the_handshake() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server, c, s) = cipher_pair(
            &pki,
            |client| {
                client.set_protocol(SslProtocol::TlsV1_2);
                client
                    .set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
                    .unwrap();
            },
            |server| {
                server.set_protocol(SslProtocol::TlsV1_2);
                server
                    .set_cipher_list("ECDHE-ECDSA-AES256-GCM-SHA384")
                    .unwrap();
            },
        );
        assert!(matches!(c, Err(Error::HandshakeFailed(_))), "client: {c:?}");
        assert!(matches!(s, Err(Error::HandshakeFailed(_))), "server: {s:?}");
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        assert_eq!(server.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(!client.is_encrypted() && !server.is_encrypted());
        assert!(client.session_cipher().is_none());
        // The server told the client why.
        let server_events = events(&mut server);
        assert!(
            server_events.iter().any(|e| matches!(
                e,
                Event::AlertSent {
                    level: AlertLevel::Fatal,
                    ..
                }
            )),
            "{server_events:?}"
        );
        let client_events = events(&mut client);
        assert!(
            client_events.iter().any(|e| matches!(
                e,
                Event::AlertReceived {
                    level: AlertLevel::Fatal,
                    ..
                }
            )),
            "{client_events:?}"
        );
    });
}

#[test]
fn server_cipher_preference_wins_unless_disabled() {
    within(GUARD, || {
        let pki = TestPki::new();
        let cases = [
            (
                SslProtocol::TlsV1_2,
                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
            ),
            (
                SslProtocol::TlsV1_3,
                "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
                "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
            ),
        ];
        for (protocol, server_list, client_list) in cases {
            let server_first = server_list.split(':').next().unwrap();
            let client_first = client_list.split(':').next().unwrap();
            for disable in [false, true] {
                let (client, _server, c, s) = cipher_pair(
                    &pki,
                    |client| {
                        client.set_protocol(protocol);
                        client.set_cipher_list(client_list).unwrap();
                    },
                    |server| {
                        server.set_protocol(protocol);
                        server.set_cipher_list(server_list).unwrap();
                        server.ssl_configuration_mut().set_ssl_option(
                            SslOption::SslOptionDisableServerCipherPreference,
                            disable,
                        );
                    },
                );
                c.unwrap();
                s.unwrap();
                let expected = if disable { client_first } else { server_first };
                assert_eq!(
                    client.session_cipher().map(|c| c.name()),
                    Some(expected),
                    "{protocol}, server preference disabled: {disable}"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------
// ALPN
// ---------------------------------------------------------------------------

#[test]
fn alpn_negotiates_a_common_protocol() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client, server, c, s) = cipher_pair(
            &pki,
            |client| {
                client
                    .set_allowed_next_protocols(["h2", "http/1.1"])
                    .unwrap();
            },
            |server| {
                server.set_allowed_next_protocols(["http/1.1"]).unwrap();
            },
        );
        c.unwrap();
        s.unwrap();
        assert_eq!(
            client.next_negotiated_protocol(),
            Some(b"http/1.1".to_vec())
        );
        assert_eq!(
            server.next_negotiated_protocol(),
            Some(b"http/1.1".to_vec())
        );

        // The client offers its list in order.
        let (client_end, mut server_end) = pair();
        let mut probe = pki.client_socket(client_end);
        probe
            .set_allowed_next_protocols(["h2", "http/1.1"])
            .unwrap();
        probe
            .start_client_encryption()
            .expect("the handshake starts");
        let hello = client_hello_of(&mut probe, &mut server_end);
        assert_eq!(hello.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);

        // Nothing configured: nothing negotiated.
        let (client, server) = encrypted_pair(&pki);
        assert_eq!(client.next_negotiated_protocol(), None);
        assert_eq!(server.next_negotiated_protocol(), None);
    });
}

// ---------------------------------------------------------------------------
// Session resumption
// ---------------------------------------------------------------------------

/// One connection between a client made from `client_configuration` and a
/// server made from `server_configuration`. The server writes a line after
/// the handshake and the client reads it, so that TLS 1.3 tickets (sent
/// after the handshake) have arrived before the connection closes.
fn connect_once(
    client_configuration: &SslConfiguration,
    server_configuration: &SslConfiguration,
    client_setup: impl FnOnce(&mut SslSocket<MemoryStream>),
) -> (SslSocket<MemoryStream>, sslsocket::Result<()>) {
    let (client_end, server_end) = pair();
    let mut client = SslSocket::from_stream(client_end);
    client.set_ssl_configuration(client_configuration.clone());
    client_setup(&mut client);
    client
        .start_client_encryption()
        .expect("the handshake starts");
    let mut server = SslSocket::from_stream(server_end);
    server.set_ssl_configuration(server_configuration.clone());
    server
        .start_server_encryption()
        .expect("the handshake starts");
    let ((), result) = both(
        || {
            if server.wait_for_encrypted(Some(WAIT)).is_ok() {
                let _ = server.write_all(b"welcome\n");
                let _ = server.wait_for_disconnected(Some(WAIT));
            }
        },
        || {
            let result = client.wait_for_encrypted(Some(WAIT));
            if result.is_ok() {
                assert_eq!(read_n(&mut client, 8), b"welcome\n");
            }
            client.disconnect_from_host();
            result
        },
    );
    (client, result)
}

/// Qt servers resume sessions with their default settings.
#[test]
fn a_second_client_resumes_the_session() {
    within(GUARD, || {
        let pki = TestPki::new();
        let client_configuration = pki.client_configuration();
        let server_configuration = pki.server_configuration();
        let (first, result) = connect_once(&client_configuration, &server_configuration, |_| {});
        result.unwrap();
        assert!(!first.is_session_resumed());
        let (second, result) = connect_once(&client_configuration, &server_configuration, |_| {});
        result.unwrap();
        assert!(
            second.is_session_resumed(),
            "the second connection did a full handshake"
        );
        assert_eq!(second.session_protocol(), SslProtocol::TlsV1_3);
        assert_eq!(second.peer_certificate(), Some(pki.server.certificate()));
    });
}

#[test]
fn a_second_client_resumes_the_session_with_a_verify_none_server() {
    within(GUARD, || {
        let pki = TestPki::new();
        let client_configuration = pki.client_configuration();
        let mut server_configuration = pki.server_configuration();
        server_configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
        let (first, result) = connect_once(&client_configuration, &server_configuration, |_| {});
        result.unwrap();
        assert!(!first.is_session_resumed());
        let (second, result) = connect_once(&client_configuration, &server_configuration, |_| {});
        result.unwrap();
        assert!(second.is_session_resumed());
        assert!(second.ssl_handshake_errors().is_empty());
    });
}

#[test]
fn no_resumption_without_tickets_on_tls13_or_without_session_sharing() {
    within(GUARD, || {
        let pki = TestPki::new();
        // Tickets off on both sides, TLS 1.3.
        let mut client_configuration = pki.client_configuration();
        let mut server_configuration = pki.server_configuration();
        server_configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
        for configuration in [&mut client_configuration, &mut server_configuration] {
            configuration.set_protocol(SslProtocol::TlsV1_3);
            configuration.set_ssl_option(SslOption::SslOptionDisableSessionTickets, true);
        }
        for _ in 0..2 {
            let (client, result) =
                connect_once(&client_configuration, &server_configuration, |_| {});
            result.unwrap();
            assert!(!client.is_session_resumed(), "resumed without tickets");
        }

        // Session sharing off on the client.
        let mut client_configuration = pki.client_configuration();
        client_configuration.set_ssl_option(SslOption::SslOptionDisableSessionSharing, true);
        let mut server_configuration = pki.server_configuration();
        server_configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
        for _ in 0..2 {
            let (client, result) =
                connect_once(&client_configuration, &server_configuration, |_| {});
            result.unwrap();
            assert!(
                !client.is_session_resumed(),
                "resumed without session sharing"
            );
        }
    });
}

#[test]
fn a_lenient_client_does_not_share_its_session_with_a_strict_one() {
    within(GUARD, || {
        let pki = TestPki::new();
        // A certificate for another name: a strict client must refuse it.
        let wrong = pki.intermediate.leaf(&LeafSpec {
            common_name: "other.test",
            dns: &["other.test"],
            ..LeafSpec::default()
        });
        let mut server_configuration = configuration_with_identity(
            vec![wrong.certificate(), pki.intermediate.certificate()],
            &wrong,
        );
        // A server that issues tickets, so that there is something to share.
        server_configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
        let client_configuration = pki.client_configuration();

        let (lenient, result) =
            connect_once(&client_configuration, &server_configuration, |socket| {
                socket.ignore_ssl_errors()
            });
        result.unwrap();
        assert_eq!(
            codes(&lenient.ssl_handshake_errors()),
            [SslErrorCode::HostNameMismatch]
        );

        let (strict, result) = connect_once(&client_configuration, &server_configuration, |_| {});
        match result {
            Err(Error::VerificationFailed { errors }) => {
                assert_eq!(codes(&errors), [SslErrorCode::HostNameMismatch]);
            }
            other => panic!("the strict client accepted a bad certificate: {other:?}"),
        }
        assert!(!strict.is_session_resumed());
    });
}

// ---------------------------------------------------------------------------
// Mutual TLS
// ---------------------------------------------------------------------------

#[test]
fn mutual_tls_the_server_sees_the_client_certificate() {
    within(GUARD, || {
        let pki = TestPki::new();
        let client_id = pki.client_identity("client one");
        let (client, server, c, s) = cipher_pair(
            &pki,
            |client| {
                let key = SslKey::from_pem(client_id.key_pem(), KeyType::PrivateKey, None)
                    .expect("client key");
                client
                    .ssl_configuration_mut()
                    .set_local_identity(vec![client_id.certificate()], key)
                    .unwrap();
            },
            |server| {
                server.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
                server.set_ca_certificates(vec![pki.root.certificate()]);
            },
        );
        c.unwrap();
        s.unwrap();
        assert_eq!(server.peer_certificate(), Some(client_id.certificate()));
        assert_eq!(server.peer_certificate_chain(), [client_id.certificate()]);
        assert!(server.ssl_handshake_errors().is_empty());
        assert_eq!(client.local_certificate(), Some(&client_id.certificate()));
    });
}

#[test]
fn a_verify_peer_server_rejects_a_client_without_certificate() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, server, c, s) = cipher_pair(
            &pki,
            |_| {},
            |server| {
                server.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
                server.set_ca_certificates(vec![pki.root.certificate()]);
            },
        );
        match &s {
            Err(Error::VerificationFailed { errors }) => {
                assert_eq!(codes(errors), [SslErrorCode::NoPeerCertificate]);
            }
            other => panic!("server: {other:?}"),
        }
        assert_eq!(
            codes(&server.ssl_handshake_errors()),
            [SslErrorCode::NoPeerCertificate]
        );
        assert_eq!(server.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(!server.is_encrypted());
        // TLS 1.3: the client may finish first; it learns of the refusal
        // when it next reads.
        if c.is_ok() {
            assert!(client.wait_for_ready_read(Some(WAIT)).is_err());
        }
    });
}

#[test]
fn a_query_peer_server_accepts_a_client_without_certificate() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (_client, server, c, s) = cipher_pair(
            &pki,
            |_| {},
            |server| {
                server.set_peer_verify_mode(PeerVerifyMode::QueryPeer);
            },
        );
        c.unwrap();
        s.unwrap();
        assert_eq!(server.peer_certificate(), None);
    });
}

// ---------------------------------------------------------------------------
// Verification through the socket
// ---------------------------------------------------------------------------

/// A client verifying the server as `name`, and its server.
fn verify_pair(
    pki: &TestPki,
    name: &str,
    client_setup: impl FnOnce(&mut SslSocket<MemoryStream>),
) -> (
    SslSocket<MemoryStream>,
    SslSocket<MemoryStream>,
    sslsocket::Result<()>,
    sslsocket::Result<()>,
) {
    let name = name.to_owned();
    cipher_pair(
        pki,
        move |client| {
            client.set_peer_verify_name(&name);
            client_setup(client);
        },
        |_| {},
    )
}

#[test]
fn a_wrong_host_name_fails_with_host_name_mismatch() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server, c, s) = verify_pair(&pki, "wrong.test", |_| {});
        let errors = match c {
            Err(Error::VerificationFailed { errors }) => errors,
            other => panic!("client: {other:?}"),
        };
        assert_eq!(codes(&errors), [SslErrorCode::HostNameMismatch]);
        assert_eq!(errors[0].certificate(), Some(&pki.server.certificate()));
        assert_eq!(client.ssl_handshake_errors(), errors);
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(
            client
                .error_string()
                .contains(SslErrorCode::HostNameMismatch.message()),
            "{}",
            client.error_string()
        );
        assert!(!client.is_encrypted());
        assert!(s.is_err(), "the server went on: {s:?}");
        assert!(!server.is_encrypted());

        let client_events = events(&mut client);
        assert!(
            client_events.contains(&Event::AlertSent {
                level: AlertLevel::Fatal,
                kind: AlertType::BadCertificate
            }),
            "{client_events:?}"
        );
        assert!(!client_events.contains(&Event::Encrypted));
        let server_events = events(&mut server);
        assert!(
            server_events.contains(&Event::AlertReceived {
                level: AlertLevel::Fatal,
                kind: AlertType::BadCertificate
            }),
            "{server_events:?}"
        );
    });
}

#[test]
fn ignoring_the_listed_error_lets_the_handshake_through() {
    within(GUARD, || {
        let pki = TestPki::new();
        let leaf = pki.server.certificate();
        let expected = vec![SslError::with_certificate(
            SslErrorCode::HostNameMismatch,
            leaf.clone(),
        )];
        let listed = expected.clone();
        let (mut client, _server, c, s) = verify_pair(&pki, "wrong.test", move |client| {
            client.ignore_listed_ssl_errors(listed);
        });
        c.unwrap();
        s.unwrap();
        assert!(client.is_encrypted());
        assert_eq!(client.ssl_handshake_errors(), expected);
        let client_events = milestones(&events(&mut client));
        let errors_at = client_events
            .iter()
            .position(|e| *e == Event::SslErrors(expected.clone()));
        let encrypted_at = client_events.iter().position(|e| *e == Event::Encrypted);
        assert!(
            errors_at.is_some() && errors_at < encrypted_at,
            "{client_events:?}"
        );

        // The same code bound to another certificate does not cover it.
        let other = pki.intermediate.certificate();
        let (client, _server, c, _s) = verify_pair(&pki, "wrong.test", move |client| {
            client.ignore_listed_ssl_errors(vec![SslError::with_certificate(
                SslErrorCode::HostNameMismatch,
                other,
            )]);
        });
        assert!(matches!(c, Err(Error::VerificationFailed { .. })), "{c:?}");
        assert!(!client.is_encrypted());

        // An empty list ignores nothing.
        let (_client, _server, c, _s) = verify_pair(&pki, "wrong.test", |client| {
            client.ignore_listed_ssl_errors(Vec::new());
        });
        assert!(matches!(c, Err(Error::VerificationFailed { .. })), "{c:?}");
    });
}

#[test]
fn ignore_ssl_errors_ignores_everything() {
    within(GUARD, || {
        let pki = TestPki::new();
        let stranger = TestPki::new();
        // Wrong name and a root the client does not trust.
        let (client, _server, c, s) = verify_pair(&pki, "wrong.test", |client| {
            client.set_ca_certificates(vec![stranger.root.certificate()]);
            client.ignore_ssl_errors();
        });
        c.unwrap();
        s.unwrap();
        let found = codes(&client.ssl_handshake_errors());
        assert_eq!(found.first(), Some(&SslErrorCode::HostNameMismatch));
        assert!(found.len() >= 2, "{found:?}");
    });
}

#[test]
fn an_ssl_errors_handler_can_ignore_all() {
    within(GUARD, || {
        let pki = TestPki::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let (client, _server, c, s) = verify_pair(&pki, "wrong.test", move |client| {
            client.on_ssl_errors(move |errors| {
                seen.fetch_add(1, Ordering::SeqCst);
                assert_eq!(codes(errors), [SslErrorCode::HostNameMismatch]);
                SslErrorsDecision::IgnoreAll
            });
        });
        c.unwrap();
        s.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            codes(&client.ssl_handshake_errors()),
            [SslErrorCode::HostNameMismatch]
        );

        // No errors: the handler is not called.
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let (_client, _server, c, _s) = verify_pair(&pki, SERVER_NAME, move |client| {
            client.on_ssl_errors(move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
                SslErrorsDecision::NoChange
            });
        });
        c.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_peer_verify_error_handler_can_abort() {
    within(GUARD, || {
        let pki = TestPki::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let (client, _server, c, s) = verify_pair(&pki, "wrong.test", move |client| {
            client.ignore_ssl_errors();
            client.on_peer_verify_error(move |error| {
                seen.fetch_add(1, Ordering::SeqCst);
                assert_eq!(error.code(), SslErrorCode::HostNameMismatch);
                PeerVerifyDecision::Abort
            });
        });
        assert!(matches!(c, Err(Error::VerificationFailed { .. })), "{c:?}");
        assert!(s.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(!client.is_encrypted());
    });
}

#[test]
fn query_peer_and_verify_none_clients_continue_with_errors() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, _server, c, s) = verify_pair(&pki, "wrong.test", |client| {
            client.set_peer_verify_mode(PeerVerifyMode::QueryPeer);
        });
        c.unwrap();
        s.unwrap();
        let errors = client.ssl_handshake_errors();
        assert_eq!(codes(&errors), [SslErrorCode::HostNameMismatch]);
        assert!(events(&mut client).contains(&Event::SslErrors(errors)));

        // VerifyNone: an untrusted chain collects no chain errors.
        let stranger = TestPki::new();
        let (client, _server, c, s) = verify_pair(&pki, SERVER_NAME, |client| {
            client.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
            client.set_ca_certificates(vec![stranger.root.certificate()]);
        });
        c.unwrap();
        s.unwrap();
        assert!(
            client.ssl_handshake_errors().is_empty(),
            "{:?}",
            codes(&client.ssl_handshake_errors())
        );
    });
}

// ---------------------------------------------------------------------------
// SNI
// ---------------------------------------------------------------------------

fn memory_client_hello(
    pki: &TestPki,
    setup: impl FnOnce(&mut SslSocket<MemoryStream>),
) -> ClientHello {
    let (client_end, mut server_end) = pair();
    let mut client = pki.client_socket(client_end);
    setup(&mut client);
    client
        .start_client_encryption()
        .expect("the handshake starts");
    assert_eq!(client.error(), None, "{}", client.error_string());
    client_hello_of(&mut client, &mut server_end)
}

#[test]
fn sni_carries_the_peer_verify_name() {
    within(GUARD, || {
        let pki = TestPki::new();
        let hello = memory_client_hello(&pki, |_| {});
        assert_eq!(hello.server_name.as_deref(), Some(SERVER_NAME));

        let hello = memory_client_hello(&pki, |client| {
            client.set_peer_verify_name("Server.Test.");
        });
        assert_eq!(
            hello.server_name.as_deref(),
            Some(SERVER_NAME),
            "lowercase, without the trailing dot"
        );
    });
}

#[test]
fn no_sni_when_disabled() {
    within(GUARD, || {
        let pki = TestPki::new();
        let hello = memory_client_hello(&pki, |client| {
            client
                .ssl_configuration_mut()
                .set_ssl_option(SslOption::SslOptionDisableServerNameIndication, true);
        });
        assert_eq!(hello.server_name, None);

        // The certificate is still checked against the name.
        let (client, _server, c, s) = verify_pair(&pki, SERVER_NAME, |client| {
            client
                .ssl_configuration_mut()
                .set_ssl_option(SslOption::SslOptionDisableServerNameIndication, true);
        });
        c.unwrap();
        s.unwrap();
        assert!(client.is_encrypted());
    });
}

#[test]
fn no_sni_for_an_ip_address() {
    within(GUARD, || {
        let pki = TestPki::new();
        let hello = memory_client_hello(&pki, |client| client.set_peer_verify_name("127.0.0.1"));
        assert_eq!(hello.server_name, None);
        let hello = tcp_client_hello(&pki, "127.0.0.1");
        assert_eq!(hello.server_name, None);
    });
}

#[test]
fn sni_over_tcp_carries_the_host_connected_to() {
    within(GUARD, || {
        let pki = TestPki::new();
        let hello = tcp_client_hello(&pki, "localhost");
        assert_eq!(hello.server_name.as_deref(), Some("localhost"));
    });
}

// ---------------------------------------------------------------------------
// TCP specifics
// ---------------------------------------------------------------------------

fn tcp_echo_server(pki: &TestPki, listener: TcpListener) -> std::thread::JoinHandle<()> {
    let configuration = pki.server_configuration();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut socket = SslSocket::from_stream(stream);
        socket.set_ssl_configuration(configuration);
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        if socket.wait_for_encrypted(Some(WAIT)).is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if socket.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        socket.disconnect_from_host();
    })
}

#[test]
fn connecting_to_an_ip_literal_checks_the_ip_san() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = tcp_listener();
        let server = tcp_echo_server(&pki, listener);
        let mut client = tcp_client(&pki);
        client.connect_to_host_encrypted("127.0.0.1", port);
        client.wait_for_encrypted(Some(WAIT)).unwrap();
        assert_eq!(client.peer_verify_name(), Some("127.0.0.1"));
        // Small enough for the socket buffers: the echo comes back while
        // this side is still writing.
        let data = pattern(8 * 1024);
        client.write_all(&data).unwrap();
        assert!(read_n(&mut client, data.len()) == data);
        client.disconnect_from_host();
        server.join().unwrap();
    });
}

#[test]
fn connecting_to_a_refused_port_fails() {
    within(GUARD, || {
        let port = {
            let (listener, port) = tcp_listener();
            drop(listener);
            port
        };
        let mut client = SslSocket::new();
        client.connect_to_host_encrypted("127.0.0.1", port);
        let result = client.wait_for_encrypted(Some(WAIT));
        assert!(
            matches!(result, Err(Error::ConnectFailed { .. })),
            "{result:?}"
        );
        assert_eq!(client.error(), Some(SocketError::ConnectionRefusedError));
        assert_eq!(client.state(), SocketState::UnconnectedState);
        assert_eq!(
            milestones(&events(&mut client)),
            [
                Event::StateChanged(SocketState::HostLookupState),
                Event::StateChanged(SocketState::ConnectingState),
                Event::StateChanged(SocketState::UnconnectedState),
            ]
        );

        let mut plain = SslSocket::new();
        plain.connect_to_host("localhost", port);
        let result = plain.wait_for_connected(Some(WAIT));
        assert!(
            matches!(result, Err(Error::ConnectFailed { .. })),
            "{result:?}"
        );
        assert_eq!(plain.error(), Some(SocketError::ConnectionRefusedError));
    });
}

#[test]
fn an_unknown_host_is_not_found() {
    within(GUARD, || {
        let mut client = SslSocket::new();
        client.connect_to_host_encrypted("no-such-host.invalid", 443);
        let result = client.wait_for_encrypted(Some(WAIT));
        assert!(
            matches!(result, Err(Error::HostNotFound { .. })),
            "{result:?}"
        );
        assert_eq!(client.error(), Some(SocketError::HostNotFoundError));
        assert_eq!(client.state(), SocketState::UnconnectedState);
    });
}

#[test]
fn connecting_twice_is_refused_without_disturbing_the_connection() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = tcp_listener();
        let server = tcp_echo_server(&pki, listener);
        let mut client = tcp_client(&pki);
        client.connect_to_host_encrypted("localhost", port);
        client.connect_to_host_encrypted("localhost", port);
        assert_eq!(client.error(), Some(SocketError::OperationError));
        client.wait_for_encrypted(Some(WAIT)).unwrap();
        client.connect_to_host("localhost", port);
        assert_eq!(client.error(), Some(SocketError::OperationError));
        client.write_all(b"still fine\n").unwrap();
        assert_eq!(read_n(&mut client, 11), b"still fine\n");
        client.disconnect_from_host();
        server.join().unwrap();
    });
}

#[test]
fn std_write_completes_a_pending_connection() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (listener, port) = tcp_listener();
        let server = tcp_echo_server(&pki, listener);
        let mut client = tcp_client(&pki);
        client.connect_to_host_encrypted("localhost", port);
        // No wait_for_*: std::io::Write connects and encrypts first.
        client.write_all(b"implicit\n").unwrap();
        assert!(client.is_encrypted());
        assert_eq!(read_n(&mut client, 9), b"implicit\n");
        client.disconnect_from_host();
        server.join().unwrap();
    });
}

#[test]
fn identity_helper_matches_the_pki() {
    let pki = TestPki::new();
    let configuration = pki.server_configuration();
    assert_eq!(configuration.local_certificate_chain(), pki.server_chain());
    let client = pki.client_configuration();
    assert_eq!(client.peer_verify_name(), Some(SERVER_NAME));
    assert_eq!(client.ca_certificates(), [pki.root.certificate()]);
}

#[test]
fn the_memory_pipe_behaves_like_a_socket() {
    within(GUARD, || {
        use std::io::ErrorKind;
        let (mut a, mut b) = pair_bounded(4);
        // Read timeout.
        a.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(a.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        // Writes take what fits; a full pipe times out.
        b.set_write_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        assert_eq!(b.write(b"abcdef").unwrap(), 4);
        assert_eq!(b.write(b"ef").unwrap_err().kind(), ErrorKind::TimedOut);
        assert_eq!(a.available(), 4);
        assert_eq!(a.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"abcd");
        // Shutdown: the peer reads what was sent, then end of file; writes
        // fail both ways.
        b.write_all(b"xy").unwrap();
        Transport::shutdown(&mut b).unwrap();
        assert_eq!(a.read(&mut buf).unwrap(), 2);
        assert_eq!(a.read(&mut buf).unwrap(), 0);
        assert_eq!(a.write(b"z").unwrap_err().kind(), ErrorKind::BrokenPipe);
        assert_eq!(b.write(b"z").unwrap_err().kind(), ErrorKind::BrokenPipe);
        // Dropping the last handle closes too; a clone keeps the end open.
        let (c, mut d) = pair();
        let c2 = c.try_clone();
        drop(c);
        d.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        assert_eq!(d.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        drop(c2);
        assert_eq!(d.read(&mut buf).unwrap(), 0);
        assert!(d.peer_closed());
    });
}
