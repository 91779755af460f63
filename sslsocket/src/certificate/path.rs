//! `SslCertificate::from_path`: loading every certificate a path pattern
//! names, with Qt's three pattern syntaxes.

use std::path::Path;

use regex::Regex;
use walkdir::WalkDir;

use super::{PatternSyntax, SslCertificate};
use crate::error::{Error, Result};
use crate::ssl::EncodingFormat;

/// Files larger than this are not certificate stores; skipping them keeps a
/// broad pattern from reading a disk image into memory.
const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

pub(crate) fn from_path(
    pattern: &str,
    format: EncodingFormat,
    syntax: PatternSyntax,
) -> Result<Vec<SslCertificate>> {
    let special = match syntax {
        PatternSyntax::FixedString => None,
        PatternSyntax::Wildcard => pattern.find(['*', '?', '[']),
        PatternSyntax::RegularExpression => pattern.find([
            '$', '(', ')', '*', '+', '.', '?', '[', ']', '^', '{', '}', '|', '\\',
        ]),
    };
    let Some(special) = special else {
        // Nothing to expand: the pattern names one file.
        return read_file(Path::new(pattern), format);
    };
    let matcher = match syntax {
        PatternSyntax::Wildcard => wildcard_to_regex(pattern),
        _ => pattern.to_owned(),
    };
    let matcher = Regex::new(&format!("^(?:{matcher})$")).map_err(|e| Error::InvalidPattern {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    })?;

    let (root, strip_dot) = walk_root(pattern, special);
    let mut certificates = Vec::new();
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        // Unreadable directories and symlink loops are skipped, as Qt does.
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_file());
    for entry in walker {
        let Some(path) = entry.path().to_str() else {
            continue;
        };
        // A relative pattern such as `*.pem` is matched against `a.pem`,
        // not the `./a.pem` the walk produces.
        let candidate = if strip_dot {
            path.strip_prefix("./").unwrap_or(path)
        } else {
            path
        };
        if !matcher.is_match(candidate) {
            continue;
        }
        if entry.metadata().map_or(true, |m| m.len() > MAX_FILE_SIZE) {
            continue;
        }
        // Qt skips files that hold no readable certificate; so do we.
        if let Ok(found) = read_file(entry.path(), format) {
            certificates.extend(found);
        }
    }
    Ok(certificates)
}

/// The deepest directory that the pattern fixes (the part before the last
/// `/` preceding the first special character), and whether it is the
/// implicit current directory. The matcher decides about everything below.
fn walk_root(pattern: &str, special: usize) -> (&str, bool) {
    let fixed = &pattern[..special];
    match fixed.rfind('/') {
        Some(0) => ("/", false),
        Some(slash) => (&fixed[..slash], false),
        None => (".", true),
    }
}

fn read_file(path: &Path, format: EncodingFormat) -> Result<Vec<SslCertificate>> {
    let data = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    SslCertificate::from_data(data, format)
}

/// Translates a wildcard into a regular expression: `*` is any run of
/// characters except `/`, `?` one character except `/`, `[...]` a class
/// (`[!...]` or `[^...]` negated). A `[` with no closing `]` is literal.
fn wildcard_to_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    out.push_str(&translate_class(&chars[i + 1..end]));
                    i = end;
                }
                None => out.push_str(r"\["),
            },
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
        i += 1;
    }
    out
}

/// Index of the `]` closing the class opened at `start`; a `]` right after
/// `[`, `[!` or `[^` is a member, not the end.
fn class_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if matches!(chars.get(i), Some('!' | '^')) {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    chars[i.min(chars.len())..]
        .iter()
        .position(|&c| c == ']')
        .map(|offset| i + offset)
}

fn translate_class(members: &[char]) -> String {
    let mut out = String::from("[");
    let mut rest = members;
    let mut negated = false;
    if let Some((&first, tail)) = rest.split_first() {
        if first == '!' || first == '^' {
            out.push('^');
            rest = tail;
            negated = true;
        }
    }
    for (i, &c) in rest.iter().enumerate() {
        let is_range = c == '-' && i > 0 && i + 1 < rest.len();
        if is_range {
            out.push('-');
        } else if c.is_ascii_punctuation() {
            // Escaping every punctuation mark keeps the regex engine's own
            // class syntax (`&&`, `--`, nested `[`) from applying.
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    // A class never matches the separator, like `*` and `?`.
    out.push_str(if negated { "/]" } else { "&&[^/]]" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        Regex::new(&format!("^(?:{})$", wildcard_to_regex(pattern)))
            .unwrap()
            .is_match(path)
    }

    #[test]
    fn wildcards_do_not_cross_directories() {
        assert!(matches("/certs/*.pem", "/certs/a.pem"));
        assert!(!matches("/certs/*.pem", "/certs/sub/a.pem"));
        assert!(matches("/certs/*/*.pem", "/certs/sub/a.pem"));
        assert!(matches("/certs/?.pem", "/certs/a.pem"));
        assert!(!matches("/certs/?.pem", "/certs/ab.pem"));
        assert!(!matches("/certs/?.pem", "/certs//.pem"));
        assert!(!matches("/certs/*.pem", "/certs/a.pemx"));
        assert!(!matches("/certs/a.pem", "/certs/aXpem"));
    }

    #[test]
    fn the_walk_starts_below_the_fixed_prefix() {
        fn root(pattern: &str) -> (&str, bool) {
            walk_root(pattern, pattern.find(['*', '?', '[']).unwrap())
        }
        assert_eq!(root("/etc/ssl/certs/*.pem"), ("/etc/ssl/certs", false));
        assert_eq!(root("/etc/ssl/ce*/x.pem"), ("/etc/ssl", false));
        assert_eq!(root("/*.pem"), ("/", false));
        assert_eq!(root("certs/*.pem"), ("certs", false));
        assert_eq!(root("*.pem"), (".", true));
        assert_eq!(root("a?/b.pem"), (".", true));
    }

    #[test]
    fn relative_patterns_walk_the_current_directory() {
        // The crate directory holds no PEM certificates at its top level;
        // what matters is that the walk happens and nothing fails.
        let found = from_path("*.toml", EncodingFormat::Pem, PatternSyntax::Wildcard).unwrap();
        assert!(found.is_empty());
    }

    #[test]
    fn classes() {
        assert!(matches("c[ab].pem", "ca.pem"));
        assert!(!matches("c[ab].pem", "cc.pem"));
        assert!(matches("c[!ab].pem", "cc.pem"));
        assert!(!matches("c[!ab].pem", "ca.pem"));
        assert!(matches("c[a-c].pem", "cb.pem"));
        assert!(matches("c[-a].pem", "c-.pem"));
        assert!(matches("c[]].pem", "c].pem"));
        assert!(matches("c[&&].pem", "c&.pem"));
        assert!(!matches("a[/]b", "a/b"));
        assert!(!matches("a[.-0]b", "a/b"));
        assert!(matches("a[.-0]b", "a0b"));
        assert!(!matches("a[!x]b", "a/b"));
        assert!(matches("c[.pem", "c[.pem"));
        assert!(matches("c[*].pem", "c*.pem"));
        assert!(!matches("c[*].pem", "cx.pem"));
    }
}
