//! Interoperability with real TLS peers on 127.0.0.1: `openssl s_server` and
//! `s_client` (OpenSSL 3), `curl`, and Python's `ssl` module, as clients and
//! servers, with direct TLS and with SMTP STARTTLS.
//!
//! The PKI is made at test time (rcgen) and written as PEM files into a
//! temporary directory for the peers. Each test checks the data that arrived,
//! the protocol and cipher both ends agreed on, and the verification error
//! list. Every child process is killed when its test ends, and every wait is
//! bounded (see `common::peers`).

mod common;

use common::pki::AsSslCertificate;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::thread::JoinHandle;

use common::interop::{openssl_name, s_client_session, InteropPki};
use common::peers::{self, field, read_line, Peer, STEP};
use common::pki::LeafSpec;
use sslsocket::{
    AlertLevel, AlertType, Error, Event, PeerVerifyMode, SslError, SslErrorCode, SslMode,
    SslProtocol, SslSocket,
};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

type Pki = InteropPki;

/// What the blocking tests make from the shared PKI.
trait BlockingFixtures {
    fn client_socket(&self) -> SslSocket;
    fn use_client_identity(&self, socket: &mut SslSocket);
    fn serve_one<T: Send + 'static>(
        &self,
        handler: impl FnOnce(&mut SslSocket) -> T + Send + 'static,
    ) -> (u16, JoinHandle<T>);
}

impl BlockingFixtures for InteropPki {
    /// A client socket trusting only the test root.
    fn client_socket(&self) -> SslSocket {
        let mut socket = SslSocket::new();
        socket.set_ca_certificates(vec![self.root.certificate()]);
        socket.set_read_timeout(Some(STEP));
        socket
    }

    /// Gives `socket` the client identity.
    fn use_client_identity(&self, socket: &mut SslSocket) {
        let (chain, key) = self.client_identity();
        socket
            .ssl_configuration_mut()
            .set_local_identity(chain, key)
            .expect("client identity");
    }

    /// Starts one of our servers on a thread: it accepts one connection
    /// (within [`STEP`]), makes a plain socket with the server identity from
    /// it and runs `handler`. Returns the port and the thread.
    fn serve_one<T: Send + 'static>(
        &self,
        handler: impl FnOnce(&mut SslSocket) -> T + Send + 'static,
    ) -> (u16, JoinHandle<T>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let (chain, key) = self.server_identity();
        let thread = std::thread::spawn(move || {
            let stream = peers::accept_within(&listener, STEP).expect("a peer connects");
            let mut socket = SslSocket::from_stream(stream);
            socket.set_read_timeout(Some(STEP));
            socket
                .ssl_configuration_mut()
                .set_local_identity(chain, key)
                .expect("server identity");
            handler(&mut socket)
        });
        (port, thread)
    }
}

/// What one end saw of a connection.
#[derive(Debug)]
struct View {
    /// Lines received (application data), without line ends.
    lines: Vec<String>,
    protocol: SslProtocol,
    cipher: String,
    errors: Vec<SslError>,
}

impl View {
    fn of(socket: &SslSocket, lines: Vec<String>) -> View {
        View {
            lines,
            protocol: socket.session_protocol(),
            cipher: socket
                .session_cipher()
                .map(|c| c.name().to_owned())
                .unwrap_or_default(),
            errors: socket.ssl_handshake_errors(),
        }
    }
}

fn join<T>(thread: JoinHandle<T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Reads one line and strips its line end.
fn line(reader: &mut impl Read) -> String {
    let line = read_line(reader).expect("read a line");
    line.trim_end_matches(['\r', '\n']).to_owned()
}

/// Reads an SMTP reply (`250-...` lines up to the `250 ...` one).
fn smtp_reply(reader: &mut impl Read) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let next = line(reader);
        assert!(
            next.len() >= 4,
            "short SMTP reply line {next:?} after {lines:?}"
        );
        let last = next.as_bytes()[3] == b' ';
        lines.push(next);
        if last {
            return lines;
        }
    }
}

