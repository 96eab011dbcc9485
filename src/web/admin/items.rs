//! One quarantined file or rejected unit: its reason and raw content (`GET /admin/files/<id>`,
//! `GET /admin/rejects/<id>`, each view audited as `feed-raw-view`), and the decisions on it.
//!
//! Replaying a quarantined file moves it back from `quarantine/<SOURCE>/` into the inbox, so it
//! takes the ordinary path again (the next scans claim and import it); the source's fix is
//! written over the quarantined file first. Replaying a rejected unit parses its stored bytes
//! again and applies them like a unit of a new file. Discarding records who, when and a note;
//! a discarded file moves to `discarded/<SOURCE>/`, nothing is deleted.

use super::{audit, csrf_ok, csrf_refused, parse_id, show_raw, RAW_CAP};
use crate::audit::Action;
use crate::import::replay::replay_unit;
use crate::sources::quarantine::read_capped;
use crate::sources::Spool;
use crate::store::{FileListRow, RejectRow};
use crate::web::guards::Admin;
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![
        file_page,
        file_replay,
        file_discard,
        reject_page,
        reject_replay,
        reject_discard
    ]
}

type Shown<T> = Result<Either<Page<T>, ErrorPage>, ServerError>;
type Acted = Result<Either<Redirect, ErrorPage>, ServerError>;

fn missing<T>(what: &str) -> Either<T, ErrorPage> {
    Either::Right(ErrorPage::new(
        Status::NotFound,
        &format!("There is no such {what}."),
    ))
}

/// What a finished action says on the page it returns to.
fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "released" => Some(
            "The file is back in the source's inbox: the next scans import it (or quarantine it \
             again with a new reason).",
        ),
        "replayed" => Some("The unit was imported."),
        "failed" => Some("The unit still cannot be imported; the reason below is the new one."),
        "discarded" => Some("Discarded; the decision and your note are recorded."),
        _ => None,
    }
}

#[derive(FromForm)]
pub struct DecisionForm {
    csrf: Option<String>,
    note: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_file.html")]
pub struct FilePage {
    pub bar: Option<UserBar>,
    pub file: FileListRow,
    pub source: String,
    pub message: Option<&'static str>,
    /// The quarantined file's content, when it is still in quarantine.
    pub raw: Option<String>,
    pub size: u64,
    pub truncated: bool,
    pub rejects: Vec<RejectRow>,
}

impl FilePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

/// A file's row, its source code and, when it is undecided and still quarantined, its path.
fn locate(
    admin: &Admin,
    web: &Web,
    id: i64,
) -> Result<Option<(FileListRow, String, Option<std::path::PathBuf>)>, ServerError> {
    let store = admin.0.store();
    let (Some(file), Some(base)) = (store.file_with_decision(id)?, store.file(id)?) else {
        return Ok(None);
    };
    let path = if file.state == "quarantined" && file.decision.is_none() {
        Spool::new(&web.config.data_dir, &base.source_code)?
            .find_quarantined(&file.name, &file.sha256)?
    } else {
        None
    };
    Ok(Some((file, base.source_code, path)))
}

#[get("/files/<id>?<done>")]
fn file_page(admin: Admin, id: &str, done: Option<&str>, web: &State<Web>) -> Shown<FilePage> {
    let Some(id) = parse_id(id) else {
        return Ok(missing("file"));
    };
    let Some((file, source, path)) = locate(&admin, web, id)? else {
        return Ok(missing("file"));
    };
    let mut session = admin.0;
    let mut page = FilePage {
        bar: UserBar::of(&session),
        message: done_message(done),
        raw: None,
        size: 0,
        truncated: false,
        rejects: session.store().file_reject_rows(id)?,
        file,
        source,
    };
    if let Some(path) = path {
        let (bytes, size) = read_capped(&path, RAW_CAP)?;
        audit(
            &mut session,
            web,
            Action::FeedRawView,
            &format!("file {id}"),
            "ok",
        )?;
        page.truncated = size > bytes.len() as u64;
        page.size = size;
        page.raw = Some(show_raw(&bytes));
    }
    Ok(Either::Left(Page::ok(page)))
}

#[post("/files/<id>/replay", data = "<form>")]
fn file_replay(admin: Admin, id: &str, form: Form<DecisionForm>, web: &State<Web>) -> Acted {
    if !csrf_ok(&admin.0, form.csrf.as_deref()) {
        return Ok(Either::Right(csrf_refused()));
    }
    let Some(id) = parse_id(id) else {
        return Ok(missing("file"));
    };
    let Some((file, source, Some(path))) = locate(&admin, web, id)? else {
        return Ok(missing("quarantined file"));
    };
    let bytes = std::fs::read(&path).map_err(|e| crate::sources::io("read", &path, e))?;
    let fixed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)) != file.sha256;
    Spool::new(&web.config.data_dir, &source)?.release(&path)?;
    let mut session = admin.0;
    // The same bytes reuse this file's record when scanned again; fixed bytes are a new file,
    // and this record is settled.
    if fixed {
        let by = session.username().to_owned();
        let tx = session.store_mut().begin()?;
        tx.file_decided(id, "replayed", &by, None, &web.clock.now_text())?;
        tx.commit()?;
    }
    let detail = format!(
        "file {id} back to the inbox{}",
        if fixed { ", fixed" } else { "" }
    );
    audit(&mut session, web, Action::FeedReplay, &detail, "ok")?;
    Ok(Either::Left(Redirect::to(format!(
        "/admin/files/{id}?done=released"
    ))))
}

