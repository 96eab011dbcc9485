//! Tests for the FHIR export: a record with one entry of every category, checked for shape
//! here and, when the Python library is installed, validated by `tests/fhir_validate.py`.

use super::*;
use crate::model::entry::*;
use crate::model::person::Address;
use crate::model::{
    Category, EntryBody, EntryDraft, Identifier, Provenance, ReportedNhsNumber, Sex, StoredEntry,
};
use crate::record::SourcePersonView;
use serde_json::json;

fn stored(id: i64, title: &str, status: Option<String>, body: EntryBody) -> StoredEntry {
    StoredEntry {
        id,
        version: 2,
        entry: EntryDraft {
            source_ref: format!("REF-{id}"),
            category: body.category(),
            code_system: Some("SCT".into()),
            code: Some(format!("1000{id}")),
            title: title.into(),
            status,
            start: Some("2024-01-05T09:30:00+00:00".into()),
            end: None,
            recorded_at: Some("2024-01-05T10:00:00Z".into()),
            sensitive: false,
            not_for_patient: false,
            body,
        },
        provenance: Provenance {
            source_code: "MAID-ADT".into(),
            source_name: "Maidstone Hospital ADT".into(),
            organisation: "RWF".into(),
            organisation_code: "RWF".into(),
            format: "hl7v2".into(),
            file_name: Some("adt.hl7".into()),
            message: Some("20240105.1".into()),
            received_at: "2024-01-05T10:05:00Z".into(),
            as_of: None,
        },
    }
}

