//! Ciphers.
