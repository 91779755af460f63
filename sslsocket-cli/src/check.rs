//! `sslsocket check`: many servers at once, one line each.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use sslsocket::{Error, PeerVerifyMode, SocketState, SslConfiguration};

use crate::cert::{alt_names, days_left, details, CertDetails, NameJson};
use crate::connect::{format_target, parse_target, Client, Handshake, PinOutcome, Tofu, TofuArgs};
use crate::options::{parse_seconds, Problems, TlsArgs, TrustArgs};
use crate::report::{print_json, say, Marks, Outcome};
use crate::starttls::StartTls;
use crate::verify::{error_json, ErrorJson};

const EXAMPLES: &str = "\
Examples:
  sslsocket check example.com example.org:8443 '[2001:db8::1]:443'
  sslsocket check --file servers.txt --parallel 16 --warn-expiry 30
  sslsocket check --file servers.txt --json | jq -r '.[] | select(.status != \"ok\") | .target'
  sslsocket check localhost:4433 127.0.0.1:4434 --ca pki/ca.pem
  sslsocket check --starttls smtp mx1.example.com:25 mx2.example.com:25 --timeout 5";

/// Check many TLS servers at once: certificate, expiry and session, one line each.
///
/// Connects to every target (directly, or after the plain exchange of
/// --starttls), at most --parallel at a time, each within its own
/// --timeout, and reports for each: whether its certificate is valid for
/// the target's host name, or the errors in Qt's names (QSslError, as
/// `connect` and `verify` list them); the protocol, cipher and key
/// exchange group; the leaf's subject and alternative names; the days
/// left of every certificate the server sent; and why, when no TLS session
/// could be made. A certificate's errors never stop the handshake here
/// (as with `connect --verify query`): what was negotiated is known for a
/// rejected certificate too. No data goes over TLS: each connection is
/// closed after the handshake. Results are in input order, whatever order the
/// checks finish in.
///
/// Targets: the arguments, then the lines of --file (one target a line;
/// blank lines, and everything from a # to the end of a line, are
/// ignored). Each target is checked against its own host name, which is
/// also sent as SNI.
///
/// With --tofu FILE, as for `connect`: an unknown target's certificate is
/// pinned (not with --tofu-strict) and accepted whatever its errors; a
/// pinned one is accepted with its own errors; a different certificate
/// for a pinned target is `failed`, even a valid one.
///
/// Status of a target: `ok` (verified, and no certificate expires within
/// --warn-expiry days), `expiring` (verified, but a certificate of the
/// chain expires within --warn-expiry days), `failed` (verification
/// errors, or a changed pinned certificate) or `unreachable` (no TLS
/// session: the name look-up, the connection, the STARTTLS exchange or the
/// handshake failed or timed out).
///
/// Text output: a table on stdout with a header line and one line per
/// target: TARGET, STATUS, PROTOCOL, CIPHER, GROUP (key exchange), DAYS
/// (days left of each certificate, leaf first as sent, negative once
/// expired), SUBJECT and NAMES (the leaf's), PROBLEMS (the Qt error names
/// and the days left of the soonest expiry when it is flagged, or why the
/// target was unreachable). On a terminal, a progress line on stderr while
/// checks run.
///
/// JSON (--json): an array with one object per target, in input order:
/// `target` (HOST:PORT), `address` (the IP address and port connected to),
/// `status`, `verified` (the handshake completed without any verification
/// error, or with only errors --tofu accepts), `errors` (as in `sslsocket
/// verify --json`: `error`, `code`, `message`, `certificate` {`subject`,
/// `sha256`}), `expiring` (a
/// certificate of the chain expires within --warn-expiry days), `protocol`,
/// `cipher`, `key_exchange_group`, `subject` and
/// `subject_alternative_names` (the leaf's, as in `sslsocket cert show
/// --json`), `days_left` (the fewest of any certificate of the chain),
/// `peer_chain` (one object per certificate, as in `sslsocket cert show
/// --json` without `file` and `index`) and `error` (why the target was
/// unreachable). Unknown values are null.
///
/// Exit status: 0 when every target is `ok`; 1 when every target was
/// reached and at least one is `failed` or `expiring`; 2 on usage or input
/// errors (a bad target, an unreadable --file or --ca; one line on stderr
/// for each, and nothing is checked), or when at least one target is
/// `unreachable`: 2 wins over 1.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// The servers to check: HOST:PORT, [IPv6]:PORT, or HOST alone for the
    /// usual port (443, or that of the --starttls protocol).
    #[arg(value_name = "HOST:PORT", required_unless_present = "file")]
    targets: Vec<String>,
    /// Also check the targets listed in FILE, one a line, after those of
    /// the arguments.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    tofu: TofuArgs,
    /// Speak this protocol's plain exchange first, then upgrade to TLS
    /// (the same for every target).
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    starttls: Option<StartTls>,
    /// How many targets to check at once (1-256).
    #[arg(long, value_name = "N", default_value = "8", value_parser = clap::value_parser!(u32).range(1..=256))]
    parallel: u32,
    /// Seconds each target is allowed for connecting, STARTTLS and the
    /// handshake together.
    #[arg(long, value_name = "SECONDS", default_value = "10")]
    timeout: String,
    /// Flag certificates that expire within DAYS days (0: only expired ones).
    #[arg(long, value_name = "DAYS", default_value = "21")]
    warn_expiry: u32,
    /// Print a JSON array on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Expiring,
    Failed,
    Unreachable,
}

