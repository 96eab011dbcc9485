//! When a PEM certificate stops being valid: its `notAfter`, read from the DER structure
//! (RFC 5280: Certificate → tbsCertificate → validity), bounds-checked at every step so that a
//! damaged file is an error, never a panic.

use chrono::{DateTime, NaiveDate, Utc};

/// The first certificate's `notAfter` in a PEM file's text.
pub fn not_after(pem: &str) -> Result<DateTime<Utc>, String> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return Err("no certificate in the file".into());
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| format!("the certificate is not valid base64: {e}"))?;
    let (certificate, _) = element(&der, 0x30)?;
    let (mut tbs, _) = element(certificate, 0x30)?;
    // version [0], explicit and optional
    if tbs.first() == Some(&0xA0) {
        tbs = element(tbs, 0xA0)?.1;
    }
    let rest = element(tbs, 0x02)?.1; // serialNumber
    let rest = element(rest, 0x30)?.1; // signature algorithm
    let rest = element(rest, 0x30)?.1; // issuer
    let (validity, _) = element(rest, 0x30)?;
    let after_not_before = skip_time(validity)?;
    let tag = *after_not_before
        .first()
        .ok_or("the validity has no notAfter")?;
    let (time, _) = element(after_not_before, tag)?;
    parse_time(tag, time)
}

fn skip_time(der: &[u8]) -> Result<&[u8], String> {
    let tag = *der.first().ok_or("the validity is empty")?;
    Ok(element(der, tag)?.1)
}

/// The content of the element at the start of `der`, which must have `tag`, and what follows.
fn element(der: &[u8], tag: u8) -> Result<(&[u8], &[u8]), String> {
    let bad = || "the certificate's structure is damaged".to_owned();
    if der.first() != Some(&tag) {
        return Err(bad());
    }
    let first = *der.get(1).ok_or_else(bad)?;
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let octets = usize::from(first & 0x7F);
        if octets == 0 || octets > 4 {
            return Err(bad());
        }
        let bytes = der.get(2..2 + octets).ok_or_else(bad)?;
        let length = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, 2 + octets)
    };
    let end = header.checked_add(length).ok_or_else(bad)?;
    let content = der.get(header..end).ok_or_else(bad)?;
    Ok((content, &der[end..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, tag 0x18).
fn parse_time(tag: u8, bytes: &[u8]) -> Result<DateTime<Utc>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the notAfter is not text")?;
    let digits = text.strip_suffix('Z').ok_or("the notAfter is not in UTC")?;
    let full = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: i32 = digits[..2].parse().map_err(|_| "bad notAfter year")?;
            format!(
                "{}{}",
                if yy >= 50 { 1900 + yy } else { 2000 + yy },
                &digits[2..]
            )
        }
        (0x18, 14) => digits.to_owned(),
        _ => return Err(format!("the notAfter {text:?} is not a time this reads")),
    };
    let part = |r: std::ops::Range<usize>| -> Result<u32, String> {
        full.get(r)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("the notAfter {text:?} is not a time"))
    };
    let year = i32::try_from(part(0..4)?).map_err(|_| "bad year")?;
    let (hour, minute, second) = (part(8..10)?, part(10..12)?, part(12..14)?);
    NaiveDate::from_ymd_opt(year, part(4..6)?, part(6..8)?)
        .and_then(|d| d.and_hms_opt(hour, minute, second))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("the notAfter {text:?} is not a date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(year: i32) -> String {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(year, 6, 30);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn reads_not_after_in_either_time_form() {
        // Before 2050 X.509 writes UTCTime; from 2050, GeneralizedTime.
        assert_eq!(
            not_after(&certificate(2031)).unwrap().to_rfc3339(),
            "2031-06-30T00:00:00+00:00"
        );
        assert_eq!(
            not_after(&certificate(2061)).unwrap().to_rfc3339(),
            "2061-06-30T00:00:00+00:00"
        );
    }

    #[test]
    fn damaged_certificates_are_errors_not_panics() {
        let good = certificate(2031);
        assert!(not_after("").is_err());
        assert!(not_after("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----").is_err());
        // Every truncation of the DER is refused.
        use base64::Engine;
        let body: String = good.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        for cut in 0..der.len().min(200) {
            let pem = format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                base64::engine::general_purpose::STANDARD.encode(&der[..cut])
            );
            assert!(not_after(&pem).is_err(), "cut at {cut}");
        }
    }
}
