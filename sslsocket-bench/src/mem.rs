//! TLS ends of each library over the in-memory pipe, driven from one
//! thread: the in-memory scenarios (bulk-mem, handshake-mem, idle-memory).

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::Arc;

use openssl::ssl::{ErrorCode, ShutdownState, SslContext, SslSession, SslStream};
use std::ops::DerefMut;

use rustls::{
    ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection, SideData,
};
use sslsocket::{SslConfiguration, SslSocket};

use crate::mempipe::{self, MemEnd};
use crate::peers::{self, Spec};
use crate::pki::Pki;

/// One end of a TLS connection over the in-memory pipe.
pub trait MemTls {
    /// Makes all the progress possible without waiting: reads what the
    /// pipe holds, processes it, writes what is ready.
    fn step(&mut self);
    /// Whether the handshake is complete.
    fn established(&self) -> bool;
    /// Ciphertext waiting in the pipe for this end.
    fn pending_in(&self) -> usize;
    /// Writes all of `data` and flushes the ciphertext into the pipe.
    fn send(&mut self, data: &[u8]);
    /// Reads some plaintext (the ciphertext must be in the pipe already).
    fn recv(&mut self, buf: &mut [u8]) -> usize;
    /// Whether the handshake resumed a session.
    fn resumed(&self) -> bool;
    /// The key exchange group, where the library tells it.
    fn group(&self) -> Option<String>;
    /// Frees the pipe buffers' spare capacity.
    fn shrink(&self);
    /// The session to resume next time (OpenSSL clients only).
    fn openssl_session(&self) -> Option<SslSession> {
        None
    }
    /// State for error messages.
    fn describe(&self) -> String;
}

// --- sslsocket ----------------------------------------------------------------

struct SslEnd(SslSocket<MemEnd>);

impl MemTls for SslEnd {
    fn step(&mut self) {
        // Each wait ends with Error::Io once the pipe is empty (see mempipe).
        let mut guard = 0;
        while self.pending_in() > 0 && guard < 1000 {
            let _ = self.0.wait_for_ready_read(None);
            guard += 1;
        }
        let _ = SslSocket::flush(&mut self.0);
    }

    fn established(&self) -> bool {
        self.0.is_encrypted()
    }

    fn pending_in(&self) -> usize {
        self.0.get_ref().map_or(0, MemEnd::available)
    }

    fn send(&mut self, data: &[u8]) {
        self.0.write_all(data).expect("sslsocket write");
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        self.0.read(buf).expect("sslsocket read")
    }

    fn resumed(&self) -> bool {
        self.0.is_session_resumed()
    }

    fn group(&self) -> Option<String> {
        self.0.key_exchange_group().map(|g| g.to_string())
    }

    fn shrink(&self) {
        if let Some(end) = self.0.get_ref() {
            end.shrink();
        }
    }

    fn describe(&self) -> String {
        format!("{:?}: {}", self.0, self.0.error_string())
    }
}

// --- rustls -------------------------------------------------------------------

/// rustls' own connection type (`ClientConnection` or `ServerConnection`),
/// so that data goes through rustls' `Stream` adapter.
struct RustlsEnd<C> {
    connection: C,
    pipe: MemEnd,
}

