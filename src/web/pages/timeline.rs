//! `GET /person/<id>/timeline`: every dated entry newest first, filtered by category, source
//! and dates through a plain GET form.

use super::access::{self, Refused};
use super::{Page, UserBar};
use crate::audit::Action;
use crate::model::Category;
use crate::record::timeline::{self, Filter, Row};
use crate::record::view::{Freshness, RecordView};
use crate::web::guards::Clinical;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use rocket::{get, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![timeline_page]
}

/// An option of a filter list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "timeline.html")]
pub struct TimelinePage {
    pub bar: Option<UserBar>,
    pub view: RecordView,
    pub rows: Vec<Row>,
    pub categories: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub filtered: bool,
}

impl TimelinePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn date(v: Option<&str>) -> Option<NaiveDate> {
    given(v).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

#[get("/person/<id>/timeline?<category>&<source>&<from>&<to>")]
fn timeline_page(
    clinical: Clinical,
    id: i64,
    category: Option<&str>,
    source: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    web: &State<Web>,
) -> Result<Either<Page<TimelinePage>, Refused>, ServerError> {
    let mut session = clinical.0;
    let visible = match access::load(&mut session, web, id, false)? {
        Ok(v) => v,
        Err(page) => return Ok(Either::Right(page)),
    };
    let record = &visible.record;
    let filter = Filter {
        category: given(category).and_then(Category::parse),
        source: given(source).map(str::to_owned),
        from: date(from),
        to: date(to),
    };
    let rows = timeline::timeline(record, &filter);
    let (present, sources) = timeline::choices(record);
    let categories = present
        .into_iter()
        .map(|c| Choice {
            value: c.as_str().into(),
            label: c.label().into(),
            selected: filter.category == Some(c),
        })
        .collect();
    let sources = sources
        .into_iter()
        .map(|(code, name)| Choice {
            selected: filter.source.as_deref() == Some(code.as_str()),
            value: code,
            label: name,
        })
        .collect();
    let now = web.clock.now();
    let fresh = Freshness::new(&session.store().source_last_received()?, now);
    let view = RecordView::build(record, now.date_naive(), &fresh, &[]);
    access::seen_record(
        &mut session,
        web,
        Action::ViewTimeline,
        &visible,
        None,
        None,
    )?;
    Ok(Either::Left(Page::ok(TimelinePage {
        bar: UserBar::of(&session),
        view,
        rows,
        categories,
        sources,
        from: filter.from.map(|d| d.to_string()).unwrap_or_default(),
        to: filter.to.map(|d| d.to_string()).unwrap_or_default(),
        filtered: filter.category.is_some()
            || filter.source.is_some()
            || filter.from.is_some()
            || filter.to.is_some(),
    })))
}
