//! Care-coordination resources → entries: flags, care plans, advance directives (Consent),
//! episodes of care, referrals (ServiceRequest) and care teams.
//!
//! Several of these carry their meaning in free text rather than a fixed code, so they are
//! classified by keywords on word boundaries:
//! - Flag: the test words of a flagged condition (COVID-19's) make a condition flag; anything
//!   else an alert, its kind from the flag's category and words (see [`crate::ingest::alerts`]): safeguarding words (child protection,
//!   adult at risk, domestic abuse, MARAC …) make a safeguarding alert, "large dog at home" a
//!   risk to staff, "hearing impaired" a clinical alert.
//! - Consent: DNACPR, ReSPECT, LPA or ADRT words (or the advance-directive scope and category
//!   codes) make an advance directive; any other consent is counted and skipped.
//! - EpisodeOfCare: social-care words make social care, mental-health words a mental-health
//!   summary, anything else a contact of kind `other`.

use super::adapt::{
    end_of, first_label, has_any_word, label, set_code, start_of, words, Base, Outcome,
};
use super::datatypes::CodeableConcept;
use super::resources::{
    non_empty, notes, telecom, CarePlan, CareTeam, Consent, EpisodeOfCare, Flag, ServiceRequest,
};
use crate::ingest::alerts::{self, AlertText, NamedKind};
use crate::model::entry::{
    AdvanceDirective, AlertKind, CareNetworkMember, CarePlan as CarePlanBody, CarePlanKind,
    ConditionFlag, Contact, ContactKind, DirectiveKind, FlagState, MentalHealth, Referral,
    SocialCare, SocialCareKind, SocialCareService,
};
use crate::model::EntryBody;
use crate::population::conditions;

pub(super) fn flag(f: Flag, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(f.subject.as_ref())?;
    let text = words(f.code.iter().chain(&f.category), []);
    let title = label(f.code.as_ref()).or_else(|| first_label(&f.category));
    let author = f.author.as_ref().and_then(|a| a.label());
    let status = non_empty(f.status.as_deref());
    let test = conditions::test_flag(&[], &[&text]);
    let body = if let Some(test) = test.filter(|_| alerts::safeguarding_type(&text).is_none()) {
        // A flag that only mentions the condition (shielding, a vaccination reminder) is no test.
        let state = match test.state(&text) {
            FlagState::Tested if !has_any_word(&text, &["tested", "test"]) => FlagState::Other,
            s => s,
        };
        EntryBody::ConditionFlag(ConditionFlag {
            condition: test.name.clone(),
            state,
            date: start_of(f.period.as_ref()),
            detail: title.clone(),
        })
    } else {
        // What sharedcare's own export wrote (`urn:sharedcare:extension:*`), read back.
        let ext = |name: &str| {
            f.extension
                .iter()
                .find(|e| e.url.strip_prefix("urn:sharedcare:extension:") == Some(name))
                .and_then(|e| non_empty(e.value_string.as_deref()))
        };
        let named = ext("alert-kind")
            .and_then(|k| alerts::named_kind(&k))
            .or_else(|| flag_category_kind(&f.category));
        alerts::body(
            named,
            AlertText {
                title: title.clone().unwrap_or_default(),
                description: ext("description"),
                recorded_by: author,
                contact: ext("contact"),
            },
        )
    };
    let mut e = base.draft(title, "Flag", body);
    set_code(&mut e, f.code.as_ref());
    e.status = status;
    e.start = start_of(f.period.as_ref());
    e.end = end_of(f.period.as_ref());
    Ok(base.unit(subject, vec![e]))
}

