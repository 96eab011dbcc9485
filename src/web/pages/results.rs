//! `GET /person/<id>/results`: the latest abnormal values on top, then each panel's tests with
//! their values and a trend chart (an SVG image from
//! `/person/<id>/results/chart.svg?test=&size=`) when two or more values are on the trend.

use super::access::{self, Refused};
use super::chart::{self, Size};
use super::{Page, UserBar};
use crate::audit::Action;
use crate::record::results::{self, ResultsView, Trend};
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

#[derive(Template, WebTemplate)]
#[template(path = "results.html")]
pub struct ResultsPage {
    pub bar: Option<UserBar>,
    pub view: RecordView,
    pub results: ResultsView,
}

impl ResultsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    /// The chart image's URL for one size.
    pub fn chart_url(&self, t: &Trend, narrow: bool) -> String {
        format!(
            "/person/{}/results/chart.svg?test={}{}",
            self.view.person_id,
            urlencode(&t.key),
            if narrow { "&size=narrow" } else { "" }
        )
    }

    pub fn describe(&self, t: &Trend) -> String {
        chart::describe(t)
    }

    pub fn has_results(&self) -> bool {
        !self.results.panels.is_empty()
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
    let results = results::build(record, &web.lab_codes);
    let now = web.clock.now();
    let fresh = Freshness::new(&session.store().source_last_received()?, now);
    let view = RecordView::build(record, now.date_naive(), &fresh, &[]);
    access::seen_record(&mut session, web, Action::ViewResults, &visible, None, None)?;
    Ok(Either::Left(Page::ok(ResultsPage {
        bar: UserBar::of(&session),
        view,
        results,
    })))
}

#[get("/person/<id>/results/chart.svg?<test>&<size>")]
fn chart_svg(
    clinical: Clinical,
    id: i64,
    test: Option<&str>,
    size: Option<&str>,
    web: &State<Web>,
) -> Result<Either<(ContentType, String), Status>, ServerError> {
    let mut session = clinical.0;
    let Ok(visible) = access::load(&mut session, web, id, false)? else {
        return Ok(Either::Right(Status::Forbidden));
    };
    let key = test.unwrap_or("");
    let Some(t) = results::build(&visible.record, &web.lab_codes)
        .panels
        .into_iter()
        .flat_map(|p| p.tests)
        .find(|t| t.key == key && t.has_chart())
    else {
        return Ok(Either::Right(Status::NotFound));
    };
    let svg = chart::render(&t, Size::parse(size)).map_err(|e| {
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
