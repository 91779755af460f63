//! Helpers shared by the integration tests: run-time PKI and key generation.
#![allow(dead_code)]

pub mod hostile;
pub mod interop;
pub mod memory;
pub mod openssl;
pub mod peers;
pub mod pki;
pub mod scenarios;
pub mod servers;
pub mod tokio_pairs;
