//! The web edge: Rocket routes, guards and rendering. Handlers stay short: a guard says who is
//! asking (and opens a database connection), one call into `store`/`record`, then render.
//! Every route is listed in [`routes`]; every one except the login page, static assets, the
//! health checks and the FHIR CapabilityStatement needs a signed-in user (a test walks the table to prove it).

pub mod address;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod citizen;
pub mod fhir;
pub mod front_door;
pub mod guards;
pub mod headers;
pub mod health;
pub mod pages;
pub mod pool;
pub mod privacy;
pub mod review;
pub mod throttle;

use crate::clock::Clock;
use crate::config::Config;
use rocket::http::Status;
use rocket::response::{Redirect, Responder};
use rocket::{catch, catchers, Build, Request, Rocket, Route};
use std::sync::Arc;

/// What every handler may use.
pub struct Web {
    pub config: Config,
    pub pool: pool::Pool,
    pub clock: Arc<dyn Clock>,
    pub throttle: throttle::Throttle,
    pub gate: Arc<crate::access::Gate>,
    /// The lab code table results are grouped and trended by.
    pub lab_codes: Arc<crate::record::results::LabCodes>,
    /// The clients behind the front door's connections (see `front_door`).
    pub peers: Arc<front_door::Peers>,
}

/// Every route the server answers, with whether it may be used without signing in.
pub fn routes() -> Vec<(Vec<Route>, &'static str, bool)> {
    vec![
        (auth::public_routes(), "/", true),
        (health::routes(), "/", true),
        (assets::routes(), "/static", true),
        (auth::routes(), "/", false),
        (pages::routes(), "/", false),
        (fhir::public_routes(), "/fhir", true),
        (fhir::routes(), "/fhir", false),
        (admin::routes(), "/admin", false),
        (review::routes(), "/review", false),
        (privacy::routes(), "/privacy", false),
        (citizen::public_routes(), "/citizen", true),
        (citizen::routes(), "/citizen", false),
        (citizen::staff::routes(), "/admin", false),
        (citizen::staff_proxies::routes(), "/admin", false),
    ]
}

pub fn build(web: Web, figment: rocket::figment::Figment) -> Rocket<Build> {
    let mut rocket = rocket::custom(figment)
        .manage(web)
        .manage(citizen::CitizenThrottle::default())
        .manage(citizen::oidc::OidcPending::default())
        .attach(headers::SecurityHeaders)
        .attach(health::RequestFigures)
        .register(
            "/",
            catchers![
                unauthorised,
                forbidden,
                not_found,
                server_error,
                insufficient_storage
            ],
        )
        // The API answers every error, 401 included, with a JSON OperationOutcome.
        .register("/fhir", fhir::catchers())
        // Citizens go to their own sign-in, never the staff one.
        .register("/citizen", citizen::catchers());
    for (routes, base, _) in routes() {
        rocket = rocket.mount(base, routes);
    }
    rocket
}

/// Not signed in: a page request goes to the login form.
#[catch(401)]
fn unauthorised(req: &Request<'_>) -> Redirect {
    let next = req.uri().path().to_string();
    Redirect::to(format!("/login?next={}", urlencode(&next)))
}

#[catch(403)]
fn forbidden() -> pages::ErrorPage {
    pages::ErrorPage::new(Status::Forbidden, "Your role does not allow this page.")
}

#[catch(404)]
fn not_found() -> pages::ErrorPage {
    pages::ErrorPage::new(Status::NotFound, "There is no such page.")
}

#[catch(507)]
fn insufficient_storage() -> pages::ErrorPage {
    disk_full_page()
}

#[catch(500)]
fn server_error() -> pages::ErrorPage {
    // A guard that failed to write (a session's last-seen time, say) answers 500 too.
    if crate::store::disk_full() {
        return disk_full_page();
    }
    pages::ErrorPage::new(
        Status::InternalServerError,
        "Something went wrong on the server. The problem has been logged; please try again.",
    )
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An internal error as a response: logged without detail that could hold patient data.
pub struct ServerError;

impl From<crate::error::Error> for ServerError {
    fn from(e: crate::error::Error) -> Self {
        log::error!("request failed: {}", e.operator_summary());
        ServerError
    }
}

impl<'r> Responder<'r, 'static> for ServerError {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        Err(failure_status())
    }
}

/// 507 while the disk is full (see `store::disk_full`), so the page can say why; else 500.
pub fn failure_status() -> Status {
    if crate::store::disk_full() {
        Status::InsufficientStorage
    } else {
        Status::InternalServerError
    }
}

/// The page for a request that failed because the disk is full.
fn disk_full_page() -> pages::ErrorPage {
    pages::ErrorPage::new(
        Status::InsufficientStorage,
        "The server's disk is full, so nothing can be saved — and every look at a record is \
         saved in the audit trail first, so records cannot be opened either. Pages that only \
         show what is already there still work. The operator has been told in the server log; \
         please try again later.",
    )
}
