//! A person's objection to sharing, recorded or withdrawn here (the privacy officer's page and
//! `sharedcare person object|withdraw-objection`), each in one audited transaction.
//!
//! The objection's words may quote the person, so they stay on the objection row; the audit
//! event names only the objection's id and date.

use super::users::text;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, NaiveDate, Utc};

/// Records that `person_id` objects to sharing, as they said on `objected_on`. Returns the
/// objection's id.
pub fn record(
    store: &mut Store,
    actor: &Actor,
    person_id: i64,
    reason: &str,
    objected_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64> {
    let reason: String = reason.trim().chars().take(2000).collect();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "write what the person said, or the form's reference".into(),
        ));
    }
    let Some(person) = store.resolve_person(person_id)? else {
        return Err(Error::NotFound("there is no such person".into()));
    };
    let now = text(now);
    let tx = store.begin()?;
    let id = tx.add_objection(person, &reason, &objected_on.to_string(), &actor.name, &now)?;
    let detail = format!("objection {id}, objected on {objected_on}");
    tx.audit(
        &AuditEvent {
            person_id: Some(person),
            detail: Some(&detail),
            ..actor.event(Action::ObjectionRecord)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Withdraws every standing objection recorded here for `person_id` (a feed's own objection
/// stays until the feed withdraws it). Returns how many; "not found" when there were none.
pub fn withdraw(
    store: &mut Store,
    actor: &Actor,
    person_id: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let now = text(now);
    let tx = store.begin()?;
    let n = tx.withdraw_objections(person_id, &now)?;
    if n == 0 {
        return Err(Error::NotFound("there is no such objection".into()));
    }
    let detail = format!("{n} withdrawn");
    tx.audit(
        &AuditEvent {
            person_id: Some(person_id),
            detail: Some(&detail),
            ..actor.event(Action::ObjectionWithdraw)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(n)
}