#[derive(Serialize)]
struct TargetJson {
    target: String,
    address: Option<String>,
    status: Status,
    verified: bool,
    errors: Vec<ErrorJson>,
    expiring: bool,
    protocol: Option<&'static str>,
    cipher: Option<&'static str>,
    key_exchange_group: Option<String>,
    subject: Option<String>,
    subject_alternative_names: Vec<NameJson>,
    days_left: Option<i64>,
    peer_chain: Vec<CertDetails>,
    error: Option<String>,
    /// The Qt names of `errors`, for the table (`ErrorJson` keeps its
    /// fields to itself).
    #[serde(skip)]
    error_names: Vec<&'static str>,
}

/// What the check of every target shares.
struct Settings {
    configuration: SslConfiguration,
    starttls: Option<StartTls>,
    timeout: Duration,
    warn_expiry: i64,
    tofu: Option<Tofu>,
}

pub fn run(args: CheckArgs) -> Outcome {
    let mut problems = Problems::default();
    let default_port = args.starttls.map_or(443, StartTls::default_port);
    let mut targets = Vec::new();
    for text in &args.targets {
        targets.extend(problems.check("target", parse_target(text, default_port)));
    }
    if let Some(file) = &args.file {
        if let Some(text) = problems.check(file.display(), std::fs::read_to_string(file)) {
            for (n, line) in text.lines().enumerate() {
                // No target has a #: whatever follows one is a comment.
                let line = line.split_once('#').map_or(line, |(before, _)| before);
                if line.trim().is_empty() {
                    continue;
                }
                targets.extend(problems.check(
                    format_args!("{}:{}", file.display(), n + 1),
                    parse_target(line, default_port),
                ));
            }
        }
    }
    if targets.is_empty() && !problems.any() {
        problems.add("check", "no target (the arguments and --file name none)");
    }
    let timeout = problems.check("--timeout", parse_seconds(&args.timeout));
    let tofu = args.tofu.load(&mut problems);
    let mut configuration = SslConfiguration::new();
    args.trust.apply(&mut configuration, &mut problems);
    args.tls.apply(&mut configuration, &[], &mut problems);
    // Errors are reported, not acted on: the handshake goes on, so that
    // protocol, cipher and the whole chain are known for a rejected
    // certificate too.
    configuration.set_peer_verify_mode(PeerVerifyMode::QueryPeer);
    if !problems.any() {
        problems.check("TLS settings", configuration.check_usable());
    }
    let (Some(timeout), false) = (timeout, problems.any()) else {
        return Outcome::InputError;
    };
    let settings = Settings {
        configuration,
        starttls: args.starttls,
        timeout,
        warn_expiry: i64::from(args.warn_expiry),
        tofu,
    };
    let results = check_all(&settings, &targets, args.parallel as usize);
    if args.json {
        print_json(&results);
    } else {
        print_table(&results, settings.warn_expiry, Marks::stdout());
    }
    if results.iter().any(|r| r.status == Status::Unreachable) {
        Outcome::Unreachable
    } else if results.iter().any(|r| r.status != Status::Ok) {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    }
}

