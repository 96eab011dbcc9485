//! Errors as FHIR `OperationOutcome`s: from handlers ([`FhirError`]) and from Rocket itself
//! (a failed guard, an unknown path), so a FHIR client never receives HTML.
//!
//! Diagnostics never carry patient data: they name what was wrong with the request, or say
//! only that the server failed (the detail goes to the log, without values).

use super::FhirJson;
use rocket::http::Status;
use rocket::response::Responder;
use rocket::{catch, catchers, Catcher, Request};
use serde_json::{json, Value};

/// A request the API cannot answer, as the OperationOutcome it becomes.
#[derive(Debug)]
pub struct FhirError {
    pub status: Status,
    /// An `issue.code` from FHIR's IssueType value set.
    pub code: &'static str,
    pub diagnostics: String,
}

impl FhirError {
    pub fn new(status: Status, code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self {
            status,
            code,
            diagnostics: diagnostics.into(),
        }
    }

    pub fn invalid(diagnostics: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, "invalid", diagnostics)
    }

    pub fn not_supported(diagnostics: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, "not-supported", diagnostics)
    }

    /// The one answer for a person who does not exist or whom the caller may not see, so the
    /// two cannot be told apart.
    pub fn unknown_patient(id: &str) -> Self {
        Self::new(
            Status::NotFound,
            "not-found",
            format!("Patient/{} is not known", printable(id)),
        )
    }
}

impl From<crate::error::Error> for FhirError {
    fn from(e: crate::error::Error) -> Self {
        log::error!("FHIR request failed: {}", e.operator_summary());
        Self::new(
            Status::InternalServerError,
            "exception",
            "The server failed to answer; the problem has been logged.",
        )
    }
}

impl<'r> Responder<'r, 'static> for FhirError {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        FhirJson(self.status, operation_outcome(self.code, &self.diagnostics)).respond_to(req)
    }
}

pub fn operation_outcome(code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    })
}

/// What a failing guard wants its OperationOutcome to say (the catcher cannot see the
/// guard's error value, only the request).
pub(super) struct Note(pub Option<(&'static str, String)>);

pub(super) fn note(req: &Request<'_>, code: &'static str, diagnostics: &str) {
    req.local_cache(|| Note(Some((code, diagnostics.to_owned()))));
}

pub fn catchers() -> Vec<Catcher> {
    catchers![any]
}

#[catch(default)]
fn any(status: Status, req: &Request<'_>) -> FhirJson {
    let (code, diagnostics) = match &req.local_cache(|| Note(None)).0 {
        Some((code, text)) => (*code, text.clone()),
        None => {
            let (code, text) = default_issue(status);
            (code, text.to_owned())
        }
    };
    FhirJson(status, operation_outcome(code, &diagnostics))
}

fn default_issue(status: Status) -> (&'static str, &'static str) {
    match status.code {
        401 => (
            "login",
            "Authentication required: send Authorization: Bearer <token>.",
        ),
        403 => (
            "forbidden",
            "Your role does not allow reading patient data.",
        ),
        404 => ("not-found", "There is no such resource or operation here."),
        405 => ("not-supported", "This API is read-only."),
        406 => (
            "not-supported",
            "Only JSON (application/fhir+json) is supported.",
        ),
        503 => ("transient", "The server is busy; please try again."),
        500..=599 => (
            "exception",
            "The server failed to answer; the problem has been logged.",
        ),
        _ => ("invalid", "The request could not be understood."),
    }
}

/// An id as it may be echoed back: short, and only characters a FHIR id can hold.
pub fn printable(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .take(64)
        .collect()
}
