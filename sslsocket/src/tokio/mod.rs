//! Async [`SslSocket`] and [`SslServer`] on tokio (cargo feature `tokio`).
//!
//! The same sockets as the blocking [`crate::SslSocket`] and
//! [`crate::SslServer`]: the same modes, STARTTLS, data queued before the
//! handshake, verification handlers and ignore lists, accessors and
//! [`Event`](crate::Event)s, with `async` versions of the calls that wait.
//! Both front ends drive one I/O-free core (a rustls connection plus the
//! socket's mode, counters, verification outcome and event queue), and both
//! build their handshakes with the same code, so they behave the same: the
//! async socket only turns "would block" into `Poll::Pending`, as
//! tokio-rustls does for rustls. The socket needs a tokio runtime with I/O
//! and time enabled.
//!
//! ## A client
//!
//! Start calls return at once; `wait_for_*` calls drive the connection until
//! their condition holds or their timeout (a `tokio::time::timeout` inside
//! the call) runs out. The socket implements tokio's [`AsyncRead`] and
//! [`AsyncWrite`]:
//!
//! ```
//! use std::time::Duration;
//! use sslsocket::tokio::{SslServer, SslSocket};
//! use sslsocket::{SslConfiguration, SslProtocol};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! # use sslsocket::{KeyType, SslCertificate, SslKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let key_pair = rcgen::KeyPair::generate()?;
//! # let params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
//! # let certificate = SslCertificate::from_der(params.self_signed(&key_pair)?.der())?;
//! # let key = SslKey::from_pem(key_pair.serialize_pem(), KeyType::PrivateKey, None)?;
//! let timeout = Some(Duration::from_secs(10));
//! // An echo server, handing out encrypted sockets.
//! let mut configuration = SslConfiguration::new();
//! configuration.set_local_identity(vec![certificate.clone()], key)?;
//! let mut server = SslServer::new(configuration)?;
//! server.listen("127.0.0.1:0").await?;
//! let port = server.local_address().unwrap().port();
//! tokio::spawn(async move {
//!     let mut socket = server.accept(None).await?;
//!     let line = socket.read_line(1024).await?;
//!     socket.write_all(&line).await?;
//!     socket.disconnect_from_host().await;
//!     Ok::<_, sslsocket::Error>(())
//! });
//!
//! let mut client = SslSocket::new();
//! client.set_ca_certificates(vec![certificate]); // trust only this (self-signed) server
//! client.connect_to_host_encrypted("localhost", port);
//! client.write_data(b"hello\n")?; // queued until the handshake completes
//! client.wait_for_encrypted(timeout).await?;
//! assert_eq!(client.session_protocol(), SslProtocol::TlsV1_3);
//! let mut echo = String::new();
//! client.read_to_string(&mut echo).await?;
//! assert_eq!(echo, "hello\n");
//! # Ok(())
//! # }
//! ```
//!
//! ## A STARTTLS server
//!
//! In [`ServerMode::Plain`](crate::ServerMode::Plain) the server hands out
//! plain sockets with its configuration installed; the protocol decides when
//! to switch to TLS:
//!
//! ```
//! use std::time::Duration;
//! use sslsocket::tokio::{SslServer, SslSocket};
//! use sslsocket::{ServerMode, SslConfiguration, SslMode};
//! use tokio::io::AsyncWriteExt;
//! # use sslsocket::{KeyType, SslCertificate, SslKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let key_pair = rcgen::KeyPair::generate()?;
//! # let params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
//! # let certificate = SslCertificate::from_der(params.self_signed(&key_pair)?.der())?;
//! # let key = SslKey::from_pem(key_pair.serialize_pem(), KeyType::PrivateKey, None)?;
//! let timeout = Some(Duration::from_secs(10));
//! let mut configuration = SslConfiguration::new();
//! configuration.set_local_identity(vec![certificate.clone()], key)?;
//! let mut server = SslServer::new(configuration)?;
//! server.set_mode(ServerMode::Plain);
//! server.listen("127.0.0.1:0").await?;
//! let port = server.local_address().unwrap().port();
//!
//! let serving = tokio::spawn(async move {
//!     let mut socket = server.accept(None).await?;
//!     socket.write_all(b"220 ready\r\n").await?;
//!     while socket.read_line(1024).await? != b"STARTTLS\r\n" {
//!         socket.write_all(b"530 say STARTTLS first\r\n").await?;
//!     }
//!     socket.write_all(b"220 go ahead\r\n").await?;
//!     socket.start_server_encryption()?;
//!     socket.wait_for_encrypted(timeout).await?;
//!     let secret = socket.read_line(1024).await?;
//!     socket.disconnect_from_host().await;
//!     Ok::<_, sslsocket::Error>(secret)
//! });
//!
//! let mut client = SslSocket::new();
//! client.set_ca_certificates(vec![certificate]);
//! client.connect_to_host("localhost", port);
//! client.wait_for_connected(timeout).await?;
//! assert_eq!(client.read_line(1024).await?, b"220 ready\r\n");
//! client.write_all(b"STARTTLS\r\n").await?;
//! assert_eq!(client.read_line(1024).await?, b"220 go ahead\r\n");
//! client.start_client_encryption()?;
//! assert_eq!(client.mode(), SslMode::SslClientMode);
//! client.write_all(b"AUTH secret\r\n").await?; // completes the handshake first
//! client.disconnect_from_host().await;
//! assert_eq!(serving.await??, b"AUTH secret\r\n");
//! # Ok(())
//! # }
//! ```
//!
//! ## Events
//!
//! [`SocketCore::next_event`](crate::SocketCore::next_event) takes a queued notification without waiting;
//! [`SslSocket::events`] is a [`Stream`](futures_core::Stream) of them that
//! drives the socket while it waits, as Qt's event loop would (events come
//! from the socket's bounded, merging queue: nothing is allocated per
//! record):
//!
//! ```no_run
//! # async fn watch(mut socket: sslsocket::tokio::SslSocket) {
//! use sslsocket::Event;
//! let mut events = socket.events();
//! while let Some(event) = events.next().await {
//!     match event {
//!         Event::Encrypted => println!("encrypted"),
//!         Event::ModeChanged(mode) => println!("now in {mode:?}"),
//!         Event::AlertReceived { level, kind } => println!("alert {level:?} {kind:?}"),
//!         Event::Disconnected => break,
//!         _ => {}
//!     }
//! }
//! # }
//! ```
//!
//! ## Cancellation
//!
//! Every state a wait builds up (the connection being made, the handshake,
//! received data, data queued for sending) lives in the socket, not in the
//! future, so dropping a future (a `select!` branch that lost, a
//! `tokio::time::timeout` that fired) loses nothing:
//!
//! | method | when its future is dropped |
//! | --- | --- |
//! | `wait_for_connected`, `wait_for_encrypted` | the connect and handshake go on at the next wait, read or write |
//! | `wait_for_ready_read`, `read_line`, `AsyncRead` reads | received data stays in the socket; `read_line` consumes nothing until the line is complete |
//! | `flush`, `wait_for_bytes_written`, `AsyncWrite` writes | queued data stays queued; a write returns `Ready(n)` only once `n` bytes are queued |
//! | `disconnect_from_host`, `AsyncWrite::poll_shutdown` | the close_notify is queued once; calling again finishes the close |
//! | `wait_for_disconnected`, `events().next()` | nothing is lost; events stay queued |
//! | [`SslServer::accept`] | connections taken from the listener stay with the server (handshaking or ready) for the next call |
//!
//! A `wait_for_*` timeout that fires while the connection is still being
//! made gives the connection up (the socket becomes unconnected), as the
//! blocking socket's does; during the handshake or later, a timeout leaves
//! the socket as it was.
//!
//! Dropping a socket, mid-handshake or not, closes its transport and frees
//! everything; no task is left behind (the socket spawns none). Dropping an
//! [`SslServer`] cancels the handshake tasks it runs.
//!
//! ## Splitting
//!
//! Once the handshake is complete, [`AsyncRead`] uses only the transport's
//! reading side and [`AsyncWrite`] only its writing side, so the socket can
//! be split with `tokio::io::split` (finish the handshake first, with
//! [`SslSocket::wait_for_encrypted`]). Data queued with
//! [`SocketCore::write_data`](crate::SocketCore::write_data) goes out with the next write, a flush or any
//! `wait_for_*` call, not with a read.
//!
//! [`AsyncRead`]: ::tokio::io::AsyncRead
//! [`AsyncWrite`]: ::tokio::io::AsyncWrite

mod server;
mod socket;

pub use server::SslServer;
pub use socket::{Events, SslSocket};
