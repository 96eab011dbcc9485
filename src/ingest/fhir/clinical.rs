//! Clinical resources → entries: allergies, medications, observations and reports, problems,
//! immunisations, procedures and encounters.
//!
//! A test observation that a flagged condition names (COVID-19 in the shipped condition set)
//! also raises a condition flag (tested, positive or negative) for the record's banner, as the
//! HL7 v2 importer does for the same test, so the banner and the population dashboard read it
//! whichever way it arrived.

use super::adapt::{
    end_of, first_code, first_label, joined_labels, label, set_code, start_of, Base, Outcome,
};
use super::resources::{
    non_empty, notes, AllergyIntolerance, CodeableConcept, Condition, DiagnosticReport, Dosage,
    Encounter, Immunization, MedicationUse, Observation, ObservationValue, Procedure, Quantity,
    ReferenceRange,
};
use crate::model::entry::{
    Allergy, ConditionFlag, Contact, ContactKind, Immunisation, LabResult, Medication, Problem,
    Procedure as ProcedureBody,
};
use crate::model::EntryBody;
use crate::population::conditions::{self, TestFlag};

pub(super) fn allergy(a: AllergyIntolerance, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(a.patient.as_ref())?;
    let substance = label(a.code.as_ref());
    let reactions: Vec<CodeableConcept> = a
        .reaction
        .iter()
        .flat_map(|r| r.manifestation.iter().cloned())
        .collect();
    let body = Allergy {
        substance: substance.clone(),
        allergy_type: non_empty(a.kind.as_deref()),
        reaction: joined_labels(&reactions),
        severity: a
            .reaction
            .iter()
            .find_map(|r| non_empty(r.severity.as_deref())),
        criticality: non_empty(a.criticality.as_deref()),
    };
    let mut e = base.draft(
        substance,
        "Allergy (substance not stated)",
        EntryBody::Allergy(body),
    );
    set_code(&mut e, a.code.as_ref());
    let verification = first_code(a.verification_status.as_ref());
    e.status = if verification.as_deref() == Some("entered-in-error") {
        verification
    } else {
        first_code(a.clinical_status.as_ref())
    };
    e.start = a
        .onset_date_time
        .or_else(|| start_of(a.onset_period.as_ref()));
    e.end = end_of(a.onset_period.as_ref());
    e.recorded_at = a.recorded_date;
    Ok(base.unit(subject, vec![e]))
}

/// MedicationStatement and MedicationRequest; `kind` says which.
pub(super) fn medication(m: MedicationUse, base: &Base<'_>, kind: &str) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(m.subject.as_ref())?;
    let referenced = m
        .medication_reference
        .as_ref()
        .and_then(|r| r.reference.as_deref())
        .and_then(|r| base.ctx.medication(r));
    let concept = m.medication_codeable_concept.as_ref().or(referenced);
    let name = label(concept).or_else(|| m.medication_reference.as_ref().and_then(|r| r.label()));
    let dosage: Option<&Dosage> = m.dosage.first().or(m.dosage_instruction.first());
    let body = Medication {
        name: name.clone(),
        dose: dosage.and_then(dose_text),
        route: dosage.and_then(|d| label(d.route.as_ref())),
        frequency: dosage.and_then(frequency_text),
        quantity: m
            .dispense_request
            .as_ref()
            .and_then(|d| d.quantity.as_ref())
            .and_then(Quantity::text),
        prescriber: m
            .requester
            .as_ref()
            .or(m.information_source.as_ref())
            .and_then(|r| r.label()),
        kind: Some(kind.to_owned()),
    };
    let mut e = base.draft(
        name,
        "Medication (name not stated)",
        EntryBody::Medication(body),
    );
    set_code(&mut e, concept);
    e.status = non_empty(m.status.as_deref());
    e.start = m
        .effective_date_time
        .or_else(|| start_of(m.effective_period.as_ref()))
        .or_else(|| m.authored_on.clone());
    e.end = end_of(m.effective_period.as_ref()).or_else(|| {
        m.dispense_request
            .as_ref()
            .and_then(|d| end_of(d.validity_period.as_ref()))
    });
    e.recorded_at = m.date_asserted.or(m.authored_on);
    Ok(base.unit(subject, vec![e]))
}

