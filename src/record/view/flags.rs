//! The banner's flags: what must not be missed on opening a record, drawn from the current
//! entries (advance directives, allergies, safeguarding, COVID-19 status) and from death.

use super::{date_text, is_current, when_text, Flag, PersonRecord};
use crate::model::entry::{ConditionFlag, DirectiveKind, FlagState};
use crate::model::{Category, EntryBody, StoredEntry};
use chrono::NaiveDate;
use std::collections::BTreeSet;

pub(super) fn flags(r: &PersonRecord, today: NaiveDate) -> Vec<Flag> {
    let current: Vec<&StoredEntry> = r.entries.iter().filter(|e| is_current(e, today)).collect();
    let mut out = Vec::new();
    let d = &r.demographics;
    if d.deceased || d.death_date.is_some() {
        let when = d
            .death_date
            .map(|x| format!(" {}", date_text(x)))
            .unwrap_or_default();
        out.push(Flag {
            kind: "deceased",
            text: format!("Deceased{when}"),
        });
    }
    for (kind, label) in [
        (DirectiveKind::Dnacpr, "DNACPR: do not attempt CPR"),
        (DirectiveKind::Respect, "ReSPECT form"),
        (
            DirectiveKind::LpaHealthWelfare,
            "Lasting power of attorney (health and welfare)",
        ),
        (DirectiveKind::Adrt, "Advance decision to refuse treatment"),
    ] {
        let held: Vec<&StoredEntry> = current
            .iter()
            .copied()
            .filter(|e| matches!(&e.entry.body, EntryBody::AdvanceDirective(a) if a.kind == kind))
            .collect();
        if let Some(e) = held.first() {
            let since = e
                .entry
                .start
                .as_deref()
                .map(|s| format!(" ({})", when_text(s)))
                .unwrap_or_default();
            out.push(Flag {
                kind: match kind {
                    DirectiveKind::Dnacpr => "dnacpr",
                    DirectiveKind::Respect => "respect",
                    DirectiveKind::Adrt => "adrt",
                    _ => "lpa",
                },
                text: format!("{label}{since}"),
            });
        }
    }
    out.push(allergy_flag(&current));
    let safeguarding = distinct(
        current
            .iter()
            .filter(|e| e.entry.category == Category::Safeguarding)
            .map(|e| (e.entry.title.clone(), e.entry.title.clone())),
    );
    if !safeguarding.is_empty() {
        out.push(Flag {
            kind: "safeguarding",
            text: format!("Safeguarding: {}", safeguarding.join("; ")),
        });
    }
    if let Some(covid) = covid_flag(r) {
        out.push(covid);
    }
    out
}

/// What the sources say about allergies, saying "no known allergies" only where one recorded
/// it.
fn allergy_flag(current: &[&StoredEntry]) -> Flag {
    let a = super::summary::Summary::allergies_of(current);
    let kind = match a.state {
        "nkda" => "nka",
        "listed" => "allergy",
        "conflict" => "allergy-conflict",
        _ => "allergy-unknown",
    };
    Flag {
        kind,
        text: a.headline,
    }
}

/// Texts with distinct keys (case ignored), first one kept: two sources often send the same
/// allergy.
fn distinct(texts: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    texts
        .filter(|(key, _)| seen.insert(key.to_lowercase()))
        .map(|(_, text)| text)
        .collect()
}

/// The newest COVID-19 condition flag.
fn covid_flag(r: &PersonRecord) -> Option<Flag> {
    let is_covid = |t: &str| {
        let t = t.to_lowercase();
        t.contains("covid") || t.contains("sars-cov-2") || t.contains("coronavirus")
    };
    let (flag, e) = r
        .entries
        .iter()
        .filter_map(|e| match &e.entry.body {
            EntryBody::ConditionFlag(f) if is_covid(&f.condition) || is_covid(&e.entry.title) => {
                Some((f, e))
            }
            _ => None,
        })
        .max_by(|a, b| {
            let key = |x: &(&ConditionFlag, &StoredEntry)| {
                x.0.date.clone().or_else(|| x.1.entry.start.clone())
            };
            key(a).cmp(&key(b))
        })?;
    let state = match flag.state {
        FlagState::Positive => "positive",
        FlagState::Negative => "negative",
        FlagState::Tested => "tested",
        FlagState::Other => "status recorded",
    };
    let when = flag
        .date
        .as_deref()
        .or(e.entry.start.as_deref())
        .map(|d| format!(" ({})", when_text(d)))
        .unwrap_or_default();
    Some(Flag {
        kind: "covid",
        text: format!("COVID-19 {state}{when}"),
    })
}
