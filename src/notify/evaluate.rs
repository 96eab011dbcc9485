//! Running the rules where things are stored: the importer calls [`entry_stored`] and
//! [`death_stored`] inside the transaction that stores the entry (so a notification exists if
//! and only if its event was committed), and the access gate calls [`privacy_alert_raised`]
//! inside the one that raises the alert.
//!
//! Exactly once: every notification is keyed by what happened (the entry's source and
//! reference and the event, the person's death, the alert's reference), the rule and the
//! recipient, and the store ignores a second insert of the same key. A re-delivered message
//! writes nothing new; a message arriving out of order (the discharge before the admission)
//! still yields each event once, since each event is a fact about the stored entry, not about
//! the message that carried it.

use super::rules::{Event, Recipient, Rule, Rules};
use crate::error::Result;
use crate::model::entry::{ContactKind, DirectiveKind};
use crate::model::{Demographics, EntryBody, EntryDraft};
use crate::store::{EntryWrite, NewNotification, SourceRow, Tx};
use chrono::{DateTime, Duration, Utc};

/// Where an entry came from, as the rules need it.
pub struct StoredBy<'a> {
    pub source: &'a SourceRow,
    pub source_person_id: i64,
    /// The transaction's time, RFC 3339.
    pub now: &'a str,
}

/// Statuses meaning an entry is over or void.
fn closed(status: Option<&str>) -> bool {
    status.is_some_and(|s| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            "closed"
                | "completed"
                | "complete"
                | "finished"
                | "ended"
                | "discharged"
                | "cancelled"
                | "inactive"
                | "resolved"
                | "entered-in-error"
                | "withdrawn"
                | "revoked"
        )
    })
}