fn every_category() -> Vec<StoredEntry> {
    let s = |x: &str| Some(x.to_owned());
    vec![
        stored(
            1,
            "DNACPR decision",
            s("Active"),
            EntryBody::AdvanceDirective(AdvanceDirective {
                kind: DirectiveKind::Dnacpr,
                description: s("Not for CPR; discussed with family"),
                review_date: s("2024-07-01"),
                responsible_person: s("Dr A Consultant"),
                document_location: s("Patient's home, fridge"),
            }),
        ),
        stored(
            2,
            "Penicillin",
            s("active"),
            EntryBody::Allergy(Allergy {
                substance: s("Penicillin"),
                allergy_type: s("allergy"),
                reaction: s("Anaphylaxis"),
                severity: s("severe"),
                criticality: s("high"),
            }),
        ),
        stored(
            3,
            "Amoxicillin 500mg capsules",
            s("Current"),
            EntryBody::Medication(Medication {
                name: s("Amoxicillin 500mg capsules"),
                dose: s("500mg"),
                route: s("Oral"),
                frequency: s("three times a day"),
                quantity: s("21 capsules"),
                prescriber: s("Dr B GP"),
                kind: s("request"),
            }),
        ),
        stored(
            4,
            "Child protection plan",
            s("open"),
            EntryBody::Safeguarding(Safeguarding {
                alert_type: s("Child protection"),
                description: s("Subject to a child protection plan"),
                risk_level: s("high"),
                contact: s("Duty social worker 01622 000000"),
                recorded_by: s("Children's services, Maidstone"),
            }),
        ),
        stored(
            5,
            "COVID-19",
            s("final"),
            EntryBody::ConditionFlag(ConditionFlag {
                condition: "COVID-19".into(),
                state: FlagState::Positive,
                date: s("2024-01-03"),
                detail: s("SARS-CoV-2 RNA detected"),
            }),
        ),
        stored(
            6,
            "Type 2 diabetes",
            s("Active"),
            EntryBody::Problem(Problem {
                name: s("Type 2 diabetes"),
                kind: s("diagnosis"),
                clinical_status: s("active"),
                verification_status: s("confirmed"),
                severity: s("moderate"),
            }),
        ),
        stored(
            7,
            "Ward 7",
            None,
            EntryBody::Location(Location {
                kind: LocationKind::Inpatient,
                name: s("Maidstone Hospital"),
                ward: s("Ward 7"),
                bed: s("Bed 3"),
                organisation: s("Maidstone and Tunbridge Wells NHS Trust"),
                visit: None,
                temporarily_at: None,
            }),
        ),
        stored(
            8,
            "End of life plan",
            s("active"),
            EntryBody::CarePlan(CarePlan {
                kind: CarePlanKind::EndOfLife,
                description: s("Preferred place of death: home"),
                review_date: s("2024-03-01"),
                author: s("Community palliative care team"),
            }),
        ),
        stored(
            9,
            "Haemoglobin",
            s("F"),
            EntryBody::Result(LabResult {
                value: s("95"),
                numeric: Some(95.0),
                unit: s("g/L"),
                reference_range: s("115-165"),
                abnormal_flag: s("L"),
                report: s("FBC 24/0001"),
                specimen: s("Blood"),
                comment: s("Repeat in 2 weeks"),
                ..LabResult::default()
            }),
        ),
        stored(
            10,
            "A&E attendance",
            s("discharged"),
            EntryBody::Contact(Contact {
                kind: ContactKind::AandE,
                organisation: s("Maidstone Hospital"),
                site: s("Emergency Department"),
                ward: None,
                bed: None,
                specialty: s("Emergency medicine"),
                clinician: s("Dr C"),
                reason: s("Fall"),
                discharge_destination: s("Home"),
            }),
        ),
        stored(
            11,
            "Community mental health team",
            s("open"),
            EntryBody::MentalHealth(MentalHealth {
                team: s("CMHT West"),
                care_coordinator: s("Sam Jones"),
                coordinator_contact: s("01622 111111"),
                crisis_plan: s("Call crisis line"),
                legal_status: s("Informal"),
                cpa_level: s("CPA"),
            }),
        ),
        stored(
            12,
            "Package of care",
            s("active"),
            EntryBody::SocialCare(SocialCare {
                service: SocialCareService::Adults,
                kind: SocialCareKind::PackageOfCare,
                description: s("Four calls a day"),
                team: s("Locality team North"),
                named_worker: s("Pat Worker"),
                worker_contact: s("01622 222222"),
                legal_status: None,
                provider: s("Caring Hands Ltd"),
                hours_per_week: s("14"),
            }),
        ),
        stored(
            13,
            "Referral to falls clinic",
            s("sent"),
            EntryBody::Referral(Referral {
                to_service: s("Falls clinic"),
                to_organisation: s("Kent Community Health"),
                from_organisation: s("Maidstone Hospital"),
                reason: s("Recurrent falls"),
                priority: s("Urgent"),
            }),
        ),
        stored(
            14,
            "District nurse",
            None,
            EntryBody::CareNetwork(CareNetworkMember {
                agency: s("Kent Community Health"),
                team: s("District nursing"),
                role: s("District nurse"),
                name: s("Nurse D"),
                phone: s("01622 333333"),
                email: s("dn@example.nhs.uk"),
            }),
        ),
        stored(
            15,
            "Jo Smith",
            None,
            EntryBody::NextOfKin(NextOfKin {
                name: s("Jo Smith"),
                relationship: s("Daughter"),
                phone: s("07700 900000"),
                address: s("2 Low St, Maidstone, ME1 1AA"),
                is_carer: true,
            }),
        ),
        stored(
            16,
            "Influenza vaccine",
            None,
            EntryBody::Immunisation(Immunisation {
                vaccine: s("Influenza vaccine"),
                dose_number: s("1"),
                site: s("Left deltoid"),
                batch: s("AB123"),
                performer: s("Nurse E"),
            }),
        ),
        stored(
            17,
            "Appendicectomy",
            s("done"),
            EntryBody::Procedure(Procedure {
                name: s("Appendicectomy"),
                performer: s("Mr F"),
                body_site: s("Abdomen"),
                outcome: s("Successful"),
            }),
        ),
        stored(
            18,
            "Large dog at home",
            s("active"),
            EntryBody::Alert(Alert {
                kind: AlertKind::RiskToStaff,
                description: s("Ask for the dog to be shut away before visiting"),
                recorded_by: s("District nursing team"),
                contact: None,
            }),
        ),
    ]
}

fn record(entries: Vec<StoredEntry>) -> PersonRecord {
    let demographics = Demographics {
        nhs_number: Some(ReportedNhsNumber::classify("9434765919", Some(true))),
        identifiers: vec![
            Identifier {
                system: "https://trust.example.nhs.uk/mrn".into(),
                kind: Some("MR".into()),
                value: "RX123".into(),
            },
            Identifier {
                system: "Maidstone PAS".into(),
                kind: None,
                value: "M999".into(),
            },
        ],
        family: Some("Smith".into()),
        given: vec!["Ann".into()],
        title: Some("Mrs".into()),
        birth_date: chrono::NaiveDate::from_ymd_opt(1950, 4, 2),
        sex: Some(Sex::Female),
        address: Some(Address {
            lines: vec!["1 High St".into()],
            city: Some("Maidstone".into()),
            postcode: Some("ME1 1AA".into()),
        }),
        phone: Some("01622 000001".into()),
        email: Some("ann@example.org".into()),
        gp_practice: Some("G82001".into()),
        gp_practice_name: Some("High St Surgery".into()),
        gp_name: Some("Dr G".into()),
        ..Demographics::default()
    };
    PersonRecord {
        person_id: 42,
        demographics: demographics.clone(),
        sources: vec![SourcePersonView {
            source_person_id: 7,
            source_code: "MAID-ADT".into(),
            source_name: "Maidstone Hospital ADT".into(),
            local_id: "M999".into(),
            demographics,
            link_kind: "exact".into(),
            updated_at: None,
            organisation_code: "X1".into(),
            source_kind: crate::model::SourceKind::Gp,
        }],
        entries,
    }
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect()
}

