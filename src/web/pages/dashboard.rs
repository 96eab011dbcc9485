//! `GET /dashboard`: aggregate figures for analysts — counts only, nothing that identifies a
//! person.

use super::{Page, UserBar};
use crate::store::Stats;
use crate::web::guards::Analyst;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::{get, routes, Route, State};

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
    /// The population figures: (key, name) of each condition of the condition set.
    pub conditions: Vec<(String, String)>,
}

impl DashboardPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/dashboard")]
fn dashboard(analyst: Analyst, web: &State<Web>) -> Result<Page<DashboardPage>, ServerError> {
    let mut session = analyst.0;
    let set = crate::population::ConditionSet::load(web.config.population.conditions.as_deref())?;
    let conditions = set
        .conditions
        .into_iter()
        .map(|c| (c.key, c.name))
        .collect();
    session.audit(
        web,
        crate::audit::Action::DashboardView,
        None,
        "dashboard",
        "ok",
    )?;
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
        conditions,
    }))
}