fn note_of(form: &DecisionForm) -> Option<String> {
    form.note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(2000).collect())
}

fn note_needed() -> ErrorPage {
    ErrorPage::new(
        Status::UnprocessableEntity,
        "Say why it is discarded: the note is required. Go back and add one.",
    )
}

#[post("/files/<id>/discard", data = "<form>")]
fn file_discard(admin: Admin, id: &str, form: Form<DecisionForm>, web: &State<Web>) -> Acted {
    if !csrf_ok(&admin.0, form.csrf.as_deref()) {
        return Ok(Either::Right(csrf_refused()));
    }
    let Some(note) = note_of(&form) else {
        return Ok(Either::Right(note_needed()));
    };
    let Some(id) = parse_id(id) else {
        return Ok(missing("file"));
    };
    let Some((_, source, Some(path))) = locate(&admin, web, id)? else {
        return Ok(missing("quarantined file"));
    };
    let mut session = admin.0;
    let by = session.username().to_owned();
    let now = web.clock.now_text();
    Spool::new(&web.config.data_dir, &source)?.discard(&path, &by, &now, &note)?;
    let tx = session.store_mut().begin()?;
    tx.file_decided(id, "discarded", &by, Some(&note), &now)?;
    tx.commit()?;
    audit(
        &mut session,
        web,
        Action::FeedDiscard,
        &format!("file {id}"),
        "ok",
    )?;
    Ok(Either::Left(Redirect::to(format!(
        "/admin/files/{id}?done=discarded"
    ))))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_reject.html")]
pub struct RejectPage {
    pub bar: Option<UserBar>,
    pub reject: RejectRow,
    pub message: Option<&'static str>,
    pub raw: String,
    pub truncated: bool,
}

impl RejectPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

#[get("/rejects/<id>?<done>")]
fn reject_page(admin: Admin, id: &str, done: Option<&str>, web: &State<Web>) -> Shown<RejectPage> {
    let Some(id) = parse_id(id) else {
        return Ok(missing("rejected unit"));
    };
    let mut session = admin.0;
    let Some(mut reject) = session.store().reject(id)? else {
        return Ok(missing("rejected unit"));
    };
    let raw = std::mem::take(&mut reject.raw);
    let shown = raw.get(..RAW_CAP).unwrap_or(&raw);
    let detail = format!("reject {id}: file {} {}", reject.file_id, reject.position);
    audit(&mut session, web, Action::FeedRawView, &detail, "ok")?;
    Ok(Either::Left(Page::ok(RejectPage {
        bar: UserBar::of(&session),
        message: done_message(done),
        truncated: shown.len() < raw.len(),
        raw: show_raw(shown),
        reject,
    })))
}

#[post("/rejects/<id>/replay", data = "<form>")]
fn reject_replay(admin: Admin, id: &str, form: Form<DecisionForm>, web: &State<Web>) -> Acted {
    if !csrf_ok(&admin.0, form.csrf.as_deref()) {
        return Ok(Either::Right(csrf_refused()));
    }
    let Some(id) = parse_id(id) else {
        return Ok(missing("rejected unit"));
    };
    let mut session = admin.0;
    let store = session.store();
    let Some(reject) = store.reject(id)?.filter(|r| r.state == "open") else {
        return Ok(missing("open rejected unit"));
    };
    let source = store.source_by_code(&reject.source_code)?;
    let by = session.username().to_owned();
    let now = web.clock.now_text();
    let tx = session.store_mut().begin()?;
    let outcome = replay_unit(&tx, &web.config, &source, reject.file_id, &reject.raw, &now)?;
    let done = match &outcome {
        Ok(()) => {
            tx.reject_replayed(id, &by, &now)?;
            "replayed"
        }
        Err(reason) => {
            tx.reject_reason(id, reason)?;
            "failed"
        }
    };
    tx.commit()?;
    let detail = format!("reject {id}: file {} {}", reject.file_id, reject.position);
    let outcome = if outcome.is_ok() { "ok" } else { "failed" };
    audit(&mut session, web, Action::FeedReplay, &detail, outcome)?;
    Ok(Either::Left(Redirect::to(format!(
        "/admin/rejects/{id}?done={done}"
    ))))
}

#[post("/rejects/<id>/discard", data = "<form>")]
fn reject_discard(admin: Admin, id: &str, form: Form<DecisionForm>, web: &State<Web>) -> Acted {
    if !csrf_ok(&admin.0, form.csrf.as_deref()) {
        return Ok(Either::Right(csrf_refused()));
    }
    let Some(note) = note_of(&form) else {
        return Ok(Either::Right(note_needed()));
    };
    let Some(id) = parse_id(id) else {
        return Ok(missing("rejected unit"));
    };
    let mut session = admin.0;
    let by = session.username().to_owned();
    let now = web.clock.now_text();
    let tx = session.store_mut().begin()?;
    let changed = tx.reject_discarded(id, &by, &note, &now)?;
    tx.commit()?;
    if !changed {
        return Ok(missing("open rejected unit"));
    }
    audit(
        &mut session,
        web,
        Action::FeedDiscard,
        &format!("reject {id}"),
        "ok",
    )?;
    Ok(Either::Left(Redirect::to(format!(
        "/admin/rejects/{id}?done=discarded"
    ))))
}
