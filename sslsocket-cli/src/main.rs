//! `sslsocket`: a readable command-line front end to the sslsocket library.
//!
//! Exit codes: 0 when the command succeeded, 1 when the check it ran failed,
//! 2 on a usage or input error (one line per problem on stderr).

mod cert;
mod ciphers;
mod demo;
mod input;
mod key;
mod report;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Inspect certificates, keys and ciphers the way sslsocket (Qt's QSslSocket
/// model on rustls) sees them.
#[derive(Parser)]
#[command(name = "sslsocket", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Certificate commands.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Key commands.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// List cipher suites with their properties.
    Ciphers(ciphers::CiphersArgs),
    /// A self-contained tour of the library (no network, a few seconds).
    Demo,
    // No doc comment here: the one on `verify::VerifyArgs` is the help text.
    Verify(verify::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Cert(command) => cert::run(command),
        Command::Key(command) => key::run(command),
        Command::Ciphers(args) => ciphers::run(args),
        Command::Demo => demo::run(),
        Command::Verify(args) => verify::run(args),
    };
    outcome.exit_code()
}
