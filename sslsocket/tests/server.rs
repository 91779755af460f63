//! `SslServer` over 127.0.0.1: encrypted and STARTTLS accept, clients that
//! fail their handshake (silent, plaintext, without a certificate), mutual
//! TLS, timeouts and configuration errors.

mod common;

use common::pki::AsSslCertificate;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::pki::{Identity, LeafSpec};
use sslsocket::server::{ServerEvent, ServerMode};
use sslsocket::verify::{PeerVerifyDecision, SslErrorsDecision};
use sslsocket::{
    Error, KeyType, PeerVerifyMode, SslCertificate, SslConfiguration, SslErrorCode, SslKey,
    SslMode, SslProtocol, SslServer, SslSocket, SubjectInfo,
};

const WAIT: Duration = Duration::from_secs(10);

/// A test root, a server configuration with a leaf for localhost and
/// 127.0.0.1 issued by it, and the root certificate for clients.
struct Pki {
    root: Identity,
    server: SslConfiguration,
}

impl Pki {
    fn new() -> Pki {
        let root = Identity::new("Server Test Root");
        let leaf = root.leaf(&LeafSpec {
            common_name: "localhost",
            dns: &["localhost"],
            ips: &["127.0.0.1"],
            ..LeafSpec::default()
        });
        let mut server = SslConfiguration::new();
        server
            .set_local_identity(vec![leaf.certificate()], key_of(&leaf))
            .unwrap();
        Pki { root, server }
    }

    fn listening_server(&self) -> (SslServer, u16) {
        let mut server = SslServer::new(self.server.clone()).unwrap();
        server.listen("127.0.0.1:0").unwrap();
        let port = server.local_address().unwrap().port();
        (server, port)
    }

    /// A client socket trusting the test root, not yet connected.
    fn client(&self) -> SslSocket {
        let mut socket = SslSocket::new();
        socket.set_ca_certificates(vec![self.root.certificate()]);
        socket.set_read_timeout(Some(WAIT));
        socket
    }

    /// A client certificate issued by the test root.
    fn client_identity(&self, name: &str) -> (SslCertificate, SslKey) {
        let leaf = self.root.leaf(&LeafSpec {
            common_name: name,
            ..LeafSpec::default()
        });
        (leaf.certificate(), key_of(&leaf))
    }
}

fn key_of(identity: &Identity) -> SslKey {
    SslKey::from_pem(identity.key_pem(), KeyType::PrivateKey, None).unwrap()
}

/// Reads up to and including the next `\n`, waiting for it.
fn read_line(socket: &mut SslSocket) -> String {
    let mut line = Vec::new();
    let mut byte = [0];
    while line.last() != Some(&b'\n') {
        socket.read_exact(&mut byte).expect("a line from the peer");
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

/// A client thread: connects encrypted, sends `line`, returns the reply line.
fn echo_client(client: SslSocket, port: u16, line: &'static str) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut client = client;
        client.connect_to_host_encrypted("localhost", port);
        client.wait_for_encrypted(Some(WAIT)).expect("handshake");
        client.write_all(line.as_bytes()).unwrap();
        read_line(&mut client)
    })
}

/// Serves one request on an accepted socket: replies with the line in upper case.
fn serve_one(socket: &mut SslSocket) -> String {
    let line = read_line(socket);
    socket.write_all(line.to_uppercase().as_bytes()).unwrap();
    line
}

