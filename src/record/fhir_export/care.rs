//! Care-coordination entries → FHIR: advance directives, flags (safeguarding, condition,
//! location), care plans, episodes (mental health, social care), referrals, the care network
//! and next of kin (see the table in [`super::entries`]).

use super::codes;
use super::dates::date;
use super::entries::{
    coded, concept, display, dt, extensions, labelled, notes, period, text_concept, text_of, title,
    EXTENSION_BASE,
};
use super::Resource;
use crate::model::entry::{
    AdvanceDirective, Alert, AlertKind, CareNetworkMember, CarePlan, CarePlanKind, ConditionFlag,
    DirectiveKind, FlagState, Location, LocationKind, MentalHealth, NextOfKin, Referral,
    Safeguarding, SocialCare, SocialCareKind, SocialCareService,
};
use crate::model::EntryDraft;
use serde_json::{json, Value};

pub(super) fn consent(e: &EntryDraft, b: &AdvanceDirective, patient: Value) -> Resource {
    let mut r = Resource::new("Consent");
    r.set("status", json!(codes::consent(e.status.as_deref())));
    r.set(
        "scope",
        coded(
            "http://terminology.hl7.org/CodeSystem/consentscope",
            "adr",
            "Advanced Care Directive",
        ),
    );
    let (code, code_display, policy) = match b.kind {
        DirectiveKind::Dnacpr => ("dnr", "Do Not Resuscitate", "DNACPR decision"),
        DirectiveKind::Respect => ("acd", "Advance Directive", "ReSPECT process"),
        DirectiveKind::LpaHealthWelfare
        | DirectiveKind::LpaPropertyFinance
        | DirectiveKind::Adrt => ("acd", "Advance Directive", "Mental Capacity Act 2005"),
        DirectiveKind::Other => ("acd", "Advance Directive", "Advance care planning"),
    };
    let mut category = coded(
        "http://terminology.hl7.org/CodeSystem/consentcategorycodes",
        code,
        code_display,
    );
    category["text"] = json!(title(e));
    r.set("category", json!([category]));
    r.set("patient", patient);
    r.opt("dateTime", dt(&e.recorded_at).or_else(|| dt(&e.start)));
    r.list(
        "performer",
        display(&b.responsible_person).into_iter().collect(),
    );
    r.opt(
        "sourceAttachment",
        text_of(&b.document_location).map(|t| json!({"title": t})),
    );
    // R4 requires a policy or policy rule (invariant ppc-1).
    r.set("policyRule", json!({"text": policy}));
    let mut provision = Resource::default();
    provision.opt("period", period(&e.start, &e.end));
    provision.list("code", text_concept(&b.description).into_iter().collect());
    if !provision.0.is_empty() {
        r.set("provision", provision.into_value());
    }
    let mut ext = extensions(&[("responsible-person", &b.responsible_person)]);
    if let Some(review) = b.review_date.as_deref().and_then(date) {
        ext.push(json!({"url": format!("{EXTENSION_BASE}review-date"), "valueDate": review}));
    }
    r.list("extension", ext);
    r
}

fn flag(category: (&str, &str), e: &EntryDraft, code_text: String, patient: Value) -> Resource {
    let mut r = Resource::new("Flag");
    r.set(
        "status",
        json!(codes::flag(e.status.as_deref(), e.end.is_some())),
    );
    r.set(
        "category",
        json!([coded(
            "http://terminology.hl7.org/CodeSystem/flag-category",
            category.0,
            category.1
        )]),
    );
    r.set("code", concept(e, Some(&code_text)));
    r.set("subject", patient);
    r.opt("period", period(&e.start, &e.end));
    r
}

pub(super) fn safeguarding(e: &EntryDraft, b: &Safeguarding, patient: Value) -> Resource {
    let text = match text_of(&b.alert_type) {
        Some(t) if !title(e).contains(&t) => format!("{t}: {}", title(e)),
        _ => title(e),
    };
    let mut r = flag(("safety", "Safety"), e, text, patient);
    r.opt("author", display(&b.recorded_by));
    r.list(
        "extension",
        extensions(&[
            ("alert-type", &b.alert_type),
            ("description", &b.description),
            ("risk-level", &b.risk_level),
            ("contact", &b.contact),
        ]),
    );
    r
}

