//! Which source a message is for, and whether its sender may send for it.
//!
//! On a source's own port every message is that source's. On the shared port a message names
//! its source: MSH-3 (sending application) equal to a source's code, or else MSH-4 (sending
//! facility) equal to the ODS code of exactly one HL7 v2 source's organisation. A message that
//! names no source, or names several, is refused rather than guessed at.
//!
//! Senders are allowed by address, per source (`--mllp-allow`): addresses or networks
//! (`192.0.2.10`, `10.1.0.0/16`), comma-separated. A source with none set is heard from
//! loopback only, so nothing is accepted from the network until an operator says from where.

use crate::store::{MllpSource, SourceRow};
use std::net::IpAddr;

/// Addresses and networks allowed to send, and optionally the TLS client certificates
/// (`sha256:` and the SHA-256 fingerprint of the certificate, hex, colons allowed) a sender must
/// present as well: with any certificate listed, a sender needs an allowed address and one of
/// them (so only over TLS with client certificates, `[mllp] tls_client_ca`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    nets: Vec<(IpAddr, u8)>,
    certs: Vec<String>,
}

/// A typed fingerprint as stored for comparison: lower-case hex without colons.
fn fingerprint(typed: &str) -> Option<String> {
    let hex: String = typed
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_lowercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

impl Allow {
    /// Parses a stored or typed list; blank is loopback only.
    pub fn parse(list: Option<&str>) -> Result<Self, String> {
        let list = list.map(str::trim).filter(|l| !l.is_empty());
        let Some(list) = list else {
            return Ok(Self::loopback());
        };
        let mut nets = Vec::new();
        let mut certs = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(typed) = item.strip_prefix("sha256:") {
                certs.push(fingerprint(typed).ok_or_else(|| {
                    format!(
                        "MLLP sender {item:?} is not a certificate fingerprint (sha256: and 64 \
                         hex digits)"
                    )
                })?);
                continue;
            }
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let bad = || {
                format!(
                    "MLLP sender {item:?} is not an address or network (e.g. 192.0.2.10 or \
                     10.1.0.0/16)"
                )
            };
            let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(bad)?,
                None => max,
            };
            nets.push((addr, bits));
        }
        if nets.is_empty() {
            return Err(
                "an MLLP sender list names at least one address or network (0.0.0.0/0 for any), \
                 not certificates alone"
                    .into(),
            );
        }
        Ok(Self { nets, certs })
    }

    fn loopback() -> Self {
        Self {
            nets: vec![
                (IpAddr::from([127, 0, 0, 1]), 8),
                (IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]), 128),
            ],
            certs: Vec::new(),
        }
    }

    /// Whether `peer`, presenting the client certificate with fingerprint `cert` (lower-case
    /// hex; none without TLS client authentication), may send.
    pub fn allows(&self, peer: IpAddr, cert: Option<&str>) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        let address = self.nets.iter().any(|&(net, bits)| within(peer, net, bits));
        let certificate =
            self.certs.is_empty() || cert.is_some_and(|c| self.certs.iter().any(|a| a == c));
        address && certificate
    }
}