#[test]
fn exports_a_collection_with_a_patient_and_one_resource_per_entry() {
    let entries = every_category();
    assert_eq!(
        entries.len(),
        Category::ALL.len(),
        "one entry of every category"
    );
    let b = bundle(&record(entries));
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "collection");
    let r = resources(&b);
    let kinds: Vec<&str> = r
        .iter()
        .map(|x| x["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Patient",
            "Consent",
            "AllergyIntolerance",
            "MedicationStatement",
            "Flag",
            "Flag",
            "Condition",
            "Flag",
            "CarePlan",
            "Observation",
            "Encounter",
            "EpisodeOfCare",
            "EpisodeOfCare",
            "ServiceRequest",
            "CareTeam",
            "RelatedPerson",
            "Immunization",
            "Procedure",
            "Flag"
        ]
    );

    let patient = r[0];
    assert_eq!(patient["id"], "person-42");
    assert_eq!(patient["identifier"][0]["system"], NHS_NUMBER_SYSTEM);
    assert_eq!(patient["identifier"][0]["value"], "9434765919");
    assert_eq!(
        patient["identifier"][2]["assigner"]["display"],
        "Maidstone PAS"
    );
    assert_eq!(patient["name"][0]["family"], "Smith");
    assert_eq!(patient["gender"], "female");
    assert_eq!(patient["birthDate"], "1950-04-02");
    assert_eq!(patient["address"][0]["postalCode"], "ME1 1AA");
    assert_eq!(
        patient["generalPractitioner"][0]["identifier"]["system"],
        ODS_SYSTEM
    );
    assert_eq!(
        patient["generalPractitioner"][0]["identifier"]["value"],
        "G82001"
    );

    let patient_url = b["entry"][0]["fullUrl"].as_str().unwrap();
    assert!(patient_url.starts_with("urn:uuid:"));
    for (entry, resource) in b["entry"].as_array().unwrap().iter().zip(&r).skip(1) {
        assert!(entry["fullUrl"].as_str().unwrap().starts_with("urn:uuid:"));
        let subject = ["subject", "patient"]
            .iter()
            .find_map(|k| resource.get(*k))
            .unwrap();
        assert_eq!(
            subject["reference"], patient_url,
            "{}",
            resource["resourceType"]
        );
        assert_eq!(resource["meta"]["source"], "urn:sharedcare:source:MAID-ADT");
        assert_eq!(
            resource["meta"]["tag"][0]["display"],
            "Maidstone Hospital ADT"
        );
    }
    let urls: std::collections::HashSet<&str> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), r.len(), "fullUrls are unique");

    assert_eq!(r[1]["status"], "active");
    assert_eq!(r[1]["category"][0]["coding"][0]["code"], "dnr");
    assert_eq!(r[2]["clinicalStatus"]["coding"][0]["code"], "active");
    assert_eq!(
        r[2]["code"]["coding"][0]["system"],
        "http://snomed.info/sct"
    );
    assert_eq!(r[3]["status"], "active");
    assert_eq!(r[4]["category"][0]["coding"][0]["code"], "safety");
    assert_eq!(r[5]["code"]["text"], "COVID-19 positive");
    assert_eq!(r[9]["status"], "final");
    assert_eq!(r[9]["valueQuantity"]["value"], 95.0);
    assert_eq!(r[9]["effectiveDateTime"], "2024-01-05T09:30:00+00:00");
    assert_eq!(r[10]["class"]["code"], "EMER");
    assert_eq!(r[10]["status"], "finished");
    assert_eq!(r[13]["priority"], "urgent");
    assert_eq!(r[16]["occurrenceDateTime"], "2024-01-05T09:30:00+00:00");
    assert_eq!(r[17]["status"], "completed");
}

