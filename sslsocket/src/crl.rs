//! Certificate revocation lists (CRLs) given by the user, as data or files;
//! nothing is ever fetched from the network. webpki reads them, and decides
//! during verification whether a certificate on the path is revoked.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use webpki::{CertRevocationList as WebpkiCrl, OwnedCertRevocationList};
use x509_parser::prelude::FromDer;

use crate::certificate::SslCertificate;
use crate::error::{Error, Result};
use crate::pem;
use crate::ssl::EncodingFormat;

/// The PEM label of a CRL block.
const CRL_LABEL: &str = "X509 CRL";

/// A certificate revocation list (RFC 5280, section 5), checked by webpki
/// to parse when it is made.
///
/// Cloning is cheap. Two lists are equal when their DER encodings are.
#[derive(Clone)]
pub struct CertificateRevocationList {
    der: Arc<[u8]>,
    parsed: Arc<WebpkiCrl<'static>>,
    this_update: SystemTime,
    next_update: SystemTime,
    /// The issuing distribution point's restrictions, if the list has one.
    scope: Option<Arc<Scope>>,
}

/// Which of its issuer's certificates a list with an issuing distribution
/// point speaks for (RFC 5280, 5.2.5), as webpki judges it.
#[derive(Debug)]
struct Scope {
    only_end_entities: bool,
    only_cas: bool,
    /// The URIs of the distribution point's full name.
    uris: Vec<String>,
}

impl CertificateRevocationList {
    /// Reads one DER CRL.
    pub fn from_der(der: impl AsRef<[u8]>) -> Result<CertificateRevocationList> {
        let der = der.as_ref();
        if der.is_empty() {
            return Err(Error::NoCrl);
        }
        let parsed = OwnedCertRevocationList::from_der(der).map_err(|e| Error::InvalidCrl {
            reason: format!("webpki cannot read it: {e}"),
        })?;
        // webpki read it (and requires nextUpdate), so x509-parser does too.
        let read = x509_parser::revocation_list::CertificateRevocationList::from_der(der)
            .ok()
            .map(|(_, crl)| {
                (
                    (
                        system_time(crl.last_update()),
                        crl.next_update().map(system_time),
                    ),
                    scope(&crl),
                )
            });
        let (dates, scope) = read.unzip();
        let (this_update, next_update) = match dates {
            Some((this_update, Some(next_update))) => (this_update, next_update),
            _ => {
                return Err(Error::InvalidCrl {
                    reason: "its thisUpdate or nextUpdate cannot be read".into(),
                })
            }
        };
        Ok(CertificateRevocationList {
            der: der.into(),
            parsed: Arc::new(WebpkiCrl::Owned(parsed)),
            this_update,
            next_update,
            scope: scope.flatten().map(Arc::new),
        })
    }

    /// Reads every `X509 CRL` block of PEM text, in order; other blocks are
    /// skipped. No CRL block at all is [`Error::NoCrl`].
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Vec<CertificateRevocationList>> {
        let crls: Vec<_> = pem::blocks(pem.as_ref())
            .into_iter()
            .filter(|block| block.label == CRL_LABEL)
            .enumerate()
            .map(|(index, block)| {
                let described = |reason: String| Error::InvalidCrl {
                    reason: format!("PEM CRL block {}: {reason}", index + 1),
                };
                match &block.body {
                    Ok(der) => CertificateRevocationList::from_der(der.as_slice()).map_err(|e| {
                        described(match e {
                            Error::InvalidCrl { reason } => reason,
                            other => other.to_string(),
                        })
                    }),
                    Err(damage) => Err(described(damage.to_string())),
                }
            })
            .collect::<Result<_>>()?;
        if crls.is_empty() {
            return Err(Error::NoCrl);
        }
        Ok(crls)
    }

    /// Reads `data` as PEM (any number of CRLs) or DER (one).
    pub fn from_data(
        data: impl AsRef<[u8]>,
        format: EncodingFormat,
    ) -> Result<Vec<CertificateRevocationList>> {
        match format {
            EncodingFormat::Pem => CertificateRevocationList::from_pem(data),
            EncodingFormat::Der => CertificateRevocationList::from_der(data).map(|crl| vec![crl]),
        }
    }

    /// Reads a CRL file: PEM when it holds a PEM block, else DER.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Vec<CertificateRevocationList>> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|source| Error::File {
            path: path.to_owned(),
            source,
        })?;
        let format = if data.windows(11).any(|w| w == b"-----BEGIN ") {
            EncodingFormat::Pem
        } else {
            EncodingFormat::Der
        };
        CertificateRevocationList::from_data(&data, format)
    }

    /// The DER encoding.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The CRL in PEM form, with a trailing newline.
    pub fn to_pem(&self) -> String {
        pem::encode(CRL_LABEL, &self.der)
    }

    /// When the issuer made this list. Of several lists from one issuer,
    /// verification uses the newest.
    pub fn this_update(&self) -> SystemTime {
        self.this_update
    }

    /// When the issuer promises the next list: after it, the list has
    /// expired, and verification reports it instead of using it.
    pub fn next_update(&self) -> SystemTime {
        self.next_update
    }

    /// Whether this list is the one webpki checks `certificate` against:
    /// it comes from the certificate's issuer (by name, as webpki reads
    /// both) and, if it has an issuing distribution point, that scope
    /// includes the certificate (`leaf`: whether it is the end entity).
    pub(crate) fn covers(
        &self,
        certificate: &webpki::EndEntityCert<'_>,
        parsed: &SslCertificate,
        leaf: bool,
    ) -> bool {
        if self.parsed.issuer() != certificate.issuer() {
            return false;
        }
        let Some(scope) = &self.scope else {
            return true;
        };
        if (scope.only_cas && leaf) || (scope.only_end_entities && !leaf) {
            return false;
        }
        let points = parsed.direct_crl_distribution_uris();
        points.is_none_or(|uris| uris.iter().any(|uri| scope.uris.contains(uri)))
    }

    /// Whether this list names `certificate`'s serial number as revoked.
    pub(crate) fn names(&self, certificate: &webpki::EndEntityCert<'_>) -> bool {
        self.parsed
            .find_serial(certificate.serial())
            .ok()
            .flatten()
            .is_some()
    }

    /// webpki's form, for verification.
    pub(crate) fn webpki(&self) -> &WebpkiCrl<'static> {
        &self.parsed
    }
}

/// The issuing distribution point of `crl`, if it has one.
fn scope(crl: &x509_parser::revocation_list::CertificateRevocationList<'_>) -> Option<Scope> {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    crl.extensions()
        .iter()
        .find_map(|extension| match extension.parsed_extension() {
            ParsedExtension::IssuingDistributionPoint(point) => Some(Scope {
                only_end_entities: point.only_contains_user_certs,
                only_cas: point.only_contains_ca_certs,
                uris: match &point.distribution_point {
                    Some(DistributionPointName::FullName(names)) => names
                        .iter()
                        .filter_map(|name| match name {
                            GeneralName::URI(uri) => Some((*uri).to_owned()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                },
            }),
            _ => None,
        })
}

impl PartialEq for CertificateRevocationList {
    fn eq(&self, other: &CertificateRevocationList) -> bool {
        self.der == other.der
    }
}

impl Eq for CertificateRevocationList {}

impl std::hash::Hash for CertificateRevocationList {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.der.hash(state);
    }
}

impl fmt::Debug for CertificateRevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateRevocationList")
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// An X.509 time; times before 1970 become 1970.
fn system_time(time: x509_parser::time::ASN1Time) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(time.timestamp().max(0).unsigned_abs())
}
