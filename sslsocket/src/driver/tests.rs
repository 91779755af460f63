//! The socket core and its driver against scripted transports, without
//! sockets: the other end is a plain rustls connection inside the
//! transport, which hands out its records in pieces of a chosen size,
//! accepts writes in pieces, says "would block" before every operation when
//! asked to, and ends (end of file, reset, or another error) at a chosen
//! point. Every handshake and data exchange must come out the same whatever
//! the I/O looks like, and every close must be classified, in every state.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};
use rustls::{ServerConnection, SupportedProtocolVersion};
use sslsocket_test_pki::{Identity, LeafSpec};

use super::{Direction, Driver, Progress};
use crate::certificate::SslCertificate;
use crate::configuration::SslConfiguration;
use crate::error::Error;
use crate::event::Event;
use crate::key::SslKey;
use crate::socket_core::{ReadNow, SocketCore};
use crate::ssl::{KeyType, PeerVerifyMode, SslProtocol};

const SERVER_NAME: &str = "server.test";

/// More steps than any exchange here needs, even one byte at a time with a
/// "would block" before each: a loop that reaches it has stalled.
const STEP_LIMIT: usize = 200_000;

struct Pki {
    root: Identity,
    server: Identity,
}

impl Pki {
    fn new() -> Pki {
        let root = Identity::new("Driver Test Root");
        let server = root.leaf(&LeafSpec {
            common_name: SERVER_NAME,
            dns: &[SERVER_NAME],
            ..LeafSpec::default()
        });
        Pki { root, server }
    }

    fn certificate(identity: &Identity) -> SslCertificate {
        SslCertificate::from_der(identity.der()).expect("test certificate parses")
    }

    /// A client core in client mode, trusting the root, handshake started.
    fn client_core(&self) -> SocketCore {
        let mut configuration = SslConfiguration::new();
        configuration.set_ca_certificates(vec![Pki::certificate(&self.root)]);
        configuration.set_peer_verify_name(Some(SERVER_NAME.to_owned()));
        let mut core = SocketCore::new(configuration, true);
        core.start_client_encryption()
            .expect("the handshake starts");
        core
    }

    /// A server core in server mode with the leaf and its key, started.
    fn server_core(&self) -> SocketCore {
        let mut core = SocketCore::new(self.server_configuration(), true);
        core.start_server_encryption()
            .expect("the handshake starts");
        core
    }

    fn server_configuration(&self) -> SslConfiguration {
        let key = SslKey::from_pem(self.server.key_pem(), KeyType::PrivateKey, None)
            .expect("test key parses");
        let mut configuration = SslConfiguration::new();
        configuration
            .set_local_identity(vec![Pki::certificate(&self.server)], key)
            .expect("the identity is consistent");
        configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
        configuration
    }

    /// A rustls server for a client core to talk to.
    fn rustls_server(&self, versions: &[&'static SupportedProtocolVersion]) -> Connection {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(self.server.der())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server.key_der())),
            )
            .expect("server identity");
        Connection::Server(ServerConnection::new(Arc::new(config)).expect("server"))
    }

    /// A rustls client for a server core to talk to.
    fn rustls_client(&self, versions: &[&'static SupportedProtocolVersion]) -> Connection {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.root.der()))
            .expect("root");
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(SERVER_NAME).expect("name");
        Connection::Client(ClientConnection::new(Arc::new(config), name).expect("client"))
    }
}

/// How the transport ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    /// Still open: with nothing to hand out, a read would block.
    Open,
    /// End of file once the bytes the peer already produced are read.
    Eof,
    /// Reads and writes fail with this kind (after the bytes already
    /// produced, for reads).
    Failing(io::ErrorKind),
}

/// See the module documentation.
struct Scripted {
    peer: Connection,
    /// At most this many bytes per read.
    read_piece: usize,
    /// At most this many bytes accepted per write.
    write_piece: usize,
    /// A "would block" before every read and every write.
    block_first: bool,
    read_blocked: bool,
    write_blocked: bool,
    /// The peer's bytes not yet handed out.
    outbound: Vec<u8>,
    /// Stop handing out the peer's bytes after this many in all (`Ending`
    /// applies from there on).
    cut_after: Option<usize>,
    handed_out: usize,
    ending: Ending,
    /// What went wrong on the peer's side, if anything.
    peer_error: Option<rustls::Error>,
    /// Plaintext the peer received.
    received: Vec<u8>,
    would_blocks: usize,
}

