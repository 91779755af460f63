//! Servers that hostile clients cannot stall: connections that say nothing,
//! or half a ClientHello, do not keep a real client out, on the blocking
//! and the tokio server alike; silent ones are closed at the ClientHello
//! deadline; and at the bound on handshakes the oldest silent one makes
//! room. (That nothing is left behind is `no_leaks.rs`, a process of its
//! own.)
//!
//! "Promptly" is proved by deadlines, not by measuring: the hostile
//! connections would hold the server for far longer (their ClientHello
//! deadline, their handshake timeout) than the real client is given.

mod common;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::servers::{
    closed_by_server, half_a_client_hello, hostile, Limits, Pki, Running, Server, CLIENT_WAIT,
};
use sslsocket::server::ServerEvent;
use sslsocket::Error;

/// Each test holds hundreds of connections open; one at a time keeps the
/// load (and the descriptors) of one test.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn real_client_gets_past(kind: Server, hostile_bytes: &[u8]) {
    let _serial = one_at_a_time();
    let pki = Pki::new();
    let server = Running::start(kind, pki.server.clone(), Limits::default());
    // More than Qt's 30 pending connections, fewer than the handshake bound.
    let held = hostile(server.port, 500, hostile_bytes);
    pki.real_client(server.port)
        .unwrap_or_else(|e| panic!("{kind:?}: the real client was kept out: {e}"));
    server
        .accepted
        .recv_timeout(CLIENT_WAIT)
        .expect("the server hands out the real client");
    drop(held);
    server.stop();
}

#[test]
fn five_hundred_silent_connections_do_not_stall_the_blocking_server() {
    real_client_gets_past(Server::Blocking, b"");
}

#[test]
fn five_hundred_silent_connections_do_not_stall_the_tokio_server() {
    real_client_gets_past(Server::Tokio, b"");
}

#[test]
fn five_hundred_half_client_hellos_do_not_stall_the_blocking_server() {
    real_client_gets_past(Server::Blocking, &half_a_client_hello());
}

#[test]
fn five_hundred_half_client_hellos_do_not_stall_the_tokio_server() {
    real_client_gets_past(Server::Tokio, &half_a_client_hello());
}

fn silent_connections_end_at_the_hello_deadline(kind: Server) {
    let _serial = one_at_a_time();
    let pki = Pki::new();
    let limits = Limits {
        hello_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let server = Running::start(kind, pki.server.clone(), limits);
    let mut silent = hostile(server.port, 10, b"");
    let mut half = hostile(server.port, 10, &half_a_client_hello());
    // Far less than the handshake timeout: only the hello deadline can
    // close them this soon.
    for stream in silent.iter_mut().chain(half.iter_mut()) {
        assert!(
            closed_by_server(stream, Duration::from_secs(20)),
            "{kind:?}: a silent connection stayed open"
        );
    }
    // A client that says hello in time is still served.
    pki.real_client(server.port).unwrap();
    let events = server.stop();
    let timed_out = events
        .iter()
        .filter(|event| {
            matches!(event, ServerEvent::HandshakeFailed { error: Error::Timeout { operation }, .. }
                if operation.contains("hello"))
        })
        .count();
    assert_eq!(timed_out, 20, "{kind:?}: {events:?}");
}

#[test]
fn silent_connections_end_at_the_hello_deadline_on_the_blocking_server() {
    silent_connections_end_at_the_hello_deadline(Server::Blocking);
}

#[test]
fn silent_connections_end_at_the_hello_deadline_on_the_tokio_server() {
    silent_connections_end_at_the_hello_deadline(Server::Tokio);
}

fn the_oldest_silent_handshake_makes_room(kind: Server) {
    let _serial = one_at_a_time();
    let pki = Pki::new();
    let limits = Limits {
        max_handshakes: Some(20),
        ..Limits::default()
    };
    let server = Running::start(kind, pki.server.clone(), limits);
    // The kernel hands connections over in the order they came, so this
    // one is the oldest.
    let mut first = hostile(server.port, 1, b"");
    let mut rest = hostile(server.port, 39, b"");
    pki.real_client(server.port)
        .unwrap_or_else(|e| panic!("{kind:?}: no room was made: {e}"));
    assert!(
        closed_by_server(&mut first[0], CLIENT_WAIT),
        "{kind:?}: the oldest silent connection was kept"
    );
    let events = server.stop();
    let evicted = events
        .iter()
        .filter(|event| {
            matches!(
                event,
                ServerEvent::HandshakeFailed {
                    error: Error::HandshakeEvicted,
                    ..
                }
            )
        })
        .count();
    // 41 clients for 20 places: at least 21 made way, the real client's
    // place included.
    assert!(evicted >= 21, "{kind:?}: {evicted} dropped: {events:?}");
    rest.clear();
}

#[test]
fn at_the_bound_the_oldest_silent_handshake_makes_room_on_the_blocking_server() {
    the_oldest_silent_handshake_makes_room(Server::Blocking);
}

#[test]
fn at_the_bound_the_oldest_silent_handshake_makes_room_on_the_tokio_server() {
    the_oldest_silent_handshake_makes_room(Server::Tokio);
}
