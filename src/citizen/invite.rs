//! Invitation codes: issued by staff for one person, redeemed once by that person to make (or,
//! after a lost device, reset) their account.
//!
//! A code is twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown in
//! three groups of four; about 59 bits, against a guesser slowed by the sign-in throttle and
//! beaten by the expiry. Only its SHA-256 is stored, so a copy of the database redeems nothing.

use super::totp;
use crate::access::password;
use crate::access::secret::token_hash;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, Duration, Utc};

const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LENGTH: usize = 12;

/// A code just issued: shown once, never stored as it is.
pub struct Issued {
    pub code: String,
    pub person_id: i64,
    pub expires_at: String,
    /// The person already has an account, which redeeming this code resets.
    pub resets: bool,
}

/// The audit trail's name for a citizen, by their account.
pub fn actor(account_id: i64, ip: Option<&str>) -> Actor {
    Actor {
        user_id: None,
        name: format!("citizen:{account_id}"),
        role: Some("citizen".into()),
        profile: None,
        org: None,
        ip: ip.map(str::to_owned),
    }
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn new_code() -> Result<String> {
    let mut bytes = [0u8; CODE_LENGTH];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("no randomness available: {e}")))?;
    // 256 is not a multiple of the alphabet's 31 letters: bytes past the last whole multiple
    // are drawn again, so every letter is equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(CODE_LENGTH + 2);
    let mut i = 0;
    while out.chars().filter(char::is_ascii_alphanumeric).count() < CODE_LENGTH {
        let b = match bytes.get(i) {
            Some(b) => usize::from(*b),
            None => {
                getrandom::fill(&mut bytes)
                    .map_err(|e| Error::Invalid(format!("no randomness available: {e}")))?;
                i = 0;
                continue;
            }
        };
        i += 1;
        if b >= limit {
            continue;
        }
        if !out.is_empty() && out.len() % 5 == 4 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[b % ALPHABET.len()]));
    }
    Ok(out)
}

/// A code as typed, in the form its hash was made from: letters upper-cased, everything but
/// letters and digits dropped (spaces, dashes).
fn normal(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Issues a code for person `person_id` (the live person a merged-away id leads to), valid
/// for `valid_hours`, and audits it. Issuing for a person with an account is the lost-device
/// reset: the code, once redeemed, replaces their password and second factor.
pub fn issue(
    store: &mut Store,
    actor: &Actor,
    person_id: i64,
    valid_hours: i64,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let Some(person) = store.resolve_person(person_id)? else {
        return Err(Error::NotFound("there is no such person".into()));
    };
    let code = new_code()?;
    let expires_at = text(now + Duration::hours(valid_hours));
    let resets = store.citizen_has_account(person)?;
    let tx = store.begin()?;
    let id = tx.add_citizen_invite(
        person,
        &token_hash(&normal(&code)),
        &actor.name,
        &text(now),
        &expires_at,
    )?;
    let detail = format!(
        "invitation {id}, expires {expires_at}{}",
        if resets { ", resets the account" } else { "" }
    );
    tx.audit(
        &AuditEvent {
            person_id: Some(person),
            detail: Some(&detail),
            ..actor.event(Action::CitizenInvite)
        },
        &text(now),
    )?;
    tx.commit()?;
    Ok(Issued {
        code,
        person_id: person,
        expires_at,
        resets,
    })
}

/// An account just made or reset, its second factor still to be confirmed.
pub struct Redeemed {
    pub account_id: i64,
    pub person_id: i64,
    pub totp_secret: String,
}

/// Why a code was not accepted. The citizen is told only that the code did not work, whatever
/// the reason, so a guesser learns nothing; the audit trail says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownOrUsed,
    Expired,
    PersonGone,
}

/// Redeems `code`: makes (or resets) the person's account with `username` and `password` and
/// a new TOTP secret, marks the code used and audits it, in one transaction. `Ok(Err(_))` is a
/// code that does not work (the caller counts it as a failure for the throttle); `Err` with
/// `Invalid` is a name or password to choose again (the code stays unused).
pub fn redeem(
    store: &mut Store,
    code: &str,
    username: &str,
    password_text: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Redeemed, Refusal>> {
    let code = normal(code);
    let refused = |store: &mut Store, why: Refusal, person: Option<i64>| -> Result<_> {
        let detail = match why {
            Refusal::UnknownOrUsed => "code unknown or used",
            Refusal::Expired => "code expired",
            Refusal::PersonGone => "the person is no longer in the record",
        };
        let by = Actor {
            name: "citizen:unknown".into(),
            role: Some("citizen".into()),
            ..actor(0, ip)
        };
        store.audit_now(
            &AuditEvent {
                person_id: person,
                detail: Some(detail),
                outcome: "denied",
                ..by.event(Action::CitizenRegister)
            },
            &text(now),
        )?;
        Ok(Err(why))
    };
    let Some(invite) = store.citizen_invite(&token_hash(&code))? else {
        return refused(store, Refusal::UnknownOrUsed, None);
    };
    if invite.expires_at <= text(now) {
        return refused(store, Refusal::Expired, Some(invite.person_id));
    }
    let Some(person) = store.resolve_person(invite.person_id)? else {
        return refused(store, Refusal::PersonGone, Some(invite.person_id));
    };
    let username = username.trim();
    if username.chars().count() < 3
        || username.chars().count() > 100
        || username
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::Invalid(
            "choose a sign-in name of 3 to 100 characters, without spaces".into(),
        ));
    }
    if store.citizen_name_taken(username, person)? {
        return Err(Error::Invalid(
            "that sign-in name is taken: please choose another".into(),
        ));
    }
    let hash = password::hash(password_text).map_err(Error::Invalid)?;
    let secret = totp::new_secret().map_err(Error::Invalid)?;
    let tx = store.begin()?;
    if !tx.use_citizen_invite(invite.id, &text(now))? {
        drop(tx);
        return refused(store, Refusal::UnknownOrUsed, Some(person));
    }
    let account_id = tx.set_citizen_account(person, username, &hash, &secret, &text(now))?;
    let detail = format!("invitation {}", invite.id);
    tx.audit(
        &AuditEvent {
            person_id: Some(person),
            detail: Some(&detail),
            ..actor(account_id, ip).event(Action::CitizenRegister)
        },
        &text(now),
    )?;
    tx.commit()?;
    Ok(Ok(Redeemed {
        account_id,
        person_id: person,
        totp_secret: secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twelve_unambiguous_letters_in_groups_and_typing_is_forgiven() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), 14, "{code}");
        assert_eq!(code.matches('-').count(), 2, "{code}");
        assert!(normal(&code).bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(normal(" abcd-efgh jkmn "), "ABCDEFGHJKMN");
        assert_ne!(new_code().unwrap(), code);
    }
}
