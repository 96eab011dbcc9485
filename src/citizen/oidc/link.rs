//! From an identity the provider vouches for to a citizen's session: the identity proofing level
//! must reach the configured one, and the NHS number must lead to exactly one live person whose
//! record carries it verified. Anything else is a plain-English refusal, audited, never an
//! error. The person's citizen account is the same one an invitation code makes (made here,
//! without a password or second factor, when they have none), so the session is the same kind.

use super::flow::Identity;
use super::{level_rank, OidcConfig};
use crate::audit::{Action, Actor};
use crate::citizen::invite::actor;
use crate::citizen::signin::{start_session, Started};
use crate::citizen::totp;
use crate::error::{Error, Result};
use crate::model::NhsNumber;
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, Utc};

/// Why a provider-vouched identity did not lead to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotLinked {
    /// The proofing level is below the required one (or not given).
    LevelTooLow,
    /// No NHS number (or not a valid one) came with the identity.
    NoNhsNumber,
    /// A record carries the number, but no source sent it as verified.
    Unverified,
    /// The record that carried the number has been merged into another.
    Merged,
    /// No record carries the number.
    NoRecord,
    /// More than one live record carries the number, verified.
    MoreThanOne,
}

impl NotLinked {
    fn audit_text(self) -> &'static str {
        match self {
            Self::LevelTooLow => "identity proofing level below the required one",
            Self::NoNhsNumber => "no valid NHS number from the provider",
            Self::Unverified => "the NHS number is not verified in the record",
            Self::Merged => "the record with the NHS number was merged into another",
            Self::NoRecord => "no record with the NHS number",
            Self::MoreThanOne => "more than one record with the NHS number",
        }
    }
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn unknown(ip: Option<&str>) -> Actor {
    Actor {
        name: "citizen:unknown".into(),
        ..actor(0, ip)
    }
}

/// Audits a sign-in by OpenID Connect that was refused before anyone was identified.
pub fn audit_refused(
    store: &mut Store,
    why: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let detail = format!("OpenID Connect: {why}");
    store.audit_now(
        &AuditEvent {
            detail: Some(&detail),
            outcome: "denied",
            ..unknown(ip).event(Action::CitizenLogin)
        },
        &text(now),
    )
}

/// The one live person `nhs` leads to, or why none. Only a live person whose own NHS number it
/// is, verified, is signed in to (the person's own number is stored only when verified: a
/// person with none whose source sent this one unverified is "unverified"); a record that carried it and was merged into someone with
/// another number (or none) is "merged", never followed.
pub fn person_for(store: &Store, nhs: &str) -> Result<std::result::Result<i64, NotLinked>> {
    let holders = store.persons_with_nhs_number(nhs)?;
    let carriers: Vec<_> = holders
        .iter()
        .filter(|h| !h.merged && !h.other_number)
        .collect();
    let verified: Vec<i64> = carriers
        .iter()
        .filter(|h| h.verified)
        .map(|h| h.person_id)
        .collect();
    Ok(
        match (verified.as_slice(), carriers.is_empty(), holders.is_empty()) {
            ([one], _, _) => Ok(*one),
            ([_, _, ..], _, _) => Err(NotLinked::MoreThanOne),
            ([], false, _) => Err(NotLinked::Unverified),
            ([], true, false) => Err(NotLinked::Merged),
            ([], true, true) => Err(NotLinked::NoRecord),
        },
    )
}

/// Signs in the citizen the identity leads to, or says why not; audited either way.
pub fn sign_in(
    store: &mut Store,
    config: &OidcConfig,
    identity: &Identity,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Started, NotLinked>> {
    let required = level_rank(&config.required_level);
    let level = identity.level.as_deref().and_then(level_rank);
    let nhs = identity
        .nhs_number
        .as_deref()
        .and_then(|n| NhsNumber::parse(n).ok());
    let found = match (level >= required && level.is_some(), nhs) {
        (false, _) => Err(NotLinked::LevelTooLow),
        (true, None) => Err(NotLinked::NoNhsNumber),
        (true, Some(nhs)) => person_for(store, nhs.as_str())?,
    };
    let person = match found {
        Ok(person) => person,
        Err(why) => {
            audit_refused(store, why.audit_text(), ip, now)?;
            return Ok(Err(why));
        }
    };
    let secret = totp::new_secret().map_err(Error::Invalid)?;
    let tx = store.begin()?;
    // An account for signing in through the provider only, unless the person has one: its name
    // has a space, which no chosen sign-in name may have, and its password hash matches no
    // password.
    let account = tx.citizen_account_for_provider(
        person,
        &format!("openid connect {person}"),
        "!",
        &secret,
        &text(now),
    )?;
    tx.audit(
        &AuditEvent {
            person_id: Some(person),
            detail: Some("OpenID Connect"),
            ..actor(account, ip).event(Action::CitizenLogin)
        },
        &text(now),
    )?;
    tx.commit()?;
    Ok(Ok(start_session(store, account, "full", now)?))
}
