//! Opening a person through the access gate, and what a user without a care relationship may
//! do about it: self-claim a relationship or break glass (both time-limited, audited and
//! alerted to the privacy officer), or, with a relationship, ask with a reason to see what was
//! withheld as sensitive.

use super::{record, seen, Page, UserBar};
use crate::access::{password, Activity, Claim, Opened, Visible, CLAIM_REASONS, GLASS_REASONS};
use crate::audit::Action;
use crate::web::guards::{Clinical, Session};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{post, routes, Either, Route, State};
use std::time::Instant;

pub fn routes() -> Vec<Route> {
    routes![self_claim, break_glass, end_break_glass, show_sensitive]
}

pub struct Reason {
    pub code: &'static str,
    pub label: &'static str,
}

fn reasons(list: &[(&'static str, &'static str)]) -> Vec<Reason> {
    list.iter()
        .map(|(code, label)| Reason { code, label })
        .collect()
}

/// The page for a record the user may not open. It reads the same whether or not anyone has
/// that id: it names no one.
#[derive(Template, WebTemplate)]
#[template(path = "no_access.html")]
pub struct NoAccessPage {
    pub bar: Option<UserBar>,
    pub person_id: i64,
    pub may_claim: bool,
    pub may_break_glass: bool,
    pub claim_reasons: Vec<Reason>,
    pub glass_reasons: Vec<Reason>,
    pub claim_hours: i64,
    pub glass_hours: i64,
    pub message: Option<String>,
}

impl NoAccessPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    /// How long a self-claim lasts, in days where whole days: "7 days", not "168 hours".
    pub fn claim_lasts(&self) -> String {
        crate::record::when::duration_text(self.claim_hours)
    }

    pub fn glass_lasts(&self) -> String {
        crate::record::when::duration_text(self.glass_hours)
    }
}

pub type Refused = Page<NoAccessPage>;

fn refused(session: &Session, web: &Web, id: i64, message: Option<String>) -> Refused {
    Page(
        Status::Forbidden,
        NoAccessPage {
            bar: UserBar::of(session),
            person_id: id,
            may_claim: session.may(web, Activity::SelfClaim),
            may_break_glass: session.may(web, Activity::BreakGlass),
            claim_reasons: reasons(&CLAIM_REASONS),
            glass_reasons: reasons(&GLASS_REASONS),
            claim_hours: web.gate.config.self_claim_hours,
            glass_hours: web.gate.config.break_glass_hours,
            message,
        },
    )
}

/// The record behind `id` as this session may see it, or the no-access page. A refusal is
/// audited (`view-refused`), without naming a person who may not exist.
pub fn load(
    session: &mut Session,
    web: &Web,
    id: i64,
    show_sensitive: bool,
) -> Result<Result<Visible, Refused>, ServerError> {
    let opened = web.gate.open_person(
        session.store(),
        &session.profile,
        id,
        web.clock.now(),
        show_sensitive,
    )?;
    match opened {
        Opened::Record(v) => Ok(Ok(*v)),
        Opened::NoAccess { .. } => {
            let detail = format!("record {id}");
            session.audit(web, Action::ViewRefused, None, &detail, "denied")?;
            Ok(Err(refused(session, web, id, None)))
        }
    }
}

#[derive(FromForm)]
pub struct ClaimForm<'r> {
    pub csrf: &'r str,
    pub reason_code: &'r str,
    pub reason: &'r str,
    /// Broken glass only: the user's password again.
    pub password: Option<&'r str>,
}

