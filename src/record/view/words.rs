//! An entry's fields as a clinician reads them: in the order they matter (a result's value
//! first, a medicine's dose before its route), under labels in words, with the record's own
//! codes (`dnacpr`, `aand-e`, `H`) turned into the words they stand for.

use super::{when_text, Detail};
use crate::model::EntryBody;
use serde_json::{Map, Value};

/// Each body type's fields in reading order, with their labels.
fn fields(body_type: &str) -> &'static [(&'static str, &'static str)] {
    match body_type {
        "advance-directive" => &[
            ("kind", "Type"),
            ("description", "Decision"),
            ("responsible_person", "Responsible person"),
            ("review_date", "Review date"),
            ("document_location", "Original kept at"),
        ],
        "allergy" => &[
            ("substance", "Substance"),
            ("reaction", "Reaction"),
            ("severity", "Severity"),
            ("criticality", "Criticality"),
            ("allergy_type", "Type"),
        ],
        "medication" => &[
            ("name", "Medicine"),
            ("dose", "Dose"),
            ("frequency", "How often"),
            ("route", "Route"),
            ("quantity", "Quantity"),
            ("prescriber", "Prescriber"),
            ("kind", "Recorded as"),
        ],
        "safeguarding" => &[
            ("alert_type", "Alert"),
            ("description", "Description"),
            ("risk_level", "Risk level"),
            ("contact", "Who to call"),
            ("recorded_by", "Recorded by"),
        ],
        "alert" => &[
            ("kind", "Type"),
            ("description", "Alert"),
            ("contact", "Who to call"),
            ("recorded_by", "Recorded by"),
        ],
        "condition-flag" => &[
            ("condition", "Condition"),
            ("state", "Status"),
            ("date", "Date"),
            ("detail", "Detail"),
        ],
        "problem" => &[
            ("name", "Name"),
            ("clinical_status", "Clinical status"),
            ("verification_status", "Verification"),
            ("severity", "Severity"),
            ("kind", "Type"),
        ],
        "location" => &[
            ("kind", "Type"),
            ("name", "Place"),
            ("ward", "Ward"),
            ("bed", "Bed"),
            ("temporarily_at", "For now at"),
            ("organisation", "Organisation"),
            ("visit", "Hospital visit"),
        ],
        "care-plan" => &[
            ("kind", "Type"),
            ("description", "Plan"),
            ("review_date", "Review date"),
            ("author", "Written by"),
        ],
        "result" => &[
            ("value", "Value"),
            ("reference_range", "Reference range"),
            ("abnormal_flag", "Interpretation"),
            ("report", "Report"),
            ("specimen", "Specimen"),
            ("comment", "Comment"),
        ],
        "contact" => &[
            ("kind", "Type"),
            ("organisation", "Organisation"),
            ("site", "Site"),
            ("ward", "Ward"),
            ("bed", "Bed"),
            ("specialty", "Specialty"),
            ("clinician", "Clinician"),
            ("reason", "Reason"),
            ("discharge_destination", "Discharged to"),
        ],
        "mental-health" => &[
            ("team", "Team"),
            ("care_coordinator", "Care coordinator"),
            ("coordinator_contact", "Care coordinator's contact"),
            ("legal_status", "Legal status"),
            ("crisis_plan", "Crisis plan"),
            ("cpa_level", "Care programme approach"),
        ],
        "social-care" => &[
            ("service", "Service"),
            ("kind", "Type"),
            ("description", "Description"),
            ("team", "Team"),
            ("named_worker", "Named worker"),
            ("worker_contact", "Named worker's contact"),
            ("legal_status", "Legal status"),
            ("provider", "Provider"),
            ("hours_per_week", "Hours a week"),
        ],
        "referral" => &[
            ("to_service", "To service"),
            ("to_organisation", "To organisation"),
            ("from_organisation", "From organisation"),
            ("reason", "Reason"),
            ("priority", "Priority"),
        ],
        "care-network" => &[
            ("name", "Name"),
            ("role", "Role"),
            ("team", "Team"),
            ("agency", "Agency"),
            ("phone", "Phone"),
            ("email", "Email"),
        ],
        "next-of-kin" => &[
            ("name", "Name"),
            ("relationship", "Relationship"),
            ("phone", "Phone"),
            ("address", "Address"),
            ("is_carer", "Carer"),
        ],
        "immunisation" => &[
            ("vaccine", "Vaccine"),
            ("dose_number", "Dose number"),
            ("site", "Site"),
            ("batch", "Batch"),
            ("performer", "Given by"),
        ],
        "procedure" => &[
            ("name", "Procedure"),
            ("performer", "Done by"),
            ("body_site", "Body site"),
            ("outcome", "Outcome"),
        ],
        _ => &[],
    }
}

