//! Distinguished names: attribute names, value decoding and the one-line
//! rendering used by `to_text`.

use x509_parser::asn1_rs::Tag;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use super::asn1::hex_join;

/// Name attributes we know by name: dotted OID, OpenSSL's short name (what
/// Qt reports as the attribute key) and the long name accepted on lookup.
const ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("2.5.4.3", "CN", "commonName"),
    ("2.5.4.4", "SN", "surname"),
    ("2.5.4.5", "serialNumber", "serialNumber"),
    ("2.5.4.6", "C", "countryName"),
    ("2.5.4.7", "L", "localityName"),
    ("2.5.4.8", "ST", "stateOrProvinceName"),
    ("2.5.4.9", "street", "streetAddress"),
    ("2.5.4.10", "O", "organizationName"),
    ("2.5.4.11", "OU", "organizationalUnitName"),
    ("2.5.4.12", "title", "title"),
    ("2.5.4.13", "description", "description"),
    ("2.5.4.15", "businessCategory", "businessCategory"),
    ("2.5.4.17", "postalCode", "postalCode"),
    ("2.5.4.41", "name", "name"),
    ("2.5.4.42", "GN", "givenName"),
    ("2.5.4.43", "initials", "initials"),
    ("2.5.4.44", "generationQualifier", "generationQualifier"),
    ("2.5.4.46", "dnQualifier", "dnQualifier"),
    ("2.5.4.65", "pseudonym", "pseudonym"),
    (
        "2.5.4.97",
        "organizationIdentifier",
        "organizationIdentifier",
    ),
    ("1.2.840.113549.1.9.1", "emailAddress", "emailAddress"),
    ("0.9.2342.19200300.100.1.1", "UID", "userId"),
    ("0.9.2342.19200300.100.1.25", "DC", "domainComponent"),
    (
        "1.3.6.1.4.1.311.60.2.1.1",
        "jurisdictionL",
        "jurisdictionLocalityName",
    ),
    (
        "1.3.6.1.4.1.311.60.2.1.2",
        "jurisdictionST",
        "jurisdictionStateOrProvinceName",
    ),
    (
        "1.3.6.1.4.1.311.60.2.1.3",
        "jurisdictionC",
        "jurisdictionCountryName",
    ),
];

/// The short name of an attribute type, or its dotted OID when we have no
/// name for it (Qt does the same with OpenSSL's table).
pub(crate) fn short_name(oid: &str) -> String {
    ATTRIBUTES
        .iter()
        .find(|(dotted, _, _)| *dotted == oid)
        .map_or_else(|| oid.to_owned(), |(_, short, _)| (*short).to_owned())
}

/// The dotted OID for an attribute given as a short name, a long name or a
/// dotted OID. Short names are matched exactly first because OpenSSL's are
/// case-sensitive ("SN" is surname); any case is accepted after that.
pub(crate) fn resolve_attribute(attribute: &str) -> Option<String> {
    let attribute = attribute.trim();
    if let Some((oid, _, _)) = ATTRIBUTES.iter().find(|(_, s, _)| *s == attribute) {
        return Some((*oid).to_owned());
    }
    if let Some((oid, _, _)) = ATTRIBUTES
        .iter()
        .find(|(_, s, l)| s.eq_ignore_ascii_case(attribute) || l.eq_ignore_ascii_case(attribute))
    {
        return Some((*oid).to_owned());
    }
    let looks_dotted = attribute.contains('.')
        && attribute
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    looks_dotted.then(|| attribute.to_owned())
}

/// One attribute of a name: its dotted OID and its value as text.
pub(crate) struct Entry {
    pub(crate) oid: String,
    pub(crate) value: String,
}

/// Every attribute of `name` in certificate order, with the RDN index so
/// that multi-valued RDNs can be rendered joined by `+`.
pub(crate) fn entries(name: &X509Name<'_>) -> Vec<(usize, Entry)> {
    let mut out = Vec::new();
    for (index, rdn) in name.iter_rdn().enumerate() {
        for attribute in rdn.iter() {
            out.push((
                index,
                Entry {
                    oid: attribute.attr_type().to_id_string(),
                    value: value_text(attribute),
                },
            ));
        }
    }
    out
}

/// Values of the attribute with dotted OID `oid`, in certificate order.
pub(crate) fn values(name: &X509Name<'_>, oid: &str) -> Vec<String> {
    entries(name)
        .into_iter()
        .filter(|(_, entry)| entry.oid == oid)
        .map(|(_, entry)| entry.value)
        .collect()
}

/// Short names of the attributes present in `name`, first occurrence order.
pub(crate) fn attribute_names(name: &X509Name<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, entry) in entries(name) {
        let short = short_name(&entry.oid);
        if !out.contains(&short) {
            out.push(short);
        }
    }
    out
}

/// `C = FR, O = Example, CN = host` -- the layout `openssl x509 -text`
/// uses, except that non-ASCII text is kept as UTF-8 instead of escaped.
pub(crate) fn one_line(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    let mut previous_rdn = None;
    for (rdn, entry) in entries(name) {
        if let Some(previous) = previous_rdn {
            out.push_str(if previous == rdn { " + " } else { ", " });
        }
        previous_rdn = Some(rdn);
        out.push_str(&short_name(&entry.oid));
        out.push_str(" = ");
        out.push_str(&entry.value);
    }
    out
}

/// Decodes an attribute value to text, whatever ASN.1 string type carries it.
///
/// Names in the wild use every string type X.520 allows; a caller asking for
/// the organisation wants text, so each is converted and nothing is refused.
/// Values that are not strings at all are shown as `#` and hex, as RFC 4514
/// does.
fn value_text(attribute: &AttributeTypeAndValue<'_>) -> String {
    let value = attribute.attr_value();
    let data = value.data;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        // T.61 is close enough to Latin-1 for the names that use it.
        Tag::TeletexString => data.iter().map(|&b| char::from(b)).collect(),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|pair| match pair {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => 0xfffd,
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|quad| match quad {
                [a, b, c, d] => char::from_u32(u32::from_be_bytes([*a, *b, *c, *d]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                _ => char::REPLACEMENT_CHARACTER,
            })
            .collect(),
        _ => format!("#{}", hex_join(data, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_resolve_by_any_name() {
        assert_eq!(resolve_attribute("CN").as_deref(), Some("2.5.4.3"));
        assert_eq!(resolve_attribute("commonName").as_deref(), Some("2.5.4.3"));
        assert_eq!(resolve_attribute("cn").as_deref(), Some("2.5.4.3"));
        assert_eq!(resolve_attribute("SN").as_deref(), Some("2.5.4.4"));
        assert_eq!(
            resolve_attribute("emailAddress").as_deref(),
            Some("1.2.840.113549.1.9.1")
        );
        assert_eq!(resolve_attribute("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(resolve_attribute("1..2"), None);
        assert_eq!(resolve_attribute("nonsense"), None);
        assert_eq!(resolve_attribute(""), None);
        assert_eq!(short_name("2.5.4.11"), "OU");
        assert_eq!(short_name("1.2.3.4"), "1.2.3.4");
    }
}
