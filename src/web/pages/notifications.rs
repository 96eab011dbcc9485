//! `GET /notifications`: the inboxes of the signed-in profile (its organisation's, and the
//! privacy officer's for a role that reviews alerts), unread first-class, `?all=true` for read
//! ones too; `POST /notifications/<id>/read` and `POST /notifications/read` mark one or all
//! read. A notification names nobody: "Open the record" goes through the access gate like any
//! other way to a person, and a notification is not itself a reason to be let in.

use crate::notify::{inbox, Event};
use crate::store::NotificationRow;
use crate::web::admin::{csrf_ok, csrf_refused, parse_id};
use crate::web::guards::Session;
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![inbox_page, mark_one, mark_all]
}

/// One line of the inbox, in words.
pub struct Line {
    pub id: i64,
    pub what: &'static str,
    pub rule: String,
    pub from: Option<String>,
    pub person_id: Option<i64>,
    pub reference: Option<String>,
    pub at: String,
    pub read: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
pub struct InboxPage {
    pub bar: Option<UserBar>,
    pub lines: Vec<Line>,
    pub all: bool,
    pub cap: usize,
}

impl InboxPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

fn line(row: NotificationRow, web: &Web) -> Line {
    let rule = web
        .config
        .notifications
        .loaded
        .rules
        .iter()
        .find(|r| r.name == row.rule)
        .map_or_else(|| row.rule.clone(), |r| r.label.clone());
    let read = row.read_at.map(|at| {
        let when = crate::record::when::when_text(&at);
        match row.read_by {
            Some(by) => format!("Read {when} by {by}"),
            None => format!("Read {when}"),
        }
    });
    Line {
        id: row.id,
        what: Event::label(&row.event),
        rule,
        from: row.source,
        person_id: row.person_id,
        reference: row.reference,
        at: crate::record::when::when_text(&row.created_at),
        read,
    }
}

#[get("/notifications?<all>")]
fn inbox_page(
    session: Session,
    all: Option<bool>,
    web: &State<Web>,
) -> Result<Page<InboxPage>, ServerError> {
    let all = all.unwrap_or(false);
    let rows = inbox::list(session.store(), &session.inboxes, all)?;
    Ok(Page::ok(InboxPage {
        bar: UserBar::of(&session),
        lines: rows.into_iter().map(|r| line(r, web)).collect(),
        all,
        cap: inbox::PAGE,
    }))
}

#[derive(FromForm)]
pub struct MarkForm {
    csrf: Option<String>,
}

type Marked = Result<Either<Redirect, ErrorPage>, ServerError>;

fn mark(mut session: Session, form: &MarkForm, id: Option<i64>, web: &Web) -> Marked {
    if !csrf_ok(&session, form.csrf.as_deref()) {
        return Ok(Either::Right(csrf_refused()));
    }
    let inboxes = session.inboxes.clone();
    let profile = session.profile.clone();
    inbox::mark_read(session.store_mut(), &inboxes, id, &profile, web.clock.now())?;
    Ok(Either::Left(Redirect::to("/notifications")))
}

#[post("/notifications/<id>/read", data = "<form>")]
fn mark_one(session: Session, id: &str, form: Form<MarkForm>, web: &State<Web>) -> Marked {
    // An id that is not a number, or not in this profile's inboxes, marks nothing.
    mark(session, &form, Some(parse_id(id).unwrap_or(0)), web)
}

#[post("/notifications/read", data = "<form>")]
fn mark_all(session: Session, form: Form<MarkForm>, web: &State<Web>) -> Marked {
    mark(session, &form, None, web)
}