#[test]
fn export_is_deterministic_and_withholds_unverified_nhs_numbers() {
    let mut rec = record(every_category());
    assert_eq!(bundle(&rec), bundle(&rec));
    rec.demographics.nhs_number = Some(ReportedNhsNumber::classify("9434765919", Some(false)));
    let b = bundle(&rec);
    let ids = b["entry"][0]["resource"]["identifier"].as_array().unwrap();
    assert!(ids.iter().all(|i| i["system"] != NHS_NUMBER_SYSTEM));
}

#[test]
fn awkward_values_become_valid_fhir_or_are_dropped() {
    let mut entries = every_category();
    for (i, e) in entries.iter_mut().enumerate() {
        let d = &mut e.entry;
        d.status = Some("Something odd".into());
        d.start =
            Some(["2024-01-05T09:30:00", "yesterday", "2024-02-30", "20240105"][i % 4].into());
        d.end = (i % 3 == 0).then(|| "2024-01-06".into());
        d.recorded_at = Some("2024-01-05 10:00".into());
        d.code_system = Some("Local lab codes".into());
        d.title = String::new();
        d.sensitive = i % 2 == 0;
    }
    entries[15].entry.start = Some("spring 2023".into());
    entries[15].entry.recorded_at = None;
    let mut rec = record(entries);
    rec.demographics.restricted = true;
    rec.demographics.deceased = true;
    let b = bundle(&rec);
    let text = b.to_string();
    assert!(
        !text.contains("yesterday\""),
        "an invalid date is not emitted as a date"
    );
    assert!(!text.contains("2024-02-30"));
    assert!(
        !text.contains("2024-01-05T09:30:00\""),
        "a time without an offset is cut to the date"
    );
    let r = resources(&b);
    assert_eq!(r[0]["meta"]["security"][0]["code"], "R");
    assert_eq!(r[0]["deceasedBoolean"], true);
    assert_eq!(r[1]["meta"]["security"][0]["code"], "R");
    assert_eq!(r[9]["status"], "unknown");
    assert_eq!(r[16]["status"], "completed");
    assert_eq!(
        r[16]["occurrenceString"], "spring 2023",
        "occurrence[x] is required"
    );
    validate_with_python(&b);
}

#[test]
fn every_category_validates_with_fhir_resources() {
    validate_with_python(&bundle(&record(every_category())));
}

#[test]
fn an_empty_record_still_gives_a_valid_bundle() {
    let rec = PersonRecord {
        person_id: 1,
        demographics: Demographics::default(),
        sources: vec![],
        entries: vec![],
    };
    let b = bundle(&rec);
    assert_eq!(resources(&b).len(), 1);
    validate_with_python(&b);
}

/// Pipes the Bundle to `tests/fhir_validate.py`; skipped when `fhir.resources` is missing
/// (the integration test makes it mandatory in CI).
fn validate_with_python(bundle: &Value) {
    if let Some((ok, text)) = run_validator(bundle) {
        assert!(
            ok,
            "FHIR validation failed:\n{text}\n{}",
            serde_json::to_string_pretty(bundle).unwrap()
        );
    }
}

/// (valid, output) from the validator, or `None` when it cannot run here.
fn run_validator(bundle: &Value) -> Option<(bool, String)> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let available = Command::new("python3")
        .args(["-c", "import fhir.resources"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        println!("skipped: python3 with fhir.resources is not installed");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fhir_validate.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bundle.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

#[test]
fn the_validator_itself_rejects_an_invalid_bundle() {
    let mut b = bundle(&record(every_category()));
    b["entry"][9]["resource"]["status"] = json!("bogus");
    b["entry"][10]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("class");
    let out = run_validator(&b);
    if let Some((ok, text)) = out {
        assert!(!ok, "an invalid Bundle passed:\n{text}");
        assert!(text.contains("status") && text.contains("class"), "{text}");
    }
}

#[test]
fn the_importer_reads_the_export_back() {
    let b = bundle(&record(every_category()));
    let parsed = crate::ingest::fhir::parse_file(b.to_string().as_bytes()).unwrap();
    let units: Vec<_> = parsed.units.iter().map(|u| u.as_ref().unwrap()).collect();
    assert_eq!(units.len(), b["entry"].as_array().unwrap().len());
    assert!(units.iter().all(|u| u.subject == "person-42"));
    let d = units[0].demographics.as_ref().unwrap();
    assert_eq!(d.nhs_number.as_ref().unwrap().trusted(), Some("9434765919"));
    assert_eq!(d.gp_practice.as_deref(), Some("G82001"));
}

/// Real-world text through both halves: every entry the importer reads from the UK Core
/// examples, exported as one record, must validate.
#[test]
fn entries_imported_from_the_uk_core_corpus_export_valid_fhir() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/fhir/ukcore-json"
    ));
    let Ok(listing) = std::fs::read_dir(dir) else {
        println!("skipped: corpus not present at {}", dir.display());
        return;
    };
    let mut entries = Vec::new();
    let mut paths: Vec<_> = listing.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Ok(parsed) = crate::ingest::fhir::parse_file(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        for unit in parsed.units.into_iter().flatten() {
            for draft in unit.entries {
                let mut s = stored(entries.len() as i64 + 1, "", None, draft.body.clone());
                s.entry = draft;
                entries.push(s);
            }
        }
    }
    assert!(entries.len() > 40, "{}", entries.len());
    validate_with_python(&bundle(&record(entries)));
}