/// Checks every target, at most `parallel` at once; the results are in
/// the order of `targets`.
fn check_all(settings: &Settings, targets: &[(String, u16)], parallel: usize) -> Vec<TargetJson> {
    let mut results: Vec<Option<TargetJson>> = std::iter::repeat_with(|| None)
        .take(targets.len())
        .collect();
    let mut progress = Progress::new(targets.len());
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..parallel.min(targets.len()) {
            let (sender, next) = (sender.clone(), &next);
            // Each worker takes the next target once done with one, so a
            // target that times out holds up only its own worker.
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((host, port)) = targets.get(index) else {
                    return;
                };
                if sender.send((index, check(settings, host, *port))).is_err() {
                    return;
                }
            });
        }
        drop(sender);
        for (index, result) in receiver {
            results[index] = Some(result);
            progress.advance();
        }
    });
    progress.finish();
    results.into_iter().flatten().collect()
}

/// Connects to one target and describes what it found.
fn check(settings: &Settings, host: &str, port: u16) -> TargetJson {
    let client = Client {
        configuration: &settings.configuration,
        ignore_errors: false,
        ignore: Vec::new(),
        tofu: settings.tofu.as_ref(),
        starttls: settings.starttls,
        host: host.to_owned(),
        port,
        timeout: settings.timeout,
        peer_name: host.to_owned(),
    };
    let (mut socket, handshake) = client.connect();
    let encrypted = handshake.failure.is_none();
    // Read before the close, which lets the connection go.
    let address = socket.peer_address().map(|a| a.to_string());
    let protocol = encrypted.then(|| socket.session_protocol().name());
    let cipher = socket
        .session_cipher()
        .filter(|_| encrypted)
        .map(|c| c.name());
    let key_exchange_group = socket
        .key_exchange_group()
        .filter(|_| encrypted)
        .map(|g| g.to_string());
    if socket.state() != SocketState::UnconnectedState {
        socket.disconnect_from_host();
    }
    let peer_chain: Vec<CertDetails> = handshake.chain.iter().map(details).collect();
    let days_left = peer_chain.iter().map(|c| c.days_left).min();
    let expiring = days_left.is_some_and(|days| days < settings.warn_expiry);
    let pin_changed = matches!(
        handshake.failure,
        Some(Error::PinnedCertificateChanged { .. })
    );
    let verified = encrypted && (handshake.errors.is_empty() || pin_accepts(&handshake));
    let status = if pin_changed {
        Status::Failed
    } else if !encrypted {
        Status::Unreachable
    } else if !verified {
        Status::Failed
    } else if expiring {
        Status::Expiring
    } else {
        Status::Ok
    };
    let leaf = peer_chain.first();
    TargetJson {
        target: format_target(host, port),
        address,
        status,
        verified,
        errors: handshake.errors.iter().map(error_json).collect(),
        expiring,
        protocol,
        cipher,
        key_exchange_group,
        subject: leaf.map(|c| c.subject.clone()),
        subject_alternative_names: leaf
            .map(|c| c.subject_alternative_names.clone())
            .unwrap_or_default(),
        days_left,
        error: handshake.failure.as_ref().map(one_line),
        error_names: handshake.errors.iter().map(|e| e.code().name()).collect(),
        peer_chain,
    }
}

/// Whether --tofu accepts the errors, as `connect --tofu` does: all of them
/// on first use, and those of the pinned certificate itself later.
fn pin_accepts(handshake: &Handshake) -> bool {
    match handshake.pin {
        Some(PinOutcome::Recorded) => true,
        Some(PinOutcome::Matched) => handshake
            .errors
            .iter()
            .all(|e| e.certificate() == handshake.chain.first()),
        Some(PinOutcome::Unknown) | None => false,
    }
}

/// Why a target failed, on one line for the table.
fn one_line(error: &Error) -> String {
    match error {
        Error::PinnedCertificateChanged {
            file,
            pinned,
            presented,
            ..
        } => format!(
            "CERTIFICATE CHANGED: pinned SHA-256 {pinned}, presented {presented} (remove its line from {} to accept)",
            file.display()
        ),
        other => other.to_string(),
    }
}

