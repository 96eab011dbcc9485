//! Legitimate relationships, inferred from what the record already holds: the registered GP
//! practice, an admission or attendance at the organisation (open, or ended within a grace
//! period), an open referral to it, a social-care or mental-health case with the team, a
//! care-network entry. Computed when a record is read, so they follow every feed that arrives,
//! every merge and every unmerge.
//!
//! A feed speaks only for its own organisation. An entry gives a relationship only to the
//! organisation (matched by ODS code, never by name) whose source supplied it: an acute trust's
//! admission opens the record to that trust, not to whatever practice or agency the message
//! happens to name. The registered practice is taken only from GP systems (sources of kind
//! `gp`): the most recently updated one's registration, which is the practice it names, or the
//! practice it belongs to when it names none. Demographics from any other source, and the
//! golden record derived from all of them, never make anyone a person's GP.

use super::Profile;
use crate::model::entry::ContactKind;
use crate::model::{Category, EntryBody, SourceKind, StoredEntry};
use crate::record::{PersonRecord, SourcePersonView};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

/// Why an organisation or team may open a person's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    RegisteredGp,
    Admission,
    Attendance,
    Contact,
    Referral,
    SocialCare,
    MentalHealth,
    CareNetwork,
    SelfClaim,
    BreakGlass,
    /// The organisation was notified of an event about the person, where the access
    /// settings make that a reason (`notification_relationship_hours`).
    Notified,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Self::RegisteredGp => "registered GP practice",
            Self::Admission => "admission",
            Self::Attendance => "A&E attendance",
            Self::Contact => "contact with the service",
            Self::Referral => "open referral",
            Self::SocialCare => "social-care case",
            Self::MentalHealth => "mental-health care",
            Self::CareNetwork => "care network",
            Self::SelfClaim => "self-claimed relationship",
            Self::BreakGlass => "broken glass",
            Self::Notified => "notified of an event",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relationship {
    pub basis: Basis,
    /// The entry it was inferred from.
    pub entry_id: Option<i64>,
    /// When it lapses; `None` while open.
    pub until: Option<DateTime<Utc>>,
}

/// The categories whose entries can give a relationship: a reader that only needs to know
/// whether one exists loads these and the demographics.
pub const EVIDENCE: [Category; 5] = [
    Category::Contact,
    Category::Referral,
    Category::SocialCare,
    Category::MentalHealth,
    Category::CareNetwork,
];

const CLOSED: [&str; 14] = [
    "closed",
    "completed",
    "complete",
    "finished",
    "ended",
    "discharged",
    "cancelled",
    "canceled",
    "rejected",
    "declined",
    "inactive",
    "resolved",
    "entered-in-error",
    "withdrawn",
];

fn closed(status: Option<&str>) -> bool {
    status.is_some_and(|s| CLOSED.iter().any(|c| s.trim().eq_ignore_ascii_case(c)))
}

fn cancelled(status: Option<&str>) -> bool {
    status.is_some_and(|s| {
        [
            "cancelled",
            "canceled",
            "entered-in-error",
            "rejected",
            "declined",
        ]
        .iter()
        .any(|c| s.trim().eq_ignore_ascii_case(c))
    })
}

/// A feed's time text at its latest plausible instant: a date alone is the end of that day.
pub fn time_of(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    let date = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc())
}

/// The relationship an episode gives: open while it has no end, then `grace` after its end.
fn episode(
    basis: Basis,
    e: &StoredEntry,
    end: Option<&str>,
    now: DateTime<Utc>,
    grace: Duration,
) -> Option<Relationship> {
    let until = match end {
        None if closed(e.entry.status.as_deref()) => return None,
        None => None,
        Some(end) => {
            let lapses = time_of(end)? + grace;
            if lapses < now {
                return None;
            }
            Some(lapses)
        }
    };
    Some(Relationship {
        basis,
        entry_id: Some(e.id),
        until,
    })
}

