//! `sslsocket demo`: a self-contained tour of the library on 127.0.0.1.
//!
//! It makes a private CA, a server certificate, a client certificate and a
//! self-signed impostor in memory, starts a few servers ([`SslServer`] on
//! 127.0.0.1, port 0, each on a thread) and walks through the story: a
//! verified connection, Qt's error list for a wrong name and for a
//! self-signed server, ignoring exactly the errors one expects (bound to
//! their certificate), STARTTLS, mutual TLS, session resumption and the
//! protocol policy. Each step is a check; the demo exits 1 if one of them
//! does not behave as shown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::{
    Error, PeerVerifyMode, ServerMode, SslCertificate, SslConfiguration, SslError, SslErrorCode,
    SslMode, SslProtocol, SslServer, SslSocket,
};

use crate::cert::subject;
use crate::pki::{self, Authority, Issued, KeyAlgorithm, Usage};
use crate::report::{print_json, problem, say, Marks, Outcome};
use crate::starttls::{self, Conversation, StartTls};
use crate::verify::error_line;

/// How long any one step of the demo may wait.
const WAIT: Duration = Duration::from_secs(5);

const EXAMPLES: &str = "\
Examples:
  sslsocket demo
  sslsocket demo --json | jq '.steps[] | select(.passed | not)'";

/// A tour of the library on 127.0.0.1: connections, Qt's error lists,
/// STARTTLS, mutual TLS, resumption (a few seconds, no other network).
///
/// Makes a CA and certificates in memory, starts servers on 127.0.0.1 and
/// connects to them, explaining each step. Ends with a summary table.
///
/// JSON (--json): `{"steps": [{"name", "passed", "detail"}], "passed"}`
/// instead of the text.
///
/// Exit status: 0 when every step behaved as shown, 1 otherwise.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct DemoArgs {
    /// Print the steps' outcomes as JSON instead of the tour.
    #[arg(long)]
    json: bool,
}

/// The outcome of one step, for the closing summary.
#[derive(Serialize)]
struct Step {
    name: &'static str,
    passed: bool,
    detail: String,
}

#[derive(Serialize)]
struct DemoJson<'a> {
    steps: &'a [Step],
    passed: bool,
}

/// Records each step's outcome and prints the tour as it happens.
struct Tour {
    steps: Vec<Step>,
    quiet: bool,
    marks: Marks,
}

impl Tour {
    fn say(&self, text: impl AsRef<str>) {
        if !self.quiet {
            say!("   {}", text.as_ref());
        }
    }

    fn section(&self, title: &str) {
        if !self.quiet {
            say!("\n== {title}");
        }
    }

    fn check(&mut self, name: &'static str, passed: bool, detail: impl Into<String>) {
        let detail = detail.into();
        if !self.quiet {
            say!("   {} {detail}", self.marks.verdict(passed, 4));
        }
        self.steps.push(Step {
            name,
            passed,
            detail,
        });
    }

    fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.passed)
    }

    fn summary(&self) {
        if self.quiet {
            print_json(&DemoJson {
                steps: &self.steps,
                passed: self.passed(),
            });
            return;
        }
        say!("\n== Summary");
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for step in &self.steps {
            say!(
                "   {:width$}  {}  {}",
                step.name,
                self.marks.verdict(step.passed, 4),
                step.detail
            );
        }
        let verdict = if self.passed() {
            self.marks.good("every step behaved as shown")
        } else {
            self.marks.bad("some steps did not behave as shown")
        };
        say!("\n   {verdict}");
    }
}

/// The demo's certificates.
struct Pki {
    ca: SslCertificate,
    server: Issued,
    client: Issued,
    impostor: Issued,
}

