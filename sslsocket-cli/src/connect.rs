//! `sslsocket connect`: a readable `openssl s_client`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use sslsocket::verify::SslErrorsDecision;
use sslsocket::{
    Error, KnownHosts, PinCheck, SocketState, SslCertificate, SslConfiguration, SslError,
    SslErrorCode, SslMode, SslProtocol, SslSocket,
};

use crate::cert::{alt_names, days_left, details, CertDetails};
use crate::options::{
    is_configuration_error, parse_error_code, parse_seconds, IdentityArgs, Problems, TlsArgs,
    TrustArgs, VerifyArg,
};
use crate::report::{print_json, problem, write_stdout, Marks, Outcome};
use crate::starttls::{self, Conversation, StartTls};
use crate::verify::{error_json, error_line, ErrorJson};

/// How long one turn of the relay waits for the peer before looking at
/// the input again.
const TICK: Duration = Duration::from_millis(20);

/// How long a connection that another one follows waits for the server's
/// TLS 1.3 session tickets; a server that sends none costs this much per
/// connection.
const TICKET_WAIT: Duration = Duration::from_secs(1);

const EXAMPLES: &str = "\
Examples:
  sslsocket connect example.com:443 --send 'HEAD / HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n'
  sslsocket connect localhost:4433 --ca ca.pem                 # trust a private CA only
  sslsocket connect 127.0.0.1:4433 --ca ca.pem --peer-name localhost
  sslsocket connect mail.example.com:587 --starttls smtp --handshake-only
  sslsocket connect 10.0.0.5:443 --ignore HostNameMismatch     # accept exactly that error
  sslsocket connect 10.0.0.5:443 --tofu known_hosts            # pin on first use, refuse a change
  sslsocket connect localhost:4433 --ca ca.pem --cert client.pem --key client.key
  sslsocket connect example.com:443 --alpn h2,http/1.1 --protocol TlsV1_3 --json --handshake-only
  sslsocket connect localhost:4433 --ca ca.pem --handshake-only --showcerts > chain.pem
  sslsocket connect example.com:443 --handshake-only --save-chain chain.pem   # even a rejected one
  sslsocket connect localhost:4433 --ca ca.pem --handshake-only --reconnect 3 # resumed? how fast?";

