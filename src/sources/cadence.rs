//! When a source is expected to send, and whether it has gone quiet.
//!
//! Two forms: `daily-by HH:MM` (a file by that time, UTC, every day) and `every N{s,m,h,d}`
//! (at least one file in every such span). From the last file received (or, before the first
//! one, from when the source was registered) a cadence gives the moment the next file is due:
//!
//! - `every D`: due at last + D.
//! - `daily-by T`: a file received at L counts for the first deadline at or after L; the next
//!   file is due by the deadline one day later.
//!
//! The status is green before the due moment, amber from the due moment until a grace period
//! has passed (`feeds.overdue_grace_minutes`), red after that, and green again as soon as a file
//! arrives (which moves the due moment on).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    DailyBy(NaiveTime),
    Every(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Green,
    Amber,
    Red,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Amber => "amber",
            Self::Red => "red",
        }
    }
}

impl Cadence {
    /// Parses a cadence spec; the error says what is expected.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "cadence {spec:?} is not understood: use `daily-by HH:MM` (UTC) or `every N` with \
                 N like 30m, 1h, 2d"
            )
        };
        let mut words = spec.split_whitespace();
        let (Some(form), Some(arg), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad());
        };
        match form {
            "daily-by" => NaiveTime::parse_from_str(arg, "%H:%M")
                .map(Self::DailyBy)
                .map_err(|_| bad()),
            "every" => {
                let split = arg.len().saturating_sub(1);
                let (n, unit) = (arg.get(..split).ok_or_else(bad)?, arg.get(split..));
                let n: i64 = n.parse().map_err(|_| bad())?;
                let span = match unit {
                    Some("s") => Duration::try_seconds(n),
                    Some("m") => Duration::try_minutes(n),
                    Some("h") => Duration::try_hours(n),
                    Some("d") => Duration::try_days(n),
                    _ => None,
                };
                match span {
                    Some(d) if n > 0 => Ok(Self::Every(d)),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// The canonical spelling, as stored.
    pub fn spec(&self) -> String {
        match self {
            Self::DailyBy(t) => format!("daily-by {}", t.format("%H:%M")),
            Self::Every(d) => {
                let s = d.num_seconds();
                if s % 86_400 == 0 {
                    format!("every {}d", s / 86_400)
                } else if s % 3_600 == 0 {
                    format!("every {}h", s / 3_600)
                } else if s % 60 == 0 {
                    format!("every {}m", s / 60)
                } else {
                    format!("every {s}s")
                }
            }
        }
    }

    /// When the next file is due, given the last one (or the source's registration).
    pub fn due_at(&self, last: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Every(d) => last + *d,
            Self::DailyBy(t) => {
                let mut deadline = last.date_naive().and_time(*t).and_utc();
                if deadline < last {
                    deadline += Duration::days(1);
                }
                deadline + Duration::days(1)
            }
        }
    }

    pub fn health(&self, last: DateTime<Utc>, now: DateTime<Utc>, grace: Duration) -> Health {
        let due = self.due_at(last);
        if now < due {
            Health::Green
        } else if now < due + grace {
            Health::Amber
        } else {
            Health::Red
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn specs_parse_and_print_back() {
        for s in [
            "daily-by 06:00",
            "every 1h",
            "every 30m",
            "every 2d",
            "every 45s",
        ] {
            assert_eq!(Cadence::parse(s).unwrap().spec(), s);
        }
        for s in [
            "",
            "daily-by",
            "daily-by 25:00",
            "every",
            "every h",
            "every 0h",
            "every 3x",
        ] {
            assert!(Cadence::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn daily_by_turns_amber_at_the_deadline_then_red_after_the_grace() {
        let c = Cadence::parse("daily-by 06:00").unwrap();
        let grace = Duration::minutes(60);
        let last = at("2025-03-01T02:00:00Z");
        assert_eq!(c.due_at(last), at("2025-03-02T06:00:00Z"));
        assert_eq!(
            c.health(last, at("2025-03-02T05:59:59Z"), grace),
            Health::Green
        );
        assert_eq!(
            c.health(last, at("2025-03-02T06:00:00Z"), grace),
            Health::Amber
        );
        assert_eq!(
            c.health(last, at("2025-03-02T07:00:00Z"), grace),
            Health::Red
        );
        // A late file counts for the next day's deadline.
        let late = at("2025-03-02T09:00:00Z");
        assert_eq!(c.due_at(late), at("2025-03-04T06:00:00Z"));
        assert_eq!(
            c.health(late, at("2025-03-02T09:00:01Z"), grace),
            Health::Green
        );
    }

    #[test]
    fn every_is_measured_from_the_last_file() {
        let c = Cadence::parse("every 1h").unwrap();
        let last = at("2025-03-01T10:15:00Z");
        let grace = Duration::minutes(30);
        assert_eq!(
            c.health(last, at("2025-03-01T11:14:00Z"), grace),
            Health::Green
        );
        assert_eq!(
            c.health(last, at("2025-03-01T11:20:00Z"), grace),
            Health::Amber
        );
        assert_eq!(
            c.health(last, at("2025-03-01T11:45:00Z"), grace),
            Health::Red
        );
    }
}