impl<C, S> MemTls for RustlsEnd<C>
where
    C: DerefMut<Target = ConnectionCommon<S>>,
    S: SideData,
{
    fn step(&mut self) {
        while self.pipe.available() > 0 && self.connection.wants_read() {
            match self.connection.read_tls(&mut self.pipe) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("rustls read_tls: {e}"),
            }
            self.connection
                .process_new_packets()
                .expect("rustls processes the records");
        }
        while self.connection.wants_write() {
            self.connection
                .write_tls(&mut self.pipe)
                .expect("rustls write_tls");
        }
    }

    fn established(&self) -> bool {
        !self.connection.is_handshaking()
    }

    fn pending_in(&self) -> usize {
        self.pipe.available()
    }

    fn send(&mut self, data: &[u8]) {
        let mut stream = rustls::Stream::new(&mut self.connection, &mut self.pipe);
        stream.write_all(data).expect("rustls write");
        stream.flush().expect("rustls flush");
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        let mut stream = rustls::Stream::new(&mut self.connection, &mut self.pipe);
        stream.read(buf).expect("rustls read")
    }

    fn resumed(&self) -> bool {
        self.connection.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    fn group(&self) -> Option<String> {
        Some(format!(
            "{:?}",
            self.connection.negotiated_key_exchange_group()?.name()
        ))
    }

    fn shrink(&self) {
        self.pipe.shrink();
    }

    fn describe(&self) -> String {
        format!("rustls handshaking={}", self.connection.is_handshaking())
    }
}

// --- OpenSSL ------------------------------------------------------------------

struct OpensslEnd {
    stream: SslStream<MemEnd>,
    done: bool,
}

impl Drop for OpensslEnd {
    fn drop(&mut self) {
        // OpenSSL marks the session of a connection freed without a
        // shutdown as not resumable; the other peers' connections are just
        // dropped too, so declare the shutdown done without sending it.
        self.stream
            .set_shutdown(ShutdownState::SENT | ShutdownState::RECEIVED);
    }
}

impl MemTls for OpensslEnd {
    fn step(&mut self) {
        if !self.done {
            match self.stream.do_handshake() {
                Ok(()) => self.done = true,
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                Err(e) => panic!("openssl handshake: {e}"),
            }
        }
        if self.done {
            let mut byte = [0u8; 1];
            // Post-handshake messages (session tickets): OpenSSL processes
            // everything buffered, then asks for more.
            if self.stream.get_ref().available() > 0 {
                match self.stream.ssl_read(&mut byte) {
                    Ok(_) => panic!("unexpected application data"),
                    Err(e) if e.code() == ErrorCode::WANT_READ => {}
                    Err(e) => panic!("openssl read: {e}"),
                }
            }
        }
    }

    fn established(&self) -> bool {
        self.done
    }

    fn pending_in(&self) -> usize {
        self.stream.get_ref().available()
    }

    fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).expect("openssl write");
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        self.stream.read(buf).expect("openssl read")
    }

    fn resumed(&self) -> bool {
        self.stream.ssl().session_reused()
    }

    fn group(&self) -> Option<String> {
        None
    }

    fn shrink(&self) {
        self.stream.get_ref().shrink();
    }

    fn openssl_session(&self) -> Option<SslSession> {
        self.stream.ssl().session().map(|s| s.to_owned())
    }

    fn describe(&self) -> String {
        format!("openssl done={}", self.done)
    }
}

// --- factories ----------------------------------------------------------------

/// Builds connected, started (not yet driven) pairs of one library, from
/// configurations built once.
pub enum MemFactory {
    /// The blocking `sslsocket::SslSocket`.
    Sslsocket {
        client: Box<SslConfiguration>,
        server: Box<SslConfiguration>,
    },
    /// rustls' connections with the `Stream` adapter for data;
    /// `unbounded`: without rustls' 64 KiB buffer limit, as sslsocket sets
    /// them (a diagnostic peer of bulk-mem).
    Rustls {
        client: Arc<ClientConfig>,
        server: Arc<ServerConfig>,
        unbounded: bool,
    },
    /// OpenSSL's `SslStream`.
    Openssl {
        client: SslContext,
        server: SslContext,
        resume: bool,
        session: RefCell<Option<SslSession>>,
    },
}

/// The in-memory peers.
pub const MEM_PEERS: [&str; 3] = ["sslsocket", "rustls", "openssl"];

