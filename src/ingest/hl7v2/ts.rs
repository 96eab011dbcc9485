//! HL7 times (TS/DTM: `YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]`) as ISO 8601 text.
//!
//! The text keeps exactly the precision the source sent (`2024`, `2024-03-05`,
//! `2024-03-05T14:20:00`, plus an offset when one was sent), as the entry model asks. Some
//! systems send ISO-looking `2025-05-05 23:23:32` in MSH-7, or a bare trailing `+`; both are
//! read. Anything else that is not a real time gives `None` rather than a guess.

use chrono::NaiveDate;

struct Scanned<'a> {
    digits: [u8; 14],
    len: usize,
    fraction: &'a str,
    offset: Option<(u8, u32, u32)>,
}

impl Scanned<'_> {
    fn number(&self, from: usize, to: usize) -> u32 {
        self.digits
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(d.saturating_sub(b'0')))
    }
}

fn scan(raw: &str) -> Option<Scanned<'_>> {
    let text = raw.trim();
    let bytes = text.as_bytes();
    let iso_style = bytes.get(4) == Some(&b'-');
    let mut digits = [0u8; 14];
    let mut len = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                *digits.get_mut(len)? = b;
                len += 1;
            }
            b'-' if iso_style && (len == 4 || len == 6) => {}
            b' ' | b'T' if len == 8 && iso_style => {}
            b':' if iso_style && (len == 10 || len == 12) => {}
            _ => break,
        }
        i += 1;
    }
    if ![4, 6, 8, 10, 12, 14].contains(&len) {
        return None;
    }
    let mut rest = text.get(i..)?;
    let mut fraction = "";
    if let Some(after) = rest.strip_prefix('.') {
        let n = after.bytes().take_while(u8::is_ascii_digit).count();
        if len != 14 || n == 0 || n > 9 {
            return None;
        }
        fraction = after.get(..n)?;
        rest = after.get(n..)?;
    }
    let mut offset = None;
    if let Some(sign) = rest.bytes().next().filter(|b| *b == b'+' || *b == b'-') {
        let zone = rest.get(1..)?;
        let n = zone.bytes().take_while(u8::is_ascii_digit).count();
        if n == 4 {
            let hh: u32 = zone.get(..2)?.parse().ok()?;
            let mm: u32 = zone.get(2..4)?.parse().ok()?;
            if hh > 14 || mm > 59 {
                return None;
            }
            offset = Some((sign, hh, mm));
            rest = zone.get(4..)?;
        } else if n == 0 {
            rest = zone;
        } else {
            return None;
        }
    } else if let Some(after) = rest.strip_prefix('Z') {
        offset = Some((b'Z', 0, 0));
        rest = after;
    }
    if !rest.trim().is_empty() {
        return None;
    }
    Some(Scanned {
        digits,
        len,
        fraction,
        offset,
    })
}

/// An HL7 time as ISO 8601 text at the precision given, or `None` when it is not a real time.
pub fn to_iso(raw: &str) -> Option<String> {
    let s = scan(raw)?;
    let year = s.number(0, 4);
    let mut out = format!("{year:04}");
    if s.len >= 6 {
        let month = s.number(4, 6);
        if !(1..=12).contains(&month) {
            return None;
        }
        out.push_str(&format!("-{month:02}"));
    }
    if s.len >= 8 {
        let date =
            NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, s.number(4, 6), s.number(6, 8))?;
        out = date.format("%Y-%m-%d").to_string();
    }
    if s.len >= 10 {
        let hour = s.number(8, 10);
        if hour > 23 {
            return None;
        }
        out.push_str(&format!("T{hour:02}"));
    }
    if s.len >= 12 {
        let minute = s.number(10, 12);
        if minute > 59 {
            return None;
        }
        out.push_str(&format!(":{minute:02}"));
    }
    if s.len >= 14 {
        let second = s.number(12, 14);
        if second > 59 {
            return None;
        }
        out.push_str(&format!(":{second:02}"));
        if !s.fraction.is_empty() {
            out.push('.');
            out.push_str(s.fraction);
        }
    }
    // An offset only means something on a time of day.
    if s.len >= 10 {
        match s.offset {
            Some((b'Z', _, _)) => out.push('Z'),
            Some((sign, hh, mm)) => out.push_str(&format!("{}{hh:02}:{mm:02}", char::from(sign))),
            None => {}
        }
    }
    Some(out)
}

/// The calendar date of an HL7 time, when it has at least a day.
pub fn to_date(raw: &str) -> Option<NaiveDate> {
    let s = scan(raw)?;
    if s.len < 8 {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(s.number(0, 4)).ok()?,
        s.number(4, 6),
        s.number(6, 8),
    )
}

/// The `YYYY-MM-DD` (or shorter) start of an ISO time, for day-level references.
pub fn date_part(iso: &str) -> &str {
    iso.get(..10).unwrap_or(iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precisions() {
        assert_eq!(to_iso("2024").as_deref(), Some("2024"));
        assert_eq!(to_iso("202403").as_deref(), Some("2024-03"));
        assert_eq!(to_iso("20240305").as_deref(), Some("2024-03-05"));
        assert_eq!(to_iso("2024030514").as_deref(), Some("2024-03-05T14"));
        assert_eq!(to_iso("202403051420").as_deref(), Some("2024-03-05T14:20"));
        assert_eq!(
            to_iso("20240305142000").as_deref(),
            Some("2024-03-05T14:20:00")
        );
        assert_eq!(
            to_iso("20240305142000.123").as_deref(),
            Some("2024-03-05T14:20:00.123")
        );
        assert_eq!(
            to_iso("20240305142000+0100").as_deref(),
            Some("2024-03-05T14:20:00+01:00")
        );
        assert_eq!(
            to_iso("20240305142000-0500").as_deref(),
            Some("2024-03-05T14:20:00-05:00")
        );
        assert_eq!(to_iso("20240305+0000").as_deref(), Some("2024-03-05"));
    }

    #[test]
    fn real_world_variants() {
        assert_eq!(
            to_iso("2025-05-05 23:23:32").as_deref(),
            Some("2025-05-05T23:23:32")
        );
        assert_eq!(to_iso("19760121+").as_deref(), Some("1976-01-21"));
        assert_eq!(
            to_date("19250704044401"),
            NaiveDate::from_ymd_opt(1925, 7, 4)
        );
        assert_eq!(to_date("2024"), None);
    }

    #[test]
    fn impossible_times_are_none() {
        for bad in [
            "",
            "abc",
            "20241305",
            "20240230",
            "2024030525",
            "20240305146000",
            "202403051",
            "20240305x",
            "20240305142000.1234567890",
            "20240305142000+99",
        ] {
            assert_eq!(to_iso(bad), None, "{bad}");
        }
    }
}