/// Waits for the server's next event, polling the server meanwhile.
fn next_event(server: &mut SslServer) -> ServerEvent {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(event) = server.next_event() {
            return event;
        }
        assert!(Instant::now() < deadline, "no server event within {WAIT:?}");
        match server.accept(Some(Duration::from_millis(20))) {
            Err(Error::Timeout { .. }) => {}
            Ok(socket) => panic!("unexpected connection from {:?}", socket.peer_address()),
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

/// Waits for the `HandshakeFailed` event, skipping `PeerVerifyError`s.
fn next_failure(server: &mut SslServer) -> (SocketAddr, Error) {
    loop {
        match next_event(server) {
            ServerEvent::HandshakeFailed { peer, error } => return (peer, error),
            ServerEvent::PeerVerifyError { .. } => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
}

#[test]
fn encrypted_accept_and_round_trip() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();
    assert!(server.is_listening());
    assert_eq!(server.mode(), ServerMode::Encrypted);
    assert_eq!(server.handshake_timeout(), Some(Duration::from_secs(5)));

    let client = echo_client(pki.client(), port, "hello server\n");
    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert!(socket.is_encrypted());
    assert_eq!(socket.mode(), SslMode::SslServerMode);
    assert_eq!(socket.session_protocol(), SslProtocol::TlsV1_3);
    assert!(socket.session_cipher().is_some());
    assert_eq!(
        socket.peer_address().unwrap().ip(),
        "127.0.0.1".parse::<std::net::IpAddr>().unwrap()
    );
    // The default server mode asks for no client certificate.
    assert_eq!(socket.peer_certificate(), None);
    assert_eq!(serve_one(&mut socket), "hello server\n");
    assert_eq!(client.join().unwrap(), "HELLO SERVER\n");
    assert!(socket.counters().encrypted_bytes_written > socket.counters().bytes_written);
    assert!(server.next_event().is_none());
}

#[test]
fn several_clients_in_sequence() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();
    let mut peers = Vec::new();
    for (n, line) in ["one\n", "two\n", "three\n"].into_iter().enumerate() {
        let client = echo_client(pki.client(), port, line);
        let mut socket = server.accept(Some(WAIT)).unwrap();
        assert!(socket.is_encrypted(), "client {n}");
        peers.push(socket.peer_address().unwrap());
        assert_eq!(serve_one(&mut socket), line);
        assert_eq!(client.join().unwrap(), line.to_uppercase());
    }
    peers.sort();
    peers.dedup();
    assert_eq!(peers.len(), 3, "three distinct connections");
    assert!(server.next_event().is_none());
}

#[test]
fn silent_client_times_out_without_blocking_a_good_one() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();
    server.set_handshake_timeout(Some(Duration::from_millis(300)));

    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let silent_address = silent.local_addr().unwrap();
    let started = Instant::now();
    let client = echo_client(pki.client(), port, "after the silent one\n");
    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert!(started.elapsed() < WAIT);
    assert_ne!(socket.peer_address(), Some(silent_address));
    assert_eq!(serve_one(&mut socket), "after the silent one\n");
    assert_eq!(client.join().unwrap(), "AFTER THE SILENT ONE\n");

    // The silent client is dropped when its handshake time runs out, and
    // recorded; it is never handed out.
    let (peer, error) = next_failure(&mut server);
    assert_eq!(peer, silent_address);
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    silent.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0; 16];
    assert!(
        matches!(silent.read(&mut buf), Ok(0) | Err(_)),
        "the server closed the silent connection"
    );
}

#[test]
fn silent_clients_do_not_delay_a_good_one() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();
    // The default 5 s limit: the good client must be served long before
    // any silent one is given up.
    let silent: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let client = echo_client(pki.client(), port, "not stuck\n");
    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert_eq!(serve_one(&mut socket), "not stuck\n");
    assert_eq!(client.join().unwrap(), "NOT STUCK\n");
    let local: Vec<_> = silent.iter().map(|s| s.local_addr().unwrap()).collect();
    assert!(!local.contains(&socket.peer_address().unwrap()));
    assert!(
        server.next_event().is_none(),
        "no silent client gave up yet"
    );

    // Closing the server cuts the pending handshakes off at once.
    server.close();
    assert!(!server.is_listening());
    assert_eq!(server.local_address(), None);
    for mut stream in silent {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut buf = [0; 16];
        assert!(matches!(stream.read(&mut buf), Ok(0) | Err(_)));
    }
    assert!(matches!(
        server.accept(Some(Duration::ZERO)),
        Err(Error::InvalidState { .. })
    ));
}

#[test]
fn plaintext_client_is_rejected_and_recorded() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();

    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let plain_address = plain.local_addr().unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let client = echo_client(pki.client(), port, "tls please\n");
    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert_ne!(socket.peer_address(), Some(plain_address));
    assert_eq!(serve_one(&mut socket), "tls please\n");
    assert_eq!(client.join().unwrap(), "TLS PLEASE\n");

    let (peer, error) = next_failure(&mut server);
    assert_eq!(peer, plain_address);
    assert!(matches!(error, Error::HandshakeFailed(_)), "{error:?}");

    // The plaintext client hears a fatal decode_error alert, then the close.
    plain.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert_eq!(answer.first(), Some(&0x15), "an alert record: {answer:?}");
    assert_eq!(answer[answer.len() - 2..], [2, 50], "fatal decode_error");
}

