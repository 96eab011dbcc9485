//! Our ISO 8601 text → FHIR `date`, `dateTime` and `instant`.
//!
//! Entries keep times as precise as the source sent them, and HL7 v2 sources often send a
//! local time with no offset. FHIR requires an offset whenever a time is given, and which
//! offset a local UK time had is not known here, so such a value is cut back to its date:
//! less precise, never wrong. A value that is no date at all is dropped rather than emitted.

/// The pieces of a date-time, validated.
struct Parts {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
    /// hh:mm:ss and any fraction digits.
    time: Option<(u32, u32, u32, String)>,
    /// `Z` or `+hh:mm`.
    zone: Option<String>,
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub fn date(text: &str) -> Option<String> {
    let p = parse(text)?;
    Some(date_part(&p))
}

/// A FHIR dateTime: the date as precise as given, with the time only when its offset is known.
pub fn date_time(text: &str) -> Option<String> {
    let p = parse(text)?;
    match (&p.time, &p.zone) {
        (Some((h, m, s, frac)), Some(zone)) => Some(format!(
            "{}T{h:02}:{m:02}:{s:02}{frac}{zone}",
            date_part(&p)
        )),
        _ => Some(date_part(&p)),
    }
}

/// A FHIR instant: a full date, time and offset, or nothing.
pub fn instant(text: &str) -> Option<String> {
    let p = parse(text)?;
    p.day?;
    match (&p.time, &p.zone) {
        (Some(_), Some(_)) => date_time(text),
        _ => None,
    }
}

fn date_part(p: &Parts) -> String {
    match (p.month, p.day) {
        (Some(m), Some(d)) => format!("{:04}-{m:02}-{d:02}", p.year),
        (Some(m), None) => format!("{:04}-{m:02}", p.year),
        _ => format!("{:04}", p.year),
    }
}

/// Reads `2024`, `2024-03`, `2024-03-05`, `2024-03-05T14:20[:00[.123]][Z|+01:00|+0100]`, a space
/// instead of the `T`, and the compact HL7 form `20240305142000+0100`.
fn parse(text: &str) -> Option<Parts> {
    let text = text.trim();
    let (date_text, rest) = split_date(text)?;
    if date_text.contains('-') {
        let widths: Vec<usize> = date_text.split('-').map(str::len).collect();
        if !matches!(widths.as_slice(), [4] | [4, 2] | [4, 2, 2]) {
            return None;
        }
    }
    let digits: String = date_text.chars().filter(|c| *c != '-').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u32>().ok());
    let year = i32::try_from(num(0..4)?)
        .ok()
        .filter(|y| (1..=9999).contains(y))?;
    let (month, day) = match digits.len() {
        4 => (None, None),
        6 => (Some(num(4..6)?), None),
        8 => (Some(num(4..6)?), Some(num(6..8)?)),
        _ => return None,
    };
    if let Some(m) = month {
        chrono::NaiveDate::from_ymd_opt(year, m, day.unwrap_or(1))?;
    }
    if rest.is_empty() {
        return Some(Parts {
            year,
            month,
            day,
            time: None,
            zone: None,
        });
    }
    day?;
    let (time_text, zone_text) = split_zone(rest);
    let time = parse_time(time_text)?;
    let zone = match zone_text {
        "" => None,
        z => Some(parse_zone(z)?),
    };
    Some(Parts {
        year,
        month,
        day,
        time: Some(time),
        zone,
    })
}

/// Splits the date from what follows it (`T…`, ` …`, or the compact form's time digits).
fn split_date(text: &str) -> Option<(&str, &str)> {
    if let Some(at) = text.find(['T', ' ']) {
        let date = text.get(..at)?;
        let rest = text.get(at + 1..)?;
        return (!rest.is_empty()).then_some((date, rest));
    }
    if text.contains('-') && text.len() <= 10 {
        return Some((text, ""));
    }
    // Compact: the date is the first 4, 6 or 8 digits; anything after is time and zone.
    let digit_run = text.bytes().take_while(u8::is_ascii_digit).count();
    if digit_run <= 8 {
        return Some((
            text.get(..digit_run)?,
            text.get(digit_run..).filter(|r| r.is_empty())?,
        ));
    }
    Some((text.get(..8)?, text.get(8..)?))
}