fn assert_encrypted_cleanly(socket: &SslSocket, protocol: SslProtocol) {
    assert!(socket.is_encrypted());
    assert_eq!(socket.session_protocol(), protocol);
    let cipher = socket.session_cipher().expect("a cipher once encrypted");
    assert_eq!(cipher.protocol(), protocol, "{}", cipher.name());
    assert_eq!(socket.ssl_handshake_errors(), Vec::<SslError>::new());
}

// ---------------------------------------------------------------------------
// 1. Our client against openssl s_server
// ---------------------------------------------------------------------------

/// Our client sends a line to `s_server -rev` and gets it back reversed;
/// both ends agree on protocol and cipher.
/// `version_flag` restricts s_server, `ours` (if any) our client.
fn client_against_s_server_rev(
    version_flag: Option<&str>,
    ours: Option<SslProtocol>,
    protocol: SslProtocol,
    by_name: bool,
) {
    let pki = Pki::new();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let mut args = vec!["-cert", &cert, "-key", &key, "-rev"];
    args.extend(version_flag);
    let (mut server, port) = peers::openssl_s_server(pki.dir(), &args);

    let mut client = pki.client_socket();
    if let Some(ours) = ours {
        client.set_protocol(ours);
    }
    if by_name {
        // The Qt way: connect by name; the name is what is verified.
        client.connect_to_host_encrypted("localhost", port);
    } else {
        client.connect_to_host_encrypted_with_peer_name("127.0.0.1", port, "localhost");
    }
    // Written before the handshake: queued, then sent encrypted.
    client.write_data(b"hello from sslsocket\n").unwrap();
    client
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("handshake with s_server: {e}\n{}", server.output()));
    assert_eq!(client.mode(), SslMode::SslClientMode);
    assert_encrypted_cleanly(&client, protocol);
    assert_eq!(client.peer_certificate(), Some(pki.server.certificate()));
    client.flush().unwrap();
    assert_eq!(line(&mut client), "tekcoslss morf olleh");

    // s_server's view of the same session.
    let cipher = client.session_cipher().unwrap();
    server.wait_for_stderr(&format!("Ciphersuite: {}", cipher.name()), STEP);
    server.wait_for_stderr("No peer certificate", STEP);
    let out = server.stderr();
    assert_eq!(
        field(&out, "Protocol version:"),
        Some(openssl_name(protocol)),
        "{}",
        server.output()
    );
    assert!(out.contains("No peer certificate"), "{}", server.output());
    client.disconnect_from_host();
    let events: Vec<Event> = client.events().collect();
    assert!(events.contains(&Event::Encrypted), "{events:?}");
}

#[test]
fn client_against_s_server_tls13() {
    client_against_s_server_rev(Some("-tls1_3"), None, SslProtocol::TlsV1_3, true);
}

#[test]
fn client_against_s_server_tls12() {
    client_against_s_server_rev(Some("-tls1_2"), None, SslProtocol::TlsV1_2, false);
}

/// Our own protocol setting decides against a server that offers both.
#[test]
fn client_limited_to_tls12_against_s_server() {
    client_against_s_server_rev(
        None,
        Some(SslProtocol::TlsV1_2),
        SslProtocol::TlsV1_2,
        false,
    );
}

