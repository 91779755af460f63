//! `sslsocket`: a readable command-line front end to the sslsocket library.
//!
//! Exit codes: 0 when the command succeeded, 1 when the check it ran failed,
//! 2 on a usage or input error (one line per problem on stderr), 141 when
//! the reader of stdout went away.

use std::process::ExitCode;

use clap::Parser;
use sslsocket_cli::Cli;

fn main() -> ExitCode {
    Cli::parse().run().exit_code()
}