/// Connect with TLS, show what was negotiated, then relay stdin and stdout.
///
/// Connects to HOST:PORT (directly, or after a plain STARTTLS exchange),
/// runs the TLS handshake and reports, on stderr: the protocol (Qt's names,
/// e.g. TlsV1_3), the cipher, ALPN, the key exchange group, whether the
/// session was resumed, the peer's chain (subject, issuer, validity, names,
/// SHA-256) and every verification error in Qt's names (QSslError) with the
/// certificate it concerns. Then stdin goes to the peer and what the peer
/// sends goes to stdout, until the peer closes, or the input has ended and
/// nothing arrived for --timeout seconds. With --send, TEXT is sent instead
/// of stdin.
///
/// JSON (--json): one object on stdout at the end, with `target`,
/// `address` (the IP address and port connected to), `peer_name` (the name
/// the certificate is checked against), `starttls`, `encrypted`,
/// `protocol`, `cipher`, `alpn`, `key_exchange_group`, `session_resumed`,
/// `verify_mode`, `errors` (every verification error found, ignored or not,
/// as in `sslsocket verify --json`: `error`, `code`, `message`,
/// `certificate` {`subject`, `sha256`}), `peer_chain` (one object per
/// certificate, as in `sslsocket cert show --json` without `file` and
/// `index`), `peer_chain_pem` (the same certificates as PEM strings, only
/// with --showcerts), `pin` (only with --tofu: `matched`, `recorded` or
/// `unknown`), `connections` (one object per connection, the first
/// and each --reconnect: `index` (1 for the first), `resumed`,
/// `connect_ms` (the TCP connection, name look-up included),
/// `handshake_ms` (from the TCP connection, or the end of the STARTTLS
/// exchange, to encrypted), `protocol`, `cipher`, `error`), `received`
/// (what the peer sent, as text), `truncated` (the peer closed the
/// connection without TLS's close_notify, so data may be missing) and
/// `error` (why the connection, or a reconnection, failed, or null).
/// Unknown values are null.
///
/// Exit status: 0 when the connection (and each reconnection) was
/// encrypted (with no errors, or only ignored ones); 1 when connecting,
/// the STARTTLS exchange, the handshake or the verification failed, the
/// certificate is not the one pinned with --tofu, or the peer broke the
/// connection; 2 on usage or input errors (a malformed --tofu file too).
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct ConnectArgs {
    /// Where to connect: HOST:PORT, [IPv6]:PORT, or HOST alone for the
    /// usual port (443, or that of the --starttls protocol).
    #[arg(value_name = "HOST:PORT")]
    target: String,
    #[command(flatten)]
    trust: TrustArgs,
    /// Check the certificate against NAME (and send it as SNI) instead of
    /// the host connected to.
    #[arg(long, value_name = "NAME")]
    peer_name: Option<String>,
    /// How the server's certificate is checked: `peer` fails the handshake
    /// on any error not ignored; `query` lists the errors and goes on;
    /// `none` does not check it at all.
    #[arg(long, value_enum, value_name = "MODE", default_value = "peer")]
    verify: VerifyArg,
    /// Go on whatever errors the certificate has (Qt's ignoreSslErrors()).
    /// Prefer --ignore.
    #[arg(long, conflicts_with_all = ["ignore", "tofu"])]
    ignore_errors: bool,
    /// Go on despite this error (Qt's name, e.g. HostNameMismatch, or its
    /// number), for the certificate it is reported on; every other error
    /// stays fatal. May be repeated.
    #[arg(long, value_name = "ERROR", conflicts_with = "tofu")]
    ignore: Vec<String>,
    #[command(flatten)]
    tofu: TofuArgs,
    #[command(flatten)]
    identity: IdentityArgs,
    #[command(flatten)]
    tls: TlsArgs,
    /// Speak this protocol's plain exchange first, then upgrade to TLS.
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    starttls: Option<StartTls>,
    /// Send TEXT instead of reading stdin (\r, \n, \t, \\ and \xHH are
    /// understood), then print the reply until the peer closes or --timeout.
    #[arg(long, value_name = "TEXT", conflicts_with = "handshake_only")]
    send: Option<String>,
    /// Close right after the handshake and the report; nothing is relayed.
    #[arg(long)]
    handshake_only: bool,
    /// Turn line feeds from stdin and --send into CR LF (for SMTP, HTTP, ...).
    #[arg(long)]
    crlf: bool,
    /// Seconds allowed for connecting, STARTTLS and the handshake; also how
    /// long to wait for more from the peer once the input has ended.
    #[arg(long, value_name = "SECONDS", default_value = "10")]
    timeout: String,
    /// Print the peer's chain as PEM, leaf first as sent, on stdout right
    /// after the handshake and before anything relayed (also when the
    /// chain was rejected); with --json it is the `peer_chain_pem` field
    /// instead, so that stdout stays one JSON object.
    #[arg(long)]
    showcerts: bool,
    /// Write the peer's chain to FILE as PEM, leaf first as sent, also when
    /// verification fails (to inspect a rejected chain). FILE is created
    /// before connecting, and stays empty if no certificate arrives.
    #[arg(long, value_name = "FILE")]
    save_chain: Option<PathBuf>,
    /// After the first connection, connect N more times (1-100) with the
    /// same settings, each offering the session of the one before; report
    /// for each connection whether its session was resumed and how long the
    /// handshake took. Reconnections only handshake and close: stdin and
    /// --send go to the first connection. Each connection that another
    /// follows waits up to a second for the server's TLS 1.3 session
    /// tickets. Sessions are kept only when no verification error can be
    /// accepted (--verify peer, no --ignore or --ignore-errors): other
    /// connections always make a full handshake.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    reconnect: Option<u32>,
    /// Print one JSON object on stdout instead of the report.
    #[arg(long)]
    json: bool,
}

/// Trust on first use, for `connect` and `check`.
#[derive(Args, Debug)]
pub struct TofuArgs {
    /// Trust on first use: pin the server's certificate in FILE (lines of
    /// `host:port SHA-256 accepted-unix-time`). An unknown server is
    /// accepted whatever its errors and pinned; a pinned one is accepted
    /// with its certificate's errors; any other certificate for it is
    /// refused, even a valid one, until its line is removed.
    #[arg(long, value_name = "FILE")]
    tofu: Option<PathBuf>,
    /// With --tofu: never pin; an unknown server is verified as usual.
    #[arg(long, requires = "tofu")]
    tofu_strict: bool,
}

impl TofuArgs {
    /// The pins, read now so that a bad file is an input error.
    pub(crate) fn load(&self, problems: &mut Problems) -> Option<Tofu> {
        let path = self.tofu.as_ref()?;
        let hosts = problems.check("--tofu", KnownHosts::load(path))?;
        Some(Tofu {
            hosts,
            record: !self.tofu_strict,
        })
    }
}

/// The pinned certificates (--tofu) and whether to pin new peers.
pub(crate) struct Tofu {
    hosts: KnownHosts,
    record: bool,
}