fn within(peer: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (p, n, width) = match (peer, net) {
        (IpAddr::V4(p), IpAddr::V4(n)) => (u128::from(p.to_bits()), u128::from(n.to_bits()), 32),
        (IpAddr::V6(p), IpAddr::V6(n)) => (p.to_bits(), n.to_bits(), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    if shift >= 128 {
        return true;
    }
    (p >> shift) == (n >> shift)
}

/// An HL7 v2 source heard over MLLP, with who may send for it.
#[derive(Debug, Clone)]
pub struct Listener {
    pub source: SourceRow,
    pub allow: Allow,
}

impl Listener {
    /// A stored source's settings, checked; a stored list that no longer parses is an error
    /// (the source is not heard) rather than a wider door.
    pub fn from_stored(s: &MllpSource) -> Result<Self, String> {
        Ok(Self {
            source: s.source.clone(),
            allow: Allow::parse(s.allow.as_deref())
                .map_err(|e| format!("source {}: {e}", s.source.code))?,
        })
    }
}

/// The source a message on the shared port is for, by MSH-3 then MSH-4, or why none is.
pub fn route<'a>(
    sources: &'a [Listener],
    sending_app: &str,
    sending_facility: &str,
) -> Result<&'a Listener, String> {
    let hl7 = || {
        sources
            .iter()
            .filter(|l| l.source.format == crate::model::Format::Hl7v2)
    };
    if !sending_app.is_empty() {
        if let Some(l) = hl7().find(|l| l.source.code.eq_ignore_ascii_case(sending_app)) {
            return Ok(l);
        }
    }
    let by_org: Vec<&Listener> = hl7()
        .filter(|l| {
            !sending_facility.is_empty() && l.source.org_code.eq_ignore_ascii_case(sending_facility)
        })
        .collect();
    match by_org.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no HL7 v2 source is registered for MSH-3 {sending_app:?} or MSH-4 \
             {sending_facility:?}; register one with `sharedcare source add` (MSH-3 = its code, \
             or MSH-4 = its organisation's ODS code)"
        )),
        _ => Err(format!(
            "several HL7 v2 sources belong to organisation {sending_facility:?}: MSH-3 must name \
             the source's code"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn no_list_is_loopback_only() {
        let a = Allow::parse(None).unwrap();
        assert!(
            a.allows(ip("127.0.0.1"), None)
                && a.allows(ip("::1"), None)
                && a.allows(ip("127.9.9.9"), None)
        );
        assert!(!a.allows(ip("192.0.2.1"), None) && !a.allows(ip("::2"), None));
        assert_eq!(Allow::parse(Some("  ")).unwrap(), a);
    }

    #[test]
    fn addresses_and_networks_are_allowed_and_nothing_else() {
        let a = Allow::parse(Some("192.0.2.10, 10.1.0.0/16,2001:db8::/32")).unwrap();
        assert!(a.allows(ip("192.0.2.10"), None));
        assert!(!a.allows(ip("192.0.2.11"), None));
        assert!(!a.allows(ip("127.0.0.1"), None), "a list replaces loopback");
        assert!(a.allows(ip("10.1.200.3"), None) && !a.allows(ip("10.2.0.1"), None));
        assert!(
            a.allows(ip("::ffff:10.1.0.9"), None),
            "IPv4 seen through IPv6"
        );
        assert!(a.allows(ip("2001:db8:1::5"), None) && !a.allows(ip("2001:db9::1"), None));
        assert!(Allow::parse(Some("0.0.0.0/0"))
            .unwrap()
            .allows(ip("198.51.100.7"), None));
    }

    #[test]
    fn a_listed_certificate_is_needed_as_well_as_an_allowed_address() {
        let pin = "AB:".repeat(31) + "AB";
        let a = Allow::parse(Some(&format!("10.1.0.0/16, sha256:{pin}"))).unwrap();
        let theirs = "ab".repeat(32);
        assert!(a.allows(ip("10.1.0.5"), Some(&theirs)));
        assert!(!a.allows(ip("10.1.0.5"), None), "no certificate");
        assert!(
            !a.allows(ip("10.1.0.5"), Some(&"cd".repeat(32))),
            "another certificate"
        );
        assert!(
            !a.allows(ip("192.0.2.1"), Some(&theirs)),
            "the address still counts"
        );
        assert!(Allow::parse(Some("10.1.0.0/16, sha256:abc")).is_err());
        assert!(
            Allow::parse(Some(&format!("sha256:{theirs}"))).is_err(),
            "no address"
        );
    }

    fn listener(code: &str, org: &str, format: crate::model::Format) -> Listener {
        Listener {
            source: SourceRow {
                id: 1,
                code: code.into(),
                name: code.into(),
                org_code: org.into(),
                org_name: org.into(),
                kind: crate::model::SourceKind::Acute,
                format,
                mapping: None,
                has_mapping: false,
                created_at: String::new(),
            },
            allow: Allow::loopback(),
        }
    }

    #[test]
    fn routing_is_by_msh3_code_then_by_the_one_hl7_source_of_the_msh4_organisation() {
        use crate::model::Format::{Fhir, Hl7v2};
        let sources = [
            listener("PAS", "RWF", Hl7v2),
            listener("LAB", "RWF", Hl7v2),
            listener("GP-FHIR", "G1", Fhir),
            listener("GP-ADT", "G1", Hl7v2),
        ];
        let code = |app: &str, fac: &str| route(&sources, app, fac).map(|l| l.source.code.clone());
        assert_eq!(code("lab", "RWF").unwrap(), "LAB");
        assert_eq!(
            code("EPIC", "G1").unwrap(),
            "GP-ADT",
            "the FHIR source is not a candidate"
        );
        assert!(code("EPIC", "RWF").unwrap_err().contains("MSH-3 must name"));
        assert!(code("EPIC", "XYZ")
            .unwrap_err()
            .contains("no HL7 v2 source"));
        assert!(
            code("GP-FHIR", "").is_err(),
            "a FHIR source is never routed to"
        );
        assert!(code("", "").is_err());
    }

    #[test]
    fn a_bad_list_is_refused() {
        for bad in ["example.org", "10.0.0.0/33", "10.0.0.1/x", "::1/129"] {
            assert!(Allow::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
