//! An `SslSocket` in server mode against a scripted client: raw bytes (a
//! hostile ClientHello and what follows) or a real rustls client following
//! the fuzzer's steps after the handshake.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sslsocket::SslMode;

fuzz_target!(|data: &[u8]| sslsocket_fuzz::session::run(data, SslMode::SslServerMode));
