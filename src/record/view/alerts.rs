//! The banner's alerts: every safeguarding alert and every other alert (risk to staff,
//! clinical, other) that is active today, with the kind in words, what it says, who recorded
//! it and — where the feed says — who to call.
//!
//! The record this is built from is the one the reader may see: a role that may not see
//! safeguarding never has those entries here (the access gate withholds them), so nothing in
//! this module decides who sees what.

use super::{is_current, when_text, PersonRecord};
use crate::model::entry::AlertKind;
use crate::model::{EntryBody, StoredEntry};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// One active alert, as the banner shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLine {
    /// `safeguarding`, `risk-to-staff`, `clinical` or `other`: the CSS class `record-alert-{kind}`.
    pub kind: &'static str,
    /// The kind in words: "Safeguarding", "Risk to staff", "Clinical alert", "Alert".
    pub kind_label: &'static str,
    pub text: String,
    pub since: Option<String>,
    pub recorded_by: Option<String>,
    /// Who to call about it, where the feed says.
    pub contact: Option<String>,
    /// The organisation whose feed sent it.
    pub from: String,
}

/// Active alerts, safeguarding first, then risk to staff, clinical and other; the newest first
/// within a kind, and one line for the same words from several sources.
pub(super) fn alerts(r: &PersonRecord, today: NaiveDate) -> Vec<AlertLine> {
    let mut lines: Vec<(u8, Option<&str>, AlertLine)> = r
        .entries
        .iter()
        .filter(|e| is_active(e, today))
        .filter_map(|e| line(e).map(|(rank, l)| (rank, e.entry.start.as_deref(), l)))
        .collect();
    // Newest first within a kind; then a stable sort by kind.
    lines.sort_by(|a, b| b.1.cmp(&a.1));
    lines.sort_by_key(|(rank, _, _)| *rank);
    let mut seen = BTreeSet::new();
    lines
        .into_iter()
        .map(|(_, _, l)| l)
        .filter(|l| seen.insert((l.kind, l.text.to_lowercase())))
        .collect()
}

/// Current, and not starting in the future.
fn is_active(e: &StoredEntry, today: NaiveDate) -> bool {
    let started = e
        .entry
        .start
        .as_deref()
        .and_then(|t| t.get(..10))
        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .is_none_or(|start| start <= today);
    started && is_current(e, today)
}

fn line(e: &StoredEntry) -> Option<(u8, AlertLine)> {
    let x = &e.entry;
    let since = x.start.as_deref().map(when_text);
    let from = e.provenance.organisation.clone();
    match &x.body {
        EntryBody::Safeguarding(s) => {
            let text = match s.alert_type.as_deref().map(str::trim) {
                Some(t) if !t.is_empty() && !x.title.to_lowercase().contains(&t.to_lowercase()) => {
                    format!("{t}: {}", x.title)
                }
                _ => x.title.clone(),
            };
            Some((
                0,
                AlertLine {
                    kind: "safeguarding",
                    kind_label: "Safeguarding",
                    text,
                    since,
                    recorded_by: s.recorded_by.clone(),
                    contact: s.contact.clone(),
                    from,
                },
            ))
        }
        EntryBody::Alert(a) => {
            let rank = match a.kind {
                AlertKind::RiskToStaff => 1,
                AlertKind::Clinical => 2,
                AlertKind::Other => 3,
            };
            let text = match a.description.as_deref() {
                Some(d) if !d.trim().is_empty() && !x.title.contains(d.trim()) => {
                    format!("{}: {}", x.title, d.trim())
                }
                _ => x.title.clone(),
            };
            Some((
                rank,
                AlertLine {
                    kind: a.kind.as_str(),
                    kind_label: a.kind.label(),
                    text,
                    since,
                    recorded_by: a.recorded_by.clone(),
                    contact: a.contact.clone(),
                    from,
                },
            ))
        }
        _ => None,
    }
}
