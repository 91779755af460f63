//! TLS connections of each library over 127.0.0.1, blocking (a thread per
//! side) and on tokio, for the loopback scenarios.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openssl::ssl::{SslContext, SslSession, SslStream};
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};
use sslsocket::{SslConfiguration, SslSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::peers::{self, Spec};
use crate::pki::Pki;

/// How long any single network wait may take before the bench gives up.
pub const WAIT: Duration = Duration::from_secs(30);

/// A blocking TLS connection.
pub trait Conn: Read + Write + Send {
    /// Sends close_notify and closes.
    fn close(self: Box<Self>);
    /// Whether the handshake resumed a session.
    fn resumed(&self) -> bool;
}

impl Conn for SslSocket<TcpStream> {
    fn close(mut self: Box<Self>) {
        self.disconnect_from_host();
    }

    fn resumed(&self) -> bool {
        self.is_session_resumed()
    }
}

impl Conn for StreamOwned<ClientConnection, TcpStream> {
    fn close(mut self: Box<Self>) {
        self.conn.send_close_notify();
        let _ = self.conn.complete_io(&mut self.sock);
    }

    fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }
}

impl Conn for StreamOwned<ServerConnection, TcpStream> {
    fn close(mut self: Box<Self>) {
        self.conn.send_close_notify();
        let _ = self.conn.complete_io(&mut self.sock);
    }

    fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }
}

/// An OpenSSL connection; a client keeps its session for the next one.
struct OpensslConn {
    stream: SslStream<TcpStream>,
    keep: Option<Arc<Mutex<Option<SslSession>>>>,
}

impl Read for OpensslConn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for OpensslConn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

impl Conn for OpensslConn {
    fn close(mut self: Box<Self>) {
        if let Some(keep) = &self.keep {
            *keep.lock().expect("session lock") = self.stream.ssl().session().map(|s| s.to_owned());
        }
        let _ = self.stream.shutdown();
    }

    fn resumed(&self) -> bool {
        self.stream.ssl().session_reused()
    }
}

/// The blocking peers (client side and server side of the same library).
/// `sslsocket+SslServer` is sslsocket with `SslServer::accept` on the
/// server side instead of a socket made from an accepted stream.
pub const BLOCKING_PEERS: [&str; 3] = ["sslsocket", "rustls", "openssl"];

/// The client half of a blocking peer, configured once.
pub enum Client {
    /// `SslSocket::connect_to_host_encrypted`.
    Sslsocket(SslConfiguration),
    /// rustls `StreamOwned`.
    Rustls(Arc<ClientConfig>),
    /// OpenSSL `SslStream`.
    Openssl {
        /// The client context.
        context: SslContext,
        /// Where the session to resume is kept, when resuming.
        session: Option<Arc<Mutex<Option<SslSession>>>>,
    },
}

impl Client {
    /// The client of `peer`.
    pub fn new(peer: &str, pki: &Pki, spec: Spec) -> Client {
        match peer {
            "sslsocket" | "sslsocket+SslServer" => {
                Client::Sslsocket(peers::sslsocket_client(pki, spec))
            }
            "rustls" => Client::Rustls(peers::rustls_client(pki, spec)),
            "openssl" => Client::Openssl {
                context: peers::openssl_client(pki, spec),
                session: spec.resumption.then(Arc::default),
            },
            other => panic!("no blocking peer {other}"),
        }
    }

    /// Connects to `address` and completes the handshake.
    pub fn connect(&self, address: SocketAddr) -> Box<dyn Conn> {
        match self {
            Client::Sslsocket(configuration) => {
                let mut socket = SslSocket::new();
                socket.set_ssl_configuration(configuration.clone());
                socket.connect_to_host_encrypted("127.0.0.1", address.port());
                socket
                    .wait_for_encrypted(Some(WAIT))
                    .expect("sslsocket client handshake");
                Box::new(socket)
            }
            Client::Rustls(config) => {
                let mut tcp = TcpStream::connect(address).expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                let mut conn = ClientConnection::new(config.clone(), peers::rustls_server_name())
                    .expect("rustls client");
                while conn.is_handshaking() {
                    conn.complete_io(&mut tcp).expect("rustls client handshake");
                }
                Box::new(StreamOwned::new(conn, tcp))
            }
            Client::Openssl { context, session } => {
                let tcp = TcpStream::connect(address).expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                let mut ssl = peers::openssl_client_ssl(context);
                if let Some(kept) = session
                    .as_ref()
                    .and_then(|s| s.lock().expect("lock").clone())
                {
                    // SAFETY: the session comes from this client context.
                    unsafe { ssl.set_session(&kept) }.expect("set session");
                }
                let stream = ssl
                    .connect(tcp)
                    .unwrap_or_else(|e| panic!("openssl client handshake: {e}"));
                Box::new(OpensslConn {
                    stream,
                    keep: session.clone(),
                })
            }
        }
    }
}