fn claim(
    clinical: Clinical,
    id: i64,
    form: &ClaimForm<'_>,
    web: &Web,
    kind: Claim,
) -> Result<Either<Redirect, Refused>, ServerError> {
    let mut session = clinical.0;
    let activity = match kind {
        Claim::SelfClaim => Activity::SelfClaim,
        Claim::BreakGlass => Activity::BreakGlass,
    };
    if !session.csrf_ok(form.csrf) || !session.may(web, activity) {
        let message = "The form had expired, or your role may not do this. Nothing was recorded.";
        return Ok(Either::Right(refused(
            &session,
            web,
            id,
            Some(message.into()),
        )));
    }
    if kind == Claim::BreakGlass {
        if let Err(message) = confirm_password(&mut session, web, form.password.unwrap_or(""))? {
            return Ok(Either::Right(refused(&session, web, id, Some(message))));
        }
    }
    let profile = session.profile.clone();
    let ip = session.ip.clone();
    let done = web.gate.claim(
        session.store_mut(),
        &profile,
        kind,
        id,
        form.reason_code,
        form.reason,
        web.clock.now(),
        ip.as_deref(),
    );
    match done {
        // An id that names no one gets the same answer as one that does (the claim was
        // audited as refused): the record page then reads as for anyone not open to you.
        Ok(_) | Err(crate::error::Error::NotFound(_)) => {
            Ok(Either::Left(Redirect::to(format!("/person/{id}"))))
        }
        Err(crate::error::Error::Invalid(why)) => {
            Ok(Either::Right(refused(&session, web, id, Some(why))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks the password given to break glass, throttled like sign-in and counted with it (it
/// is the same password, so guessing it here must not get extra tries); a refusal is audited
/// and its message returned.
fn confirm_password(
    session: &mut Session,
    web: &Web,
    given: &str,
) -> Result<Result<(), String>, ServerError> {
    let address = session.ip.as_deref().and_then(|ip| ip.parse().ok());
    let attempt = match web
        .throttle
        .begin(session.username(), address, Instant::now())
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            let detail = "password not checked: too many failures";
            session.audit(web, Action::BreakGlassStart, None, detail, "denied")?;
            return Ok(Err(format!(
                "{} The glass was not broken.",
                crate::web::auth::throttled_message(wait)
            )));
        }
    };
    if password::verify(given, &session.row.user.password_hash) {
        attempt.succeeded();
        return Ok(Ok(()));
    }
    attempt.failed(Instant::now());
    session.audit(
        web,
        Action::BreakGlassStart,
        None,
        "password not confirmed",
        "denied",
    )?;
    Ok(Err(
        "Your password was not right: the glass was not broken.".into(),
    ))
}

#[post("/person/<id>/claim", data = "<form>")]
fn self_claim(
    clinical: Clinical,
    id: i64,
    form: Form<ClaimForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Refused>, ServerError> {
    claim(clinical, id, &form, web, Claim::SelfClaim)
}

#[post("/person/<id>/break-glass", data = "<form>")]
fn break_glass(
    clinical: Clinical,
    id: i64,
    form: Form<ClaimForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Refused>, ServerError> {
    claim(clinical, id, &form, web, Claim::BreakGlass)
}

/// Ends broken-glass access before it lapses, audited as `break-glass-end`.
#[post("/person/<id>/break-glass/end", data = "<form>")]
fn end_break_glass(
    clinical: Clinical,
    id: i64,
    form: Form<crate::web::auth::CsrfForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Refused>, ServerError> {
    let mut session = clinical.0;
    if !session.csrf_ok(form.csrf) {
        let message = "The form had expired. Nothing was changed.";
        return Ok(Either::Right(refused(
            &session,
            web,
            id,
            Some(message.into()),
        )));
    }
    let (profile, ip) = (session.profile.clone(), session.ip.clone());
    web.gate.end_break_glass(
        session.store_mut(),
        &profile,
        id,
        web.clock.now(),
        ip.as_deref(),
    )?;
    Ok(Either::Left(Redirect::to(format!("/person/{id}"))))
}

#[derive(FromForm)]
pub struct SensitiveForm<'r> {
    pub csrf: &'r str,
    pub reason: &'r str,
}

/// Shows the record with its sensitive entries, for a role that may ask and a stated reason;
/// the reason is audited with the view.
#[post("/person/<id>/sensitive", data = "<form>")]
fn show_sensitive(
    clinical: Clinical,
    id: i64,
    form: Form<SensitiveForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Page<record::RecordPage>, Refused>, ServerError> {
    let session = clinical.0;
    let reason = form.reason.trim();
    if !session.csrf_ok(form.csrf)
        || !session.may(web, Activity::ViewSensitive)
        || reason.chars().count() < 10
    {
        let message = "Give a reason of at least 10 characters to see withheld items.";
        return Ok(Either::Right(refused(
            &session,
            web,
            id,
            Some(message.into()),
        )));
    }
    record::render(session, web, id, "", Some(reason))
}

/// Writes the view event for a record that is about to be shown; `reason` is the reader's
/// stated reason when they asked for withheld items.
pub fn seen_record(
    session: &mut Session,
    web: &Web,
    action: Action,
    visible: &Visible,
    detail: Option<&str>,
    reason: Option<&str>,
) -> Result<(), ServerError> {
    let mut marks: Vec<&str> = detail.into_iter().collect();
    if visible.by_break_glass() {
        marks.push("break-glass");
    }
    if reason.is_some() {
        marks.push("sensitive shown");
    }
    let detail = marks.join("; ");
    let detail = (!detail.is_empty()).then_some(detail.as_str());
    seen::record(
        session,
        web,
        action,
        &[visible.record.person_id],
        detail,
        reason,
    )
}
