//! Peers that attack on purpose, against both front ends: the blocking
//! socket in memory and the tokio socket over loopback, in either role,
//! and both servers over loopback while a real client is being served.
//!
//! Each misbehaviour must end in a clear error (rustls's reason, not a
//! timeout) within the test's bound, with the socket's buffers bounded;
//! the peers that stall (one byte per second, never reading) end at the
//! deadline they were given, and nobody else waits for them.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::hostile::{
    handshake, header, plain_record, Records, Version, ALERT, APPLICATION_DATA, HANDSHAKE,
    HELLO_REQUEST, MAX_PLAINTEXT, MAX_RECORD, WARNING_USER_CANCELED,
};
use common::memory::{pair, pair_bounded, within, TestPki, GUARD, WAIT};
use common::servers::{closed_by_server, Limits, Running, Server};
use rustls::{Error as TlsError, InvalidMessage, PeerMisbehaved};
use sslsocket::server::ServerEvent;
use sslsocket::{Error, SocketState, SslSocket, Transport};

/// How many misbehaving records a flood sends: far beyond rustls's limits.
const FLOOD: usize = 100;

/// Which side the socket under test plays; the hostile peer plays the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

const ROLES: [Role; 2] = [Role::Client, Role::Server];

impl Role {
    /// The socket under test in this role over `stream`, its handshake
    /// started.
    fn socket<S: Transport>(self, pki: &TestPki, stream: S) -> SslSocket<S> {
        match self {
            Role::Client => pki.client(stream),
            Role::Server => pki.server(stream),
        }
    }

    /// The hostile peer facing a socket in this role: rustls in the
    /// other role, speaking `version`.
    fn peer(self, pki: &TestPki, version: Version) -> rustls::Connection {
        match self {
            Role::Client => version.server(pki).into(),
            Role::Server => version.client(pki).into(),
        }
    }
}

/// What the hostile peer does once the handshake is over.
#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// One data record of exactly 2^14 bytes: legal, read whole.
    PlaintextAtTheLimit,
    /// One data record of 2^14 + 1 bytes (encrypted properly).
    PlaintextOverTheLimit,
    /// A record as long as rustls takes, of garbage: it cannot decrypt.
    RecordAtTheLimit,
    /// A record header one byte longer than that.
    RecordOverTheLimit,
    /// Warning alerts, one after another.
    WarningAlerts,
    /// Empty data records, one after another.
    EmptyRecords,
    /// TLS 1.3: KeyUpdates asking for one back, with no data between.
    KeyUpdates,
    /// TLS 1.3: a KeyUpdate before each of many writes: legal, all read.
    KeyUpdateBeforeEachWrite,
    /// TLS 1.2: renegotiation requests.
    Renegotiations,
}

const MISBEHAVIOURS: [Misbehaviour; 9] = [
    Misbehaviour::PlaintextAtTheLimit,
    Misbehaviour::PlaintextOverTheLimit,
    Misbehaviour::RecordAtTheLimit,
    Misbehaviour::RecordOverTheLimit,
    Misbehaviour::WarningAlerts,
    Misbehaviour::EmptyRecords,
    Misbehaviour::KeyUpdates,
    Misbehaviour::KeyUpdateBeforeEachWrite,
    Misbehaviour::Renegotiations,
];

/// What the socket under test must end with.
enum Expected {
    /// Exactly this many bytes of data, then nothing wrong.
    Data(usize),
    /// A failure that rustls's error explains.
    Failure(fn(&TlsError) -> bool),
}

impl Misbehaviour {
    fn applies_to(self, version: Version) -> bool {
        match self {
            Misbehaviour::KeyUpdates | Misbehaviour::KeyUpdateBeforeEachWrite => {
                version == Version::Tls13
            }
            Misbehaviour::Renegotiations => version == Version::Tls12,
            _ => true,
        }
    }

