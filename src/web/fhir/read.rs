//! Reading one person's data: the Patient, `$everything`, and the per-type searches by
//! `patient=`. Each loads the record once and filters the exporter's resources.

use super::outcome::FhirError;
use super::request::{Base, FhirRequest};
use super::{FhirJson, PATIENT_SEARCH_TYPES};
use crate::access::Activity;
use crate::audit::Action;
use crate::record::fhir_export;
use crate::web::Web;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![
        read_patient,
        everything,
        search_by_patient,
        super::patients::search_patients
    ]
}

#[get("/Patient/<id>")]
fn read_patient(id: &str, mut fhir: FhirRequest, web: &State<Web>) -> Result<FhirJson, FhirError> {
    fhir.base.params(&["_count", "_summary"])?;
    let record = fhir.record(web, id)?.record;
    fhir.audit(
        web,
        Action::FhirRead,
        &[record.person_id],
        "FHIR Patient read",
    )?;
    Ok(FhirJson::ok(fhir_export::patient_resource(&record)))
}

/// `Patient/{id}/$everything`: the Patient and every resource about them, optionally only
/// some types (`_type`).
#[get("/Patient/<id>/$everything")]
fn everything(id: &str, mut fhir: FhirRequest, web: &State<Web>) -> Result<FhirJson, FhirError> {
    let mut types: Option<Vec<String>> = None;
    for (k, v) in fhir.base.params(&["_type", "_count"])? {
        if k == "_type" {
            types
                .get_or_insert_with(Vec::new)
                .extend(v.split(',').map(|t| t.trim().to_owned()));
        }
    }
    // Whose record it is comes first: an unknown or unseeable person is the same 404 for a
    // role that may export and one that may not.
    let record = fhir.record(web, id)?.record;
    fhir.require(web, Activity::Export)?;
    let wanted = |r: &Value| {
        types.as_ref().is_none_or(|ts| {
            r.get("resourceType")
                .and_then(Value::as_str)
                .is_some_and(|t| ts.iter().any(|w| w == t))
        })
    };
    let mut resources: Vec<Value> = Vec::new();
    let patient = fhir_export::patient_resource(&record);
    if wanted(&patient) {
        resources.push(patient);
    }
    resources.extend(
        fhir_export::entry_resources(&record)
            .into_iter()
            .filter(|r| wanted(r)),
    );
    fhir.audit(
        web,
        Action::FhirRead,
        &[record.person_id],
        "FHIR Patient $everything",
    )?;
    Ok(FhirJson::ok(searchset(&fhir.base, resources)))
}

/// `{Type}?patient={id}` for the types in [`PATIENT_SEARCH_TYPES`]. An unknown or unseeable
/// patient gives an empty Bundle, as any search that matches nothing.
#[get("/<kind>")]
fn search_by_patient(
    kind: &str,
    mut fhir: FhirRequest,
    web: &State<Web>,
) -> Result<FhirJson, FhirError> {
    let Some(kind) = PATIENT_SEARCH_TYPES.iter().find(|t| **t == kind) else {
        return Err(FhirError::new(
            rocket::http::Status::NotFound,
            "not-supported",
            format!(
                "The resource type '{}' is not served here; see /fhir/metadata.",
                super::outcome::printable(kind)
            ),
        ));
    };
    let patients: Vec<&str> = fhir
        .base
        .params(&["patient", "_count"])?
        .iter()
        .filter(|(k, _)| k == "patient")
        .map(|(_, v)| v.as_str())
        .collect();
    let [patient] = patients.as_slice() else {
        return Err(FhirError::invalid(format!(
            "Search {kind} with exactly one patient parameter: {kind}?patient=person-N."
        )));
    };
    let record = match fhir.record(web, patient) {
        Ok(visible) => visible.record,
        Err(_) => return Ok(FhirJson::ok(searchset(&fhir.base, Vec::new()))),
    };
    let person_id = record.person_id;
    let resources: Vec<Value> = fhir_export::entry_resources(&record)
        .into_iter()
        .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(*kind))
        .collect();
    fhir.audit(
        web,
        Action::FhirRead,
        &[person_id],
        &format!("FHIR {kind} search"),
    )?;
    Ok(FhirJson::ok(searchset(&fhir.base, resources)))
}

/// A `searchset` Bundle of matches, each with its RESTful `fullUrl`.
pub fn searchset(base: &Base, resources: Vec<Value>) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let kind = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
            let id = r.get("id").and_then(Value::as_str).unwrap_or("");
            json!({
                "fullUrl": format!("{}/{kind}/{id}", base.url),
                "resource": r,
                "search": {"mode": "match"},
            })
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": base.self_url}],
    });
    if let (Some(b), false) = (bundle.as_object_mut(), entries.is_empty()) {
        b.insert("entry".to_owned(), Value::Array(entries));
    }
    bundle
}
