//! Qt's error list for a chain: what is wrong with it, in Qt's names and
//! order.
//!
//! Qt's list is what OpenSSL's verifier reports through its callback, so this
//! module follows OpenSSL's verification (in our own code): build a path from
//! the leaf to a trusted root (see `path`), then check it in OpenSSL's order.
//! The decision stays with webpki; this only explains it. It runs when webpki
//! rejected a chain, the host name did not match, or the chain is too deep.
//!
//! # Order
//!
//! Each error is on the certificate it concerns.
//!
//! 1. `HostNameMismatch` (leaf), when a peer name is given and the leaf is
//!    not valid for it (a name that is neither a DNS name nor an address
//!    never matches). Qt checks the name itself, before OpenSSL runs.
//! 2. How the path ends (OpenSSL's chain building):
//!    - at a trusted root: nothing;
//!    - at the leaf, self-signed and not trusted: `SelfSignedCertificate`;
//!    - at another self-signed certificate that is not trusted:
//!      `SelfSignedCertificateInChain` (on that certificate);
//!    - a self-issued certificate (subject and issuer names equal) without
//!      any issuer counts as self-signed even if its own signature fails, as
//!      OpenSSL judges by names; the signature failure is reported in step 4;
//!    - at a certificate whose issuer is neither trusted nor presented:
//!      `UnableToGetLocalIssuerCertificate` (on that certificate; for a lone
//!      leaf, `UnableToVerifyFirstCertificate` follows in step 4);
//!    - longer than the depth limit, or with more intermediates than webpki
//!      follows (six): `UnspecifiedError` (with a detail) on the first
//!      certificate beyond the limit, *instead of* the above, and the rest of
//!      the checks only look at the path up to that certificate, as OpenSSL
//!      stops building there.
//! 3. The certificates themselves and their extensions, certificate by
//!    certificate from the leaf up:
//!    `UnspecifiedError` with webpki's reason for a certificate webpki
//!    cannot read (an unknown critical extension, a duplicate extension);
//!    `InvalidCaCertificate` for an issuer without basicConstraints cA=TRUE
//!    (a v1 self-signed top is tolerated, a v1 intermediate is not), or one
//!    whose key webpki does not verify signatures with (an RSA key under
//!    2048 bits; for the trusted root that is `CertificateUntrusted`);
//!    `InvalidPurpose` on a leaf that is a CA certificate or not X.509 v3,
//!    as webpki takes neither as an end entity;
//!    `InvalidPurpose` when the extended key usage is present and lacks
//!    serverAuth/clientAuth (anyExtendedKeyUsage does not count, as in webpki
//!    and OpenSSL), and also right after `InvalidCaCertificate`, because
//!    OpenSSL's purpose check for an issuer requires a CA;
//!    `PathLengthExceeded` for a CA with more non-self-issued intermediates
//!    below it than its pathLenConstraint allows. The trusted root gets only
//!    one check: `CertificateUntrusted` if its extended key usage excludes the
//!    purpose.
//! 4. Signatures and validity, certificate by certificate from the top down
//!    to the leaf: first `UnableToVerifyFirstCertificate` for a lone leaf
//!    without issuer; then for each certificate `CertificateSignatureFailed`
//!    (its issuer's key does not verify it, or it is made with an
//!    algorithm webpki does not accept, such as SHA-1, or names another
//!    algorithm inside than it is made with), `CertificateNotYetValid`,
//!    `CertificateExpired`. The trusted root's validity is not checked
//!    (webpki does not check it either).
//!
//! So, for example (Qt's own table, then combinations):
//!
//! | chain | list |
//! |---|---|
//! | self-signed leaf, not trusted | SelfSignedCertificate |
//! | … and a wrong host name | HostNameMismatch, SelfSignedCertificate |
//! | … and expired | SelfSignedCertificate, CertificateExpired |
//! | leaf from an unknown CA / intermediate missing | UnableToGetLocalIssuerCertificate, UnableToVerifyFirstCertificate |
//! | … and expired | UnableToGetLocalIssuerCertificate, UnableToVerifyFirstCertificate, CertificateExpired |
//! | peer also sends its untrusted root | SelfSignedCertificateInChain |
//! | chain ends at an intermediate whose root is not trusted | UnableToGetLocalIssuerCertificate |
//! | expired leaf and a wrong host name | HostNameMismatch, CertificateExpired |
//! | expired intermediate | CertificateExpired (on the intermediate) |
//! | issued by a certificate that is not a CA | InvalidCaCertificate, InvalidPurpose (both on the issuer), then the rest |
//! | intermediate path length violated | PathLengthExceeded (on the constrained CA) |
//! | chain longer than the depth limit | UnspecifiedError |
//! | CA certificate as the leaf | InvalidPurpose (on the leaf) |
//! | trusted root with a 1024-bit RSA key | CertificateUntrusted (on the root) |
//! | leaf signed with SHA-1 | CertificateSignatureFailed (on the leaf) |
//!
//! # Paths
//!
//! When the presented certificates allow several paths (cross-signed or
//! duplicate intermediates), the path with the fewest errors is reported,
//! then one ending at a trusted root, then the shortest: webpki accepts a
//! chain if any path works, so the explanation must not pick a worse one.
//!
//! # Where this differs from OpenSSL
//!
//! - `UnableToGetIssuerCertificate` is never reported. OpenSSL reports it
//!   only when the chain went on through a trusted certificate that is not
//!   self-signed; webpki (and so sslsocket) treats every trusted certificate
//!   as a trust anchor, so such a chain ends there, trusted. A peer's list
//!   broken in the middle is, as in OpenSSL, a missing *local* issuer.
//! - Trusted roots are taken as webpki takes them: their validity,
//!   basicConstraints and pathLenConstraint are not checked.
//! - The validity of the top certificate of a path that ends at a missing
//!   issuer is checked (OpenSSL skips it), so that ignoring the errors listed
//!   never lets an expired certificate through unnoticed.
//! - A self-signed certificate whose own signature fails gets
//!   `CertificateSignatureFailed` (OpenSSL does not check self-signatures).
//! - keyUsage is not checked (webpki ignores it); neither are the Netscape
//!   certificate type and SGC purposes.
//! - OpenSSL takes a CA certificate or a v1 certificate as a leaf, and
//!   (at its default security level) SHA-1 signatures and 1024-bit RSA
//!   keys; webpki does not, so they are listed (see above).
//! - What webpki rejects and these checks do not name (name constraints,
//!   its resource limits) is left to `verify_chain`, which adds an
//!   `UnspecifiedError` with webpki's reason, on the constrained CA when its
//!   constraints are malformed, else on the leaf. The table of which
//!   webpki reason gives which Qt code is D21 in `docs/QT_MAPPING.md`.

