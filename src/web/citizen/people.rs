//! `/citizen/people`: the citizen's own record and the people they may act for (proxy access
//! staff have recorded), with a switch between them. The switch is checked against the
//! relationships in force on every request (`guard`), and audited.

use super::guard::Citizen;
use crate::access::proxy::basis_label;
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
    routes![people_page, act_as]
}

pub struct Choice {
    pub person_id: i64,
    pub name: String,
    pub basis: String,
    pub until: Option<String>,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/people.html")]
pub struct PeoplePage {
    session_csrf: String,
    own_current: bool,
    people: Vec<Choice>,
}

fn name_of(citizen: &Citizen, person: i64) -> Result<String, ServerError> {
    let record = citizen.db.person_record_of(person, &[])?;
    Ok(record.map_or_else(
        || format!("Person {person}"),
        |r| {
            let d = r.demographics;
            let given = d.given.first().cloned().unwrap_or_default();
            format!("{given} {}", d.family.unwrap_or_default())
                .trim()
                .to_owned()
        },
    ))
}

#[get("/people")]
fn people_page(citizen: Citizen, web: &State<Web>) -> Result<Page<PeoplePage>, ServerError> {
    let today = web.clock.now().date_naive().to_string();
    let mut people = Vec::new();
    for p in citizen.db.proxies_of(citizen.own_person_id, &today)? {
        let Some(live) = citizen.db.resolve_person(p.for_person_id)? else {
            continue;
        };
        people.push(Choice {
            person_id: live,
            name: name_of(&citizen, live)?,
            basis: basis_label(&p.legal_basis).to_owned(),
            until: p.ends_on.clone(),
            current: citizen.acting.is_some() && citizen.person_id == live,
        });
    }
    Ok(Page::ok(PeoplePage {
        session_csrf: citizen.row.csrf_token.clone(),
        own_current: citizen.acting.is_none(),
        people,
    }))
}

#[derive(FromForm)]
pub struct ActAsForm<'r> {
    csrf: &'r str,
    /// A person the citizen acts for; 0 for themselves.
    person: i64,
}

#[post("/act-as", data = "<form>")]
fn act_as(
    mut citizen: Citizen,
    form: Form<ActAsForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Redirect, rocket::http::Status>, ServerError> {
    if !citizen.csrf_ok(form.csrf) {
        return Ok(Either::Right(rocket::http::Status::Forbidden));
    }
    let today = web.clock.now().date_naive().to_string();
    let target = if form.person == 0 || form.person == citizen.own_person_id {
        None
    } else {
        let mut found = None;
        for p in citizen.db.proxies_of(citizen.own_person_id, &today)? {
            if citizen.db.resolve_person(p.for_person_id)? == Some(form.person) {
                found = Some((form.person, p.id));
            }
        }
        match found {
            Some(f) => Some(f),
            // Not someone they act for: the same answer whether the person exists or not.
            None => return Ok(Either::Right(rocket::http::Status::NotFound)),
        }
    };
    let actor = citizen.actor();
    let now = web.clock.now_text();
    let own = citizen.own_person_id;
    let tx = citizen.db.begin()?;
    tx.set_citizen_acting_for(citizen.row.id, target.map(|(p, _)| p))?;
    let detail = match target {
        Some((_, id)) => format!("acting through proxy {id}"),
        None => "back to their own record".to_owned(),
    };
    tx.audit(
        &AuditEvent {
            person_id: Some(target.map_or(own, |(p, _)| p)),
            detail: Some(&detail),
            ..actor.event(Action::ProxySwitch)
        },
        &now,
    )?;
    tx.commit()?;
    Ok(Either::Left(Redirect::to("/citizen")))
}
