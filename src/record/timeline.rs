//! A person's timeline: every dated entry (contacts, results, plans, alerts …) newest first,
//! narrowed by category, source and date range; and their results grouped by test for the
//! results page and its trend charts.

use super::view::{details, period, when_text, Detail};
use super::PersonRecord;
use crate::model::{Category, EntryBody, StoredEntry};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
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

/// One test's results.
pub struct Test {
    /// Stable within the record: the code, else the title, lower case.
    pub key: String,
    pub title: String,
    /// Newest first.
    pub rows: Vec<ResultRow>,
    /// Numeric values oldest first, for the trend.
    pub points: Vec<(NaiveDateTime, f64)>,
    pub unit: Option<String>,
    /// Low and high limits when the reference range is "low-high".
    pub range: Option<(f64, f64)>,
}

pub struct ResultRow {
    pub when: String,
    pub value: String,
    pub unit: String,
    pub range: String,
    /// Words for the flag: "High", "Low", "Critically high" …; `None` when normal or absent.
    pub flag: Option<String>,
    pub status: String,
    pub organisation: String,
}

/// The key a result is grouped under.
pub fn test_key(e: &StoredEntry) -> String {
    match &e.entry.code {
        Some(c) if !c.trim().is_empty() => c.trim().to_lowercase(),
        _ => e.entry.title.trim().to_lowercase(),
    }
}

/// Results grouped by test, tests in name order.
pub fn tests(r: &PersonRecord) -> Vec<Test> {
    let mut groups: BTreeMap<String, Vec<&StoredEntry>> = BTreeMap::new();
    for e in r
        .entries
        .iter()
        .filter(|e| e.entry.category == Category::Result)
    {
        groups.entry(test_key(e)).or_default().push(e);
    }
    let mut out: Vec<Test> = groups
        .into_iter()
        .map(|(key, mut entries)| {
            entries.sort_by(|a, b| event_time(b).cmp(&event_time(a)));
            let mut points: Vec<(NaiveDateTime, f64)> = entries
                .iter()
                .filter_map(|e| match &e.entry.body {
                    EntryBody::Result(res) => {
                        let at = event_time(e).and_then(instant)?;
                        res.numeric.filter(|v| v.is_finite()).map(|v| (at, v))
                    }
                    _ => None,
                })
                .collect();
            points.sort_by_key(|p| p.0);
            let newest = entries.first().and_then(|e| match &e.entry.body {
                EntryBody::Result(res) => Some(res),
                _ => None,
            });
            Test {
                title: entries
                    .first()
                    .map(|e| e.entry.title.clone())
                    .unwrap_or_default(),
                unit: newest.and_then(|r| r.unit.clone()),
                range: newest
                    .and_then(|r| r.reference_range.as_deref())
                    .and_then(parse_range),
                rows: entries.iter().map(|e| result_row(e)).collect(),
                points,
                key,
            }
        })
        .collect();
    out.sort_by_key(|t| t.title.to_lowercase());
    out
}

fn instant(t: &str) -> Option<NaiveDateTime> {
    let day = day_of(t)?;
    let time = t
        .get(11..16)
        .and_then(|x| NaiveTime::parse_from_str(x, "%H:%M").ok())
        .unwrap_or(NaiveTime::MIN);
    Some(day.and_time(time))
}

/// "115-165" → (115, 165); "<5" and other shapes give `None`.
fn parse_range(s: &str) -> Option<(f64, f64)> {
    let (lo, hi) = s.split_once('-')?;
    let lo: f64 = lo.trim().parse().ok()?;
    let hi: f64 = hi.trim().parse().ok()?;
    (lo.is_finite() && hi.is_finite() && lo < hi).then_some((lo, hi))
}

/// HL7 table 0078 abnormal flags in words.
pub fn flag_words(flag: &str) -> Option<String> {
    let words = match flag.trim().to_ascii_uppercase().as_str() {
        "" | "N" => return None,
        "H" => "High",
        "L" => "Low",
        "HH" | ">" => "Critically high",
        "LL" | "<" => "Critically low",
        "A" => "Abnormal",
        "AA" => "Critically abnormal",
        "POS" => "Positive",
        "DET" => "Detected",
        other => return Some(format!("Abnormal ({other})")),
    };
    Some(words.to_owned())
}

fn result_row(e: &StoredEntry) -> ResultRow {
    let res = match &e.entry.body {
        EntryBody::Result(r) => Some(r),
        _ => None,
    };
    let text = |f: Option<&String>| f.cloned().unwrap_or_default();
    ResultRow {
        when: period(event_time(e), None).unwrap_or_else(|| "date not recorded".into()),
        value: text(res.and_then(|r| r.value.as_ref())),
        unit: text(res.and_then(|r| r.unit.as_ref())),
        range: text(res.and_then(|r| r.reference_range.as_ref())),
        flag: res
            .and_then(|r| r.abnormal_flag.as_deref())
            .and_then(flag_words),
        status: e.entry.status.clone().unwrap_or_default(),
        organisation: e.provenance.organisation.clone(),
    }
}