/// Fields that are shown inside another field, or are for machines.
const NOT_SHOWN: &[&str] = &["type", "numeric", "unit"];

/// The words for a coded value of `key`; `None` when the value is free text.
pub fn code_words(key: &str, value: &str) -> Option<&'static str> {
    let words = match (key, value) {
        ("kind", "dnacpr") => "DNACPR (do not attempt CPR)",
        ("kind", "respect") => "ReSPECT (recommended summary plan for emergency care)",
        ("kind", "lpa-health-welfare") => "Lasting power of attorney (health and welfare)",
        ("kind", "lpa-property-finance") => {
            "Lasting power of attorney (property and financial affairs)"
        }
        ("kind", "adrt") => "Advance decision to refuse treatment",
        ("kind", "home") => "Home",
        ("kind", "inpatient") => "Hospital inpatient",
        ("kind", "care-home") => "Care home",
        ("kind", "mental-health-unit") => "Mental-health unit",
        ("kind", "emergency-department") => "In A&E",
        ("kind", "hospice") => "Hospice",
        ("kind", "other-hospital") => "Another hospital",
        ("kind", "deceased") => "Deceased",
        ("kind", "not-known") => "Discharged, destination not recorded",
        ("kind", "risk-to-staff") => "Risk to staff",
        ("kind", "clinical") => "Clinical",
        ("kind", "step-down") => "Step-down bed",
        ("kind", "end-of-life") => "End of life",
        ("kind", "crisis") => "Crisis",
        ("kind", "anticipatory") => "Anticipatory",
        ("kind", "aand-e") => "A&E attendance",
        ("kind", "admission") => "Admission",
        ("kind", "outpatient") => "Outpatient appointment",
        ("kind", "appointment") => "Appointment",
        ("kind", "visit") => "Visit",
        ("kind", "case") => "Open case",
        ("kind", "package-of-care") => "Package of care",
        ("kind", "allocation") => "Allocation to a worker",
        ("kind", "looked-after") => "Looked after",
        ("kind", "child-protection-plan") => "Child protection plan",
        ("kind", "legal-status") => "Legal status",
        ("kind", "assessment") => "Assessment",
        ("kind", "statement") => "Reported as taken",
        ("kind", "request") => "Prescribed",
        ("kind", "administration") => "Given",
        ("kind", "diagnosis") => "Diagnosis",
        ("kind", "problem") => "Problem",
        ("kind", "finding") => "Finding",
        ("kind", "other") | ("state", "other") => "Other",
        ("state", "tested") => "Tested",
        ("state", "positive") => "Positive",
        ("state", "negative") => "Negative",
        ("service", "adults") => "Adult social care",
        ("service", "children") => "Children's social care",
        ("allergy_type", "allergy") => "Allergy",
        ("allergy_type", "intolerance") => "Intolerance",
        ("abnormal_flag", v) => return abnormal_words(v),
        _ => return None,
    };
    Some(words)
}

