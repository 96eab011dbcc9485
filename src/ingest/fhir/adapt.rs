//! Resource → canonical model: which resource types are read, and the small helpers every
//! adapter shares (entry drafts, codes, periods, sensitivity, keyword matching).
//!
//! The adapters themselves live by subject: [`super::people`] (Patient, RelatedPerson),
//! [`super::clinical`] (allergies, medications, results, problems, procedures, encounters)
//! and [`super::care`] (flags, care plans, advance directives, episodes, referrals, teams).

use super::resources::{CodeableConcept, Coding, Header, Period};
use super::{care, clinical, people, shape_error, Context};
use crate::model::{Demographics, EntryBody, EntryDraft};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(super) enum Outcome {
    Unit(Box<Adapted>),
    /// Counted in `ParsedFile.skipped` under this name.
    Skip(String),
}

/// One resource, adapted; `mod.rs` wraps it into an `Extract`.
pub(super) struct Adapted {
    pub subject: String,
    pub demographics: Option<Demographics>,
    pub entries: Vec<EntryDraft>,
    pub merge_from: Option<String>,
    pub last_updated: Option<String>,
}

/// What every adapter needs besides the resource itself.
pub(super) struct Base<'a> {
    pub ctx: &'a Context,
    pub source_ref: &'a str,
    pub full_url: Option<&'a str>,
    pub id: Option<String>,
    pub sensitive: bool,
    /// `meta.security` holds HL7 v3 `NOPAT` (no disclosure to the patient).
    pub not_for_patient: bool,
    pub restricted: bool,
    /// The keys other resources may use to reference this one: fullUrl and `Type/id`.
    pub keys: Vec<String>,
    last_updated: Option<String>,
}

impl Base<'_> {
    /// An entry with this resource's reference and sensitivity; the caller fills the rest.
    pub fn draft(&self, title: Option<String>, fallback: &str, body: EntryBody) -> EntryDraft {
        EntryDraft {
            source_ref: self.source_ref.to_owned(),
            category: body.category(),
            code_system: None,
            code: None,
            title: title.unwrap_or_else(|| fallback.to_owned()),
            status: None,
            start: None,
            end: None,
            recorded_at: None,
            sensitive: self.sensitive,
            not_for_patient: self.not_for_patient,
            body,
        }
    }

    /// The usual unit: one subject, some entries, no demographics.
    pub fn unit(&self, subject: String, entries: Vec<EntryDraft>) -> Outcome {
        Outcome::Unit(Box::new(Adapted {
            subject,
            demographics: None,
            entries,
            merge_from: None,
            last_updated: self.last_updated.clone(),
        }))
    }

    pub fn last_updated(&self) -> Option<String> {
        self.last_updated.clone()
    }
}

pub(super) fn adapt(
    kind: &str,
    resource: &Value,
    source_ref: &str,
    full_url: Option<&str>,
    ctx: &Context,
) -> Result<Outcome, String> {
    let header: Header = parse(resource)?;
    let id = header
        .id
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(str::to_owned);
    let keys = full_url
        .map(str::to_owned)
        .into_iter()
        .chain(id.as_ref().map(|id| format!("{kind}/{id}")))
        .collect();
    let base = Base {
        ctx,
        source_ref,
        full_url,
        id,
        sensitive: header.meta.security.iter().any(is_sensitive),
        restricted: header.meta.security.iter().any(is_restricted),
        not_for_patient: header.meta.security.iter().any(is_not_for_patient),
        keys,
        last_updated: header.meta.last_updated,
    };
    match kind {
        "Patient" => people::patient(parse(resource)?, &base),
        "RelatedPerson" => people::related_person(parse(resource)?, &base),
        "AllergyIntolerance" => clinical::allergy(parse(resource)?, &base),
        "MedicationStatement" => clinical::medication(parse(resource)?, &base, "statement"),
        "MedicationRequest" => clinical::medication(parse(resource)?, &base, "request"),
        "Observation" => clinical::observation(parse(resource)?, &base),
        "DiagnosticReport" => clinical::report(parse(resource)?, &base),
        "Condition" => clinical::condition(parse(resource)?, &base),
        "Immunization" => clinical::immunization(parse(resource)?, &base),
        "Procedure" => clinical::procedure(parse(resource)?, &base),
        "Encounter" => clinical::encounter(parse(resource)?, &base),
        "Flag" => care::flag(parse(resource)?, &base),
        "CarePlan" => care::care_plan(parse(resource)?, &base),
        "Consent" => care::consent(parse(resource)?, &base),
        "EpisodeOfCare" => care::episode(parse(resource)?, &base),
        "ServiceRequest" => care::service_request(parse(resource)?, &base),
        "CareTeam" => care::care_team(parse(resource)?, &base),
        other => Ok(Outcome::Skip(other.to_owned())),
    }
}

