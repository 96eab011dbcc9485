use super::*;
use crate::model::entry::{
    AdvanceDirective, Allergy, ConditionFlag, DirectiveKind, FlagState, Location, LocationKind,
};
use crate::model::{EntryDraft, Provenance};
use crate::record::SourcePersonView;

pub(super) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(super) fn entry(
    id: i64,
    title: &str,
    status: Option<&str>,
    start: Option<&str>,
    body: EntryBody,
) -> StoredEntry {
    StoredEntry {
        id,
        version: 1,
        entry: EntryDraft {
            source_ref: format!("r{id}"),
            category: body.category(),
            code_system: None,
            code: None,
            title: title.into(),
            status: status.map(Into::into),
            start: start.map(Into::into),
            end: None,
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body,
        },
        provenance: Provenance {
            source_code: if id % 2 == 0 { "GP" } else { "PAS" }.into(),
            source_name: "A system".into(),
            organisation: "An organisation".into(),
            organisation_code: "X1".into(),
            format: "fhir".into(),
            file_name: None,
            message: None,
            received_at: "2024-03-01T09:00:00Z".into(),
            as_of: None,
        },
    }
}

pub(super) fn record(entries: Vec<StoredEntry>) -> PersonRecord {
    PersonRecord {
        person_id: 7,
        demographics: Demographics {
            given: vec!["MARGARET".into(), "ELLEN".into()],
            family: Some("Thompson".into()),
            birth_date: Some(day(1938, 3, 14)),
            ..Default::default()
        },
        sources: vec![SourcePersonView {
            source_person_id: 1,
            source_code: "GP".into(),
            source_name: "Orchard Surgery GP system".into(),
            local_id: "1".into(),
            demographics: Demographics::default(),
            link_kind: "exact".into(),
            updated_at: None,
            organisation_code: "X1".into(),
            source_kind: crate::model::SourceKind::Gp,
        }],
        entries,
    }
}

#[test]
fn times_read_as_people_write_them() {
    assert_eq!(when_text("2024-02-03T11:05"), "3 Feb 2024 11:05 GMT");
    assert_eq!(when_text("2024-02-03T11:05:00Z"), "3 Feb 2024 11:05 GMT");
    assert_eq!(when_text("2024-02-03"), "3 Feb 2024");
    assert_eq!(when_text("2024-02"), "Feb 2024");
    assert_eq!(when_text("2024"), "2024");
    assert_eq!(when_text("soon"), "soon");
    assert_eq!(when_text("2024-13-40"), "2024-13-40");
}

#[test]
fn ages_in_years_months_and_at_death() {
    let mut d = Demographics {
        birth_date: Some(day(1938, 3, 14)),
        ..Default::default()
    };
    assert_eq!(age(&d, day(2024, 3, 13)), "85 years");
    assert_eq!(age(&d, day(2024, 3, 14)), "86 years");
    d.death_date = Some(day(2020, 1, 1));
    assert_eq!(age(&d, day(2024, 3, 14)), "died aged 81 years");
    let baby = Demographics {
        birth_date: Some(day(2024, 1, 20)),
        ..Default::default()
    };
    assert_eq!(age(&baby, day(2024, 3, 19)), "1 months");
    assert_eq!(
        age(&Demographics::default(), day(2024, 1, 1)),
        "age not known"
    );
}