/// The server half of a blocking peer, listening.
pub struct Server {
    kind: ServerKind,
    /// Where clients connect.
    pub address: SocketAddr,
}

enum ServerKind {
    Sslsocket(TcpListener, Box<SslConfiguration>),
    SslServer(Box<sslsocket::SslServer>),
    Rustls(TcpListener, Arc<ServerConfig>),
    Openssl(TcpListener, SslContext),
}

impl Server {
    /// Listens on 127.0.0.1 with the server of `peer`.
    pub fn listen(peer: &str, pki: &Pki, spec: Spec) -> Server {
        let listener = || TcpListener::bind("127.0.0.1:0").expect("bind");
        let kind = match peer {
            "sslsocket" => {
                ServerKind::Sslsocket(listener(), Box::new(peers::sslsocket_server(pki, spec)))
            }
            "sslsocket+SslServer" => {
                let mut server = sslsocket::SslServer::new(peers::sslsocket_server(pki, spec))
                    .expect("SslServer");
                server.listen("127.0.0.1:0").expect("listen");
                ServerKind::SslServer(Box::new(server))
            }
            "rustls" => ServerKind::Rustls(listener(), peers::rustls_server(pki, spec)),
            "openssl" => ServerKind::Openssl(listener(), peers::openssl_server(pki, spec)),
            other => panic!("no blocking peer {other}"),
        };
        let address = match &kind {
            ServerKind::Sslsocket(l, _) | ServerKind::Rustls(l, _) | ServerKind::Openssl(l, _) => {
                l.local_addr().expect("address")
            }
            ServerKind::SslServer(s) => s.local_address().expect("address"),
        };
        Server { kind, address }
    }

    /// Accepts the next client and completes the handshake.
    pub fn accept(&mut self) -> Box<dyn Conn> {
        let accept = |listener: &TcpListener| {
            let (tcp, _) = listener.accept().expect("accept");
            tcp.set_nodelay(true).expect("nodelay");
            tcp
        };
        match &mut self.kind {
            ServerKind::Sslsocket(listener, configuration) => {
                let mut socket = SslSocket::from_stream_with_configuration(
                    accept(listener),
                    (**configuration).clone(),
                );
                socket.start_server_encryption().expect("server starts");
                socket
                    .wait_for_encrypted(Some(WAIT))
                    .expect("sslsocket server handshake");
                Box::new(socket)
            }
            ServerKind::SslServer(server) => Box::new(server.accept(Some(WAIT)).expect("accept")),
            ServerKind::Rustls(listener, config) => {
                let mut tcp = accept(listener);
                let mut conn = ServerConnection::new(config.clone()).expect("rustls server");
                while conn.is_handshaking() {
                    conn.complete_io(&mut tcp).expect("rustls server handshake");
                }
                Box::new(StreamOwned::new(conn, tcp))
            }
            ServerKind::Openssl(listener, context) => {
                let stream = peers::openssl_server_ssl(context)
                    .accept(accept(listener))
                    .unwrap_or_else(|e| panic!("openssl server handshake: {e}"));
                Box::new(OpensslConn { stream, keep: None })
            }
        }
    }
}

// --- tokio --------------------------------------------------------------------

/// The tokio peers.
pub const TOKIO_PEERS: [&str; 2] = ["sslsocket-tokio", "tokio-rustls"];

/// An async TLS connection of either tokio peer.
pub enum AConn {
    /// `sslsocket::tokio::SslSocket`.
    Ssl(Box<sslsocket::tokio::SslSocket<tokio::net::TcpStream>>),
    /// tokio-rustls, client side.
    RustlsClient(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
    /// tokio-rustls, server side.
    RustlsServer(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
}

macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AConn::Ssl($s) => $body,
            AConn::RustlsClient($s) => $body,
            AConn::RustlsServer($s) => $body,
        }
    };
}

impl AConn {
    /// Writes all of `data` and flushes it.
    pub async fn send(&mut self, data: &[u8]) {
        each!(self, s => {
            AsyncWriteExt::write_all(&mut **s, data).await.expect("write");
            AsyncWriteExt::flush(&mut **s).await.expect("flush");
        })
    }

