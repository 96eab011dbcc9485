//! The start page after signing in.

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

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub bar: Option<UserBar>,
    pub sees_patients: bool,
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
    })
}
