//! Current medications reconciled across sources: one line per drug (matched on its name
//! without strength or form, or on its code), each source's latest dose and date, and a
//! difference between the sources' doses said out loud.

use super::{when_text, MedicationLine, MedicationSource, PersonRecord};
use crate::model::entry::Medication;
use crate::model::{EntryBody, SourceKind, StoredEntry};
use std::collections::{BTreeMap, BTreeSet};

/// Words that end a medicine's name in a product description: "Amlodipine 5mg tablets" is
/// amlodipine.
const FORM_WORDS: &[&str] = &[
    "tablet",
    "tablets",
    "capsule",
    "capsules",
    "oral",
    "solution",
    "suspension",
    "injection",
    "cream",
    "ointment",
    "inhaler",
    "patch",
    "patches",
    "modified-release",
    "m/r",
    "mr",
    "gastro-resistant",
    "dispersible",
    "effervescent",
    "liquid",
    "drops",
    "spray",
    "suppositories",
    "syrup",
];

/// The medicine's name without strength or form, lower case: the key that says two entries
/// are the same drug.
pub fn drug_key(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(')
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .take_while(|w| !FORM_WORDS.contains(&w.as_str()))
        .collect();
    words.join(" ")
}

fn kind_of(r: &PersonRecord, source_code: &str) -> Option<SourceKind> {
    r.sources
        .iter()
        .find(|s| s.source_code == source_code)
        .map(|s| s.source_kind)
}

fn kind_label(k: Option<SourceKind>) -> &'static str {
    match k {
        Some(SourceKind::Gp) => "GP",
        Some(SourceKind::Acute) => "hospital",
        Some(SourceKind::Community) => "community",
        Some(SourceKind::MentalHealth) => "mental health",
        Some(SourceKind::SocialCare) => "social care",
        None => "source",
    }
}

/// A dose as compared: case, spaces and punctuation do not make two doses different.
fn dose_key(dose: &str) -> String {
    dose.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

fn dose_text(m: &Medication) -> String {
    let parts: Vec<&str> = [m.dose.as_deref(), m.frequency.as_deref()]
        .into_iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if parts.is_empty() {
        "dose not stated".into()
    } else {
        parts.join(", ")
    }
}

/// The newest date an entry carries.
fn latest(e: &StoredEntry) -> Option<&str> {
    [e.entry.start.as_deref(), e.entry.recorded_at.as_deref()]
        .into_iter()
        .flatten()
        .max()
}

pub(super) fn medications(r: &PersonRecord, current: &[&StoredEntry]) -> Vec<MedicationLine> {
    // Group by drug: the same code joins entries whose names differ.
    let mut key_of_code: BTreeMap<String, String> = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<(&StoredEntry, &Medication)>> = BTreeMap::new();
    for e in current {
        let EntryBody::Medication(m) = &e.entry.body else {
            continue;
        };
        let name = m.name.as_deref().unwrap_or(&e.entry.title);
        let mut key = drug_key(name);
        if key.is_empty() {
            key = e.entry.title.to_lowercase();
        }
        if let Some(code) = e.entry.code.as_deref().filter(|c| !c.trim().is_empty()) {
            key = key_of_code
                .entry(code.trim().to_owned())
                .or_insert(key)
                .clone();
        }
        groups.entry(key).or_default().push((e, m));
    }
    let mut lines: Vec<(Option<String>, MedicationLine)> = groups
        .into_values()
        .map(|entries| {
            let mut by_source: BTreeMap<&str, Vec<(&StoredEntry, &Medication)>> = BTreeMap::new();
            for (e, m) in &entries {
                by_source
                    .entry(e.provenance.source_code.as_str())
                    .or_default()
                    .push((e, m));
            }
            let sources: Vec<(MedicationSource, String)> = by_source
                .into_iter()
                .filter_map(|(code, mut list)| {
                    list.sort_by(|a, b| latest(b.0).cmp(&latest(a.0)));
                    let (e, m) = list.first()?;
                    let dated = latest(e).map(|t| {
                        let verb = if m.kind.as_deref() == Some("request") {
                            "last issued"
                        } else {
                            "recorded"
                        };
                        format!("{verb} {}", when_text(t))
                    });
                    let kind = kind_label(kind_of(r, code));
                    Some((
                        MedicationSource {
                            source: format!("{} ({kind})", e.provenance.organisation),
                            dose: dose_text(m),
                            dated,
                            records: list.len(),
                        },
                        m.dose.as_deref().map(dose_key).unwrap_or_default(),
                    ))
                })
                .collect();
            let doses: BTreeSet<&str> = sources
                .iter()
                .map(|(_, d)| d.as_str())
                .filter(|d| !d.is_empty())
                .collect();
            let dose_warning = (doses.len() > 1).then(|| "Doses differ between sources".to_owned());
            let newest = entries
                .iter()
                .filter_map(|(e, _)| latest(e))
                .max()
                .map(str::to_owned);
            let (first, m) = entries[0];
            let name = m.name.clone().unwrap_or_else(|| first.entry.title.clone());
            (
                newest,
                MedicationLine {
                    name,
                    sources: sources.into_iter().map(|(s, _)| s).collect(),
                    dose_warning,
                },
            )
        })
        .collect();
    // A difference first, then the most recently dated.
    lines.sort_by(|a, b| {
        (b.1.dose_warning.is_some(), &b.0).cmp(&(a.1.dose_warning.is_some(), &a.0))
    });
    lines.into_iter().map(|(_, l)| l).collect()
}
