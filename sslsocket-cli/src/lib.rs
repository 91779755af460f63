//! The `sslsocket` tool's commands and parsers, as a library so that the fuzz
//! targets (`fuzz/`) and tests can reach the readers of hostile input. It is
//! the binary's inside, not an API: nothing here is stable, and the items are
//! documented where they are defined for the tool's own readers.
#![allow(missing_docs)]

pub mod cert;
pub mod check;
pub mod ciphers;
pub mod connect;
pub mod demo;
pub mod gen;
pub mod input;
pub mod key;
pub mod options;
pub mod pki;
pub mod report;
pub mod serve;
pub mod starttls;
pub mod verify;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  sslsocket demo                                   # the tour, on 127.0.0.1 only
  sslsocket connect example.com:443                # handshake, chain, errors; then stdin <-> peer
  sslsocket check --file servers.txt               # many servers: verified? expiring? one line each
  sslsocket gen --out pki --host localhost         # a local CA and a server certificate
  sslsocket serve --cert pki/server.pem --key pki/server.key --http
  sslsocket verify chain.pem --ca root.pem --host www.example.test
  sslsocket cert show server.pem

Every command that reports takes --json. Exit status: 0 success, 1 the check
failed (handshake, verification), 2 usage or input error (for check also a
server it could not reach), 141 the reader of stdout went away (as after
SIGPIPE). Colour only on a terminal, never with NO_COLOR set.";

/// TLS the way Qt's QSslSocket sees it, on rustls: connect, serve, verify,
/// and inspect certificates, keys and ciphers.
#[derive(Parser)]
#[command(name = "sslsocket", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    // No doc comments on the variants with argument structs: the struct's
    // doc comment is the help text.
    Connect(connect::ConnectArgs),
    Check(check::CheckArgs),
    Serve(serve::ServeArgs),
    Gen(gen::GenArgs),
    Verify(verify::VerifyArgs),
    /// Certificate commands.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Key commands.
    #[command(subcommand)]
    Key(key::KeyCommand),
    Ciphers(ciphers::CiphersArgs),
    Demo(demo::DemoArgs),
}

impl Cli {
    /// Runs the command the arguments name.
    pub fn run(self) -> report::Outcome {
        match self.command {
            Command::Connect(args) => connect::run(args),
            Command::Check(args) => check::run(args),
            Command::Serve(args) => serve::run(args),
            Command::Gen(args) => gen::run(args),
            Command::Verify(args) => verify::run(args),
            Command::Cert(command) => cert::run(command),
            Command::Key(command) => key::run(command),
            Command::Ciphers(args) => ciphers::run(args),
            Command::Demo(args) => demo::run(args),
        }
    }
}
