//! Names, addresses and the errors around them, for both front ends: their
//! own look-ups and connects differ (a resolver thread bounded by a
//! deadline, or tokio's), what they mean does not.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};

use crate::error::Error;

/// `host` as an address when it is an IP literal (`[…]` around IPv6
/// allowed), so that it needs no look-up.
pub(crate) fn literal_address(host: &str, port: u16) -> Option<SocketAddr> {
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()?;
    Some(SocketAddr::new(ip, port))
}

/// The error a connect reports when no address was tried.
pub(crate) fn no_address() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "the name has no address")
}

/// No address of `host:port` took the connection; `last` is the last reason.
pub(crate) fn connect_failed(host: &str, port: u16, last: io::Error) -> Error {
    Error::ConnectFailed {
        target: format!("{host}:{port}"),
        source: last,
    }
}

/// A server's `listen` while it listens already.
pub(crate) fn already_listening() -> Error {
    Error::InvalidState {
        operation: "listen",
        reason: "the server is already listening; close it first".into(),
    }
}

/// A listener on the first of `candidates` that can be bound.
pub(crate) fn bind_first(candidates: &[SocketAddr]) -> Result<TcpListener, Error> {
    let mut last = None;
    for candidate in candidates {
        match TcpListener::bind(candidate) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(listen_failed(candidates, last))
}

/// No candidate address could be bound; `last` is the last reason.
fn listen_failed(candidates: &[SocketAddr], last: Option<io::Error>) -> Error {
    let last = last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    });
    let tried: Vec<String> = candidates.iter().map(ToString::to_string).collect();
    Error::Io(io::Error::new(
        last.kind(),
        format!("cannot listen on {}: {last}", tried.join(", ")),
    ))
}

/// Whether a failed accept is nothing for the program to see: the client
/// gave up before it was taken, or a signal arrived.
pub(crate) fn passing_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// A server's `accept` before `listen`.
pub(crate) fn not_listening() -> Error {
    Error::InvalidState {
        operation: "accept a connection",
        reason: "the server is not listening; call listen first".into(),
    }
}