/// The kind a Flag's category names: its text or display when that names a kind ("Risk to
/// staff", as the export writes it), else the HL7 flag-category code — `behavioral` and
/// `safety` are risks to staff, `clinical`, `drug`, `diet` and `lab` clinical. Other codes
/// (`admin`, `contact` …) name no kind, and the flag's words decide.
fn flag_category_kind(category: &[CodeableConcept]) -> Option<NamedKind> {
    let by_text = category
        .iter()
        .filter_map(CodeableConcept::label)
        .find_map(|t| alerts::named_kind(&t));
    by_text.or_else(|| {
        category
            .iter()
            .flat_map(CodeableConcept::codes)
            .find_map(|code| match code {
                "behavioral" | "safety" => Some(NamedKind::Alert(AlertKind::RiskToStaff)),
                "clinical" | "drug" | "diet" | "lab" => Some(NamedKind::Alert(AlertKind::Clinical)),
                _ => None,
            })
    })
}

pub(super) fn care_plan(p: CarePlan, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(p.subject.as_ref())?;
    let text = words(&p.category, [p.title.as_deref(), p.description.as_deref()]);
    let kind = if has_any_word(&text, &["end of life", "end-of-life", "palliative", "eol"]) {
        CarePlanKind::EndOfLife
    } else if has_any_word(&text, &["crisis"]) {
        CarePlanKind::Crisis
    } else if has_any_word(&text, &["anticipatory"]) {
        CarePlanKind::Anticipatory
    } else {
        CarePlanKind::Other
    };
    let body = CarePlanBody {
        kind,
        description: non_empty(p.description.as_deref()).or_else(|| notes(&p.note)),
        review_date: None,
        author: p.author.as_ref().and_then(|a| a.label()),
    };
    let title = non_empty(p.title.as_deref()).or_else(|| first_label(&p.category));
    let mut e = base.draft(title, "Care plan", EntryBody::CarePlan(body));
    set_code(&mut e, p.category.first());
    e.status = non_empty(p.status.as_deref());
    e.start = start_of(p.period.as_ref());
    e.end = end_of(p.period.as_ref());
    e.recorded_at = p.created;
    Ok(base.unit(subject, vec![e]))
}

/// SNOMED CT "not for attempted cardiopulmonary resuscitation" and "not for resuscitation".
const DNACPR_CODES: [&str; 2] = ["450476008", "304253006"];

