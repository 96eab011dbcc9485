//! ISO weeks: their names ("2024-W09") and the window of weeks the figures cover.

use chrono::{Datelike, Days, NaiveDate};

/// The Monday of a date's ISO week.
pub fn monday(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday())))
        .unwrap_or(d)
}

/// "2024-W09".
pub fn name(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// `count` consecutive weeks ending with the week of `last`, as their Mondays, oldest first.
pub fn window(last: NaiveDate, count: u32) -> Vec<NaiveDate> {
    let end = monday(last);
    (0..u64::from(count.max(1)))
        .rev()
        .filter_map(|k| end.checked_sub_days(Days::new(7 * k)))
        .collect()
}

/// A stored date or time ("2024-03-04", "2024-03-04T10:00:00Z") as a date.
pub fn date_of(text: Option<&str>) -> Option<NaiveDate> {
    let t = text?.trim();
    NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_named_the_iso_way() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        assert_eq!(name(d), "2024-W13");
        let w = window(d, 3);
        assert_eq!(w.len(), 3);
        assert_eq!(name(w[0]), "2024-W11");
        // 2021-01-03 belongs to 2020's week 53.
        assert_eq!(
            name(NaiveDate::from_ymd_opt(2021, 1, 3).unwrap()),
            "2020-W53"
        );
        assert_eq!(
            date_of(Some("2024-03-04T10:00:00Z")),
            NaiveDate::from_ymd_opt(2024, 3, 4)
        );
        assert_eq!(date_of(Some("2024")), None);
    }
}