    fn expected(self) -> Expected {
        match self {
            Misbehaviour::PlaintextAtTheLimit => Expected::Data(MAX_PLAINTEXT),
            Misbehaviour::KeyUpdateBeforeEachWrite => Expected::Data(FLOOD * 100),
            Misbehaviour::PlaintextOverTheLimit => {
                Expected::Failure(|e| matches!(e, TlsError::PeerSentOversizedRecord))
            }
            Misbehaviour::RecordAtTheLimit => {
                Expected::Failure(|e| matches!(e, TlsError::DecryptError))
            }
            Misbehaviour::RecordOverTheLimit => Expected::Failure(|e| {
                matches!(e, TlsError::InvalidMessage(InvalidMessage::MessageTooLarge))
            }),
            Misbehaviour::WarningAlerts => Expected::Failure(|e| {
                matches!(
                    e,
                    TlsError::PeerMisbehaved(PeerMisbehaved::TooManyWarningAlertsReceived)
                )
            }),
            Misbehaviour::EmptyRecords => Expected::Failure(|e| {
                matches!(
                    e,
                    TlsError::PeerMisbehaved(PeerMisbehaved::TooManyEmptyFragments)
                )
            }),
            Misbehaviour::KeyUpdates => Expected::Failure(|e| {
                matches!(
                    e,
                    TlsError::PeerMisbehaved(PeerMisbehaved::TooManyKeyUpdateRequests)
                )
            }),
            Misbehaviour::Renegotiations => Expected::Failure(|e| {
                matches!(
                    e,
                    TlsError::PeerMisbehaved(PeerMisbehaved::TooManyRenegotiationRequests)
                )
            }),
        }
    }

    /// The hostile side: handshake as `role`'s opposite, misbehave, then
    /// read what comes back until the socket under test closes.
    fn act(self, pki: &TestPki, version: Version, role: Role, mut transport: impl Read + Write) {
        let mut peer = role.peer(pki, version);
        handshake(&mut peer, &mut transport);
        let bytes = match self {
            Misbehaviour::KeyUpdates | Misbehaviour::KeyUpdateBeforeEachWrite => {
                let mut bytes = Vec::new();
                for _ in 0..FLOOD {
                    peer.refresh_traffic_keys().expect("a KeyUpdate");
                    if matches!(self, Misbehaviour::KeyUpdateBeforeEachWrite) {
                        peer.writer().write_all(&[b'k'; 100]).unwrap();
                    }
                    while peer.wants_write() {
                        peer.write_tls(&mut bytes).unwrap();
                    }
                }
                bytes
            }
            _ => {
                let mut records = Records::take_over(peer, version);
                match self {
                    Misbehaviour::PlaintextAtTheLimit => {
                        records.seal(APPLICATION_DATA, &[b'x'; MAX_PLAINTEXT])
                    }
                    Misbehaviour::PlaintextOverTheLimit => {
                        records.seal(APPLICATION_DATA, &[b'x'; MAX_PLAINTEXT + 1])
                    }
                    Misbehaviour::RecordAtTheLimit => {
                        plain_record(APPLICATION_DATA, &vec![0x5a; MAX_RECORD])
                    }
                    Misbehaviour::RecordOverTheLimit => {
                        header(APPLICATION_DATA, MAX_RECORD + 1).to_vec()
                    }
                    Misbehaviour::WarningAlerts => (0..FLOOD)
                        .flat_map(|_| records.seal(ALERT, &WARNING_USER_CANCELED))
                        .collect(),
                    Misbehaviour::EmptyRecords => (0..FLOOD)
                        .flat_map(|_| records.seal(APPLICATION_DATA, &[]))
                        .collect(),
                    Misbehaviour::Renegotiations => {
                        let request = match role {
                            Role::Client => HELLO_REQUEST.to_vec(),
                            Role::Server => client_hello_message(pki),
                        };
                        (0..FLOOD)
                            .flat_map(|_| records.seal(HANDSHAKE, &request))
                            .collect()
                    }
                    Misbehaviour::KeyUpdates | Misbehaviour::KeyUpdateBeforeEachWrite => {
                        unreachable!()
                    }
                }
            }
        };
        // The socket under test may close before all of it is taken.
        let _ = transport.write_all(&bytes);
        let _ = transport.flush();
        drain(&mut transport);
    }
}

/// A ClientHello handshake message (without its record header).
fn client_hello_message(pki: &TestPki) -> Vec<u8> {
    let mut hello = Vec::new();
    Version::Tls12.client(pki).write_tls(&mut hello).unwrap();
    hello[5..].to_vec()
}

