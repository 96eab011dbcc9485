use super::*;
use crate::model::entry::{
    AdvanceDirective, Allergy, CareNetworkMember, Medication, MentalHealth, NextOfKin, Safeguarding,
};
use crate::model::SourceKind;
use crate::model::{Demographics, EntryDraft, Provenance};
use crate::record::SourcePersonView;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

/// An entry from `source` (`GP`, `PAS` or `MH`): ids are unique per test.
fn entry(id: i64, source: &str, title: &str, start: Option<&str>, body: EntryBody) -> StoredEntry {
    StoredEntry {
        id,
        version: 1,
        entry: EntryDraft {
            source_ref: format!("r{id}"),
            category: body.category(),
            code_system: None,
            code: None,
            title: title.into(),
            status: Some("active".into()),
            start: start.map(Into::into),
            end: None,
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body,
        },
        provenance: Provenance {
            source_code: source.into(),
            source_name: format!("{source} system"),
            organisation: match source {
                "GP" => "Orchard Surgery",
                "MH" => "Westshire Mental Health",
                _ => "Westshire General Hospital",
            }
            .into(),
            organisation_code: "X1".into(),
            format: "fhir".into(),
            file_name: None,
            message: None,
            received_at: "2026-11-01T09:00:00Z".into(),
            as_of: None,
        },
    }
}

fn source(code: &str, kind: SourceKind) -> SourcePersonView {
    SourcePersonView {
        source_person_id: 1,
        source_code: code.into(),
        source_name: format!("{code} system"),
        local_id: "L1".into(),
        demographics: Demographics::default(),
        link_kind: "exact".into(),
        updated_at: None,
        organisation_code: "X1".into(),
        source_kind: kind,
    }
}

fn record(entries: Vec<StoredEntry>) -> PersonRecord {
    PersonRecord {
        person_id: 7,
        demographics: Demographics::default(),
        sources: vec![
            source("GP", SourceKind::Gp),
            source("PAS", SourceKind::Acute),
            source("MH", SourceKind::MentalHealth),
        ],
        entries,
    }
}

fn allergy(id: i64, source: &str, title: &str, code: Option<&str>) -> StoredEntry {
    let mut e = entry(
        id,
        source,
        title,
        Some("2025-01-10"),
        EntryBody::Allergy(Allergy {
            substance: Some(title.into()),
            ..Default::default()
        }),
    );
    e.entry.code = code.map(Into::into);
    e
}

fn med(id: i64, source: &str, name: &str, dose: &str, start: &str) -> StoredEntry {
    entry(
        id,
        source,
        name,
        Some(start),
        EntryBody::Medication(Medication {
            name: Some(name.into()),
            dose: Some(dose.into()),
            kind: Some("statement".into()),
            ..Default::default()
        }),
    )
}

#[test]
fn regression_no_allergy_information_is_not_shown_as_no_known_allergies() {
    let s = Summary::build(&record(vec![]), today());
    assert_eq!(s.allergies.state, "none");
    assert_eq!(s.allergies.headline, "No allergy information");
    assert!(!s.allergies.headline.to_lowercase().contains("no known"));
}

#[test]
fn no_known_allergies_only_where_a_source_recorded_it() {
    let coded = allergy(
        1,
        "GP",
        "No known drug allergy (situation)",
        Some("409137002"),
    );
    let s = Summary::build(&record(vec![coded]), today());
    assert_eq!(s.allergies.state, "nkda");
    assert_eq!(s.allergies.headline, "No known allergies");
    assert_eq!(s.allergies.nkda_from, ["Orchard Surgery (10 Jan 2025)"]);
    assert!(s.allergies.items.is_empty());
    let typed = allergy(2, "PAS", "NKDA", None);
    assert_eq!(
        Summary::build(&record(vec![typed]), today())
            .allergies
            .state,
        "nkda"
    );
}

#[test]
fn regression_nkda_and_a_recorded_allergy_are_shown_as_a_conflict() {
    let s = Summary::build(
        &record(vec![
            allergy(1, "GP", "No known allergies", None),
            allergy(2, "PAS", "Penicillin", None),
        ]),
        today(),
    );
    assert_eq!(s.allergies.state, "conflict");
    assert!(
        s.allergies.headline.contains("conflict"),
        "{}",
        s.allergies.headline
    );
    assert!(s.allergies.headline.contains("Penicillin"));
    assert_eq!(s.allergies.items.len(), 1);
    assert_eq!(s.allergies.nkda_from.len(), 1);
}

#[test]
fn regression_the_same_drug_from_four_sources_is_one_line_with_each_sources_dose() {
    let s = Summary::build(
        &record(vec![
            med(1, "GP", "Sertraline 100mg tablets", "100mg", "2026-10-01"),
            med(2, "GP", "Sertraline 100mg tablets", "100mg", "2026-11-01"),
            med(3, "MH", "SERTRALINE", "150mg", "2026-09-15"),
            med(4, "PAS", "Sertraline 50 mg tablets", "50 mg", "2026-08-01"),
            med(
                5,
                "GP",
                "Amlodipine 5mg tablets",
                "One tablet once a day",
                "2026-01-01",
            ),
        ]),
        today(),
    );
    assert_eq!(s.medications.len(), 2, "one line per drug");
    let sertraline = &s.medications[0];
    assert_eq!(
        sertraline.name.to_lowercase().split(' ').next(),
        Some("sertraline")
    );
    assert_eq!(sertraline.sources.len(), 3, "one per source");
    let gp = sertraline
        .sources
        .iter()
        .find(|x| x.source.starts_with("Orchard Surgery (GP)"))
        .unwrap();
    assert_eq!(gp.records, 2);
    assert_eq!(gp.dated.as_deref(), Some("recorded 1 Nov 2026"));
    assert!(
        sertraline.dose_warning.is_some(),
        "GP, MH and hospital doses differ"
    );
    assert!(s.medications[1].dose_warning.is_none());
}