/// Issue 11: a FHIR Flag ("large dog at home") was read as a problem and exported as a
/// Condition. It is an alert of its kind, and it goes out as a Flag again.
#[test]
fn regression_a_fhir_flag_imported_comes_back_as_a_flag() {
    let flag = serde_json::json!({
        "resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p1",
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}]}},
            {"fullUrl": "urn:uuid:f", "resource": {"resourceType": "Flag", "id": "f1", "status": "active",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "safety"}]}],
                "code": {"text": "Large dog at home"},
                "subject": {"reference": "urn:uuid:p"},
                "period": {"start": "2024-03-01"},
                "author": {"display": "District nursing team"}}}
        ]
    });
    let imported = |bundle: &Value| -> Vec<crate::model::EntryDraft> {
        let parsed = crate::ingest::fhir::parse_file(bundle.to_string().as_bytes()).unwrap();
        parsed
            .units
            .into_iter()
            .flatten()
            .flat_map(|u| u.entries)
            .collect()
    };
    let drafts = imported(&flag);
    assert_eq!(drafts.len(), 1);
    let EntryBody::Alert(a) = &drafts[0].body else {
        panic!("not an alert: {:?}", drafts[0].body)
    };
    assert_eq!(a.kind, AlertKind::RiskToStaff);
    assert_eq!(a.recorded_by.as_deref(), Some("District nursing team"));
    let mut s = stored(1, "", None, drafts[0].body.clone());
    s.entry = drafts[0].clone();
    let out = bundle(&record(vec![s]));
    let r = resources(&out);
    assert_eq!(r[1]["resourceType"], "Flag");
    assert_eq!(r[1]["code"]["text"], "Large dog at home");
    assert_eq!(r[1]["category"][0]["text"], "Risk to staff");
    assert_eq!(r[1]["author"]["display"], "District nursing team");
    assert_eq!(r[1]["period"]["start"], "2024-03-01");
    validate_with_python(&out);
    // And read back once more, it is the same alert.
    let again = imported(&out);
    let EntryBody::Alert(b) = &again[0].body else {
        panic!("not an alert on re-import")
    };
    assert_eq!(b.kind, AlertKind::RiskToStaff);
}

/// Issue 11: every resource claims its UK Core profile, and still validates.
#[test]
fn every_resource_claims_its_uk_core_profile() {
    let b = bundle(&record(every_category()));
    for r in resources(&b) {
        let kind = r["resourceType"].as_str().unwrap();
        assert_eq!(
            r["meta"]["profile"][0],
            format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{kind}"),
            "{kind}"
        );
    }
    validate_with_python(&b);
}

/// An alert exported and imported again is the same alert: kind, description, who recorded it
/// and who to call.
#[test]
fn an_exported_alert_reads_back_the_same() {
    let mut alert = every_category().pop().unwrap();
    if let EntryBody::Alert(a) = &mut alert.entry.body {
        a.contact = Some("District nursing hub 01632 960300".into());
    }
    let out = bundle(&record(vec![alert.clone()]));
    let parsed = crate::ingest::fhir::parse_file(out.to_string().as_bytes()).unwrap();
    let drafts: Vec<EntryDraft> = parsed
        .units
        .into_iter()
        .flatten()
        .flat_map(|u| u.entries)
        .collect();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].body, alert.entry.body);
    assert_eq!(drafts[0].title, "Large dog at home");
}
