//! Proxy access: staff record that one person may act for another on the citizens' pages — who,
//! for whom, on what legal basis, from when to when, on what evidence — and can end it. A
//! parent's access to a child's record ends by default at the child's 13th birthday (when
//! young people begin to have a say over who sees their record) unless staff renew it with an
//! end date of their choosing. Each change is audited against the person acted for, so it
//! shows on their own "who has looked" page.

use super::users::text;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// The legal bases a proxy relationship may rest on, with their words for people.
pub const LEGAL_BASES: [(&str, &str); 4] = [
    ("parental-responsibility", "Parental responsibility"),
    (
        "lpa-health-welfare",
        "Lasting power of attorney for health and welfare",
    ),
    ("court-deputy", "Court-appointed deputy"),
    ("consent", "The person's own consent"),
];

/// The age at which a parent's proxy access ends unless renewed.
pub const CHILD_PROXY_ENDS_AT: i32 = 13;

pub fn basis_label(code: &str) -> &'static str {
    LEGAL_BASES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("another basis", |(_, l)| l)
}

/// The day after which `birth_date` makes a child `CHILD_PROXY_ENDS_AT` (their birthday
/// minus one day, so access ends as the birthday begins); 29 February counts from 28 February.
fn last_day_before_thirteen(birth_date: NaiveDate) -> Option<NaiveDate> {
    let year = birth_date.year() + CHILD_PROXY_ENDS_AT;
    let birthday = NaiveDate::from_ymd_opt(year, birth_date.month(), birth_date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))?;
    birthday.pred_opt()
}

/// When a relationship ends. Parental responsibility for a child ends the day before their
/// 13th birthday unless `renew` (staff renewing it on purpose, with `given` as the end).
pub fn end_of(
    basis: &str,
    birth_date: Option<NaiveDate>,
    given: Option<NaiveDate>,
    renew: bool,
) -> Result<Option<NaiveDate>> {
    if basis != "parental-responsibility" || renew {
        if renew && given.is_none() {
            return Err(Error::Invalid("a renewal needs an end date".into()));
        }
        return Ok(given);
    }
    let Some(limit) = birth_date.and_then(last_day_before_thirteen) else {
        // Without a date of birth the child's age is unknown: an end date must be given.
        return given.map(Some).ok_or_else(|| {
            Error::Invalid("the child's date of birth is not known: give an end date".into())
        });
    };
    Ok(Some(given.map_or(limit, |g| g.min(limit))))
}

/// What staff state when recording a relationship.
pub struct NewProxy<'a> {
    pub proxy_person_id: i64,
    pub for_person_id: i64,
    pub basis: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub evidence: &'a str,
    /// Staff renew a parent's access past the child's 13th birthday on purpose.
    pub renew: bool,
}

/// Records a relationship and audits it; returns its id and end date.
pub fn record(
    store: &mut Store,
    actor: &Actor,
    new: &NewProxy<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, Option<NaiveDate>)> {
    if !LEGAL_BASES.iter().any(|(c, _)| *c == new.basis) {
        return Err(Error::Invalid(format!(
            "{:?} is not a legal basis",
            new.basis
        )));
    }
    let evidence: String = new.evidence.trim().chars().take(500).collect();
    if evidence.is_empty() {
        return Err(Error::Invalid("say what evidence was seen".into()));
    }
    let (Some(proxy), Some(subject)) = (
        store.resolve_person(new.proxy_person_id)?,
        store.resolve_person(new.for_person_id)?,
    ) else {
        return Err(Error::NotFound("there is no such person".into()));
    };
    if proxy == subject {
        return Err(Error::Invalid(
            "a person does not act for themselves".into(),
        ));
    }
    let birth = store
        .person_record_of(subject, &[])?
        .and_then(|r| r.demographics.birth_date);
    let ends = end_of(new.basis, birth, new.ends_on, new.renew)?;
    if ends.is_some_and(|e| e < new.starts_on) {
        return Err(Error::Invalid(
            "it would end before it starts (a child's access ends at 13 unless renewed)".into(),
        ));
    }
    let now_text = text(now);
    let tx = store.begin()?;
    let id = tx.add_proxy(
        proxy,
        subject,
        new.basis,
        &new.starts_on.to_string(),
        ends.map(|e| e.to_string()).as_deref(),
        &evidence,
        &actor.name,
        &now_text,
    )?;
    let detail = format!(
        "proxy {id}: person {proxy} for this person, {}, {} to {}{}",
        new.basis,
        new.starts_on,
        ends.map_or("no end".to_owned(), |e| e.to_string()),
        if new.renew { ", renewed" } else { "" }
    );
    tx.audit(
        &AuditEvent {
            person_id: Some(subject),
            detail: Some(&detail),
            ..actor.event(Action::ProxyRecord)
        },
        &now_text,
    )?;
    tx.commit()?;
    Ok((id, ends))
}

/// Ends relationship `id` now, audited.
pub fn end(store: &mut Store, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<()> {
    let now_text = text(now);
    let tx = store.begin()?;
    let Some(row) = tx.end_proxy(id, &actor.name, &now_text)? else {
        return Err(Error::NotFound(
            "there is no such relationship in force".into(),
        ));
    };
    let detail = format!(
        "proxy {id}: person {} no longer acts for this person",
        row.proxy_person_id
    );
    tx.audit(
        &AuditEvent {
            person_id: Some(row.for_person_id),
            detail: Some(&detail),
            ..actor.event(Action::ProxyEnd)
        },
        &now_text,
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_parents_access_ends_before_the_13th_birthday_unless_renewed() {
        let born = Some(day("2015-06-10"));
        let pr = "parental-responsibility";
        assert_eq!(
            end_of(pr, born, None, false).unwrap(),
            Some(day("2028-06-09"))
        );
        assert_eq!(
            end_of(pr, born, Some(day("2030-01-01")), false).unwrap(),
            Some(day("2028-06-09")),
            "a later end is cut to the birthday"
        );
        assert_eq!(
            end_of(pr, born, Some(day("2020-01-01")), false).unwrap(),
            Some(day("2020-01-01"))
        );
        assert_eq!(
            end_of(pr, born, Some(day("2030-01-01")), true).unwrap(),
            Some(day("2030-01-01")),
            "renewed by staff"
        );
        assert!(
            end_of(pr, born, None, true).is_err(),
            "a renewal names its end"
        );
        assert!(
            end_of(pr, None, None, false).is_err(),
            "unknown age needs an end"
        );
        assert_eq!(
            end_of(pr, Some(day("2012-02-29")), None, false).unwrap(),
            Some(day("2025-02-27"))
        );
        assert_eq!(end_of("consent", born, None, false).unwrap(), None);
        assert_eq!(basis_label("court-deputy"), "Court-appointed deputy");
    }
}
