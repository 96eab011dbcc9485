//! Closing a privacy officer's alert, in one audited transaction.
//!
//! An alert cannot be closed by the user who raised it or the user it is about (separation of
//! duties): an administrator who granted a privacy role, a clinician who broke glass, an
//! officer who viewed a real person as another role — each needs someone else to look.

use super::users::text;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, Utc};

/// The refusal when someone would close an alert about their own doing.
pub const OWN_ALERT: &str =
    "an alert cannot be closed by the user who raised it or whom it is about; another privacy \
     officer must close it";

/// Closes alert `alert_id` with a note. Returns its reference.
pub fn close(
    store: &mut Store,
    actor: &Actor,
    alert_id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let Some(alert) = store.alert(alert_id)? else {
        return Err(Error::NotFound("there is no such alert".into()));
    };
    let note: String = note.trim().chars().take(2000).collect();
    if note.is_empty() {
        return Err(Error::Invalid(format!(
            "write a note to close {}",
            alert.reference
        )));
    }
    let own = actor
        .user_id
        .is_some_and(|me| me == alert.user_id || alert.raised_by_user_id == Some(me));
    if own {
        return Err(Error::Forbidden(OWN_ALERT.into()));
    }
    let now = text(now);
    let tx = store.begin()?;
    if !tx.close_alert(alert.id, &actor.name, &note, &now)? {
        return Err(Error::Invalid(format!(
            "{} was already closed",
            alert.reference
        )));
    }
    let detail = format!("{} ({}): {note}", alert.reference, alert.kind);
    tx.audit(
        &AuditEvent {
            person_id: alert.person_id,
            detail: Some(&detail),
            ..actor.event(Action::AlertClose)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(alert.reference)
}