#[test]
fn banner_flags_and_sections() {
    let r = record(vec![
        entry(
            1,
            "DNACPR decision",
            Some("active"),
            Some("2023-11-20"),
            EntryBody::AdvanceDirective(AdvanceDirective {
                kind: DirectiveKind::Dnacpr,
                description: None,
                review_date: None,
                responsible_person: None,
                document_location: None,
            }),
        ),
        entry(
            2,
            "Penicillin",
            Some("active"),
            None,
            EntryBody::Allergy(Allergy::default()),
        ),
        entry(
            3,
            "PENICILLIN",
            None,
            None,
            EntryBody::Allergy(Allergy {
                reaction: Some("Rash".into()),
                ..Default::default()
            }),
        ),
        entry(
            4,
            "Latex",
            Some("resolved"),
            None,
            EntryBody::Allergy(Allergy::default()),
        ),
        entry(
            5,
            "COVID-19 PCR",
            None,
            Some("2024-01-02"),
            EntryBody::ConditionFlag(ConditionFlag {
                condition: "COVID-19".into(),
                state: FlagState::Positive,
                date: Some("2024-01-02".into()),
                detail: None,
            }),
        ),
        entry(
            6,
            "COVID-19 PCR",
            None,
            Some("2024-02-14"),
            EntryBody::ConditionFlag(ConditionFlag {
                condition: "COVID-19".into(),
                state: FlagState::Negative,
                date: Some("2024-02-14".into()),
                detail: None,
            }),
        ),
        entry(
            7,
            "Ward 12",
            None,
            Some("2024-02-03T10:00"),
            EntryBody::Location(Location {
                kind: LocationKind::Inpatient,
                name: None,
                ward: None,
                bed: Some("Bed 4".into()),
                organisation: None,
                visit: None,
                temporarily_at: None,
            }),
        ),
    ]);
    let fresh = Freshness::new(
        &[
            ("GP".into(), Some("2024-03-10T00:00:00Z".into())),
            ("PAS".into(), Some("2024-02-01T00:00:00Z".into())),
        ],
        "2024-03-12T00:00:00Z".parse().unwrap(),
    );
    let v = RecordView::build(&r, day(2024, 3, 12), &fresh, &[3]);
    assert_eq!(v.banner.name, "Margaret Ellen THOMPSON");
    assert_eq!(v.banner.age, "85 years");
    let flags: Vec<(&str, &str)> = v
        .banner
        .flags
        .iter()
        .map(|f| (f.kind, f.text.as_str()))
        .collect();
    assert_eq!(
        flags,
        vec![
            ("dnacpr", "DNACPR: do not attempt CPR (20 Nov 2023)"),
            ("allergy", "Allergies: Penicillin"),
            // The negative test of 14 Feb is four weeks old by 12 Mar: no longer a banner flag.
        ]
    );
    assert_eq!(
        v.banner.location.as_deref(),
        Some("Ward 12, Bed 4 (since 3 Feb 2024 10:00 GMT)")
    );
    assert_eq!(v.sections.len(), Category::ALL.len());
    let allergies = &v.sections[1];
    assert_eq!(allergies.category, "allergy");
    // The search match comes first; odd ids come from the stale feed.
    assert_eq!(
        allergies.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![3, 2, 4]
    );
    assert!(allergies.items[0].found && allergies.items[0].stale);
    assert!(!allergies.items[1].stale);
    let empty = v
        .sections
        .iter()
        .find(|s| s.category == "procedure")
        .unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(
        empty.none_note,
        "None recorded by Orchard Surgery GP system."
    );
    assert_eq!(
        v.stale_sources,
        Vec::<String>::new(),
        "only linked sources are named"
    );
}

#[test]
fn no_allergies_and_death_are_flagged() {
    let mut r = record(Vec::new());
    r.demographics.deceased = true;
    r.demographics.death_date = Some(day(2024, 3, 12));
    let v = RecordView::build(&r, day(2024, 3, 20), &Freshness::new(&[], Utc::now()), &[]);
    let kinds: Vec<&str> = v.banner.flags.iter().map(|f| f.kind).collect();
    // No source sent allergy information: that is not "no known allergies".
    assert_eq!(kinds, vec!["deceased", "allergy-unknown"]);
    assert_eq!(v.banner.flags[1].text, "No allergy information");
    assert_eq!(v.banner.flags[0].text, "Deceased 12 Mar 2024");
    assert_eq!(v.banner.age, "died aged 85 years");
}

#[test]
fn details_skip_the_type_tag_and_read_in_clinical_order() {
    let d = details(&EntryBody::Allergy(Allergy {
        substance: Some("Penicillin".into()),
        severity: Some("severe".into()),
        ..Default::default()
    }));
    let shown: Vec<(String, String)> = d.into_iter().map(|d| (d.label, d.value)).collect();
    assert_eq!(
        shown,
        vec![
            ("Substance".to_owned(), "Penicillin".to_owned()),
            ("Severity".to_owned(), "severe".to_owned())
        ]
    );
}

fn location(id: i64, title: &str, start: &str, kind: LocationKind) -> StoredEntry {
    entry(
        id,
        title,
        None,
        Some(start),
        EntryBody::Location(Location {
            kind,
            name: None,
            ward: None,
            bed: None,
            organisation: None,
            visit: None,
            temporarily_at: None,
        }),
    )
}

#[test]
fn regression_a_location_sent_after_a_death_does_not_bring_the_person_back() {
    let r = record(vec![
        location(1, "Ward 12", "2024-02-01T10:00", LocationKind::Inpatient),
        location(2, "Deceased", "2024-02-03T04:10", LocationKind::Deceased),
        // A community feed that has not heard of the death still books a visit at home.
        location(3, "Home", "2024-02-05T09:00", LocationKind::Home),
    ]);
    let fresh = Freshness::new(&[], "2024-03-12T00:00:00Z".parse().unwrap());
    let v = RecordView::build(&r, day(2024, 3, 12), &fresh, &[]);
    assert_eq!(
        v.banner.location.as_deref(),
        Some("Deceased (3 Feb 2024 04:10 GMT)")
    );
    // A death entered in error and cancelled is not one.
    let mut cancelled = location(2, "Deceased", "2024-02-03T04:10", LocationKind::Deceased);
    cancelled.entry.status = Some("cancelled".into());
    let r = record(vec![
        location(1, "Ward 12", "2024-02-01T10:00", LocationKind::Inpatient),
        cancelled,
        location(3, "Home", "2024-02-05T09:00", LocationKind::Home),
    ]);
    let v = RecordView::build(&r, day(2024, 3, 12), &fresh, &[]);
    assert_eq!(
        v.banner.location.as_deref(),
        Some("Home (since 5 Feb 2024 09:00 GMT)")
    );
}
