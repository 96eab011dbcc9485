//! A citizen's sign-in: sign-in name, password and a one-time code together, each failure
//! audited alike (the page says only that the details did not match). Throttling is the web
//! edge's (`web::throttle`, as for staff), since it counts per address.

use super::invite::actor;
use super::totp;
use crate::access::{password, secret};
use crate::audit::Action;
use crate::error::{Error, Result};
use crate::store::{AuditEvent, CitizenAccount, Store};
use chrono::{DateTime, Utc};

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A new session: the cookie's token (only its hash is stored).
pub struct Started {
    pub token: String,
}

/// Starts a session for `account_id` in `stage` (`setup` or `full`).
pub fn start_session(
    store: &mut Store,
    account_id: i64,
    stage: &str,
    now: DateTime<Utc>,
) -> Result<Started> {
    let token = secret::new_token().map_err(Error::Invalid)?;
    let csrf = secret::new_token().map_err(Error::Invalid)?;
    let tx = store.begin()?;
    tx.start_citizen_session(
        &secret::token_hash(&token),
        account_id,
        stage,
        &csrf,
        &text(now),
    )?;
    tx.commit()?;
    Ok(Started { token })
}

/// Checks a one-time code against the account's secret and, when right and not used before,
/// records its step (which confirms a new second factor).
pub fn accept_code(
    store: &mut Store,
    account: &CitizenAccount,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(step) = totp::check(&account.totp_secret, code, now.timestamp()) else {
        return Ok(false);
    };
    let tx = store.begin()?;
    let fresh = tx.accept_citizen_totp_step(account.id, step)?;
    tx.commit()?;
    Ok(fresh)
}

/// Checks sign-in details; the account when all three are right, audited either way.
pub fn login(
    store: &mut Store,
    username: &str,
    password_text: &str,
    code: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<CitizenAccount>> {
    let account = store.citizen_account_by_name(username.trim())?;
    let stored = account
        .as_ref()
        .map_or(password::dummy_hash(), |a| a.password_hash.as_str());
    let password_ok = password::verify(password_text, stored);
    let ok = match account.as_ref().filter(|a| password_ok && a.totp_confirmed) {
        Some(a) => accept_code(store, a, code, now)?,
        None => false,
    };
    let (by, person, outcome, detail) = match (&account, ok) {
        (Some(a), true) => (actor(a.id, ip), Some(a.person_id), "ok", None),
        (Some(a), false) => (
            actor(a.id, ip),
            Some(a.person_id),
            "denied",
            Some(match (password_ok, a.totp_confirmed) {
                (false, _) => "wrong password",
                (true, false) => "second factor never set up",
                (true, true) => "wrong or reused one-time code",
            }),
        ),
        (None, _) => (
            crate::audit::Actor {
                name: "citizen:unknown".into(),
                ..actor(0, ip)
            },
            None,
            "denied",
            Some("unknown sign-in name"),
        ),
    };
    store.audit_now(
        &AuditEvent {
            person_id: person,
            detail,
            outcome,
            ..by.event(Action::CitizenLogin)
        },
        &text(now),
    )?;
    Ok(account.filter(|_| ok))
}
