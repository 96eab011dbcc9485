//! `GET /privacy/alerts/<id>`: one misuse alert — the rule that fired and the audit events
//! behind it — for the privacy officer only (`review-alerts`). Every view is audited
//! (`misuse-alert-view`) before the page is sent, and so is every view of the queue that lists
//! misuse alerts ([`audit_listed`]).

use crate::audit::Action;
use crate::store::{AlertRow, EvidenceRow};
use crate::web::guards::{AlertReviewer, Session};
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;
use rocket::{get, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![misuse_alert_page]
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy_misuse_alert.html")]
pub struct MisuseAlertPage {
    pub bar: Option<UserBar>,
    pub alert: AlertRow,
    pub rule: String,
    pub evidence: Vec<EvidenceRow>,
}

impl MisuseAlertPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/alerts/<id>")]
fn misuse_alert_page(
    reviewer: AlertReviewer,
    id: i64,
    web: &State<Web>,
) -> Result<Either<Page<MisuseAlertPage>, ErrorPage>, ServerError> {
    let mut session = reviewer.0;
    let store = session.store();
    let (Some(alert), Some(rule)) = (store.alert(id)?, store.misuse_rule(id)?) else {
        return Ok(Either::Right(ErrorPage::new(
            Status::NotFound,
            "There is no such misuse alert.",
        )));
    };
    let evidence = store.misuse_evidence(id)?;
    let detail = format!(
        "{} ({rule}): {} events shown",
        alert.reference,
        evidence.len()
    );
    session.audit(web, Action::MisuseAlertView, alert.person_id, &detail, "ok")?;
    Ok(Either::Left(Page::ok(MisuseAlertPage {
        bar: UserBar::of(&session),
        alert,
        rule,
        evidence,
    })))
}

/// Audits a view of the queue that shows misuse alerts: one event naming them.
pub fn audit_listed(
    session: &mut Session,
    web: &Web,
    alerts: &[AlertRow],
) -> Result<(), ServerError> {
    let listed: Vec<&str> = alerts
        .iter()
        .filter(|a| a.kind == "misuse")
        .map(|a| a.reference.as_str())
        .collect();
    if listed.is_empty() {
        return Ok(());
    }
    let detail = format!("queue: {}", listed.join(", "));
    session.audit(web, Action::MisuseAlertView, None, &detail, "ok")?;
    Ok(())
}
