//! How the blocking `SslSocket` fails: peers that send garbage, close or
//! stall in the middle of a handshake, streams cut short after it, and what
//! a failed socket does afterwards. Every scenario runs in memory, inside
//! `within(GUARD, ..)`, and every wait has a timeout: nothing may panic in
//! the library, and nothing may hang.

mod common;

use common::pki::AsSslCertificate;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::memory::{encrypted_pair, pair, within, MemoryStream, TestPki, GUARD, WAIT};
use sslsocket::{
    AlertLevel, AlertType, Error, Event, KeyType, SocketError, SocketState, SslKey, SslSocket,
    Transport,
};

/// How long a failure may take to be noticed when the peer does something
/// definite (garbage, close): far less than the timeouts given.
const PROMPT: Duration = Duration::from_secs(5);

fn events<S>(socket: &mut SslSocket<S>) -> Vec<Event> {
    std::iter::from_fn(|| socket.next_event()).collect()
}

/// The first record a client sends (its ClientHello), made by a real client.
fn real_client_hello(pki: &TestPki) -> Vec<u8> {
    let (client_end, mut server_end) = pair();
    let mut client = pki.client(client_end);
    client.flush().expect("the ClientHello goes out");
    server_end
        .read_tls_record(WAIT)
        .expect("a ClientHello record")
}

/// A client in client mode whose peer is a raw pipe end, after the client
/// has sent its ClientHello (already read from the raw end).
fn client_facing_raw(pki: &TestPki) -> (SslSocket<MemoryStream>, MemoryStream) {
    let (client_end, mut raw) = pair();
    let mut client = pki.client(client_end);
    client.flush().expect("the ClientHello goes out");
    let hello = raw.read_tls_record(WAIT).expect("a ClientHello record");
    assert_eq!(hello[0], 0x16);
    (client, raw)
}

/// A server in server mode whose peer is a raw pipe end.
fn server_facing_raw(pki: &TestPki) -> (SslSocket<MemoryStream>, MemoryStream) {
    let (raw, server_end) = pair();
    (pki.server(server_end), raw)
}

/// Runs `wait` and checks that it failed promptly (not by running out of
/// its own, generous, time).
fn fails_promptly<T: std::fmt::Debug>(wait: impl FnOnce() -> sslsocket::Result<T>) -> Error {
    let started = Instant::now();
    let result = wait();
    let elapsed = started.elapsed();
    let error = match result {
        Ok(value) => panic!("expected a failure, got Ok({value:?})"),
        Err(e) => e,
    };
    assert!(
        !matches!(error, Error::Timeout { .. }),
        "waited for the timeout instead of noticing the failure: {error}"
    );
    assert!(elapsed < PROMPT, "took {elapsed:?} to fail with {error}");
    error
}

/// A deterministic byte generator (no dependency on a RNG crate).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Garbage during the handshake
// ---------------------------------------------------------------------------

#[test]
fn garbage_instead_of_a_server_hello_fails_the_handshake() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut raw) = client_facing_raw(&pki);
        raw.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let error = fails_promptly(|| client.wait_for_encrypted(Some(WAIT)));
        assert!(
            matches!(error, Error::HandshakeFailed(_) | Error::Tls(_)),
            "{error:?}"
        );
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(!client.error_string().is_empty());
        assert!(!client.is_encrypted());
        // The client says why before giving up.
        let client_events = events(&mut client);
        assert!(
            client_events.iter().any(|e| matches!(
                e,
                Event::AlertSent {
                    level: AlertLevel::Fatal,
                    ..
                }
            )),
            "{client_events:?}"
        );
    });
}

#[test]
fn garbage_instead_of_a_client_hello_fails_the_handshake() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut server, mut raw) = server_facing_raw(&pki);
        raw.write_all(b"GET / HTTP/1.1\r\nHost: server.test\r\n\r\n")
            .unwrap();
        let error = fails_promptly(|| server.wait_for_encrypted(Some(WAIT)));
        assert!(
            matches!(error, Error::HandshakeFailed(_) | Error::Tls(_)),
            "{error:?}"
        );
        assert_eq!(server.error(), Some(SocketError::SslHandshakeFailedError));
        assert!(!server.is_encrypted());
    });
}