impl Scripted {
    fn new(peer: Connection) -> Scripted {
        Scripted {
            peer,
            read_piece: usize::MAX,
            write_piece: usize::MAX,
            block_first: false,
            read_blocked: false,
            write_blocked: false,
            outbound: Vec::new(),
            cut_after: None,
            handed_out: 0,
            ending: Ending::Open,
            peer_error: None,
            received: Vec::new(),
            would_blocks: 0,
        }
    }

    fn pieces(mut self, read: usize, write: usize, block_first: bool) -> Scripted {
        self.read_piece = read;
        self.write_piece = write;
        self.block_first = block_first;
        self
    }

    fn would_block(&mut self) -> io::Error {
        self.would_blocks += 1;
        io::ErrorKind::WouldBlock.into()
    }

    /// Moves what the peer has for the network into `outbound`.
    fn collect_peer_output(&mut self) {
        while self.peer.wants_write() {
            self.peer
                .write_tls(&mut self.outbound)
                .expect("writing to a Vec");
        }
    }

    /// Plaintext the peer received so far, taken.
    fn peer_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }

    fn peer_sends(&mut self, data: &[u8]) {
        self.peer.writer().write_all(data).expect("peer writes");
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.block_first && !std::mem::take(&mut self.read_blocked) {
            self.read_blocked = true;
            return Err(self.would_block());
        }
        self.read_blocked = false;
        self.collect_peer_output();
        let allowed = self
            .cut_after
            .map_or(usize::MAX, |cut| cut.saturating_sub(self.handed_out));
        let n = buf
            .len()
            .min(self.read_piece)
            .min(self.outbound.len())
            .min(allowed);
        if n == 0 {
            return match self.ending {
                Ending::Open => Err(self.would_block()),
                Ending::Eof => Ok(0),
                Ending::Failing(kind) => Err(kind.into()),
            };
        }
        buf[..n].copy_from_slice(&self.outbound[..n]);
        self.outbound.drain(..n);
        self.handed_out += n;
        Ok(n)
    }
}

