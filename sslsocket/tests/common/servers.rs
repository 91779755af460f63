//! Servers on a thread of their own and the hostile connections the
//! availability tests aim at them: silent ones, half a ClientHello.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use super::pki::{AsSslCertificate, Identity, LeafSpec};
use sslsocket::server::ServerEvent;
use sslsocket::{Error, KeyType, SslCertificate, SslConfiguration, SslKey, SslSocket};

/// What the real client is given: far less than any hostile connection can
/// hold a server for in these tests.
pub const CLIENT_WAIT: Duration = Duration::from_secs(10);
/// The hostile connections' deadlines, when they are not under test.
pub const LONG: Duration = Duration::from_secs(60);

pub struct Pki {
    pub root: SslCertificate,
    pub server: SslConfiguration,
}

impl Pki {
    pub fn new() -> Pki {
        let root = Identity::new("Availability Root");
        let leaf = root.leaf(&LeafSpec {
            common_name: "localhost",
            dns: &["localhost"],
            ..LeafSpec::default()
        });
        let key = SslKey::from_pem(leaf.key_pem(), KeyType::PrivateKey, None).unwrap();
        let mut server = SslConfiguration::new();
        server
            .set_local_identity(vec![leaf.certificate()], key)
            .unwrap();
        Pki {
            root: root.certificate(),
            server,
        }
    }

    /// A real client's handshake with the server at `port`, within
    /// [`CLIENT_WAIT`].
    pub fn real_client(&self, port: u16) -> Result<(), Error> {
        let mut socket = SslSocket::new();
        socket.set_ca_certificates(vec![self.root.clone()]);
        socket.connect_to_host_encrypted("localhost", port);
        socket.wait_for_encrypted(Some(CLIENT_WAIT))
    }
}

/// The server limits a test sets.
#[derive(Clone, Copy)]
pub struct Limits {
    pub hello_timeout: Duration,
    pub handshake_timeout: Duration,
    pub max_handshakes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            hello_timeout: LONG,
            handshake_timeout: LONG,
            max_handshakes: None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Server {
    Blocking,
    Tokio,
}

/// A server accepting on a thread of its own until stopped; the sockets it
/// hands out come through `accepted`.
pub struct Running {
    pub port: u16,
    pub accepted: mpsc::Receiver<()>,
    pub stop: Arc<AtomicBool>,
    pub thread: JoinHandle<Vec<ServerEvent>>,
}

impl Running {
    pub fn start(kind: Server, configuration: SslConfiguration, limits: Limits) -> Running {
        let (ports, port) = mpsc::channel();
        let (sender, accepted) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || match kind {
            Server::Blocking => {
                let mut server = sslsocket::SslServer::new(configuration).unwrap();
                server.set_client_hello_timeout(Some(limits.hello_timeout));
                server.set_handshake_timeout(Some(limits.handshake_timeout));
                if let Some(max) = limits.max_handshakes {
                    server.set_max_concurrent_handshakes(max);
                }
                server.listen("127.0.0.1:0").unwrap();
                ports.send(server.local_address().unwrap().port()).unwrap();
                let mut kept = Vec::new();
                while !stopped.load(Ordering::SeqCst) {
                    if let Ok(socket) = server.accept(Some(Duration::from_millis(50))) {
                        kept.push(socket);
                        let _ = sender.send(());
                    }
                }
                server.events().collect()
            }
            Server::Tokio => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let mut server = sslsocket::tokio::SslServer::new(configuration).unwrap();
                    server.set_client_hello_timeout(Some(limits.hello_timeout));
                    server.set_handshake_timeout(Some(limits.handshake_timeout));
                    if let Some(max) = limits.max_handshakes {
                        server.set_max_concurrent_handshakes(max);
                    }
                    server.listen("127.0.0.1:0").await.unwrap();
                    ports.send(server.local_address().unwrap().port()).unwrap();
                    let mut kept = Vec::new();
                    while !stopped.load(Ordering::SeqCst) {
                        if let Ok(socket) = server.accept(Some(Duration::from_millis(50))).await {
                            kept.push(socket);
                            let _ = sender.send(());
                        }
                    }
                    server.events().collect()
                })
            }
        });
        Running {
            port: port.recv_timeout(CLIENT_WAIT).expect("the server listens"),
            accepted,
            stop,
            thread,
        }
    }

    /// Stops the server and returns its events.
    pub fn stop(self) -> Vec<ServerEvent> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("server thread")
    }
}

/// `count` connections to `port` that send `bytes` and then nothing.
pub fn hostile(port: u16, count: usize, bytes: &[u8]) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            std::io::Write::write_all(&mut stream, bytes).expect("send");
            stream
        })
        .collect()
}

/// The first half of a real ClientHello record.
pub fn half_a_client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut hello = Vec::new();
    connection.write_tls(&mut hello).unwrap();
    assert!(hello.len() > 100, "a ClientHello record");
    hello.truncate(hello.len() / 2);
    hello
}

/// Whether the server closed `stream` within `wait` (end of stream or a
/// reset, not silence).
pub fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            // An alert, then the close.
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }
}
