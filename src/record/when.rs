//! Dates, times and durations as people in the UK read them: `2 Dec 2026`, `2 Dec 2026 22:55
//! GMT`, `3 Jul 2024 12:05 BST`, `7 days`.
//!
//! Times are shown in Europe/London local time. chrono has no time zones of its own; rather than
//! add chrono-tz (the whole IANA database compiled in, for one zone), the UK rule is written
//! here: British Summer Time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
//! last Sunday of October (the Summer Time Order 2002, unchanged since 1996 and kept after
//! 2020). Times before 1996 follow the same rule; the record shows nothing that old to the
//! minute.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// `14 Mar 1938`.
pub fn date_text(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }?;
    let last = first_of_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    last.checked_sub_signed(Duration::days(i64::from(back)))
}

/// Whether the UK keeps summer time at this instant.
pub fn is_summer_time(t: DateTime<Utc>) -> bool {
    let year = t.year();
    let at_one = |d: NaiveDate| d.and_time(NaiveTime::MIN) + Duration::hours(1);
    match (last_sunday(year, 3), last_sunday(year, 10)) {
        (Some(start), Some(end)) => {
            let naive = t.naive_utc();
            naive >= at_one(start) && naive < at_one(end)
        }
        _ => false,
    }
}

/// The instant as Europe/London wall-clock time, with its zone's name.
pub fn london(t: DateTime<Utc>) -> (NaiveDateTime, &'static str) {
    if is_summer_time(t) {
        (t.naive_utc() + Duration::hours(1), "BST")
    } else {
        (t.naive_utc(), "GMT")
    }
}

/// The instant today began in the UK (local midnight), for "today" counts people read in UK
/// time. On the two days a year the clocks change, the offset of `now` is used.
pub fn uk_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let (local, _) = london(now);
    let offset = local - now.naive_utc();
    (local.date().and_time(NaiveTime::MIN) - offset).and_utc()
}

/// `2 Dec 2026 22:55 GMT`.
pub fn local_text(t: DateTime<Utc>) -> String {
    let (local, zone) = london(t);
    format!("{} {zone}", local.format("%-d %b %Y %H:%M"))
}

/// The zone a wall-clock time in the UK falls in. A time sent without an offset is the
/// sender's local time (HL7 v2 and most UK CSV extracts); taking it as UTC to decide the zone
/// can be wrong only in the hour of a change.
fn zone_of_local(local: NaiveDateTime) -> &'static str {
    if is_summer_time(local.and_utc()) {
        "BST"
    } else {
        "GMT"
    }
}

/// An ISO 8601 time as precise as the source gave it, for reading: `3 Feb 2024 11:05 GMT`,
/// `3 Feb 2024`, `Feb 2024`, `2024`. A time with an offset is shown in UK local time; one
/// without is already local. Unparseable text is shown as it came.
pub fn when_text(t: &str) -> String {
    let t = t.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(t) {
        return local_text(instant.with_timezone(&Utc));
    }
    let date = t
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match date {
        Some(d) => {
            let time = t
                .get(11..16)
                .and_then(|x| NaiveTime::parse_from_str(x, "%H:%M").ok());
            match time {
                Some(hm) if hm != NaiveTime::MIN || t.len() > 16 => {
                    let local = d.and_time(hm);
                    format!(
                        "{} {} {}",
                        date_text(d),
                        hm.format("%H:%M"),
                        zone_of_local(local)
                    )
                }
                _ => date_text(d),
            }
        }
        None => match t.get(..7).map(|m| format!("{m}-01")) {
            Some(m) if t.len() == 7 => NaiveDate::parse_from_str(&m, "%Y-%m-%d")
                .map(|d| d.format("%b %Y").to_string())
                .unwrap_or_else(|_| t.to_owned()),
            _ => t.to_owned(),
        },
    }
}