/// `s_server -www -Verify 1` insists on a client certificate; our client
/// sends its identity, and the status page shows what s_server saw.
fn client_certificate_against_s_server(version_flag: &str, protocol: SslProtocol) {
    let pki = Pki::new();
    let (server, port) = peers::openssl_s_server(
        pki.dir(),
        &[
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
            version_flag,
            "-Verify",
            "1",
            "-CAfile",
            &pki.path("ca.pem"),
            "-verify_return_error",
            "-www",
        ],
    );

    let mut client = pki.client_socket();
    pki.use_client_identity(&mut client);
    client.connect_to_host_encrypted_with_peer_name("127.0.0.1", port, "localhost");
    client
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("handshake with s_server: {e}\n{}", server.output()));
    assert_encrypted_cleanly(&client, protocol);
    client.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = String::new();
    client
        .read_to_string(&mut page)
        .unwrap_or_else(|e| panic!("reading the page: {e}\npage so far:\n{page}"));

    assert!(page.starts_with("HTTP/1.0 200 ok"), "{page}");
    let cipher = client.session_cipher().unwrap();
    assert_eq!(
        field(&page, "Cipher is "),
        Some(cipher.name()),
        "page:\n{page}"
    );
    assert_eq!(
        field(&page, "Protocol  :"),
        Some(openssl_name(protocol)),
        "page:\n{page}"
    );
    assert_eq!(
        field(&page, "Verify return code:"),
        Some("0 (ok)"),
        "page:\n{page}"
    );
    assert!(page.contains("Client certificate"), "page:\n{page}");
    assert!(page.contains("Subject: CN=interop client"), "page:\n{page}");
    assert!(page.contains(pki.client.pem().trim()), "page:\n{page}");
}

#[test]
fn client_certificate_against_s_server_tls13() {
    client_certificate_against_s_server("-tls1_3", SslProtocol::TlsV1_3);
}

#[test]
fn client_certificate_against_s_server_tls12() {
    client_certificate_against_s_server("-tls1_2", SslProtocol::TlsV1_2);
}

#[test]
fn client_rejects_s_server_certificate_for_another_name() {
    let pki = Pki::new();
    let wrong = pki.root.leaf(&LeafSpec {
        common_name: "wrong.example",
        dns: &["wrong.example"],
        ..LeafSpec::default()
    });
    let cert = pki.write("wrong.pem", &wrong.pem());
    let key = pki.write("wrong.key", &wrong.key_pem());
    let (mut server, port) =
        peers::openssl_s_server(pki.dir(), &["-cert", &cert, "-key", &key, "-rev"]);
    let expected = vec![SslError::with_certificate(
        SslErrorCode::HostNameMismatch,
        wrong.certificate(),
    )];

    let mut client = pki.client_socket();
    client.connect_to_host_encrypted("localhost", port);
    match client.wait_for_encrypted(Some(STEP)) {
        Err(Error::VerificationFailed { errors }) => assert_eq!(errors, expected),
        other => panic!(
            "expected VerificationFailed, got {other:?}\n{}",
            server.output()
        ),
    }
    assert!(!client.is_encrypted());
    assert_eq!(client.ssl_handshake_errors(), expected);
    let events: Vec<Event> = client.events().collect();
    assert!(
        events.contains(&Event::AlertSent {
            level: AlertLevel::Fatal,
            kind: AlertType::BadCertificate
        }),
        "{events:?}"
    );
    // s_server heard why.
    server.wait_for_stderr("alert bad certificate", STEP);

    // Ignoring exactly that error lets the same handshake through, and the
    // error is still reported.
    let mut client = pki.client_socket();
    client.ignore_listed_ssl_errors(expected.clone());
    client.connect_to_host_encrypted("localhost", port);
    client
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("handshake with the error ignored: {e}"));
    assert!(client.is_encrypted());
    assert_eq!(client.ssl_handshake_errors(), expected);
    client.write_all(b"ignored\n").unwrap();
    assert_eq!(line(&mut client), "derongi");
    client.disconnect_from_host();
}

// ---------------------------------------------------------------------------
// 2. SMTP STARTTLS
// ---------------------------------------------------------------------------

