//! `GET /privacy/alerts`: the privacy officer's queue of self-claims, broken glass and
//! objection overrides and misuse alerts (each linking to its evidence), newest first (`?all=1` shows closed ones too), and
//! `POST /privacy/alerts/<id>/close` to close one with a note (required, audited
//! `alert-close`). People appear by id only.

use crate::access::alerts;
use crate::error::Error;
use crate::store::AlertRow;
use crate::web::admin::{csrf_ok, csrf_refused, parse_id, sentence};
use crate::web::guards::{AlertReviewer, Session};
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![alerts_page, close_alert]
}

/// Alerts on the page at most.
pub const CAP: usize = 500;

#[derive(Template, WebTemplate)]
#[template(path = "privacy_alerts.html")]
pub struct AlertsPage {
    pub bar: Option<UserBar>,
    pub alerts: Vec<AlertRow>,
    pub all: bool,
    pub cap: usize,
    pub done: Option<String>,
    pub error: Option<String>,
}

impl AlertsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

fn render(
    session: &Session,
    all: bool,
    done: Option<String>,
    error: Option<String>,
) -> Result<AlertsPage, ServerError> {
    Ok(AlertsPage {
        bar: UserBar::of(session),
        alerts: session.store().alerts(all, CAP)?,
        all,
        cap: CAP,
        done,
        error,
    })
}

#[get("/alerts?<all>&<closed>")]
fn alerts_page(
    reviewer: AlertReviewer,
    all: Option<bool>,
    closed: Option<&str>,
    web: &State<Web>,
) -> Result<Page<AlertsPage>, ServerError> {
    let mut session = reviewer.0;
    // Only a reference goes back into the page, never free text from the address.
    let done = closed
        .filter(|r| {
            r.strip_prefix("PA-")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|r| format!("Alert {r} closed."));
    let page = render(&session, all.unwrap_or(false), done, None)?;
    super::misuse::audit_listed(&mut session, web, &page.alerts)?;
    Ok(Page::ok(page))
}

#[derive(FromForm)]
pub struct CloseForm {
    csrf: Option<String>,
    note: Option<String>,
}

#[post("/alerts/<id>/close", data = "<form>")]
fn close_alert(
    reviewer: AlertReviewer,
    id: &str,
    form: Form<CloseForm>,
    web: &State<Web>,
) -> Result<Either<Redirect, Either<Page<AlertsPage>, ErrorPage>>, ServerError> {
    let mut session = reviewer.0;
    if !csrf_ok(&session, form.csrf.as_deref()) {
        return Ok(Either::Right(Either::Right(csrf_refused())));
    }
    let actor = session.actor();
    let closed = alerts::close(
        session.store_mut(),
        &actor,
        parse_id(id).unwrap_or(0),
        form.note.as_deref().unwrap_or(""),
        web.clock.now(),
    );
    let (status, why) = match closed {
        Ok(reference) => {
            return Ok(Either::Left(Redirect::to(format!(
                "/privacy/alerts?closed={reference}"
            ))))
        }
        Err(Error::NotFound(_)) => {
            return Ok(Either::Right(Either::Right(ErrorPage::new(
                Status::NotFound,
                "There is no such alert.",
            ))))
        }
        Err(Error::Forbidden(why)) => (Status::Forbidden, why),
        Err(Error::Invalid(why)) => (Status::UnprocessableEntity, why),
        Err(e) => return Err(e.into()),
    };
    let page = render(&session, false, None, Some(sentence(&why)))?;
    super::misuse::audit_listed(&mut session, web, &page.alerts)?;
    Ok(Either::Right(Either::Left(Page(status, page))))
}