mod checks;
mod path;

use std::time::SystemTime;

use super::VerifyOptions;
use crate::certificate::SslCertificate;
use crate::error::SslError;

/// Every problem with `chain` (leaf first, then presented certificates in
/// any order) in Qt's names and order, as of `time`. An empty chain gives an
/// empty list (the caller reports it).
pub(crate) fn diagnose(
    chain: &[SslCertificate],
    options: &VerifyOptions,
    time: SystemTime,
    host_error: Option<SslError>,
) -> Vec<SslError> {
    if chain.is_empty() {
        return Vec::new();
    }
    let mut errors: Vec<SslError> = host_error.into_iter().collect();
    let limits = checks::Limits {
        purpose: options.purpose(),
        max_depth: usize::try_from(options.max_depth()).unwrap_or(usize::MAX),
        time: checks::seconds(time),
    };
    let best = path::build(chain, options.roots())
        .iter()
        .map(|path| {
            (
                checks::path_errors(path, &limits),
                path.end.rank(),
                path.certs.len(),
            )
        })
        .min_by_key(|(errors, rank, length)| (errors.len(), *rank, *length));
    if let Some((path_errors, ..)) = best {
        errors.extend(path_errors);
    }
    errors
}

#[cfg(test)]
mod tests {
    //! Unit tests of path building and ordering on small hand-made PKIs; the
    //! full scenario matrix is in `tests/verify_matrix.rs`.

