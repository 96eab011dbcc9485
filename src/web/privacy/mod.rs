//! The privacy officer's pages under `/privacy`.
//!
//! - The alert queue ([`AlertReviewer`](crate::web::guards::AlertReviewer), `review-alerts`):
//!   self-claims, broken glass and objection overrides, each closed with a note
//!   (`alert-close`). The queue names a person by id only, never by name: the reference
//!   (`PA-000123`) is what notifications carry, and the "who looked" report is one click away.
//! - Misuse alerts (`review-alerts`) in the same queue, each with the rule that fired and the
//!   audit events behind it at `/privacy/alerts/<id>`; every view audited (`misuse-alert-view`).
//! - Reports ([`Auditor`](crate::web::guards::Auditor), `audit-reports`): "who looked at this
//!   person" and "what did this user look at", with date filters, pages and a CSV download.
//!   Running one is itself audited (`audit-report`).
//! - Objections to sharing (`record-objections`): recorded by person id or NHS number with what
//!   the person said and when, withdrawn with a button; people by id only.
//! - View as a role (`view-as-role`): what a chosen role profile would see of a (test) person,
//!   through the same gate as every reader, with no grants. Audited (`view-as-role`).

mod alerts;
pub(crate) mod csv_export;
mod misuse;
mod objections;
mod reports;
mod view_as;

use crate::error::Result;
use crate::model::nhs_number;
use crate::store::Store;
use chrono::NaiveDate;
use rocket::Route;

pub fn routes() -> Vec<Route> {
    let mut all = alerts::routes();
    all.extend(reports::routes());
    all.extend(view_as::routes());
    all.extend(objections::routes());
    all.extend(misuse::routes());
    all
}

/// Whom a typed person id or NHS number names.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// One live person (a merged-away id leads to the person it was merged into).
    Person(i64),
    /// An NHS number several unmerged people carry: the officer picks one.
    Several(Vec<i64>),
    /// Nobody, with why, for the page.
    Nobody(String),
}

/// A person by id, or by NHS number (10 digits, spaces allowed).
pub fn find_person(store: &Store, typed: &str) -> Result<Found> {
    let typed = typed.trim();
    let digits = nhs_number::standardise(typed);
    if digits.len() == 10 {
        let ids: Vec<i64> = store
            .find_by_nhs_number(&digits)?
            .into_iter()
            .map(|h| h.id)
            .collect();
        return Ok(match ids.as_slice() {
            [] => Found::Nobody(format!("No one has NHS number {typed}.")),
            [one] => Found::Person(*one),
            _ => Found::Several(ids),
        });
    }
    let Some(id) = typed.parse::<i64>().ok().filter(|n| *n > 0) else {
        return Ok(Found::Nobody(
            "Give a person id, or a 10-digit NHS number.".into(),
        ));
    };
    Ok(match store.resolve_person(id)? {
        Some(live) => Found::Person(live),
        None => Found::Nobody(format!("There is no person with id {id}.")),
    })
}

/// A report's dates as typed (`YYYY-MM-DD`, both inclusive, either may be empty), as the
/// stored-timestamp bounds the store filters on: at or after the first, before the day after
/// the second.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dates {
    pub from: Option<String>,
    pub until: Option<String>,
}

impl Dates {
    pub fn parse(from: &str, to: &str) -> std::result::Result<Self, String> {
        let day = |s: &str, name: &str| -> std::result::Result<Option<NaiveDate>, String> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("The {name} date must look like 2025-03-31."))
        };
        let (from, to) = (day(from, "from")?, day(to, "to")?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err("The from date is after the to date.".into());
            }
        }
        Ok(Self {
            from: from.map(|d| d.to_string()),
            until: to.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Dates;

    #[test]
    fn dates_become_bounds_that_include_the_whole_last_day() {
        let d = Dates::parse("2025-03-01", "2025-03-31").unwrap();
        assert_eq!(d.from.as_deref(), Some("2025-03-01"));
        assert_eq!(d.until.as_deref(), Some("2025-04-01"));
        // Stored times compare as text: the last day's evening is inside, the next day not.
        assert!("2025-03-31T23:59:59Z" < d.until.as_deref().unwrap());
        assert!("2025-03-01T00:00:00Z" >= d.from.as_deref().unwrap());
        assert_eq!(Dates::parse(" ", "").unwrap(), Dates::default());
        assert!(Dates::parse("31/03/2025", "").is_err());
        assert!(Dates::parse("2025-04-01", "2025-03-01").is_err());
    }
}
