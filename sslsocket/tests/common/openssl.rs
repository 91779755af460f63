//! Generating keys and certificates with the `openssl` command-line tool.
