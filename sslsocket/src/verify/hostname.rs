//! Peer names, and host-name matching with Qt's rules
//! (`QSslSocketPrivate::isMatchingHostname`), made a little stricter where
//! Qt is lax.
//!
//! webpki decides whether a leaf is valid for a name (see
//! `webpki_check::valid_for_name`). Qt's rules below accept more, and are
//! used only when the user switches on the dangerous opt-in
//! (`set_dangerous_qt_host_name_matching`), on top of webpki's answer.
//!
//! # The rules
//!
//! - **Peer names.** An IPv4 or IPv6 literal (`[::1]` in brackets too) is an
//!   address. Anything else is a DNS name: one trailing dot is dropped,
//!   Unicode (IDN) labels are converted to ASCII (punycode, UTS #46 as in
//!   URLs) and the result is lowercased. A name that is empty, has an empty
//!   label, contains characters other than letters, digits, `-` and `_` after
//!   that conversion (spaces, `*`, `%`...), or whose last label is all digits
//!   (it would look like an IPv4 address) is not a valid peer name and matches
//!   nothing. This applies with and without the opt-in.
//! - **Addresses** match only IP address subjectAltName entries, by address
//!   value (`::1` equals `0:0:0:0:0:0:0:1`; the IPv4-mapped `::ffff:1.2.3.4`
//!   does not equal `1.2.3.4`). Never a DNS entry, the CN, or a wildcard.
//!   (Qt also compares the address text with the CN and DNS entries.)
//! - **DNS names** are compared with every DNS subjectAltName entry, each
//!   normalised like a peer name (trailing dot, IDN, case). The subject CNs
//!   are used *only when the certificate has no DNS entry at all*; Qt always
//!   tries them.
//!   An entry that looks like an IP address never matches a DNS name.
//! - **Wildcards**: one `*`, as the whole first label (`*.example.com`) or at
//!   the end of it (`www*.example.com`); the text before it must be a prefix
//!   of the peer's first label, and the `*` may match nothing
//!   (`www*.example.com` matches `www.example.com`, as in Qt). The `*` stands
//!   for exactly one label (`*.example.com` matches neither `example.com` nor
//!   `a.b.example.com`); the pattern needs at least three labels (`*`,
//!   `*.com` and `*.co` never match); a first label starting with `xn--`
//!   never holds a wildcard; and, stricter than Qt (like OpenSSL), a partial
//!   wildcard such as `x*` never matches a punycode label (`xn--...`), since
//!   that would match part of an encoded name. A whole-label `*` does match
//!   a punycode label, as in Qt, webpki and browsers.
//!
//! webpki agrees on everything but three things it does not accept: the CN
//! fallback, partial-label wildcards, and entries with a trailing dot. Those
//! are exactly what the opt-in adds.

use std::net::{IpAddr, Ipv6Addr};

use rustls_pki_types::{DnsName, ServerName};

use crate::certificate::{ExtensionValue, SslCertificate, SubjectInfo};
use crate::ssl::AlternativeNameEntryType;

/// A name a peer was reached by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeerName {
    /// A DNS name in lowercase ASCII (punycode), without a trailing dot.
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
}

impl PeerName {
    /// Parses a host name or address; `None` if it is neither (see the
    /// module documentation for what a valid name is).
    pub(crate) fn parse(name: &str) -> Option<PeerName> {
        if let Some(ip) = parse_ip(name) {
            return Some(PeerName::Ip(ip));
        }
        normalize_dns(name).map(PeerName::Dns)
    }