#[test]
fn server_starttls_smtp_against_s_client() {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(|socket| {
        let mut log = Vec::new();
        socket
            .write_all(b"220 localhost ESMTP sslsocket\r\n")
            .unwrap();
        log.push(line(socket));
        socket
            .write_all(b"250-localhost\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
            .unwrap();
        log.push(line(socket));
        assert_eq!(log.last().unwrap(), "STARTTLS", "{log:?}");
        socket
            .write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .unwrap();
        assert_eq!(socket.mode(), SslMode::UnencryptedMode);
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        socket
            .wait_for_encrypted(Some(STEP))
            .unwrap_or_else(|e| panic!("server handshake: {e}"));
        assert_eq!(socket.mode(), SslMode::SslServerMode);
        let plain = log.len();
        loop {
            let command = line(socket);
            log.push(command.clone());
            if command.eq_ignore_ascii_case("QUIT") {
                socket.write_all(b"221 2.0.0 Bye\r\n").unwrap();
                break;
            } else if command.to_ascii_uppercase().starts_with("EHLO") {
                socket
                    .write_all(b"250-localhost over TLS\r\n250 AUTH PLAIN\r\n")
                    .unwrap();
            } else {
                socket.write_all(b"500 what?\r\n").unwrap();
            }
        }
        socket.disconnect_from_host();
        (plain, View::of(socket, log))
    });

    let mut client = peers::openssl_s_client(
        pki.dir(),
        port,
        &[
            "-starttls",
            "smtp",
            "-name",
            "client.example",
            "-CAfile",
            &pki.path("ca.pem"),
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-verify_return_error",
            "-crlf",
            "-ign_eof",
            "-nocommands",
        ],
        b"EHLO again.example\nQUIT\n",
    );
    let status = client.wait_for_exit(STEP);
    let (plain, view) = join(server);
    let out = client.stdout();
    assert!(status.success(), "{status}\n{}", client.output());

    // Our server saw the plain exchange, then the encrypted one.
    assert_eq!(
        view.lines,
        [
            "EHLO client.example",
            "STARTTLS",
            "EHLO again.example",
            "QUIT"
        ]
    );
    assert_eq!(plain, 2);
    assert_eq!(view.protocol, SslProtocol::TlsV1_3);
    assert!(view.errors.is_empty(), "{:?}", view.errors);

    // s_client verified us and agrees on protocol and cipher.
    assert_eq!(
        field(&out, "Verify return code:"),
        Some("0 (ok)"),
        "{}",
        client.output()
    );
    assert_eq!(
        s_client_session(&out),
        Some(format!("TLSv1.3, Cipher is {}", view.cipher)),
        "{out}"
    );
    // ...and got the replies sent over TLS.
    assert!(out.contains("250-localhost over TLS"), "{out}");
    assert!(out.contains("221 2.0.0 Bye"), "{out}");
}

#[test]
fn client_starttls_smtp_against_python() {
    let pki = Pki::new();
    let (mut server, port) =
        peers::python_smtp_server(pki.dir(), &pki.path("server.pem"), &pki.path("server.key"));

    let mut client = pki.client_socket();
    client.set_peer_verify_name("localhost");
    client.connect_to_host("127.0.0.1", port);
    client.wait_for_connected(Some(STEP)).unwrap();
    assert_eq!(client.mode(), SslMode::UnencryptedMode);
    let greeting = line(&mut client);
    assert!(greeting.starts_with("220 "), "{greeting}");
    client.write_all(b"EHLO sslsocket.test\r\n").unwrap();
    let capabilities = smtp_reply(&mut client);
    assert!(
        capabilities.iter().any(|l| &l[4..] == "STARTTLS"),
        "{capabilities:?}"
    );
    client.write_all(b"STARTTLS\r\n").unwrap();
    let ready = line(&mut client);
    assert!(ready.starts_with("220 "), "{ready}");

    client
        .start_client_encryption()
        .expect("the handshake starts");
    assert_eq!(client.error_string(), "");
    client
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("STARTTLS handshake: {e}\n{}", server.output()));
    assert_eq!(client.mode(), SslMode::SslClientMode);
    assert_encrypted_cleanly(&client, SslProtocol::TlsV1_3);

    client.write_all(b"EHLO sslsocket.test\r\n").unwrap();
    assert_eq!(
        smtp_reply(&mut client),
        ["250-localhost greets you again", "250 AUTH PLAIN"]
    );
    client.write_all(b"QUIT\r\n").unwrap();
    assert_eq!(line(&mut client), "221 2.0.0 Bye");
    client.disconnect_from_host();

    server.wait_for_stdout("DONE", STEP);
    let out = server.stdout();
    let cipher = client.session_cipher().unwrap();
    assert!(out.contains("PLAIN EHLO sslsocket.test\n"), "{out}");
    assert!(out.contains("PLAIN STARTTLS\n"), "{out}");
    assert!(out.contains("TLS EHLO sslsocket.test\nTLS QUIT\n"), "{out}");
    assert_eq!(field(&out, "VERSION "), Some("TLSv1.3"), "{out}");
    assert_eq!(field(&out, "CIPHER "), Some(cipher.name()), "{out}");
}