/// Reads until the other side closes (or the wait runs out).
fn drain(transport: &mut impl Read) {
    let mut buffer = [0u8; 4096];
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        match transport.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Checks what the socket under test ended with.
fn check(
    context: &str,
    expected: Expected,
    outcome: Result<Vec<u8>, Error>,
    buffered: usize,
    state: SocketState,
) {
    assert!(
        buffered <= MAX_PLAINTEXT + MAX_RECORD,
        "{context}: {buffered} bytes held"
    );
    match (expected, outcome) {
        (Expected::Data(length), Ok(data)) => assert_eq!(data.len(), length, "{context}"),
        // A failure right after the peer's last handshake message reaches
        // the socket while it still waits for the handshake.
        (Expected::Failure(explained), Err(Error::Tls(error) | Error::HandshakeFailed(error))) => {
            assert!(explained(&error), "{context}: {error:?}");
            assert_eq!(state, SocketState::UnconnectedState, "{context}");
        }
        (Expected::Data(_), Err(error)) => panic!("{context}: {error}"),
        (Expected::Failure(_), other) => panic!("{context}: {other:?}"),
    }
}

/// Data up to `wanted` bytes (everything until a failure when `None`).
fn receive_blocking<S: sslsocket::Transport>(
    socket: &mut SslSocket<S>,
    wanted: Option<usize>,
) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    while wanted.is_none_or(|wanted| data.len() < wanted) {
        socket.wait_for_ready_read(Some(WAIT))?;
        let n = socket.read_available(&mut buffer);
        data.extend_from_slice(&buffer[..n]);
    }
    Ok(data)
}

fn wanted(expected: &Expected) -> Option<usize> {
    match expected {
        Expected::Data(length) => Some(*length),
        Expected::Failure(_) => None,
    }
}

#[test]
fn misbehaving_peers_after_the_handshake_blocking_in_memory() {
    within(GUARD * 6, || {
        let pki = Arc::new(TestPki::new());
        for version in Version::BOTH {
            for role in ROLES {
                for misbehaviour in MISBEHAVIOURS.into_iter().filter(|m| m.applies_to(version)) {
                    let context = format!("{misbehaviour:?} {version:?}, socket as {role:?}");
                    let (ours, theirs) = pair();
                    let peer_pki = pki.clone();
                    let peer = std::thread::spawn(move || {
                        misbehaviour.act(&peer_pki, version, role, theirs)
                    });
                    let mut socket = role.socket(&pki, ours);
                    let expected = misbehaviour.expected();
                    let outcome = socket
                        .wait_for_encrypted(Some(WAIT))
                        .and_then(|()| receive_blocking(&mut socket, wanted(&expected)));
                    let buffered = socket.bytes_available() + socket.encrypted_bytes_available();
                    let state = socket.state();
                    drop(socket);
                    check(&context, expected, outcome, buffered, state);
                    peer.join().unwrap();
                }
            }
        }
    });
}

/// A loopback connection: (ours, the hostile peer's).
fn loopback() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let theirs = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, _) = listener.accept().unwrap();
    theirs.set_read_timeout(Some(WAIT)).unwrap();
    (ours, theirs)
}

