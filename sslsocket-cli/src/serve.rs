//! `sslsocket serve`: a readable `openssl s_server`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::Serialize;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::server::ServerEvent;
use sslsocket::{Error, ServerMode, SslConfiguration, SslServer, SslSocket};

use crate::cert::{hex_colon, subject};
use crate::options::{parse_seconds, IdentityArgs, Problems, TlsArgs, TrustArgs, VerifyArg};
use crate::pki;
use crate::report::{print_json_line, problem, Outcome};
use crate::starttls::{self, Conversation, StartTls};
use crate::verify::{error_json, ErrorJson};

/// How often the accept loop and the responders look at the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// The longest HTTP request head accepted, in lines.
const MAX_HEAD_LINES: usize = 100;

const EXAMPLES: &str = "\
Examples:
  sslsocket serve                                     # 127.0.0.1:4433, self-signed, echo
  sslsocket serve --cert server.pem --key server.key --http
  curl --cacert ca.pem https://localhost:4433/        # ... and ask it
  sslsocket serve --listen 0.0.0.0:8443 --cert chain.pem --key server.key --ca ca.pem --verify peer
  sslsocket serve --starttls smtp --listen 127.0.0.1:2525
  openssl s_client -connect 127.0.0.1:2525 -starttls smtp
  sslsocket serve --json --max-connections 1 > log.jsonl";

/// Run a TLS server: echo, or a page showing the negotiated parameters.
///
/// Listens on --listen (127.0.0.1:4433 by default; port 0 picks a free
/// port, which the first log line shows) with the certificate and key of
/// --cert and --key, or, without them, a self-signed certificate made in
/// memory for the listen address (its SHA-256 fingerprint is logged, to
/// compare with what clients see). Each client is served on a thread of
/// its own: --echo (the default) sends back what the client sends; --http
/// answers each request with a page showing the TLS session. With
/// --starttls the plain SMTP, IMAP or POP3 greeting comes first, and TLS
/// starts when the client asks for it.
///
/// Runs until Ctrl-C (then stops cleanly: no new clients, close_notify to
/// the connected ones) or --max-connections clients.
///
/// The log has one line per connection on stderr: the client's address,
/// protocol, cipher, client certificate subject and verification errors,
/// or why the connection failed. With --json the log is JSON on stdout,
/// one object per line with an `event` field: `listening` (`address`,
/// `starttls`, `responder`, `certificate` {`subject`, `sha256_fingerprint`,
/// `self_signed`}), `connection` (`peer`, `protocol`, `cipher`, `alpn`,
/// `key_exchange_group`, `session_resumed`, `client_certificate` (subject
/// or null), `errors` as in `sslsocket verify --json`), `failed` (`peer`,
/// `error`, `errors`) and `stopped` (`connections`, `reason`:
/// "interrupted" or "max-connections").
///
/// Exit status: 0 when stopped by Ctrl-C or --max-connections; 2 on usage
/// or input errors (unreadable certificate or key, address in use).
#[derive(Args, Debug)]
#[command(
    after_help = EXAMPLES,
    group = clap::ArgGroup::new("responder").args(["echo", "http"])
)]
pub struct ServeArgs {
    /// The address to listen on: ADDR:PORT (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:4433")]
    listen: String,
    #[command(flatten)]
    identity: IdentityArgs,
    #[command(flatten)]
    trust: TrustArgs,
    /// Client certificates: `none` asks for none; `query` asks and logs
    /// their errors; `peer` requires a valid one (checked against --ca).
    #[arg(long, value_enum, value_name = "MODE", default_value = "none")]
    verify: VerifyArg,
    /// Speak this protocol's plain greeting first; TLS starts on the
    /// client's STARTTLS (or STLS) command.
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    starttls: Option<ServeStartTls>,
    /// Send back what each client sends (the default).
    #[arg(long)]
    echo: bool,
    /// Answer each HTTP request with a page showing the TLS session (HTML
    /// for browsers, text otherwise). Offers ALPN http/1.1 unless --alpn.
    #[arg(long)]
    http: bool,
    #[command(flatten)]
    tls: TlsArgs,
    /// Stop after N clients (successful or not).
    #[arg(long, value_name = "N")]
    max_connections: Option<u64>,
    /// Seconds a client may take for STARTTLS and the handshake, and may
    /// stay silent before it is disconnected.
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    timeout: String,
    /// Seconds a new client has to send its ClientHello (never more than
    /// --timeout); silent connections are closed then.
    #[arg(long, value_name = "SECONDS", default_value = "3")]
    hello_timeout: String,
    /// Most handshakes in progress at once [default: 256 per processor,
    /// 512 to 4096]. At the limit, the oldest client that has not sent its
    /// ClientHello yet is dropped to make room for a new one.
    #[arg(long, value_name = "N")]
    max_handshakes: Option<usize>,
    /// Log JSON on stdout, one object per line, instead of text on stderr.
    #[arg(long)]
    json: bool,
}