    /// The name to send in the TLS server_name extension: the DNS name
    /// (ASCII, no trailing dot), or `None` for an address (SNI never carries
    /// one) and for a name rustls cannot send (e.g. a label longer than 63
    /// characters).
    pub(crate) fn sni_name(&self) -> Option<ServerName<'static>> {
        match self {
            PeerName::Dns(name) => DnsName::try_from(name.clone())
                .ok()
                .map(ServerName::DnsName),
            PeerName::Ip(_) => None,
        }
    }

    /// The name rustls connects by: the SNI name, or the address (for which
    /// rustls sends no SNI).
    pub(crate) fn server_name(&self) -> Option<ServerName<'static>> {
        match self {
            PeerName::Ip(ip) => Some(ServerName::IpAddress((*ip).into())),
            PeerName::Dns(_) => self.sni_name(),
        }
    }
}

impl std::fmt::Display for PeerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerName::Dns(name) => f.write_str(name),
            PeerName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Whether `certificate` is valid for `name` by Qt's rules (only used when
/// the dangerous opt-in asks for them). The subject CN is looked at only
/// when the certificate has no DNS subjectAltName (and no subjectAltName
/// extension we cannot decode) and `allow_common_name` says so.
pub(crate) fn qt_rules_match(
    certificate: &SslCertificate,
    name: &PeerName,
    allow_common_name: impl FnOnce() -> bool,
) -> bool {
    let names = certificate.subject_alternative_names();
    match name {
        PeerName::Ip(ip) => names
            .iter()
            .filter(|(kind, _)| *kind == AlternativeNameEntryType::IpAddressEntry)
            .any(|(_, value)| value.parse::<IpAddr>().is_ok_and(|value| value == *ip)),
        PeerName::Dns(host) => {
            // `PeerName::Dns` is documented as normalised; be forgiving anyway.
            let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
            let dns: Vec<&str> = names
                .iter()
                .filter(|(kind, _)| *kind == AlternativeNameEntryType::DnsEntry)
                .map(|(_, value)| value.as_str())
                .collect();
            if !dns.is_empty() {
                // DNS names in a certificate are ASCII by definition; only
                // the peer name and the CN get IDN mapping.
                return dns
                    .iter()
                    .any(|san| san.is_ascii() && pattern_matches(san, &host));
            }
            // A subjectAltName extension we cannot decode may hide DNS names.
            let undecodable_san = certificate.extensions().iter().any(|e| {
                e.oid() == SUBJECT_ALT_NAME
                    && !matches!(e.value(), ExtensionValue::SubjectAltName(_))
            });
            !undecodable_san
                && allow_common_name()
                && certificate
                    .subject_info(SubjectInfo::CommonName)
                    .iter()
                    .any(|cn| pattern_matches(cn, &host))
        }
    }
}

/// The subjectAltName extension (RFC 5280, 4.2.1.6).
const SUBJECT_ALT_NAME: &str = "2.5.29.17";

/// Whether the certificate name `pattern` (a DNS subjectAltName entry or a
/// CN, possibly with a wildcard) matches the normalised DNS name `host`.
pub(crate) fn pattern_matches(pattern: &str, host: &str) -> bool {
    Pattern::parse(pattern).is_some_and(|pattern| pattern.matches(host))
}

/// An address literal: what `IpAddr` parses, or an IPv6 address in brackets.
fn parse_ip(name: &str) -> Option<IpAddr> {
    if let Ok(ip) = name.parse() {
        return Some(ip);
    }
    let inner = name.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A DNS name as compared: one trailing dot dropped, then [`ace`].
fn normalize_dns(name: &str) -> Option<String> {
    ace(name.strip_suffix('.').unwrap_or(name))
}

/// `name` in lowercase ASCII (IDN labels in punycode), if it is a valid host
/// name: non-empty labels of letters, digits, `-` and `_`, the last one not
/// all digits.
fn ace(name: &str) -> Option<String> {
    // The URL flavour of UTS #46 lets some ASCII punctuation through; the
    // label check below rejects it. Spaces are refused before the mapping.
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return None;
    }
    let ascii = idna::domain_to_ascii(name).ok()?;
    let mut labels = ascii.split('.').peekable();
    while let Some(label) = labels.next() {
        if label.is_empty()
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        if labels.peek().is_none() && label.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some(ascii.to_ascii_lowercase())
}

/// A certificate name, ready for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// A name without wildcard, normalised like a peer name.
    Exact(String),
    /// `prefix*.rest`: `prefix` in lowercase ASCII (possibly empty), `rest`
    /// normalised, with at least two labels.
    Wildcard { prefix: String, rest: String },
}

