//! How a command ends: output on stdout, one line per problem on stderr, and
//! the exit code that goes with it; and the little colour the tool uses.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

/// The result of a command, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command did what was asked (exit 0).
    Success,
    /// The command ran, and the check it made failed (exit 1).
    CheckFailed,
    /// The input or the usage was wrong (exit 2).
    InputError,
    /// Some of what was to be checked could not be reached (exit 2, as for
    /// input errors: nothing could be said about it).
    Unreachable,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::CheckFailed => ExitCode::from(1),
            Outcome::InputError | Outcome::Unreachable => ExitCode::from(2),
        }
    }
}

/// `println!` for the tool's output. A reader that goes away (`sslsocket
/// cert show --json chain.pem | head -3`) ends the tool quietly, as SIGPIPE
/// ends other Unix tools, instead of a panic.
macro_rules! say {
    () => {
        $crate::report::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::report::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use say;

/// The exit status of a process that SIGPIPE ended, which shells and
/// `set -o pipefail` already understand.
const BROKEN_PIPE_STATUS: i32 = 128 + 13;

/// Writes `text` to stdout; see [`say!`].
pub fn write_stdout(text: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        problem("stdout", e);
        std::process::exit(2);
    }
}

/// Prints one problem as a single line on stderr.
pub fn problem(context: impl Display, error: impl Display) {
    eprintln!("sslsocket: {context}: {error}");
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => say!("{text}"),
        Err(e) => problem("json", e),
    }
}

/// Prints `value` as one line of JSON on stdout (for logs: one object per line).
pub fn print_json_line(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => say!("{text}"),
        Err(e) => problem("json", e),
    }
}

/// Whether to colour what goes to `stream`: only on a terminal, and never
/// when `NO_COLOR` is set to something (<https://no-color.org>).
pub fn colour_for(stream: &impl IsTerminal) -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stream.is_terminal()
}

/// Marks for passed and failed checks, coloured or not.
#[derive(Debug, Clone, Copy)]
pub struct Marks {
    colour: bool,
}

impl Marks {
    /// Marks for text written to stdout.
    pub fn stdout() -> Marks {
        Marks {
            colour: colour_for(&std::io::stdout()),
        }
    }

    /// Marks for text written to stderr.
    pub fn stderr() -> Marks {
        Marks {
            colour: colour_for(&std::io::stderr()),
        }
    }

    /// `text` in green (when colouring).
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// `text` in red (when colouring).
    pub fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }

    /// `text` in yellow (when colouring).
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// "ok" or "FAIL", padded to `width`, coloured.
    pub fn verdict(self, passed: bool, width: usize) -> String {
        let text = format!("{:width$}", if passed { "ok" } else { "FAIL" });
        if passed {
            self.good(&text)
        } else {
            self.bad(&text)
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}