    /// Reads some data; 0 at the end of the stream.
    pub async fn recv(&mut self, buf: &mut [u8]) -> usize {
        each!(self, s => AsyncReadExt::read(&mut **s, buf).await.expect("read"))
    }

    /// Reads exactly `buf.len()` bytes.
    pub async fn recv_exact(&mut self, buf: &mut [u8]) {
        each!(self, s => {
            AsyncReadExt::read_exact(&mut **s, buf).await.expect("read_exact");
        })
    }

    /// Sends close_notify and closes.
    pub async fn close(self) {
        match self {
            AConn::Ssl(mut s) => s.disconnect_from_host().await,
            AConn::RustlsClient(mut s) => {
                let _ = s.shutdown().await;
            }
            AConn::RustlsServer(mut s) => {
                let _ = s.shutdown().await;
            }
        }
    }

    /// Whether the handshake resumed a session.
    pub fn resumed(&self) -> bool {
        match self {
            AConn::Ssl(s) => s.is_session_resumed(),
            AConn::RustlsClient(s) => {
                s.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
            }
            AConn::RustlsServer(s) => {
                s.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
            }
        }
    }
}

/// The client half of a tokio peer.
#[derive(Clone)]
pub enum AClient {
    /// `sslsocket::tokio::SslSocket::connect_to_host_encrypted`.
    Ssl(Box<SslConfiguration>),
    /// `tokio_rustls::TlsConnector`.
    Rustls(tokio_rustls::TlsConnector),
}

impl AClient {
    /// The client of `peer`.
    pub fn new(peer: &str, pki: &Pki, spec: Spec) -> AClient {
        match peer {
            "sslsocket-tokio" => AClient::Ssl(Box::new(peers::sslsocket_client(pki, spec))),
            "tokio-rustls" => AClient::Rustls(peers::rustls_client(pki, spec).into()),
            other => panic!("no tokio peer {other}"),
        }
    }

    /// Connects and completes the handshake.
    pub async fn connect(&self, address: SocketAddr) -> AConn {
        match self {
            AClient::Ssl(configuration) => {
                let mut socket = sslsocket::tokio::SslSocket::new();
                socket.set_ssl_configuration((**configuration).clone());
                socket.connect_to_host_encrypted("127.0.0.1", address.port());
                socket
                    .wait_for_encrypted(Some(WAIT))
                    .await
                    .expect("sslsocket-tokio client handshake");
                AConn::Ssl(Box::new(socket))
            }
            AClient::Rustls(connector) => {
                let tcp = tokio::net::TcpStream::connect(address)
                    .await
                    .expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                let stream = connector
                    .connect(peers::rustls_server_name(), tcp)
                    .await
                    .expect("tokio-rustls client handshake");
                AConn::RustlsClient(Box::new(stream))
            }
        }
    }
}

/// The server half of a tokio peer, listening.
pub enum AServer {
    /// `sslsocket::tokio::SslServer`.
    Ssl(Box<sslsocket::tokio::SslServer>),
    /// A tokio listener and a `tokio_rustls::TlsAcceptor`.
    Rustls(tokio::net::TcpListener, tokio_rustls::TlsAcceptor),
}

impl AServer {
    /// Listens on 127.0.0.1 with the server of `peer`.
    pub async fn listen(peer: &str, pki: &Pki, spec: Spec) -> AServer {
        match peer {
            "sslsocket-tokio" => {
                let mut server =
                    sslsocket::tokio::SslServer::new(peers::sslsocket_server(pki, spec))
                        .expect("SslServer");
                server.listen("127.0.0.1:0").await.expect("listen");
                AServer::Ssl(Box::new(server))
            }
            "tokio-rustls" => AServer::Rustls(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind"),
                peers::rustls_server(pki, spec).into(),
            ),
            other => panic!("no tokio peer {other}"),
        }
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        match self {
            AServer::Ssl(s) => s.local_address().expect("address"),
            AServer::Rustls(l, _) => l.local_addr().expect("address"),
        }
    }

    /// Accepts the next client and completes the handshake.
    pub async fn accept(&mut self) -> AConn {
        match self {
            AServer::Ssl(server) => {
                AConn::Ssl(Box::new(server.accept(Some(WAIT)).await.expect("accept")))
            }
            AServer::Rustls(listener, acceptor) => {
                let (tcp, _) = listener.accept().await.expect("accept");
                tcp.set_nodelay(true).expect("nodelay");
                let stream = acceptor
                    .accept(tcp)
                    .await
                    .expect("tokio-rustls server handshake");
                AConn::RustlsServer(Box::new(stream))
            }
        }
    }
}

/// A runtime for the tokio peers: two workers, as there are two cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