/// What --tofu found for the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PinOutcome {
    /// The certificate is the pinned one.
    Matched,
    /// The peer was unknown; its certificate is pinned now.
    Recorded,
    /// The peer is unknown and stays so (--tofu-strict, or a failure).
    Unknown,
}

impl PinOutcome {
    fn name(self) -> &'static str {
        match self {
            PinOutcome::Matched => "matched",
            PinOutcome::Recorded => "recorded",
            PinOutcome::Unknown => "unknown",
        }
    }
}

#[derive(Serialize, Default)]
struct ConnectJson {
    target: String,
    address: Option<String>,
    peer_name: String,
    starttls: Option<&'static str>,
    encrypted: bool,
    protocol: Option<&'static str>,
    cipher: Option<&'static str>,
    alpn: Option<String>,
    key_exchange_group: Option<String>,
    session_resumed: bool,
    verify_mode: &'static str,
    errors: Vec<ErrorJson>,
    peer_chain: Vec<CertDetails>,
    /// With --tofu: `matched`, `recorded` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_chain_pem: Option<Vec<String>>,
    connections: Vec<ConnectionJson>,
    received: Option<String>,
    truncated: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct ConnectionJson {
    index: u32,
    resumed: bool,
    connect_ms: Option<f64>,
    handshake_ms: Option<f64>,
    protocol: Option<&'static str>,
    cipher: Option<&'static str>,
    error: Option<String>,
}

/// What the handshake produced, for the report.
pub(crate) struct Handshake {
    pub(crate) errors: Vec<SslError>,
    pub(crate) chain: Vec<SslCertificate>,
    pub(crate) failure: Option<Error>,
    /// With --tofu, what it found (none when no certificate arrived).
    pub(crate) pin: Option<PinOutcome>,
    timing: Timing,
}

/// How long a connection took, for the steps it completed.
#[derive(Default)]
struct Timing {
    /// From the start to the TCP connection (the name look-up included).
    connect: Option<Duration>,
    /// From the start of TLS (after any STARTTLS exchange) to encrypted.
    handshake: Option<Duration>,
}

/// What every connection of a run is made from: the same for each, so that
/// a reconnection finds the session of the connection before. `check`
/// makes one for each of its targets.
pub(crate) struct Client<'a> {
    pub(crate) configuration: &'a SslConfiguration,
    /// Go on whatever errors the certificate has (--ignore-errors).
    pub(crate) ignore_errors: bool,
    /// Go on despite these errors (--ignore).
    pub(crate) ignore: Vec<SslErrorCode>,
    pub(crate) tofu: Option<&'a Tofu>,
    pub(crate) starttls: Option<StartTls>,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// For connecting, STARTTLS and the handshake together.
    pub(crate) timeout: Duration,
    pub(crate) peer_name: String,
}