/// The STARTTLS protocols `serve` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ServeStartTls {
    Smtp,
    Imap,
    Pop3,
}

impl ServeStartTls {
    fn protocol(self) -> StartTls {
        match self {
            ServeStartTls::Smtp => StartTls::Smtp,
            ServeStartTls::Imap => StartTls::Imap,
            ServeStartTls::Pop3 => StartTls::Pop3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Responder {
    Echo,
    Http,
}

/// Where log lines go.
#[derive(Debug, Clone, Copy)]
struct Log {
    json: bool,
}

#[derive(Serialize)]
struct ListeningJson {
    event: &'static str,
    address: String,
    starttls: Option<&'static str>,
    responder: &'static str,
    certificate: CertificateSummary,
}

#[derive(Serialize)]
struct CertificateSummary {
    subject: String,
    sha256_fingerprint: String,
    self_signed: bool,
}

#[derive(Serialize)]
struct ConnectionJson {
    event: &'static str,
    peer: String,
    protocol: &'static str,
    cipher: Option<&'static str>,
    alpn: Option<String>,
    key_exchange_group: Option<String>,
    session_resumed: bool,
    client_certificate: Option<String>,
    errors: Vec<ErrorJson>,
}

#[derive(Serialize)]
struct FailedJson {
    event: &'static str,
    peer: String,
    error: String,
    errors: Vec<ErrorJson>,
}

#[derive(Serialize)]
struct StoppedJson {
    event: &'static str,
    connections: u64,
    reason: &'static str,
}

impl Log {
    fn listening(&self, entry: &ListeningJson, generated: bool) {
        if self.json {
            print_json_line(entry);
            return;
        }
        let mode = match entry.starttls {
            Some(protocol) => format!("plain {protocol}, then STARTTLS"),
            None => "TLS".to_owned(),
        };
        eprintln!(
            "listening on {} ({mode}, {} responder); Ctrl-C stops",
            entry.address, entry.responder
        );
        let origin = if generated {
            "self-signed, made for this run"
        } else if entry.certificate.self_signed {
            "self-signed"
        } else {
            "from --cert"
        };
        eprintln!(
            "certificate {} ({origin}), SHA-256 {}",
            entry.certificate.subject, entry.certificate.sha256_fingerprint
        );
    }

    fn connection(&self, socket: &SslSocket, peer: &str) {
        let errors = socket.ssl_handshake_errors();
        let entry = ConnectionJson {
            event: "connection",
            peer: peer.to_owned(),
            protocol: socket.session_protocol().name(),
            cipher: socket.session_cipher().map(|c| c.name()),
            alpn: socket
                .next_negotiated_protocol()
                .map(|p| String::from_utf8_lossy(&p).into_owned()),
            key_exchange_group: socket.key_exchange_group().map(|g| g.to_string()),
            session_resumed: socket.is_session_resumed(),
            client_certificate: socket.peer_certificate().map(|c| subject(&c)),
            errors: errors.iter().map(error_json).collect(),
        };
        if self.json {
            print_json_line(&entry);
            return;
        }
        let mut line = format!(
            "{peer}  {}  {}",
            entry.protocol,
            entry.cipher.unwrap_or("?")
        );
        if let Some(alpn) = &entry.alpn {
            line.push_str(&format!("  alpn {alpn}"));
        }
        if entry.session_resumed {
            line.push_str("  resumed");
        }
        match &entry.client_certificate {
            Some(subject) => line.push_str(&format!("  client certificate: {subject}")),
            None => line.push_str("  no client certificate"),
        }
        if errors.is_empty() {
            line.push_str("  errors: none");
        } else {
            let names: Vec<&str> = errors.iter().map(|e| e.code().name()).collect();
            line.push_str(&format!("  errors: {}", names.join(", ")));
        }
        eprintln!("{line}");
    }

    fn failed(&self, peer: &str, error: &str, errors: &[sslsocket::SslError]) {
        if self.json {
            print_json_line(&FailedJson {
                event: "failed",
                peer: peer.to_owned(),
                error: error.to_owned(),
                errors: errors.iter().map(error_json).collect(),
            });
        } else {
            eprintln!("{peer}  failed: {error}");
        }
    }

    fn stopped(&self, connections: u64, reason: &'static str) {
        if self.json {
            print_json_line(&StoppedJson {
                event: "stopped",
                connections,
                reason,
            });
        } else {
            let why = match reason {
                "interrupted" => "interrupted",
                _ => "--max-connections reached",
            };
            eprintln!("stopped after {connections} connection(s): {why}");
        }
    }
}

/// What every client thread needs.
struct ClientContext {
    log: Log,
    responder: Responder,
    starttls: Option<StartTls>,
    /// The server's name in greetings.
    name: String,
    timeout: Duration,
    stop: Arc<AtomicBool>,
}

pub fn run(args: ServeArgs) -> Outcome {
    let mut problems = Problems::default();
    let timeout = problems.check("--timeout", parse_seconds(&args.timeout));
    let hello_timeout = problems.check("--hello-timeout", parse_seconds(&args.hello_timeout));
    if args.max_handshakes == Some(0) {
        problems.add("--max-handshakes", "must be at least 1");
    }
    let mut configuration = SslConfiguration::new();
    let generated = !args.identity.given();
    if generated {
        let names = names_for(&args.listen);
        match pki::self_signed(&names, 30)
            .map_err(|e| e.to_string())
            .and_then(|issued| {
                let certificate = issued.certificate().map_err(|e| e.to_string())?;
                let key = issued.key().map_err(|e| e.to_string())?;
                configuration
                    .set_local_identity(vec![certificate], key)
                    .map_err(|e| e.to_string())
            }) {
            Ok(()) => {}
            Err(e) => problems.add("self-signed certificate", e),
        }
    } else {
        args.identity.apply(&mut configuration, &mut problems);
    }
    args.trust.apply(&mut configuration, &mut problems);
    let default_alpn: &[&str] = if args.http { &["http/1.1"] } else { &[] };
    args.tls
        .apply(&mut configuration, default_alpn, &mut problems);
    configuration.set_peer_verify_mode(args.verify.mode());
    if args.verify != VerifyArg::None && args.trust.ca.is_empty() {
        eprintln!("note: client certificates are checked against the system's roots; use --ca for a private CA");
    }
    if args.verify == VerifyArg::None && !args.trust.ca.is_empty() {
        eprintln!("note: --ca is for client certificates, which --verify none does not ask for; add --verify query or peer");
    }
    let (Some(timeout), Some(hello_timeout), false) = (timeout, hello_timeout, problems.any())
    else {
        return Outcome::InputError;
    };

    let Some(leaf) = configuration.local_certificate().cloned() else {
        problem("serve", "no local certificate");
        return Outcome::InputError;
    };
    let mut server = match SslServer::new(configuration) {
        Ok(server) => server,
        Err(e) => {
            problem("serve", e);
            return Outcome::InputError;
        }
    };
    server.set_handshake_timeout(Some(timeout));
    server.set_client_hello_timeout(Some(hello_timeout));
    if let Some(max) = args.max_handshakes {
        server.set_max_concurrent_handshakes(max);
    }
    let starttls = args.starttls.map(ServeStartTls::protocol);
    if starttls.is_some() {
        server.set_mode(ServerMode::Plain);
    }
    if let Err(e) = server.listen(args.listen.as_str()) {
        problem(format_args!("listen on {}", args.listen), e);
        return Outcome::InputError;
    }
    let address = server
        .local_address()
        .map(|a| a.to_string())
        .unwrap_or_else(|| args.listen.clone());

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        if let Err(e) = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C: the user does not want to wait.
                std::process::exit(130);
            }
        }) {
            problem("Ctrl-C handler", e);
        }
    }

    let log = Log { json: args.json };
    let responder = if args.http {
        Responder::Http
    } else {
        Responder::Echo
    };
    log.listening(
        &ListeningJson {
            event: "listening",
            address,
            starttls: starttls.map(StartTls::name),
            responder: match responder {
                Responder::Echo => "echo",
                Responder::Http => "http",
            },
            certificate: CertificateSummary {
                subject: subject(&leaf),
                sha256_fingerprint: hex_colon(&leaf.digest(DigestAlgorithm::Sha256)),
                self_signed: leaf.is_self_signed(),
            },
        },
        generated,
    );
    let context = Arc::new(ClientContext {
        log,
        responder,
        starttls,
        name: greeting_name(&leaf),
        timeout,
        stop: stop.clone(),
    });

    let mut count: u64 = 0;
    let mut clients: Vec<JoinHandle<()>> = Vec::new();
    let reason = loop {
        if stop.load(Ordering::SeqCst) {
            break "interrupted";
        }
        if args.max_connections.is_some_and(|max| count >= max) {
            break "max-connections";
        }
        match server.accept(Some(TICK)) {
            Ok(socket) => {
                count += 1;
                let context = context.clone();
                match std::thread::Builder::new()
                    .name("sslsocket-client".into())
                    .spawn(move || serve_client(socket, &context))
                {
                    Ok(handle) => clients.push(handle),
                    Err(e) => problem("client thread", e),
                }
            }
            Err(Error::Timeout { .. }) => {}
            Err(e) => {
                problem("accept", e);
                std::thread::sleep(TICK);
            }
        }
        for event in server.events() {
            if let ServerEvent::HandshakeFailed { peer, error } = event {
                count += 1;
                let errors = match &error {
                    Error::VerificationFailed { errors } => errors.clone(),
                    _ => Vec::new(),
                };
                log.failed(&peer.to_string(), &error.to_string(), &errors);
            }
        }
        clients.retain(|client| !client.is_finished());
    };
    server.close();
    for client in clients {
        let _ = client.join();
    }
    log.stopped(count, reason);
    Outcome::Success
}

