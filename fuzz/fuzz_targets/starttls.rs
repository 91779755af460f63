//! The STARTTLS plain phase of `sslsocket connect --starttls` and `sslsocket
//! serve --starttls`, for every protocol, against a peer that sends the
//! fuzzer's bytes; after an upgrade the handshake starts over the same bytes.
//!
//! Layout: one byte (protocol, and bit 7: the tool is the server), then the
//! peer's bytes, arriving in pieces of up to 64 bytes.
#![no_main]

use std::cell::RefCell;
use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use sslsocket::SslSocket;
use sslsocket_cli::starttls::{self, Conversation, StartTls};
use sslsocket_fuzz::fixture::fixture;
use sslsocket_fuzz::wire::{PeerStep, Wire, WireEnd};
use sslsocket_fuzz::WAIT;

const PROTOCOLS: [StartTls; 6] = [
    StartTls::Smtp,
    StartTls::Imap,
    StartTls::Pop3,
    StartTls::Ftp,
    StartTls::Xmpp,
    StartTls::Postgres,
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, peer_bytes)) = data.split_first() else {
        return;
    };
    let protocol = PROTOCOLS[usize::from(choice & 0x7f) % PROTOCOLS.len()];
    let serving = choice & 0x80 != 0;
    let wire = Rc::new(RefCell::new(Wire::new(
        None,
        vec![PeerStep::Raw(peer_bytes.to_vec())],
        64,
    )));
    let fixture = fixture();
    let configuration = if serving {
        &fixture.server
    } else {
        &fixture.client
    };
    let mut socket =
        SslSocket::from_stream_with_configuration(WireEnd(wire.clone()), configuration.clone());
    let upgraded = {
        let mut talk = Conversation::over(&mut socket, WAIT, None);
        let result = if serving {
            starttls::server(protocol, &mut talk, "fuzz.sslsocket.test")
        } else {
            starttls::client(protocol, &mut talk, "fuzz.sslsocket.test")
        };
        result.is_ok()
    };
    if upgraded {
        let started = if serving {
            socket.start_server_encryption()
        } else {
            socket.start_client_encryption()
        };
        // Bytes that came after the answer are handed to TLS, so starting
        // may already fail the handshake; nothing else may stop it.
        match started {
            Ok(()) => assert!(
                socket.wait_for_encrypted(Some(WAIT)).is_err(),
                "a handshake succeeded against raw bytes"
            ),
            Err(sslsocket::Error::HandshakeFailed(_)) => {}
            Err(error) => panic!("a plain socket after the exchange can start TLS: {error}"),
        }
    }
});
