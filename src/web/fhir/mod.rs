//! The FHIR R4 read API under `/fhir`: the same read model as the HTML pages
//! (`Store::person_record`), turned into resources by `record::fhir_export` (never a second
//! mapping), served as JSON only.
//!
//! Callers authenticate with `Authorization: Bearer <token>` (tokens from
//! `sharedcare token create`) or a signed-in browser session; the guard in [`request`] applies
//! the same role rule as the UI. Every failure, including those Rocket answers itself (unknown
//! paths, failed guards), is an `OperationOutcome`: [`catchers`] are registered for `/fhir`.
//! Every read writes its audit events, committed, before the response leaves.

mod capability;
mod outcome;
mod patients;
mod read;
mod request;

use rocket::http::{ContentType, Header, Status};
use rocket::response::{Responder, Response};
use rocket::{Catcher, Request, Route};
use serde_json::Value;
use std::io::Cursor;

pub use outcome::FhirError;
pub use request::{Base, FhirRequest};

/// What `/fhir` answers to a signed-in (or token-bearing) caller.
pub fn routes() -> Vec<Route> {
    read::routes()
}

/// The CapabilityStatement: public, as FHIR clients fetch it before authenticating.
pub fn public_routes() -> Vec<Route> {
    capability::routes()
}

/// Error answers for everything under `/fhir`, as OperationOutcomes.
pub fn catchers() -> Vec<Catcher> {
    outcome::catchers()
}

/// The resource types searchable by `patient=`, in the order the CapabilityStatement lists them.
pub const PATIENT_SEARCH_TYPES: [&str; 14] = [
    "AllergyIntolerance",
    "MedicationStatement",
    "Observation",
    "Encounter",
    "Condition",
    "Flag",
    "CarePlan",
    "ServiceRequest",
    "RelatedPerson",
    "CareTeam",
    "EpisodeOfCare",
    "Consent",
    "Immunization",
    "Procedure",
];

/// A FHIR JSON body with its status.
pub struct FhirJson(pub Status, pub Value);

impl FhirJson {
    pub fn ok(body: Value) -> Self {
        Self(Status::Ok, body)
    }
}

impl<'r> Responder<'r, 'static> for FhirJson {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        let body = self.1.to_string();
        let mut res = Response::build();
        res.status(self.0)
            .header(ContentType::new("application", "fhir+json").with_params(("charset", "utf-8")))
            .sized_body(body.len(), Cursor::new(body));
        if self.0 == Status::Unauthorized {
            res.header(Header::new(
                "WWW-Authenticate",
                "Bearer realm=\"sharedcare\"",
            ));
        }
        Ok(res.finalize())
    }
}
