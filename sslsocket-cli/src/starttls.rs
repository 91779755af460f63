//! The plain-text exchanges that come before TLS in STARTTLS protocols, for
//! both ends: `connect --starttls` speaks the client's part, `serve
//! --starttls` the server's (a minimal greeting-and-upgrade server).

use std::net::{IpAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use sslsocket::{Error, SslSocket, Transport};

/// How long one wait lasts before the stop flag is looked at again.
const TICK: Duration = Duration::from_millis(100);

/// The longest line (or XMPP reply) accepted before the upgrade.
const MAX_LINE: usize = 16 * 1024;

/// How many commands a server-side client may send before STARTTLS.
const MAX_COMMANDS: usize = 32;

/// A protocol that upgrades a plain connection to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartTls {
    /// SMTP (RFC 3207): EHLO, STARTTLS, 220.
    Smtp,
    /// IMAP (RFC 3501): `a STARTTLS`, `a OK`.
    Imap,
    /// POP3 (RFC 2595): STLS, +OK.
    Pop3,
    /// FTP (RFC 4217): AUTH TLS, 234.
    Ftp,
    /// XMPP (RFC 6120): stream header, <starttls/>, <proceed/>.
    Xmpp,
    /// PostgreSQL: the SSLRequest packet, answered by 'S'.
    Postgres,
}

impl StartTls {
    pub fn name(self) -> &'static str {
        match self {
            StartTls::Smtp => "smtp",
            StartTls::Imap => "imap",
            StartTls::Pop3 => "pop3",
            StartTls::Ftp => "ftp",
            StartTls::Xmpp => "xmpp",
            StartTls::Postgres => "postgres",
        }
    }

    /// The protocol's usual port (the one STARTTLS is used on).
    pub fn default_port(self) -> u16 {
        match self {
            StartTls::Smtp => 587,
            StartTls::Imap => 143,
            StartTls::Pop3 => 110,
            StartTls::Ftp => 21,
            StartTls::Xmpp => 5222,
            StartTls::Postgres => 5432,
        }
    }
}

/// Why an exchange did not reach the upgrade.
pub type Failure = String;

/// A plain conversation on a connected socket, bounded by a deadline.
pub struct Conversation<'a, S: Transport = TcpStream> {
    socket: &'a mut SslSocket<S>,
    /// Our address, for SMTP's EHLO.
    local_ip: Option<IpAddr>,
    deadline: Instant,
    /// Set when the program is stopping: waits end early.
    stop: Option<Arc<AtomicBool>>,
    /// The lines and replies of the exchange, for the report.
    pub transcript: Vec<String>,
}

impl<'a> Conversation<'a> {
    pub fn new(socket: &'a mut SslSocket, timeout: Duration) -> Conversation<'a> {
        let local_ip = socket.local_address().map(|address| address.ip());
        Conversation::over(socket, timeout, local_ip)
    }
}

impl<'a, S: Transport> Conversation<'a, S> {
    /// A conversation over any transport; `local_ip` is what SMTP's EHLO
    /// names (`None`: `localhost`).
    pub fn over(
        socket: &'a mut SslSocket<S>,
        timeout: Duration,
        local_ip: Option<IpAddr>,
    ) -> Conversation<'a, S> {
        socket.set_write_timeout(Some(timeout));
        Conversation {
            socket,
            local_ip,
            deadline: Instant::now() + timeout,
            stop: None,
            transcript: Vec::new(),
        }
    }