/// An alert: a Flag whose category carries the HL7 flag category nearest its kind and, as
/// text, the kind in words — which is what a re-import reads the kind back from.
pub(super) fn alert(e: &EntryDraft, b: &Alert, patient: Value) -> Resource {
    let (code, code_display) = match b.kind {
        AlertKind::RiskToStaff => ("safety", "Safety"),
        AlertKind::Clinical => ("clinical", "Clinical"),
        AlertKind::Other => ("admin", "Administrative"),
    };
    let mut r = flag((code, code_display), e, title(e), patient);
    let mut category = coded(
        "http://terminology.hl7.org/CodeSystem/flag-category",
        code,
        code_display,
    );
    category["text"] = json!(b.kind.label());
    r.set("category", json!([category]));
    r.opt("author", display(&b.recorded_by));
    r.list(
        "extension",
        extensions(&[
            ("alert-kind", &Some(b.kind.as_str().to_owned())),
            ("description", &b.description),
            ("contact", &b.contact),
        ]),
    );
    r
}

pub(super) fn condition_flag(e: &EntryDraft, b: &ConditionFlag, patient: Value) -> Resource {
    let state = match b.state {
        FlagState::Tested => "tested",
        FlagState::Positive => "positive",
        FlagState::Negative => "negative",
        FlagState::Other => "",
    };
    let text = format!("{} {state}", b.condition.trim()).trim().to_owned();
    let mut r = flag(
        ("clinical", "Clinical"),
        e,
        if text.is_empty() { title(e) } else { text },
        patient,
    );
    if e.start.is_none() {
        r.opt("period", period(&b.date, &e.end));
    }
    r.list("extension", extensions(&[("detail", &b.detail)]));
    r
}

pub(super) fn location(e: &EntryDraft, b: &Location, patient: Value) -> Resource {
    let kind = match b.kind {
        LocationKind::Home => "home",
        LocationKind::Inpatient => "inpatient ward",
        LocationKind::CareHome => "care home",
        LocationKind::MentalHealthUnit => "mental health unit",
        LocationKind::StepDown => "step-down bed",
        LocationKind::EmergencyDepartment => "emergency department",
        LocationKind::Hospice => "hospice",
        LocationKind::OtherHospital => "another hospital",
        LocationKind::Deceased => "deceased",
        LocationKind::NotKnown => "not known",
        LocationKind::Other => "other",
    };
    let place: Vec<String> = [&b.name, &b.ward, &b.bed, &b.organisation]
        .into_iter()
        .filter_map(text_of)
        .collect();
    let text = if place.is_empty() {
        format!("Current location: {kind}")
    } else {
        format!("Current location: {kind} ({})", place.join(", "))
    };
    let mut r = flag(("admin", "Administrative"), e, text, patient);
    r.opt("author", display(&b.organisation));
    r
}

pub(super) fn care_plan(e: &EntryDraft, b: &CarePlan, patient: Value) -> Resource {
    let mut r = Resource::new("CarePlan");
    r.set("status", json!(codes::care_plan(e.status.as_deref())));
    r.set("intent", json!("plan"));
    let kind = match b.kind {
        CarePlanKind::EndOfLife => "End of life care plan",
        CarePlanKind::Crisis => "Crisis plan",
        CarePlanKind::Anticipatory => "Anticipatory care plan",
        CarePlanKind::Other => "Care plan",
    };
    r.set("category", json!([concept(e, Some(kind))]));
    r.set("title", json!(title(e)));
    r.text("description", b.description.as_deref());
    r.set("subject", patient);
    r.opt("period", period(&e.start, &e.end));
    r.opt("created", dt(&e.recorded_at));
    r.opt("author", display(&b.author));
    r.list("note", notes(&[labelled("Review date", &b.review_date)]));
    r
}

fn episode(e: &EntryDraft, type_text: String, patient: Value) -> Resource {
    let mut r = Resource::new("EpisodeOfCare");
    r.set(
        "status",
        json!(codes::episode(e.status.as_deref(), e.end.is_some())),
    );
    r.set("type", json!([concept(e, Some(&type_text))]));
    r.set("patient", patient);
    r.opt("period", period(&e.start, &e.end));
    r
}

pub(super) fn mental_health(e: &EntryDraft, b: &MentalHealth, patient: Value) -> Resource {
    let mut r = episode(e, format!("Mental health: {}", title(e)), patient);
    r.opt("careManager", display(&b.care_coordinator));
    r.list("team", display(&b.team).into_iter().collect());
    r.list(
        "extension",
        extensions(&[
            ("coordinator-contact", &b.coordinator_contact),
            ("crisis-plan", &b.crisis_plan),
            ("legal-status", &b.legal_status),
            ("cpa-level", &b.cpa_level),
        ]),
    );
    r
}