#[test]
fn misbehaving_peers_after_the_handshake_tokio_over_loopback() {
    within(GUARD * 6, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pki = Arc::new(TestPki::new());
        for version in Version::BOTH {
            for role in ROLES {
                for misbehaviour in MISBEHAVIOURS.into_iter().filter(|m| m.applies_to(version)) {
                    let context =
                        format!("tokio: {misbehaviour:?} {version:?}, socket as {role:?}");
                    let (ours, theirs) = loopback();
                    let peer_pki = pki.clone();
                    let peer = std::thread::spawn(move || {
                        misbehaviour.act(&peer_pki, version, role, theirs)
                    });
                    let (expected, outcome, buffered, state) = runtime.block_on(async {
                        ours.set_nonblocking(true).unwrap();
                        let stream = tokio::net::TcpStream::from_std(ours).unwrap();
                        let configuration = match role {
                            Role::Client => pki.client_configuration(),
                            Role::Server => pki.server_configuration(),
                        };
                        let mut socket =
                            sslsocket::tokio::SslSocket::from_stream_with_configuration(
                                stream,
                                configuration,
                            );
                        match role {
                            Role::Client => socket.start_client_encryption(),
                            Role::Server => socket.start_server_encryption(),
                        }
                        .unwrap();
                        let expected = misbehaviour.expected();
                        let wanted = wanted(&expected);
                        let mut buffer = vec![0u8; 64 * 1024];
                        let mut outcome = socket
                            .wait_for_encrypted(Some(WAIT))
                            .await
                            .map(|()| Vec::new());
                        while let Ok(data) = &mut outcome {
                            if wanted.is_some_and(|wanted| data.len() >= wanted) {
                                break;
                            }
                            if let Err(e) = socket.wait_for_ready_read(Some(WAIT)).await {
                                outcome = Err(e);
                                break;
                            }
                            let n = socket.read_available(&mut buffer);
                            data.extend_from_slice(&buffer[..n]);
                        }
                        let buffered =
                            socket.bytes_available() + socket.encrypted_bytes_available();
                        (expected, outcome, buffered, socket.state())
                    });
                    check(&context, expected, outcome, buffered, state);
                    peer.join().unwrap();
                }
            }
        }
    });
}

/// Writes the handshake `peer` makes one byte per second, for as long as
/// the other side keeps the connection (or `limit` seconds).
fn trickle(mut peer: rustls::Connection, mut transport: impl Read + Write, limit: usize) {
    let mut flight = Vec::new();
    while peer.wants_write() {
        peer.write_tls(&mut flight).unwrap();
    }
    if flight.is_empty() {
        // A server speaks second: take the ClientHello first.
        let mut buffer = [0u8; 4096];
        while peer.wants_read() && flight.is_empty() {
            let n = transport.read(&mut buffer).unwrap_or(0);
            if n == 0 {
                return;
            }
            peer.read_tls(&mut &buffer[..n]).unwrap();
            peer.process_new_packets().unwrap();
            while peer.wants_write() {
                peer.write_tls(&mut flight).unwrap();
            }
        }
    }
    for byte in flight.iter().take(limit) {
        if transport.write_all(&[*byte]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_peer_sending_one_byte_per_second_meets_the_handshake_deadline() {
    within(GUARD, || {
        let pki = Arc::new(TestPki::new());
        for role in ROLES {
            let (ours, theirs) = pair();
            let peer_pki = pki.clone();
            let peer = std::thread::spawn(move || {
                let connection = role.peer(&peer_pki, Version::Tls13);
                trickle(connection, theirs, 10);
            });
            let mut socket = role.socket(&pki, ours);
            let result = socket.wait_for_encrypted(Some(Duration::from_secs(2)));
            assert!(
                matches!(result, Err(Error::Timeout { .. })),
                "{role:?}: {result:?}"
            );
            socket.abort();
            peer.join().unwrap();
        }
    });
}

/// Where a hostile peer's handshake bytes are cut: every record boundary
/// and the middle of every record, over the flights it sends.
fn cut_points(flights: &[u8]) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut at = 0;
    while at + 5 <= flights.len() {
        let length = usize::from(u16::from_be_bytes([flights[at + 3], flights[at + 4]]));
        cuts.push(at);
        cuts.push(at + 3);
        cuts.push(at + 5 + length / 2);
        at += 5 + length;
    }
    // And no cut: the whole handshake. (ECDSA signatures vary in length,
    // so the flights of another run may be a byte or two longer.)
    cuts.push(usize::MAX);
    cuts
}

/// A transport that passes on the first `cut` bytes written, then hangs up.
struct HangingUp<T> {
    inner: T,
    left: usize,
    written: Vec<u8>,
}

impl<T: Read> Read for HangingUp<T> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buffer)
    }
}

