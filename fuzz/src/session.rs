//! One fuzzed connection: an `SslSocket` over a [`Wire`], driven by the
//! fuzzer's [`SocketStep`]s while the peer follows its own script.
//!
//! Besides "no panic, no hang", every run checks the one property a TLS
//! socket must never break: what each side reads is a prefix of what the
//! other side sent.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use sslsocket::{SslMode, SslSocket};

use crate::fixture::{fixture, SERVER_NAME};
use crate::wire::{PeerStep, Wire, WireEnd};
use crate::WAIT;

/// What the socket under test is asked to do next.
#[derive(Debug, Arbitrary)]
pub enum SocketStep {
    /// `read_available` into a buffer of this size.
    ReadAvailable(u16),
    /// `read_line` with this maximum.
    ReadLine(u16),
    /// `get_char`.
    GetChar,
    /// `peek` into a buffer of this size.
    Peek(u8),
    /// `can_read_line`.
    CanReadLine,
    /// `std::io::Read::read` into a buffer of this size.
    IoRead(u16),
    /// `write_data`, then `flush`.
    Write(Vec<u8>),
    /// `wait_for_ready_read`.
    WaitForReadyRead,
    /// `wait_for_bytes_written`.
    WaitForBytesWritten,
    /// `wait_for_encrypted` (again).
    WaitForEncrypted,
    /// `set_read_buffer_size`.
    SetReadBufferSize(u16),
    /// `disconnect_from_host`.
    Disconnect,
    /// `wait_for_disconnected`.
    WaitForDisconnected,
    /// `abort`.
    Abort,
    /// Every accessor that reports on the connection.
    Inspect,
}

/// A connection as the fuzzer describes it.
#[derive(Debug, Arbitrary)]
pub struct Session {
    /// The peer is rustls (else raw bytes only, and the handshake cannot
    /// succeed: that fuzzes the handshake's parsing and its failures).
    pub real_peer: bool,
    /// The peer offers TLS 1.2 only.
    pub tls12_only: bool,
    /// The largest piece one read returns (0 counts as 1).
    pub chunk: u16,
    /// The peer's script.
    pub peer: Vec<PeerStep>,
    /// The socket's.
    pub socket: Vec<SocketStep>,
}

/// Runs `data` as a session with the socket in `mode`.
pub fn run(data: &[u8], mode: SslMode) {
    let Ok(session) = Session::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    run_session(session, mode);
}

/// Runs `session` with the socket in `mode`.
pub fn run_session(session: Session, mode: SslMode) {
    let debug = std::env::var_os("FUZZ_DEBUG").is_some();
    if debug {
        eprintln!("{session:#?}");
    }
    let fixture = fixture();
    let versions = usize::from(session.tls12_only);
    let peer: Option<rustls::Connection> = session.real_peer.then(|| match mode {
        SslMode::SslServerMode => {
            let name = rustls::pki_types::ServerName::try_from(SERVER_NAME).expect("a DNS name");
            rustls::ClientConnection::new(fixture.rustls_clients[versions].clone(), name)
                .expect("a rustls client")
                .into()
        }
        _ => rustls::ServerConnection::new(fixture.rustls_servers[versions].clone())
            .expect("a rustls server")
            .into(),
    });
    let wire = Rc::new(RefCell::new(Wire::new(
        peer,
        session.peer,
        usize::from(session.chunk),
    )));

    let configuration = match mode {
        SslMode::SslServerMode => fixture.server.clone(),
        _ => fixture.client.clone(),
    };
    let mut socket =
        SslSocket::from_stream_with_configuration(WireEnd(wire.clone()), configuration);
    let started = match mode {
        SslMode::SslServerMode => socket.start_server_encryption(),
        _ => socket.start_client_encryption(),
    };
    assert!(
        started.is_ok(),
        "the fixture's configuration starts a handshake"
    );
    let encrypted = socket.wait_for_encrypted(Some(WAIT)).is_ok();

    let mut read_by_socket = Vec::new();
    let mut written_by_socket = Vec::new();
    for step in session.socket {
        let described = debug.then(|| format!("{step:?}"));
        let before = read_by_socket.len();
        act(
            &mut socket,
            step,
            &mut read_by_socket,
            &mut written_by_socket,
        );
        if let Some(step) = described {
            let read = String::from_utf8_lossy(&read_by_socket[before..]);
            eprintln!(
                "{step} read {read:?}, {} available",
                socket.bytes_available()
            );
        }
    }

    let wire = wire.borrow();
    if debug {
        eprintln!(
            "read {:?}\nsent {:?}",
            String::from_utf8_lossy(&read_by_socket),
            String::from_utf8_lossy(&wire.sent_by_peer)
        );
    }
    assert!(
        wire.sent_by_peer.starts_with(&read_by_socket),
        "the socket read data its peer never sent"
    );
    assert!(
        written_by_socket.starts_with(&wire.received_by_peer),
        "the peer received data the socket never sent"
    );
    if !session.real_peer {
        assert!(!encrypted, "a handshake succeeded against raw bytes");
    }
}