/// The events an entry write is, each with the date it happened (when the entry says).
fn entry_events(draft: &EntryDraft, written: EntryWrite) -> Vec<(Event, Option<&str>)> {
    let inserted = match written {
        EntryWrite::Inserted => true,
        EntryWrite::Updated => false,
        EntryWrite::Unchanged | EntryWrite::ArrivedLate => return Vec::new(),
    };
    let status = draft.status.as_deref();
    let planned = matches!(status, Some("planned" | "cancelled" | "entered-in-error"));
    let recorded = draft.recorded_at.as_deref().or(draft.start.as_deref());
    match &draft.body {
        EntryBody::Contact(c) if !planned => match c.kind {
            ContactKind::AandE => vec![(Event::Attendance, draft.start.as_deref())],
            ContactKind::Admission => {
                let mut events = vec![(Event::Admission, draft.start.as_deref())];
                if draft.end.is_some() || status == Some("finished") {
                    events.push((Event::Discharge, draft.end.as_deref()));
                }
                events
            }
            _ => Vec::new(),
        },
        EntryBody::Safeguarding(_) if inserted && !closed(status) => {
            vec![(Event::SafeguardingAlert, recorded)]
        }
        EntryBody::AdvanceDirective(d)
            if matches!(d.kind, DirectiveKind::Dnacpr | DirectiveKind::Respect) =>
        {
            if closed(status) || draft.end.is_some() {
                vec![(Event::DirectiveWithdrawn, draft.end.as_deref().or(recorded))]
            } else if inserted {
                vec![(Event::DirectiveRecorded, recorded)]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// Whether an event dated `when` is too old to be news at `now`.
fn too_old(rules: &Rules, when: Option<&str>, now: &str) -> bool {
    let (Some(when), Ok(now)) = (when, DateTime::parse_from_rfc3339(now)) else {
        return false;
    };
    let cutoff = (now.with_timezone(&Utc) - Duration::hours(rules.ignore_older_than_hours))
        .format("%Y-%m-%d")
        .to_string();
    // ISO text as precise as the source gave it sorts in time order: "2024" < "2024-03-05".
    when.get(..when.len().min(10)).unwrap_or(when) < cutoff.as_str()
}

/// Runs the rules on one entry just written by the importer.
pub fn entry_stored(
    tx: &Tx<'_>,
    rules: &Rules,
    by: &StoredBy<'_>,
    draft: &EntryDraft,
    written: EntryWrite,
) -> Result<()> {
    for (event, when) in entry_events(draft, written) {
        if !rules.wants(event) || too_old(rules, when, by.now) {
            continue;
        }
        let key = format!(
            "entry/{}/{}/{}",
            by.source.id,
            draft.source_ref,
            event.as_str()
        );
        fire(tx, rules, by, event, &key)?;
    }
    Ok(())
}

/// Runs the rules on demographics saying the person has died.
pub fn death_stored(
    tx: &Tx<'_>,
    rules: &Rules,
    by: &StoredBy<'_>,
    demographics: &Demographics,
) -> Result<()> {
    if !(demographics.deceased || demographics.death_date.is_some()) || !rules.wants(Event::Death) {
        return Ok(());
    }
    let date = demographics
        .death_date
        .map(|d| d.format("%Y-%m-%d").to_string());
    if too_old(rules, date.as_deref(), by.now) {
        return Ok(());
    }
    let Some(person) = tx.person_of_source_person(by.source_person_id)? else {
        return Ok(());
    };
    // One death per person, whichever source tells of it first.
    fire(tx, rules, by, Event::Death, &format!("death/{person}"))
}

fn fire(tx: &Tx<'_>, rules: &Rules, by: &StoredBy<'_>, event: Event, key: &str) -> Result<()> {
    let Some(person) = tx.person_of_source_person(by.source_person_id)? else {
        return Ok(());
    };
    let today = by.now.get(..10).unwrap_or(by.now);
    for rule in rules.on(event) {
        if !condition_holds(tx, rule, person, today)? {
            continue;
        }
        for org in recipients(tx, rule, person, today)? {
            // An organisation is not told what its own feed has just said.
            if org.eq_ignore_ascii_case(&by.source.org_code) {
                continue;
            }
            let recipient = format!("org:{}", org.trim().to_ascii_uppercase());
            tx.add_notification(
                &NewNotification {
                    rule: &rule.name,
                    event_key: key,
                    event: event.as_str(),
                    recipient: &recipient,
                    person_id: Some(person),
                    source_id: Some(by.source.id),
                    reference: None,
                },
                by.now,
            )?;
        }
    }
    Ok(())
}

fn social_care_kinds(rule: &Rule) -> Vec<&'static str> {
    rule.only_if.iter().map(|c| c.social_care_kind()).collect()
}

fn condition_holds(tx: &Tx<'_>, rule: &Rule, person: i64, today: &str) -> Result<bool> {
    if rule.only_if.is_empty() {
        return Ok(true);
    }
    let kinds = social_care_kinds(rule);
    let holders = tx.organisations_holding(person, &[], &["social-care"], &kinds, today)?;
    Ok(!holders.is_empty())
}

/// The organisations (ODS codes) a rule tells about `person`.
fn recipients(tx: &Tx<'_>, rule: &Rule, person: i64, today: &str) -> Result<Vec<String>> {
    match rule.notify {
        Recipient::SocialCareTeam => tx.organisations_holding(
            person,
            &["social-care"],
            &["social-care"],
            &social_care_kinds(rule),
            today,
        ),
        // The practice the person is registered with now, as the access gate reads it: a
        // practice the person has left is told nothing.
        Recipient::RegisteredGp => {
            let sources = tx.source_views_of(person)?;
            Ok(crate::access::relationship::registered_practice(&sources)
                .map(|practice| vec![practice.to_owned()])
                .unwrap_or_default())
        }
        Recipient::CaseloadTeam => tx.organisations_holding(
            person,
            &["community", "mental-health"],
            &["mental-health", "referral", "care-network"],
            &[],
            today,
        ),
        Recipient::CareNetwork => tx.organisations_knowing(person, &[]),
        Recipient::PrivacyOfficer => Ok(Vec::new()),
    }
}

/// Runs the rules on a privacy alert just raised (`kind` as `privacy_alert.kind`), in the
/// transaction that raised it. The notification carries the alert's reference; the person is
/// one the privacy officer reaches through the alert queue.
pub fn privacy_alert_raised(
    tx: &Tx<'_>,
    rules: &Rules,
    kind: &str,
    reference: &str,
    person_id: Option<i64>,
    now: &str,
) -> Result<()> {
    let Some(event) = Event::of_alert(kind) else {
        return Ok(());
    };
    for rule in rules.on(event) {
        tx.add_notification(
            &NewNotification {
                rule: &rule.name,
                event_key: &format!("alert/{reference}"),
                event: event.as_str(),
                recipient: super::PRIVACY_OFFICER,
                person_id,
                source_id: None,
                reference: Some(reference),
            },
            now,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entry::Contact;
    use crate::model::Category;

    fn contact(kind: ContactKind, status: &str, end: Option<&str>) -> EntryDraft {
        EntryDraft {
            source_ref: "visit/1".into(),
            category: Category::Contact,
            code_system: None,
            code: None,
            title: "Admission".into(),
            status: Some(status.into()),
            start: Some("2026-12-01T10:00:00".into()),
            end: end.map(str::to_owned),
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body: EntryBody::Contact(Contact {
                kind,
                organisation: None,
                site: None,
                ward: None,
                bed: None,
                specialty: None,
                clinician: None,
                reason: None,
                discharge_destination: None,
            }),
        }
    }

    fn events(draft: &EntryDraft, written: EntryWrite) -> Vec<Event> {
        entry_events(draft, written)
            .into_iter()
            .map(|(e, _)| e)
            .collect()
    }

    #[test]
    fn contacts_are_attendances_admissions_and_discharges_and_unchanged_writes_are_nothing() {
        let a01 = contact(ContactKind::Admission, "in-progress", None);
        let a03 = contact(ContactKind::Admission, "finished", Some("2026-12-02"));
        let ae = contact(ContactKind::AandE, "in-progress", None);
        let planned = contact(ContactKind::Admission, "planned", None);
        let outpatient = contact(ContactKind::Outpatient, "finished", None);
        assert_eq!(events(&a01, EntryWrite::Inserted), [Event::Admission]);
        assert_eq!(
            events(&a03, EntryWrite::Updated),
            [Event::Admission, Event::Discharge]
        );
        assert_eq!(events(&ae, EntryWrite::Inserted), [Event::Attendance]);
        assert!(events(&planned, EntryWrite::Inserted).is_empty());
        assert!(events(&outpatient, EntryWrite::Inserted).is_empty());
        assert!(events(&a03, EntryWrite::Unchanged).is_empty());
        assert!(events(&a03, EntryWrite::ArrivedLate).is_empty());
    }

    #[test]
    fn events_older_than_the_window_are_not_news() {
        let rules = Rules::shipped().unwrap();
        let now = "2026-12-03T05:00:00Z";
        assert!(too_old(&rules, Some("2024-03-05T10:00"), now));
        assert!(too_old(&rules, Some("2024"), now));
        assert!(!too_old(&rules, Some("2026-12-01T10:00:00"), now));
        assert!(!too_old(&rules, None, now));
    }
}
