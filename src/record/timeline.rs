//! A person's timeline: every dated entry (contacts, results, plans, alerts …) newest first,
//! narrowed by category, source and date range. Results by test are `record::results`.

use super::view::{details, when_text, Detail};
use super::PersonRecord;
use crate::model::{Category, StoredEntry};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// What the timeline shows; `None` means no limit.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub category: Option<Category>,
    pub source: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub struct Row {
    pub when: String,
    pub category: &'static str,
    pub category_label: &'static str,
    pub title: String,
    pub status: Option<String>,
    pub summary: String,
    pub organisation: String,
    pub system: String,
}

/// The date an entry happened: its start, else when it was recorded, else its end.
fn event_time(e: &StoredEntry) -> Option<&str> {
    e.entry
        .start
        .as_deref()
        .or(e.entry.recorded_at.as_deref())
        .or(e.entry.end.as_deref())
}

fn day_of(t: &str) -> Option<NaiveDate> {
    t.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .or_else(|| {
            // `2024` or `2024-03`: the first day of the period.
            let padded = match t.len() {
                4 => format!("{t}-01-01"),
                7 => format!("{t}-01"),
                _ => return None,
            };
            NaiveDate::parse_from_str(&padded, "%Y-%m-%d").ok()
        })
}

/// The rows the filter lets through, newest first; undated entries only when no dates are set.
pub fn timeline(r: &PersonRecord, f: &Filter) -> Vec<Row> {
    let mut picked: Vec<(&str, &StoredEntry)> = r
        .entries
        .iter()
        .filter(|e| f.category.is_none_or(|c| e.entry.category == c))
        .filter(|e| {
            f.source
                .as_deref()
                .is_none_or(|s| e.provenance.source_code == s)
        })
        .filter_map(|e| {
            let t = event_time(e);
            let day = t.and_then(day_of);
            if f.from.is_some() || f.to.is_some() {
                let day = day?;
                if f.from.is_some_and(|from| day < from) || f.to.is_some_and(|to| day > to) {
                    return None;
                }
            }
            Some((t.unwrap_or(""), e))
        })
        .collect();
    picked.sort_by(|a, b| b.0.cmp(a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    picked
        .into_iter()
        .map(|(t, e)| Row {
            when: if t.is_empty() {
                "date not recorded".into()
            } else {
                when_text(t)
            },
            category: e.entry.category.as_str(),
            category_label: e.entry.category.label(),
            title: e.entry.title.clone(),
            status: e.entry.status.clone(),
            summary: summary(&details(&e.entry.body)),
            organisation: e.provenance.organisation.clone(),
            system: e.provenance.source_name.clone(),
        })
        .collect()
}

fn summary(details: &[Detail]) -> String {
    details
        .iter()
        .take(4)
        .map(|d| format!("{}: {}", d.label, d.value))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The categories and sources (code, name) a person's record holds, for the filter lists.
pub fn choices(r: &PersonRecord) -> (Vec<Category>, Vec<(String, String)>) {
    let mut categories: Vec<Category> = r.entries.iter().map(|e| e.entry.category).collect();
    categories.sort();
    categories.dedup();
    let sources: BTreeMap<String, String> = r
        .entries
        .iter()
        .map(|e| {
            (
                e.provenance.source_code.clone(),
                e.provenance.source_name.clone(),
            )
        })
        .collect();
    (categories, sources.into_iter().collect())
}