fn build_pki() -> Result<Pki, String> {
    let made = (|| -> Result<_, rcgen::Error> {
        let authority = Authority::new("sslsocket demo CA", 1, KeyAlgorithm::Ecdsa)?;
        let names = ["localhost".to_owned(), "127.0.0.1".to_owned()];
        let server = authority.leaf("localhost", &names, Usage::Server, 1, KeyAlgorithm::Ecdsa)?;
        let client = authority.leaf("demo client", &[], Usage::Client, 1, KeyAlgorithm::Ecdsa)?;
        let impostor = pki::self_signed(&names, 1)?;
        Ok((authority.issued, server, client, impostor))
    })();
    let (ca, server, client, impostor) = made.map_err(|e| e.to_string())?;
    Ok(Pki {
        ca: ca.certificate().map_err(|e| e.to_string())?,
        server,
        client,
        impostor,
    })
}

pub fn run(args: DemoArgs) -> Outcome {
    let started = Instant::now();
    let mut tour = Tour {
        steps: Vec::new(),
        quiet: args.json,
        marks: Marks::stdout(),
    };
    if !tour.quiet {
        say!("sslsocket demo: Qt's QSslSocket model on rustls, on 127.0.0.1 only.");
    }
    let pki = match build_pki() {
        Ok(pki) => pki,
        Err(e) => {
            problem("demo", format!("could not build the demo PKI: {e}"));
            return Outcome::CheckFailed;
        }
    };
    if let Err(e) = walk(&mut tour, &pki) {
        problem("demo", e);
        tour.check("the tour", false, "stopped early (see the error above)");
    }
    if !tour.quiet {
        say!("\n   ({} ms in all)", started.elapsed().as_millis());
    }
    tour.summary();
    if tour.passed() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    }
}

// --- servers ------------------------------------------------------------------

/// What a demo server does with a client.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Reads a line and answers "echo: LINE", naming the client's
    /// certificate if it sent one.
    Echo,
    /// An SMTP greeting, STARTTLS, then `Echo` over TLS.
    SmtpThenEcho,
}