/// The dose as text: the dosage text when given (it is what the prescriber wrote), else the
/// structured dose quantity.
fn dose_text(d: &Dosage) -> Option<String> {
    non_empty(d.text.as_deref()).or_else(|| {
        d.dose_and_rate
            .iter()
            .find_map(|r| r.dose_quantity.as_ref().and_then(Quantity::text))
    })
}

fn frequency_text(d: &Dosage) -> Option<String> {
    let timing = d.timing.as_ref()?;
    label(timing.code.as_ref()).or_else(|| {
        let r = timing.repeat.as_ref()?;
        let times = r.frequency.unwrap_or(1.0);
        let period = r.period.unwrap_or(1.0);
        let unit = r.period_unit.as_deref()?;
        Some(format!("{times} times every {period} {unit}"))
    })
}

pub(super) fn observation(o: Observation, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(o.subject.as_ref())?;
    let title = label(o.code.as_ref());
    let (mut value, numeric, unit) = value_parts(&o.value);
    if value.is_none() && !o.component.is_empty() {
        let parts: Vec<String> = o
            .component
            .iter()
            .filter_map(|c| {
                let (v, _, _) = value_parts(&c.value);
                Some(format!("{}: {}", label(c.code.as_ref())?, v?))
            })
            .collect();
        value = (!parts.is_empty()).then(|| parts.join("; "));
    }
    let absent = label(o.data_absent_reason.as_ref()).map(|r| format!("no value: {r}"));
    let comment = match (notes(&o.note), absent) {
        (Some(n), Some(a)) => Some(format!("{a}; {n}")),
        (n, a) => n.or(a),
    };
    let panel = base.ctx.panel_of(&base.keys);
    let abnormal_flag = o
        .interpretation
        .iter()
        .find_map(|i| i.codes().next().map(str::to_owned))
        .or_else(|| first_label(&o.interpretation));
    let body = LabResult {
        value: value.clone(),
        numeric,
        unit,
        reference_range: o.reference_range.iter().find_map(range_text),
        abnormal_flag: abnormal_flag.clone(),
        report: base.ctx.report_of(&base.keys),
        panel: label(panel),
        panel_code: panel
            .and_then(CodeableConcept::primary)
            .and_then(|c| c.code.clone()),
        specimen: o.specimen.as_ref().and_then(|s| s.label()),
        comment,
    };
    let mut e = base.draft(title.clone(), "Observation", EntryBody::Result(body));
    set_code(&mut e, o.code.as_ref());
    e.status = non_empty(o.status.as_deref());
    e.start = o
        .effective_date_time
        .or(o.effective_instant)
        .or_else(|| start_of(o.effective_period.as_ref()));
    e.end = end_of(o.effective_period.as_ref());
    e.recorded_at = o.issued;

    let mut entries = vec![];
    if let Some(test) = o.code.as_ref().and_then(test_flag) {
        let evidence = format!(
            "{} {} {}",
            value.as_deref().unwrap_or(""),
            abnormal_flag.as_deref().unwrap_or(""),
            first_label(&o.interpretation).unwrap_or_default()
        );
        let flag = ConditionFlag {
            condition: test.name.clone(),
            state: test.state(&evidence),
            date: e.start.clone(),
            detail: value.or(title),
        };
        let mut f = base.draft(
            Some(test.name.clone()),
            "Observation",
            EntryBody::ConditionFlag(flag),
        );
        f.source_ref = format!("{}#{}", base.source_ref, flag_reference(&test.name));
        f.status = e.status.clone();
        f.start = e.start.clone();
        f.recorded_at = e.recorded_at.clone();
        entries.push(e);
        entries.push(f);
    } else {
        entries.push(e);
    }
    Ok(base.unit(subject, entries))
}

