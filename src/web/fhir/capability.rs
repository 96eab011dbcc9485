//! `GET /fhir/metadata`: the CapabilityStatement. Public, as FHIR clients read it before they
//! authenticate; it holds no patient data.

use super::request::Base;
use super::{FhirJson, PATIENT_SEARCH_TYPES};
use rocket::{get, routes, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![metadata]
}

/// The date this statement last changed in meaning (FHIR requires one).
const STATEMENT_DATE: &str = "2024-06-01";

#[get("/metadata")]
fn metadata(base: Base) -> FhirJson {
    FhirJson::ok(statement(&base.url))
}

/// The UK Core profile the API's resources of this type claim in `meta.profile`.
fn profiles(kind: &str) -> Vec<String> {
    crate::record::fhir_export::uk_core_profile(kind)
        .into_iter()
        .collect()
}

fn param(name: &str, kind: &str, doc: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": doc})
}

fn statement(url: &str) -> Value {
    let patient = json!({
        "type": "Patient",
        "supportedProfile": profiles("Patient"),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            param("identifier", "token",
                "https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN (or the bare number)"),
            param("family", "string", "starts with, on the golden record's family name"),
            param("given", "string", "starts with, on any golden given name"),
            param("name", "string",
                "the name search of the web view: any source's spelling, sounds-like family names"),
            param("birthdate", "date", "YYYY, YYYY-MM or YYYY-MM-DD; prefix eq only"),
        ],
        "operation": [{
            "name": "everything",
            "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        }],
    });
    let mut resources = vec![patient];
    for kind in PATIENT_SEARCH_TYPES {
        resources.push(json!({
            "type": kind,
            "supportedProfile": profiles(kind),
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [param("patient", "reference", "person-N or Patient/person-N")],
        }));
    }
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "kind": "instance",
        "software": {"name": "sharedcare", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {
            "description": "sharedcare shared care record, read-only FHIR R4 API",
            "url": url,
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "description": "Authorization: Bearer <token>, from `sharedcare token create --user NAME`. \
                    Roles that may not see patient data are refused.",
            },
            "resource": resources,
        }],
    })
}