/// The names a self-signed certificate for `listen` is made for.
fn names_for(listen: &str) -> Vec<String> {
    let host = match listen.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => listen,
    };
    let loopback = || {
        vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ]
    };
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => loopback(),
        Ok(ip) if ip.is_loopback() => {
            let mut names = vec![ip.to_string(), "localhost".to_owned()];
            names.dedup();
            names
        }
        Ok(ip) => vec![ip.to_string()],
        Err(_) if host.is_empty() || host.eq_ignore_ascii_case("localhost") => loopback(),
        Err(_) => vec![host.to_owned()],
    }
}

/// The first DNS name of the certificate, for protocol greetings.
fn greeting_name(leaf: &sslsocket::SslCertificate) -> String {
    leaf.subject_alternative_names()
        .into_iter()
        .find(|(kind, _)| *kind == sslsocket::AlternativeNameEntryType::DnsEntry)
        .map(|(_, name)| name)
        .unwrap_or_else(|| "localhost".to_owned())
}

/// One client, on its own thread: STARTTLS if asked, the log line, the
/// responder, the close.
fn serve_client(mut socket: SslSocket, context: &ClientContext) {
    let peer = socket
        .peer_address()
        .map(|a: SocketAddr| a.to_string())
        // Gone already when the client closed at once.
        .unwrap_or_else(|| "(peer address unknown)".to_owned());
    if let Some(protocol) = context.starttls {
        let mut talk =
            Conversation::new(&mut socket, context.timeout).with_stop(context.stop.clone());
        if let Err(reason) = starttls::server(protocol, &mut talk, &context.name) {
            context.log.failed(
                &peer,
                &format!("{} before TLS: {reason}", protocol.name()),
                &[],
            );
            socket.disconnect_from_host();
            return;
        }
        let started = socket
            .start_server_encryption()
            .and_then(|()| socket.wait_for_encrypted(Some(context.timeout)));
        if let Err(error) = started {
            let errors = match &error {
                Error::VerificationFailed { errors } => errors.clone(),
                _ => socket.ssl_handshake_errors(),
            };
            context.log.failed(&peer, &error.to_string(), &errors);
            socket.abort();
            return;
        }
    }
    context.log.connection(&socket, &peer);
    socket.set_write_timeout(Some(context.timeout));
    let ended = match context.responder {
        Responder::Echo => echo(&mut socket, context),
        Responder::Http => http(&mut socket, context, &peer),
    };
    if let Err(error) = ended {
        context.log.failed(&peer, &error, &[]);
    }
    socket.disconnect_from_host();
}

