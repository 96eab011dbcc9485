//! The FHIR API, asked with the browser session and with the user's API token.

use super::*;
use sharedcare::access::Activity;

/// The policy of the FHIR routes.
pub(super) fn spec(key: &str) -> Option<Spec> {
    use Activity::*;
    let s = match key {
        // The FHIR API.
        "GET /fhir/Patient/<id>" => fhir(
            Read::Status,
            |c| get(format!("/fhir/Patient/person-{}", c.person.id)),
            |c| c.fhir("200"),
        ),
        "GET /fhir/Patient/<id>/$everything" => fhir(
            Read::Status,
            |c| get(format!("/fhir/Patient/person-{}/$everything", c.person.id)),
            |c| c.fhir(if c.may(Export) { "200" } else { "403" }),
        ),
        "GET /fhir/<kind>" => fhir(
            Read::Bundle,
            |c| {
                get(format!(
                    "/fhir/AllergyIntolerance?patient=person-{}",
                    c.person.id
                ))
            },
            |c| match c.fhir("200 entries").as_str() {
                // A search about someone the caller may not see matches nothing.
                "404" => "200 empty".into(),
                other => other.into(),
            },
        ),
        // One resource by id: the same rule as the Patient read (issue 11).
        "GET /fhir/<kind>/<id>" => fhir(
            Read::Status,
            |c| {
                get(format!(
                    "/fhir/AllergyIntolerance/entry-{}",
                    c.person.allergy_entry
                ))
            },
            |c| c.fhir("200"),
        ),
        "GET /fhir/Patient" => fhir(
            Read::PatientSearch,
            |c| get(format!("/fhir/Patient?identifier={}", c.person.nhs)),
            |c| c.gated(ViewRecord, &format!("200 {}", c.hit())),
        ),
        _ => return None,
    };
    Some(s)
}