pub fn run(args: ConnectArgs) -> Outcome {
    let mut problems = Problems::default();
    let target = problems.check(
        "target",
        parse_target(
            &args.target,
            args.starttls.map_or(443, StartTls::default_port),
        ),
    );
    let timeout = problems.check("--timeout", parse_seconds(&args.timeout));
    let mut ignore: Vec<SslErrorCode> = Vec::new();
    for name in &args.ignore {
        if let Some(code) = problems.check("--ignore", parse_error_code(name)) {
            ignore.push(code);
        }
    }
    let send = args.send.as_deref().map(|text| {
        let bytes = unescape(text);
        if args.crlf {
            Crlf::default().convert(&bytes)
        } else {
            bytes
        }
    });
    let tofu = args.tofu.load(&mut problems);
    let mut configuration = SslConfiguration::new();
    args.trust.apply(&mut configuration, &mut problems);
    args.identity.apply(&mut configuration, &mut problems);
    args.tls.apply(&mut configuration, &[], &mut problems);
    configuration.set_peer_verify_mode(args.verify.mode());
    if let Some(name) = &args.peer_name {
        configuration.set_peer_verify_name(Some(name.clone()));
    }
    if !problems.any() {
        problems.check("TLS settings", configuration.check_usable());
    }
    // Created now, so that a path that cannot be written is an input error
    // before anything goes over the network.
    let mut chain_file = match &args.save_chain {
        Some(path) if !problems.any() => problems
            .check(
                format_args!("--save-chain {}", path.display()),
                File::create(path),
            )
            .map(|file| (path, file)),
        _ => None,
    };
    let (Some((host, port)), Some(timeout), false) = (target, timeout, problems.any()) else {
        return Outcome::InputError;
    };
    let client = Client {
        configuration: &configuration,
        ignore_errors: args.ignore_errors,
        ignore,
        tofu: tofu.as_ref(),
        starttls: args.starttls,
        peer_name: args.peer_name.clone().unwrap_or_else(|| host.clone()),
        host,
        port,
        timeout,
    };
    let mut report = ConnectJson {
        target: format_target(&client.host, port),
        peer_name: client.peer_name.clone(),
        starttls: args.starttls.map(StartTls::name),
        verify_mode: args.verify.mode().name(),
        ..ConnectJson::default()
    };

    let marks = Marks::stderr();
    let (mut socket, handshake) = client.connect();
    report.error = handshake.failure.as_ref().map(ToString::to_string);
    report.address = socket.peer_address().map(|a| a.to_string());
    describe_session(&socket, &handshake, &mut report);
    report.pin = handshake.pin.map(PinOutcome::name);
    report.connections.push(connection(1, &handshake, &socket));
    let pem: Vec<String> = handshake.chain.iter().map(SslCertificate::to_pem).collect();
    if let Some((path, file)) = &mut chain_file {
        if let Err(e) = file.write_all(pem.concat().as_bytes()) {
            problem(format_args!("--save-chain {}", path.display()), e);
            return Outcome::InputError;
        }
    }
    // Nothing to report about a server that was never reached, or when
    // the configuration could not be used (the handshake never started).
    let nothing_to_report = match &handshake.failure {
        Some(Error::ConnectFailed { .. } | Error::HostNotFound { .. }) => true,
        Some(error) => is_configuration_error(error),
        None => false,
    };
    if !args.json && !nothing_to_report {
        print_report(&report, &handshake, &args, marks);
    }
    if args.showcerts {
        if args.json {
            report.peer_chain_pem = Some(pem);
        } else {
            write_stdout(format_args!("{}", pem.concat()));
        }
    }
    if let Some(error) = &handshake.failure {
        let outcome = if is_configuration_error(error) {
            Outcome::InputError
        } else {
            Outcome::CheckFailed
        };
        if args.json {
            print_json(&report);
        }
        problem(format_args!("connect {}", report.target), summary(error));
        return outcome;
    }
    if args.reconnect.is_some() {
        await_tickets(&mut socket);
    }

    let mut received = Vec::new();
    let ended = if args.handshake_only {
        Ok(End::Done)
    } else {
        let input = match send {
            Some(text) => Input::Text(text),
            None => Input::Stdin(stdin_reader(args.crlf)),
        };
        relay(&mut socket, input, timeout, args.json, &mut received)
    };
    if socket.state() != SocketState::UnconnectedState {
        socket.disconnect_from_host();
    }
    if args.json {
        report.received = Some(String::from_utf8_lossy(&received).into_owned());
    }
    if let Ok(End::Truncated) = ended {
        report.truncated = true;
        if !args.json {
            eprintln!(
                "{} the peer closed the connection without close_notify: what it sent may be incomplete",
                marks.warn("warning:")
            );
        }
    }
    if let Err(e) = ended {
        report.error = Some(e.to_string());
        if args.json {
            print_json(&report);
        }
        problem(format_args!("connect {}", report.target), e);
        return Outcome::CheckFailed;
    }
    let outcome = match args.reconnect {
        Some(times) => reconnect(&client, times, args.json, &mut report, marks),
        None => Outcome::Success,
    };
    if args.json {
        print_json(&report);
    }
    outcome
}

