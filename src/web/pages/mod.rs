//! Server-rendered pages. Each page is an askama template struct in `ui/templates`; handlers
//! build one and return it. The layout (`base.html`) shows who is signed in and how to leave.

mod access;
mod chart;
mod dashboard;
mod dashboard_condition;
mod dashboard_svg;
mod duplicates;
mod home;
mod no_access;
mod notifications;
pub(crate) mod record;
mod results;
mod search;
pub(crate) mod seen;
mod timeline;

use super::guards::Session;
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;
use rocket::response::Responder;
use rocket::{Request, Route};

pub fn routes() -> Vec<Route> {
    let mut all = home::routes();
    all.extend(search::routes());
    all.extend(record::routes());
    all.extend(timeline::routes());
    all.extend(results::routes());
    all.extend(access::routes());
    all.extend(dashboard::routes());
    all.extend(dashboard_condition::routes());
    all.extend(notifications::routes());
    all
}

/// The signed-in user as the page header shows them.
pub struct UserBar {
    pub name: String,
    pub role: String,
    /// The profile the session acts in, `role@ORG/team`.
    pub org: String,
    pub csrf: String,
    /// Every profile the user holds, for the switch in the header (shown when there are two
    /// or more).
    pub profiles: Vec<ProfileChoice>,
    /// Unread notifications in the profile's inboxes (see `notify::inbox`).
    pub unread: i64,
    /// Links to the citizens' side's staff pages the role may use.
    pub citizen_links: Vec<crate::web::citizen::staff::HeaderLink>,
}

pub struct ProfileChoice {
    pub id: i64,
    pub label: String,
    pub current: bool,
}

impl UserBar {
    pub fn of(session: &Session) -> Option<Self> {
        // Without the list the header only loses its switch; the page itself still works.
        let profiles = session
            .store()
            .profiles_of(&session.row.user)
            .unwrap_or_else(|e| {
                log::error!("reading role profiles failed: {}", e.operator_summary());
                Vec::new()
            });
        // Without the count the header only loses its number; the page itself still works.
        let unread = session
            .store()
            .unread_notifications(&session.inboxes)
            .unwrap_or_else(|e| {
                log::error!("counting notifications failed: {}", e.operator_summary());
                0
            });
        Some(Self {
            unread,
            citizen_links: session.citizen_links.clone(),
            name: session.row.user.username.clone(),
            role: session.profile.role.clone(),
            org: session.profile.label(),
            csrf: session.row.csrf_token.clone(),
            profiles: profiles
                .into_iter()
                .map(|p| ProfileChoice {
                    id: p.id,
                    label: p.label(),
                    current: p.id == session.profile.id,
                })
                .collect(),
        })
    }
}

/// A rendered page with its status code.
pub struct Page<T>(pub Status, pub T);

impl<T> Page<T> {
    pub fn ok(page: T) -> Self {
        Self(Status::Ok, page)
    }
}

impl<'r, T: Responder<'r, 'static>> Responder<'r, 'static> for Page<T> {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        (self.0, self.1).respond_to(req)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub next: String,
    pub message: Option<String>,
}

impl LoginPage {
    pub fn user(&self) -> Option<&UserBar> {
        None
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorTemplate {
    pub title: String,
    pub message: String,
}

impl ErrorTemplate {
    pub fn user(&self) -> Option<&UserBar> {
        None
    }
}

pub type ErrorPage = Page<ErrorTemplate>;

impl ErrorPage {
    pub fn new(status: Status, message: &str) -> Self {
        Page(
            status,
            ErrorTemplate {
                title: status.reason().unwrap_or("Error").to_owned(),
                message: message.to_owned(),
            },
        )
    }
}