#[test]
fn plain_mode_starttls() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();
    server.set_mode(ServerMode::Plain);

    let mut client = pki.client();
    let client = std::thread::spawn(move || {
        client.connect_to_host("localhost", port);
        client.wait_for_connected(Some(WAIT)).unwrap();
        client.write_all(b"STARTTLS\r\n").unwrap();
        let greeting = read_line(&mut client);
        assert_eq!(client.mode(), SslMode::UnencryptedMode);
        client
            .start_client_encryption()
            .expect("the handshake starts");
        client
            .wait_for_encrypted(Some(WAIT))
            .expect("client handshake");
        client.write_all(b"secret\n").unwrap();
        let reply = read_line(&mut client);
        (
            greeting,
            reply,
            client.session_protocol(),
            client.counters(),
        )
    });

    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert_eq!(socket.mode(), SslMode::UnencryptedMode);
    assert!(!socket.is_encrypted());
    assert_eq!(read_line(&mut socket), "STARTTLS\r\n");
    socket.write_all(b"220 go ahead\r\n").unwrap();
    socket
        .start_server_encryption()
        .expect("the handshake starts");
    assert_eq!(socket.error(), None, "{}", socket.error_string());
    socket
        .wait_for_encrypted(Some(WAIT))
        .expect("server handshake");
    assert_eq!(socket.mode(), SslMode::SslServerMode);
    assert_eq!(serve_one(&mut socket), "secret\n");

    let (greeting, reply, protocol, counters) = client.join().unwrap();
    assert_eq!(greeting, "220 go ahead\r\n");
    assert_eq!(reply, "SECRET\n");
    assert_eq!(protocol, SslProtocol::TlsV1_3);
    assert!(counters.encrypted_bytes_read > 0);
    assert!(server.next_event().is_none());
}

#[test]
fn mutual_tls_requires_a_valid_client_certificate() {
    let pki = Pki::new();
    let mut configuration = pki.server.clone();
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    configuration.set_ca_certificates(vec![pki.root.certificate()]);
    let mut server = SslServer::new(configuration).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    server.on_peer_verify_error(move |peer, error| {
        record.lock().unwrap().push((peer, error.code()));
        PeerVerifyDecision::Continue
    });
    server.listen("127.0.0.1:0").unwrap();
    let port = server.local_address().unwrap().port();

    // With a certificate from the trusted root: accepted.
    let (certificate, key) = pki.client_identity("alice");
    let mut alice = pki.client();
    alice
        .ssl_configuration_mut()
        .set_local_identity(vec![certificate.clone()], key)
        .unwrap();
    let alice = echo_client(alice, port, "alice here\n");
    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert_eq!(socket.peer_certificate(), Some(certificate));
    assert_eq!(
        socket
            .peer_certificate()
            .unwrap()
            .subject_info(SubjectInfo::CommonName),
        ["alice"]
    );
    assert!(socket.ssl_handshake_errors().is_empty());
    assert_eq!(serve_one(&mut socket), "alice here\n");
    assert_eq!(alice.join().unwrap(), "ALICE HERE\n");
    assert!(seen.lock().unwrap().is_empty());

    // Without a certificate: rejected with NoPeerCertificate.
    let mut anonymous = pki.client();
    let anonymous = std::thread::spawn(move || {
        anonymous.connect_to_host_encrypted("localhost", port);
        // With TLS 1.3 the client finishes its side before the server
        // decides, so the refusal shows as the connection closing.
        let _ = anonymous.wait_for_encrypted(Some(WAIT));
        let _ = anonymous.write_all(b"let me in\n");
        let mut reply = Vec::new();
        let _ = anonymous.read_to_end(&mut reply);
        reply
    });
    let mut events = Vec::new();
    let (peer, error) = loop {
        match next_event(&mut server) {
            ServerEvent::HandshakeFailed { peer, error } => break (peer, error),
            other => events.push(other),
        }
    };
    match &error {
        Error::VerificationFailed { errors } => {
            let codes: Vec<_> = errors.iter().map(|e| e.code()).collect();
            assert_eq!(codes, [SslErrorCode::NoPeerCertificate]);
        }
        other => panic!("expected a verification failure, got {other:?}"),
    }
    assert!(
        matches!(
            events.as_slice(),
            [ServerEvent::PeerVerifyError { peer: p, error }]
                if *p == peer && error.code() == SslErrorCode::NoPeerCertificate
        ),
        "{events:?}"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [(peer, SslErrorCode::NoPeerCertificate)]
    );
    assert!(
        anonymous.join().unwrap().is_empty(),
        "no data for a refused client"
    );
    assert!(server.next_pending_connection().is_none());
}

