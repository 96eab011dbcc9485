//! Staff pages of the citizens' side, under `/admin`: issuing an invitation code for a person
//! (a new account, or the reset of one whose device was lost), and the queue of citizens'
//! error reports for the signed-in user's organisation.

use crate::citizen::invite;
use crate::web::guards::{CitizenInviter, Session};
use crate::web::pages::{Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![invite_form, issue_invite, reports_page, handle_report]
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_citizen_invite.html")]
pub struct InvitePage {
    bar: Option<UserBar>,
    csrf: String,
    issued: Option<IssuedView>,
    message: Option<String>,
}

pub struct IssuedView {
    pub code: String,
    pub person_id: i64,
    pub expires: String,
    pub resets: bool,
}

impl InvitePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

fn invite_page(
    session: &Session,
    issued: Option<IssuedView>,
    message: Option<String>,
) -> InvitePage {
    InvitePage {
        bar: UserBar::of(session),
        csrf: session.row.csrf_token.clone(),
        issued,
        message,
    }
}

#[get("/citizens")]
fn invite_form(inviter: CitizenInviter) -> Page<InvitePage> {
    Page::ok(invite_page(&inviter.0, None, None))
}

#[derive(FromForm)]
pub struct InviteForm<'r> {
    csrf: &'r str,
    /// A person id or an NHS number.
    person: &'r str,
}

/// The person a staff member typed: an id, or an NHS number held by exactly one person.
pub fn person_of(store: &crate::store::Store, key: &str) -> Result<Option<i64>, ServerError> {
    let compact: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 10 && compact.bytes().all(|b| b.is_ascii_digit()) {
        let hits = store.find_by_nhs_number(&compact)?;
        return Ok(match hits.as_slice() {
            [one] => Some(one.id),
            _ => None,
        });
    }
    Ok(compact.parse().ok())
}

#[post("/citizens", data = "<form>")]
fn issue_invite(
    inviter: CitizenInviter,
    form: Form<InviteForm<'_>>,
    web: &State<Web>,
) -> Result<Page<InvitePage>, ServerError> {
    let mut session = inviter.0;
    if !session.csrf_ok(form.csrf) {
        let message = "The form had expired. No code was issued.".to_owned();
        return Ok(Page::ok(invite_page(&session, None, Some(message))));
    }
    let Some(person) = person_of(session.store(), form.person)? else {
        let message = "No single person has that id or NHS number. No code was issued.".to_owned();
        return Ok(Page::ok(invite_page(&session, None, Some(message))));
    };
    let actor = session.actor();
    let issued = match invite::issue(
        session.store_mut(),
        &actor,
        person,
        web.config.citizen.invite_valid_hours,
        web.clock.now(),
    ) {
        Ok(i) => i,
        Err(crate::error::Error::NotFound(_)) => {
            let message =
                "No single person has that id or NHS number. No code was issued.".to_owned();
            return Ok(Page::ok(invite_page(&session, None, Some(message))));
        }
        Err(e) => return Err(e.into()),
    };
    let view = IssuedView {
        code: issued.code,
        person_id: issued.person_id,
        expires: super::plain_time(&issued.expires_at),
        resets: issued.resets,
    };
    Ok(Page::ok(invite_page(&session, Some(view), None)))
}

pub struct ReportView {
    pub id: i64,
    pub person_id: i64,
    pub title: String,
    pub report: String,
    pub reported: String,
    pub handled: Option<String>,
    pub note: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_citizen_reports.html")]
pub struct ReportsPage {
    bar: Option<UserBar>,
    csrf: String,
    org: String,
    reports: Vec<ReportView>,
}

impl ReportsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

/// Whether this session's role handles citizens' error reports (the policy names it).
fn handles_reports(session: &Session, web: &Web) -> bool {
    session.profile.role == web.gate.policy.citizen.error_reports_role
}

/// A link in the page header to one of these staff pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLink {
    pub href: &'static str,
    pub label: &'static str,
}

/// The staff pages of the citizens' side that `profile` may use, as the guards of those pages
/// decide: invitations (`invite-citizens`), proxy access (`record-proxies`), and the error
/// report queue (the role the policy names).
pub fn header_links(web: &Web, profile: &crate::access::Profile) -> Vec<HeaderLink> {
    use crate::access::Activity;
    let mut links = Vec::new();
    if web.gate.allows(profile, Activity::InviteCitizens) {
        links.push(HeaderLink {
            href: "/admin/citizens",
            label: "Citizen invitations",
        });
    }
    if web.gate.allows(profile, Activity::RecordProxies) {
        links.push(HeaderLink {
            href: "/admin/proxies",
            label: "Proxy access",
        });
    }
    if profile.role == web.gate.policy.citizen.error_reports_role {
        links.push(HeaderLink {
            href: "/admin/citizen-reports",
            label: "Citizens' error reports",
        });
    }
    links
}

#[get("/citizen-reports")]
fn reports_page(
    session: Session,
    web: &State<Web>,
) -> Result<Either<Page<ReportsPage>, Status>, ServerError> {
    if !handles_reports(&session, web) {
        return Ok(Either::Right(Status::Forbidden));
    }
    let reports = session
        .store()
        .citizen_error_reports_for(&session.profile.org)?
        .into_iter()
        .map(|r| ReportView {
            id: r.id,
            person_id: r.person_id,
            title: r.entry_title,
            report: r.report,
            reported: super::plain_time(&r.reported_at),
            handled: r.handled_at.as_deref().map(super::plain_time),
            note: r.note,
        })
        .collect();
    Ok(Either::Left(Page::ok(ReportsPage {
        bar: UserBar::of(&session),
        csrf: session.row.csrf_token.clone(),
        org: session.profile.org.clone(),
        reports,
    })))
}

#[derive(FromForm)]
pub struct HandleForm<'r> {
    csrf: &'r str,
    note: &'r str,
}

#[post("/citizen-reports/<id>", data = "<form>")]
fn handle_report(
    mut session: Session,
    id: i64,
    form: Form<HandleForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Status>, ServerError> {
    if !handles_reports(&session, web) || !session.csrf_ok(form.csrf) {
        return Ok(Either::Right(Status::Forbidden));
    }
    let note: String = form.note.trim().chars().take(2000).collect();
    let actor = session.actor();
    let org = session.profile.org.clone();
    let now = web.clock.now_text();
    let tx = session.store_mut().begin()?;
    if tx.handle_citizen_error_report(id, &org, &actor.name, &note, &now)? {
        let detail = format!("error report {id}");
        tx.audit(
            &crate::store::AuditEvent {
                detail: Some(&detail),
                ..actor.event(crate::audit::Action::CitizenErrorHandled)
            },
            &now,
        )?;
        tx.commit()?;
    }
    Ok(Either::Left(Redirect::to("/admin/citizen-reports")))
}