/// `checked 3 of 40` on stderr, rewritten in place as checks end; only on
/// a terminal, where it is wiped at the end, and only for more than one
/// target.
struct Progress {
    total: usize,
    done: usize,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let progress = Progress {
            total,
            done: 0,
            shown: total > 1 && std::io::stderr().is_terminal(),
        };
        progress.show();
        progress
    }

    fn advance(&mut self) {
        self.done += 1;
        self.show();
    }

    fn line(&self) -> String {
        format!("checked {} of {}", self.done, self.total)
    }

    fn show(&self) {
        if self.shown {
            eprint!("\r{}", self.line());
        }
    }

    fn finish(&self) {
        if self.shown {
            eprint!("\r{}\r", " ".repeat(self.line().len()));
        }
    }
}

const HEADER: [&str; 9] = [
    "TARGET", "STATUS", "PROTOCOL", "CIPHER", "GROUP", "DAYS", "SUBJECT", "NAMES", "PROBLEMS",
];

/// A table cell: its text, for the column's width, and the same text as
/// shown (coloured or not).
struct Cell {
    text: String,
    shown: String,
}

impl Cell {
    /// `text`, or "-" when there is none.
    fn plain(text: Option<&str>) -> Cell {
        let text = text.filter(|t| !t.is_empty()).unwrap_or("-").to_owned();
        Cell {
            shown: text.clone(),
            text,
        }
    }
}

fn print_table(results: &[TargetJson], warn_expiry: i64, marks: Marks) {
    let header: Vec<Cell> = HEADER.iter().map(|h| Cell::plain(Some(h))).collect();
    let rows: Vec<Vec<Cell>> = std::iter::once(header)
        .chain(results.iter().map(|r| row(r, warn_expiry, marks)))
        .collect();
    let mut widths = [0; HEADER.len()];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.text.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (n, (cell, width)) in row.iter().zip(widths).enumerate() {
            line.push_str(&cell.shown);
            if n + 1 < row.len() {
                line.push_str(&" ".repeat(width - cell.text.chars().count() + 2));
            }
        }
        say!("{line}");
    }
}

fn row(result: &TargetJson, warn_expiry: i64, marks: Marks) -> Vec<Cell> {
    let status = match result.status {
        Status::Ok => ("ok", marks.good("ok")),
        Status::Expiring => ("expiring", marks.warn("expiring")),
        Status::Failed => ("failed", marks.bad("failed")),
        Status::Unreachable => ("unreachable", marks.bad("unreachable")),
    };
    let days: Vec<(String, String)> = result
        .peer_chain
        .iter()
        .map(|c| {
            let text = c.days_left.to_string();
            let shown = if c.days_left < 0 {
                marks.bad(&text)
            } else if c.days_left < warn_expiry {
                marks.warn(&text)
            } else {
                text.clone()
            };
            (text, shown)
        })
        .collect();
    let days = if days.is_empty() {
        Cell::plain(None)
    } else {
        let (text, shown): (Vec<String>, Vec<String>) = days.into_iter().unzip();
        Cell {
            text: text.join(","),
            shown: shown.join(","),
        }
    };
    let problems = match &result.error {
        Some(error) => error.clone(),
        None => {
            let mut problems: Vec<String> = Vec::new();
            for name in &result.error_names {
                // An error reported on several certificates is named once.
                if !problems.iter().any(|p| p == name) {
                    problems.push((*name).to_owned());
                }
            }
            if let Some(days) = result.days_left.filter(|_| result.expiring) {
                problems.push(days_left(days));
            }
            problems.join(", ")
        }
    };
    vec![
        Cell::plain(Some(&result.target)),
        Cell {
            text: status.0.to_owned(),
            shown: status.1,
        },
        Cell::plain(result.protocol),
        Cell::plain(result.cipher),
        Cell::plain(result.key_exchange_group.as_deref()),
        days,
        Cell::plain(result.subject.as_deref()),
        Cell::plain(Some(&alt_names(&result.subject_alternative_names))),
        Cell::plain(Some(&problems)),
    ]
}