#[test]
fn a_fatal_alert_from_the_server_fails_the_handshake() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut raw) = client_facing_raw(&pki);
        // alert(21), TLS 1.2 record version, length 2, fatal(2), handshake_failure(40)
        raw.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40])
            .unwrap();
        let error = fails_promptly(|| client.wait_for_encrypted(Some(WAIT)));
        assert!(matches!(error, Error::HandshakeFailed(_)), "{error:?}");
        assert_eq!(client.error(), Some(SocketError::SslHandshakeFailedError));
        let client_events = events(&mut client);
        assert!(
            client_events.contains(&Event::AlertReceived {
                level: AlertLevel::Fatal,
                kind: AlertType::HandshakeFailure
            }),
            "{client_events:?}"
        );
    });
}

#[test]
fn random_garbage_never_panics_or_hangs() {
    within(GUARD, || {
        let pki = TestPki::new();
        let hello = real_client_hello(&pki);
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for seed in 0..12u64 {
            let len = [1, 5, 7, 64, 300, 2000, 17_000][seed as usize % 7];
            cases.push(noise(seed, len));
            // Plausible record headers with random bodies.
            let mut record = vec![0x16, 0x03, 0x03];
            let body = noise(seed + 100, 40 + seed as usize * 37);
            record.extend_from_slice(&(body.len() as u16).to_be_bytes());
            record.extend_from_slice(&body);
            cases.push(record);
        }
        // A real ClientHello with flipped bytes (given to servers and clients).
        for at in [5usize, 9, 43, 80, 120] {
            let mut damaged = hello.clone();
            if at < damaged.len() {
                damaged[at] ^= 0xff;
            }
            cases.push(damaged);
        }
        // A record claiming more than the maximum length.
        cases.push(vec![0x16, 0x03, 0x03, 0xff, 0xff, 0x01, 0x02]);

        for (n, garbage) in cases.iter().enumerate() {
            // Client side.
            let (mut client, mut raw) = client_facing_raw(&pki);
            raw.write_all(garbage).unwrap();
            drop(raw); // then the peer hangs up
            let error = fails_promptly(|| client.wait_for_encrypted(Some(WAIT)));
            assert!(!client.is_encrypted(), "case {n}: {error}");

            // Server side.
            let (mut server, mut raw) = server_facing_raw(&pki);
            raw.write_all(garbage).unwrap();
            drop(raw);
            let error = fails_promptly(|| server.wait_for_encrypted(Some(WAIT)));
            assert!(!server.is_encrypted(), "case {n}: {error}");
        }
    });
}

// ---------------------------------------------------------------------------
// The peer closes mid-handshake
// ---------------------------------------------------------------------------

#[test]
fn a_server_that_hangs_up_mid_handshake_is_remote_host_closed() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, raw) = client_facing_raw(&pki);
        drop(raw);
        let error = fails_promptly(|| client.wait_for_encrypted(Some(WAIT)));
        assert!(matches!(error, Error::RemoteHostClosed), "{error:?}");
        assert_eq!(client.error(), Some(SocketError::RemoteHostClosedError));
        assert!(!client.is_encrypted());
    });
}

#[test]
fn a_client_that_hangs_up_mid_handshake_is_remote_host_closed() {
    within(GUARD, || {
        let pki = TestPki::new();
        let hello = real_client_hello(&pki);
        for cut in [0, 5, hello.len() / 2, hello.len()] {
            let (mut server, mut raw) = server_facing_raw(&pki);
            raw.write_all(&hello[..cut]).unwrap();
            raw.shutdown().unwrap();
            let error = fails_promptly(|| server.wait_for_encrypted(Some(WAIT)));
            assert!(
                matches!(error, Error::RemoteHostClosed),
                "cut at {cut}: {error:?}"
            );
            assert_eq!(server.error(), Some(SocketError::RemoteHostClosedError));
        }
    });
}