impl Client<'_> {
    /// A socket connected as asked (STARTTLS and the handshake included),
    /// and what the handshake produced.
    pub(crate) fn connect(&self) -> (SslSocket, Handshake) {
        let mut socket = SslSocket::new();
        socket.set_ssl_configuration(self.configuration.clone());
        socket.set_write_timeout(Some(self.timeout));
        if self.ignore_errors {
            socket.ignore_ssl_errors();
        } else if let Some(tofu) = self.tofu {
            let pin = tofu.hosts.pin(&self.host, self.port).cloned();
            let record = tofu.record;
            socket.on_ssl_errors(move |errors| match &pin {
                Some(pin) => pin.ssl_errors_decision(errors),
                // Accepting an unknown peer's certificate is what --tofu
                // asks; it is pinned once the handshake completes.
                None if record => SslErrorsDecision::Ignore(errors.to_vec()),
                None => SslErrorsDecision::NoChange,
            });
        } else if !self.ignore.is_empty() {
            // The errors are bound to the certificates they were reported on:
            // the handler ignores exactly those, and only for the listed codes.
            let ignore = self.ignore.clone();
            socket.on_ssl_errors(move |errors| {
                SslErrorsDecision::Ignore(
                    errors
                        .iter()
                        .filter(|e| ignore.contains(&e.code()))
                        .cloned()
                        .collect(),
                )
            });
        }
        let mut timing = Timing::default();
        let mut handshake = match self.establish(&mut socket, &mut timing) {
            Ok(()) => Handshake {
                errors: socket.ssl_handshake_errors(),
                chain: socket.peer_certificate_chain(),
                failure: None,
                pin: None,
                timing,
            },
            Err(error) => {
                let errors = match &error {
                    Error::VerificationFailed { errors } => errors.clone(),
                    _ => socket.ssl_handshake_errors(),
                };
                let mut chain = socket.peer_certificate_chain();
                if chain.is_empty() {
                    // What the errors name is what we know of the chain.
                    for certificate in errors.iter().filter_map(SslError::certificate) {
                        if !chain.contains(certificate) {
                            chain.push(certificate.clone());
                        }
                    }
                }
                Handshake {
                    errors,
                    chain,
                    failure: Some(error),
                    pin: None,
                    timing,
                }
            }
        };
        if let Some(tofu) = self.tofu {
            self.check_pin(tofu, &mut socket, &mut handshake);
        }
        (socket, handshake)
    }

    /// Compares the peer's certificate with its pin, and pins it on first
    /// use. This runs after the handshake because the `ssl_errors` handler
    /// only runs for a certificate with errors, and a changed certificate
    /// must be refused even when it verifies; the connection is closed
    /// before anything is sent over it.
    fn check_pin(&self, tofu: &Tofu, socket: &mut SslSocket, handshake: &mut Handshake) {
        let Some(leaf) = handshake.chain.first() else {
            return;
        };
        let outcome =
            tofu.hosts
                .check(&self.host, self.port, leaf)
                .and_then(|checked| match checked {
                    PinCheck::Pinned(_) => Ok(PinOutcome::Matched),
                    PinCheck::Unknown if tofu.record && handshake.failure.is_none() => tofu
                        .hosts
                        .clone()
                        .record(&self.host, self.port, leaf)
                        .map(|()| PinOutcome::Recorded),
                    PinCheck::Unknown => Ok(PinOutcome::Unknown),
                });
        match outcome {
            Ok(outcome) => handshake.pin = Some(outcome),
            Err(error) => {
                socket.abort();
                handshake.failure = Some(error);
            }
        }
    }

    /// Connects, runs the STARTTLS exchange if asked, and the handshake,
    /// all within the timeout.
    fn establish(&self, socket: &mut SslSocket, timing: &mut Timing) -> Result<(), Error> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let left = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        match self.starttls {
            None => socket.connect_to_host_encrypted(&self.host, self.port),
            Some(_) => socket.connect_to_host(&self.host, self.port),
        }
        socket.wait_for_connected(Some(self.timeout))?;
        timing.connect = Some(started.elapsed());
        if let Some(protocol) = self.starttls {
            starttls_upgrade(socket, protocol, left(), &self.peer_name)?;
            // The exchange bounded writes by what was left of the timeout;
            // those after the handshake get all of it again.
            socket.set_write_timeout(Some(self.timeout));
        }
        let tls_started = Instant::now();
        socket.wait_for_encrypted(Some(left()))?;
        timing.handshake = Some(tls_started.elapsed());
        Ok(())
    }
}

/// The plain exchange up to the point where TLS starts, and its start.
fn starttls_upgrade(
    socket: &mut SslSocket,
    protocol: StartTls,
    timeout: Duration,
    domain: &str,
) -> Result<(), Error> {
    let mut talk = Conversation::new(socket, timeout);
    let exchanged = starttls::client(protocol, &mut talk, domain);
    let transcript = std::mem::take(&mut talk.transcript);
    if let Err(reason) = exchanged {
        return Err(Error::InvalidState {
            operation: "upgrade with STARTTLS",
            reason: format!(
                "{reason} ({} exchange: {})",
                protocol.name(),
                transcript.join(" | ")
            ),
        });
    }
    socket.start_client_encryption()
}

/// Connects `times` more times after the first connection, and reports
/// each connection, the first one included; stops at the first that fails.
fn reconnect(
    client: &Client,
    times: u32,
    json: bool,
    report: &mut ConnectJson,
    marks: Marks,
) -> Outcome {
    if !json {
        eprintln!("{}", connection_line(&report.connections[0], marks));
    }
    for index in 2..=times + 1 {
        let (mut socket, handshake) = client.connect();
        if index <= times {
            await_tickets(&mut socket);
        }
        let connection = connection(index, &handshake, &socket);
        if socket.state() != SocketState::UnconnectedState {
            socket.disconnect_from_host();
        }
        if !json {
            eprintln!("{}", connection_line(&connection, marks));
        }
        report.connections.push(connection);
        if let Some(error) = &handshake.failure {
            report.error = Some(format!("connection {index}: {error}"));
            problem(
                format_args!("connect {} (connection {index})", report.target),
                summary(error),
            );
            return Outcome::CheckFailed;
        }
    }
    Outcome::Success
}

