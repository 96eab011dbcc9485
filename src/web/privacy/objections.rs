//! `GET /privacy/objections`: record a person's objection to sharing (by person id or NHS
//! number, with what they said and when), and withdraw one. Nothing about the person is shown
//! but their id: whoever records an objection needs no access to the record. Audited
//! (`objection-record`, `objection-withdraw`).

use super::{find_person, Found};
use crate::access::objections;
use crate::error::Error;
use crate::store::ObjectionRow;
use crate::web::admin::{csrf_ok, csrf_refused, parse_id};
use crate::web::guards::{ObjectionRecorder, Session};
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![objections_page, record, withdraw]
}

/// Objections listed at most.
const CAP: usize = 500;

#[derive(Template, WebTemplate)]
#[template(path = "privacy_objections.html")]
pub struct ObjectionsPage {
    pub bar: Option<UserBar>,
    pub objections: Vec<ObjectionRow>,
    pub cap: usize,
    pub done: Option<String>,
    pub error: Option<String>,
    pub person: String,
    pub reason: String,
    pub date: String,
}

impl ObjectionsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

fn render(session: &Session, web: &Web) -> Result<ObjectionsPage, ServerError> {
    Ok(ObjectionsPage {
        bar: UserBar::of(session),
        objections: session.store().standing_objections(CAP)?,
        cap: CAP,
        done: None,
        error: None,
        person: String::new(),
        reason: String::new(),
        date: web.clock.now().date_naive().to_string(),
    })
}

#[get("/objections?<recorded>&<withdrawn>")]
fn objections_page(
    recorder: ObjectionRecorder,
    recorded: Option<i64>,
    withdrawn: Option<i64>,
    web: &State<Web>,
) -> Result<Page<ObjectionsPage>, ServerError> {
    let mut page = render(&recorder.0, web)?;
    page.done = match (recorded, withdrawn) {
        (Some(p), _) => Some(format!("Objection recorded for person {p}.")),
        (None, Some(p)) => Some(format!("Objection withdrawn for person {p}.")),
        (None, None) => None,
    };
    Ok(Page::ok(page))
}

#[derive(FromForm)]
pub struct RecordForm {
    csrf: Option<String>,
    person: String,
    reason: String,
    date: String,
}

#[post("/objections", data = "<form>")]
fn record(
    recorder: ObjectionRecorder,
    form: Form<RecordForm>,
    web: &State<Web>,
) -> Result<Either<Redirect, Either<Page<ObjectionsPage>, ErrorPage>>, ServerError> {
    let mut session = recorder.0;
    if !csrf_ok(&session, form.csrf.as_deref()) {
        return Ok(Either::Right(Either::Right(csrf_refused())));
    }
    let reason: String = form.reason.trim().chars().take(2000).collect();
    let date = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d").ok();
    let found = find_person(session.store(), &form.person)?;
    let error = match (&found, date) {
        (Found::Nobody(why), _) => Some(why.clone()),
        (Found::Several(ids), _) => Some(format!(
            "{} people carry that NHS number; give a person id: {}.",
            ids.len(),
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ if reason.is_empty() => {
            Some("Write what the person said, or the form's reference.".into())
        }
        (_, None) => Some("The date must look like 2025-03-31.".into()),
        _ => None,
    };
    let (Found::Person(person), Some(date), None) = (found, date, &error) else {
        let mut page = render(&session, web)?;
        page.error = error;
        page.person = form.person.clone();
        page.reason = reason;
        page.date = form.date.clone();
        return Ok(Either::Right(Either::Left(Page(
            Status::UnprocessableEntity,
            page,
        ))));
    };
    let actor = session.actor();
    objections::record(
        session.store_mut(),
        &actor,
        person,
        &reason,
        date,
        web.clock.now(),
    )?;
    Ok(Either::Left(Redirect::to(format!(
        "/privacy/objections?recorded={person}"
    ))))
}

#[derive(FromForm)]
pub struct WithdrawForm {
    csrf: Option<String>,
}

/// Withdraws every standing objection recorded here for the person (a feed's own objection
/// stays until the feed withdraws it).
#[post("/objections/person/<id>/withdraw", data = "<form>")]
fn withdraw(
    recorder: ObjectionRecorder,
    id: &str,
    form: Form<WithdrawForm>,
    web: &State<Web>,
) -> Result<Either<Redirect, ErrorPage>, ServerError> {
    let mut session = recorder.0;
    if !csrf_ok(&session, form.csrf.as_deref()) {
        return Ok(Either::Right(csrf_refused()));
    }
    let Some(person) = parse_id(id) else {
        return Ok(Either::Right(ErrorPage::new(
            Status::NotFound,
            "There is no such objection.",
        )));
    };
    let actor = session.actor();
    match objections::withdraw(session.store_mut(), &actor, person, web.clock.now()) {
        Ok(_) => {}
        Err(Error::NotFound(_)) => {
            return Ok(Either::Right(ErrorPage::new(
                Status::NotFound,
                "There is no such objection.",
            )))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Either::Left(Redirect::to(format!(
        "/privacy/objections?withdrawn={person}"
    ))))
}