/// Qt: when the peer closes, the socket reports RemoteHostClosedError and
/// goes to UnconnectedState (emitting `disconnected`).
#[test]
fn a_peer_that_hangs_up_mid_handshake_leaves_the_socket_unconnected() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, raw) = client_facing_raw(&pki);
        drop(raw);
        let _ = client.wait_for_encrypted(Some(WAIT));
        assert_eq!(client.error(), Some(SocketError::RemoteHostClosedError));
        assert_eq!(client.state(), SocketState::UnconnectedState);
        assert!(events(&mut client).contains(&Event::Disconnected));
    });
}

// ---------------------------------------------------------------------------
// Truncation after the handshake
// ---------------------------------------------------------------------------

/// The peer goes away without close_notify after sending whole records.
/// Qt reports RemoteHostClosedError; rustls calls this an unexpected end of
/// file. The data that did arrive is delivered, then `std::io::Read` says
/// `UnexpectedEof` rather than a clean end of file.
#[test]
fn a_stream_truncated_after_the_handshake() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        server.write_all(b"partial answer").unwrap();
        server.abort(); // no close_notify

        let mut received = Vec::new();
        let outcome = client.read_to_end(&mut received);
        assert_eq!(received, b"partial answer", "{outcome:?}");
        match &outcome {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
            Ok(_) => panic!("a truncated stream read as a clean end of file"),
        }
        assert!(
            !events(&mut client).contains(&Event::AlertReceived {
                level: AlertLevel::Warning,
                kind: AlertType::CloseNotify
            }),
            "no close_notify was sent"
        );
        // Waiting for more data is an error, never a success or a hang.
        let started = Instant::now();
        let wait = client.wait_for_ready_read(Some(WAIT));
        assert!(wait.is_err(), "{wait:?}");
        assert!(started.elapsed() < PROMPT);
        assert!(client.error().is_some());
    });
}

/// The stream ends in the middle of a record: the data of that record is
/// lost, which must not look like a clean end of stream.
#[test]
fn a_stream_truncated_in_the_middle_of_a_record() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair();
        let tap = client_end.try_clone();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        let (server_result, client_result) = common::memory::both(
            || server.wait_for_encrypted(Some(WAIT)),
            || client.wait_for_encrypted(Some(WAIT)),
        );
        client_result.unwrap();
        server_result.unwrap();
        // Let tickets and anything else from the handshake be consumed.
        let _ = client.wait_for_ready_read(Some(Duration::from_millis(100)));

        server.write_all(&[b'x'; 1000]).unwrap();
        assert!(tap.wait_available(1000, WAIT) >= 1000);
        let record = tap.take_incoming();
        tap.inject(&record[..record.len() / 2]);
        server.abort();

        let mut received = Vec::new();
        let outcome = client.read_to_end(&mut received);
        match &outcome {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
            Ok(n) => panic!("a stream cut mid-record read as a clean end of file after {n} bytes"),
        }
        assert!(received.is_empty(), "half a record cannot be decrypted");
        let wait = client.wait_for_ready_read(Some(WAIT));
        assert!(wait.is_err(), "{wait:?}");
    });
}

// ---------------------------------------------------------------------------
// A peer that stalls
// ---------------------------------------------------------------------------

fn times_out_within(limit: Duration, wait: impl FnOnce() -> sslsocket::Result<()>) {
    let started = Instant::now();
    let result = wait();
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(elapsed >= limit - Duration::from_millis(10), "{elapsed:?}");
    assert!(elapsed < limit + Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn a_stalled_peer_mid_handshake_times_out() {
    within(GUARD, || {
        let pki = TestPki::new();
        let limit = Duration::from_millis(300);

        // The server never answers the ClientHello.
        let (mut client, _raw) = client_facing_raw(&pki);
        times_out_within(limit, || client.wait_for_encrypted(Some(limit)));
        assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));
        assert!(!client.is_encrypted());

        // The server stops in the middle of a record.
        let (mut client, mut raw) = client_facing_raw(&pki);
        raw.write_all(&[0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00])
            .unwrap();
        times_out_within(limit, || client.wait_for_encrypted(Some(limit)));
        assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));

        // The client sends half a ClientHello and stops.
        let hello = real_client_hello(&pki);
        let (mut server, mut raw) = server_facing_raw(&pki);
        raw.write_all(&hello[..hello.len() / 2]).unwrap();
        times_out_within(limit, || server.wait_for_encrypted(Some(limit)));
        assert_eq!(server.error(), Some(SocketError::SocketTimeoutError));

        // The client sends nothing at all.
        let (mut server, _raw) = server_facing_raw(&pki);
        times_out_within(limit, || server.wait_for_encrypted(Some(limit)));
    });
}

