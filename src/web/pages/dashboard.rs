//! `GET /dashboard`: aggregate figures for analysts — counts only, nothing that identifies a
//! person. The record's totals are those the population job counted with its figures: counting
//! a region's entries takes seconds, so a view reads the job's one row.

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
    /// The record's totals and when they were counted; none before the first figures run.
    pub stats: Option<Stats>,
    pub counted_at: String,
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
    let run = session.store().population_run()?;
    let stats: Option<Stats> = run
        .as_ref()
        .and_then(|r| r.record_totals.as_deref())
        .and_then(|json| serde_json::from_str(json).ok());
    let categories = match &stats {
        Some(stats) => crate::model::Category::ALL
            .into_iter()
            .map(|c| {
                let n = stats.entries_by_category.get(c.as_str()).copied();
                (c.label(), n.unwrap_or(0))
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Page::ok(DashboardPage {
        bar: UserBar::of(&session),
        stats,
        counted_at: run.map(|r| r.computed_at).unwrap_or_default(),
        categories,
        conditions,
    }))
}
