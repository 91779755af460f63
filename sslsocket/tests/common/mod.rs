//! Helpers shared by the integration tests: run-time PKI and key generation.
#![allow(dead_code)]

pub mod openssl;
pub mod pki;
