//! What the rules compare views with, set by an administrator, each change in one audited
//! transaction: who a staff user is (their NHS number, family name and postcode), and which
//! people are watched (a VIP or a member of staff).
//!
//! Why an administrator and not the user: a user who set their own identity could leave it
//! blank. The NHS number is the link (the user's own record is the person with that number);
//! family name and postcode may be given where the user has no record here, or a different
//! home from the one their record says.

use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::model::NhsNumber;
use crate::store::{AuditEvent, StaffIdentity, Store};
use chrono::{DateTime, SecondsFormat, Utc};

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn cleaned(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Sets who staff user `username` is; every field empty clears it.
pub fn link_user(
    store: &mut Store,
    actor: &Actor,
    username: &str,
    nhs_number: Option<&str>,
    family_name: Option<&str>,
    postcode: Option<&str>,
    now: DateTime<Utc>,
) -> Result<StaffIdentity> {
    let Some(user) = store.user_by_name(username)? else {
        return Err(Error::NotFound(format!(
            "there is no user called {username}"
        )));
    };
    let nhs_number = match cleaned(nhs_number) {
        None => None,
        Some(n) => Some(
            NhsNumber::parse(&n)
                .map_err(|e| Error::Invalid(format!("{n} is not an NHS number: {e}")))?
                .as_str()
                .to_owned(),
        ),
    };
    let who = StaffIdentity {
        nhs_number,
        family_name: cleaned(family_name),
        postcode: cleaned(postcode).map(|p| p.to_uppercase()),
    };
    let now = text(now);
    let tx = store.begin()?;
    tx.set_staff_identity(user.id, &who, &actor.name, &now)?;
    // Which fields were set, never their values: the trail is read more widely than this.
    let set: Vec<&str> = [
        ("nhs-number", who.nhs_number.is_some()),
        ("family-name", who.family_name.is_some()),
        ("postcode", who.postcode.is_some()),
    ]
    .iter()
    .filter(|f| f.1)
    .map(|f| f.0)
    .collect();
    let detail = format!(
        "{username}: {}",
        if set.is_empty() {
            "cleared".to_owned()
        } else {
            set.join(", ")
        }
    );
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::StaffIdentitySet)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(who)
}

/// Flags person `person_id` as `vip` or `staff`, or (`None`) removes the flag. Returns whether
/// that changed anything.
pub fn flag_person(
    store: &mut Store,
    actor: &Actor,
    person_id: i64,
    kind: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    if let Some(k) = kind {
        if k != "vip" && k != "staff" {
            return Err(Error::Invalid(format!(
                "{k:?}: a person is flagged as vip or staff"
            )));
        }
    }
    let Some(live) = store.resolve_person(person_id)? else {
        return Err(Error::NotFound("there is no such person".into()));
    };
    let now = text(now);
    let tx = store.begin()?;
    let changed = tx.set_watched_person(live, kind, &actor.name, &now)?;
    if changed {
        let detail = kind.unwrap_or("unflagged");
        tx.audit(
            &AuditEvent {
                person_id: Some(live),
                detail: Some(detail),
                ..actor.event(Action::PersonWatchFlag)
            },
            &now,
        )?;
    }
    tx.commit()?;
    Ok(changed)
}