pub(super) fn consent(c: Consent, base: &Base<'_>) -> Result<Outcome, String> {
    let provision_codes = c.provision.iter().flat_map(|p| p.code.iter());
    let concepts: Vec<_> = c
        .category
        .iter()
        .chain(c.scope.iter())
        .chain(c.policy_rule.iter())
        .chain(provision_codes)
        .collect();
    let attachment_title = c
        .source_attachment
        .as_ref()
        .and_then(|a| a.title.as_deref());
    let text = words(concepts.iter().copied(), [attachment_title]);
    let codes: Vec<&str> = concepts.iter().flat_map(|c| c.codes()).collect();
    // "ReSPECT" is only told from the everyday word by its capitals.
    let respect = concepts
        .iter()
        .flat_map(|c| {
            c.text
                .iter()
                .chain(c.coding.iter().filter_map(|x| x.display.as_ref()))
        })
        .map(String::as_str)
        .chain(attachment_title)
        .any(|t| t.contains("ReSPECT"))
        || text.contains("recommended summary plan for emergency care");

    let kind = if codes
        .iter()
        .any(|c| DNACPR_CODES.contains(c) || *c == "dnr")
        || has_any_word(
            &text,
            &[
                "dnacpr",
                "dnar",
                "dnr",
                "do not attempt cardiopulmonary resuscitation",
                "do not attempt resuscitation",
                "not for resuscitation",
                "not for attempted cardiopulmonary resuscitation",
            ],
        ) {
        DirectiveKind::Dnacpr
    } else if respect {
        DirectiveKind::Respect
    } else if has_any_word(&text, &["lasting power of attorney", "lpa"]) {
        if has_any_word(&text, &["property", "financial", "finance"]) {
            DirectiveKind::LpaPropertyFinance
        } else {
            DirectiveKind::LpaHealthWelfare
        }
    } else if has_any_word(
        &text,
        &[
            "advance decision to refuse treatment",
            "adrt",
            "advance decision",
        ],
    ) {
        DirectiveKind::Adrt
    } else if codes.iter().any(|c| *c == "adr" || *c == "acd")
        || has_any_word(&text, &["advance directive", "advance care directive"])
    {
        DirectiveKind::Other
    } else {
        return Ok(Outcome::Skip("Consent (not an advance directive)".into()));
    };

    let subject = base.ctx.subject_of(c.patient.as_ref())?;
    let provision_period = c.provision.as_ref().and_then(|p| p.period.as_ref());
    let body = AdvanceDirective {
        kind,
        description: c
            .provision
            .as_ref()
            .and_then(|p| first_label(&p.code))
            .or_else(|| label(c.policy_rule.as_ref()))
            .or_else(|| first_label(&c.category)),
        review_date: None,
        responsible_person: c
            .performer
            .iter()
            .chain(&c.organization)
            .find_map(|r| r.label()),
        document_location: c
            .source_attachment
            .as_ref()
            .and_then(|a| non_empty(a.url.as_deref()).or_else(|| non_empty(a.title.as_deref())))
            .or_else(|| c.source_reference.as_ref().and_then(|r| r.label())),
    };
    let title = match kind {
        DirectiveKind::Dnacpr => "DNACPR decision",
        DirectiveKind::Respect => "ReSPECT form",
        DirectiveKind::LpaHealthWelfare => "Lasting power of attorney (health and welfare)",
        DirectiveKind::LpaPropertyFinance => {
            "Lasting power of attorney (property and financial affairs)"
        }
        DirectiveKind::Adrt => "Advance decision to refuse treatment",
        DirectiveKind::Other => "Advance directive",
    };
    let mut e = base.draft(None, title, EntryBody::AdvanceDirective(body));
    set_code(&mut e, c.category.first());
    e.status = non_empty(c.status.as_deref());
    e.start = start_of(provision_period).or_else(|| c.date_time.clone());
    e.end = end_of(provision_period);
    e.recorded_at = c.date_time;
    Ok(base.unit(subject, vec![e]))
}

pub(super) fn episode(ep: EpisodeOfCare, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(ep.patient.as_ref())?;
    let text = words(&ep.kind, []);
    let title = first_label(&ep.kind);
    let organisation = ep.managing_organization.as_ref().and_then(|r| r.label());
    let team = ep.team.iter().find_map(|t| t.label());
    let manager = ep.care_manager.as_ref().and_then(|r| r.label());
    let (body, fallback) = if has_any_word(
        &text,
        &[
            "social care",
            "social work",
            "social services",
            "looked after",
            "child protection plan",
            "care package",
            "package of care",
        ],
    ) {
        let children = has_any_word(
            &text,
            &[
                "child",
                "children",
                "children's",
                "looked after",
                "young people",
            ],
        );
        let kind = if has_any_word(&text, &["looked after"]) {
            SocialCareKind::LookedAfter
        } else if has_any_word(&text, &["child protection"]) {
            SocialCareKind::ChildProtectionPlan
        } else if has_any_word(&text, &["package", "care package", "package of care"]) {
            SocialCareKind::PackageOfCare
        } else if has_any_word(&text, &["assessment"]) {
            SocialCareKind::Assessment
        } else {
            SocialCareKind::Case
        };
        let body = SocialCare {
            service: if children {
                SocialCareService::Children
            } else {
                SocialCareService::Adults
            },
            kind,
            description: title.clone(),
            team,
            named_worker: manager,
            worker_contact: None,
            legal_status: None,
            provider: organisation,
            hours_per_week: None,
        };
        (EntryBody::SocialCare(body), "Social care")
    } else if has_any_word(
        &text,
        &[
            "mental health",
            "cmht",
            "camhs",
            "psychiatry",
            "psychiatric",
            "psychosis",
            "iapt",
            "crisis resolution",
        ],
    ) {
        let body = MentalHealth {
            team: team.or(organisation),
            care_coordinator: manager,
            ..MentalHealth::default()
        };
        (EntryBody::MentalHealth(body), "Mental health care")
    } else {
        let body = Contact {
            kind: ContactKind::Other,
            organisation,
            site: None,
            ward: None,
            bed: None,
            specialty: title.clone(),
            clinician: manager,
            reason: None,
            discharge_destination: None,
        };
        (EntryBody::Contact(body), "Episode of care")
    };
    let mut e = base.draft(title, fallback, body);
    set_code(&mut e, ep.kind.first());
    e.status = non_empty(ep.status.as_deref());
    e.start = start_of(ep.period.as_ref());
    e.end = end_of(ep.period.as_ref());
    Ok(base.unit(subject, vec![e]))
}