/// Two ODS codes are the same organisation: compared as codes, never as names.
fn same_code(a: &str, b: &str) -> bool {
    !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim())
}

/// The ODS code of the practice the person is registered with, as the GP systems say it:
/// the most recently updated GP-kind source's stated practice, or its own practice when it
/// states none.
pub fn registered_practice(sources: &[SourcePersonView]) -> Option<&str> {
    let latest = sources
        .iter()
        .filter(|s| s.source_kind == SourceKind::Gp)
        .max_by_key(|s| s.updated_at.as_deref().and_then(time_of))?;
    let stated = latest
        .demographics
        .gp_practice
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    Some(stated.unwrap_or(latest.organisation_code.as_str()))
}

fn from_entry(
    e: &StoredEntry,
    who: &Profile,
    now: DateTime<Utc>,
    grace: Duration,
) -> Option<Relationship> {
    // Only the organisation whose own feed supplied the entry.
    if !same_code(&e.provenance.organisation_code, &who.org) {
        return None;
    }
    let end = e.entry.end.as_deref();
    match &e.entry.body {
        EntryBody::Contact(c) => {
            // The contact's own organisation field may name someone else (a transfer from, a
            // referring practice); it is not evidence for them, so it is not read here.
            if cancelled(e.entry.status.as_deref()) {
                return None;
            }
            match c.kind {
                ContactKind::Admission => episode(Basis::Admission, e, end, now, grace),
                ContactKind::AandE => episode(Basis::Attendance, e, end, now, grace),
                // An appointment or a visit is a point in time: booked ahead, it counts until
                // the grace after it.
                _ => episode(
                    Basis::Contact,
                    e,
                    end.or(e.entry.start.as_deref()),
                    now,
                    grace,
                )
                .filter(|_| end.or(e.entry.start.as_deref()).is_some()),
            }
        }
        EntryBody::Referral(r) => {
            let to_us = r.to_organisation.as_deref().is_some_and(|o| who.is_org(o))
                || r.to_service.as_deref().is_some_and(|t| who.is_team(t));
            // A closed referral ends the relationship at once: no grace.
            (to_us && end.is_none() && !closed(e.entry.status.as_deref())).then_some(Relationship {
                basis: Basis::Referral,
                entry_id: Some(e.id),
                until: None,
            })
        }
        EntryBody::SocialCare(s) => {
            let with_us = who.team.is_none() || s.team.as_deref().is_some_and(|t| who.is_team(t));
            with_us
                .then(|| episode(Basis::SocialCare, e, end, now, grace))
                .flatten()
        }
        EntryBody::MentalHealth(m) => {
            let with_us = who.team.is_none() || m.team.as_deref().is_some_and(|t| who.is_team(t));
            with_us
                .then(|| episode(Basis::MentalHealth, e, end, now, grace))
                .flatten()
        }
        EntryBody::CareNetwork(c) => {
            let with_us = c.agency.as_deref().is_some_and(|a| who.is_org(a))
                || c.team.as_deref().is_some_and(|t| who.is_team(t));
            (with_us && end.is_none() && !closed(e.entry.status.as_deref())).then_some(
                Relationship {
                    basis: Basis::CareNetwork,
                    entry_id: Some(e.id),
                    until: None,
                },
            )
        }
        _ => None,
    }
}

/// Every relationship `who` has with the person of `record` at `now`.
pub fn infer(
    record: &PersonRecord,
    who: &Profile,
    now: DateTime<Utc>,
    grace: Duration,
) -> Vec<Relationship> {
    let registered =
        registered_practice(&record.sources).is_some_and(|practice| same_code(practice, &who.org));
    let mut out = Vec::new();
    if registered {
        out.push(Relationship {
            basis: Basis::RegisteredGp,
            entry_id: None,
            until: None,
        });
    }
    out.extend(
        record
            .entries
            .iter()
            .filter_map(|e| from_entry(e, who, now, grace)),
    );
    out
}

#[cfg(test)]
mod tests;
