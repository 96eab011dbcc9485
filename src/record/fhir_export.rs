//! A person's record as a FHIR R4 `Bundle` of type `collection`.
use super::PersonRecord;

pub fn bundle(_record: &PersonRecord) -> serde_json::Value {
    serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": []})
}
