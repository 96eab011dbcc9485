//! Serde shapes for the parts of FHIR R4 resources this importer reads — deliberately not a
//! FHIR model. Every field is optional and unknown fields are ignored, so a resource carrying
//! more than we read (profiles, narrative, extensions we do not know) still parses. A field we
//! do read that has the wrong JSON type makes that one resource a reject: guessing what a
//! malformed field meant is worse than asking the source to fix it.
//!
//! None of these types derive `Debug`: they hold patient data.

use serde::Deserialize;

pub use super::datatypes::*;

// ---- people -------------------------------------------------------------------------------

/// What every resource has: read first, so a reject can still be named.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Header {
    pub id: Option<String>,
    pub meta: Meta,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Patient {
    pub id: Option<String>,
    pub identifier: Vec<Identifier>,
    pub name: Vec<HumanName>,
    pub telecom: Vec<ContactPoint>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub deceased_boolean: Option<bool>,
    pub deceased_date_time: Option<String>,
    pub address: Vec<Address>,
    pub general_practitioner: Vec<Reference>,
    pub contact: Vec<PatientContact>,
    pub link: Vec<PatientLink>,
    /// Kept as JSON: only the ethnic category is read from it, and an extension we do not read
    /// must not make the Patient a reject.
    pub extension: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct PatientContact {
    pub relationship: Vec<CodeableConcept>,
    pub name: Option<HumanName>,
    pub telecom: Vec<ContactPoint>,
    pub address: Option<Address>,
    pub period: Option<Period>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct PatientLink {
    pub other: Option<Reference>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct RelatedPerson {
    pub patient: Option<Reference>,
    pub active: Option<bool>,
    pub relationship: Vec<CodeableConcept>,
    pub name: Vec<HumanName>,
    pub telecom: Vec<ContactPoint>,
    pub address: Vec<Address>,
    pub period: Option<Period>,
}

// ---- clinical -----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct AllergyIntolerance {
    pub patient: Option<Reference>,
    pub clinical_status: Option<CodeableConcept>,
    pub verification_status: Option<CodeableConcept>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub criticality: Option<String>,
    pub code: Option<CodeableConcept>,
    pub onset_date_time: Option<String>,
    pub onset_period: Option<Period>,
    pub recorded_date: Option<String>,
    pub reaction: Vec<AllergyReaction>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct AllergyReaction {
    pub manifestation: Vec<CodeableConcept>,
    pub severity: Option<String>,
}

/// The fields MedicationStatement and MedicationRequest share, plus each one's own.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct MedicationUse {
    pub status: Option<String>,
    pub subject: Option<Reference>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    pub note: Vec<Annotation>,
    // MedicationStatement
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub date_asserted: Option<String>,
    pub information_source: Option<Reference>,
    pub dosage: Vec<Dosage>,
    // MedicationRequest
    pub authored_on: Option<String>,
    pub requester: Option<Reference>,
    pub dosage_instruction: Vec<Dosage>,
    pub dispense_request: Option<DispenseRequest>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct DispenseRequest {
    pub quantity: Option<Quantity>,
    pub validity_period: Option<Period>,
}

/// Read only to name medications other resources reference.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Medication {
    pub code: Option<CodeableConcept>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Observation {
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_instant: Option<String>,
    pub effective_period: Option<Period>,
    pub issued: Option<String>,
    #[serde(flatten)]
    pub value: ObservationValue,
    pub data_absent_reason: Option<CodeableConcept>,
    pub interpretation: Vec<CodeableConcept>,
    pub note: Vec<Annotation>,
    pub specimen: Option<Reference>,
    pub reference_range: Vec<ReferenceRange>,
    pub component: Vec<ObservationComponent>,
}

/// value[x] as Observation and its components carry it.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ObservationValue {
    pub value_quantity: Option<Quantity>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_string: Option<String>,
    pub value_boolean: Option<bool>,
    pub value_integer: Option<i64>,
    pub value_date_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ReferenceRange {
    pub low: Option<Quantity>,
    pub high: Option<Quantity>,
    pub text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ObservationComponent {
    pub code: Option<CodeableConcept>,
    #[serde(flatten)]
    pub value: ObservationValue,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct DiagnosticReport {
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub issued: Option<String>,
    pub result: Vec<Reference>,
    pub conclusion: Option<String>,
    pub conclusion_code: Vec<CodeableConcept>,
    pub specimen: Vec<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Encounter {
    pub status: Option<String>,
    pub class: Option<Coding>,
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub service_type: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub participant: Vec<EncounterParticipant>,
    pub period: Option<Period>,
    pub reason_code: Vec<CodeableConcept>,
    pub hospitalization: Option<Hospitalization>,
    pub location: Vec<EncounterLocation>,
    pub service_provider: Option<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct EncounterParticipant {
    pub individual: Option<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Hospitalization {
    pub discharge_disposition: Option<CodeableConcept>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct EncounterLocation {
    pub location: Option<Reference>,
    pub physical_type: Option<CodeableConcept>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    pub clinical_status: Option<CodeableConcept>,
    pub verification_status: Option<CodeableConcept>,
    pub category: Vec<CodeableConcept>,
    pub severity: Option<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub onset_date_time: Option<String>,
    pub onset_period: Option<Period>,
    pub abatement_date_time: Option<String>,
    pub abatement_period: Option<Period>,
    pub recorded_date: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Flag {
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub period: Option<Period>,
    pub author: Option<Reference>,
    /// sharedcare's own export carries an alert's kind, description and who to call here.
    pub extension: Vec<Extension>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CarePlan {
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub subject: Option<Reference>,
    pub period: Option<Period>,
    pub created: Option<String>,
    pub author: Option<Reference>,
    pub note: Vec<Annotation>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Consent {
    pub status: Option<String>,
    pub scope: Option<CodeableConcept>,
    pub category: Vec<CodeableConcept>,
    pub patient: Option<Reference>,
    pub date_time: Option<String>,
    pub performer: Vec<Reference>,
    pub organization: Vec<Reference>,
    pub source_attachment: Option<Attachment>,
    pub source_reference: Option<Reference>,
    pub policy_rule: Option<CodeableConcept>,
    pub provision: Option<ConsentProvision>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ConsentProvision {
    pub period: Option<Period>,
    pub code: Vec<CodeableConcept>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct EpisodeOfCare {
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub patient: Option<Reference>,
    pub managing_organization: Option<Reference>,
    pub period: Option<Period>,
    pub care_manager: Option<Reference>,
    pub team: Vec<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceRequest {
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub priority: Option<String>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub occurrence_date_time: Option<String>,
    pub occurrence_period: Option<Period>,
    pub authored_on: Option<String>,
    pub requester: Option<Reference>,
    pub performer_type: Option<CodeableConcept>,
    pub performer: Vec<Reference>,
    pub reason_code: Vec<CodeableConcept>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CareTeam {
    pub status: Option<String>,
    pub name: Option<String>,
    pub subject: Option<Reference>,
    pub period: Option<Period>,
    pub participant: Vec<CareTeamParticipant>,
    pub managing_organization: Vec<Reference>,
    pub telecom: Vec<ContactPoint>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CareTeamParticipant {
    pub role: Vec<CodeableConcept>,
    pub member: Option<Reference>,
    pub on_behalf_of: Option<Reference>,
    pub period: Option<Period>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Immunization {
    pub status: Option<String>,
    pub vaccine_code: Option<CodeableConcept>,
    pub patient: Option<Reference>,
    pub occurrence_date_time: Option<String>,
    pub recorded: Option<String>,
    pub lot_number: Option<String>,
    pub site: Option<CodeableConcept>,
    pub performer: Vec<Performer>,
    pub protocol_applied: Vec<ProtocolApplied>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Performer {
    pub actor: Option<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ProtocolApplied {
    pub dose_number_positive_int: Option<u64>,
    pub dose_number_string: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Procedure {
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub performed_date_time: Option<String>,
    pub performed_period: Option<Period>,
    pub performer: Vec<Performer>,
    pub body_site: Vec<CodeableConcept>,
    pub outcome: Option<CodeableConcept>,
}