/// The date part of an ISO 8601 time, when it has one.
pub fn date_of(t: &str) -> Option<NaiveDate> {
    t.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// A span of hours in the unit people plan by: `7 days`, `1 day`, `12 hours`, `1 day 6 hours`.
pub fn duration_text(hours: i64) -> String {
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let (days, rest) = (hours / 24, hours % 24);
    match (days, rest) {
        (0, h) => plural(h, "hour", "hours"),
        (d, 0) => plural(d, "day", "days"),
        (d, h) => format!(
            "{} {}",
            plural(d, "day", "days"),
            plural(h, "hour", "hours")
        ),
    }
}

/// Days from `today` to `date`: negative when it has passed.
pub fn days_until(date: NaiveDate, today: NaiveDate) -> i64 {
    date.signed_duration_since(today).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn summer_time_starts_and_ends_at_one_in_the_morning_utc_on_the_last_sundays() {
        // 2026: 29 March and 25 October.
        assert!(!is_summer_time(utc("2026-03-29T00:59:59Z")));
        assert!(is_summer_time(utc("2026-03-29T01:00:00Z")));
        assert!(is_summer_time(utc("2026-10-25T00:59:59Z")));
        assert!(!is_summer_time(utc("2026-10-25T01:00:00Z")));
        // 2024: 31 March and 27 October; a month whose last day is a Sunday.
        assert!(is_summer_time(utc("2024-03-31T01:00:00Z")));
        assert!(!is_summer_time(utc("2024-03-30T12:00:00Z")));
        assert!(!is_summer_time(utc("2024-10-27T01:00:00Z")));
        assert!(is_summer_time(utc("2024-10-27T00:30:00Z")));
        assert!(!is_summer_time(utc("2026-12-02T22:55:00Z")));
        assert!(is_summer_time(utc("2026-07-01T12:00:00Z")));
    }

    #[test]
    fn times_are_shown_in_london_with_their_zone() {
        assert_eq!(
            local_text(utc("2026-12-02T22:55:00Z")),
            "2 Dec 2026 22:55 GMT"
        );
        assert_eq!(
            local_text(utc("2024-07-03T23:30:00Z")),
            "4 Jul 2024 00:30 BST"
        );
        assert_eq!(when_text("2024-07-03T11:05:00Z"), "3 Jul 2024 12:05 BST");
        assert_eq!(
            when_text("2024-07-03T11:05:00+01:00"),
            "3 Jul 2024 11:05 BST"
        );
        assert_eq!(
            when_text("2024-02-03T11:05:00+00:00"),
            "3 Feb 2024 11:05 GMT"
        );
        // Sent without an offset: already local.
        assert_eq!(when_text("2024-07-03T11:05"), "3 Jul 2024 11:05 BST");
        assert_eq!(when_text("2024-02-03T11:05"), "3 Feb 2024 11:05 GMT");
        assert_eq!(when_text("2024-02-03"), "3 Feb 2024");
        assert_eq!(when_text("2024-02"), "Feb 2024");
        assert_eq!(when_text("2024"), "2024");
        assert_eq!(when_text("soon"), "soon");
    }

    #[test]
    fn durations_are_in_days_when_whole_days() {
        assert_eq!(duration_text(168), "7 days");
        assert_eq!(duration_text(24), "1 day");
        assert_eq!(duration_text(12), "12 hours");
        assert_eq!(duration_text(1), "1 hour");
        assert_eq!(duration_text(30), "1 day 6 hours");
    }

    #[test]
    fn regression_feed_counts_today_begin_at_uk_midnight_not_utc() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        // Summer: 00:30 BST on 3 July is 23:30 UTC on 2 July; the day began at 23:00 UTC.
        assert_eq!(
            uk_midnight(at("2026-07-02T23:30:00Z")),
            at("2026-07-02T23:00:00Z")
        );
        assert_eq!(
            uk_midnight(at("2026-07-03T12:00:00Z")),
            at("2026-07-02T23:00:00Z")
        );
        // Winter: GMT is UTC.
        assert_eq!(
            uk_midnight(at("2026-12-02T23:30:00Z")),
            at("2026-12-02T00:00:00Z")
        );
    }
}