/// value[x] as (text, number, unit).
fn value_parts(v: &ObservationValue) -> (Option<String>, Option<f64>, Option<String>) {
    if let Some(q) = &v.value_quantity {
        return (q.text(), q.value.filter(|n| n.is_finite()), q.unit_text());
    }
    if let Some(i) = v.value_integer {
        return (Some(i.to_string()), Some(i as f64), None);
    }
    let text = non_empty(v.value_string.as_deref())
        .or_else(|| label(v.value_codeable_concept.as_ref()))
        .or_else(|| {
            v.value_boolean
                .map(|b| if b { "yes" } else { "no" }.to_owned())
        })
        .or_else(|| v.value_date_time.clone());
    (text, None, None)
}

fn range_text(r: &ReferenceRange) -> Option<String> {
    if let Some(t) = non_empty(r.text.as_deref()) {
        return Some(t);
    }
    let num = |q: &Option<Quantity>| q.as_ref().and_then(|q| q.value).filter(|v| v.is_finite());
    let unit = r
        .low
        .as_ref()
        .or(r.high.as_ref())
        .and_then(Quantity::unit_text)
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    match (num(&r.low), num(&r.high)) {
        (Some(l), Some(h)) => Some(format!("{l}-{h}{unit}")),
        (Some(l), None) => Some(format!(">={l}{unit}")),
        (None, Some(h)) => Some(format!("<={h}{unit}")),
        (None, None) => None,
    }
}

/// The banner flag a test is for: a code or a name a flagged condition's result rules name
/// (`population/conditions.toml`: LOINC and SNOMED CT codes, and words for feeds that send local
/// codes).
pub(super) fn test_flag(code: &CodeableConcept) -> Option<TestFlag> {
    let codes: Vec<&str> = code.codes().collect();
    conditions::test_flag(&codes, &[&code.words()])
}

