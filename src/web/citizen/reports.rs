//! "This is wrong": a citizen reports an item of their record; the report waits in a queue for
//! the organisation that sent the item (`staff`), and the citizen sees whether it has been
//! handled. Only an item the citizen can see may be reported.

use super::guard::Citizen;
use super::plain_time;
use crate::audit::Action;
use crate::store::AuditEvent;
use crate::web::pages::Page;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![report_form, report, reports_page]
}

/// The longest report kept.
const MAX_REPORT: usize = 2000;

#[derive(Template, WebTemplate)]
#[template(path = "citizen/report.html")]
pub struct ReportPage {
    session_csrf: String,
    entry_id: i64,
    title: String,
    organisation: String,
    message: Option<String>,
}

/// The item `entry_id` of the citizen's visible record: its title, organisation name and code.
fn own_item(
    citizen: &Citizen,
    web: &Web,
    entry_id: i64,
) -> Result<Option<(String, String, String)>, ServerError> {
    let Some((visible, _)) = super::record::open_own(citizen, web)? else {
        return Ok(None);
    };
    Ok(visible
        .record
        .entries
        .into_iter()
        .find(|e| e.id == entry_id)
        .map(|e| {
            (
                e.entry.title,
                e.provenance.organisation,
                e.provenance.organisation_code,
            )
        }))
}

#[get("/item/<id>/report")]
fn report_form(
    citizen: Citizen,
    id: i64,
    web: &State<Web>,
) -> Result<Option<Page<ReportPage>>, ServerError> {
    Ok(
        own_item(&citizen, web, id)?.map(|(title, organisation, _)| {
            Page::ok(ReportPage {
                session_csrf: citizen.row.csrf_token.clone(),
                entry_id: id,
                title,
                organisation,
                message: None,
            })
        }),
    )
}

#[derive(FromForm)]
pub struct ReportForm<'r> {
    csrf: &'r str,
    text: &'r str,
}

#[post("/item/<id>/report", data = "<form>")]
fn report(
    mut citizen: Citizen,
    id: i64,
    form: Form<ReportForm<'_>>,
    web: &State<Web>,
) -> Result<Option<Either<Redirect, Page<ReportPage>>>, ServerError> {
    let Some((title, organisation, code)) = own_item(&citizen, web, id)? else {
        return Ok(None);
    };
    let text: String = form.text.trim().chars().take(MAX_REPORT).collect();
    if !citizen.csrf_ok(form.csrf) || text.is_empty() {
        return Ok(Some(Either::Right(Page::ok(ReportPage {
            session_csrf: citizen.row.csrf_token.clone(),
            entry_id: id,
            title,
            organisation,
            message: Some("Please say in a few words what is wrong. Nothing was sent yet.".into()),
        }))));
    }
    let actor = citizen.actor();
    let now = web.clock.now_text();
    let tx = citizen.db.begin()?;
    let report_id = tx.add_citizen_error_report(
        citizen.row.account.id,
        citizen.person_id,
        id,
        &code,
        &text,
        &now,
    )?;
    let detail = format!("error report {report_id} on entry {id}, to {code}");
    tx.audit(
        &AuditEvent {
            person_id: Some(citizen.person_id),
            detail: Some(&detail),
            ..actor.event(Action::CitizenErrorReport)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(Some(Either::Left(Redirect::to("/citizen/reports"))))
}

pub struct ReportStatus {
    pub title: String,
    pub report: String,
    pub reported: String,
    pub handled: Option<String>,
    pub note: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/reports.html")]
pub struct ReportsPage {
    session_csrf: String,
    reports: Vec<ReportStatus>,
}

#[get("/reports")]
fn reports_page(mut citizen: Citizen, web: &State<Web>) -> Result<Page<ReportsPage>, ServerError> {
    super::record::audit_own(&mut citizen, web, "error reports")?;
    let reports = citizen
        .db
        .citizen_error_reports_of(citizen.person_id)?
        .into_iter()
        .map(|r| ReportStatus {
            title: r.entry_title,
            report: r.report,
            reported: plain_time(&r.reported_at),
            handled: r.handled_at.as_deref().map(plain_time),
            note: r.note,
        })
        .collect();
    Ok(Page::ok(ReportsPage {
        session_csrf: citizen.row.csrf_token.clone(),
        reports,
    }))
}
