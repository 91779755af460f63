//! Path building: from the leaf up to a trusted root, the way OpenSSL builds
//! the chain it then checks.
//!
//! At each step the issuer of the current certificate is looked for first
//! among the trusted roots, then among the certificates the peer presented
//! (in any order). A candidate issuer has the issuer name of the current
//! certificate as its subject name (exact DER comparison, as webpki does) and
//! its key must verify the current certificate's signature; candidates whose
//! subject key identifier matches the authority key identifier are tried
//! first. Only when no candidate verifies is a name match whose signature
//! fails taken (if its key identifier does not contradict the authority key
//! identifier), so that the problem is reported as a signature failure
//! rather than a missing issuer, as OpenSSL does.
//!
//! A path ends at a trusted root, at a self-signed certificate that is not
//! trusted, or where no issuer can be found. When several presented
//! certificates could continue a path, each is explored (within a budget),
//! and the caller keeps the path with the fewest problems: webpki accepts a
//! chain if *any* path works, so the diagnosis must not pick a worse one.

use std::collections::HashMap;

use crate::certificate::SslCertificate;

/// Longest path explored, leaf and root included. webpki accepts at most six
/// intermediates, so anything longer is hopeless anyway.
pub(super) const MAX_PATH_LEN: usize = 32;

/// How many complete paths are collected before the search stops branching.
const MAX_PATHS: usize = 16;

/// How many steps the search takes before it stops branching; after that it
/// follows the first candidate only, so the work stays linear.
const MAX_STEPS: usize = 64;

/// Signature checks the search may make in all. A peer controls the chain:
/// without a bound, many certificates naming the same issuer would cost a
/// signature check each, per level (webpki bounds its own search alike).
const MAX_SIGNATURE_CHECKS: usize = 100;

/// Presented certificates considered besides the leaf; real chains have a
/// handful, and the rest can only be padding.
const MAX_PRESENTED: usize = 31;

/// Where a certificate of a path comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    /// `chain[i]`; the leaf is `Presented(0)`.
    Presented(usize),
    /// `roots[i]`.
    Root(usize),
}

/// How a path ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// At a trusted root, the last certificate of the path. (A self-signed
    /// leaf that is itself trusted gives a path of two: the leaf, then the
    /// root it matches, as webpki counts it.)
    Trusted,
    /// At a self-signed certificate that is not trusted.
    SelfSigned,
    /// At a certificate whose issuer is neither trusted nor presented.
    NoIssuer,
    /// Path building gave up after [`MAX_PATH_LEN`] certificates.
    TooLong,
}

impl End {
    /// Preference between paths with as many problems: trusted first.
    pub(super) fn rank(self) -> u8 {
        match self {
            End::Trusted => 0,
            End::SelfSigned => 1,
            End::NoIssuer => 2,
            End::TooLong => 3,
        }
    }
}

/// One candidate path, leaf first.
#[derive(Debug, Clone)]
pub(super) struct Path<'a> {
    /// The certificates, leaf first; the last one is the trusted root when
    /// `end` is [`End::Trusted`].
    pub(super) certs: Vec<&'a SslCertificate>,
    /// `signed[i]`: whether the signature of `certs[i]` verifies with the key
    /// of `certs[i + 1]` (one entry fewer than `certs`).
    pub(super) signed: Vec<bool>,
    /// Whether the last certificate's own signature verifies, for a path
    /// ending at a self-issued certificate ([`End::SelfSigned`]); `true`
    /// otherwise.
    pub(super) top_signed: bool,
    /// How the path ends.
    pub(super) end: End,
}

/// Every path worth considering for `chain` (not empty) against `roots`, in
/// the order found (trusted roots first, then presented certificates in
/// chain order).
pub(super) fn build<'a>(chain: &'a [SslCertificate], roots: &'a [SslCertificate]) -> Vec<Path<'a>> {
    let mut builder = Builder {
        chain,
        roots,
        roots_by_subject: index_by_subject(roots.iter().enumerate()),
        presented_by_subject: index_by_subject(
            chain.iter().enumerate().skip(1).take(MAX_PRESENTED),
        ),
        signatures: HashMap::new(),
        signature_budget: MAX_SIGNATURE_CHECKS,
        steps: 0,
        paths: Vec::new(),
    };
    if chain.is_empty() {
        return Vec::new();
    }
    let mut nodes = vec![Node::Presented(0)];
    let mut signed = Vec::new();
    builder.extend(&mut nodes, &mut signed);
    builder.paths
}

fn index_by_subject<'a>(
    certificates: impl Iterator<Item = (usize, &'a SslCertificate)>,
) -> HashMap<&'a [u8], Vec<usize>> {
    let mut index: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, certificate) in certificates {
        index
            .entry(certificate.subject_name_der())
            .or_default()
            .push(i);
    }
    index
}

struct Builder<'a> {
    chain: &'a [SslCertificate],
    roots: &'a [SslCertificate],
    roots_by_subject: HashMap<&'a [u8], Vec<usize>>,
    presented_by_subject: HashMap<&'a [u8], Vec<usize>>,
    /// Signature checks already made: (certificate, candidate issuer).
    signatures: HashMap<(Node, Node), bool>,
    signature_budget: usize,
    steps: usize,
    paths: Vec<Path<'a>>,
}

