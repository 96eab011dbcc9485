//! The start page after signing in.

use super::{Page, UserBar};
use crate::web::guards::Session;
use askama::Template;
use askama_web::WebTemplate;
use rocket::{get, routes, Route};

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
fn home(session: Session) -> Page<HomePage> {
    Page::ok(HomePage {
        bar: UserBar::of(&session),
        sees_patients: session.role.sees_patient_data(),
    })
}
