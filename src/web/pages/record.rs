//! `GET /person/<id>`: the one-page record. A merged-away id shows the person it was merged
//! into; `?find=` searches inside the record and brings matching items to the top.

use super::{seen, ErrorPage, Page, UserBar};
use crate::record::view::{Freshness, RecordView, STALE_AFTER_DAYS};
use crate::record::PersonRecord;
use crate::web::guards::{Clinical, Session};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;
use rocket::{get, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![record_page]
}

#[derive(Template, WebTemplate)]
#[template(path = "record.html")]
pub struct RecordPage {
    pub bar: Option<UserBar>,
    pub view: RecordView,
    pub find: String,
    /// How many items matched `find` (when set).
    pub found: usize,
    pub stale_days: i64,
}

impl RecordPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

/// The live person behind `id` and their record, or the 404 page.
pub fn load(session: &Session, id: i64) -> Result<Result<PersonRecord, ErrorPage>, ServerError> {
    let missing = || {
        Ok(Err(ErrorPage::new(
            Status::NotFound,
            "There is no person with that id.",
        )))
    };
    let Some(live) = session.store().resolve_person(id)? else {
        return missing();
    };
    match session.store().person_record(live)? {
        Some(r) => Ok(Ok(r)),
        None => missing(),
    }
}

#[get("/person/<id>?<find>")]
fn record_page(
    clinical: Clinical,
    id: i64,
    find: Option<&str>,
    web: &State<Web>,
) -> Result<Either<Page<RecordPage>, ErrorPage>, ServerError> {
    let mut session = clinical.0;
    let record = match load(&session, id)? {
        Ok(r) => r,
        Err(page) => return Ok(Either::Right(page)),
    };
    let find = find.unwrap_or("").trim().to_owned();
    let matches = if find.is_empty() {
        Vec::new()
    } else {
        session.store().search_record(record.person_id, &find)?
    };
    let now = web.clock.now();
    let fresh = Freshness::new(&session.store().source_last_received()?, now);
    let view = RecordView::build(&record, now.date_naive(), &fresh, &matches);
    let found = view
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .filter(|i| i.found)
        .count();
    let detail = (!find.is_empty()).then_some("find");
    seen::record(
        &mut session,
        web,
        "view-record",
        &[record.person_id],
        detail,
    )?;
    Ok(Either::Left(Page::ok(RecordPage {
        bar: UserBar::of(&session),
        view,
        find,
        found,
        stale_days: STALE_AFTER_DAYS,
    })))
}
