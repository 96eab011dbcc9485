//! Test results in the banner, and only while they matter: a positive result is a warning for
//! [`POSITIVE_SHOWN_DAYS`] after the test; a negative or pending one is a plain note for
//! [`NOT_POSITIVE_SHOWN_DAYS`] (a recent negative screen helps the admitting team); after that
//! each is history, kept in the record's condition flags section. Each flag says what was
//! tested, how, and when.

use super::{when_text, Flag, PersonRecord};
use crate::model::entry::{ConditionFlag, FlagState};
use crate::model::{EntryBody, StoredEntry};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A positive result is a warning for two weeks from the test: past the period an infectious
/// patient is isolated for in hospital.
pub const POSITIVE_SHOWN_DAYS: i64 = 14;
/// A negative or awaited result is a note for three days: an admission screen's lifetime.
pub const NOT_POSITIVE_SHOWN_DAYS: i64 = 3;

/// The newest result per condition, when it is recent enough to show.
pub(super) fn flags(r: &PersonRecord, today: NaiveDate) -> Vec<Flag> {
    let mut newest: BTreeMap<String, (&ConditionFlag, &StoredEntry, String)> = BTreeMap::new();
    for e in &r.entries {
        let EntryBody::ConditionFlag(f) = &e.entry.body else {
            continue;
        };
        // When the test was: the flag's own date, else the entry's, else when it was recorded
        // or arrived — so every result can age out.
        let Some(when) = f
            .date
            .clone()
            .or_else(|| e.entry.start.clone())
            .or_else(|| e.entry.recorded_at.clone())
            .or_else(|| Some(e.provenance.received_at.clone()))
        else {
            continue;
        };
        let key = f.condition.trim().to_lowercase();
        let newer = newest.get(&key).is_none_or(|(_, _, seen)| when > *seen);
        if newer {
            newest.insert(key, (f, e, when));
        }
    }
    newest
        .into_values()
        .filter_map(|(f, e, when)| flag(f, e, &when, today))
        .collect()
}

fn flag(f: &ConditionFlag, e: &StoredEntry, when: &str, today: NaiveDate) -> Option<Flag> {
    let day = when
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())?;
    let age = today.signed_duration_since(day).num_days();
    let (kind, state, shown_for) = match f.state {
        FlagState::Positive => ("test-positive", "positive", POSITIVE_SHOWN_DAYS),
        FlagState::Negative => ("test", "negative", NOT_POSITIVE_SHOWN_DAYS),
        FlagState::Tested => ("test", "result awaited", NOT_POSITIVE_SHOWN_DAYS),
        FlagState::Other => return None,
    };
    if !(0..=shown_for).contains(&age) {
        return None;
    }
    let condition = f.condition.trim();
    // What was tested: the entry's title ("SARS-CoV-2 PCR") or the flag's detail, when it
    // says more than the condition's name.
    let test = [Some(e.entry.title.as_str()), f.detail.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|t| !t.is_empty() && !t.eq_ignore_ascii_case(condition));
    let what = match test {
        Some(t) => format!("{condition} {state}: {t}"),
        None => format!("{condition} test {state}"),
    };
    let ago = match age {
        0 => "today".to_owned(),
        1 => "1 day ago".to_owned(),
        n => format!("{n} days ago"),
    };
    Some(Flag {
        kind,
        text: format!("{what}, {} ({ago})", when_text(when)),
    })
}