/// TLS 1.3 servers send their session tickets after the handshake: waits
/// (at most [`TICKET_WAIT`]) until something arrives, as a connection
/// closed before that leaves no session for the next one to offer. TLS 1.2
/// sessions come with the handshake.
fn await_tickets(socket: &mut SslSocket) {
    if socket.session_protocol() != SslProtocol::TlsV1_3 {
        return;
    }
    let before = socket.counters().encrypted_bytes_read;
    let deadline = Instant::now() + TICKET_WAIT;
    // Tickets are no data to read, so no wait ends on them: the bytes read
    // tell whether they came.
    while socket.counters().encrypted_bytes_read == before && Instant::now() < deadline {
        match socket.wait_for_ready_read(Some(TICK)) {
            Ok(()) | Err(Error::Timeout { .. }) => {}
            Err(_) => return,
        }
    }
}

fn connection(index: u32, handshake: &Handshake, socket: &SslSocket) -> ConnectionJson {
    let encrypted = handshake.failure.is_none();
    ConnectionJson {
        index,
        resumed: encrypted && socket.is_session_resumed(),
        connect_ms: handshake.timing.connect.map(milliseconds),
        handshake_ms: handshake.timing.handshake.map(milliseconds),
        protocol: encrypted.then(|| socket.session_protocol().name()),
        cipher: socket
            .session_cipher()
            .filter(|_| encrypted)
            .map(|c| c.name()),
        error: handshake.failure.as_ref().map(ToString::to_string),
    }
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// `connection 2: resumed, handshake 1.2 ms, connect 0.1 ms, TlsV1_3 ...`
fn connection_line(connection: &ConnectionJson, marks: Marks) -> String {
    let head = format!("connection {}:", connection.index);
    if let Some(error) = &connection.error {
        return format!("{head} {} {error}", marks.bad("FAIL"));
    }
    let ms = |value: Option<f64>| value.map_or_else(|| "?".to_owned(), |v| format!("{v:.1} ms"));
    format!(
        "{head} {}, handshake {}, connect {}, {} {}",
        if connection.resumed {
            "resumed"
        } else {
            "full handshake"
        },
        ms(connection.handshake_ms),
        ms(connection.connect_ms),
        connection.protocol.unwrap_or("?"),
        connection.cipher.unwrap_or("?")
    )
}

fn describe_session(socket: &SslSocket, handshake: &Handshake, report: &mut ConnectJson) {
    report.encrypted = socket.is_encrypted() && socket.mode() == SslMode::SslClientMode;
    if report.encrypted {
        report.protocol = Some(socket.session_protocol().name());
        report.cipher = socket.session_cipher().map(|c| c.name());
        report.alpn = socket
            .next_negotiated_protocol()
            .map(|p| String::from_utf8_lossy(&p).into_owned());
        report.session_resumed = socket.is_session_resumed();
    }
    report.key_exchange_group = socket.key_exchange_group().map(|g| g.to_string());
    report.errors = handshake.errors.iter().map(error_json).collect();
    report.peer_chain = handshake.chain.iter().map(details).collect();
}

fn print_report(report: &ConnectJson, handshake: &Handshake, args: &ConnectArgs, marks: Marks) {
    let none = || "(none)".to_owned();
    let mut lines = Vec::new();
    let address = report
        .address
        .as_ref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    lines.push(format!("Connected to   {}{address}", report.target));
    if let Some(protocol) = report.starttls {
        lines.push(format!("STARTTLS       {protocol}"));
    }
    if report.encrypted {
        lines.push(format!("Protocol       {}", report.protocol.unwrap_or("?")));
        lines.push(format!(
            "Cipher         {}",
            report.cipher.map(str::to_owned).unwrap_or_else(none)
        ));
        lines.push(format!(
            "ALPN           {}",
            report.alpn.clone().unwrap_or_else(none)
        ));
        lines.push(format!(
            "Key exchange   {}",
            report.key_exchange_group.clone().unwrap_or_else(none)
        ));
        lines.push(format!(
            "Resumed        {}",
            if report.session_resumed { "yes" } else { "no" }
        ));
    }
    if !report.peer_chain.is_empty() {
        lines.push("Peer chain".to_owned());
        for (n, cert) in report.peer_chain.iter().enumerate() {
            lines.push(format!("  {n} subject    {}", cert.subject));
            lines.push(format!("    issuer     {}", cert.issuer));
            lines.push(format!(
                "    valid      {} to {} ({})",
                cert.not_before,
                cert.not_after,
                days_left(cert.days_left)
            ));
            if !cert.subject_alternative_names.is_empty() {
                lines.push(format!(
                    "    names      {}",
                    alt_names(&cert.subject_alternative_names)
                ));
            }
            lines.push(format!("    SHA-256    {}", cert.sha256_fingerprint));
        }
    }
    let name = &report.peer_name;
    let tofu = args.tofu.tofu.as_ref().map(|path| path.display());
    match (&handshake.failure, handshake.errors.is_empty()) {
        (None, true) if args.verify == VerifyArg::None => lines.push(format!(
            "Verification   {} not checked (--verify none)",
            marks.warn("skipped")
        )),
        (None, true) => lines.push(format!(
            "Verification   {} the chain is valid for {name}",
            marks.good("ok")
        )),
        (None, false) => {
            let why = match (args.verify, handshake.pin) {
                (VerifyArg::Peer, Some(PinOutcome::Matched)) => "the certificate is pinned",
                (VerifyArg::Peer, Some(PinOutcome::Recorded)) => "accepted on first use",
                (VerifyArg::Peer, _) => "ignored as asked",
                (VerifyArg::Query, _) => "reported only (--verify query)",
                (VerifyArg::None, _) => "reported only (--verify none)",
            };
            lines.push(format!(
                "Verification   {} {} error(s), {why}:",
                marks.warn("accepted"),
                handshake.errors.len()
            ));
        }
        (Some(Error::VerificationFailed { .. }), _) => lines.push(format!(
            "Verification   {} the certificate was rejected for {name}:",
            marks.bad("FAIL")
        )),
        (Some(Error::PinnedCertificateChanged { .. }), _) => lines.push(format!(
            "Pin            {} not the certificate pinned for {}",
            marks.bad("CHANGED"),
            report.target
        )),
        (Some(error), _) => lines.push(format!("Failed         {} {error}", marks.bad("FAIL"))),
    }
    for error in &handshake.errors {
        lines.push(format!("  {}", error_line(error)));
    }
    if let (Some(file), Some(leaf)) = (tofu, report.peer_chain.first()) {
        let fingerprint = &leaf.sha256_fingerprint;
        match handshake.pin {
            Some(PinOutcome::Recorded) => lines.push(format!(
                "Pin            {} SHA-256 {fingerprint} recorded in {file}",
                marks.warn("new")
            )),
            Some(PinOutcome::Unknown) => lines.push(format!(
                "Pin            {} SHA-256 {fingerprint} is not pinned in {file}",
                marks.warn("unknown")
            )),
            Some(PinOutcome::Matched) | None => {}
        }
    }
    if handshake.failure.is_none() && !args.handshake_only {
        lines.push("---".to_owned());
    }
    eprintln!("{}", lines.join("\n"));
}

/// One line for the end of a failed run.
fn summary(error: &Error) -> String {
    match error {
        Error::VerificationFailed { errors } => {
            let names: Vec<&str> = errors.iter().map(|e| e.code().name()).collect();
            format!(
                "the peer's certificate was rejected: {} (see --ignore, --ca, --peer-name)",
                names.join(", ")
            )
        }
        other => other.to_string(),
    }
}

// --- relaying --------------------------------------------------------------------

enum Input {
    /// Chunks read from stdin by a thread; the channel closes at end of file.
    Stdin(Receiver<Vec<u8>>),
    /// A fixed text to send.
    Text(Vec<u8>),
}

/// Reads stdin on a thread (it cannot be polled), in chunks.
fn stdin_reader(crlf: bool) -> Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 16 * 1024];
        let mut crlf = crlf.then(Crlf::default);
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let chunk = match &mut crlf {
                        Some(c) => c.convert(&buf[..n]),
                        None => buf[..n].to_vec(),
                    };
                    if sender.send(chunk).is_err() {
                        return;
                    }
                }
            }
        }
    });
    receiver
}