impl<T: Write> Write for HangingUp<T> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.written.extend_from_slice(data);
        if data.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = data.len().min(self.left);
        self.inner.write_all(&data[..n])?;
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The bytes a hostile peer sends in a whole handshake with the socket.
fn whole_handshake(pki: &Arc<TestPki>, version: Version, role: Role) -> Vec<u8> {
    let (ours, theirs) = pair();
    let peer_pki = pki.clone();
    let peer = std::thread::spawn(move || {
        let mut transport = HangingUp {
            inner: theirs,
            left: usize::MAX,
            written: Vec::new(),
        };
        let mut connection = role.peer(&peer_pki, version);
        handshake(&mut connection, &mut transport);
        // Stay until the socket is done: it may send session tickets.
        drain(&mut transport);
        transport.written
    });
    let mut socket = role.socket(pki, ours);
    socket.wait_for_encrypted(Some(WAIT)).unwrap();
    drop(socket);
    peer.join().unwrap()
}

#[test]
fn a_peer_hanging_up_at_every_step_of_the_handshake_is_a_clear_error() {
    within(GUARD * 6, || {
        let pki = Arc::new(TestPki::new());
        for version in Version::BOTH {
            for role in ROLES {
                let flights = whole_handshake(&pki, version, role);
                let whole = usize::MAX;
                for cut in cut_points(&flights) {
                    let context = format!(
                        "{version:?}, socket as {role:?}, cut at {cut} of {}",
                        flights.len()
                    );
                    let (ours, theirs) = pair();
                    let peer_pki = pki.clone();
                    let peer = std::thread::spawn(move || {
                        let mut transport = HangingUp {
                            inner: theirs,
                            left: cut,
                            written: Vec::new(),
                        };
                        let mut connection = role.peer(&peer_pki, version);
                        while connection.is_handshaking() {
                            if connection.complete_io(&mut transport).is_err() {
                                break;
                            }
                        }
                        while connection.wants_write() {
                            if connection.write_tls(&mut transport).is_err() {
                                break;
                            }
                        }
                        if cut == whole {
                            // All sent: stay until the socket is done.
                            drain(&mut transport);
                        }
                        // Hang up.
                        let _ = transport.inner.shutdown();
                    });
                    let mut socket = role.socket(&pki, ours);
                    let result = socket.wait_for_encrypted(Some(WAIT));
                    let state = socket.state();
                    drop(socket);
                    peer.join().unwrap();
                    if cut == whole {
                        // Everything was sent: the handshake is complete.
                        result.unwrap_or_else(|e| panic!("{context}: {e}"));
                        continue;
                    }
                    match result {
                        Err(Error::RemoteHostClosed | Error::HandshakeFailed(_)) => {}
                        other => panic!("{context}: {other:?}"),
                    }
                    assert_eq!(state, SocketState::UnconnectedState, "{context}");
                }
            }
        }
    });
}

#[test]
fn a_peer_that_never_reads_meets_the_write_timeout_with_bounded_buffers() {
    within(GUARD, || {
        let pki = Arc::new(TestPki::new());
        for role in ROLES {
            let (ours, theirs) = pair_bounded(256 * 1024);
            let peer_pki = pki.clone();
            let (finished, done) = std::sync::mpsc::channel::<()>();
            let peer = std::thread::spawn(move || {
                let mut transport = theirs;
                let mut connection = role.peer(&peer_pki, Version::Tls13);
                handshake(&mut connection, &mut transport);
                // Never reads again, until the socket under test is done.
                let _ = done.recv_timeout(GUARD);
            });
            let mut socket = role.socket(&pki, ours);
            socket.wait_for_encrypted(Some(WAIT)).unwrap();
            socket.set_write_timeout(Some(Duration::from_secs(1)));
            let chunk = vec![b'w'; 1024 * 1024];
            let result = (0..64).try_for_each(|_| socket.write_all(&chunk));
            let error = result.expect_err("64 MiB cannot go to a peer that never reads");
            assert_eq!(
                error.kind(),
                std::io::ErrorKind::TimedOut,
                "{role:?}: {error}"
            );
            let held = socket.bytes_to_write() + socket.encrypted_bytes_to_write();
            assert!(held <= 256 * 1024, "{role:?}: {held} bytes held");
            socket.abort();
            finished.send(()).unwrap();
            peer.join().unwrap();
        }
    });
}

