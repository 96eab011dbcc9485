//! Why each person on the page matched, in words for the "Why it matched" column, and a last
//! check that every term of the query holds for them.

use super::{Found, Query, Tier};
use crate::store::SearchPerson;
use chrono::Datelike;

/// Checks every term against the person; `None` when one does not hold.
pub(super) fn explain(q: &Query, person: SearchPerson, tier: Tier) -> Option<Found> {
    let d = &person.demographics;
    let mut reasons = Vec::new();
    if let Some(nhs) = &q.nhs_number {
        // The store matched on the golden number or on a number a source sent.
        let golden = d.nhs_number.as_ref().is_some_and(|n| &n.value == nhs);
        reasons.push(if golden {
            "NHS number".to_owned()
        } else {
            "NHS number (as one source sent it)".to_owned()
        });
    }
    if !q.names.is_empty() {
        reasons.push(name_reason(&q.names, &person)?);
    }
    if let Some(b) = q.birth_date {
        if d.birth_date != Some(b) {
            return None;
        }
        reasons.push("date of birth".into());
    }
    if let Some(y) = q.birth_year {
        if d.birth_date.map(|b| b.year()) != Some(y) {
            return None;
        }
        reasons.push("year of birth".into());
    }
    if let Some(p) = &q.postcode {
        let key: String = d
            .postcode()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let holds = if p.outward {
            key.len() == p.key.len() + 3 && key.starts_with(&p.key)
        } else {
            key == p.key
        };
        if !holds {
            return None;
        }
        reasons.push(if p.outward {
            "postcode district".into()
        } else {
            "postcode".into()
        });
    }
    if let Some(s) = q.sex {
        if d.sex != Some(s) {
            return None;
        }
        reasons.push("sex".into());
    }
    Some(Found {
        person,
        reasons,
        tier,
    })
}

/// Why the name words matched: the person's own name, or a spelling a source uses, or a
/// similar-sounding name (the store also finds names by sound).
pub(super) fn name_reason(words: &[String], person: &SearchPerson) -> Option<String> {
    let golden = name_words(&person.demographics.given, &person.demographics.family);
    if words
        .iter()
        .all(|w| golden.iter().any(|g| g.starts_with(w.as_str())))
    {
        return Some("name".into());
    }
    let mut all = golden.clone();
    for (given, family) in &person.source_names {
        all.extend(name_words(given, family));
    }
    // For each word not in the golden name, the closest name any source gives.
    let mut variants = Vec::new();
    for w in words {
        if golden.iter().any(|g| g.starts_with(w.as_str())) {
            continue;
        }
        let best = all
            .iter()
            .map(|n| {
                let prefix = if n.starts_with(w.as_str()) { 1.0 } else { 0.0 };
                let sim = strsim::jaro_winkler(w, n);
                (prefix + sim, n)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        variants.push(title_case(best.1));
    }
    Some(format!("name ≈ {}", variants.join(" ")))
}

fn name_words(given: &[String], family: &Option<String>) -> Vec<String> {
    given
        .iter()
        .chain(family.iter())
        .flat_map(|n| {
            n.split(|c: char| c.is_whitespace() || c == '-')
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn title_case(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