pub(super) fn service_request(s: ServiceRequest, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(s.subject.as_ref())?;
    let body = Referral {
        to_service: label(s.performer_type.as_ref()),
        to_organisation: s.performer.iter().find_map(|p| p.label()),
        from_organisation: s.requester.as_ref().and_then(|r| r.label()),
        reason: super::adapt::joined_labels(&s.reason_code),
        priority: non_empty(s.priority.as_deref()),
    };
    let title = label(s.code.as_ref()).or_else(|| first_label(&s.category));
    let mut e = base.draft(title, "Referral", EntryBody::Referral(body));
    set_code(&mut e, s.code.as_ref());
    e.status = non_empty(s.status.as_deref());
    e.start = s
        .occurrence_date_time
        .or_else(|| start_of(s.occurrence_period.as_ref()))
        .or_else(|| s.authored_on.clone());
    e.end = end_of(s.occurrence_period.as_ref());
    e.recorded_at = s.authored_on;
    Ok(base.unit(subject, vec![e]))
}

/// One care-network entry per participant (the team itself when it lists none).
pub(super) fn care_team(t: CareTeam, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(t.subject.as_ref())?;
    let team = non_empty(t.name.as_deref());
    let organisation = t.managing_organization.iter().find_map(|o| o.label());
    let phone = telecom(&t.telecom, "phone");
    let email = telecom(&t.telecom, "email");
    let status = non_empty(t.status.as_deref());
    let mut entries = Vec::new();
    for (i, p) in t.participant.iter().enumerate() {
        let name = p.member.as_ref().and_then(|m| m.label());
        let role = first_label(&p.role);
        let body = CareNetworkMember {
            agency: p
                .on_behalf_of
                .as_ref()
                .and_then(|o| o.label())
                .or_else(|| organisation.clone()),
            team: team.clone(),
            role: role.clone(),
            name: name.clone(),
            phone: phone.clone(),
            email: email.clone(),
        };
        let title = match (&name, &role) {
            (Some(n), Some(r)) => Some(format!("{n} ({r})")),
            (n, r) => n.clone().or_else(|| r.clone()).or_else(|| team.clone()),
        };
        let mut e = base.draft(title, "Care team member", EntryBody::CareNetwork(body));
        let member_ref = p.member.as_ref().and_then(|m| m.reference.clone());
        e.source_ref = format!(
            "{}#{}",
            base.source_ref,
            member_ref.unwrap_or_else(|| format!("participant-{}", i + 1))
        );
        e.status = status.clone();
        let period = p.period.as_ref().or(t.period.as_ref());
        e.start = start_of(period);
        e.end = end_of(period);
        entries.push(e);
    }
    if entries.is_empty() {
        let body = CareNetworkMember {
            agency: organisation,
            team: team.clone(),
            phone,
            email,
            ..CareNetworkMember::default()
        };
        let mut e = base.draft(team, "Care team", EntryBody::CareNetwork(body));
        e.status = status;
        e.start = start_of(t.period.as_ref());
        e.end = end_of(t.period.as_ref());
        entries.push(e);
    }
    Ok(base.unit(subject, entries))
}