pub(super) fn social_care(e: &EntryDraft, b: &SocialCare, patient: Value) -> Resource {
    let service = match b.service {
        SocialCareService::Adults => "Adult social care",
        SocialCareService::Children => "Children's social care",
    };
    let kind = match b.kind {
        SocialCareKind::Case => "open case",
        SocialCareKind::PackageOfCare => "package of care",
        SocialCareKind::Allocation => "allocation",
        SocialCareKind::LookedAfter => "looked after",
        SocialCareKind::ChildProtectionPlan => "child protection plan",
        SocialCareKind::LegalStatus => "legal status",
        SocialCareKind::Assessment => "assessment",
        SocialCareKind::Other => "other",
    };
    let mut r = episode(e, format!("{service}: {kind}"), patient);
    r.opt("managingOrganization", display(&b.provider));
    r.opt("careManager", display(&b.named_worker));
    r.list("team", display(&b.team).into_iter().collect());
    r.list(
        "extension",
        extensions(&[
            ("description", &b.description),
            ("worker-contact", &b.worker_contact),
            ("legal-status", &b.legal_status),
            ("hours-per-week", &b.hours_per_week),
        ]),
    );
    r
}

pub(super) fn referral(e: &EntryDraft, b: &Referral, patient: Value) -> Resource {
    let mut r = Resource::new("ServiceRequest");
    r.set("status", json!(codes::service_request(e.status.as_deref())));
    r.set("intent", json!("order"));
    r.set(
        "category",
        json!([coded(
            "http://snomed.info/sct",
            "3457005",
            "Patient referral"
        )]),
    );
    r.opt(
        "priority",
        codes::priority(b.priority.as_deref()).map(Value::from),
    );
    r.set("code", concept(e, None));
    r.set("subject", patient);
    if e.end.is_some() {
        r.opt("occurrencePeriod", period(&e.start, &e.end));
    }
    r.opt("authoredOn", dt(&e.recorded_at).or_else(|| dt(&e.start)));
    r.opt("requester", display(&b.from_organisation));
    r.opt("performerType", text_concept(&b.to_service));
    r.list(
        "performer",
        display(&b.to_organisation).into_iter().collect(),
    );
    r.list("reasonCode", text_concept(&b.reason).into_iter().collect());
    r
}

pub(super) fn care_team(e: &EntryDraft, b: &CareNetworkMember, patient: Value) -> Resource {
    let mut r = Resource::new("CareTeam");
    r.opt(
        "status",
        codes::care_team(e.status.as_deref()).map(Value::from),
    );
    r.set(
        "name",
        json!(text_of(&b.team)
            .or_else(|| text_of(&b.agency))
            .unwrap_or_else(|| title(e))),
    );
    r.set("subject", patient);
    r.opt("period", period(&e.start, &e.end));
    let mut participant = Resource::default();
    participant.list("role", text_concept(&b.role).into_iter().collect());
    participant.opt("member", display(&b.name));
    if !participant.0.is_empty() {
        r.set("participant", json!([participant.into_value()]));
    }
    // Not participant.onBehalfOf: invariant ctm-1 allows it only for a Practitioner member.
    r.list(
        "managingOrganization",
        display(&b.agency).into_iter().collect(),
    );
    let mut telecom = Vec::new();
    if let Some(phone) = text_of(&b.phone) {
        telecom.push(json!({"system": "phone", "value": phone}));
    }
    if let Some(email) = text_of(&b.email) {
        telecom.push(json!({"system": "email", "value": email}));
    }
    r.list("telecom", telecom);
    r
}

pub(super) fn related_person(e: &EntryDraft, b: &NextOfKin, patient: Value) -> Resource {
    let mut r = Resource::new("RelatedPerson");
    r.set("patient", patient);
    let mut relationship: Vec<Value> = text_concept(&b.relationship).into_iter().collect();
    if b.is_carer {
        relationship.push(json!({"text": "Carer"}));
    }
    r.list("relationship", relationship);
    r.list(
        "name",
        text_of(&b.name)
            .map(|n| json!({"text": n}))
            .into_iter()
            .collect(),
    );
    r.list(
        "telecom",
        text_of(&b.phone)
            .map(|p| json!({"system": "phone", "value": p}))
            .into_iter()
            .collect(),
    );
    r.list(
        "address",
        text_of(&b.address)
            .map(|a| json!({"text": a}))
            .into_iter()
            .collect(),
    );
    r.opt("period", period(&e.start, &e.end));
    r
}
