//! Allergies as the sources said them: "no known allergies" only where a source recorded
//! that, "no allergy information" where none sent any, and a conflict shown as one.

use super::{source_of, when_text, Allergies, AllergyLine};
use crate::model::{Category, EntryBody, StoredEntry};
use std::collections::BTreeSet;

/// SNOMED CT codes for "no known allergy" and its kinds (drug, food, environmental, insect
/// venom, latex): a statement that allergies were asked about and none found.
const NO_KNOWN_ALLERGY_CODES: &[&str] = &[
    "716186003",
    "409137002",
    "429625007",
    "428607008",
    "428197003",
    "1003774007",
];

/// Whether an allergy entry records that the person has no known allergies.
pub fn is_no_known_allergy(e: &StoredEntry) -> bool {
    if e.entry
        .code
        .as_deref()
        .is_some_and(|c| NO_KNOWN_ALLERGY_CODES.contains(&c.trim()))
    {
        return true;
    }
    let substance = match &e.entry.body {
        EntryBody::Allergy(a) => a.substance.as_deref().unwrap_or(""),
        _ => "",
    };
    [e.entry.title.as_str(), substance].iter().any(|t| {
        let t = t.trim().trim_end_matches('.').to_lowercase();
        matches!(t.as_str(), "nkda" | "nka" | "nkfa")
            || (t.starts_with("no known") && t.contains("allerg"))
    })
}

pub(super) fn allergies(current: &[&StoredEntry]) -> Allergies {
    let all: Vec<&StoredEntry> = current
        .iter()
        .copied()
        .filter(|e| e.entry.category == Category::Allergy)
        .collect();
    let (none_known, listed): (Vec<&StoredEntry>, Vec<&StoredEntry>) =
        all.into_iter().partition(|e| is_no_known_allergy(e));
    let nkda_from: Vec<String> = none_known
        .iter()
        .map(|e| {
            let when = e
                .entry
                .recorded_at
                .as_deref()
                .or(e.entry.start.as_deref())
                .map(|t| format!(" ({})", when_text(t)))
                .unwrap_or_default();
            format!("{}{when}", source_of(e))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut seen = BTreeSet::new();
    let items: Vec<AllergyLine> = listed
        .iter()
        .filter(|e| seen.insert(e.entry.title.to_lowercase()))
        .map(|e| AllergyLine {
            text: allergy_text(e),
            source: source_of(e),
        })
        .collect();
    let names = || {
        items
            .iter()
            .map(|i| i.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (state, headline) = match (nkda_from.is_empty(), items.is_empty()) {
        (true, true) => ("none", "No allergy information".to_owned()),
        (false, true) => ("nkda", "No known allergies".to_owned()),
        (true, false) => ("listed", format!("Allergies: {}", names())),
        (false, false) => (
            "conflict",
            format!(
                "Allergies conflict: one source records no known allergies, another records {}",
                names()
            ),
        ),
    };
    Allergies {
        state,
        headline,
        items,
        nkda_from,
    }
}

/// "Penicillin (rash, severe)".
pub fn allergy_text(e: &StoredEntry) -> String {
    let EntryBody::Allergy(a) = &e.entry.body else {
        return e.entry.title.clone();
    };
    let more: Vec<String> = [a.reaction.as_deref(), a.severity.as_deref()]
        .into_iter()
        .flatten()
        .map(str::to_lowercase)
        .collect();
    if more.is_empty() {
        e.entry.title.clone()
    } else {
        format!("{} ({})", e.entry.title, more.join(", "))
    }
}