/// Splits `14:20:00+01:00` into time and zone; `Z` and a sign start the zone.
fn split_zone(rest: &str) -> (&str, &str) {
    match rest.find(['Z', 'z', '+', '-']) {
        Some(at) => (rest.get(..at).unwrap_or(""), rest.get(at..).unwrap_or("")),
        None => (rest, ""),
    }
}

fn parse_time(text: &str) -> Option<(u32, u32, u32, String)> {
    let (main, frac) = match text.split_once(['.', ',']) {
        Some((m, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            (m, format!(".{f}"))
        }
        Some(_) => return None,
        None => (text, String::new()),
    };
    let digits: String = main.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u32>().ok());
    let (h, m, s) = match digits.len() {
        4 => (num(0..2)?, num(2..4)?, 0),
        6 => (num(0..2)?, num(2..4)?, num(4..6)?),
        _ => return None,
    };
    (h < 24 && m < 60 && s < 60).then_some((h, m, s, frac))
}

/// `Z`, `+01:00`, `+0100` or `+01` → `Z` / `+01:00`, within FHIR's −12:00…+14:00.
fn parse_zone(text: &str) -> Option<String> {
    if text.eq_ignore_ascii_case("z") {
        return Some("Z".into());
    }
    let sign = text.get(..1)?;
    let digits: String = text.get(1..)?.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<u32>().ok()?, 0),
        4 => (
            digits.get(..2)?.parse::<u32>().ok()?,
            digits.get(2..)?.parse::<u32>().ok()?,
        ),
        _ => return None,
    };
    let ok = m < 60 && (h < 14 || (h == 14 && m == 0));
    ok.then(|| format!("{sign}{h:02}:{m:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_what_feeds_send() {
        assert_eq!(date_time("2024").as_deref(), Some("2024"));
        assert_eq!(date_time("2024-03").as_deref(), Some("2024-03"));
        assert_eq!(date_time("2024-03-05").as_deref(), Some("2024-03-05"));
        assert_eq!(
            date_time("2024-03-05T14:20:00Z").as_deref(),
            Some("2024-03-05T14:20:00Z")
        );
        assert_eq!(
            date_time("2024-03-05T14:20+0100").as_deref(),
            Some("2024-03-05T14:20:00+01:00")
        );
        assert_eq!(
            date_time("2024-03-05T14:20:00.123-05:00").as_deref(),
            Some("2024-03-05T14:20:00.123-05:00")
        );
        assert_eq!(
            date_time("20240305142000+0000").as_deref(),
            Some("2024-03-05T14:20:00+00:00")
        );
        assert_eq!(date_time("20240305").as_deref(), Some("2024-03-05"));
        // no offset: cut back to the date rather than invent a zone
        assert_eq!(
            date_time("2024-03-05T14:20:00").as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(date_time("2024-03-05 14:20").as_deref(), Some("2024-03-05"));
        assert_eq!(date("2024-03-05T14:20:00Z").as_deref(), Some("2024-03-05"));
        assert_eq!(
            instant("2024-03-05T14:20:00Z").as_deref(),
            Some("2024-03-05T14:20:00Z")
        );
        assert_eq!(instant("2024-03-05T14:20:00"), None);
        assert_eq!(instant("2024-03-05"), None);
    }

    #[test]
    fn drops_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "2024-02-30",
            "2024-13-01",
            "0000-01-01",
            "24-03-05",
            "2024-03-05T25:00:00Z",
            "2024-03-05T10:00:00+15:00",
            "2024-03-05T",
            "2024-03-05T10:00:00.Z",
            "99999999999999999999",
        ] {
            assert_eq!(date_time(bad), None, "{bad}");
        }
    }
}
