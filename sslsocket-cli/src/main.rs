//! `sslsocket`: a readable command-line front end to the sslsocket library.
//!
//! Exit codes: 0 when the command succeeded, 1 when the check it ran failed,
//! 2 on a usage or input error (one line per problem on stderr).

mod cert;
mod ciphers;
mod connect;
mod demo;
mod gen;
mod input;
mod key;
mod options;
mod pki;
mod report;
mod serve;
mod starttls;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  sslsocket demo                                   # the tour, on 127.0.0.1 only
  sslsocket connect example.com:443                # handshake, chain, errors; then stdin <-> peer
  sslsocket gen --out pki --host localhost         # a local CA and a server certificate
  sslsocket serve --cert pki/server.pem --key pki/server.key --http
  sslsocket verify chain.pem --ca root.pem --host www.example.test
  sslsocket cert show server.pem

Every command that reports takes --json. Exit status: 0 success, 1 the check
failed (handshake, verification), 2 usage or input error. Colour only on a
terminal, never with NO_COLOR set.";

/// TLS the way Qt's QSslSocket sees it, on rustls: connect, serve, verify,
/// and inspect certificates, keys and ciphers.
#[derive(Parser)]
#[command(name = "sslsocket", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // No doc comments on the variants with argument structs: the struct's
    // doc comment is the help text.
    Connect(connect::ConnectArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Connect(args) => connect::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Cert(command) => cert::run(command),
        Command::Key(command) => key::run(command),
        Command::Ciphers(args) => ciphers::run(args),
        Command::Demo(args) => demo::run(args),
    };
    outcome.exit_code()
}
