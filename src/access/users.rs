//! Users, their role profiles, passwords and sessions: one function per change.
//!
//! Each function here is the whole of one use case — check, change, raise any privacy alert,
//! write the audit event, commit — in one transaction, so the administrator's pages and the
//! `sharedcare user …` commands, which only call these, cannot differ and cannot change
//! anything without its event: if the event cannot be written, nothing commits.
//!
//! Separation of duties (see `policy.toml`, `[duties]`): nobody adds or removes their own role
//! profiles — a signed-in administrator on their own user, or the operator at the terminal on
//! the user with their login name — and granting a clinical or privacy role raises a privacy
//! alert about the user given it, which neither they nor the one who granted it may close.

mod input;

pub use input::{check_username, new_password, ProfileInput};

use super::Policy;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, NewAlert, Store, Tx, UserRow};
use chrono::{DateTime, SecondsFormat, Utc};

pub(crate) fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The refusal when someone would change their own roles.
pub const OWN_ROLES: &str = "nobody may change their own role profiles; ask another administrator";

/// Whether `actor` is `user`: the same signed-in user, or the operator whose login name is
/// that user's name (the same person at the terminal).
pub fn is_self(actor: &Actor, user: &UserRow) -> bool {
    actor.user_id == Some(user.id)
        || actor
            .name
            .strip_prefix("cli:")
            .is_some_and(|login| login.eq_ignore_ascii_case(&user.username))
}

/// The user with this id, or "no such user".
pub fn existing(store: &Store, user_id: i64) -> Result<UserRow> {
    store
        .user_by_id(user_id)?
        .ok_or_else(|| Error::NotFound("there is no such user".into()))
}

/// The user with this name, or "no such user" naming where to look.
pub fn named(store: &Store, name: &str) -> Result<UserRow> {
    store.user_by_name(name)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no user called {name}; `sharedcare user list` shows them"
        ))
    })
}

/// Raises the alert that a clinical or privacy role was granted, when the policy says so;
/// returns its reference.
fn alert_grant(
    tx: &Tx<'_>,
    policy: &Policy,
    actor: &Actor,
    user_id: i64,
    profile: &ProfileInput,
    now: &str,
) -> Result<Option<String>> {
    if !policy.grant_alerts(&profile.role) {
        return Ok(None);
    }
    let detail = format!("role {} granted", profile.label());
    tx.raise_alert(
        &NewAlert {
            kind: "role-grant",
            grant_id: None,
            user_id,
            person_id: None,
            raised_by_user_id: actor.user_id,
            raised_by: &actor.name,
            detail: Some(&detail),
        },
        now,
    )
    .map(Some)
}

fn with_alert(detail: String, alert: Option<&str>) -> String {
    match alert {
        Some(reference) => format!("{detail}; alert {reference}"),
        None => detail,
    }
}

/// A new user with their first role profile and a password (`confirm`, when the form asked
/// for it twice, must match). Returns the new user's id.
#[allow(clippy::too_many_arguments)]
pub fn add_user(
    store: &mut Store,
    policy: &Policy,
    actor: &Actor,
    username: &str,
    profile: &ProfileInput,
    password: &str,
    confirm: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64> {
    check_username(username)?;
    profile.check(policy)?;
    // Hashing is slow on purpose: done before the write transaction opens.
    let hash = new_password(password, confirm)?;
    let now = text(now);
    let tx = store.begin()?;
    let id = tx.add_user(
        username,
        &profile.role,
        &profile.org,
        profile.team.as_deref(),
        &hash,
        &now,
    )?;
    let alert = alert_grant(&tx, policy, actor, id, profile, &now)?;
    let detail = with_alert(
        format!("{username} as {}", profile.label()),
        alert.as_deref(),
    );
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::UserAdd)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Gives `user_id` another role profile. Returns the reference of the privacy alert raised,
/// if the role is one that alerts.
pub fn add_role(
    store: &mut Store,
    policy: &Policy,
    actor: &Actor,
    user_id: i64,
    profile: &ProfileInput,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let user = existing(store, user_id)?;
    if is_self(actor, &user) {
        return Err(Error::Forbidden(OWN_ROLES.into()));
    }
    profile.check(policy)?;
    let now = text(now);
    let tx = store.begin()?;
    tx.add_profile(
        user.id,
        &profile.role,
        &profile.org,
        profile.team.as_deref(),
        &now,
    )?;
    let alert = alert_grant(&tx, policy, actor, user.id, profile, &now)?;
    let detail = with_alert(
        format!("{}: {}", user.username, profile.label()),
        alert.as_deref(),
    );
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::UserAddRole)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(alert)
}

/// Takes a role profile away from `user_id`; the sessions and API tokens acting in it end.
/// Returns the profile's label.
pub fn remove_role(
    store: &mut Store,
    actor: &Actor,
    user_id: i64,
    profile_id: i64,
    now: DateTime<Utc>,
) -> Result<String> {
    let user = existing(store, user_id)?;
    if is_self(actor, &user) {
        return Err(Error::Forbidden(OWN_ROLES.into()));
    }
    let Some(profile) = store
        .profiles_of(&user)?
        .into_iter()
        .find(|p| p.id == profile_id)
    else {
        return Err(Error::NotFound(
            "that role profile has already been removed".into(),
        ));
    };
    let label = profile.label();
    let now = text(now);
    let tx = store.begin()?;
    tx.remove_profile(profile.id, &now)?;
    let detail = format!("{}: {label}", user.username);
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::UserRemoveRole)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(label)
}

/// Sets a new password for `user_id`: their sessions end and their API tokens are revoked,
/// so whoever held the old password keeps nothing it opened.
pub fn set_password(
    store: &mut Store,
    actor: &Actor,
    user_id: i64,
    password: &str,
    confirm: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let user = existing(store, user_id)?;
    let hash = new_password(password, confirm)?;
    let now = text(now);
    let tx = store.begin()?;
    tx.set_password(user.id, &hash, &now)?;
    tx.audit(
        &AuditEvent {
            detail: Some(&user.username),
            ..actor.event(Action::UserPasswd)
        },
        &now,
    )?;
    tx.commit()
}

/// Disables `user_id`: sessions end, API tokens are revoked. Nobody disables themselves (it
/// could leave no administrator).
pub fn disable(store: &mut Store, actor: &Actor, user_id: i64, now: DateTime<Utc>) -> Result<()> {
    let user = existing(store, user_id)?;
    if actor.user_id == Some(user.id) {
        return Err(Error::Forbidden(
            "you cannot disable yourself; ask another administrator".into(),
        ));
    }
    let now = text(now);
    let tx = store.begin()?;
    tx.disable_user(user.id, &now)?;
    tx.audit(
        &AuditEvent {
            detail: Some(&user.username),
            ..actor.event(Action::UserDisable)
        },
        &now,
    )?;
    tx.commit()
}

/// Ends one live session of `user_id`; "not found" when it had already ended.
pub fn end_session(
    store: &mut Store,
    actor: &Actor,
    user_id: i64,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let user = existing(store, user_id)?;
    let now = text(now);
    let tx = store.begin()?;
    if !tx.end_user_session(user.id, session_id, &now)? {
        return Err(Error::NotFound("that session had already ended".into()));
    }
    let detail = format!("{}: session {session_id}", user.username);
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::SessionEnd)
        },
        &now,
    )?;
    tx.commit()
}