impl<'a> Builder<'a> {
    fn cert(&self, node: Node) -> &'a SslCertificate {
        match node {
            Node::Presented(i) => &self.chain[i],
            Node::Root(i) => &self.roots[i],
        }
    }

    /// Whether the key of `issuer` verifies the signature of `subject`;
    /// false once the signature budget is spent.
    fn signed_by(&mut self, subject: Node, issuer: Node) -> bool {
        if let Some(&known) = self.signatures.get(&(subject, issuer)) {
            return known;
        }
        if self.signature_budget == 0 {
            return false;
        }
        self.signature_budget -= 1;
        let verified = self.cert(subject).is_signed_by(self.cert(issuer));
        self.signatures.insert((subject, issuer), verified);
        verified
    }

    fn is_self_signed(&mut self, node: Node) -> bool {
        let cert = self.cert(node);
        cert.subject_name_der() == cert.issuer_name_der() && self.signed_by(node, node)
    }

    /// Whether the search may still branch.
    fn may_branch(&self) -> bool {
        self.steps < MAX_STEPS && self.paths.len() < MAX_PATHS
    }

    /// The candidate issuers of `subject` among the trusted roots
    /// (`trusted`) or the presented certificates, by index, those whose key
    /// identifier matches the authority key identifier first; with each,
    /// whether its key identifier is compatible (not contradicting).
    fn candidates(&self, subject: &SslCertificate, trusted: bool) -> Vec<(usize, bool)> {
        let (index, certificates) = if trusted {
            (&self.roots_by_subject, self.roots)
        } else {
            (&self.presented_by_subject, self.chain)
        };
        let Some(found) = index.get(subject.issuer_name_der()) else {
            return Vec::new();
        };
        let wanted = subject.authority_key_identifier();
        let mut candidates: Vec<(usize, u8, bool)> = found
            .iter()
            .map(|&i| {
                let issuer = &certificates[i];
                let (rank, compatible) = match (&wanted, issuer.subject_key_identifier()) {
                    (Some(aki), Some(ski)) if *aki == ski => (0, true),
                    (Some(_), Some(_)) => (2, false),
                    _ => (1, true),
                };
                (i, rank, compatible)
            })
            .collect();
        candidates.sort_by_key(|&(i, rank, _)| (rank, i));
        candidates
            .into_iter()
            .map(|(i, _, compatible)| (i, compatible))
            .collect()
    }

    fn finish(&mut self, nodes: &[Node], signed: &[bool], end: End) {
        self.finish_with(nodes, signed, end, true);
    }

    fn finish_with(&mut self, nodes: &[Node], signed: &[bool], end: End, top_signed: bool) {
        let certs = nodes.iter().map(|&node| self.cert(node)).collect();
        self.paths.push(Path {
            certs,
            signed: signed.to_vec(),
            top_signed,
            end,
        });
    }

    /// Extends the path `nodes` (with the signature results `signed`) by
    /// every issuer of its last certificate, recording complete paths.
    fn extend(&mut self, nodes: &mut Vec<Node>, signed: &mut Vec<bool>) {
        self.steps += 1;
        let Some(&head) = nodes.last() else { return };
        if nodes.len() >= MAX_PATH_LEN {
            self.finish(nodes, signed, End::TooLong);
            return;
        }
        let head_cert = self.cert(head);

        // 1. A trusted root that signed it ends the path.
        let roots = self.candidates(head_cert, true);
        let mut trusted = false;
        for &(root, _) in &roots {
            if self.signed_by(head, Node::Root(root)) {
                if trusted && !self.may_branch() {
                    break;
                }
                trusted = true;
                nodes.push(Node::Root(root));
                signed.push(true);
                self.finish(nodes, signed, End::Trusted);
                nodes.pop();
                signed.pop();
            }
        }
        if trusted {
            return;
        }

        // 2. An untrusted self-signed certificate ends it too.
        if self.is_self_signed(head) {
            self.finish(nodes, signed, End::SelfSigned);
            return;
        }

        // 3. Presented certificates that signed it continue it.
        let used: Vec<(&[u8], &[u8])> = nodes
            .iter()
            .map(|&node| {
                let cert = self.cert(node);
                (cert.subject_name_der(), cert.subject_public_key_info_der())
            })
            .collect();
        let presented: Vec<(usize, bool)> = self
            .candidates(head_cert, false)
            .into_iter()
            .filter(|&(i, _)| {
                let cert = &self.chain[i];
                !nodes.contains(&Node::Presented(i))
                    && !used
                        .contains(&(cert.subject_name_der(), cert.subject_public_key_info_der()))
            })
            .collect();
        let mut continued = false;
        for &(issuer, _) in &presented {
            if self.signed_by(head, Node::Presented(issuer)) {
                if continued && !self.may_branch() {
                    break;
                }
                continued = true;
                nodes.push(Node::Presented(issuer));
                signed.push(true);
                self.extend(nodes, signed);
                nodes.pop();
                signed.pop();
            }
        }
        if continued {
            return;
        }

        // 4. Otherwise a name match whose signature fails, trusted first:
        //    the path goes on, and the signature is what gets reported.
        let root = roots
            .iter()
            .find(|&&(_, compatible)| compatible)
            .map(|&(i, _)| Node::Root(i));
        let fallback = root.or_else(|| {
            presented
                .iter()
                .find(|&&(_, compatible)| compatible)
                .map(|&(i, _)| Node::Presented(i))
        });
        match fallback {
            Some(node) => {
                nodes.push(node);
                signed.push(false);
                if matches!(node, Node::Root(_)) {
                    self.finish(nodes, signed, End::Trusted);
                } else {
                    self.extend(nodes, signed);
                }
                nodes.pop();
                signed.pop();
            }
            // 5. No issuer at all. A self-issued certificate (subject and
            //    issuer names equal) whose own signature fails is a damaged
            //    self-signed one, as OpenSSL sees it (by name).
            None if head_cert.subject_name_der() == head_cert.issuer_name_der() => {
                self.finish_with(nodes, signed, End::SelfSigned, false)
            }
            None => self.finish(nodes, signed, End::NoIssuer),
        }
    }
}