/// The stall shows up in `std::io::Read` as a timeout error once a read
/// timeout is set.
#[test]
fn std_read_with_a_read_timeout_times_out() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, _server) = encrypted_pair(&pki);
        client.set_read_timeout(Some(Duration::from_millis(200)));
        let started = Instant::now();
        let mut buf = [0u8; 16];
        let result = client.read(&mut buf);
        assert!(result.is_err(), "{result:?}");
        assert!(started.elapsed() < PROMPT);
        assert_eq!(client.error(), Some(SocketError::SocketTimeoutError));
    });
}

// ---------------------------------------------------------------------------
// Garbage after the handshake
// ---------------------------------------------------------------------------

#[test]
fn a_forged_record_after_the_handshake_is_an_error() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair();
        let tap = client_end.try_clone();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        let (server_result, client_result) = common::memory::both(
            || server.wait_for_encrypted(Some(WAIT)),
            || client.wait_for_encrypted(Some(WAIT)),
        );
        client_result.unwrap();
        server_result.unwrap();

        // application_data record whose authentication tag cannot verify.
        let mut forged = vec![0x17, 0x03, 0x03, 0x00, 0x30];
        forged.extend(std::iter::repeat_n(0x5a, 0x30));
        tap.inject(&forged);
        let error = fails_promptly(|| {
            // Tickets from the server may come first; read until the forgery.
            loop {
                client.wait_for_ready_read(Some(WAIT))?;
                let mut sink = [0u8; 64];
                client.read_available(&mut sink);
            }
            #[allow(unreachable_code)]
            Ok(())
        });
        assert!(matches!(error, Error::Tls(_)), "{error:?}");
        assert_eq!(client.error(), Some(SocketError::SslInternalError));
        let client_events = events(&mut client);
        assert!(
            client_events.contains(&Event::AlertSent {
                level: AlertLevel::Fatal,
                kind: AlertType::BadRecordMac
            }),
            "{client_events:?}"
        );

        // The server hears the alert.
        let error = fails_promptly(|| server.wait_for_ready_read(Some(WAIT)));
        assert!(
            matches!(error, Error::Tls(_) | Error::RemoteHostClosed),
            "{error:?}"
        );
    });
}

#[test]
fn plain_text_after_the_handshake_is_an_error() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair();
        let tap = server_end.try_clone();
        let mut client = pki.client(client_end);
        let mut server = pki.server(server_end);
        let (server_result, client_result) = common::memory::both(
            || server.wait_for_encrypted(Some(WAIT)),
            || client.wait_for_encrypted(Some(WAIT)),
        );
        client_result.unwrap();
        server_result.unwrap();
        tap.inject(b"QUIT\r\n");
        let error = fails_promptly(|| server.wait_for_ready_read(Some(WAIT)));
        assert!(matches!(error, Error::Tls(_)), "{error:?}");
        assert_eq!(server.error(), Some(SocketError::SslInternalError));
        let mut buf = [0u8; 8];
        assert!(server.read(&mut buf).is_err(), "reading after the failure");
    });
}

// ---------------------------------------------------------------------------
// After a failure
// ---------------------------------------------------------------------------

#[test]
fn writing_and_reading_after_a_failed_handshake_are_errors() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut raw) = client_facing_raw(&pki);
        raw.write_all(b"not TLS at all\r\n").unwrap();
        let _ = fails_promptly(|| client.wait_for_encrypted(Some(WAIT)));

        assert!(client.write_data(b"after the failure").is_err());
        assert!(client.write_all(b"after the failure").is_err());
        assert!(client.put_char(b'!').is_err());
        let mut buf = [0u8; 8];
        assert!(client.read(&mut buf).is_err());
        let _ = fails_promptly(|| client.wait_for_ready_read(Some(WAIT)));
        let _ = fails_promptly(|| client.wait_for_encrypted(Some(WAIT)));
        assert!(!client.is_encrypted());
        // Nothing but the alert reached the peer.
        let sent = raw.take_incoming();
        assert!(
            sent.is_empty() || sent[0] == 0x15,
            "the client sent more than an alert: {sent:02x?}"
        );
        // The socket can still be closed.
        client.abort();
        assert_eq!(client.state(), SocketState::UnconnectedState);
    });
}

