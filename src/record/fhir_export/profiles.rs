//! The UK Core profile each exported resource type claims in `meta.profile`, and that the
//! CapabilityStatement lists as a supported profile. Every type the export writes has one.

const BASE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-";

/// Every resource type the export and the API write, each with a UK Core profile.
pub const PROFILED_TYPES: [&str; 15] = [
    "Patient",
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

/// The UK Core profile's canonical URL for a resource type, where one exists.
pub fn uk_core_profile(resource_type: &str) -> Option<String> {
    PROFILED_TYPES
        .contains(&resource_type)
        .then(|| format!("{BASE}{resource_type}"))
}

/// Adds the resource's UK Core profile to its `meta.profile` (creating `meta` when needed).
pub(super) fn claim_profile(resource: &mut serde_json::Value) {
    let Some(profile) = resource
        .get("resourceType")
        .and_then(serde_json::Value::as_str)
        .and_then(uk_core_profile)
    else {
        return;
    };
    let Some(object) = resource.as_object_mut() else {
        return;
    };
    let meta = object
        .entry("meta")
        .or_insert_with(|| serde_json::json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("profile".into(), serde_json::json!([profile]));
    }
}