/// Sends back what arrives until the client closes, stays silent for the
/// timeout, or the server stops.
fn echo(socket: &mut SslSocket, context: &ClientContext) -> Result<(), String> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut last_activity = Instant::now();
    loop {
        if context.stop.load(Ordering::SeqCst) || last_activity.elapsed() >= context.timeout {
            return Ok(());
        }
        let closed = match socket.wait_for_ready_read(Some(TICK)) {
            Ok(()) | Err(Error::Timeout { .. }) => false,
            Err(Error::RemoteHostClosed) => true,
            Err(e) => return Err(e.to_string()),
        };
        let mut wrote = false;
        loop {
            let n = socket.read_available(&mut buf);
            if n == 0 {
                break;
            }
            socket.write_data(&buf[..n]).map_err(|e| e.to_string())?;
            wrote = true;
        }
        if wrote && !closed {
            socket.flush().map_err(|e| e.to_string())?;
            last_activity = Instant::now();
        }
        if closed {
            return Ok(());
        }
    }
}

/// Answers HTTP/1.x requests with a page about the session, until the
/// client closes or asks to.
fn http(socket: &mut SslSocket, context: &ClientContext, peer: &str) -> Result<(), String> {
    loop {
        let mut talk = Conversation::new(socket, context.timeout).with_stop(context.stop.clone());
        let Ok(request_line) = talk.line() else {
            // Closed, silent or stopping between requests: a normal end.
            return Ok(());
        };
        if request_line.is_empty() {
            continue;
        }
        let mut html = false;
        let mut close = !request_line.ends_with("HTTP/1.1");
        let mut body_length = 0usize;
        for _ in 0..MAX_HEAD_LINES {
            let line = talk.line()?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().to_ascii_lowercase();
            match name.trim().to_ascii_lowercase().as_str() {
                "accept" => html = value.contains("text/html"),
                "connection" if value.contains("close") => close = true,
                "connection" if value.contains("keep-alive") => close = false,
                "content-length" => body_length = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        talk.skip(body_length)?;
        drop(talk);
        let page = page(socket, peer, &request_line, html);
        let head_only = request_line.starts_with("HEAD ");
        let response = format!(
            "HTTP/1.1 200 OK\r\nServer: sslsocket\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
            if html { "text/html; charset=utf-8" } else { "text/plain; charset=utf-8" },
            page.len(),
            if close { "close" } else { "keep-alive" },
        );
        socket
            .write_data(response.as_bytes())
            .map_err(|e| e.to_string())?;
        if !head_only {
            socket
                .write_data(page.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        socket.flush().map_err(|e| e.to_string())?;
        if close {
            return Ok(());
        }
    }
}

/// The page: what was negotiated for this connection.
fn page(socket: &SslSocket, peer: &str, request: &str, html: bool) -> String {
    let none = || "none".to_owned();
    let errors = socket.ssl_handshake_errors();
    let rows = [
        ("request", request.to_owned()),
        ("client", peer.to_owned()),
        ("protocol", socket.session_protocol().name().to_owned()),
        (
            "cipher",
            socket
                .session_cipher()
                .map(|c| {
                    format!(
                        "{} ({}, {} bits)",
                        c.name(),
                        c.protocol_string(),
                        c.used_bits()
                    )
                })
                .unwrap_or_else(none),
        ),
        (
            "alpn",
            socket
                .next_negotiated_protocol()
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .unwrap_or_else(none),
        ),
        (
            "key exchange",
            socket
                .key_exchange_group()
                .map_or_else(none, |g| g.to_string()),
        ),
        (
            "session resumed",
            if socket.is_session_resumed() {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
        ),
        (
            "client certificate",
            socket
                .peer_certificate()
                .map(|c| subject(&c))
                .unwrap_or_else(none),
        ),
        (
            "certificate errors",
            if errors.is_empty() {
                none()
            } else {
                errors
                    .iter()
                    .map(|e| e.code().name())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
    ];
    let title = "sslsocket serve: this connection";
    if html {
        let mut page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<table>\n"
        );
        for (name, value) in rows {
            page.push_str(&format!(
                "<tr><th align=\"left\">{name}</th><td><code>{}</code></td></tr>\n",
                html_escape(&value)
            ));
        }
        page.push_str("</table>\n</body></html>\n");
        page
    } else {
        let mut page = format!("{title}\n\n");
        for (name, value) in rows {
            page.push_str(&format!("{name:<20}{value}\n"));
        }
        page
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_names() {
        assert_eq!(names_for("127.0.0.1:4433"), ["127.0.0.1", "localhost"]);
        assert_eq!(names_for("0.0.0.0:1"), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(names_for("[::]:1"), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(names_for("localhost:1"), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(names_for("www.example.test:443"), ["www.example.test"]);
        assert_eq!(names_for("192.0.2.1:443"), ["192.0.2.1"]);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            html_escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
