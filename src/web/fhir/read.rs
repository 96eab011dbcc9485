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
        read_by_id,
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

/// `{Type}/{id}`: one resource by its id, for every type the API returns (the Patient has
/// its own route). An id that is malformed, unknown, of another type, or about a person or
/// entry the caller may not see is the same 404, so a read reveals nothing a search would
/// not; a read that answers is audited like any other.
#[get("/<kind>/<id>", rank = 5)]
fn read_by_id(
    kind: &str,
    id: &str,
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
    fhir.base.params(&["_summary"])?;
    let not_found = || {
        FhirError::new(
            rocket::http::Status::NotFound,
            "not-found",
            format!("{kind}/{} is not known", super::outcome::printable(id)),
        )
    };
    let entry = id
        .strip_prefix("entry-")
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(not_found)?;
    let person = fhir.store().entry_person(entry)?.ok_or_else(not_found)?;
    let record = fhir
        .record(web, &fhir_export::patient_id(person))
        .map_err(|_| not_found())?
        .record;
    // The gate's record holds only what this caller may see: a withheld entry is not found.
    let resource = fhir_export::entry_resources(&record)
        .into_iter()
        .find(|r| {
            r.get("resourceType").and_then(Value::as_str) == Some(*kind)
                && r.get("id").and_then(Value::as_str) == Some(id)
        })
        .ok_or_else(not_found)?;
    fhir.audit(
        web,
        Action::FhirRead,
        &[record.person_id],
        &format!("FHIR {kind} read"),
    )?;
    Ok(FhirJson::ok(resource))
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
