//! The socket behaviour scenarios of `common::scenarios`, run against both
//! front ends: the blocking `SslSocket` and the async `sslsocket::tokio`
//! one. One scenario, two tests, so the two cannot drift apart.
#![cfg(feature = "tokio")]

mod common;

use common::scenarios::{self, Blocking, Tokio};

macro_rules! on_both_front_ends {
    ($($scenario:ident),* $(,)?) => {
        mod blocking {
            use super::*;
            $(
                #[test]
                fn $scenario() {
                    scenarios::$scenario::<Blocking>();
                }
            )*
        }

        mod on_tokio {
            use super::*;
            $(
                #[test]
                fn $scenario() {
                    scenarios::$scenario::<Tokio>();
                }
            )*
        }
    };
}

on_both_front_ends!(
    handshake_and_data_both_ways,
    a_clean_close_is_answered_with_close_notify,
    early_writes_go_out_after_the_handshake,
    starttls,
    host_name_mismatch_fails_the_handshake,
    certificate_bound_ignore_list,
    verification_handlers,
    alpn,
    resumption,
    mutual_tls,
    timeouts,
    abort_drops_pending_data,
    connect_errors,
);
