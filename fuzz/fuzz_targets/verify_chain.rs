//! `verify_chain` on mutated chains, with roots, revocation lists, a host
//! name, a time and the options taken from the input (seeded with real
//! chains: see `examples/seeds.rs`).
//!
//! Layout: flags (bit 0 client purpose, bit 1 Qt's host-name matching,
//! bit 2 revocation lists required), the maximum depth, four bytes of time
//! (seconds after 2020-01-01), the host name (a length byte, then UTF-8),
//! the number of roots and of lists (a byte: low nibble roots, high nibble
//! lists), then items (two bytes of length, big-endian, then DER): the
//! roots, the lists, then the chain.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use sslsocket::{verify_chain, CertificateRevocationList, Purpose, SslCertificate, VerifyOptions};

/// 2020-01-01T00:00:00Z.
const EPOCH: u64 = 1_577_836_800;

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn item(&mut self) -> Option<&'a [u8]> {
        let length = self.take(2)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        self.take(length.min(self.0.len()))
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(flags) = input.byte() else {
        return;
    };
    let Some(depth) = input.byte() else {
        return;
    };
    let Some(time) = input.take(4) else {
        return;
    };
    let seconds = u64::from(u32::from_be_bytes([time[0], time[1], time[2], time[3]]));
    let Some(host_length) = input.byte() else {
        return;
    };
    let Some(host) = input.take(usize::from(host_length)) else {
        return;
    };
    let host = String::from_utf8_lossy(host);
    let Some(counts) = input.byte() else {
        return;
    };
    let (root_count, list_count) = (counts & 0x0f, counts >> 4);

    let mut roots = Vec::new();
    for _ in 0..root_count {
        let Some(der) = input.item() else { break };
        roots.extend(SslCertificate::from_der(der));
    }
    let mut lists = Vec::new();
    for _ in 0..list_count {
        let Some(der) = input.item() else { break };
        lists.extend(CertificateRevocationList::from_der(der));
    }
    let mut chain = Vec::new();
    while let Some(der) = input.item() {
        chain.extend(SslCertificate::from_der(der));
    }

    let options = VerifyOptions::new(roots.clone())
        .with_purpose(if flags & 1 != 0 {
            Purpose::ClientAuth
        } else {
            Purpose::ServerAuth
        })
        .with_dangerous_qt_host_name_matching(flags & 2 != 0)
        .with_crls(lists)
        .with_crls_required(flags & 4 != 0)
        .with_max_depth(u32::from(depth))
        .with_time(SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH + seconds));
    let options = if host.is_empty() {
        options
    } else {
        options.with_peer_name(host.into_owned())
    };
    for error in verify_chain(&chain, &options) {
        assert_ne!(
            error.code(),
            sslsocket::SslErrorCode::NoError,
            "a listed NoError"
        );
        if let Some(certificate) = error.certificate() {
            assert!(
                chain.contains(certificate) || roots.contains(certificate),
                "an error names a certificate that is neither in the chain nor a root: {error:?}"
            );
        }
        let _ = (error.error_string(), error.detail(), error.to_string());
    }
});