    /// Ends waits early (as a timeout) once `stop` is set.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Conversation<'a, S> {
        self.stop = Some(stop);
        self
    }

    fn left(&self) -> Result<Duration, Failure> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "timed out waiting for the peer".to_owned())
    }

    /// Sends `text` at once.
    pub fn send(&mut self, text: &str) -> Result<(), Failure> {
        self.send_bytes(text.as_bytes())?;
        self.transcript.push(format!("> {}", text.trim_end()));
        Ok(())
    }

    fn send_bytes(&mut self, data: &[u8]) -> Result<(), Failure> {
        self.socket.write_data(data).map_err(|e| e.to_string())?;
        self.socket.flush().map_err(|e| e.to_string())
    }

    /// Waits for more data; `false` when the peer has closed.
    fn wait(&mut self) -> Result<bool, Failure> {
        loop {
            if self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                return Err("stopping".to_owned());
            }
            let left = self.left()?;
            let slice = if self.stop.is_some() {
                left.min(TICK)
            } else {
                left
            };
            match self.socket.wait_for_ready_read(Some(slice)) {
                Ok(()) => return Ok(true),
                Err(Error::RemoteHostClosed) => return Ok(false),
                Err(Error::Timeout { .. }) => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Reads and drops `count` bytes (a request body nobody needs).
    pub fn skip(&mut self, mut count: usize) -> Result<(), Failure> {
        let mut buf = [0u8; 4096];
        while count > 0 {
            let n = self.socket.read_available(&mut buf[..count.min(4096)]);
            if n == 0 && !self.wait()? {
                return Err("the peer closed the connection".to_owned());
            }
            count -= n;
        }
        Ok(())
    }

    /// The next line, without its line end.
    pub fn line(&mut self) -> Result<String, Failure> {
        loop {
            if self.socket.can_read_line() {
                let line = self.socket.read_line(MAX_LINE);
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
                self.transcript.push(format!("< {text}"));
                return Ok(text);
            }
            if self.socket.bytes_available() >= MAX_LINE {
                return Err(format!("the peer sent a line longer than {MAX_LINE} bytes"));
            }
            if !self.wait()? {
                let rest = self.socket.read_line(MAX_LINE);
                return Err(if rest.is_empty() {
                    "the peer closed the connection".to_owned()
                } else {
                    format!(
                        "the peer closed the connection after {:?}",
                        String::from_utf8_lossy(&rest)
                    )
                });
            }
        }
    }

    /// An SMTP or FTP reply: lines up to the one with "NNN " (a multi-line
    /// reply has "NNN-" on its first lines). Returns the code and the lines.
    pub fn reply(&mut self) -> Result<(String, Vec<String>), Failure> {
        let first = self.line()?;
        let code = first.get(..3).unwrap_or_default().to_owned();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected a numbered reply, got {first:?}"));
        }
        let mut lines = vec![first];
        while lines.last().is_some_and(|l| !is_last_line(l, &code)) {
            if lines.len() > MAX_COMMANDS * 4 {
                return Err("the reply does not end".to_owned());
            }
            lines.push(self.line()?);
        }
        Ok((code, lines))
    }

    /// Reads until `marker` has been received (XMPP has no lines); returns
    /// what was read. Stops early, with what was read, at `stop`.
    fn until(&mut self, marker: &str, stop: &str) -> Result<String, Failure> {
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        loop {
            loop {
                let n = self.socket.read_available(&mut buf);
                if n == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            if text.contains(marker) || text.contains(stop) {
                self.transcript.push(format!("< {}", text.trim()));
                return Ok(text);
            }
            if text.len() > MAX_LINE {
                return Err(format!("no {marker} in the first {MAX_LINE} bytes"));
            }
            if !self.wait()? {
                return Err(format!(
                    "the peer closed the connection after {:?}",
                    text.trim()
                ));
            }
        }
    }
}

fn is_last_line(line: &str, code: &str) -> bool {
    (line.len() >= 4 && line.starts_with(code) && line.as_bytes()[3] == b' ') || line == code
}

fn expect_code(
    what: &str,
    (code, lines): (String, Vec<String>),
    wanted: &str,
) -> Result<Vec<String>, Failure> {
    if code == wanted {
        Ok(lines)
    } else {
        Err(format!(
            "{what}: expected {wanted}, got {:?}",
            lines.last().map(String::as_str).unwrap_or_default()
        ))
    }
}

/// The client's part, up to the point where the TLS handshake starts.
/// `domain` is the name the server is reached by (for XMPP's `to`).
pub fn client<S: Transport>(
    protocol: StartTls,
    talk: &mut Conversation<'_, S>,
    domain: &str,
) -> Result<(), Failure> {
    match protocol {
        StartTls::Smtp => {
            expect_code("SMTP greeting", talk.reply()?, "220")?;
            let helo = match talk.local_ip {
                Some(IpAddr::V4(ip)) => format!("[{ip}]"),
                Some(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
                None => "localhost".to_owned(),
            };
            talk.send(&format!("EHLO {helo}\r\n"))?;
            let capabilities = expect_code("EHLO", talk.reply()?, "250")?;
            if !capabilities.iter().any(|l| {
                l.get(4..)
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("STARTTLS"))
            }) {
                return Err("the SMTP server does not offer STARTTLS".to_owned());
            }
            talk.send("STARTTLS\r\n")?;
            expect_code("STARTTLS", talk.reply()?, "220").map(drop)
        }
        StartTls::Imap => {
            let greeting = talk.line()?;
            if !(greeting.starts_with("* OK") || greeting.starts_with("* PREAUTH")) {
                return Err(format!("IMAP greeting: expected * OK, got {greeting:?}"));
            }
            talk.send("a STARTTLS\r\n")?;
            loop {
                let line = talk.line()?;
                if let Some(status) = line.strip_prefix("a ") {
                    return if status.to_ascii_uppercase().starts_with("OK") {
                        Ok(())
                    } else {
                        Err(format!("STARTTLS refused: {line:?}"))
                    };
                }
            }
        }
        StartTls::Pop3 => {
            let greeting = talk.line()?;
            if !greeting.starts_with("+OK") {
                return Err(format!("POP3 greeting: expected +OK, got {greeting:?}"));
            }
            talk.send("STLS\r\n")?;
            let answer = talk.line()?;
            if answer.starts_with("+OK") {
                Ok(())
            } else {
                Err(format!("STLS refused: {answer:?}"))
            }
        }
        StartTls::Ftp => {
            expect_code("FTP greeting", talk.reply()?, "220")?;
            talk.send("AUTH TLS\r\n")?;
            expect_code("AUTH TLS", talk.reply()?, "234").map(drop)
        }
        StartTls::Xmpp => {
            talk.send(&format!(
                "<?xml version='1.0'?><stream:stream to='{}' xmlns='jabber:client' \
                 xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
                xml_escape(domain)
            ))?;
            let features = talk.until("</stream:features>", "<stream:error")?;
            if features.contains("<stream:error") {
                return Err(format!(
                    "the XMPP server refused the stream: {}",
                    features.trim()
                ));
            }
            if !features.contains("urn:ietf:params:xml:ns:xmpp-tls") {
                return Err("the XMPP server does not offer STARTTLS".to_owned());
            }
            talk.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
            let answer = talk.until("<proceed", "<failure")?;
            if answer.contains("<proceed") {
                Ok(())
            } else {
                Err(format!("STARTTLS refused: {}", answer.trim()))
            }
        }
        StartTls::Postgres => {
            // Length 8, then the SSLRequest code 1234 5679.
            talk.send_bytes(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])?;
            talk.transcript.push("> SSLRequest".to_owned());
            let mut answer = [0u8; 1];
            while talk.socket.read_available(&mut answer) == 0 {
                if !talk.wait()? {
                    return Err("the PostgreSQL server closed the connection".to_owned());
                }
            }
            talk.transcript.push(format!("< {:?}", answer[0] as char));
            match answer[0] {
                b'S' => Ok(()),
                b'N' => Err("the PostgreSQL server does not accept TLS (answered N)".to_owned()),
                other => Err(format!(
                    "unexpected answer {:?} to the SSLRequest",
                    other as char
                )),
            }
        }
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('\'', "&apos;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The server's part (SMTP, IMAP and POP3), up to the point where the TLS
/// handshake starts: greeting, capabilities, the upgrade command. `Err`
/// when the client leaves or misbehaves first.
pub fn server<S: Transport>(
    protocol: StartTls,
    talk: &mut Conversation<'_, S>,
    name: &str,
) -> Result<(), Failure> {
    match protocol {
        StartTls::Smtp => {
            talk.send(&format!("220 {name} ESMTP sslsocket\r\n"))?;
            for _ in 0..MAX_COMMANDS {
                let line = talk.line()?;
                let (verb, argument) = split_command(&line);
                match verb.as_str() {
                    "EHLO" => talk.send(&format!(
                        "250-{name} greets {argument}\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
                    ))?,
                    "HELO" => talk.send(&format!("250 {name}\r\n"))?,
                    "STARTTLS" => return talk.send("220 2.0.0 Ready to start TLS\r\n"),
                    "NOOP" | "RSET" => talk.send("250 2.0.0 OK\r\n")?,
                    "QUIT" => {
                        talk.send("221 2.0.0 Bye\r\n")?;
                        return Err("the client quit before STARTTLS".to_owned());
                    }
                    _ => talk.send("530 5.7.0 Must issue a STARTTLS command first\r\n")?,
                }
            }
        }
        StartTls::Imap => {
            const CAPABILITIES: &str = "IMAP4rev1 STARTTLS LOGINDISABLED";
            talk.send(&format!(
                "* OK [CAPABILITY {CAPABILITIES}] {name} sslsocket ready\r\n"
            ))?;
            for _ in 0..MAX_COMMANDS {
                let line = talk.line()?;
                let (tag, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                let (command, _) = split_command(rest);
                match command.as_str() {
                    "CAPABILITY" => talk.send(&format!(
                        "* CAPABILITY {CAPABILITIES}\r\n{tag} OK CAPABILITY completed\r\n"
                    ))?,
                    "STARTTLS" => {
                        return talk.send(&format!("{tag} OK Begin TLS negotiation now\r\n"))
                    }
                    "NOOP" => talk.send(&format!("{tag} OK NOOP completed\r\n"))?,
                    "LOGOUT" => {
                        talk.send(&format!(
                            "* BYE logging out\r\n{tag} OK LOGOUT completed\r\n"
                        ))?;
                        return Err("the client logged out before STARTTLS".to_owned());
                    }
                    _ => talk.send(&format!("{tag} BAD STARTTLS first\r\n"))?,
                }
            }
        }
        StartTls::Pop3 => {
            talk.send(&format!("+OK {name} POP3 sslsocket ready\r\n"))?;
            for _ in 0..MAX_COMMANDS {
                let line = talk.line()?;
                let (command, _) = split_command(&line);
                match command.as_str() {
                    "CAPA" => talk.send("+OK capability list follows\r\nSTLS\r\n.\r\n")?,
                    "STLS" => return talk.send("+OK Begin TLS negotiation\r\n"),
                    "NOOP" => talk.send("+OK\r\n")?,
                    "QUIT" => {
                        talk.send("+OK bye\r\n")?;
                        return Err("the client quit before STLS".to_owned());
                    }
                    _ => talk.send("-ERR STLS first\r\n")?,
                }
            }
        }
        other => {
            return Err(format!(
                "serving {} STARTTLS is not implemented",
                other.name()
            ))
        }
    }
    Err(format!("no STARTTLS after {MAX_COMMANDS} commands"))
}

/// The command word in upper case, and the rest.
fn split_command(line: &str) -> (String, &str) {
    let line = line.trim();
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    (verb.to_ascii_uppercase(), rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_ends() {
        assert!(is_last_line("250 OK", "250"));
        assert!(!is_last_line("250-STARTTLS", "250"));
        assert!(is_last_line("220", "220"));
        assert!(!is_last_line(" continued", "220"));
    }

    #[test]
    fn commands() {
        assert_eq!(
            split_command("ehlo me.example"),
            ("EHLO".to_owned(), "me.example")
        );
        assert_eq!(split_command("STARTTLS"), ("STARTTLS".to_owned(), ""));
        assert_eq!(xml_escape("a'<b>&"), "a&apos;&lt;b&gt;&amp;");
    }
}
