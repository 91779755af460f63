//! The tokio socket and server against real TLS peers on 127.0.0.1:
//! `openssl s_server` / `s_client` (including SMTP STARTTLS) and `curl`,
//! as `interop.rs` does for the blocking ones (same peer helpers).
//!
//! The peers are driven by blocking helpers on the test thread; our sockets
//! run on the shared tokio runtime of `common::scenarios`.
#![cfg(feature = "tokio")]

mod common;

use common::interop::{openssl_name, s_client_session, InteropPki};
use common::peers::{self, field, STEP};
use common::pki::AsSslCertificate;
use common::scenarios::runtime;
use sslsocket::tokio::{SslServer, SslSocket};
use sslsocket::{ServerMode, SslConfiguration, SslError, SslMode, SslProtocol};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

type Pki = InteropPki;

/// What the tokio tests make from the shared PKI.
trait TokioFixtures {
    fn server_configuration(&self) -> SslConfiguration;
    fn serve_one<T: Send + 'static, F>(
        &self,
        mode: ServerMode,
        handler: impl FnOnce(SslSocket) -> F + Send + 'static,
    ) -> (u16, JoinHandle<T>)
    where
        F: std::future::Future<Output = T> + Send;
}

impl TokioFixtures for InteropPki {
    fn server_configuration(&self) -> SslConfiguration {
        let (chain, key) = self.server_identity();
        let mut configuration = SslConfiguration::new();
        configuration.set_local_identity(chain, key).unwrap();
        configuration
    }

    /// An async server on 127.0.0.1 in `mode` that serves one client with
    /// `handler` on the runtime.
    fn serve_one<T: Send + 'static, F>(
        &self,
        mode: ServerMode,
        handler: impl FnOnce(SslSocket) -> F + Send + 'static,
    ) -> (u16, JoinHandle<T>)
    where
        F: std::future::Future<Output = T> + Send,
    {
        let configuration = self.server_configuration();
        let (server, port) = runtime().block_on(async {
            let mut server = SslServer::new(configuration).unwrap();
            server.set_mode(mode);
            server.listen("127.0.0.1:0").await.unwrap();
            let port = server.local_address().unwrap().port();
            (server, port)
        });
        let mut server = server;
        let task = runtime().spawn(async move {
            let socket = server.accept(Some(STEP)).await.expect("a client");
            handler(socket).await
        });
        (port, task)
    }
}

