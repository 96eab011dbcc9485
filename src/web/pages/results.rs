//! `GET /person/<id>/results`: each test's values in a table, with a trend chart (an SVG image
//! from `/person/<id>/results/chart.svg?test=`) when there are two or more numeric values.

use super::access::{self, Refused};
use super::{chart, Page, UserBar};
use crate::audit::Action;
use crate::record::timeline::{self, ResultRow};
use crate::record::view::{Freshness, RecordView};
use crate::web::guards::Clinical;
use crate::web::{urlencode, ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::{ContentType, Status};
use rocket::{get, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![results_page, chart_svg]
}

pub struct TestView {
    pub title: String,
    pub unit: String,
    pub rows: Vec<ResultRow>,
    /// The chart image's URL, when the test has a trend to draw.
    pub chart: Option<String>,
    pub trend_text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "results.html")]
pub struct ResultsPage {
    pub bar: Option<UserBar>,
    pub view: RecordView,
    pub tests: Vec<TestView>,
}

impl ResultsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/person/<id>/results")]
fn results_page(
    clinical: Clinical,
    id: i64,
    web: &State<Web>,
) -> Result<Either<Page<ResultsPage>, Refused>, ServerError> {
    let mut session = clinical.0;
    let visible = match access::load(&mut session, web, id, false)? {
        Ok(v) => v,
        Err(page) => return Ok(Either::Right(page)),
    };
    let record = &visible.record;
    let tests = timeline::tests(record)
        .into_iter()
        .map(|t| {
            let chart = (t.points.len() >= 2).then(|| {
                format!(
                    "/person/{}/results/chart.svg?test={}",
                    record.person_id,
                    urlencode(&t.key)
                )
            });
            TestView {
                trend_text: chart::describe(&t),
                title: t.title,
                unit: t.unit.unwrap_or_default(),
                rows: t.rows,
                chart,
            }
        })
        .collect();
    let now = web.clock.now();
    let fresh = Freshness::new(&session.store().source_last_received()?, now);
    let view = RecordView::build(record, now.date_naive(), &fresh, &[]);
    access::seen_record(&mut session, web, Action::ViewResults, &visible, None, None)?;
    Ok(Either::Left(Page::ok(ResultsPage {
        bar: UserBar::of(&session),
        view,
        tests,
    })))
}

#[get("/person/<id>/results/chart.svg?<test>")]
fn chart_svg(
    clinical: Clinical,
    id: i64,
    test: Option<&str>,
    web: &State<Web>,
) -> Result<Either<(ContentType, String), Status>, ServerError> {
    let mut session = clinical.0;
    let Ok(visible) = access::load(&mut session, web, id, false)? else {
        return Ok(Either::Right(Status::Forbidden));
    };
    let key = test.unwrap_or("");
    let Some(t) = timeline::tests(&visible.record)
        .into_iter()
        .find(|t| t.key == key && t.points.len() >= 2)
    else {
        return Ok(Either::Right(Status::NotFound));
    };
    let svg = chart::render(&t).map_err(|e| {
        log::error!("trend chart failed: {e}");
        ServerError
    })?;
    access::seen_record(
        &mut session,
        web,
        Action::ViewResultsChart,
        &visible,
        None,
        None,
    )?;
    Ok(Either::Left((ContentType::SVG, svg)))
}
