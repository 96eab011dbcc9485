//! Legitimate relationships, inferred from what the record already holds: the registered GP
//! practice, an admission or attendance at the organisation (open, or ended within a grace
//! period), an open referral to it, a social-care or mental-health case with the team, a
//! care-network entry. Computed when a record is read, so they follow every feed that arrives,
//! every merge and every unmerge.

use super::Profile;
use crate::model::entry::ContactKind;
use crate::model::{Category, EntryBody, StoredEntry};
use crate::record::PersonRecord;
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

fn from_entry(
    e: &StoredEntry,
    who: &Profile,
    now: DateTime<Utc>,
    grace: Duration,
) -> Option<Relationship> {
    let ours = who.is_org(&e.provenance.organisation_code);
    let end = e.entry.end.as_deref();
    match &e.entry.body {
        EntryBody::Contact(c) => {
            if cancelled(e.entry.status.as_deref())
                || !(ours || c.organisation.as_deref().is_some_and(|o| who.is_org(o)))
            {
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
            let with_us = s.team.as_deref().is_some_and(|t| who.is_team(t))
                || s.provider.as_deref().is_some_and(|p| who.is_org(p))
                || (who.team.is_none() && ours);
            with_us
                .then(|| episode(Basis::SocialCare, e, end, now, grace))
                .flatten()
        }
        EntryBody::MentalHealth(m) => {
            let with_us =
                m.team.as_deref().is_some_and(|t| who.is_team(t)) || (who.team.is_none() && ours);
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
    let registered = std::iter::once(&record.demographics)
        .chain(record.sources.iter().map(|s| &s.demographics))
        .any(|d| d.gp_practice.as_deref().is_some_and(|p| who.is_org(p)));
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
