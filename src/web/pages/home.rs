//! The start page after signing in: search for those who see patients, and a link to each
//! other page the session's role may use.

use super::{Page, UserBar};
use crate::access::Activity;
use crate::web::guards::Session;
use crate::web::Web;
use askama::Template;
use askama_web::WebTemplate;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![home]
}

/// A page the role may use, as the start page lists it.
pub struct Link {
    pub href: &'static str,
    pub label: &'static str,
    pub about: &'static str,
}

const LINKS: [(Activity, Link); 8] = [
    (
        Activity::ManageSources,
        Link {
            href: "/admin/feeds",
            label: "Feeds and sources",
            about: "the health of every feed, rejected files, and the sources that send them",
        },
    ),
    (
        Activity::ManageUsers,
        Link {
            href: "/admin/users",
            label: "Users",
            about: "users, their role profiles and sessions",
        },
    ),
    (
        Activity::ReviewMatches,
        Link {
            href: "/review",
            label: "Matching review",
            about: "possible duplicate people to confirm or keep apart",
        },
    ),
    (
        Activity::ReviewAlerts,
        Link {
            href: "/privacy/alerts",
            label: "Privacy alerts",
            about: "self-claimed relationships, broken glass and objection overrides to review",
        },
    ),
    (
        Activity::AuditReports,
        Link {
            href: "/privacy/reports",
            label: "Audit reports",
            about: "who looked at a person, and what a user looked at",
        },
    ),
    (
        Activity::ViewAsRole,
        Link {
            href: "/privacy/view-as",
            label: "View as a role",
            about: "what a role would see of a test person",
        },
    ),
    (
        Activity::RecordObjections,
        Link {
            href: "/privacy/objections",
            label: "Objections to sharing",
            about: "record or withdraw a person's objection",
        },
    ),
    (
        Activity::Dashboards,
        Link {
            href: "/dashboard",
            label: "Dashboard",
            about: "counts across the record, nothing that identifies anyone",
        },
    ),
];

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub bar: Option<UserBar>,
    pub sees_patients: bool,
    pub links: Vec<&'static Link>,
}

impl HomePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/")]
fn home(session: Session, web: &State<Web>) -> Page<HomePage> {
    Page::ok(HomePage {
        bar: UserBar::of(&session),
        sees_patients: session.may(web, Activity::Search),
        links: LINKS
            .iter()
            .filter(|(activity, _)| session.may(web, *activity))
            .map(|(_, link)| link)
            .collect(),
    })
}
