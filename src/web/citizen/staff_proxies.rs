//! `/admin/proxies`: staff record that one person may act for another on the citizens' pages
//! (legal basis, dates, evidence seen), renew a parent's access past a child's 13th birthday,
//! and end a relationship. The rules are `access::proxy`'s; this page only calls it.

use super::staff::person_of;
use crate::access::proxy::{self, NewProxy, LEGAL_BASES};
use crate::store::ProxyRow;
use crate::web::guards::{ProxyRecorder, Session};
use crate::web::pages::{Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![proxies_page, record_proxy, end_proxy]
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_citizen_proxies.html")]
pub struct ProxiesPage {
    bar: Option<UserBar>,
    csrf: String,
    bases: Vec<(&'static str, &'static str)>,
    proxies: Vec<ProxyRow>,
    message: Option<String>,
}

impl ProxiesPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn basis(&self, code: &str) -> &'static str {
        proxy::basis_label(code)
    }
}

fn page(session: &Session, message: Option<String>) -> Result<Page<ProxiesPage>, ServerError> {
    Ok(Page::ok(ProxiesPage {
        bar: UserBar::of(session),
        csrf: session.row.csrf_token.clone(),
        bases: LEGAL_BASES.to_vec(),
        proxies: session.store().recent_proxies(100)?,
        message,
    }))
}

#[get("/proxies")]
fn proxies_page(recorder: ProxyRecorder) -> Result<Page<ProxiesPage>, ServerError> {
    page(&recorder.0, None)
}

#[derive(FromForm)]
pub struct ProxyForm<'r> {
    csrf: &'r str,
    /// Who acts: a person id or NHS number.
    proxy: &'r str,
    /// For whom.
    person: &'r str,
    basis: &'r str,
    starts_on: &'r str,
    ends_on: &'r str,
    evidence: &'r str,
    renew: bool,
}

fn date(text: &str) -> Result<Option<NaiveDate>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{t} is not a date like 2026-12-31"))
}

#[post("/proxies", data = "<form>")]
fn record_proxy(
    recorder: ProxyRecorder,
    form: Form<ProxyForm<'_>>,
    web: &State<Web>,
) -> Result<Page<ProxiesPage>, ServerError> {
    let mut session = recorder.0;
    if !session.csrf_ok(form.csrf) {
        return page(
            &session,
            Some("The form had expired. Nothing was recorded.".into()),
        );
    }
    let people = (
        person_of(session.store(), form.proxy)?,
        person_of(session.store(), form.person)?,
    );
    let (Some(proxy_person), Some(for_person)) = people else {
        return page(
            &session,
            Some(
                "No single person has one of those ids or NHS numbers. Nothing was recorded."
                    .into(),
            ),
        );
    };
    let dates = date(form.starts_on).and_then(|s| Ok((s, date(form.ends_on)?)));
    let (starts, ends) = match dates {
        Ok((s, e)) => (s.unwrap_or_else(|| web.clock.now().date_naive()), e),
        Err(why) => return page(&session, Some(format!("{why}. Nothing was recorded."))),
    };
    let actor = session.actor();
    let new = NewProxy {
        proxy_person_id: proxy_person,
        for_person_id: for_person,
        basis: form.basis,
        starts_on: starts,
        ends_on: ends,
        evidence: form.evidence,
        renew: form.renew,
    };
    match proxy::record(session.store_mut(), &actor, &new, web.clock.now()) {
        Ok((id, ends)) => {
            let until = ends.map_or("no end date".to_owned(), |e| format!("until {e}"));
            page(
                &session,
                Some(format!("Recorded (relationship {id}), {until}.")),
            )
        }
        Err(crate::error::Error::Invalid(why) | crate::error::Error::NotFound(why)) => {
            page(&session, Some(format!("Not recorded: {why}.")))
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/proxies/<id>/end", data = "<form>")]
fn end_proxy(
    recorder: ProxyRecorder,
    id: i64,
    form: Form<crate::web::auth::CsrfForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Status>, ServerError> {
    let mut session = recorder.0;
    if !session.csrf_ok(form.csrf) {
        return Ok(Either::Right(Status::Forbidden));
    }
    let actor = session.actor();
    match proxy::end(session.store_mut(), &actor, id, web.clock.now()) {
        Ok(()) => Ok(Either::Left(Redirect::to("/admin/proxies"))),
        Err(crate::error::Error::NotFound(_)) => Ok(Either::Right(Status::NotFound)),
        Err(e) => Err(e.into()),
    }
}