/// A real client's handshake with the server at `port`, trusting `pki`.
fn real_client(pki: &TestPki, port: u16) -> Result<(), Error> {
    let mut socket = SslSocket::new();
    socket.set_ssl_configuration(pki.client_configuration());
    socket.connect_to_host_encrypted("127.0.0.1", port);
    socket.wait_for_encrypted(Some(WAIT))
}

/// Hostile clients of one kind, each on a thread, against the server at
/// `port`; each returns whether the server closed its connection.
fn hostile_clients(pki: &Arc<TestPki>, port: u16) -> Vec<(String, JoinHandle<bool>)> {
    let mut clients: Vec<(String, JoinHandle<bool>)> = Vec::new();
    let connect = move || {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
    };
    let raw = |name: &str, bytes: Vec<u8>, hang_up: bool| {
        let name = name.to_owned();
        let handle = std::thread::spawn(move || {
            let mut stream = connect();
            let _ = stream.write_all(&bytes);
            if hang_up {
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
            closed_by_server(&mut stream, WAIT)
        });
        (name, handle)
    };
    let mut hello = Vec::new();
    Version::Tls13.client(pki).write_tls(&mut hello).unwrap();
    let warnings: Vec<u8> = (0..FLOOD)
        .flat_map(|_| plain_record(ALERT, &WARNING_USER_CANCELED))
        .collect();
    clients.push(raw(
        "warning alerts before the ClientHello",
        [&warnings[..], &hello].concat(),
        false,
    ));
    clients.push(raw(
        "a plaintext record over the limit",
        plain_record(HANDSHAKE, &vec![1; MAX_PLAINTEXT + 1]),
        false,
    ));
    clients.push(raw(
        "a record header over the limit",
        header(HANDSHAKE, MAX_RECORD + 1).to_vec(),
        false,
    ));
    clients.push(raw(
        "empty handshake records",
        (0..FLOOD)
            .flat_map(|_| plain_record(HANDSHAKE, &[]))
            .collect(),
        false,
    ));
    let trickler_pki = pki.clone();
    clients.push((
        "one byte per second".to_owned(),
        std::thread::spawn(move || {
            let mut stream = connect();
            let mut spy = stream.try_clone().unwrap();
            let trickling = std::thread::spawn(move || {
                trickle(Version::Tls13.client(&trickler_pki).into(), &mut spy, 20)
            });
            let closed = closed_by_server(&mut stream, WAIT);
            let _ = stream.shutdown(std::net::Shutdown::Both);
            let _ = trickling.join();
            closed
        }),
    ));
    for (index, cut) in cut_points(&hello).into_iter().enumerate() {
        clients.push(raw(
            &format!("hangs up after {cut} bytes (cut {index})"),
            hello[..cut.min(hello.len())].to_vec(),
            true,
        ));
    }
    clients
}

fn hostile_clients_do_not_hold_up_a_real_one(kind: Server) {
    let pki = Arc::new(TestPki::new());
    let limits = Limits {
        hello_timeout: Duration::from_secs(1),
        handshake_timeout: Duration::from_secs(3),
        max_handshakes: None,
    };
    let server = Running::start(kind, pki.server_configuration(), limits);
    let clients = hostile_clients(&pki, server.port);
    real_client(&pki, server.port).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    for (name, client) in clients {
        // Closed by the server, long before the client's own wait ends.
        assert!(client.join().unwrap(), "{kind:?}: {name}: still open");
    }
    real_client(&pki, server.port).unwrap_or_else(|e| panic!("{kind:?}: afterwards: {e}"));
    let events = server.stop();
    let failures = events
        .iter()
        .filter(|event| matches!(event, ServerEvent::HandshakeFailed { .. }))
        .count();
    assert!(failures >= 5, "{kind:?}: {events:?}");
}

#[test]
fn hostile_clients_do_not_hold_up_a_real_one_on_the_blocking_server() {
    within(GUARD * 2, || {
        hostile_clients_do_not_hold_up_a_real_one(Server::Blocking)
    });
}

#[test]
fn hostile_clients_do_not_hold_up_a_real_one_on_the_tokio_server() {
    within(GUARD * 2, || {
        hostile_clients_do_not_hold_up_a_real_one(Server::Tokio)
    });
}
