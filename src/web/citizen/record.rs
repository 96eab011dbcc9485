//! `GET /citizen`: the citizen's own record, in plain words, each item with where it came
//! from; `GET /citizen/record.json`: the same record as a FHIR R4 Bundle to keep. Both go
//! through the gate's citizen reading (`access::citizen`) and are audited before they are sent.

use super::guard::Citizen;
use crate::access::citizen::CitizenHeld;
use crate::access::Visible;
use crate::audit::Action;
use crate::record::fhir_export;
use crate::record::view::{Freshness, RecordView, Section};
use crate::web::pages::Page;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Header;
use rocket::{get, routes, Either, Responder, Route, State};

pub fn routes() -> Vec<Route> {
    routes![record_page, download]
}

/// The citizen's own record as the gate lets them see it; `None` when the person is no
/// longer in the record (their account outlived them).
pub fn open_own(
    citizen: &Citizen,
    web: &Web,
) -> Result<Option<(Visible, CitizenHeld)>, ServerError> {
    let Some(record) = citizen.db.person_record(citizen.person_id)? else {
        return Ok(None);
    };
    Ok(Some(web.gate.open_for_citizen(record, web.clock.now())))
}

/// Writes the citizen's look at their own record to the audit trail.
pub fn audit_own(citizen: &mut Citizen, web: &Web, what: &str) -> Result<(), ServerError> {
    let actor = citizen.actor();
    let person = citizen.person_id;
    let what = match &citizen.acting {
        Some(p) => format!("{what}; as proxy {}", p.id),
        None => what.to_owned(),
    };
    citizen.db.audit_seen(
        &actor,
        Action::CitizenView,
        &[person],
        Some(&what),
        None,
        &web.clock.now_text(),
    )?;
    Ok(())
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/record.html")]
pub struct RecordPage {
    session_csrf: String,
    name: String,
    born: String,
    nhs_number: String,
    sections: Vec<Section>,
    delayed: usize,
    next_release: Option<String>,
    /// The legal basis, when the citizen is looking as someone's proxy.
    acting_as: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/gone.html")]
pub struct GonePage {
    session_csrf: String,
}

#[get("/")]
fn record_page(
    mut citizen: Citizen,
    web: &State<Web>,
) -> Result<Either<Page<RecordPage>, Page<GonePage>>, ServerError> {
    let Some((visible, held)) = open_own(&citizen, web)? else {
        return Ok(Either::Right(Page::ok(GonePage {
            session_csrf: citizen.row.csrf_token.clone(),
        })));
    };
    let now = web.clock.now();
    let fresh = Freshness::new(&citizen.db.source_last_received()?, now);
    let mut view = RecordView::build(&visible.record, now.date_naive(), &fresh, &[]);
    view.keep_categories(&visible.categories);
    audit_own(&mut citizen, web, "record page")?;
    let sections = view
        .sections
        .into_iter()
        .filter(|s| !s.items.is_empty())
        .collect();
    Ok(Either::Left(Page::ok(RecordPage {
        session_csrf: citizen.row.csrf_token.clone(),
        name: view.banner.name,
        born: view.banner.born,
        nhs_number: view.banner.nhs_number,
        sections,
        delayed: held.delayed,
        next_release: held.next_release.map(crate::record::when::local_text),
        acting_as: citizen
            .acting
            .as_ref()
            .map(|p| crate::access::proxy::basis_label(&p.legal_basis)),
    })))
}

#[derive(Responder)]
#[response(content_type = "application/fhir+json")]
pub struct Download {
    body: String,
    disposition: Header<'static>,
}

#[get("/record.json")]
fn download(
    mut citizen: Citizen,
    web: &State<Web>,
) -> Result<Either<Download, Page<GonePage>>, ServerError> {
    let Some((visible, _)) = open_own(&citizen, web)? else {
        return Ok(Either::Right(Page::ok(GonePage {
            session_csrf: citizen.row.csrf_token.clone(),
        })));
    };
    let bundle = fhir_export::bundle(&visible.record);
    audit_own(&mut citizen, web, "download (FHIR Bundle)")?;
    Ok(Either::Left(Download {
        body: bundle.to_string(),
        disposition: Header::new(
            "Content-Disposition",
            "attachment; filename=\"my-health-and-care-record.json\"",
        ),
    }))
}