#[test]
fn writing_after_a_verification_failure_is_an_error() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (client_end, server_end) = pair();
        let mut client = pki.client_socket(client_end);
        client.set_peer_verify_name("wrong.test");
        client
            .start_client_encryption()
            .expect("the handshake starts");
        let mut server = pki.server(server_end);
        let (_, c) = common::memory::both(
            || server.wait_for_encrypted(Some(WAIT)),
            || client.wait_for_encrypted(Some(WAIT)),
        );
        assert!(matches!(c, Err(Error::VerificationFailed { .. })), "{c:?}");
        assert!(client.write_data(b"secret").is_err());
        assert!(client.write_all(b"secret").is_err());
    });
}

#[test]
fn writing_to_a_peer_that_has_gone_is_an_error() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, mut server) = encrypted_pair(&pki);
        server.abort();
        let started = Instant::now();
        let mut result = Ok(());
        // The first write may still be accepted; the loss shows up soon.
        for _ in 0..10 {
            result = client.write_all(&[0u8; 4096]);
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err(), "every write succeeded");
        assert!(started.elapsed() < PROMPT);
        assert_eq!(client.error(), Some(SocketError::RemoteHostClosedError));
    });
}

#[test]
fn writing_after_abort_is_an_error() {
    within(GUARD, || {
        let pki = TestPki::new();
        let (mut client, _server) = encrypted_pair(&pki);
        client.abort();
        assert!(client.write_data(b"x").is_err());
        assert_eq!(client.error(), Some(SocketError::OperationError));
        assert!(client.write_all(b"x").is_err());
        let mut buf = [0u8; 4];
        // Reading an aborted socket: end of file or an error, at once.
        let started = Instant::now();
        let _ = client.read(&mut buf);
        assert!(started.elapsed() < PROMPT);
    });
}

// ---------------------------------------------------------------------------
// Handshakes that cannot start
// ---------------------------------------------------------------------------

#[test]
fn a_server_without_a_certificate_cannot_start() {
    within(GUARD, || {
        let (_client_end, server_end) = pair();
        let mut server = SslSocket::from_stream(server_end);
        assert!(matches!(
            server.start_server_encryption(),
            Err(Error::KeyUnusableForTls { .. })
        ));
        assert_eq!(
            server.error(),
            Some(SocketError::SslInvalidUserDataError),
            "{}",
            server.error_string()
        );
        assert!(server.wait_for_encrypted(Some(WAIT)).is_err());
        assert!(!server.is_encrypted());
    });
}

#[test]
fn a_client_without_a_name_to_verify_cannot_start() {
    within(GUARD, || {
        let (client_end, server_end) = pair();
        let mut client = SslSocket::from_stream(client_end);
        assert!(client.start_client_encryption().is_err());
        assert_eq!(client.error(), Some(SocketError::OperationError));
        assert!(
            client.error_string().contains("peer verify name"),
            "{}",
            client.error_string()
        );
        assert_eq!(server_end.available(), 0);
    });
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    within(GUARD, || {
        let pki = TestPki::new();
        let other_key = SslKey::from_pem(pki.root.key_pem(), KeyType::PrivateKey, None).unwrap();
        let (_client_end, server_end) = pair();
        let mut server = SslSocket::from_stream(server_end);
        let refused = server
            .ssl_configuration_mut()
            .set_local_identity(vec![pki.server.certificate()], other_key.clone());
        assert!(matches!(refused, Err(Error::KeyDoesNotMatchCertificate)));
        // Set separately, the mismatch is found when the handshake starts.
        server.set_local_certificate(pki.server.certificate());
        server.set_private_key(other_key);
        assert!(server.start_server_encryption().is_err());
        assert_eq!(server.error(), Some(SocketError::SslInvalidUserDataError));
    });
}