impl Write for Scripted {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.block_first && !std::mem::take(&mut self.write_blocked) {
            self.write_blocked = true;
            return Err(self.would_block());
        }
        self.write_blocked = false;
        if self.cut_after.is_some_and(|cut| self.handed_out >= cut) {
            match self.ending {
                Ending::Open => {}
                // The peer is gone: nothing is taken.
                Ending::Eof => return Ok(0),
                Ending::Failing(kind) => return Err(kind.into()),
            }
        }
        let n = data.len().min(self.write_piece);
        let mut piece = &data[..n];
        while !piece.is_empty() {
            self.peer.read_tls(&mut piece).expect("peer takes records");
        }
        if self.peer_error.is_none() {
            if let Err(e) = self.peer.process_new_packets() {
                self.peer_error = Some(e);
            }
        }
        // Keep the peer's plaintext buffer from filling up.
        match self.peer.reader().read_to_end(&mut self.received) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("peer reader: {e}"),
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Steps until `done` holds, as the async socket does (retrying after
/// "would block", which the scripted transport only says for a while).
fn drive(
    core: &mut SocketCore,
    transport: &mut Scripted,
    direction: Direction,
    mut done: impl FnMut(&mut SocketCore) -> bool,
) -> crate::Result<()> {
    for _ in 0..STEP_LIMIT {
        let mut driver = Driver {
            core: &mut *core,
            transport: &mut *transport,
            timed: false,
        };
        if driver.step(direction, "drive", &mut done)? == Progress::Done {
            return Ok(());
        }
    }
    panic!(
        "no progress after {STEP_LIMIT} steps (peer: {:?}, handshaking {}, wants_write {}; core handshaking {}, wants_read {}, wants_write {}, out {})",
        transport.peer_error,
        transport.peer.is_handshaking(),
        transport.peer.wants_write(),
        core.channel.is_handshaking(),
        core.channel.wants_read(),
        core.channel.wants_write(),
        transport.outbound.len(),
    );
}

fn handshake(core: &mut SocketCore, transport: &mut Scripted) -> crate::Result<()> {
    drive(core, transport, Direction::Both, |core| {
        core.handshake_delivered()
    })
}

/// Writes all queued data out.
fn flush(core: &mut SocketCore, transport: &mut Scripted) -> crate::Result<()> {
    drive(core, transport, Direction::Write, |core| {
        !core.channel.wants_write()
    })
}

/// Reads exactly `len` bytes of plaintext.
fn read_exactly(core: &mut SocketCore, transport: &mut Scripted, len: usize) -> Vec<u8> {
    drive(core, transport, Direction::Read, |core| {
        core.bytes_available() >= len
    })
    .expect("the data arrives");
    let mut data = vec![0; len];
    assert_eq!(core.read_available(&mut data), len);
    data
}

fn events(core: &mut SocketCore) -> Vec<Event> {
    std::iter::from_fn(|| core.next_event()).collect()
}

const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// (read piece, write piece, would block first) for the I/O shapes tried.
const SHAPES: &[(usize, usize, bool)] = &[
    (usize::MAX, usize::MAX, false),
    (usize::MAX, usize::MAX, true),
    (1, 1, false),
    (1, 1, true),
    (7, 3, true),
    (5, 16_384, false),
    (16_384, 2, true),
];

#[test]
fn a_client_handshake_and_echo_come_out_the_same_under_every_io_shape() {
    let pki = Pki::new();
    for versions in [TLS13, TLS12] {
        for &(read, write, block) in SHAPES {
            let shape = format!("{versions:?} read {read} write {write} block {block}");
            let mut core = pki.client_core();
            let mut transport =
                Scripted::new(pki.rustls_server(versions)).pieces(read, write, block);
            handshake(&mut core, &mut transport).unwrap_or_else(|e| panic!("{shape}: {e}"));
            assert_eq!(core.ssl_handshake_errors(), vec![], "{shape}");
            let expected = if versions == TLS13 {
                SslProtocol::TlsV1_3
            } else {
                SslProtocol::TlsV1_2
            };
            assert_eq!(core.session_protocol(), expected, "{shape}");
            assert_eq!(core.peer_certificate(), Some(Pki::certificate(&pki.server)));

            let request = vec![b'q'; 40_000];
            core.write_data(&request).expect("queued");
            flush(&mut core, &mut transport).expect("written");
            assert!(!transport.peer.is_handshaking(), "{shape}");
            assert_eq!(transport.peer_received(), request, "{shape}");
            let reply = vec![b'r'; 30_000];
            transport.peer_sends(&reply);
            assert_eq!(read_exactly(&mut core, &mut transport, reply.len()), reply);

            let counters = core.counters();
            assert_eq!(counters.bytes_written, request.len() as u64, "{shape}");
            assert_eq!(counters.bytes_read, reply.len() as u64, "{shape}");
            assert_eq!(
                counters.encrypted_bytes_read, transport.handed_out as u64,
                "{shape}"
            );
            if block {
                assert!(transport.would_blocks > 0, "{shape}");
            }
            let events = events(&mut core);
            let encrypted = events.iter().position(|e| *e == Event::Encrypted);
            let first_data = events.iter().position(|e| *e == Event::ReadyRead);
            assert!(encrypted < first_data, "{shape}: {events:?}");
        }
    }
}

#[test]
fn a_server_handshake_and_echo_come_out_the_same_under_every_io_shape() {
    let pki = Pki::new();
    for versions in [TLS13, TLS12] {
        for &(read, write, block) in SHAPES {
            let shape = format!("{versions:?} read {read} write {write} block {block}");
            let mut core = pki.server_core();
            let mut transport =
                Scripted::new(pki.rustls_client(versions)).pieces(read, write, block);
            // The client speaks first; an empty transport just blocks.
            handshake(&mut core, &mut transport).unwrap_or_else(|e| panic!("{shape}: {e}"));
            // TLS 1.3: the client's Finished may still be on its way to the
            // server core; its tickets to the client. Both are done by the
            // first exchange.
            transport.peer_sends(b"hello");
            assert_eq!(read_exactly(&mut core, &mut transport, 5), b"hello");
            core.write_data(b"world").expect("queued");
            flush(&mut core, &mut transport).expect("written");
            assert!(!transport.peer.is_handshaking(), "{shape}");
            assert_eq!(transport.peer_received(), b"world", "{shape}");
            assert_eq!(transport.peer_error, None, "{shape}");
        }
    }
}

#[test]
fn a_transport_that_always_blocks_is_blocked_never_failed() {
    let pki = Pki::new();
    let mut core = pki.client_core();
    struct AlwaysBlocks;
    impl Read for AlwaysBlocks {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }
    impl Write for AlwaysBlocks {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }
    let mut blocked = AlwaysBlocks;
    for direction in [Direction::Both, Direction::Read, Direction::Write] {
        for timed in [false, true] {
            let mut driver = Driver {
                core: &mut core,
                transport: &mut blocked,
                timed,
            };
            let progress = driver.step(direction, "wait", &mut |core| core.is_encrypted());
            assert_eq!(progress.expect("not an error"), Progress::Blocked);
        }
    }
    assert_eq!(core.error(), None);
    assert!(core.channel.is_handshaking());
    // Nothing was lost: the same core completes over a working transport.
    let mut transport = Scripted::new(pki.rustls_server(TLS13));
    handshake(&mut core, &mut transport).expect("completes later");
}

#[test]
fn a_timed_step_whose_write_blocks_ends_without_reading() {
    let pki = Pki::new();
    let mut core = pki.client_core();
    let mut transport =
        Scripted::new(pki.rustls_server(TLS13)).pieces(usize::MAX, usize::MAX, true);
    let mut driver = Driver {
        core: &mut core,
        transport: &mut transport,
        timed: true,
    };
    let progress = driver.step(Direction::Both, "wait", &mut |_| false);
    assert_eq!(progress.expect("blocked"), Progress::Blocked);
    assert_eq!(transport.would_blocks, 1, "only the write was tried");
    assert_eq!(transport.handed_out, 0);
}

#[test]
fn interrupted_calls_are_retried() {
    struct InterruptedOnce {
        inner: Scripted,
        interrupt_read: bool,
        interrupt_write: bool,
    }
    impl Read for InterruptedOnce {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if std::mem::take(&mut self.interrupt_read) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            self.inner.read(buf)
        }
    }
    impl Write for InterruptedOnce {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if std::mem::take(&mut self.interrupt_write) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            self.inner.write(data)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let pki = Pki::new();
    let mut core = pki.client_core();
    let mut transport = InterruptedOnce {
        inner: Scripted::new(pki.rustls_server(TLS13)),
        interrupt_read: true,
        interrupt_write: true,
    };
    let mut moved = 0;
    for _ in 0..100 {
        let mut driver = Driver {
            core: &mut core,
            transport: &mut transport,
            timed: false,
        };
        match driver.step(Direction::Both, "handshake", &mut |core| {
            core.is_encrypted()
        }) {
            Ok(Progress::Done) => break,
            Ok(_) => moved += 1,
            Err(e) => panic!("an interrupted call is not an error: {e}"),
        }
    }
    assert!(core.is_encrypted());
    assert!(moved > 0);
}

/// Where in the exchange the transport ends.
#[derive(Debug, Clone, Copy)]
enum Stage {
    BeforeAnyByte,
    InsideTheServerHello,
    AfterTheHandshake,
}

#[test]
fn a_transport_ending_is_classified_in_every_stage() {
    let pki = Pki::new();
    let endings = [
        (Ending::Eof, "end of file"),
        (Ending::Failing(io::ErrorKind::ConnectionReset), "reset"),
        (Ending::Failing(io::ErrorKind::BrokenPipe), "broken pipe"),
        (
            Ending::Failing(io::ErrorKind::UnexpectedEof),
            "unexpected eof",
        ),
        (
            Ending::Failing(io::ErrorKind::PermissionDenied),
            "another error",
        ),
    ];
    for stage in [
        Stage::BeforeAnyByte,
        Stage::InsideTheServerHello,
        Stage::AfterTheHandshake,
    ] {
        for (ending, what) in endings {
            let case = format!("{what} {stage:?}");
            let mut core = pki.client_core();
            let mut transport = Scripted::new(pki.rustls_server(TLS13));
            match stage {
                Stage::BeforeAnyByte => transport.cut_after = Some(0),
                Stage::InsideTheServerHello => transport.cut_after = Some(20),
                Stage::AfterTheHandshake => {
                    handshake(&mut core, &mut transport).expect("handshake");
                    transport.peer_sends(b"last words");
                    transport.collect_peer_output();
                    transport.cut_after = Some(transport.handed_out + transport.outbound.len());
                }
            }
            transport.ending = ending;
            let result = drive(&mut core, &mut transport, Direction::Both, |_| false);
            let error = result.expect_err(&case);
            match ending {
                Ending::Failing(io::ErrorKind::PermissionDenied) => {
                    assert!(
                        matches!(&error, Error::Io(e) if e.kind() == io::ErrorKind::PermissionDenied),
                        "{case}: {error:?}"
                    )
                }
                _ => assert!(
                    matches!(error, Error::RemoteHostClosed),
                    "{case}: {error:?}"
                ),
            }
            if let Stage::BeforeAnyByte = stage {
                // The ClientHello found the peer gone; the front end then
                // closes the transport, as here.
                core.closed();
            }
            assert!(
                !core.channel.holds_verifier(),
                "{case}: a handshake that cannot go on lets its verifier go"
            );
            if let Stage::AfterTheHandshake = stage {
                // What arrived before the end is still there to read.
                let mut buf = [0; 32];
                assert!(
                    matches!(core.read_now(&mut buf), Ok(ReadNow::Data(10))),
                    "{case}"
                );
                assert_eq!(&buf[..10], b"last words");
                if ending == Ending::Eof {
                    // No close_notify: the stream may have been cut short.
                    let truncated = core.read_now(&mut buf).expect_err(&case);
                    assert_eq!(truncated.kind(), io::ErrorKind::UnexpectedEof, "{case}");
                }
            } else {
                assert!(!core.is_encrypted(), "{case}");
            }
        }
    }
}

#[test]
fn a_clean_close_is_the_end_of_the_stream_and_is_answered() {
    let pki = Pki::new();
    let mut core = pki.client_core();
    let mut transport = Scripted::new(pki.rustls_server(TLS13)).pieces(3, 3, true);
    handshake(&mut core, &mut transport).expect("handshake");
    transport.peer_sends(b"bye");
    transport.peer.send_close_notify();
    transport.ending = Ending::Eof;
    let closed = drive(&mut core, &mut transport, Direction::Both, |_| false);
    assert!(matches!(closed, Err(Error::RemoteHostClosed)), "{closed:?}");
    let mut buf = [0; 8];
    assert!(matches!(core.read_now(&mut buf), Ok(ReadNow::Data(3))));
    assert!(matches!(core.read_now(&mut buf), Ok(ReadNow::Ended)));
    assert!(events(&mut core).contains(&Event::AlertReceived {
        level: crate::ssl::AlertLevel::Warning,
        kind: crate::ssl::AlertType::CloseNotify,
    }));
    // This side answers with its own close_notify, once.
    assert!(core.channel.answer_close_notify());
    assert!(!core.channel.answer_close_notify());
    transport.ending = Ending::Open;
    flush(&mut core, &mut transport).expect("the answer goes out");
    let _ = transport.peer.process_new_packets();
    assert!(transport
        .peer
        .process_new_packets()
        .expect("clean")
        .peer_has_closed());
}

#[test]
fn a_peer_gone_while_writing_is_a_closed_peer() {
    let pki = Pki::new();
    let mut core = pki.client_core();
    let mut transport = Scripted::new(pki.rustls_server(TLS13));
    handshake(&mut core, &mut transport).expect("handshake");
    core.write_data(b"into the void").expect("queued");
    transport.cut_after = Some(transport.handed_out);
    transport.ending = Ending::Eof;
    let result = flush(&mut core, &mut transport);
    assert!(matches!(result, Err(Error::RemoteHostClosed)), "{result:?}");
}

#[test]
fn garbage_from_the_peer_fails_the_handshake_and_queues_an_alert() {
    struct Garbage(Vec<u8>);
    impl Read for Garbage {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        }
    }
    impl Write for Garbage {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let pki = Pki::new();
    let mut core = pki.client_core();
    let mut transport = Garbage(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec());
    let mut step = || {
        Driver {
            core: &mut core,
            transport: &mut transport,
            timed: false,
        }
        .step(Direction::Both, "handshake", &mut |core| {
            core.is_encrypted()
        })
    };
    let mut failure = None;
    for _ in 0..10 {
        match step() {
            Ok(_) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let failure = failure.expect("the handshake fails");
    assert!(matches!(failure, Error::HandshakeFailed(_)), "{failure:?}");
    let again = step().expect_err("a failed connection stays failed");
    assert!(again.to_string().contains("failed earlier"), "{again}");
    assert!(core.channel.has_failed());
    assert!(!core.channel.holds_verifier());
    let sent_alert = events(&mut core)
        .into_iter()
        .any(|e| matches!(e, Event::AlertSent { .. }));
    assert!(sent_alert, "the peer is told why");
}

#[test]
fn a_rejected_certificate_is_a_verification_failure_with_qt_errors() {
    let pki = Pki::new();
    let mut configuration = pki.client_core().ssl_configuration().clone();
    configuration.set_peer_verify_name(Some("other.test".to_owned()));
    let mut core = SocketCore::new(configuration, true);
    core.start_client_encryption().expect("starts");
    let mut transport = Scripted::new(pki.rustls_server(TLS13)).pieces(2, 2, true);
    let failure = handshake(&mut core, &mut transport).expect_err("refused");
    let Error::VerificationFailed { errors } = &failure else {
        panic!("{failure:?}");
    };
    let codes: Vec<_> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(codes, vec![crate::error::SslErrorCode::HostNameMismatch]);
    assert!(!core.channel.holds_verifier());
    // As the front ends do after a failure: one bounded attempt (which a
    // "would block" ends).
    transport.block_first = false;
    Driver {
        core: &mut core,
        transport: &mut transport,
        timed: false,
    }
    .send_last_records(|| true);
    assert!(
        matches!(
            transport.peer_error,
            Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::BadCertificate
            ))
        ),
        "{:?}",
        transport.peer_error
    );
}

#[test]
fn directions_use_only_their_own_half() {
    let pki = Pki::new();
    let mut core = pki.client_core();
    let mut transport = Scripted::new(pki.rustls_server(TLS13));
    // A read-only step does not send the ClientHello.
    let mut driver = Driver {
        core: &mut core,
        transport: &mut transport,
        timed: false,
    };
    let progress = driver.step(Direction::Read, "read", &mut |_| false);
    assert_eq!(progress.expect("blocked"), Progress::Blocked);
    assert!(
        core.channel.wants_write(),
        "the ClientHello is still queued"
    );
    // A write-only step sends it and reads nothing.
    let mut driver = Driver {
        core: &mut core,
        transport: &mut transport,
        timed: false,
    };
    let progress = driver.step(Direction::Write, "write", &mut |_| false);
    assert_eq!(progress.expect("blocked"), Progress::Blocked);
    assert!(!core.channel.wants_write());
    assert_eq!(transport.handed_out, 0, "nothing was read");
    transport.collect_peer_output();
    assert!(!transport.outbound.is_empty(), "the server answered");
}

#[test]
fn a_full_read_buffer_stops_reading_until_the_program_reads() {
    let pki = Pki::new();
    let mut core = pki.client_core();
    core.set_read_buffer_size(100);
    let mut transport = Scripted::new(pki.rustls_server(TLS13)).pieces(50, usize::MAX, false);
    handshake(&mut core, &mut transport).expect("handshake");
    transport.peer_sends(&[7; 1000]);
    let full = drive(&mut core, &mut transport, Direction::Read, |_| false);
    let Err(Error::InvalidState { reason, .. }) = full else {
        panic!("{full:?}");
    };
    assert!(reason.contains("read buffer is full"), "{reason}");
    let held = core.bytes_available();
    assert!((100..100 + 16_384 + 100).contains(&held), "{held}");
    let mut received = Vec::new();
    while received.len() < 1000 {
        let mut buf = [0; 64];
        let n = core.read_available(&mut buf);
        received.extend_from_slice(&buf[..n]);
        if n == 0 {
            let _ = drive(&mut core, &mut transport, Direction::Read, |core| {
                core.bytes_available() > 0
            });
        }
    }
    assert_eq!(received, vec![7; 1000]);
}

#[test]
fn plain_mode_moves_bytes_in_pieces_and_starttls_sends_them_first() {
    let pki = Pki::new();
    let mut configuration = SslConfiguration::new();
    configuration.set_ca_certificates(vec![Pki::certificate(&pki.root)]);
    configuration.set_peer_verify_name(Some(SERVER_NAME.to_owned()));
    let mut core = SocketCore::new(configuration, true);

    /// A plain peer: takes writes into `received`, hands out `outbound`.
    struct Plain {
        received: Vec<u8>,
        outbound: Vec<u8>,
        piece: usize,
    }
    impl Read for Plain {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.piece).min(self.outbound.len());
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            buf[..n].copy_from_slice(&self.outbound[..n]);
            self.outbound.drain(..n);
            Ok(n)
        }
    }
    impl Write for Plain {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let n = data.len().min(self.piece);
            self.received.extend_from_slice(&data[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut plain = Plain {
        received: Vec::new(),
        outbound: b"220 ready\r\n".to_vec(),
        piece: 2,
    };
    let step = |core: &mut SocketCore,
                plain: &mut Plain,
                done: &mut dyn FnMut(&mut SocketCore) -> bool| {
        for _ in 0..1000 {
            let mut driver = Driver {
                core: &mut *core,
                transport: &mut *plain,
                timed: false,
            };
            if driver
                .step(Direction::Both, "plain", &mut |c| done(c))
                .expect("plain I/O")
                == Progress::Done
            {
                return;
            }
        }
        panic!("stalled");
    };
    step(&mut core, &mut plain, &mut |core| core.can_read_line());
    let mut line = [0; 11];
    assert_eq!(core.read_available(&mut line), 11);
    assert_eq!(&line, b"220 ready\r\n");

    // STARTTLS: the command is queued, then the handshake starts at once;
    // the command must reach the peer before the ClientHello.
    core.write_data(b"STARTTLS\r\n").expect("queued");
    core.start_client_encryption().expect("starts");
    let mut driver = Driver {
        core: &mut core,
        transport: &mut plain,
        timed: false,
    };
    let _ = driver.write_out().expect("written");
    while core.channel.wants_write() {
        let mut driver = Driver {
            core: &mut core,
            transport: &mut plain,
            timed: false,
        };
        let _ = driver.write_out().expect("written");
    }
    assert!(
        plain.received.starts_with(b"STARTTLS\r\n"),
        "{:?}",
        plain.received
    );
    assert_eq!(plain.received[10], 0x16, "a TLS handshake record follows");
}

#[test]
fn tls_bytes_that_arrive_before_starttls_begins_are_kept_for_the_handshake() {
    let pki = Pki::new();
    let mut peer = pki.rustls_client(TLS13);
    let mut hello = Vec::new();
    while peer.wants_write() {
        peer.write_tls(&mut hello).expect("into a Vec");
    }
    let mut core = SocketCore::new(pki.server_configuration(), true);
    // The ClientHello arrives while the socket is still in plain mode.
    struct Once(Vec<u8>);
    impl Read for Once {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len());
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }
    impl Write for Once {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut early = Once(hello);
    let mut driver = Driver {
        core: &mut core,
        transport: &mut early,
        timed: false,
    };
    let arrived = driver.step(Direction::Read, "read", &mut |core| {
        core.bytes_available() > 0
    });
    assert!(arrived.is_ok());
    assert!(core.bytes_available() > 0);
    core.start_server_encryption().expect("starts");
    assert_eq!(core.bytes_available(), 0, "the bytes went to TLS");
    let mut transport = Scripted::new(peer);
    handshake(&mut core, &mut transport).expect("the handshake completes");
}