/// How a relay ended.
enum End {
    /// The input ended and the peer stayed silent, or the peer closed with
    /// close_notify, or nobody reads stdout any more.
    Done,
    /// The peer closed the connection without close_notify.
    Truncated,
}

/// Relays `input` to the socket and the socket to stdout (or `received`
/// with `collect`), until the peer closes, or the input has ended and
/// nothing came for `idle`.
fn relay(
    socket: &mut SslSocket,
    input: Input,
    idle: Duration,
    collect: bool,
    received: &mut Vec<u8>,
) -> Result<End, Error> {
    let mut stdout = std::io::stdout();
    let mut channel = match input {
        Input::Stdin(receiver) => Some(receiver),
        Input::Text(text) => {
            socket.write_data(&text)?;
            socket.flush()?;
            None
        }
    };
    let mut last_activity = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some(receiver) = &channel {
            let mut wrote = false;
            loop {
                match receiver.try_recv() {
                    Ok(chunk) => {
                        socket.write_data(&chunk)?;
                        wrote = true;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        channel = None;
                        break;
                    }
                }
            }
            if wrote {
                socket.flush()?;
                last_activity = Instant::now();
            }
        }
        let closed = match socket.wait_for_ready_read(Some(TICK)) {
            Ok(()) | Err(Error::Timeout { .. }) => false,
            Err(Error::RemoteHostClosed) => true,
            Err(e) => return Err(e),
        };
        loop {
            let n = socket.read_available(&mut buf);
            if n == 0 {
                break;
            }
            last_activity = Instant::now();
            if collect {
                received.extend_from_slice(&buf[..n]);
            } else if stdout
                .write_all(&buf[..n])
                .and_then(|()| stdout.flush())
                .is_err()
            {
                // Nobody reads our output any more: done.
                return Ok(End::Done);
            }
        }
        if closed {
            // Everything was read: `Read` now tells a clean end (close_notify)
            // from a truncated one, without waiting.
            socket.set_read_timeout(Some(TICK));
            return Ok(match socket.read(&mut buf[..1]) {
                Ok(_) => End::Done,
                Err(_) => End::Truncated,
            });
        }
        if channel.is_none() && last_activity.elapsed() >= idle {
            return Ok(End::Done);
        }
    }
}