impl Pattern {
    /// `None` for names that can match nothing: malformed, IP-looking, or a
    /// wildcard in a place where it is not allowed.
    fn parse(raw: &str) -> Option<Pattern> {
        let raw = raw.strip_suffix('.').unwrap_or(raw);
        if !raw.contains('*') {
            return ace(raw).map(Pattern::Exact);
        }
        let (first, rest) = raw.split_once('.')?;
        // Exactly one `*`, the last character of the first label.
        let prefix = first.strip_suffix('*')?;
        if prefix.contains('*') || rest.contains('*') {
            return None;
        }
        // The prefix is compared as ASCII text: a wildcard inside a U-label
        // or an A-label (RFC 6125 section 7.2) is refused.
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let prefix = prefix.to_ascii_lowercase();
        if prefix.starts_with("xn--") {
            return None;
        }
        // At least three labels: `*.com` and `*.co` never match.
        let rest = ace(rest)?;
        if !rest.contains('.') {
            return None;
        }
        Some(Pattern::Wildcard { prefix, rest })
    }

    /// Whether this pattern matches `host` (normalised).
    fn matches(&self, host: &str) -> bool {
        match self {
            Pattern::Exact(name) => name == host,
            Pattern::Wildcard { prefix, rest } => {
                let Some((label, host_rest)) = host.split_once('.') else {
                    return false;
                };
                if host_rest != rest || label.is_empty() || !label.starts_with(prefix.as_str()) {
                    return false;
                }
                // A partial wildcard (`x*`) never matches a punycode label.
                prefix.is_empty() || !label.starts_with("xn--")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns(name: &str) -> PeerName {
        PeerName::Dns(name.to_owned())
    }

    fn ip(text: &str) -> PeerName {
        PeerName::Ip(text.parse().unwrap())
    }

    #[test]
    fn parses_addresses() {
        assert_eq!(PeerName::parse("127.0.0.1"), Some(ip("127.0.0.1")));
        assert_eq!(PeerName::parse("::1"), Some(ip("::1")));
        assert_eq!(PeerName::parse("[::1]"), Some(ip("::1")));
        assert_eq!(PeerName::parse("[2001:DB8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(
            PeerName::parse("::ffff:1.2.3.4"),
            Some(ip("::ffff:1.2.3.4"))
        );
        assert_ne!(PeerName::parse("::ffff:1.2.3.4"), Some(ip("1.2.3.4")));
        // Only IPv6 goes in brackets.
        assert_eq!(PeerName::parse("[127.0.0.1]"), None);
        assert_eq!(PeerName::parse("[::1"), None);
    }

    #[test]
    fn parses_dns_names() {
        assert_eq!(PeerName::parse("Example.COM"), Some(dns("example.com")));
        assert_eq!(PeerName::parse("example.com."), Some(dns("example.com")));
        assert_eq!(PeerName::parse("localhost"), Some(dns("localhost")));
        assert_eq!(
            PeerName::parse("my_host.example"),
            Some(dns("my_host.example"))
        );
        assert_eq!(
            PeerName::parse("bücher.example"),
            Some(dns("xn--bcher-kva.example"))
        );
        assert_eq!(
            PeerName::parse("BÜCHER.example."),
            Some(dns("xn--bcher-kva.example"))
        );
        assert_eq!(
            PeerName::parse("XN--BCHER-KVA.example"),
            Some(dns("xn--bcher-kva.example"))
        );
        assert_eq!(
            PeerName::parse("münchen.de"),
            Some(dns("xn--mnchen-3ya.de"))
        );
    }

    #[test]
    fn rejects_invalid_names() {
        for name in [
            "",
            ".",
            "example.com..",
            "a..b",
            ".example.com",
            "exa mple.com",
            " example.com",
            "example.com ",
            "*.example.com",
            "ex*ample.com",
            "fe80::1%eth0",
            "example.com:443",
            "a/b",
            "user@example.com",
            "xn--zz.example", // not valid punycode
            "1.2.3.4.",       // an IPv4 address with a dot is not a DNS name
            "example.123",
            "[example.com]",
        ] {
            assert_eq!(PeerName::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn sni_name_is_the_dns_name_only() {
        let sni = PeerName::parse("Bücher.Example.")
            .unwrap()
            .sni_name()
            .unwrap();
        assert_eq!(sni, ServerName::try_from("xn--bcher-kva.example").unwrap());
        assert_eq!(
            PeerName::parse("www.example.com.").unwrap().sni_name(),
            Some(ServerName::try_from("www.example.com").unwrap())
        );
        assert_eq!(PeerName::parse("127.0.0.1").unwrap().sni_name(), None);
        assert_eq!(PeerName::parse("[::1]").unwrap().sni_name(), None);
        // Valid for matching, too long a label for the wire.
        let long = format!("{}.example", "a".repeat(64));
        assert_eq!(PeerName::parse(&long).unwrap().sni_name(), None);
    }

    #[test]
    fn exact_patterns() {
        assert!(pattern_matches("example.com", "example.com"));
        assert!(pattern_matches("EXAMPLE.com", "example.com"));
        assert!(pattern_matches("example.com.", "example.com"));
        assert!(pattern_matches(
            "xn--bcher-kva.example",
            "xn--bcher-kva.example"
        ));
        assert!(pattern_matches("bücher.example", "xn--bcher-kva.example"));
        assert!(!pattern_matches("example.com", "www.example.com"));
        assert!(!pattern_matches("www.example.com", "example.com"));
        assert!(!pattern_matches("example.com..", "example.com"));
        assert!(!pattern_matches("", "example.com"));
    }

    #[test]
    fn ip_looking_patterns_never_match_dns_names() {
        assert!(!pattern_matches("127.0.0.1", "127.0.0.1"));
        assert!(!pattern_matches("::1", "::1"));
        assert!(!pattern_matches("*.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn whole_label_wildcards() {
        assert!(pattern_matches("*.example.com", "www.example.com"));
        assert!(pattern_matches("*.EXAMPLE.com.", "www.example.com"));
        assert!(pattern_matches("*.example.co.uk", "a.example.co.uk"));
        assert!(pattern_matches("*.co.uk", "example.co.uk"));
        // Exactly one label.
        assert!(!pattern_matches("*.example.com", "example.com"));
        assert!(!pattern_matches("*.example.com", "a.b.example.com"));
        assert!(!pattern_matches("*.example.com", ".example.com"));
        assert!(!pattern_matches("*.example.com", "www.example.org"));
        // A whole-label wildcard matches a punycode label.
        assert!(pattern_matches(
            "*.example.com",
            "xn--bcher-kva.example.com"
        ));
        // IDN after the wildcard label.
        assert!(pattern_matches(
            "*.bücher.example",
            "www.xn--bcher-kva.example"
        ));
        assert!(pattern_matches(
            "*.xn--bcher-kva.example",
            "www.xn--bcher-kva.example"
        ));
    }

    #[test]
    fn too_short_wildcards() {
        assert!(!pattern_matches("*", "localhost"));
        assert!(!pattern_matches("*.", "localhost"));
        assert!(!pattern_matches("*.com", "example.com"));
        assert!(!pattern_matches("*.co", "example.co"));
        assert!(!pattern_matches("*.com.", "example.com"));
        assert!(!pattern_matches("www*.com", "www1.com"));
    }

    #[test]
    fn partial_label_wildcards() {
        assert!(pattern_matches("www*.example.com", "www1.example.com"));
        assert!(pattern_matches("WWW*.example.com", "wwwfoo.example.com"));
        // The `*` may match nothing, as in Qt.
        assert!(pattern_matches("www*.example.com", "www.example.com"));
        assert!(!pattern_matches("www*.example.com", "ww.example.com"));
        assert!(!pattern_matches("www*.example.com", "w1ww.example.com"));
        assert!(!pattern_matches("www*.example.com", "www1.a.example.com"));
        // Only at the end of the first label.
        assert!(!pattern_matches("*www.example.com", "1www.example.com"));
        assert!(!pattern_matches("w*w.example.com", "www.example.com"));
        assert!(!pattern_matches("www.*.example.com", "www.a.example.com"));
        assert!(!pattern_matches("www.example.*", "www.example.com"));
        // One `*` only.
        assert!(!pattern_matches("**.example.com", "www.example.com"));
        assert!(!pattern_matches("*.*.example.com", "a.b.example.com"));
        assert!(!pattern_matches("w*.*.example.com", "w.b.example.com"));
    }

    #[test]
    fn wildcards_and_punycode() {
        // Never a wildcard in an A-label...
        assert!(!pattern_matches(
            "xn--*.example.com",
            "xn--bcher-kva.example.com"
        ));
        assert!(!pattern_matches(
            "XN--bcher*.example.com",
            "xn--bcher-kva.example.com"
        ));
        // ...nor in a U-label...
        assert!(!pattern_matches(
            "bü*.example.com",
            "xn--bcher-kva.example.com"
        ));
        assert!(!pattern_matches("bü*.example.com", "bü.example.com"));
        // ...and a partial wildcard never matches part of an A-label.
        assert!(!pattern_matches(
            "x*.example.com",
            "xn--bcher-kva.example.com"
        ));
        assert!(!pattern_matches(
            "xn*.example.com",
            "xn--bcher-kva.example.com"
        ));
        assert!(pattern_matches("x*.example.com", "xyz.example.com"));
    }

    #[test]
    fn display() {
        assert_eq!(
            PeerName::parse("Example.com.").unwrap().to_string(),
            "example.com"
        );
        assert_eq!(PeerName::parse("[::1]").unwrap().to_string(), "::1");
    }

    /// Certificates for the matcher tests, made with rcgen.
    mod certs {
        use rcgen::{CertificateParams, DnType, KeyPair, SanType};

        use crate::certificate::SslCertificate;

        pub(super) struct Spec<'a> {
            pub(super) cn: &'a [&'a str],
            pub(super) dns: &'a [&'a str],
            pub(super) ips: &'a [&'a str],
        }

        pub(super) fn make(spec: &Spec<'_>) -> SslCertificate {
            let mut params = CertificateParams::default();
            for cn in spec.cn {
                params.distinguished_name.push(DnType::CommonName, *cn);
            }
            params.subject_alt_names = spec
                .dns
                .iter()
                .map(|d| SanType::DnsName((*d).try_into().unwrap()))
                .chain(
                    spec.ips
                        .iter()
                        .map(|i| SanType::IpAddress(i.parse().unwrap())),
                )
                .collect();
            let key = KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            SslCertificate::from_der(cert.der()).unwrap()
        }
    }

    use certs::{make, Spec};

    fn check(cert: &SslCertificate, name: &str) -> bool {
        PeerName::parse(name).is_some_and(|name| qt_rules_match(cert, &name, || true))
    }

    #[test]
    fn ip_names_match_ip_entries_only() {
        let cert = make(&Spec {
            cn: &["127.0.0.1"],
            dns: &["127.0.0.2", "example.com"],
            ips: &["127.0.0.3", "::1", "2001:db8::ff00:42:8329"],
        });
        assert!(check(&cert, "127.0.0.3"));
        assert!(check(&cert, "::1"));
        assert!(check(&cert, "[::1]"));
        assert!(check(&cert, "0:0:0:0:0:0:0:1"));
        assert!(check(&cert, "2001:0DB8:0000:0000:0000:FF00:0042:8329"));
        assert!(!check(&cert, "127.0.0.1"), "never the CN");
        assert!(!check(&cert, "127.0.0.2"), "never a DNS entry");
        assert!(
            !check(&cert, "::ffff:127.0.0.3"),
            "IPv4-mapped is another address"
        );
        assert!(!check(&cert, "127.0.0.4"));
        assert!(check(&cert, "example.com"));

        let mapped = make(&Spec {
            cn: &[],
            dns: &[],
            ips: &["::ffff:10.0.0.1"],
        });
        assert!(check(&mapped, "::ffff:10.0.0.1"));
        assert!(!check(&mapped, "10.0.0.1"));
    }

    #[test]
    fn ip_names_never_match_wildcards() {
        let cert = make(&Spec {
            cn: &["*.0.0.1"],
            dns: &["*.0.0.1", "*.1.168.192"],
            ips: &[],
        });
        assert!(!check(&cert, "127.0.0.1"));
        assert!(!check(&cert, "192.168.1.1"));
    }

    #[test]
    fn cn_only_when_there_is_no_dns_entry() {
        let cn_only = make(&Spec {
            cn: &["cn.example"],
            dns: &[],
            ips: &[],
        });
        assert!(check(&cn_only, "cn.example"));
        assert!(check(&cn_only, "CN.Example."));
        assert!(!check(&cn_only, "other.example"));

        let both = make(&Spec {
            cn: &["cn.example"],
            dns: &["san.example"],
            ips: &[],
        });
        assert!(check(&both, "san.example"));
        assert!(
            !check(&both, "cn.example"),
            "the CN is ignored when a DNS entry exists"
        );

        // IP entries do not suppress the CN.
        let cn_and_ip = make(&Spec {
            cn: &["cn.example"],
            dns: &[],
            ips: &["10.0.0.1"],
        });
        assert!(check(&cn_and_ip, "cn.example"));
        assert!(check(&cn_and_ip, "10.0.0.1"));

        // Wildcards count in the CN too.
        let wild = make(&Spec {
            cn: &["*.wild.example"],
            dns: &[],
            ips: &[],
        });
        assert!(check(&wild, "www.wild.example"));
        assert!(!check(&wild, "wild.example"));

        let unicode_cn = make(&Spec {
            cn: &["bücher.example"],
            dns: &[],
            ips: &[],
        });
        assert!(check(&unicode_cn, "xn--bcher-kva.example"));
        assert!(check(&unicode_cn, "Bücher.example"));
    }

    #[test]
    fn dns_entries_with_trailing_dots_and_case() {
        let cert = make(&Spec {
            cn: &[],
            dns: &["Dotted.Example.", "*.Wild.Example."],
            ips: &[],
        });
        assert!(check(&cert, "dotted.example"));
        assert!(check(&cert, "dotted.example."));
        assert!(check(&cert, "a.wild.example."));
        assert!(!check(&cert, "wild.example"));
    }

    #[test]
    fn invalid_peer_names_match_nothing() {
        let cert = make(&Spec {
            cn: &["localhost"],
            dns: &[],
            ips: &[],
        });
        assert!(check(&cert, "localhost"));
        assert!(!check(&cert, "local host"));
        assert!(!check(&cert, ""));
        assert!(!check(&cert, "*"));
    }

    /// Where webpki accepts a name, so do we; where we accept and webpki does
    /// not, the reason is one of the documented differences.
    #[test]
    fn agrees_with_webpki() {
        use rustls_pki_types::CertificateDer;

        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Expect {
            /// Both accept or both reject.
            Same,
            /// Only we accept: the CN fallback.
            CnFallback,
            /// Only we accept: a partial-label wildcard.
            PartialWildcard,
            /// Only we accept: a DNS entry with a trailing dot.
            TrailingDotEntry,
        }
        use Expect::*;

        /// CN, DNS entries, IP entries, peer name, expectation.
        type Case = (
            &'static [&'static str],
            &'static [&'static str],
            &'static [&'static str],
            &'static str,
            Expect,
        );

        let none: &[&str] = &[];
        #[rustfmt::skip]
        let cases: &[Case] = &[
            (none, &["example.com"], none, "example.com", Same),
            (none, &["example.com"], none, "EXAMPLE.com.", Same),
            (none, &["example.com"], none, "www.example.com", Same),
            (none, &["a.example", "b.example"], none, "b.example", Same),
            (none, &["*.example.com"], none, "www.example.com", Same),
            (none, &["*.example.com"], none, "example.com", Same),
            (none, &["*.example.com"], none, "a.b.example.com", Same),
            (none, &["*.example.com"], none, "xn--bcher-kva.example.com", Same),
            (none, &["*.com"], none, "example.com", Same),
            (none, &["*.co.uk"], none, "example.co.uk", Same),
            (none, &["xn--*.example.com"], none, "xn--bcher-kva.example.com", Same),
            (none, &["x*.example.com"], none, "xn--bcher-kva.example.com", Same),
            (none, &["www*.example.com"], none, "www1.example.com", PartialWildcard),
            (none, &["www*.example.com"], none, "www.example.com", PartialWildcard),
            (none, &["www*.example.com"], none, "ww1.example.com", Same),
            (none, &["xn--bcher-kva.example"], none, "bücher.example", Same),
            (none, &["under_score.example"], none, "under_score.example", Same),
            (none, &["example.com."], none, "example.com", TrailingDotEntry),
            (&["cn.example"], none, none, "cn.example", CnFallback),
            (&["cn.example"], &["san.example"], none, "cn.example", Same),
            (&["cn.example"], none, &["10.0.0.1"], "cn.example", CnFallback),
            (&["*.cn.example"], none, none, "www.cn.example", CnFallback),
            (none, none, &["127.0.0.1"], "127.0.0.1", Same),
            (none, none, &["127.0.0.1"], "127.0.0.2", Same),
            (none, &["127.0.0.1"], none, "127.0.0.1", Same),
            (&["127.0.0.1"], none, none, "127.0.0.1", Same),
            (none, none, &["::1"], "::1", Same),
            (none, none, &["::1"], "0:0:0:0:0:0:0:1", Same),
            (none, none, &["::ffff:127.0.0.1"], "127.0.0.1", Same),
            (none, none, &["127.0.0.1"], "::ffff:127.0.0.1", Same),
            (none, &["localhost"], &["::1"], "localhost", Same),
        ];

        for (cn, dns, ips, name, expect) in cases.iter().copied() {
            let cert = make(&Spec { cn, dns, ips });
            let peer = PeerName::parse(name).unwrap_or_else(|| panic!("{name:?} parses"));
            let ours = qt_rules_match(&cert, &peer, || true);

            let reference = match &peer {
                PeerName::Dns(_) => peer.sni_name().unwrap(),
                PeerName::Ip(ip) => ServerName::IpAddress((*ip).into()),
            };
            let der = CertificateDer::from(cert.to_der().to_vec());
            let end_entity = webpki::EndEntityCert::try_from(&der).unwrap();
            let theirs = end_entity
                .verify_is_valid_for_subject_name(&reference)
                .is_ok();

            let case = format!("CN {cn:?}, DNS {dns:?}, IP {ips:?}, name {name:?}");
            if theirs {
                assert!(ours, "webpki accepts, we reject: {case}");
            }
            match expect {
                Same => assert_eq!(ours, theirs, "{case}"),
                CnFallback | PartialWildcard | TrailingDotEntry => {
                    assert!(
                        ours && !theirs,
                        "expected a documented difference ({expect:?}): {case}"
                    )
                }
            }
        }
    }
}