impl MemFactory {
    /// The factory of `peer` (one of [`MEM_PEERS`]).
    pub fn new(peer: &str, pki: &Pki, spec: Spec) -> MemFactory {
        match peer {
            "sslsocket" => MemFactory::Sslsocket {
                client: Box::new(peers::sslsocket_client(pki, spec)),
                server: Box::new(peers::sslsocket_server(pki, spec)),
            },
            "rustls" | "rustls-unbounded" => MemFactory::Rustls {
                client: peers::rustls_client(pki, spec),
                server: peers::rustls_server(pki, spec),
                unbounded: peer == "rustls-unbounded",
            },
            "openssl" => MemFactory::Openssl {
                client: peers::openssl_client(pki, spec),
                server: peers::openssl_server(pki, spec),
                resume: spec.resumption,
                session: RefCell::new(None),
            },
            other => panic!("no in-memory peer {other}"),
        }
    }

    /// A new pair: (client, server), handshakes started.
    pub fn connect(&self) -> (Box<dyn MemTls>, Box<dyn MemTls>) {
        match self {
            MemFactory::Sslsocket { client, server } => {
                let (a, b) = mempipe::pair(mempipe::SSLSOCKET_EMPTY);
                let mut c = SslSocket::from_stream_with_configuration(a, (**client).clone());
                c.start_client_encryption().expect("client starts");
                let mut s = SslSocket::from_stream_with_configuration(b, (**server).clone());
                s.start_server_encryption().expect("server starts");
                (Box::new(SslEnd(c)), Box::new(SslEnd(s)))
            }
            MemFactory::Rustls {
                client,
                server,
                unbounded,
            } => {
                let (a, b) = mempipe::pair(io::ErrorKind::WouldBlock);
                let mut c = ClientConnection::new(client.clone(), peers::rustls_server_name())
                    .expect("client");
                let mut s = ServerConnection::new(server.clone()).expect("server");
                if *unbounded {
                    c.set_buffer_limit(None);
                    s.set_buffer_limit(None);
                }
                (
                    Box::new(RustlsEnd {
                        connection: c,
                        pipe: a,
                    }),
                    Box::new(RustlsEnd {
                        connection: s,
                        pipe: b,
                    }),
                )
            }
            MemFactory::Openssl {
                client,
                server,
                resume,
                session,
            } => {
                let (a, b) = mempipe::pair(io::ErrorKind::WouldBlock);
                let mut ssl = peers::openssl_client_ssl(client);
                if *resume {
                    if let Some(session) = session.borrow().as_ref() {
                        // SAFETY: the session was made by a connection of
                        // this very client context.
                        unsafe { ssl.set_session(session) }.expect("set session");
                    }
                }
                let c = SslStream::new(ssl, a).expect("client stream");
                let s = SslStream::new(peers::openssl_server_ssl(server), b).expect("server");
                (
                    Box::new(OpensslEnd {
                        stream: c,
                        done: false,
                    }),
                    Box::new(OpensslEnd {
                        stream: s,
                        done: false,
                    }),
                )
            }
        }
    }

    /// Keeps what the next connection resumes (OpenSSL keeps it by hand).
    pub fn finish(&self, client: &dyn MemTls) {
        if let MemFactory::Openssl {
            resume: true,
            session,
            ..
        } = self
        {
            *session.borrow_mut() = client.openssl_session();
        }
    }
}

/// Drives both ends until both handshakes are complete and nothing is in
/// flight (session tickets included).
pub fn pump(client: &mut dyn MemTls, server: &mut dyn MemTls) {
    for _ in 0..64 {
        client.step();
        server.step();
        if client.established()
            && server.established()
            && client.pending_in() == 0
            && server.pending_in() == 0
        {
            return;
        }
    }
    panic!(
        "the handshake did not complete: client {}, server {}",
        client.describe(),
        server.describe()
    );
}

/// A connected, established pair.
pub fn established(factory: &MemFactory) -> (Box<dyn MemTls>, Box<dyn MemTls>) {
    let (mut c, mut s) = factory.connect();
    pump(&mut *c, &mut *s);
    factory.finish(&*c);
    (c, s)
}