/// A server on 127.0.0.1 serving clients one after another on a thread,
/// until dropped.
struct DemoServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DemoServer {
    fn start(configuration: SslConfiguration, behaviour: Behaviour) -> Result<DemoServer, Error> {
        let mut server = SslServer::new(configuration)?;
        server.set_handshake_timeout(Some(WAIT));
        if behaviour == Behaviour::SmtpThenEcho {
            server.set_mode(ServerMode::Plain);
        }
        server.listen("127.0.0.1:0")?;
        let port = server.local_address().map_or(0, |a| a.port());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                if let Ok(mut socket) = server.accept(Some(Duration::from_millis(20))) {
                    let _ = serve(&mut socket, behaviour);
                    socket.disconnect_from_host();
                }
                // Failed handshakes are the clients' story here; drop them.
                server.events().for_each(drop);
            }
        });
        Ok(DemoServer {
            port,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &mut SslSocket, behaviour: Behaviour) -> Result<(), String> {
    if behaviour == Behaviour::SmtpThenEcho {
        starttls::server(
            StartTls::Smtp,
            &mut Conversation::new(socket, WAIT),
            "localhost",
        )?;
        socket
            .start_server_encryption()
            .map_err(|e| e.to_string())?;
        socket
            .wait_for_encrypted(Some(WAIT))
            .map_err(|e| e.to_string())?;
    }
    let line = Conversation::new(socket, WAIT).line()?;
    let from = socket
        .peer_certificate()
        .map(|c| format!(" (from {})", subject(&c)))
        .unwrap_or_default();
    socket
        .write_data(format!("echo: {line}{from}\n").as_bytes())
        .and_then(|_| socket.flush())
        .map_err(|e| e.to_string())
}

fn server_configuration(identity: &Issued) -> Result<SslConfiguration, Error> {
    let mut configuration = SslConfiguration::new();
    configuration.set_local_identity(vec![identity.certificate()?], identity.key()?)?;
    // No client certificates: nothing to check, so sessions can be resumed.
    configuration.set_peer_verify_mode(PeerVerifyMode::VerifyNone);
    Ok(configuration)
}

// --- clients ------------------------------------------------------------------

fn client(configuration: &SslConfiguration) -> SslSocket {
    let mut socket = SslSocket::new();
    socket.set_ssl_configuration(configuration.clone());
    socket
}

/// Connects to `localhost:port` (or by `name`), completes the handshake.
fn connect(socket: &mut SslSocket, port: u16, name: Option<&str>) -> Result<(), Error> {
    match name {
        Some(name) => socket.connect_to_host_encrypted_with_peer_name("127.0.0.1", port, name),
        None => socket.connect_to_host_encrypted("localhost", port),
    }
    socket.wait_for_encrypted(Some(WAIT))
}

/// Sends a line and reads the answer.
fn exchange(socket: &mut SslSocket, line: &str) -> Result<String, String> {
    socket
        .write_data(format!("{line}\n").as_bytes())
        .and_then(|_| socket.flush())
        .map_err(|e| e.to_string())?;
    Conversation::new(socket, WAIT).line()
}

fn errors_of(result: &Result<(), Error>) -> Vec<SslError> {
    match result {
        Err(Error::VerificationFailed { errors }) => errors.clone(),
        _ => Vec::new(),
    }
}

fn codes(errors: &[SslError]) -> Vec<SslErrorCode> {
    errors.iter().map(SslError::code).collect()
}

fn outcome_text(result: &Result<(), Error>) -> String {
    match result {
        Ok(()) => "encrypted".to_owned(),
        Err(Error::VerificationFailed { errors }) => format!(
            "refused: {}",
            errors
                .iter()
                .map(|e| e.code().name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => format!("refused: {e}"),
    }
}

// --- the tour -------------------------------------------------------------------

fn walk(tour: &mut Tour, pki: &Pki) -> Result<(), String> {
    let leaf = pki.server.certificate().map_err(|e| e.to_string())?;
    let impostor = pki.impostor.certificate().map_err(|e| e.to_string())?;

    tour.section("1. A private CA and a server certificate, made in memory");
    for cert in [&leaf, &pki.ca] {
        tour.say(format!(
            "{} <- issued by {} | SHA-256 {}..",
            subject(cert),
            cert.issuer_display_name(),
            hex(&cert.digest(DigestAlgorithm::Sha256)[..8]),
        ));
    }
    let names: Vec<String> = leaf
        .subject_alternative_names()
        .into_iter()
        .map(|(kind, value)| format!("{kind}={value}"))
        .collect();
    tour.check(
        "certificates",
        pki.ca.is_self_signed() && !leaf.is_self_signed() && names.len() == 2,
        format!("leaf for {}", names.join(", ")),
    );

    let main = DemoServer::start(
        server_configuration(&pki.server).map_err(|e| e.to_string())?,
        Behaviour::Echo,
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut trusting = SslConfiguration::new();
    trusting.set_ca_certificates(vec![pki.ca.clone()]);

    tour.section("2. A verified connection (the client trusts only the demo CA)");
    tour.say(format!("server: SslServer on 127.0.0.1:{}", main.port));
    let mut socket = client(&trusting);
    let result = connect(&mut socket, main.port, None);
    let reply = match &result {
        Ok(()) => exchange(&mut socket, "hello").unwrap_or_else(|e| format!("(no reply: {e})")),
        Err(e) => format!("(no connection: {e})"),
    };
    socket.disconnect_from_host();
    if result.is_ok() {
        tour.say(format!(
            "protocol {} | cipher {} | key exchange {}",
            socket.session_protocol(),
            socket.session_cipher().map_or("?", |c| c.name()),
            socket
                .key_exchange_group()
                .map_or_else(|| "?".into(), |g| g.to_string()),
        ));
        for (n, cert) in socket.peer_certificate_chain().iter().enumerate() {
            tour.say(format!("peer chain [{n}] {}", subject(cert)));
        }
        tour.say(format!("sent \"hello\", got {reply:?}"));
    }
    tour.check(
        "verified connection",
        result.is_ok() && socket.ssl_handshake_errors().is_empty() && reply == "echo: hello",
        format!(
            "{} with no errors, data both ways",
            socket.session_protocol()
        ),
    );

    tour.section("3. The wrong name: Qt's error list, and ignoring exactly what was expected");
    let mut socket = client(&trusting);
    let strict = connect(&mut socket, main.port, Some("wrong.example"));
    let errors = errors_of(&strict);
    tour.say(format!(
        "by the name wrong.example, ignoring nothing: {}",
        outcome_text(&strict)
    ));
    for error in &errors {
        tour.say(format!("  {}", error_line(error)));
    }
    let mut socket = client(&trusting);
    socket.ignore_listed_ssl_errors([SslError::with_certificate(
        SslErrorCode::HostNameMismatch,
        impostor.clone(),
    )]);
    let elsewhere = connect(&mut socket, main.port, Some("wrong.example"));
    tour.say(format!(
        "ignoring HostNameMismatch for another certificate: {}",
        outcome_text(&elsewhere)
    ));
    let mut socket = client(&trusting);
    socket.ignore_listed_ssl_errors(errors.clone());
    let bound = connect(&mut socket, main.port, Some("wrong.example"));
    tour.say(format!(
        "ignoring the error as reported (code and certificate): {}",
        outcome_text(&bound)
    ));
    let reported = socket.ssl_handshake_errors();
    socket.disconnect_from_host();
    tour.check(
        "wrong host name",
        codes(&errors) == [SslErrorCode::HostNameMismatch]
            && errors[0].certificate() == Some(&leaf)
            && elsewhere.is_err()
            && bound.is_ok()
            && reported == errors,
        "HostNameMismatch; a certificate-bound ignore lets it through, nothing else does",
    );

    tour.section("4. A self-signed impostor with the right name");
    let impostor_server = DemoServer::start(
        server_configuration(&pki.impostor).map_err(|e| e.to_string())?,
        Behaviour::Echo,
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut socket = client(&trusting);
    let refused = connect(&mut socket, impostor_server.port, None);
    let errors = errors_of(&refused);
    tour.say(format!(
        "connecting to localhost: {}",
        outcome_text(&refused)
    ));
    for error in &errors {
        tour.say(format!("  {}", error_line(error)));
    }
    let mut socket = client(&trusting);
    socket.ignore_listed_ssl_errors(errors.clone());
    let pinned = connect(&mut socket, impostor_server.port, None);
    socket.disconnect_from_host();
    tour.say(format!(
        "accepting this one certificate (its errors, bound to it): {}",
        outcome_text(&pinned)
    ));
    tour.check(
        "self-signed server",
        codes(&errors).contains(&SslErrorCode::SelfSignedCertificate)
            && errors.iter().all(|e| e.certificate() == Some(&impostor))
            && pinned.is_ok(),
        "SelfSignedCertificate, for that certificate only",
    );
    drop(impostor_server);

    tour.section("5. STARTTLS: plain SMTP first, then TLS on the same connection");
    let smtp = DemoServer::start(
        server_configuration(&pki.server).map_err(|e| e.to_string())?,
        Behaviour::SmtpThenEcho,
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut socket = client(&trusting);
    socket.connect_to_host("localhost", smtp.port);
    let upgraded = (|| -> Result<(SslMode, String), String> {
        socket
            .wait_for_connected(Some(WAIT))
            .map_err(|e| e.to_string())?;
        let mut talk = Conversation::new(&mut socket, WAIT);
        let exchanged = starttls::client(StartTls::Smtp, &mut talk, "localhost");
        let transcript = std::mem::take(&mut talk.transcript);
        for line in &transcript {
            tour.say(format!("  {line}"));
        }
        exchanged?;
        let before = socket.mode();
        socket
            .start_client_encryption()
            .map_err(|e| e.to_string())?;
        socket
            .wait_for_encrypted(Some(WAIT))
            .map_err(|e| e.to_string())?;
        tour.say(format!(
            "mode {before} -> {}, {}",
            socket.mode(),
            socket.session_protocol()
        ));
        Ok((before, exchange(&mut socket, "hello over TLS")?))
    })();
    socket.disconnect_from_host();
    drop(smtp);
    let passed = matches!(&upgraded, Ok((SslMode::UnencryptedMode, reply)) if reply == "echo: hello over TLS")
        && socket.ssl_handshake_errors().is_empty();
    tour.check(
        "STARTTLS",
        passed,
        match &upgraded {
            Ok(_) => "EHLO, STARTTLS, 220, then a verified handshake".to_owned(),
            Err(e) => e.clone(),
        },
    );

    tour.section("6. Mutual TLS: the server requires a certificate from the demo CA");
    let mut mutual_configuration = server_configuration(&pki.server).map_err(|e| e.to_string())?;
    mutual_configuration.set_peer_verify_mode(PeerVerifyMode::VerifyPeer);
    mutual_configuration.set_ca_certificates(vec![pki.ca.clone()]);
    let mutual = DemoServer::start(mutual_configuration, Behaviour::Echo)
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut with_identity = trusting.clone();
    with_identity
        .set_local_identity(
            vec![pki.client.certificate().map_err(|e| e.to_string())?],
            pki.client.key().map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
    let mut socket = client(&with_identity);
    let answer = connect(&mut socket, mutual.port, None)
        .map_err(|e| e.to_string())
        .and_then(|()| exchange(&mut socket, "hello"));
    socket.disconnect_from_host();
    tour.say(format!("with the client certificate: {answer:?}"));
    let mut socket = client(&trusting);
    // With TLS 1.3 the client finishes first; the refusal comes as an alert.
    let anonymous = connect(&mut socket, mutual.port, None)
        .map_err(|e| e.to_string())
        .and_then(|()| exchange(&mut socket, "hello"));
    socket.abort();
    drop(mutual);
    tour.say(match &anonymous {
        Ok(reply) => format!("without one: {reply:?}"),
        Err(e) => format!("without one: refused ({e})"),
    });
    tour.check(
        "mutual TLS",
        answer.as_deref() == Ok("echo: hello (from CN=demo client)") && anonymous.is_err(),
        "the server sees the client's certificate; no certificate, no service",
    );

    tour.section("7. Session resumption: TLS 1.3 tickets, same configuration, strict verification");
    // Sessions are kept per configuration value; this one is new (TLS 1.3
    // only), so its first connection is a full handshake.
    let mut resumption = SslConfiguration::new();
    resumption.set_ca_certificates(vec![pki.ca.clone()]);
    resumption.set_protocol(SslProtocol::TlsV1_3);
    let mut resumed = Vec::new();
    for n in 1..=2 {
        let mut socket = client(&resumption);
        let result = connect(&mut socket, main.port, None);
        // Reading the answer also reads the session tickets sent after the handshake.
        let reply = result
            .map_err(|e| e.to_string())
            .and_then(|()| exchange(&mut socket, "again"));
        socket.disconnect_from_host();
        tour.say(format!(
            "connection {n}: resumed {} ({})",
            if socket.is_session_resumed() {
                "yes"
            } else {
                "no"
            },
            reply.unwrap_or_else(|e| e)
        ));
        resumed.push(socket.is_session_resumed());
    }
    tour.check(
        "session resumption",
        resumed == [false, true],
        "a full handshake, then the second connection resumed its session",
    );

    tour.section("8. Protocol policy: insecure versions are refused, versions can be pinned");
    let mut old = trusting.clone();
    old.set_protocol(SslProtocol::TlsV1_1);
    let mut socket = client(&old);
    let refused = connect(&mut socket, main.port, None);
    tour.say(format!("asking for TlsV1_1: {}", outcome_text(&refused)));
    let mut pinned = trusting.clone();
    pinned.set_protocol(SslProtocol::TlsV1_2);
    let mut socket = client(&pinned);
    let tls12 = connect(&mut socket, main.port, None);
    socket.disconnect_from_host();
    tour.say(format!(
        "asking for TlsV1_2: {} with {}",
        outcome_text(&tls12),
        socket.session_cipher().map_or("?", |c| c.name())
    ));
    tour.check(
        "protocol policy",
        matches!(
            refused,
            Err(Error::UnsupportedProtocol(SslProtocol::TlsV1_1))
        ) && tls12.is_ok()
            && socket.session_protocol() == SslProtocol::TlsV1_2,
        "TLS 1.1 refused before anything is sent; TLS 1.2 on request",
    );
    drop(main);
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