#[test]
fn server_handlers_and_ignore_rules_apply_to_client_certificates() {
    let pki = Pki::new();
    let mut configuration = pki.server.clone();
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    configuration.set_ca_certificates(vec![pki.root.certificate()]);
    let (mut server, port) = {
        let mut server = SslServer::new(configuration).unwrap();
        server.listen("127.0.0.1:0").unwrap();
        let port = server.local_address().unwrap().port();
        (server, port)
    };

    // A self-signed client certificate the server does not trust.
    let stranger = Identity::self_signed(&LeafSpec {
        common_name: "stranger",
        ..LeafSpec::default()
    });
    let with_stranger_identity = || {
        let mut client = pki.client();
        client
            .ssl_configuration_mut()
            .set_local_identity(vec![stranger.certificate()], key_of(&stranger))
            .unwrap();
        client
    };

    // Rejected by default, with the certificate's errors recorded.
    let refused = std::thread::spawn({
        let mut client = with_stranger_identity();
        move || {
            client.connect_to_host_encrypted("localhost", port);
            let _ = client.wait_for_encrypted(Some(WAIT));
            let mut reply = Vec::new();
            let _ = client.read_to_end(&mut reply);
            reply
        }
    });
    let (_, error) = next_failure(&mut server);
    let Error::VerificationFailed { errors } = &error else {
        panic!("expected a verification failure, got {error:?}");
    };
    assert_eq!(errors[0].code(), SslErrorCode::SelfSignedCertificate);
    assert_eq!(errors[0].certificate(), Some(&stranger.certificate()));
    assert!(refused.join().unwrap().is_empty());

    // An ssl_errors handler installed on the server accepts it, and hears
    // the client's address.
    let heard = Arc::new(Mutex::new(Vec::new()));
    let record = heard.clone();
    let expected = errors.clone();
    server.on_ssl_errors(move |peer, errors| {
        record.lock().unwrap().push((peer, errors.to_vec()));
        SslErrorsDecision::Ignore(expected.clone())
    });
    let client = echo_client(with_stranger_identity(), port, "let me in\n");
    let mut socket = server.accept(Some(WAIT)).unwrap();
    assert_eq!(socket.ssl_handshake_errors(), *errors);
    assert_eq!(serve_one(&mut socket), "let me in\n");
    assert_eq!(client.join().unwrap(), "LET ME IN\n");
    let heard = heard.lock().unwrap().clone();
    assert_eq!(heard.len(), 1);
    assert_eq!(Some(heard[0].0), socket.peer_address());
    assert_eq!(heard[0].1, *errors);

    // The listed-ignore rule works the same without a handler.
    let mut configuration = server.ssl_configuration().clone();
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    let mut strict = SslServer::new(configuration).unwrap();
    strict.ignore_listed_ssl_errors(errors.clone());
    strict.listen("127.0.0.1:0").unwrap();
    let port = strict.local_address().unwrap().port();
    let client = echo_client(with_stranger_identity(), port, "listed\n");
    let mut socket = strict.accept(Some(WAIT)).unwrap();
    assert_eq!(
        socket
            .peer_certificate()
            .unwrap()
            .subject_info(SubjectInfo::CommonName),
        ["stranger"]
    );
    assert_eq!(serve_one(&mut socket), "listed\n");
    assert_eq!(client.join().unwrap(), "LISTED\n");
}

#[test]
fn incoming_skips_failed_handshakes() {
    let pki = Pki::new();
    let (mut server, port) = pki.listening_server();
    server.set_handshake_timeout(Some(Duration::from_millis(300)));

    let mut garbage = TcpStream::connect(("127.0.0.1", port)).unwrap();
    garbage.write_all(b"HELO example.com\r\n").unwrap();
    let garbage_address = garbage.local_addr().unwrap();
    let first = echo_client(pki.client(), port, "first\n");
    let second = echo_client(pki.client(), port, "second\n");

    let mut lines = Vec::new();
    for socket in server.incoming().take(2) {
        let mut socket = socket.expect("only server errors are yielded");
        assert_ne!(socket.peer_address(), Some(garbage_address));
        lines.push(serve_one(&mut socket));
    }
    lines.sort();
    assert_eq!(lines, ["first\n", "second\n"]);
    assert_eq!(first.join().unwrap(), "FIRST\n");
    assert_eq!(second.join().unwrap(), "SECOND\n");

    let (peer, error) = next_failure(&mut server);
    assert_eq!(peer, garbage_address);
    assert!(matches!(error, Error::HandshakeFailed(_)), "{error:?}");

    server.close();
    assert!(server.incoming().next().is_none());
}