/// What our end saw of a connection.
#[derive(Debug)]
struct View {
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

async fn line(socket: &mut SslSocket) -> String {
    let line = socket.read_line(4096).await.expect("a line");
    String::from_utf8(line)
        .expect("UTF-8")
        .trim_end_matches(['\r', '\n'])
        .to_owned()
}

// ---------------------------------------------------------------------------
// Our async client against openssl s_server
// ---------------------------------------------------------------------------

fn client_against_s_server(version_flag: &str, protocol: SslProtocol) {
    let pki = Pki::new();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let (mut server, port) = peers::openssl_s_server(
        pki.dir(),
        &["-cert", &cert, "-key", &key, "-rev", version_flag],
    );
    let root = pki.root.certificate();
    let (reply, view) = runtime()
        .block_on(async {
            let mut client = SslSocket::new();
            client.set_ca_certificates(vec![root]);
            client.connect_to_host_encrypted("localhost", port);
            client.write_data(b"hello from the tokio socket\n")?;
            client.wait_for_encrypted(Some(STEP)).await?;
            assert_eq!(client.mode(), SslMode::SslClientMode);
            let reply = line(&mut client).await;
            let view = View::of(&client, Vec::new());
            client.disconnect_from_host().await;
            Ok::<_, sslsocket::Error>((reply, view))
        })
        .unwrap_or_else(|e| panic!("against s_server: {e}\n{}", server.output()));
    assert_eq!(reply, "tekcos oikot eht morf olleh");
    assert_eq!(view.protocol, protocol);
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    server.wait_for_stderr(&format!("Ciphersuite: {}", view.cipher), STEP);
    assert_eq!(
        field(&server.stderr(), "Protocol version:"),
        Some(openssl_name(protocol)),
        "{}",
        server.output()
    );
}

#[test]
fn client_against_s_server_tls13() {
    client_against_s_server("-tls1_3", SslProtocol::TlsV1_3);
}

#[test]
fn client_against_s_server_tls12() {
    client_against_s_server("-tls1_2", SslProtocol::TlsV1_2);
}

// ---------------------------------------------------------------------------
// Our async server against openssl s_client and curl
// ---------------------------------------------------------------------------

fn server_against_s_client(version_flag: &str, protocol: SslProtocol) {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(ServerMode::Encrypted, |mut socket| async move {
        assert_eq!(socket.mode(), SslMode::SslServerMode);
        let received = line(&mut socket).await;
        socket
            .write_all(format!("echo: {received}\n").as_bytes())
            .await
            .unwrap();
        socket.disconnect_from_host().await;
        View::of(&socket, vec![received])
    });
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
    let view = runtime().block_on(server).expect("server task");
    let out = client.stdout();
    assert!(status.success(), "{status}\n{}", client.output());
    assert_eq!(view.lines, ["hello from s_client"]);
    assert_eq!(view.protocol, protocol);
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    assert_eq!(field(&out, "Verify return code:"), Some("0 (ok)"), "{out}");
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

const BODY: &str = "hello from the tokio sslsocket over HTTPS\n";

#[test]
fn server_against_curl() {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(ServerMode::Encrypted, |mut socket| async move {
        let mut head = Vec::new();
        loop {
            let next = line(&mut socket).await;
            if next.is_empty() {
                break;
            }
            head.push(next);
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
            BODY.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.disconnect_from_host().await;
        View::of(&socket, head)
    });
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/hello");
    let ca = pki.path("ca.pem");
    let mut curl = peers::curl(
        pki.dir(),
        &[
            "-sS",
            "-v",
            "--max-time",
            "20",
            "--cacert",
            &ca,
            "--resolve",
            &resolve,
            &url,
        ],
    );
    let status = curl.wait_for_exit(STEP);
    let view = runtime().block_on(server).expect("server task");
    assert_eq!(status.code(), Some(0), "{}", curl.output());
    assert_eq!(curl.stdout(), BODY);
    assert_eq!(view.lines[0], "GET /hello HTTP/1.1", "{:?}", view.lines);
    assert!(view.lines.contains(&format!("Host: localhost:{port}")));
    assert_eq!(view.protocol, SslProtocol::TlsV1_3);
    let expected = format!("TLSv1.3 / {}", view.cipher);
    assert_eq!(
        field(&curl.stderr(), "SSL connection using "),
        Some(expected.as_str()),
        "{}",
        curl.output()
    );
}

#[test]
fn plain_server_starttls_smtp_against_s_client() {
    let pki = Pki::new();
    let (port, server) = pki.serve_one(ServerMode::Plain, |mut socket| async move {
        let mut log = Vec::new();
        socket
            .write_all(b"220 localhost ESMTP sslsocket-tokio\r\n")
            .await
            .unwrap();
        log.push(line(&mut socket).await);
        socket
            .write_all(b"250-localhost\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
            .await
            .unwrap();
        log.push(line(&mut socket).await);
        assert_eq!(log.last().unwrap(), "STARTTLS", "{log:?}");
        socket
            .write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .await
            .unwrap();
        assert_eq!(socket.mode(), SslMode::UnencryptedMode);
        socket
            .start_server_encryption()
            .expect("the handshake starts");
        socket
            .wait_for_encrypted(Some(STEP))
            .await
            .unwrap_or_else(|e| panic!("server handshake: {e}"));
        loop {
            let command = line(&mut socket).await;
            log.push(command.clone());
            if command.eq_ignore_ascii_case("QUIT") {
                socket.write_all(b"221 2.0.0 Bye\r\n").await.unwrap();
                break;
            } else if command.to_ascii_uppercase().starts_with("EHLO") {
                socket
                    .write_all(b"250-localhost over TLS\r\n250 AUTH PLAIN\r\n")
                    .await
                    .unwrap();
            } else {
                socket.write_all(b"500 what?\r\n").await.unwrap();
            }
        }
        socket.disconnect_from_host().await;
        View::of(&socket, log)
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
    let view = runtime().block_on(server).expect("server task");
    let out = client.stdout();
    assert!(status.success(), "{status}\n{}", client.output());
    assert_eq!(
        view.lines,
        [
            "EHLO client.example",
            "STARTTLS",
            "EHLO again.example",
            "QUIT"
        ]
    );
    assert_eq!(view.protocol, SslProtocol::TlsV1_3);
    assert_eq!(field(&out, "Verify return code:"), Some("0 (ok)"), "{out}");
    assert_eq!(
        s_client_session(&out),
        Some(format!("TLSv1.3, Cipher is {}", view.cipher)),
        "{out}"
    );
    assert!(out.contains("250-localhost over TLS"), "{out}");
    assert!(out.contains("221 2.0.0 Bye"), "{out}");
}