/// Turns lone line feeds into CR LF, across chunk boundaries.
#[derive(Default)]
struct Crlf {
    last: u8,
}

impl Crlf {
    fn convert(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + data.len() / 16);
        for &byte in data {
            if byte == b'\n' && self.last != b'\r' {
                out.push(b'\r');
            }
            out.push(byte);
            self.last = byte;
        }
        out
    }
}

/// `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` in `text`; other backslashes stay.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let simple = match bytes[i + 1] {
                b'r' => Some(b'\r'),
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'0' => Some(0),
                b'\\' => Some(b'\\'),
                _ => None,
            };
            if let Some(byte) = simple {
                out.push(byte);
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'x' {
                if let Some(byte) = text
                    .get(i + 2..i + 4)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// HOST:PORT, [IPv6]:PORT, or HOST (then `default_port`).
pub(crate) fn parse_target(text: &str, default_port: u16) -> Result<(String, u16), String> {
    let text = text.trim();
    let bad_port = |port: &str| format!("{port:?} is not a port number (1-65535) in {text:?}");
    let parse_port = |port: &str| match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad_port(port)),
        Ok(port) => Ok(port),
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{text:?}: missing ']' after the IPv6 address"))?;
        return match after.strip_prefix(':') {
            Some(port) => Ok((host.to_owned(), parse_port(port)?)),
            None if after.is_empty() => Ok((host.to_owned(), default_port)),
            None => Err(format!("{text:?} is not HOST:PORT")),
        };
    }
    let (host, port) = match text.rsplit_once(':') {
        // A bare IPv6 address has several colons and no port.
        Some((host, _)) if host.contains(':') => (text, default_port),
        Some((host, port)) => (host, parse_port(port)?),
        None => (text, default_port),
    };
    if host.is_empty() {
        return Err(format!("{text:?} has no host name"));
    }
    Ok((host.to_owned(), port))
}

pub(crate) fn format_target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("example.com:443", 1),
            Ok(("example.com".into(), 443))
        );
        assert_eq!(
            parse_target("example.com", 25),
            Ok(("example.com".into(), 25))
        );
        assert_eq!(parse_target("[::1]:4433", 1), Ok(("::1".into(), 4433)));
        assert_eq!(parse_target("[::1]", 7), Ok(("::1".into(), 7)));
        assert_eq!(parse_target("::1", 7), Ok(("::1".into(), 7)));
        assert!(parse_target("host:0", 1).is_err());
        assert!(parse_target("host:https", 1).is_err());
        assert!(parse_target(":443", 1).is_err());
        assert_eq!(format_target("::1", 443), "[::1]:443");
    }

    #[test]
    fn escapes_and_line_ends() {
        assert_eq!(unescape(r"GET /\r\n\x41\\\q"), b"GET /\r\nA\\\\q");
        let mut crlf = Crlf::default();
        assert_eq!(crlf.convert(b"a\nb\r"), b"a\r\nb\r");
        assert_eq!(crlf.convert(b"\nc\n"), b"\nc\r\n");
    }
}