/// The flag entry's reference beside its observation's: "covid-19" for "COVID-19".
pub(super) fn flag_reference(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

/// One Result entry summarising the report; its observations link back to it through
/// `LabResult.report`.
pub(super) fn report(r: DiagnosticReport, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(r.subject.as_ref())?;
    let title = label(r.code.as_ref());
    let body = LabResult {
        value: non_empty(r.conclusion.as_deref()).or_else(|| joined_labels(&r.conclusion_code)),
        report: Some(base.source_ref.to_owned()),
        specimen: r.specimen.iter().find_map(|s| s.label()),
        comment: (!r.result.is_empty())
            .then(|| format!("{} results in this report", r.result.len())),
        ..LabResult::default()
    };
    let mut e = base.draft(title, "Report", EntryBody::Result(body));
    set_code(&mut e, r.code.as_ref());
    e.status = non_empty(r.status.as_deref());
    e.start = r
        .effective_date_time
        .or_else(|| start_of(r.effective_period.as_ref()));
    e.end = end_of(r.effective_period.as_ref());
    e.recorded_at = r.issued;
    Ok(base.unit(subject, vec![e]))
}

pub(super) fn condition(c: Condition, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(c.subject.as_ref())?;
    let name = label(c.code.as_ref());
    let kind = c.category.iter().find_map(|cat| {
        cat.codes().find_map(|code| match code {
            "problem-list-item" => Some("problem".to_owned()),
            "encounter-diagnosis" => Some("diagnosis".to_owned()),
            _ => None,
        })
    });
    let body = Problem {
        name: name.clone(),
        kind: kind.or_else(|| first_label(&c.category)),
        clinical_status: first_code(c.clinical_status.as_ref()),
        verification_status: first_code(c.verification_status.as_ref()),
        severity: label(c.severity.as_ref()),
    };
    let status = if body.verification_status.as_deref() == Some("entered-in-error") {
        body.verification_status.clone()
    } else {
        body.clinical_status.clone()
    };
    let mut e = base.draft(name, "Problem (not named)", EntryBody::Problem(body));
    set_code(&mut e, c.code.as_ref());
    e.status = status;
    e.start = c
        .onset_date_time
        .or_else(|| start_of(c.onset_period.as_ref()));
    e.end = c
        .abatement_date_time
        .or_else(|| end_of(c.abatement_period.as_ref()));
    e.recorded_at = c.recorded_date;
    Ok(base.unit(subject, vec![e]))
}

pub(super) fn immunization(i: Immunization, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(i.patient.as_ref())?;
    let vaccine = label(i.vaccine_code.as_ref());
    let dose = i.protocol_applied.iter().find_map(|p| {
        p.dose_number_positive_int
            .map(|n| n.to_string())
            .or_else(|| non_empty(p.dose_number_string.as_deref()))
    });
    let body = Immunisation {
        vaccine: vaccine.clone(),
        dose_number: dose,
        site: label(i.site.as_ref()),
        batch: non_empty(i.lot_number.as_deref()),
        performer: i
            .performer
            .iter()
            .find_map(|p| p.actor.as_ref().and_then(|a| a.label())),
    };
    let mut e = base.draft(vaccine, "Vaccination", EntryBody::Immunisation(body));
    set_code(&mut e, i.vaccine_code.as_ref());
    e.status = non_empty(i.status.as_deref());
    e.start = i.occurrence_date_time;
    e.recorded_at = i.recorded;
    Ok(base.unit(subject, vec![e]))
}

pub(super) fn procedure(p: Procedure, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(p.subject.as_ref())?;
    let name = label(p.code.as_ref());
    let body = ProcedureBody {
        name: name.clone(),
        performer: p
            .performer
            .iter()
            .find_map(|x| x.actor.as_ref().and_then(|a| a.label())),
        body_site: first_label(&p.body_site),
        outcome: label(p.outcome.as_ref()),
    };
    let mut e = base.draft(name, "Procedure", EntryBody::Procedure(body));
    set_code(&mut e, p.code.as_ref());
    e.status = non_empty(p.status.as_deref());
    e.start = p
        .performed_date_time
        .or_else(|| start_of(p.performed_period.as_ref()));
    e.end = end_of(p.performed_period.as_ref());
    Ok(base.unit(subject, vec![e]))
}

pub(super) fn encounter(enc: Encounter, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(enc.subject.as_ref())?;
    let class = enc
        .class
        .as_ref()
        .and_then(|c| c.code.as_deref())
        .unwrap_or("");
    let kind = match class.to_ascii_uppercase().as_str() {
        "AMB" => ContactKind::Outpatient,
        "EMER" => ContactKind::AandE,
        "IMP" | "ACUTE" | "NONAC" | "SS" | "OBSENC" | "PRENC" => ContactKind::Admission,
        "HH" | "FLD" => ContactKind::Visit,
        "VR" => ContactKind::Appointment,
        _ => ContactKind::Other,
    };
    let mut body = Contact {
        kind,
        organisation: enc.service_provider.as_ref().and_then(|r| r.label()),
        site: None,
        ward: None,
        bed: None,
        specialty: label(enc.service_type.as_ref()),
        clinician: enc
            .participant
            .iter()
            .find_map(|p| p.individual.as_ref().and_then(|i| i.label())),
        reason: joined_labels(&enc.reason_code),
        discharge_destination: enc
            .hospitalization
            .as_ref()
            .and_then(|h| label(h.discharge_disposition.as_ref())),
    };
    for loc in &enc.location {
        let Some(name) = loc.location.as_ref().and_then(|l| l.label()) else {
            continue;
        };
        let slot = match first_code(loc.physical_type.as_ref()).as_deref() {
            Some("wa") => &mut body.ward,
            Some("bd") => &mut body.bed,
            _ => &mut body.site,
        };
        if slot.is_none() {
            *slot = Some(name);
        }
    }
    let fallback = match kind {
        ContactKind::AandE => "A&E attendance",
        ContactKind::Admission => "Admission",
        ContactKind::Outpatient => "Outpatient attendance",
        ContactKind::Appointment => "Appointment",
        ContactKind::Visit => "Visit",
        ContactKind::Other => "Encounter",
    };
    let title = first_label(&enc.kind);
    let mut e = base.draft(title, fallback, EntryBody::Contact(body));
    set_code(&mut e, enc.kind.first());
    e.status = non_empty(enc.status.as_deref());
    e.start = start_of(enc.period.as_ref());
    e.end = end_of(enc.period.as_ref());
    Ok(base.unit(subject, vec![e]))
}