// ---------------------------------------------------------------------------
// 3. Our server against openssl s_client and curl
// ---------------------------------------------------------------------------

/// Our server: handshake, read a line, send it back with "echo: ", close.
fn echo_server(socket: &mut SslSocket) -> View {
    socket
        .start_server_encryption()
        .expect("the handshake starts");
    socket
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("server handshake: {e}"));
    assert_eq!(socket.mode(), SslMode::SslServerMode);
    let received = line(socket);
    socket
        .write_all(format!("echo: {received}\n").as_bytes())
        .unwrap();
    socket.disconnect_from_host();
    View::of(socket, vec![received])
}

fn server_against_s_client(version_flag: &str, protocol: SslProtocol) {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(echo_server);
    let mut client = peers::openssl_s_client(
        pki.dir(),
        port,
        &[
            version_flag,
            "-CAfile",
            &pki.path("ca.pem"),
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-verify_return_error",
            "-ign_eof",
            "-nocommands",
        ],
        b"hello from s_client\n",
    );
    let status = client.wait_for_exit(STEP);
    let view = join(server);
    let out = client.stdout();
    assert!(status.success(), "{status}\n{}", client.output());

    assert_eq!(view.lines, ["hello from s_client"]);
    assert_eq!(view.protocol, protocol);
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    assert_eq!(
        field(&out, "Verify return code:"),
        Some("0 (ok)"),
        "{}",
        client.output()
    );
    assert_eq!(
        s_client_session(&out),
        Some(format!(
            "{}, Cipher is {}",
            openssl_name(protocol),
            view.cipher
        )),
        "{out}"
    );
    assert!(out.contains("echo: hello from s_client\n"), "{out}");
}

#[test]
fn server_against_s_client_tls13() {
    server_against_s_client("-tls1_3", SslProtocol::TlsV1_3);
}

#[test]
fn server_against_s_client_tls12() {
    server_against_s_client("-tls1_2", SslProtocol::TlsV1_2);
}

/// Our server in `VerifyPeer` mode, trusting the test root, against
/// s_client with or without the client certificate.
#[test]
fn server_requires_client_certificate_from_s_client() {
    let pki = Pki::new();
    let root = pki.root.certificate();
    let (port, server) = pki.serve_one(move |socket| {
        socket.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
        socket.set_ca_certificates(vec![root]);
        let view = echo_server(socket);
        (view, socket.peer_certificate())
    });
    let mut client = peers::openssl_s_client(
        pki.dir(),
        port,
        &[
            "-CAfile",
            &pki.path("ca.pem"),
            "-cert",
            &pki.path("client.pem"),
            "-key",
            &pki.path("client.key"),
            "-servername",
            "localhost",
            "-verify_return_error",
            "-ign_eof",
            "-nocommands",
        ],
        b"with a certificate\n",
    );
    let status = client.wait_for_exit(STEP);
    let (view, peer) = join(server);
    let out = client.stdout();
    assert!(status.success(), "{status}\n{}", client.output());
    assert_eq!(view.lines, ["with a certificate"]);
    assert_eq!(view.protocol, SslProtocol::TlsV1_3);
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    assert_eq!(peer, Some(pki.client.certificate()));
    assert_eq!(
        field(&out, "Verify return code:"),
        Some("0 (ok)"),
        "{}",
        client.output()
    );
    assert!(out.contains("echo: with a certificate\n"), "{out}");
}