#[test]
fn accept_times_out_when_nobody_connects() {
    let pki = Pki::new();
    let (mut server, _) = pki.listening_server();
    let started = Instant::now();
    let error = server.accept(Some(Duration::from_millis(200))).unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "timed out while waiting for a new connection"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < WAIT,
        "{waited:?}"
    );
    assert!(matches!(
        server.accept(Some(Duration::ZERO)),
        Err(Error::Timeout { .. })
    ));
    assert!(!server.has_pending_connections());
}

#[test]
fn listening_errors() {
    let pki = Pki::new();
    let mut idle = SslServer::new(pki.server.clone()).unwrap();
    assert!(!idle.is_listening());
    assert_eq!(idle.local_address(), None);
    let error = idle.accept(Some(Duration::ZERO)).unwrap_err();
    assert!(error.to_string().contains("not listening"), "{error}");

    let (mut server, port) = pki.listening_server();
    let again = server.listen("127.0.0.1:0").unwrap_err();
    assert!(again.to_string().contains("already listening"), "{again}");
    let taken = idle.listen(("127.0.0.1", port)).unwrap_err();
    assert!(
        matches!(&taken, Error::Io(e) if e.kind() == std::io::ErrorKind::AddrInUse),
        "{taken:?}"
    );
    assert!(
        taken.to_string().contains(&format!("127.0.0.1:{port}")),
        "{taken}"
    );

    // After close the server can listen again.
    server.close();
    server.listen("127.0.0.1:0").unwrap();
    assert!(server.is_listening());
}

#[test]
fn a_server_needs_a_usable_identity() {
    let error = SslServer::new(SslConfiguration::new()).unwrap_err();
    assert!(
        matches!(error, Error::KeyUnusableForTls { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("local certificate and its private key"),
        "{message}"
    );
    assert!(message.contains("set_local_identity"), "{message}");

    let pki = Pki::new();
    let mut certificate_only = SslConfiguration::new();
    certificate_only.set_local_certificate(pki.server.local_certificate().unwrap().clone());
    let error = SslServer::new(certificate_only).unwrap_err();
    assert!(error.to_string().contains("no private key"), "{error}");

    let other = Identity::new("Other");
    let mut mismatched = SslConfiguration::new();
    mismatched.set_local_certificate(pki.server.local_certificate().unwrap().clone());
    mismatched.set_private_key(key_of(&other));
    assert!(matches!(
        SslServer::new(mismatched),
        Err(Error::KeyDoesNotMatchCertificate)
    ));

    let mut insecure = pki.server.clone();
    insecure.set_protocol(SslProtocol::SslV3);
    assert!(matches!(
        SslServer::new(insecure),
        Err(Error::UnsupportedProtocol(SslProtocol::SslV3))
    ));

    // The same checks guard a configuration replaced later.
    let mut server = SslServer::new(pki.server.clone()).unwrap();
    assert!(server
        .set_ssl_configuration(SslConfiguration::new())
        .is_err());
    assert_eq!(server.ssl_configuration(), &pki.server);
}

/// Without handlers or ignore rules nothing can accept a missing client
/// certificate, so the handshake itself refuses it, with the alert TLS 1.3
/// has for it, and the client learns why instead of seeing a clean close.
#[test]
fn a_missing_client_certificate_is_refused_with_an_alert() {
    let pki = Pki::new();
    let mut configuration = pki.server.clone();
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    configuration.set_ca_certificates(vec![pki.root.certificate()]);
    let mut server = SslServer::new(configuration).unwrap();
    server.listen("127.0.0.1:0").unwrap();
    let port = server.local_address().unwrap().port();

    let mut anonymous = pki.client();
    let client = std::thread::spawn(move || {
        anonymous.connect_to_host_encrypted("localhost", port);
        let handshake = anonymous.wait_for_encrypted(Some(WAIT));
        let read = anonymous.wait_for_ready_read(Some(WAIT));
        (handshake, read)
    });
    let (_, error) = next_failure(&mut server);
    assert!(
        matches!(&error, Error::VerificationFailed { errors } if errors.iter().map(|e| e.code()).eq([SslErrorCode::NoPeerCertificate])),
        "{error:?}"
    );
    let (handshake, read) = client.join().unwrap();
    let refusal = handshake
        .err()
        .or(read.err())
        .expect("the client hears of the refusal");
    assert!(
        refusal.to_string().contains("CertificateRequired"),
        "{refusal}"
    );
}