fn act(
    socket: &mut SslSocket<WireEnd>,
    step: SocketStep,
    read_by_socket: &mut Vec<u8>,
    written_by_socket: &mut Vec<u8>,
) {
    match step {
        SocketStep::ReadAvailable(size) => {
            let mut buf = vec![0; usize::from(size)];
            let n = socket.read_available(&mut buf);
            read_by_socket.extend_from_slice(&buf[..n]);
        }
        SocketStep::ReadLine(max) => {
            let line = socket.read_line(usize::from(max));
            assert!(
                line.len() <= usize::from(max).max(1),
                "a line longer than asked for"
            );
            read_by_socket.extend_from_slice(&line);
        }
        SocketStep::GetChar => read_by_socket.extend(socket.get_char()),
        SocketStep::Peek(size) => {
            let mut buf = vec![0; usize::from(size)];
            let n = socket.peek(&mut buf);
            assert!(
                n <= socket.bytes_available(),
                "peek saw more than is available"
            );
        }
        SocketStep::CanReadLine => {
            let _ = socket.can_read_line();
        }
        SocketStep::IoRead(size) => {
            socket.set_read_timeout(Some(WAIT));
            let mut buf = vec![0; usize::from(size)];
            if let Ok(n) = socket.read(&mut buf) {
                read_by_socket.extend_from_slice(&buf[..n]);
            }
        }
        SocketStep::Write(data) => {
            if let Ok(n) = socket.write_data(&data) {
                written_by_socket.extend_from_slice(&data[..n]);
            }
            socket.set_write_timeout(Some(WAIT));
            let _ = socket.flush();
        }
        SocketStep::WaitForReadyRead => {
            let _ = socket.wait_for_ready_read(Some(WAIT));
        }
        SocketStep::WaitForBytesWritten => {
            let _ = socket.wait_for_bytes_written(Some(WAIT));
        }
        SocketStep::WaitForEncrypted => {
            let _ = socket.wait_for_encrypted(Some(WAIT));
        }
        SocketStep::SetReadBufferSize(size) => socket.set_read_buffer_size(usize::from(size)),
        SocketStep::Disconnect => socket.disconnect_from_host(),
        SocketStep::WaitForDisconnected => {
            let _ = socket.wait_for_disconnected(Some(WAIT));
        }
        SocketStep::Abort => socket.abort(),
        SocketStep::Inspect => inspect(socket),
    }
}

fn inspect(socket: &mut SslSocket<WireEnd>) {
    let _ = (socket.state(), socket.mode(), socket.is_encrypted());
    let _ = (socket.error(), socket.error_string().len());
    let _ = (socket.session_cipher(), socket.session_protocol());
    let _ = (socket.peer_certificate(), socket.peer_certificate_chain());
    let _ = (
        socket.next_negotiated_protocol(),
        socket.key_exchange_group(),
    );
    let _ = (socket.is_session_resumed(), socket.counters());
    let _ = (socket.ssl_handshake_errors(), socket.ssl_errors());
    let _ = (socket.bytes_available(), socket.bytes_to_write());
    let _ = (
        socket.encrypted_bytes_available(),
        socket.encrypted_bytes_to_write(),
    );
    for event in socket.events() {
        let _ = format!("{event:?}");
    }
}