#[test]
fn server_rejects_s_client_without_certificate() {
    let pki = Pki::new();
    let root = pki.root.certificate();
    let (port, server) = pki.serve_one(move |socket| {
        socket.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
        socket.set_ca_certificates(vec![root]);
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        let result = socket.wait_for_encrypted(Some(STEP));
        let events: Vec<Event> = socket.events().collect();
        (result, events, socket.ssl_handshake_errors())
    });
    let mut client = peers::openssl_s_client(
        pki.dir(),
        port,
        &[
            "-CAfile",
            &pki.path("ca.pem"),
            "-servername",
            "localhost",
            "-verify_return_error",
            "-ign_eof",
            "-nocommands",
        ],
        b"without a certificate\n",
    );
    let status = client.wait_for_exit(STEP);
    let (result, events, errors) = join(server);
    let expected = vec![SslError::new(SslErrorCode::NoPeerCertificate)];
    match result {
        Err(Error::VerificationFailed { errors }) => assert_eq!(errors, expected),
        other => panic!(
            "expected VerificationFailed, got {other:?}\n{}",
            client.output()
        ),
    }
    assert_eq!(errors, expected);
    assert!(
        events.contains(&Event::AlertSent {
            level: AlertLevel::Fatal,
            kind: AlertType::CertificateRequired
        }),
        "{events:?}"
    );
    // s_client finished its side of the TLS 1.3 handshake, then must hear
    // why it was dropped: OpenSSL's own s_server (-Verify 1) sends
    // certificate_required (116) here, and s_client exits with 1 printing
    // "tlsv13 alert certificate required". A close_notify instead makes
    // the rejection look like an orderly shutdown to the peer.
    let told = client.stderr().contains("alert certificate required");
    assert!(
        told && !status.success(),
        "the peer was not told about the missing certificate (s_client {status}; \
         our events claim {:?})\n{}",
        events.iter().find(|e| matches!(e, Event::AlertSent { .. })),
        client.output()
    );
    assert!(!client.stdout().contains("echo:"), "{}", client.output());
}

const BODY: &str = "hello from sslsocket over HTTPS\n";

/// Our server answering one HTTP/1.1 request; returns the request head.
fn https_server(socket: &mut SslSocket) -> View {
    socket
        .start_server_encryption()
        .expect("the handshake starts");
    socket
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("server handshake: {e}"));
    let mut head = Vec::new();
    loop {
        let next = line(socket);
        if next.is_empty() {
            break;
        }
        head.push(next);
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    socket.write_all(response.as_bytes()).unwrap();
    socket.disconnect_from_host();
    View::of(socket, head)
}

fn server_against_curl(extra: &[&str], protocol: SslProtocol) {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(https_server);
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/hello");
    let ca = pki.path("ca.pem");
    let mut args = vec![
        "-sS",
        "-v",
        "--max-time",
        "20",
        "--cacert",
        &ca,
        "--resolve",
        &resolve,
    ];
    args.extend(extra);
    args.push(&url);
    let mut curl = peers::curl(pki.dir(), &args);
    let status = curl.wait_for_exit(STEP);
    let view = join(server);
    assert_eq!(status.code(), Some(0), "{}", curl.output());
    assert_eq!(curl.stdout(), BODY);

    assert_eq!(view.lines[0], "GET /hello HTTP/1.1", "{:?}", view.lines);
    assert!(
        view.lines.contains(&format!("Host: localhost:{port}")),
        "{:?}",
        view.lines
    );
    assert_eq!(view.protocol, protocol);
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    // curl -v: "* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384"
    let expected = format!("{} / {}", openssl_name(protocol), view.cipher);
    assert_eq!(
        field(&curl.stderr(), "SSL connection using "),
        Some(expected.as_str()),
        "{}",
        curl.output()
    );
}

#[test]
fn server_against_curl_tls13() {
    server_against_curl(&[], SslProtocol::TlsV1_3);
}

#[test]
fn server_against_curl_tls12() {
    server_against_curl(&["--tls-max", "1.2"], SslProtocol::TlsV1_2);
}