/// HL7 table 0078 interpretation codes in words.
fn abnormal_words(code: &str) -> Option<&'static str> {
    Some(match code.trim().to_ascii_uppercase().as_str() {
        "H" => "High",
        "L" => "Low",
        "HH" => "Critically high",
        "LL" => "Critically low",
        ">" => "Above the measurable range",
        "<" => "Below the measurable range",
        "A" => "Abnormal",
        "AA" => "Critically abnormal",
        "N" => "Normal",
        "POS" => "Positive",
        "NEG" => "Negative",
        _ => return None,
    })
}

/// A key with no label of its own, made readable: `hours_per_week` → `Hours per week`.
fn fallback_label(key: &str) -> String {
    let mut label = key.replace(['_', '-'], " ");
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    label
}

fn value_text(key: &str, v: &Value, all: &Map<String, Value>) -> Option<String> {
    match v {
        Value::String(s) => {
            if let Some(w) = code_words(key, s) {
                return Some(w.to_owned());
            }
            if key == "date" || key.ends_with("_date") {
                return Some(when_text(s));
            }
            if key == "value" {
                if let Some(Value::String(unit)) = all.get("unit") {
                    return Some(format!("{s} {unit}"));
                }
            }
            if key == "kind" || key == "state" || key == "service" {
                return Some(s.replace('-', " "));
            }
            Some(s.clone())
        }
        Value::Bool(true) => Some("Yes".into()),
        Value::Bool(false) | Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The body's fields as label and text, in reading order.
pub fn details(body: &EntryBody) -> Vec<Detail> {
    let Ok(Value::Object(map)) = serde_json::to_value(body) else {
        return Vec::new();
    };
    let body_type = map.get("type").and_then(Value::as_str).unwrap_or("");
    let order = fields(body_type);
    let directive_lpa = body_type == "advance-directive"
        && map
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.starts_with("lpa"));
    let known = order.iter().map(|(key, label)| (*key, (*label).to_owned()));
    let rest = map
        .keys()
        .filter(|k| !NOT_SHOWN.contains(&k.as_str()) && !order.iter().any(|(o, _)| o == k))
        .map(|k| (k.as_str(), fallback_label(k)));
    known
        .chain(rest)
        .filter_map(|(key, label)| {
            let value = value_text(key, map.get(key)?, &map)?;
            let label = match key {
                "responsible_person" if directive_lpa => "Attorney".to_owned(),
                "responsible_person" => "Decision made by".to_owned(),
                _ => label,
            };
            Some(Detail { label, value })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entry::{AdvanceDirective, DirectiveKind, LabResult};

    #[test]
    fn a_results_value_comes_first_with_its_unit_and_flags_in_words() {
        let d = details(&EntryBody::Result(LabResult {
            value: Some("12".into()),
            numeric: Some(12.0),
            unit: Some("mg/L".into()),
            reference_range: Some("<5".into()),
            abnormal_flag: Some("H".into()),
            report: Some("C-reactive protein".into()),
            ..Default::default()
        }));
        let shown: Vec<(&str, &str)> = d
            .iter()
            .map(|d| (d.label.as_str(), d.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("Value", "12 mg/L"),
                ("Reference range", "<5"),
                ("Interpretation", "High"),
                ("Report", "C-reactive protein"),
            ]
        );
    }

    #[test]
    fn regression_kind_dnacpr_is_shown_in_words() {
        let d = details(&EntryBody::AdvanceDirective(AdvanceDirective {
            kind: DirectiveKind::LpaHealthWelfare,
            description: None,
            review_date: Some("2026-12-20".into()),
            responsible_person: Some("Jean Clarke".into()),
            document_location: None,
        }));
        let shown: Vec<(&str, &str)> = d
            .iter()
            .map(|d| (d.label.as_str(), d.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("Type", "Lasting power of attorney (health and welfare)"),
                ("Attorney", "Jean Clarke"),
                ("Review date", "20 Dec 2026"),
            ]
        );
        let d = details(&EntryBody::AdvanceDirective(AdvanceDirective {
            kind: DirectiveKind::Dnacpr,
            description: None,
            review_date: None,
            responsible_person: None,
            document_location: None,
        }));
        assert_eq!(d[0].value, "DNACPR (do not attempt CPR)");
    }
}
