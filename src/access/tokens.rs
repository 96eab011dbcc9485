//! API tokens: made for one user acting in one role profile, lapsing after a set number of
//! days, revoked by hand, by a password change or reset, or by disabling the user.
//!
//! The token itself is shown once, when it is made; only its hash is kept. Its last use is
//! recorded (at most once a minute) so an administrator can see a forgotten one.

use super::users::{named, text};
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, Duration, Utc};

/// A token just made: shown once.
pub struct NewToken {
    pub id: i64,
    pub token: String,
    pub expires_at: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("token", &"(secret)")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Makes a token for `username` acting in `role` (their first profile when none is named),
/// lasting `days` (at most `max_days`, the configured default).
pub fn create(
    store: &mut Store,
    actor: &Actor,
    username: &str,
    role: Option<&str>,
    days: Option<i64>,
    max_days: i64,
    now: DateTime<Utc>,
) -> Result<NewToken> {
    let user = named(store, username)?;
    if user.disabled {
        return Err(Error::Invalid(format!("user {username} is disabled")));
    }
    let days = days.unwrap_or(max_days);
    if days < 1 || days > max_days {
        return Err(Error::Invalid(format!(
            "a token lasts from 1 to {max_days} days (the configured api_token_days)"
        )));
    }
    let profile = store
        .profiles_of(&user)?
        .into_iter()
        .find(|p| role.is_none_or(|r| r == p.role))
        .ok_or_else(|| Error::Invalid(format!("{username} holds no such role")))?;
    let token = super::secret::new_token().map_err(Error::Invalid)?;
    let expires_at = text(now + Duration::days(days));
    let now = text(now);
    let tx = store.begin()?;
    let id = tx.add_api_token(
        &super::secret::token_hash(&token),
        user.id,
        profile.id,
        &now,
        &expires_at,
    )?;
    let detail = format!(
        "token {id} for {username} as {}, until {expires_at}",
        profile.label()
    );
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::TokenCreate)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(NewToken {
        id,
        token,
        expires_at,
    })
}

/// Revokes a live token by id; "not found" when there is none.
pub fn revoke(store: &mut Store, actor: &Actor, token_id: i64, now: DateTime<Utc>) -> Result<()> {
    let now = text(now);
    let tx = store.begin()?;
    if !tx.revoke_api_token(token_id, &now)? {
        return Err(Error::NotFound(format!("no live API token {token_id}")));
    }
    let detail = format!("token {token_id}");
    tx.audit(
        &AuditEvent {
            detail: Some(&detail),
            ..actor.event(Action::TokenRevoke)
        },
        &now,
    )?;
    tx.commit()
}
