//! One FHIR resource per entry, by category:
//!
//! | category | resource |
//! | --- | --- |
//! | advance directive | Consent (scope `adr`) |
//! | allergy | AllergyIntolerance |
//! | medication | MedicationStatement (a prescription is still a statement of use here) |
//! | safeguarding, condition flag | Flag (category `safety` / `clinical`) |
//! | alert | Flag (category `safety` for a risk to staff, `clinical`, `admin` for other; the kind in words as its text) |
//! | problem | Condition |
//! | location | Flag (category `admin`): "where the person is now" is a standing notice, not an encounter |
//! | care plan | CarePlan (intent `plan`) |
//! | result | Observation |
//! | contact | Encounter |
//! | mental health, social care | EpisodeOfCare |
//! | referral | ServiceRequest (intent `order`) |
//! | care network | CareTeam with one participant |
//! | next of kin | RelatedPerson |
//! | immunisation | Immunization |
//! | procedure | Procedure |

use super::dates::{date_time, instant};
use super::{care, clinical, codes};
use super::{restricted_label, source_uri, Resource};
use crate::model::{EntryBody, EntryDraft, StoredEntry};
use serde_json::{json, Value};

pub(super) const EXTENSION_BASE: &str = "urn:sharedcare:extension:";

pub(super) fn resource(stored: &StoredEntry, patient_url: &str) -> Value {
    let e = &stored.entry;
    let patient = json!({"reference": patient_url});
    let mut r = match &e.body {
        EntryBody::AdvanceDirective(b) => care::consent(e, b, patient),
        EntryBody::Allergy(b) => clinical::allergy(e, b, patient),
        EntryBody::Medication(b) => clinical::medication(e, b, patient),
        EntryBody::Safeguarding(b) => care::safeguarding(e, b, patient),
        EntryBody::Alert(b) => care::alert(e, b, patient),
        EntryBody::ConditionFlag(b) => care::condition_flag(e, b, patient),
        EntryBody::Problem(b) => clinical::condition(e, b, patient),
        EntryBody::Location(b) => care::location(e, b, patient),
        EntryBody::CarePlan(b) => care::care_plan(e, b, patient),
        EntryBody::Result(b) => clinical::observation(e, b, patient),
        EntryBody::Contact(b) => clinical::encounter(e, b, patient),
        EntryBody::MentalHealth(b) => care::mental_health(e, b, patient),
        EntryBody::SocialCare(b) => care::social_care(e, b, patient),
        EntryBody::Referral(b) => care::referral(e, b, patient),
        EntryBody::CareNetwork(b) => care::care_team(e, b, patient),
        EntryBody::NextOfKin(b) => care::related_person(e, b, patient),
        EntryBody::Immunisation(b) => clinical::immunization(e, b, patient),
        EntryBody::Procedure(b) => clinical::procedure(e, b, patient),
    };
    r.set("id", json!(format!("entry-{}", stored.id)));
    r.set("meta", meta(stored));
    if !e.source_ref.trim().is_empty() {
        r.set(
            "identifier",
            json!([{
                "system": format!("{}:entry", source_uri(&stored.provenance.source_code)),
                "value": e.source_ref.trim(),
            }]),
        );
    }
    let mut v = r.into_value();
    super::profiles::claim_profile(&mut v);
    v
}

/// Version, where it came from, when it arrived, and a restricted label when sensitive.
fn meta(stored: &StoredEntry) -> Value {
    let p = &stored.provenance;
    let mut m = Resource::default();
    m.set("versionId", json!(stored.version.to_string()));
    m.opt("lastUpdated", instant(&p.received_at).map(Value::from));
    m.set("source", json!(source_uri(&p.source_code)));
    let mut tag = Resource::default();
    tag.set("system", json!("urn:sharedcare:source"));
    tag.set("code", json!(super::codes::slug(&p.source_code)));
    tag.text("display", Some(&p.source_name));
    m.set("tag", json!([tag.into_value()]));
    if stored.entry.sensitive {
        m.set("security", json!([restricted_label()]));
    }
    m.into_value()
}

// ---- shared pieces ------------------------------------------------------------------------

/// The entry's coding (when it has one) with `text`, else the entry title, as its text.
pub(super) fn concept(e: &EntryDraft, text: Option<&str>) -> Value {
    let mut c = Resource::default();
    if let Some(code) = e.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        let mut coding = Resource::default();
        if let Some(system) = e.code_system.as_deref().filter(|s| !s.trim().is_empty()) {
            coding.set("system", json!(codes::system_uri(system)));
        }
        coding.set("code", json!(code));
        c.set("coding", json!([coding.into_value()]));
    }
    c.set(
        "text",
        json!(text.and_then(clean).unwrap_or_else(|| title(e))),
    );
    c.into_value()
}

pub(super) fn title(e: &EntryDraft) -> String {
    clean(&e.title).unwrap_or_else(|| e.category.label().to_owned())
}

pub(super) fn clean(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(super) fn text_of(s: &Option<String>) -> Option<String> {
    s.as_deref().and_then(clean)
}

pub(super) fn text_concept(s: &Option<String>) -> Option<Value> {
    text_of(s).map(|t| json!({"text": t}))
}

pub(super) fn display(s: &Option<String>) -> Option<Value> {
    text_of(s).map(|t| json!({"display": t}))
}

pub(super) fn coded(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [{"system": system, "code": code, "display": display}]})
}

pub(super) fn period(start: &Option<String>, end: &Option<String>) -> Option<Value> {
    let mut p = Resource::default();
    p.opt(
        "start",
        start.as_deref().and_then(date_time).map(Value::from),
    );
    p.opt("end", end.as_deref().and_then(date_time).map(Value::from));
    (!p.0.is_empty()).then(|| p.into_value())
}

pub(super) fn dt(s: &Option<String>) -> Option<Value> {
    s.as_deref().and_then(date_time).map(Value::from)
}

/// A detail with no FHIR element of its own.
pub(super) fn extensions(pairs: &[(&str, &Option<String>)]) -> Vec<Value> {
    pairs
        .iter()
        .filter_map(|(name, value)| {
            text_of(value)
                .map(|v| json!({"url": format!("{EXTENSION_BASE}{name}"), "valueString": v}))
        })
        .collect()
}

pub(super) fn notes(lines: &[Option<String>]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(text_of)
        .map(|t| json!({"text": t}))
        .collect()
}

pub(super) fn labelled(label: &str, value: &Option<String>) -> Option<String> {
    text_of(value).map(|v| format!("{label}: {v}"))
}
