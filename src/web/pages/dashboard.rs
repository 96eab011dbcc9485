//! `GET /dashboard`: aggregate figures for analysts — counts only, nothing that identifies a
//! person.

use super::{Page, UserBar};
use crate::store::Stats;
use crate::web::guards::Analyst;
use crate::web::ServerError;
use askama::Template;
use askama_web::WebTemplate;
use rocket::{get, routes, Route};

pub fn routes() -> Vec<Route> {
    routes![dashboard]
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub bar: Option<UserBar>,
    pub stats: Stats,
    /// Categories with their labels and counts, in clinical order.
    pub categories: Vec<(&'static str, i64)>,
}

impl DashboardPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/dashboard")]
fn dashboard(analyst: Analyst) -> Result<Page<DashboardPage>, ServerError> {
    let session = analyst.0;
    let stats = session.store().stats()?;
    let categories = crate::model::Category::ALL
        .into_iter()
        .map(|c| {
            (
                c.label(),
                stats
                    .entries_by_category
                    .get(c.as_str())
                    .copied()
                    .unwrap_or(0),
            )
        })
        .collect();
    Ok(Page::ok(DashboardPage {
        bar: UserBar::of(&session),
        stats,
        categories,
    }))
}
