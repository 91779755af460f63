//! An `SslSocket` in client mode against a scripted server: raw bytes (the
//! handshake's parsing and failures) or a real rustls server following the
//! fuzzer's steps after the handshake.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sslsocket::SslMode;

fuzz_target!(|data: &[u8]| sslsocket_fuzz::session::run(data, SslMode::SslClientMode));
