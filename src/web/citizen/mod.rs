//! The citizens' pages, under `/citizen`: signing in (`signin`), their own record and its
//! download (`record`), who has looked at it (`looked`), saying no to sharing (`sharing`) and
//! reporting an error (`reports`). Every page but sign-in needs a citizen's session
//! (`guard::Citizen`), which only ever opens its own person's record. Staff pages for
//! invitations and error reports are in `staff`.

pub mod guard;
mod looked;
pub mod oidc;
mod people;
mod record;
mod reports;
mod sharing;
mod signin;
pub mod staff;
pub mod staff_proxies;

use crate::web::pages::ErrorPage;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{catch, catchers, Catcher, Route};

/// Failed invitation codes and sign-ins, counted apart from staff sign-ins.
#[derive(Default)]
pub struct CitizenThrottle(pub crate::web::throttle::Throttle);

pub fn public_routes() -> Vec<Route> {
    let mut all = signin::public_routes();
    all.extend(oidc::public_routes());
    all
}

pub fn routes() -> Vec<Route> {
    let mut all = signin::routes();
    all.extend(record::routes());
    all.extend(looked::routes());
    all.extend(sharing::routes());
    all.extend(reports::routes());
    all.extend(people::routes());
    all
}

pub fn catchers() -> Vec<Catcher> {
    catchers![unauthorised, forbidden]
}

/// Not signed in as a citizen: to the citizens' sign-in, never the staff one.
#[catch(401)]
fn unauthorised() -> Redirect {
    Redirect::to("/citizen/login")
}

/// A session that has not finished setting up its second factor, or a staff session.
#[catch(403)]
fn forbidden() -> ErrorPage {
    ErrorPage::new(
        Status::Forbidden,
        "This page needs you to be signed in to your own account, with its second factor set up.",
    )
}

/// A stored time as the citizen reads it, in UK time: "3 Dec 2026 14:05 GMT".
pub fn plain_time(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|t| crate::record::when::local_text(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| stored.to_owned())
}