    use std::time::{Duration, SystemTime};

    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair,
    };

    use super::*;
    use crate::error::SslErrorCode;
    use crate::verify::{host_name_error, Purpose};
    use SslErrorCode::*;

    struct Id {
        params: CertificateParams,
        key: KeyPair,
        cert: SslCertificate,
    }

    impl Id {
        fn issuer(&self) -> Issuer<'_, &KeyPair> {
            Issuer::from_params(&self.params, &self.key)
        }
    }

    fn params(name: &str, ca: Option<Option<u8>>, days: (i64, i64)) -> CertificateParams {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(days.0);
        params.not_after = now + time::Duration::days(days.1);
        params.is_ca = match ca {
            Some(Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
            Some(None) => IsCa::Ca(BasicConstraints::Unconstrained),
            None => IsCa::ExplicitNoCa,
        };
        params.use_authority_key_identifier_extension = true;
        params
    }

    fn make(params: CertificateParams, issuer: Option<&Id>) -> Id {
        let key = KeyPair::generate().expect("key");
        let cert = match issuer {
            Some(issuer) => params.signed_by(&key, &issuer.issuer()),
            None => params.self_signed(&key),
        }
        .expect("certificate");
        let cert = SslCertificate::from_der(cert.der()).expect("parses");
        Id { params, key, cert }
    }

    fn root(name: &str) -> Id {
        make(params(name, Some(None), (-1, 3650)), None)
    }

    fn child(issuer: &Id, name: &str, ca: Option<Option<u8>>) -> Id {
        make(params(name, ca, (-1, 30)), Some(issuer))
    }

    fn codes(errors: &[SslError]) -> Vec<(SslErrorCode, String)> {
        errors
            .iter()
            .map(|e| {
                (
                    e.code(),
                    e.certificate()
                        .map(|c| c.subject_display_name())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    fn run(
        chain: &[&Id],
        roots: &[&Id],
        options: impl FnOnce(VerifyOptions) -> VerifyOptions,
    ) -> Vec<(SslErrorCode, String)> {
        let chain: Vec<SslCertificate> = chain.iter().map(|id| id.cert.clone()).collect();
        let roots = roots.iter().map(|id| id.cert.clone()).collect();
        let options = options(VerifyOptions::new(roots));
        codes(&diagnose(
            &chain,
            &options,
            options.time(),
            host_name_error(&chain, &options, false),
        ))
    }

    fn on(code: SslErrorCode, name: &str) -> (SslErrorCode, String) {
        (code, name.to_owned())
    }

    #[test]
    fn good_chain_has_no_errors_in_any_order() {
        let r = root("R");
        let i1 = child(&r, "I1", Some(None));
        let i2 = child(&i1, "I2", Some(None));
        let leaf = child(&i2, "leaf", None);
        let other = root("Other");
        assert_eq!(run(&[&leaf, &i2, &i1], &[&r], |o| o), vec![]);
        assert_eq!(run(&[&leaf, &i1, &other, &i2, &r], &[&r], |o| o), vec![]);
    }

    #[test]
    fn empty_chain_gives_nothing_here() {
        let options = VerifyOptions::new(Vec::new());
        assert!(diagnose(&[], &options, SystemTime::now(), None).is_empty());
    }

    #[test]
    fn path_ends() {
        let r = root("R");
        let i = child(&r, "I", Some(None));
        let leaf = child(&i, "leaf", None);
        assert_eq!(
            run(&[&leaf], &[&r], |o| o),
            vec![
                on(UnableToGetLocalIssuerCertificate, "leaf"),
                on(UnableToVerifyFirstCertificate, "leaf")
            ]
        );
        assert_eq!(
            run(&[&leaf, &i], &[], |o| o),
            vec![on(UnableToGetLocalIssuerCertificate, "I")]
        );
        assert_eq!(
            run(&[&leaf, &i, &r], &[], |o| o),
            vec![on(SelfSignedCertificateInChain, "R")]
        );
        let lone = make(params("lone", None, (-1, 30)), None);
        assert_eq!(
            run(&[&lone], &[&r], |o| o),
            vec![on(SelfSignedCertificate, "lone")]
        );
        // Trusted itself: fine.
        assert_eq!(run(&[&lone], &[&lone], |o| o), vec![]);
    }

    #[test]
    fn depth_counts_leaf_to_root() {
        let r = root("R");
        let i = child(&r, "I", Some(None));
        let leaf = child(&i, "leaf", None);
        assert_eq!(run(&[&leaf, &i], &[&r], |o| o.with_max_depth(3)), vec![]);
        assert_eq!(
            run(&[&leaf, &i], &[&r], |o| o.with_max_depth(2)),
            vec![on(UnspecifiedError, "R")]
        );
        assert_eq!(
            run(&[&leaf, &i], &[&r], |o| o.with_max_depth(1)),
            vec![on(UnspecifiedError, "I")]
        );
        // Too long replaces the missing issuer.
        assert_eq!(
            run(&[&leaf, &i], &[], |o| o.with_max_depth(1)),
            vec![on(UnspecifiedError, "I")]
        );
    }

    #[test]
    fn wrong_signature_is_a_signature_failure() {
        let r = root("R");
        let impostor = root("R");
        let leaf = child(&impostor, "leaf", None);
        let mut without_aki = params("leaf", None, (-1, 30));
        without_aki.use_authority_key_identifier_extension = false;
        let leaf_without_aki = make(without_aki, Some(&impostor));
        assert_eq!(
            run(&[&leaf_without_aki], &[&r], |o| o),
            vec![on(CertificateSignatureFailed, "leaf")]
        );
        // A damaged self-signed certificate is still self-signed.
        let lone = make(params("lone", None, (-1, 30)), None);
        let mut der = lone.cert.to_der().to_vec();
        if let Some(last) = der.last_mut() {
            *last ^= 1;
        }
        let damaged = SslCertificate::from_der(der).expect("parses");
        let options = VerifyOptions::new(vec![r.cert.clone()]);
        assert_eq!(
            codes(&diagnose(
                std::slice::from_ref(&damaged),
                &options,
                options.time(),
                None
            )),
            vec![
                on(SelfSignedCertificate, "lone"),
                on(CertificateSignatureFailed, "lone")
            ]
        );
        // With an authority key identifier that names another key, the
        // trusted root is no candidate at all.
        assert_eq!(
            run(&[&leaf], &[&r], |o| o),
            vec![
                on(UnableToGetLocalIssuerCertificate, "leaf"),
                on(UnableToVerifyFirstCertificate, "leaf")
            ]
        );
    }

    #[test]
    fn extension_checks_in_order() {
        let r = root("R");
        let not_ca = child(&r, "not a CA", None);
        let leaf = child(&not_ca, "leaf", None);
        assert_eq!(
            run(&[&leaf, &not_ca], &[&r], |o| o),
            vec![
                on(InvalidCaCertificate, "not a CA"),
                on(InvalidPurpose, "not a CA")
            ]
        );
        let i0 = child(&r, "I0", Some(Some(0)));
        let i1 = child(&i0, "I1", Some(None));
        let leaf = child(&i1, "leaf", None);
        assert_eq!(
            run(&[&leaf, &i1, &i0], &[&r], |o| o),
            vec![on(PathLengthExceeded, "I0")]
        );
        let mut p = params("client", None, (-1, 30));
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = make(p, Some(&r));
        assert_eq!(
            run(&[&client], &[&r], |o| o),
            vec![on(InvalidPurpose, "client")]
        );
        assert_eq!(
            run(&[&client], &[&r], |o| o.with_purpose(Purpose::ClientAuth)),
            vec![]
        );
        let mut p = params("any", None, (-1, 30));
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
        let any = make(p, Some(&r));
        assert_eq!(run(&[&any], &[&r], |o| o), vec![on(InvalidPurpose, "any")]);
        // A trusted root restricted to client authentication.
        let mut p = params("client root", Some(None), (-1, 3650));
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_root = make(p, None);
        let leaf = child(&client_root, "leaf", None);
        assert_eq!(
            run(&[&leaf], &[&client_root], |o| o),
            vec![on(CertificateUntrusted, "client root")]
        );
    }

    #[test]
    fn times_from_the_top_down() {
        let r = root("R");
        let i = make(params("I", Some(None), (-10, -5)), Some(&r));
        let leaf = make(params("leaf", None, (5, 10)), Some(&i));
        assert_eq!(
            run(&[&leaf, &i], &[&r], |o| o),
            vec![
                on(CertificateExpired, "I"),
                on(CertificateNotYetValid, "leaf")
            ]
        );
        let later = SystemTime::now() + Duration::from_secs(7 * 86400);
        assert_eq!(
            run(&[&leaf, &i], &[&r], |o| o.with_time(later)),
            vec![on(CertificateExpired, "I")]
        );
        // The trusted root's own validity is not looked at.
        let old_root = make(params("old", Some(None), (-10, -5)), None);
        let leaf = child(&old_root, "leaf", None);
        assert_eq!(run(&[&leaf], &[&old_root], |o| o), vec![]);
    }

    #[test]
    fn host_name_comes_first() {
        let lone = make(params("lone", None, (-10, -5)), None);
        assert_eq!(
            run(&[&lone], &[], |o| o.with_peer_name("example.com")),
            vec![
                on(HostNameMismatch, "lone"),
                on(SelfSignedCertificate, "lone"),
                on(CertificateExpired, "lone")
            ]
        );
    }

    #[test]
    fn loops_and_duplicates_end() {
        // Two CAs that cross-sign each other, neither trusted.
        let a = root("A");
        let b = root("B");
        let with_key = |params: CertificateParams, key: &KeyPair, issuer: &Id| {
            let cert = params
                .signed_by(key, &issuer.issuer())
                .expect("certificate");
            SslCertificate::from_der(cert.der()).expect("parses")
        };
        let a_by_b = with_key(params("A", Some(None), (-1, 30)), &a.key, &b);
        let b_by_a = with_key(params("B", Some(None), (-1, 30)), &b.key, &a);
        let leaf = child(&a, "leaf", None);
        let chain = vec![
            leaf.cert.clone(),
            a_by_b.clone(),
            b_by_a.clone(),
            a_by_b,
            b_by_a,
        ];
        let options = VerifyOptions::new(Vec::new());
        assert_eq!(
            codes(&diagnose(
                &chain,
                &options,
                options.time(),
                host_name_error(&chain, &options, false)
            )),
            vec![on(UnableToGetLocalIssuerCertificate, "B")]
        );
        // Many copies of the same intermediate.
        let r = root("R");
        let i = child(&r, "I", Some(None));
        let leaf = child(&i, "leaf", None);
        let chain: Vec<&Id> = std::iter::once(&leaf)
            .chain(std::iter::repeat_n(&i, 50))
            .collect();
        assert_eq!(run(&chain, &[&r], |o| o), vec![]);
    }
}
