//! How a command ends: output on stdout, one line per problem on stderr, and
//! the exit code that goes with it.

use std::fmt::Display;
use std::process::ExitCode;

use serde::Serialize;

/// The result of a command, mapped to the documented exit codes.
pub enum Outcome {
    /// The command did what was asked (exit 0).
    Success,
    /// The command ran, and the check it made failed (exit 1).
    CheckFailed,
    /// The input or the usage was wrong (exit 2).
    InputError,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::CheckFailed => ExitCode::from(1),
            Outcome::InputError => ExitCode::from(2),
        }
    }
}

/// Prints one problem as a single line on stderr.
pub fn problem(context: impl Display, error: impl Display) {
    eprintln!("sslsocket: {context}: {error}");
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => problem("json", e),
    }
}