fn parse<T: DeserializeOwned>(resource: &Value) -> Result<T, String> {
    T::deserialize(resource).map_err(|e| shape_error(&e))
}

/// S-flag on a Patient: restricted (`R`), very restricted (`V`) or PDS's `REDACTED`.
fn is_restricted(c: &Coding) -> bool {
    let code = c.code.as_deref().unwrap_or("").trim().to_ascii_uppercase();
    matches!(
        code.as_str(),
        "R" | "V" | "REDACTED" | "RESTRICTED" | "VERY RESTRICTED"
    )
}

/// The HL7 v3 ActCode `NOPAT`, "no disclosure to patient, family or caregivers without
/// attending provider's authorization": the entry is never shown to the citizen.
fn is_not_for_patient(c: &Coding) -> bool {
    c.code
        .as_deref()
        .is_some_and(|code| code.trim().eq_ignore_ascii_case("NOPAT"))
}

/// HL7 v3 sensitivity codes that mark information withheld by default (mental health,
/// sexual health, HIV, substance use, domestic violence, ethnicity), plus any NHS security
/// label that says sensitive.
const SENSITIVITY_CODES: [&str; 11] = [
    "ETH",
    "HIV",
    "PSY",
    "PSYTHPN",
    "SDV",
    "SEX",
    "STD",
    "SUD",
    "MH",
    "BH",
    "SENSITIVE",
];

fn is_sensitive(c: &Coding) -> bool {
    let code = c.code.as_deref().unwrap_or("").trim().to_ascii_uppercase();
    let display = c.display.as_deref().unwrap_or("").to_ascii_lowercase();
    is_restricted(c)
        || SENSITIVITY_CODES.contains(&code.as_str())
        || display.contains("sensitive")
        || (c
            .system
            .as_deref()
            .unwrap_or("")
            .starts_with("https://fhir.nhs.uk/")
            && code.contains("SENSITIVE"))
}

/// Sets the entry's code from a concept's primary coding.
pub(super) fn set_code(entry: &mut EntryDraft, concept: Option<&CodeableConcept>) {
    if let Some(coding) = concept.and_then(CodeableConcept::primary) {
        entry.code_system = coding.system.clone();
        entry.code = coding.code.clone();
    }
}

pub(super) fn label(concept: Option<&CodeableConcept>) -> Option<String> {
    concept.and_then(CodeableConcept::label)
}

/// The first label among several concepts.
pub(super) fn first_label(concepts: &[CodeableConcept]) -> Option<String> {
    concepts.iter().find_map(CodeableConcept::label)
}

/// Labels of several concepts joined, for a list such as reactions.
pub(super) fn joined_labels(concepts: &[CodeableConcept]) -> Option<String> {
    let labels: Vec<String> = concepts.iter().filter_map(CodeableConcept::label).collect();
    (!labels.is_empty()).then(|| labels.join(", "))
}

/// The first code of a concept, e.g. a clinical status.
pub(super) fn first_code(concept: Option<&CodeableConcept>) -> Option<String> {
    concept.and_then(|c| c.codes().next()).map(str::to_owned)
}

pub(super) fn start_of(period: Option<&Period>) -> Option<String> {
    period.and_then(|p| p.start.clone())
}

pub(super) fn end_of(period: Option<&Period>) -> Option<String> {
    period.and_then(|p| p.end.clone())
}

/// Lower-cased text of several concepts and free texts, for keyword matching.
pub(super) fn words<'a>(
    concepts: impl IntoIterator<Item = &'a CodeableConcept>,
    texts: impl IntoIterator<Item = Option<&'a str>>,
) -> String {
    let mut out = String::new();
    for c in concepts {
        out.push_str(&c.words());
    }
    for t in texts.into_iter().flatten() {
        out.push_str(&t.to_lowercase());
        out.push(' ');
    }
    out
}

pub(super) use crate::ingest::alerts::has_any_word;
