//! Creating and editing a source from the feed pages: `GET /admin/sources/new`,
//! `GET /admin/sources/<code>/edit`, `POST /admin/sources`. The form is checked by the same
//! [`settings::save_source`] as `sharedcare source add|edit` (check, save, audit, commit in one
//! transaction), and a refusal shows the form again with what was typed and why. The form
//! holds the source's MLLP settings too (a port of its own, the senders allowed), checked as
//! `source edit --mllp ADDR:PORT --mllp-allow LIST` checks them.

use super::{as_admin, csrf_ok, csrf_refused};
use crate::error::Error;
use crate::sources::settings::{self, SourceInput};
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
    routes![new_source, edit_source, save_source]
}

pub const KINDS: &[&str] = &["acute", "gp", "community", "mental-health", "social-care"];
pub const FORMATS: &[&str] = &["hl7v2", "fhir", "csv"];

#[derive(FromForm, Default)]
pub struct SourceForm {
    csrf: Option<String>,
    /// Set when editing: the code cannot change.
    existing: Option<String>,
    code: String,
    name: String,
    org: String,
    org_name: String,
    kind: String,
    format: String,
    mapping: String,
    cadence: String,
    drop_folder: String,
    keys: String,
    /// `ADDR:PORT` of an MLLP port of the source's own; empty for none; absent (a form from
    /// before these fields) leaves it as it is.
    mllp: Option<String>,
    /// Addresses and networks allowed to send over MLLP; empty for loopback only; absent
    /// leaves it as it is.
    mllp_allow: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_source_form.html")]
pub struct SourceFormPage {
    pub bar: Option<UserBar>,
    pub editing: bool,
    pub form: SourceForm,
    pub has_mapping: bool,
    pub message: Option<String>,
    pub kinds: &'static [&'static str],
    pub formats: &'static [&'static str],
}

impl SourceFormPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }

    /// A kind's or format's name in words for the form's options ("Acute hospital", "HL7 v2").
    pub fn option_label<'a>(&self, key: &'a str) -> &'a str {
        crate::model::SourceKind::parse(key)
            .map(|k| k.label())
            .or_else(|| crate::model::Format::parse(key).map(|f| f.label()))
            .unwrap_or(key)
    }

    fn new(admin: &Admin, editing: bool, form: SourceForm) -> Self {
        Self {
            bar: UserBar::of(&admin.0),
            editing,
            form,
            has_mapping: false,
            message: None,
            kinds: KINDS,
            formats: FORMATS,
        }
    }
}

#[get("/sources/new")]
fn new_source(admin: Admin) -> Page<SourceFormPage> {
    let form = SourceForm {
        kind: "acute".into(),
        format: "hl7v2".into(),
        ..Default::default()
    };
    Page::ok(SourceFormPage::new(&admin, false, form))
}

#[get("/sources/<code>/edit")]
fn edit_source(
    admin: Admin,
    code: &str,
) -> Result<Either<Page<SourceFormPage>, ErrorPage>, ServerError> {
    let store = admin.0.store();
    let Some(s) = store.sources()?.into_iter().find(|s| s.code == code) else {
        return Ok(Either::Right(ErrorPage::new(
            Status::NotFound,
            "There is no source with that code.",
        )));
    };
    let feed = store.source_feed(s.id)?;
    let (mllp, mllp_allow) = store.mllp_settings(s.id)?;
    let form = SourceForm {
        existing: Some(s.code.clone()),
        code: s.code.clone(),
        name: s.name.clone(),
        org: s.org_code.clone(),
        org_name: s.org_name.clone(),
        kind: s.kind.as_str().to_owned(),
        format: s.format.as_str().to_owned(),
        cadence: feed.cadence.unwrap_or_default(),
        drop_folder: feed.drop_folder.unwrap_or_default(),
        mllp: Some(mllp.unwrap_or_default()),
        mllp_allow: Some(mllp_allow.unwrap_or_default()),
        ..Default::default()
    };
    let mut page = SourceFormPage::new(&admin, true, form);
    page.has_mapping = s.has_mapping;
    Ok(Either::Left(Page::ok(page)))
}

#[post("/sources", data = "<form>")]
fn save_source(
    admin: Admin,
    form: Form<SourceForm>,
    web: &State<Web>,
) -> Result<Either<Redirect, Either<Page<SourceFormPage>, ErrorPage>>, ServerError> {
    if !csrf_ok(&admin.0, form.csrf.as_deref()) {
        return Ok(Either::Right(Either::Right(csrf_refused())));
    }
    let mut form = form.into_inner();
    let editing = form.existing.is_some();
    if let Some(existing) = &form.existing {
        form.code.clone_from(existing);
    }
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let input = SourceInput {
        code: form.code.clone(),
        name: form.name.clone(),
        org: form.org.clone(),
        org_name: text(&form.org_name),
        kind: form.kind.clone(),
        format: form.format.clone(),
        mapping: text(&form.mapping).map(|m| ("pasted in the form".to_owned(), m)),
        // The form always shows the current values, so an empty box means "none".
        cadence: Some(form.cadence.clone()),
        drop_folder: Some(form.drop_folder.clone()),
        keys: text(&form.keys)
            .map(|k| vec![("the public keys".to_owned(), k)])
            .unwrap_or_default(),
        // As for the cadence: the form shows the current values, so empty means none (no port
        // of its own; loopback only). A port takes effect when the server next starts.
        mllp: form.mllp.clone(),
        mllp_allow: form.mllp_allow.clone(),
    };
    let mut session = admin.0;
    let now = web.clock.now_text();
    let config = &web.config;
    match as_admin(&mut session, |store, by| {
        settings::save_source(store, config, &input, by, &now)
    }) {
        Ok(saved) => Ok(Either::Left(Redirect::to(format!(
            "/admin/feeds/{}",
            crate::web::urlencode(&saved.code)
        )))),
        // A refused input shows the form again, with what was typed and why.
        Err(Error::Invalid(message)) => {
            let admin = Admin(session);
            let has_mapping = admin
                .0
                .store()
                .source_by_code(&form.code)
                .is_ok_and(|s| s.has_mapping);
            let mut page = SourceFormPage::new(&admin, editing, form);
            page.has_mapping = has_mapping;
            page.message = Some(message);
            Ok(Either::Right(Either::Left(Page(
                Status::UnprocessableEntity,
                page,
            ))))
        }
        Err(e) => Err(e.into()),
    }
}
