//! Clinical entries → FHIR: allergies, medications, problems, results, contacts,
//! immunisations and procedures (see the table in [`super::entries`]).

use super::codes;
use super::dates::instant;
use super::entries::{coded, concept, display, dt, labelled, notes, period, text_concept, text_of};
use super::Resource;
use crate::model::entry::{
    Allergy, Contact, ContactKind, Immunisation, LabResult, Medication, Problem, Procedure,
};
use crate::model::EntryDraft;
use serde_json::{json, Value};

pub(super) fn allergy(e: &EntryDraft, b: &Allergy, patient: Value) -> Resource {
    let mut r = Resource::new("AllergyIntolerance");
    // ait-1/ait-2: clinicalStatus present unless the entry was entered in error, then absent.
    if codes::is_entered_in_error(e.status.as_deref()) {
        r.set(
            "verificationStatus",
            coded(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "entered-in-error",
                "Entered in Error",
            ),
        );
    } else {
        let status = codes::allergy_clinical(e.status.as_deref()).unwrap_or("active");
        r.set(
            "clinicalStatus",
            coded(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                status,
                status,
            ),
        );
    }
    r.opt(
        "type",
        codes::allergy_type(b.allergy_type.as_deref()).map(Value::from),
    );
    r.opt(
        "criticality",
        codes::criticality(b.criticality.as_deref()).map(Value::from),
    );
    r.set("code", concept(e, b.substance.as_deref()));
    r.set("patient", patient);
    r.opt("onsetDateTime", dt(&e.start));
    r.opt("recordedDate", dt(&e.recorded_at));
    if b.reaction.is_some() || b.severity.is_some() {
        let mut reaction = Resource::default();
        let manifestation = text_of(&b.reaction).unwrap_or_else(|| "Reaction not described".into());
        reaction.set("manifestation", json!([{"text": manifestation}]));
        reaction.opt(
            "severity",
            codes::reaction_severity(b.severity.as_deref()).map(Value::from),
        );
        r.set("reaction", json!([reaction.into_value()]));
    }
    r
}

pub(super) fn medication(e: &EntryDraft, b: &Medication, patient: Value) -> Resource {
    let mut r = Resource::new("MedicationStatement");
    r.set(
        "status",
        json!(codes::medication_statement(e.status.as_deref())),
    );
    r.set("medicationCodeableConcept", concept(e, b.name.as_deref()));
    r.set("subject", patient);
    if e.end.is_some() {
        r.opt("effectivePeriod", period(&e.start, &e.end));
    } else {
        r.opt("effectiveDateTime", dt(&e.start));
    }
    r.opt("dateAsserted", dt(&e.recorded_at));
    r.opt("informationSource", display(&b.prescriber));
    let mut dosage = Resource::default();
    let dose_text: Vec<String> = [&b.dose, &b.frequency]
        .into_iter()
        .filter_map(text_of)
        .collect();
    if !dose_text.is_empty() {
        dosage.set("text", json!(dose_text.join(", ")));
    }
    dosage.opt("route", text_concept(&b.route));
    dosage.opt(
        "timing",
        text_concept(&b.frequency).map(|c| json!({"code": c})),
    );
    if !dosage.0.is_empty() {
        r.set("dosage", json!([dosage.into_value()]));
    }
    let kind = b
        .kind
        .as_deref()
        .filter(|k| *k != "statement")
        .map(|k| format!("Recorded by the source as a medication {k}"));
    r.list("note", notes(&[labelled("Quantity", &b.quantity), kind]));
    r
}

pub(super) fn condition(e: &EntryDraft, b: &Problem, patient: Value) -> Resource {
    let mut r = Resource::new("Condition");
    let raw_status = b.clinical_status.as_deref().or(e.status.as_deref());
    let verification = codes::condition_verification(b.verification_status.as_deref())
        .or_else(|| codes::is_entered_in_error(e.status.as_deref()).then_some("entered-in-error"));
    // con-5: no clinical status on an entry entered in error; con-4: an end date needs an
    // inactive, resolved or remission status, so an end that contradicts the status is dropped.
    let clinical =
        codes::condition_clinical(raw_status).filter(|_| verification != Some("entered-in-error"));
    let ended_ok = matches!(clinical, None | Some("inactive" | "resolved" | "remission"));
    if let Some(c) = clinical {
        r.set(
            "clinicalStatus",
            coded(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                c,
                c,
            ),
        );
    }
    if let Some(v) = verification {
        r.set(
            "verificationStatus",
            coded(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                v,
                v,
            ),
        );
    }
    let category = match b.kind.as_deref() {
        Some("diagnosis") => ("encounter-diagnosis", "Encounter Diagnosis"),
        _ => ("problem-list-item", "Problem List Item"),
    };
    r.set(
        "category",
        json!([coded(
            "http://terminology.hl7.org/CodeSystem/condition-category",
            category.0,
            category.1
        )]),
    );
    r.opt("severity", text_concept(&b.severity));
    r.set("code", concept(e, b.name.as_deref()));
    r.set("subject", patient);
    r.opt("onsetDateTime", dt(&e.start));
    if ended_ok && clinical.is_some() {
        r.opt("abatementDateTime", dt(&e.end));
    }
    r.opt("recordedDate", dt(&e.recorded_at));
    r
}

