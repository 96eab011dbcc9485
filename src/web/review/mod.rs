//! The matching review pages, for the people who keep the person index right: the queue of
//! possible matches (`GET /review`), one pair side by side with the matcher's per-field
//! reasoning and the "same person" / "not the same person" decisions (`/review/<id>`), and the
//! preview and undoing of a person's latest merge or link (`/review/person/<id>/unmerge`).
//! Every decision goes through `import::links`, the same functions the command line uses.
//!
//! These pages show demographics, so each view is audited (`review-view`, one event per person
//! shown, committed before the page is sent) and each decision is audited with it.

mod pair;
mod unmerge;

use super::pages::{ErrorPage, UserBar};
use super::{ServerError, Web};
use crate::audit::Action;
use crate::error::Error;
use crate::import::links::Decider;
use crate::model::Demographics;
use crate::record::view;
use rocket::http::Status;
use rocket::Route;

pub fn routes() -> Vec<Route> {
    let mut all = pair::routes();
    all.extend(unmerge::routes());
    all
}

/// A signed-in user who may decide who a record is: an `admin` or a `privacy-officer`.
///
/// There is no separate data-quality role. The issue gives matching review to the admin role
/// (IT and integration staff run the feeds that create the possible matches, and they are who
/// fixes a source's bad demographics), although admins see no clinical record: these pages
/// show demographics only, never entries. Privacy officers may decide too, because a wrong
/// link is a disclosure of one person's record to another's carers, which is theirs to judge.
/// Clinicians and social workers may not: they see records, not the index behind them.
pub use crate::web::guards::DataQuality;

impl DataQuality {
    fn bar(&self) -> Option<UserBar> {
        UserBar::of(&self.0)
    }

    /// Writes one `review-view` event per person shown, before the page is sent.
    fn seen(&mut self, web: &Web, people: &[i64], detail: &str) -> Result<(), ServerError> {
        let s = &mut self.0;
        let actor = s.actor();
        let mut unique = people.to_vec();
        unique.sort_unstable();
        unique.dedup();
        s.store_mut().audit_seen(
            &actor,
            Action::ReviewView,
            &unique,
            Some(detail),
            None,
            &web.clock.now_text(),
        )?;
        Ok(())
    }

    /// Runs a decision as this user; `Err(page)` for a refused one (bad CSRF token, a review
    /// already decided, nothing to undo), which changes nothing.
    fn decide<T>(
        &mut self,
        csrf: &str,
        f: impl FnOnce(&mut crate::store::Store, &Decider<'_>) -> crate::error::Result<T>,
    ) -> Result<Result<T, ErrorPage>, ServerError> {
        if !self.0.csrf_ok(csrf) {
            return Ok(Err(ErrorPage::new(
                Status::Forbidden,
                "The form had expired or did not come from this site. Nothing was changed; please reload the page and try again.",
            )));
        }
        let s = &mut self.0;
        let (username, role, org, ip) = (
            s.row.user.username.clone(),
            s.profile.role.clone(),
            s.profile.org.clone(),
            s.ip.clone(),
        );
        let by = Decider {
            user_id: Some(s.row.user.id),
            name: &username,
            role: Some(&role),
            org: Some(&org),
            ip: ip.as_deref(),
        };
        match f(s.store_mut(), &by) {
            Ok(v) => Ok(Ok(v)),
            // Both messages name only ids and states, never patient data.
            Err(Error::NotFound(m)) => Ok(Err(ErrorPage::new(Status::NotFound, &m))),
            Err(Error::Invalid(m)) => Ok(Err(ErrorPage::new(Status::Conflict, &m))),
            Err(e) => Err(e.into()),
        }
    }
}

/// The rows of the side-by-side table, in order.
pub const FIELDS: [&str; 8] = [
    "Name",
    "Born",
    "Sex",
    "NHS number",
    "Address",
    "Postcode",
    "Phone",
    "Registered GP",
];

/// One column of the side-by-side table: a record's demographics as text, one per [`FIELDS`].
pub struct Column {
    pub heading: String,
    pub values: Vec<String>,
}

impl Column {
    /// `restricted` says the table is about an S-flagged person: then every column withholds
    /// address, postcode and phone, not only the source that flagged them, since another
    /// source (or an incoming record set beside theirs) would show where they live.
    pub fn new(heading: String, d: &Demographics, restricted: bool) -> Self {
        let known = |v: Option<&str>| v.unwrap_or("not known").to_owned();
        let withheld = || "withheld (restricted record)".to_owned();
        let restricted = restricted || d.restricted;
        let (nhs, status) = view::nhs_display(d);
        let address = d.address.as_ref().map(|a| {
            a.lines
                .iter()
                .chain(a.city.iter())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        });
        let values = vec![
            view::person_name(d),
            d.birth_date
                .map_or_else(|| "not known".into(), view::date_text),
            known(d.sex.map(|s| s.as_str())),
            match status {
                Some(s) => format!("{nhs} ({s})"),
                None => nhs,
            },
            if restricted {
                withheld()
            } else {
                known(address.as_deref().filter(|a| !a.is_empty()))
            },
            if restricted {
                withheld()
            } else {
                known(d.postcode())
            },
            if restricted {
                withheld()
            } else {
                known(d.phone.as_deref())
            },
            match (&d.gp_practice_name, &d.gp_practice) {
                (Some(n), Some(c)) => format!("{n} ({c})"),
                (Some(n), None) => n.clone(),
                (None, Some(c)) => c.clone(),
                (None, None) => "not known".into(),
            },
        ];
        Self { heading, values }
    }
}

/// A row of the side-by-side table: a field and each column's value.
pub struct FieldRow {
    pub label: &'static str,
    pub values: Vec<String>,
}

/// The side-by-side table: column headings, then one row per field.
pub struct SideBySide {
    pub headings: Vec<String>,
    pub rows: Vec<FieldRow>,
}

impl SideBySide {
    pub fn new(columns: Vec<Column>) -> Self {
        let rows = FIELDS
            .iter()
            .enumerate()
            .map(|(i, label)| FieldRow {
                label,
                values: columns
                    .iter()
                    .map(|c| c.values.get(i).cloned().unwrap_or_default())
                    .collect(),
            })
            .collect();
        Self {
            headings: columns.into_iter().map(|c| c.heading).collect(),
            rows,
        }
    }
}

/// A note as typed; blank is none.
fn note(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}