#[test]
fn the_same_dose_written_differently_is_not_a_difference() {
    let s = Summary::build(
        &record(vec![
            med(1, "GP", "Clozapine 100mg tablets", "100 mg", "2026-10-01"),
            med(2, "MH", "Clozapine", "100mg", "2026-10-02"),
        ]),
        today(),
    );
    assert_eq!(s.medications.len(), 1);
    assert!(s.medications[0].dose_warning.is_none());
}

#[test]
fn drug_names_reduce_to_the_drug() {
    assert_eq!(drug_key("Amlodipine 5mg tablets"), "amlodipine");
    assert_eq!(drug_key("Co-codamol 30mg/500mg tablets"), "co-codamol");
    assert_eq!(
        drug_key("Morphine sulfate 10mg/5ml oral solution"),
        "morphine sulfate"
    );
    assert_eq!(drug_key("SERTRALINE"), "sertraline");
}

fn directive(
    id: i64,
    kind: DirectiveKind,
    person: Option<&str>,
    review: Option<&str>,
) -> StoredEntry {
    entry(
        id,
        "GP",
        match kind {
            DirectiveKind::Dnacpr => "DNACPR decision",
            _ => "Lasting power of attorney (health and welfare)",
        },
        Some("2024-02-01"),
        EntryBody::AdvanceDirective(AdvanceDirective {
            kind,
            description: None,
            review_date: review.map(Into::into),
            responsible_person: person.map(Into::into),
            document_location: None,
        }),
    )
}

#[test]
fn regression_the_lpa_names_the_attorney_and_their_number() {
    let kin = entry(
        9,
        "GP",
        "Jean Clarke",
        None,
        EntryBody::NextOfKin(NextOfKin {
            name: Some("Mrs Jean CLARKE".into()),
            relationship: Some("Wife".into()),
            phone: Some("01632 960123".into()),
            ..Default::default()
        }),
    );
    let lpa = directive(
        1,
        DirectiveKind::LpaHealthWelfare,
        Some("Jean Clarke (attorney)"),
        None,
    );
    let s = Summary::build(&record(vec![lpa, kin]), today());
    let d = &s.directives[0];
    assert_eq!(d.person_label, "Attorney");
    assert_eq!(d.person.as_deref(), Some("Jean Clarke (attorney)"));
    assert_eq!(d.phone.as_deref(), Some("01632 960123"));
}

#[test]
fn regression_review_dates_passed_or_within_thirty_days_warn() {
    let s = Summary::build(
        &record(vec![
            directive(1, DirectiveKind::Dnacpr, None, Some("2026-11-30")),
            directive(2, DirectiveKind::Dnacpr, None, Some("2026-12-20")),
            directive(3, DirectiveKind::Dnacpr, None, Some("2027-06-01")),
        ]),
        today(),
    );
    let reviews: Vec<(&str, bool)> = s
        .directives
        .iter()
        .map(|d| {
            let r = d.review.as_ref().unwrap();
            (r.text.as_str(), r.warn)
        })
        .collect();
    assert_eq!(
        reviews,
        [
            ("Review date passed: 30 Nov 2026", true),
            ("Review due in 18 days (20 Dec 2026)", true),
            ("Review by 1 Jun 2027", false),
        ]
    );
}

#[test]
fn who_to_call_lists_next_of_kin_carers_and_lead_contacts() {
    let s = Summary::build(
        &record(vec![
            entry(
                1,
                "GP",
                "Susan Thompson",
                None,
                EntryBody::NextOfKin(NextOfKin {
                    name: Some("Susan Thompson".into()),
                    relationship: Some("Daughter".into()),
                    phone: Some("07700 900123".into()),
                    is_carer: true,
                    ..Default::default()
                }),
            ),
            entry(
                2,
                "MH",
                "Community mental health team",
                None,
                EntryBody::MentalHealth(MentalHealth {
                    team: Some("Ashcombe CMHT".into()),
                    care_coordinator: Some("Alex Reed".into()),
                    coordinator_contact: Some("01632 960555".into()),
                    ..Default::default()
                }),
            ),
            entry(
                3,
                "PAS",
                "District nurse",
                None,
                EntryBody::CareNetwork(CareNetworkMember {
                    role: Some("District nurse".into()),
                    name: Some("Pat Green".into()),
                    ..Default::default()
                }),
            ),
            entry(
                4,
                "GP",
                "Adult at risk",
                None,
                EntryBody::Safeguarding(Safeguarding {
                    contact: Some("Adult safeguarding team 01632 960999".into()),
                    ..Default::default()
                }),
            ),
        ]),
        today(),
    );
    let lines: Vec<String> = s
        .contacts
        .iter()
        .map(|c| format!("{}: {} {:?}", c.role, c.name, c.phone))
        .collect();
    assert_eq!(
        lines,
        [
            "Carer (daughter): Susan Thompson Some(\"07700 900123\")",
            "Care coordinator, Ashcombe CMHT: Alex Reed Some(\"01632 960555\")",
            "District nurse: Pat Green None",
        ]
    );
}
