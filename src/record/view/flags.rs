//! The banner's flags: what must not be missed on opening a record, drawn from the current
//! entries (advance directives, allergies, Mental Health Act status, a crisis plan, recent
//! test results such as COVID-19) and from death. Alerts, safeguarding among them, are the
//! banner's alert block ([`super::alerts`]).

use super::{date_text, is_current, when_text, Flag, PersonRecord};
use crate::model::entry::{CarePlanKind, DirectiveKind};
use crate::model::{EntryBody, StoredEntry};
use chrono::NaiveDate;

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
    out.extend(mental_health_act(&current));
    out.extend(crisis_plan(&current));
    out.extend(super::recent_tests::flags(r, today));
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

/// The Mental Health Act status a mental-health feed gives, and since when: "Mental Health
/// Act: Detained: Section 3 … (since 10 Feb 2024)". The newest current one.
fn mental_health_act(current: &[&StoredEntry]) -> Option<Flag> {
    let (status, e) = current
        .iter()
        .filter_map(|e| match &e.entry.body {
            EntryBody::MentalHealth(m) => m
                .legal_status
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s, *e)),
            _ => None,
        })
        .max_by(|a, b| a.1.entry.start.cmp(&b.1.entry.start))?;
    let since = e
        .entry
        .start
        .as_deref()
        .filter(|_| !status.to_lowercase().contains("from "))
        .map(|s| format!(" (since {})", when_text(s)))
        .unwrap_or_default();
    Some(Flag {
        kind: "mha",
        text: format!("Mental Health Act: {status}{since}"),
    })
}

fn is_crisis_plan(b: &EntryBody) -> bool {
    matches!(b, EntryBody::CarePlan(c) if c.kind == CarePlanKind::Crisis)
}

fn mentions_crisis_plan(b: &EntryBody) -> bool {
    matches!(b, EntryBody::MentalHealth(m)
        if m.crisis_plan.as_deref().is_some_and(|t| !t.trim().is_empty()))
}

/// That a crisis plan exists, its date, and where it is (who holds it): "Crisis plan of 12 Feb
/// 2024, held by Westshire Mental Health Partnership (RiO)". The newest current one; a
/// mental-health summary that mentions a crisis plan stands in when no plan itself was sent.
fn crisis_plan(current: &[&StoredEntry]) -> Option<Flag> {
    let newest = |pick: fn(&EntryBody) -> bool| {
        current
            .iter()
            .copied()
            .filter(|e| pick(&e.entry.body))
            .max_by(|a, b| a.entry.start.cmp(&b.entry.start))
    };
    let e = newest(is_crisis_plan).or_else(|| newest(mentions_crisis_plan))?;
    let date = e
        .entry
        .start
        .as_deref()
        .or(e.entry.recorded_at.as_deref())
        .map(|d| format!(" of {}", when_text(d)))
        .unwrap_or_default();
    let p = &e.provenance;
    Some(Flag {
        kind: "crisis-plan",
        text: format!(
            "Crisis plan{date}, held by {} ({})",
            p.organisation, p.source_name
        ),
    })
}
