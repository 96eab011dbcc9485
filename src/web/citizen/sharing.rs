//! Saying no: the citizen records or withdraws their objection to sharing, after a page that
//! explains what changes for their care. It is the same objection staff record
//! (`access::objections`), recorded by `citizen:<account>`, and the gate enforces it for
//! staff from the next request.

use super::guard::Citizen;
use crate::access::objections;
use crate::web::auth::CsrfForm;
use crate::web::pages::Page;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![sharing_page, object, withdraw]
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/sharing.html")]
pub struct SharingPage {
    session_csrf: String,
    objecting: bool,
    /// Objections recorded here (by the citizen or staff), which the citizen may withdraw.
    recorded_here: usize,
    message: Option<String>,
}

fn page(citizen: &Citizen, message: Option<String>) -> Result<Page<SharingPage>, ServerError> {
    let objecting = citizen.db.objects_to_sharing(citizen.person_id)?;
    let recorded_here = citizen.db.objections(citizen.person_id)?.len();
    Ok(Page::ok(SharingPage {
        session_csrf: citizen.row.csrf_token.clone(),
        objecting,
        recorded_here,
        message,
    }))
}

#[get("/sharing")]
fn sharing_page(citizen: Citizen) -> Result<Page<SharingPage>, ServerError> {
    page(&citizen, None)
}

#[derive(FromForm)]
pub struct ObjectForm<'r> {
    csrf: &'r str,
    /// The box saying they have read what changes.
    understood: bool,
}

#[post("/sharing/object", data = "<form>")]
fn object(
    mut citizen: Citizen,
    form: Form<ObjectForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Page<SharingPage>>, ServerError> {
    if !citizen.csrf_ok(form.csrf) {
        return Ok(Either::Right(page(
            &citizen,
            Some("The form had expired. Nothing was changed.".into()),
        )?));
    }
    if !form.understood {
        return Ok(Either::Right(page(
            &citizen,
            Some(
                "Please tick the box to say you have read what changes. Nothing was changed."
                    .into(),
            ),
        )?));
    }
    let now = web.clock.now();
    let actor = citizen.actor();
    let person = citizen.person_id;
    objections::record(
        &mut citizen.db,
        &actor,
        person,
        "Recorded by the person themselves on the citizens' pages",
        now.date_naive(),
        now,
    )?;
    Ok(Either::Left(Redirect::to("/citizen/sharing")))
}

#[post("/sharing/withdraw", data = "<form>")]
fn withdraw(
    mut citizen: Citizen,
    form: Form<CsrfForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, Page<SharingPage>>, ServerError> {
    if !citizen.csrf_ok(form.csrf) {
        return Ok(Either::Right(page(
            &citizen,
            Some("The form had expired. Nothing was changed.".into()),
        )?));
    }
    let actor = citizen.actor();
    let person = citizen.person_id;
    match objections::withdraw(&mut citizen.db, &actor, person, web.clock.now()) {
        Ok(_) | Err(crate::error::Error::NotFound(_)) => {
            Ok(Either::Left(Redirect::to("/citizen/sharing")))
        }
        Err(e) => Err(e.into()),
    }
}
