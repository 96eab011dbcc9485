//! Viewing a person as another role would see them (the privacy officer's check of the
//! policy), and marking the test persons that check is meant for.
//!
//! On a person marked as a test person the look is only audited. On a real person it is a
//! look at someone's record with no care relationship, so the policy (`[duties]
//! view_as_real_person`) either refuses it or asks for a reason and raises a privacy alert
//! about the viewer, which another officer must close. Either way the event (and any alert)
//! commits before anything is shown.
//!
//! Marking and unmarking test persons is an operator's command (`sharedcare person
//! mark-test|unmark-test`), audited like any change.

use super::policy::ViewAsRealPerson;
use super::users::text;
use super::Policy;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, NewAlert, Store};
use chrono::{DateTime, Utc};

/// The fewest characters a reason may have.
pub const MIN_REASON: usize = 10;

/// What a look at a person through another role's eyes was allowed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Looked {
    /// A test person: audited only.
    TestPerson,
    /// A real person, with the reason given: audited, and this alert raised.
    RealPerson { alert: String },
}

/// Records that `actor` looks at live person `person_id` as `profile_label` would, before it
/// is shown. A real person needs `reason` (and alerts), or is refused when the policy says so.
pub fn look(
    store: &mut Store,
    policy: &Policy,
    actor: &Actor,
    person_id: i64,
    profile_label: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Looked> {
    let test = store.is_test_person(person_id)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !test {
        if policy.duties.view_as_real_person == ViewAsRealPerson::Refuse {
            return Err(Error::Forbidden(
                "the policy allows view-as on test persons only; this person is not marked \
                 as one"
                    .into(),
            ));
        }
        if reason.is_none_or(|r| r.chars().count() < MIN_REASON) {
            return Err(Error::Invalid(format!(
                "this is a real person, not a test person: say why you need to see their \
                 record as {profile_label} (at least {MIN_REASON} characters); another \
                 privacy officer will be alerted"
            )));
        }
    }
    let now = text(now);
    let tx = store.begin()?;
    let looked = match (test, actor.user_id) {
        (true, _) => Looked::TestPerson,
        (false, Some(user_id)) => {
            let detail = format!("viewed as {profile_label}");
            let alert = tx.raise_alert(
                &NewAlert {
                    kind: "view-as",
                    grant_id: None,
                    user_id,
                    person_id: Some(person_id),
                    raised_by_user_id: Some(user_id),
                    raised_by: &actor.name,
                    detail: Some(&detail),
                },
                &now,
            )?;
            Looked::RealPerson { alert }
        }
        (false, None) => {
            return Err(Error::Forbidden(
                "view-as is for signed-in privacy officers".into(),
            ))
        }
    };
    let detail = match &looked {
        Looked::TestPerson => format!("{profile_label}; test person"),
        Looked::RealPerson { alert } => format!("{profile_label}; real person, alert {alert}"),
    };
    tx.audit(
        &AuditEvent {
            person_id: Some(person_id),
            reason: if test { None } else { reason },
            detail: Some(&detail),
            ..actor.event(Action::ViewAsRole)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(looked)
}

/// Marks (`test` true) or unmarks a live person as a test person. Returns whether anything
/// changed.
pub fn mark_test_person(
    store: &mut Store,
    actor: &Actor,
    person_id: i64,
    test: bool,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(person) = store.resolve_person(person_id)? else {
        return Err(Error::NotFound("there is no such person".into()));
    };
    let now = text(now);
    let tx = store.begin()?;
    let changed = tx.set_test_person(person, test, &actor.name, &now)?;
    if changed {
        let action = if test {
            Action::PersonTestMark
        } else {
            Action::PersonTestUnmark
        };
        tx.audit(
            &AuditEvent {
                person_id: Some(person),
                ..actor.event(action)
            },
            &now,
        )?;
    }
    tx.commit()?;
    Ok(changed)
}