#[test]
fn curl_without_the_ca_rejects_our_server() {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(|socket| {
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        let result = socket.wait_for_encrypted(Some(STEP));
        let events: Vec<Event> = socket.events().collect();
        (result, events, socket.ssl_handshake_errors())
    });
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/");
    let mut curl = peers::curl(
        pki.dir(),
        &["-sS", "--max-time", "20", "--resolve", &resolve, &url],
    );
    let status = curl.wait_for_exit(STEP);
    let (result, events, errors) = join(server);
    // CURLE_PEER_FAILED_VERIFICATION
    assert_eq!(status.code(), Some(60), "{}", curl.output());
    assert!(curl.stdout().is_empty(), "{}", curl.output());

    // curl (OpenSSL) says why with an unknown_ca alert.
    match result {
        Err(Error::HandshakeFailed(rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA,
        ))) => {}
        other => panic!("expected an unknown_ca alert, got {other:?}"),
    }
    assert!(
        events.contains(&Event::AlertReceived {
            level: AlertLevel::Fatal,
            kind: AlertType::UnknownCa
        }),
        "{events:?}"
    );
    assert!(!events.contains(&Event::Encrypted), "{events:?}");
    // No client certificate was asked for, so there is nothing to report.
    assert!(errors.is_empty(), "{errors:?}");
}

// ---------------------------------------------------------------------------
// 4. Python's ssl module
// ---------------------------------------------------------------------------

/// A TLS client: connects, sends a line, prints the reply, version() and
/// cipher(). Args: port, CA file, maximum version ("1.2" or "any").
const PYTHON_CLIENT: &str = r#"
import socket, ssl, sys

port, cafile, max_version = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
if max_version == "1.2":
    context.maximum_version = ssl.TLSVersion.TLSv1_2