pub(super) fn observation(e: &EntryDraft, b: &LabResult, patient: Value) -> Resource {
    let mut r = Resource::new("Observation");
    r.set("status", json!(codes::observation(e.status.as_deref())));
    r.set("code", concept(e, None));
    r.set("subject", patient);
    if e.end.is_some() {
        r.opt("effectivePeriod", period(&e.start, &e.end));
    } else {
        r.opt("effectiveDateTime", dt(&e.start));
    }
    r.opt(
        "issued",
        e.recorded_at.as_deref().and_then(instant).map(Value::from),
    );
    match (
        b.numeric.and_then(serde_json::Number::from_f64),
        text_of(&b.value),
    ) {
        (Some(n), text) => {
            let mut q = Resource::default();
            q.set("value", Value::Number(n));
            let comparator = text.as_deref().and_then(|t| {
                ["<=", ">=", "<", ">"]
                    .into_iter()
                    .find(|c| t.trim_start().starts_with(c))
            });
            q.opt("comparator", comparator.map(Value::from));
            q.text("unit", b.unit.as_deref());
            r.set("valueQuantity", q.into_value());
        }
        (None, Some(text)) => {
            let with_unit = match text_of(&b.unit) {
                Some(u) if !text.ends_with(&u) => format!("{text} {u}"),
                _ => text,
            };
            r.set("valueString", json!(with_unit));
        }
        (None, None) => {}
    }
    if let Some(flag) = text_of(&b.abnormal_flag) {
        let interpretation = match codes::interpretation(&flag) {
            Some(code) => json!({"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code
            }], "text": flag}),
            None => json!({"text": flag}),
        };
        r.set("interpretation", json!([interpretation]));
    }
    r.opt("specimen", display(&b.specimen));
    r.list(
        "referenceRange",
        text_of(&b.reference_range)
            .map(|t| json!({"text": t}))
            .into_iter()
            .collect(),
    );
    r.list(
        "note",
        notes(&[b.comment.clone(), labelled("Report", &b.report)]),
    );
    r
}

pub(super) fn encounter(e: &EntryDraft, b: &Contact, patient: Value) -> Resource {
    let mut r = Resource::new("Encounter");
    r.set(
        "status",
        json!(codes::encounter(e.status.as_deref(), e.end.is_some())),
    );
    let (code, class_display) = match b.kind {
        ContactKind::AandE => ("EMER", "emergency"),
        ContactKind::Admission => ("IMP", "inpatient encounter"),
        ContactKind::Visit => ("HH", "home health"),
        ContactKind::Outpatient | ContactKind::Appointment | ContactKind::Other => {
            ("AMB", "ambulatory")
        }
    };
    r.set(
        "class",
        json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code, "display": class_display}),
    );
    r.set("type", json!([concept(e, None)]));
    r.opt("serviceType", text_concept(&b.specialty));
    r.set("subject", patient);
    r.list(
        "participant",
        display(&b.clinician)
            .map(|d| json!({"individual": d}))
            .into_iter()
            .collect(),
    );
    r.opt("period", period(&e.start, &e.end));
    r.list("reasonCode", text_concept(&b.reason).into_iter().collect());
    r.opt(
        "hospitalization",
        text_concept(&b.discharge_destination).map(|c| json!({"dischargeDisposition": c})),
    );
    let place: Vec<String> = [&b.site, &b.ward, &b.bed]
        .into_iter()
        .filter_map(text_of)
        .collect();
    if !place.is_empty() {
        r.set(
            "location",
            json!([{"location": {"display": place.join(", ")}}]),
        );
    }
    r.opt("serviceProvider", display(&b.organisation));
    r
}

pub(super) fn immunization(e: &EntryDraft, b: &Immunisation, patient: Value) -> Resource {
    let mut r = Resource::new("Immunization");
    r.set("status", json!(codes::immunization(e.status.as_deref())));
    r.set("vaccineCode", concept(e, b.vaccine.as_deref()));
    r.set("patient", patient);
    // occurrence[x] is required: the date when it is one, else the text as the source gave it.
    match dt(&e.start).or_else(|| dt(&e.recorded_at)) {
        Some(when) => r.set("occurrenceDateTime", when),
        None => r.set(
            "occurrenceString",
            json!(text_of(&e.start).unwrap_or_else(|| "date not recorded".into())),
        ),
    }
    r.opt("recorded", dt(&e.recorded_at));
    r.text("lotNumber", b.batch.as_deref());
    r.opt("site", text_concept(&b.site));
    r.list(
        "performer",
        display(&b.performer)
            .map(|d| json!({"actor": d}))
            .into_iter()
            .collect(),
    );
    if let Some(dose) = text_of(&b.dose_number) {
        let applied = match dose.parse::<u32>() {
            Ok(n) if n > 0 => json!({"doseNumberPositiveInt": n}),
            _ => json!({"doseNumberString": dose}),
        };
        r.set("protocolApplied", json!([applied]));
    }
    r
}

pub(super) fn procedure(e: &EntryDraft, b: &Procedure, patient: Value) -> Resource {
    let mut r = Resource::new("Procedure");
    r.set("status", json!(codes::procedure(e.status.as_deref())));
    r.set("code", concept(e, b.name.as_deref()));
    r.set("subject", patient);
    if e.end.is_some() {
        r.opt("performedPeriod", period(&e.start, &e.end));
    } else {
        r.opt("performedDateTime", dt(&e.start));
    }
    r.list(
        "performer",
        display(&b.performer)
            .map(|d| json!({"actor": d}))
            .into_iter()
            .collect(),
    );
    r.list("bodySite", text_concept(&b.body_site).into_iter().collect());
    r.opt("outcome", text_concept(&b.outcome));
    r
}