with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        print("VERSION", tls.version())
        print("CIPHER", tls.cipher()[0])
        tls.sendall(b"ping from python\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
        print("REPLY", data.decode().rstrip("\n"))
"#;

fn server_against_python_client(max_version: &str, protocol: SslProtocol) {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(echo_server);
    let mut client = peers::python(
        pki.dir(),
        "tls_client",
        PYTHON_CLIENT,
        &[port.to_string(), pki.path("ca.pem"), max_version.to_owned()],
    );
    let status = client.wait_for_exit(STEP);
    let view = join(server);
    assert!(status.success(), "{status}\n{}", client.output());
    let out = client.stdout();

    assert_eq!(view.lines, ["ping from python"]);
    assert_eq!(view.protocol, protocol);
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    assert_eq!(
        field(&out, "REPLY "),
        Some("echo: ping from python"),
        "{out}"
    );
    assert_eq!(
        field(&out, "VERSION "),
        Some(openssl_name(protocol)),
        "{out}"
    );
    assert_eq!(field(&out, "CIPHER "), Some(view.cipher.as_str()), "{out}");
}

#[test]
fn server_against_python_client_tls13() {
    server_against_python_client("any", SslProtocol::TlsV1_3);
}

#[test]
fn server_against_python_client_tls12() {
    server_against_python_client("1.2", SslProtocol::TlsV1_2);
}

/// A TLS echo server: prints the SNI it got, the line, version(), cipher()
/// and the client certificate's CN. Args: port, certificate file, key file,
/// maximum version ("1.2" or "any"), CA file for client certificates ("-":
/// none asked for).
const PYTHON_SERVER: &str = r#"
import socket, ssl, sys

port, cert, key, max_version, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
if max_version == "1.2":
    context.maximum_version = ssl.TLSVersion.TLSv1_2
if cafile != "-":
    context.load_verify_locations(cafile)
    context.verify_mode = ssl.CERT_REQUIRED
context.sni_callback = lambda sslobj, name, ctx: print("SNI", name, flush=True)

def read_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        if not byte:
            raise EOFError("connection closed")
        line += byte
    return line.decode().rstrip("\r\n")

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(8)
while True:
    conn, _ = listener.accept()
    conn.settimeout(20)
    try:
        with context.wrap_socket(conn, server_side=True) as tls:
            line = read_line(tls)
            tls.sendall(b"echo: " + line.encode() + b"\n")
            peer = tls.getpeercert()
            if peer:
                subject = dict(attribute[0] for attribute in peer["subject"])
                print("PEER", subject.get("commonName"))
            print("GOT", line)
            print("VERSION", tls.version())
            print("CIPHER", tls.cipher()[0])
            print("DONE", flush=True)
    except (OSError, EOFError) as e:
        print("SKIP", repr(e), file=sys.stderr, flush=True)
    finally:
        conn.close()
"#;

fn client_against_python_server(max_version: &str, protocol: SslProtocol, client_cert: bool) {
    let pki = Pki::new();
    let cafile = if client_cert {
        pki.path("ca.pem")
    } else {
        "-".to_owned()
    };
    let (mut server, port) = peers::python_server(
        pki.dir(),
        "tls_server",
        PYTHON_SERVER,
        &[
            pki.path("server.pem"),
            pki.path("server.key"),
            max_version.to_owned(),
            cafile,
        ],
    );

    let mut client = pki.client_socket();
    if client_cert {
        pki.use_client_identity(&mut client);
    }
    client.connect_to_host_encrypted_with_peer_name("127.0.0.1", port, "localhost");
    client
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("handshake with Python: {e}\n{}", server.output()));
    assert_encrypted_cleanly(&client, protocol);
    client.write_all(b"ping from sslsocket\n").unwrap();
    assert_eq!(line(&mut client), "echo: ping from sslsocket");
    client.disconnect_from_host();

    server.wait_for_stdout("DONE", STEP);
    let out = server.stdout();
    let cipher = client.session_cipher().unwrap();
    assert_eq!(field(&out, "SNI "), Some("localhost"), "{out}");
    assert_eq!(field(&out, "GOT "), Some("ping from sslsocket"), "{out}");
    assert_eq!(
        field(&out, "VERSION "),
        Some(openssl_name(protocol)),
        "{out}"
    );
    assert_eq!(field(&out, "CIPHER "), Some(cipher.name()), "{out}");
    let expected_peer = client_cert.then_some("interop client");
    assert_eq!(field(&out, "PEER "), expected_peer, "{out}");
}

#[test]
fn client_against_python_server_tls13() {
    client_against_python_server("any", SslProtocol::TlsV1_3, false);
}

#[test]
fn client_against_python_server_tls12() {
    client_against_python_server("1.2", SslProtocol::TlsV1_2, false);
}

#[test]
fn client_certificate_against_python_server() {
    client_against_python_server("any", SslProtocol::TlsV1_3, true);
}

// ---------------------------------------------------------------------------
// The helpers themselves
// ---------------------------------------------------------------------------

/// A server whose port was taken is started again on another port.
#[test]
fn start_server_retries_when_the_port_is_taken() {
    let pki = Pki::new();
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let taken_port = taken.local_addr().unwrap().port();
    let mut attempts = Vec::new();
    let (mut server, port) = peers::start_server("openssl s_server", |port| {
        // The first attempt collides with `taken`, as if someone had
        // grabbed the free port first.
        let port = if attempts.is_empty() {
            taken_port
        } else {
            port
        };
        attempts.push(port);
        let accept = format!("127.0.0.1:{port}");
        let args: Vec<String> = [
            "s_server",
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
            "-rev",
            "-accept",
            &accept,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        Peer::spawn("openssl s_server", "openssl", &args, pki.dir())
    });
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[1], port);
    assert!(server.try_wait().is_none(), "{}", server.output());

    let mut client = pki.client_socket();
    client.connect_to_host_encrypted_with_peer_name("127.0.0.1", port, "localhost");
    client
        .wait_for_encrypted(Some(STEP))
        .unwrap_or_else(|e| panic!("handshake: {e}\n{}", server.output()));
    client.write_all(b"retried\n").unwrap();
    assert_eq!(line(&mut client), "deirter");
    drop(taken);
}
