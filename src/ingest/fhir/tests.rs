//! Tests for the FHIR importer: synthetic resources written here, plus the UK Core and PDS
//! sandbox examples from the shared corpus when it is present.

use super::*;
use crate::ingest::Unit;
use crate::model::entry::{CarePlanKind, ContactKind, DirectiveKind, FlagState};
use crate::model::{Category, EntryBody, NhsNumberStatus};
use serde_json::json;
use std::time::{Duration, Instant};

fn parse(v: Value) -> ParsedFile {
    parse_file(&serde_json::to_vec(&v).unwrap()).unwrap()
}

fn extracts(p: &ParsedFile) -> Vec<&Extract> {
    p.units.iter().filter_map(|u| u.as_ref().ok()).collect()
}

fn rejects(p: &ParsedFile) -> Vec<&Reject> {
    p.units.iter().filter_map(|u| u.as_ref().err()).collect()
}

fn bundle(entries: Vec<Value>) -> Value {
    json!({
        "resourceType": "Bundle", "type": "collection", "timestamp": "2024-03-05T10:00:00Z",
        "entry": entries
    })
}

fn entry(full_url: &str, resource: Value) -> Value {
    json!({"fullUrl": full_url, "resource": resource})
}

fn patient() -> Value {
    json!({
        "resourceType": "Patient", "id": "p1",
        "meta": {"lastUpdated": "2024-03-01T09:00:00Z"},
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919",
             "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                 "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", "code": "01"}]}}]},
            {"system": "https://trust.example.nhs.uk/mrn", "type": {"coding": [{"code": "MR"}]}, "value": "RX123"}
        ],
        "name": [{"use": "old", "family": "Jones", "given": ["Ann"]},
                 {"use": "official", "family": "Smith", "given": ["Ann", "Marie"], "prefix": ["Mrs"]}],
        "gender": "female", "birthDate": "1950-04-02",
        "address": [{"use": "home", "line": ["1 High St"], "city": "Leeds", "postalCode": "ls17df"}],
        "telecom": [{"system": "phone", "value": "0113 000 0000"}, {"system": "email", "value": "a@example.org"}],
        "generalPractitioner": [{"type": "Organization", "display": "High St Surgery",
            "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B82001"}}],
        "contact": [{"relationship": [{"text": "Daughter"}], "name": {"family": "Smith", "given": ["Jo"]},
                     "telecom": [{"system": "phone", "value": "07700 900000"}]}]
    })
}

#[test]
fn reads_a_uk_core_patient() {
    let p = parse(patient());
    let x = extracts(&p);
    assert_eq!(x.len(), 1);
    let x = x[0];
    assert_eq!(x.subject, "p1");
    assert_eq!(x.position, "resource (Patient/p1)");
    assert_eq!(x.event_time.as_deref(), Some("2024-03-01T09:00:00Z"));
    let d = x.demographics.as_ref().unwrap();
    let nhs = d.nhs_number.as_ref().unwrap();
    assert_eq!(nhs.value, "9434765919");
    assert_eq!(nhs.status, NhsNumberStatus::Verified);
    assert_eq!(d.family.as_deref(), Some("Smith"));
    assert_eq!(d.given, vec!["Ann", "Marie"]);
    assert_eq!(d.title.as_deref(), Some("Mrs"));
    assert_eq!(d.birth_date.unwrap().to_string(), "1950-04-02");
    assert_eq!(d.postcode(), Some("LS1 7DF"));
    assert_eq!(d.phone.as_deref(), Some("0113 000 0000"));
    assert_eq!(d.email.as_deref(), Some("a@example.org"));
    assert_eq!(d.gp_practice.as_deref(), Some("B82001"));
    assert_eq!(d.gp_practice_name.as_deref(), Some("High St Surgery"));
    assert_eq!(d.identifiers.len(), 1);
    assert_eq!(d.identifiers[0].kind.as_deref(), Some("MR"));
    assert!(!d.restricted && !d.deceased);
    assert_eq!(x.entries.len(), 1, "Patient.contact becomes next of kin");
    assert_eq!(x.entries[0].category, Category::NextOfKin);
    assert_eq!(x.entries[0].source_ref, "Patient/p1#contact-1");
}

#[test]
fn verification_status_other_than_01_is_unverified_and_absent_is_trusted() {
    let mut p = patient();
    p["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = json!("02");
    let d = parse(p).units.remove(0).unwrap().demographics.unwrap();
    assert_eq!(d.nhs_number.unwrap().status, NhsNumberStatus::Unverified);

    let mut p = patient();
    p["identifier"][0]["extension"] = json!([]);
    let d = parse(p).units.remove(0).unwrap().demographics.unwrap();
    assert_eq!(d.nhs_number.unwrap().status, NhsNumberStatus::Verified);

    let mut p = patient();
    p["identifier"][0]["value"] = json!("9434765918");
    let d = parse(p).units.remove(0).unwrap().demographics.unwrap();
    assert_eq!(d.nhs_number.unwrap().status, NhsNumberStatus::Invalid);
}

#[test]
fn restricted_patient_and_deceased() {
    let mut p = patient();
    p["meta"]["security"] = json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]);
    p["deceasedDateTime"] = json!("2024-01-02T03:04:05+00:00");
    let x = parse(p).units.remove(0).unwrap();
    let d = x.demographics.unwrap();
    assert!(d.restricted && d.deceased);
    assert_eq!(d.death_date.unwrap().to_string(), "2024-01-02");
    assert!(
        x.entries[0].sensitive,
        "an S-flagged patient's contacts are withheld"
    );
}

fn observation(id: &str, subject: Value) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Haemoglobin"}]},
        "subject": subject, "effectiveDateTime": "2024-03-04T08:00:00Z",
        "valueQuantity": {"value": 95, "unit": "g/L"},
        "referenceRange": [{"low": {"value": 115, "unit": "g/L"}, "high": {"value": 165, "unit": "g/L"}}],
        "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "L"}]}]
    })
}

#[test]
fn bundle_resolves_subjects_every_way() {
    let b = bundle(vec![
        entry("urn:uuid:aaaa", patient()),
        entry(
            "urn:uuid:o1",
            observation("o1", json!({"reference": "urn:uuid:aaaa"})),
        ),
        entry(
            "urn:uuid:o2",
            observation("o2", json!({"reference": "Patient/p9"})),
        ),
        entry(
            "urn:uuid:o3",
            observation(
                "o3",
                json!({"reference": "https://x.example/fhir/Patient/p8/_history/2"}),
            ),
        ),
        entry(
            "urn:uuid:o4",
            observation(
                "o4",
                json!({"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "943 476 5919"}}),
            ),
        ),
        entry(
            "urn:uuid:o5",
            observation("o5", json!({"reference": "urn:uuid:nobody"})),
        ),
        entry(
            "urn:uuid:o6",
            json!({"resourceType": "Observation", "id": "o6", "status": "final", "code": {"text": "x"}}),
        ),
    ]);
    let p = parse(b);
    let subjects: Vec<&str> = extracts(&p).iter().map(|x| x.subject.as_str()).collect();
    assert_eq!(subjects, ["p1", "p1", "p9", "p8", "NHS:9434765919"]);
    let r = rejects(&p);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].position, "entry 6 (Observation/o5)");
    assert!(
        r[0].reason.contains("not a Patient in this file"),
        "{}",
        r[0].reason
    );
    assert!(r[1].reason.contains("names no patient"), "{}", r[1].reason);
    // the Bundle's timestamp stands in for a missing meta.lastUpdated
    assert_eq!(
        extracts(&p)[1].event_time.as_deref(),
        Some("2024-03-05T10:00:00Z")
    );
    let hb = &extracts(&p)[1].entries[0];
    assert_eq!(hb.title, "Haemoglobin");
    assert_eq!(hb.code.as_deref(), Some("718-7"));
    let EntryBody::Result(r) = &hb.body else {
        panic!("not a result")
    };
    assert_eq!(r.numeric, Some(95.0));
    assert_eq!(r.unit.as_deref(), Some("g/L"));
    assert_eq!(r.reference_range.as_deref(), Some("115-165 g/L"));
    assert_eq!(r.abnormal_flag.as_deref(), Some("L"));
}

#[test]
fn one_broken_resource_does_not_stop_the_bundle() {
    let mut broken = observation("bad", json!({"reference": "Patient/p1"}));
    broken["code"] = json!("Smith");
    let b = bundle(vec![
        entry("urn:uuid:aaaa", patient()),
        entry("urn:uuid:bad", broken),
        entry(
            "urn:uuid:o2",
            observation("o2", json!({"reference": "Patient/p1"})),
        ),
        json!({"fullUrl": "urn:uuid:org", "resource": {"resourceType": "Organization", "id": "org"}}),
        json!({"request": {"method": "DELETE", "url": "Patient/old"}}),
    ]);
    let p = parse(b);
    assert_eq!(extracts(&p).len(), 2);
    let r = rejects(&p);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].position, "entry 2 (Observation/bad)");
    assert!(
        !r[0].reason.contains("Smith"),
        "reasons carry no patient data: {}",
        r[0].reason
    );
    assert!(
        r[0].reason
            .starts_with("Observation: a field has the wrong shape"),
        "{}",
        r[0].reason
    );
    assert_eq!(p.skipped.get("Organization"), Some(&1));
    assert_eq!(p.skipped.get("Bundle entry without a resource"), Some(&1));
    let replay = parse_file(&r[0].raw).unwrap();
    assert_eq!(
        rejects(&replay).len(),
        1,
        "raw is the resource itself, replayable alone"
    );
}

#[test]
fn deep_nesting_is_refused_fast_without_recursing() {
    let mut deep = Vec::with_capacity(200_002);
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    deep.extend(std::iter::repeat_n(b']', 100_000));
    let started = Instant::now();
    let err = parse_file(&deep).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        err.to_string().contains("nested more than 64 levels"),
        "{err}"
    );
    // brackets inside strings do not count
    let mut fine = patient();
    fine["id"] = json!("[[[[{{{{".repeat(40));
    assert!(parse_file(&serde_json::to_vec(&fine).unwrap()).is_ok());
}

#[test]
fn truncated_and_mangled_input_never_panics() {
    let text = serde_json::to_string(&bundle(vec![
        entry("urn:uuid:aaaa", patient()),
        entry(
            "urn:uuid:o1",
            observation("o1", json!({"reference": "urn:uuid:aaaa"})),
        ),
    ]))
    .unwrap();
    let bytes = text.as_bytes();
    for cut in (0..bytes.len()).step_by(3) {
        let _ = parse_file(&bytes[..cut]);
        let mut mangled = bytes.to_vec();
        let noise = b"{}[]\",:0\xff";
        mangled[cut] = noise[cut % noise.len()];
        let _ = parse_file(&mangled);
    }
    // every string swapped for a number, every array for an object: rejects, not panics
    let swapped = text
        .replace("\"final\"", "7")
        .replace('[', "{\"x\":[")
        .replace(']', "]}");
    let _ = parse_file(swapped.as_bytes());
}

#[test]
fn not_json_not_fhir_and_empty_are_clear_file_errors() {
    let msg = |b: &[u8]| parse_file(b).unwrap_err().to_string();
    assert!(msg(b"MSH|^~\\&|").contains("not JSON"));
    assert!(msg(br#"{"name": "x"}"#).contains("no resourceType"));
    assert!(msg(b"[1, 2]").contains("not an object"));
    assert_eq!(parse_file(b"  \n").unwrap_err(), FileError::Empty);
}

#[test]
fn resource_types_map_to_categories() {
    let s = json!({"reference": "Patient/p1"});
    let resources = vec![
        json!({"resourceType": "AllergyIntolerance", "id": "a", "patient": s,
            "clinicalStatus": {"coding": [{"code": "active"}]}, "code": {"text": "Penicillin"},
            "reaction": [{"manifestation": [{"text": "Rash"}], "severity": "moderate"}]}),
        json!({"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order", "subject": s,
            "medicationReference": {"reference": "urn:uuid:med"},
            "dosageInstruction": [{"text": "One tablet twice a day"}]}),
        json!({"resourceType": "Condition", "id": "c", "subject": s, "code": {"text": "Asthma"},
            "category": [{"coding": [{"code": "problem-list-item"}]}], "clinicalStatus": {"coding": [{"code": "active"}]}}),
        json!({"resourceType": "Encounter", "id": "e", "status": "finished", "subject": s,
            "class": {"code": "EMER"}, "period": {"start": "2024-01-01T10:00:00Z"},
            "location": [{"location": {"display": "Ward 7"}, "physicalType": {"coding": [{"code": "wa"}]}}]}),
        json!({"resourceType": "Flag", "id": "f1", "status": "active", "subject": s, "code": {"text": "Child protection plan in place"}}),
        json!({"resourceType": "Flag", "id": "f2", "status": "active", "subject": s, "code": {"text": "COVID-19 positive"}}),
        json!({"resourceType": "Flag", "id": "f3", "status": "active", "subject": s, "code": {"text": "Hearing impaired"}}),
        json!({"resourceType": "CarePlan", "id": "cp", "status": "active", "intent": "plan", "subject": s, "title": "End of life care plan"}),
        json!({"resourceType": "Consent", "id": "d", "status": "active", "patient": s,
            "scope": {"coding": [{"code": "adr"}]}, "category": [{"text": "DNACPR"}]}),
        json!({"resourceType": "Consent", "id": "lpa", "status": "active", "patient": s,
            "category": [{"text": "Lasting power of attorney for property and financial affairs"}]}),
        json!({"resourceType": "Consent", "id": "other", "status": "active", "patient": s,
            "scope": {"coding": [{"code": "patient-privacy"}]}, "category": [{"text": "Information sharing"}]}),
        json!({"resourceType": "EpisodeOfCare", "id": "ep1", "status": "active", "patient": s, "type": [{"text": "Children's social care"}]}),
        json!({"resourceType": "EpisodeOfCare", "id": "ep2", "status": "active", "patient": s, "type": [{"text": "Community mental health team"}],
            "careManager": {"display": "Sam Coordinator"}}),
        json!({"resourceType": "ServiceRequest", "id": "sr", "status": "active", "intent": "order", "subject": s,
            "code": {"text": "Physiotherapy"}, "priority": "urgent"}),
        json!({"resourceType": "CareTeam", "id": "ct", "subject": s, "name": "District nurses",
            "participant": [{"member": {"display": "Nurse A"}, "role": [{"text": "Nurse"}]}, {"member": {"display": "Dr B"}}]}),
        json!({"resourceType": "Immunization", "id": "i", "status": "completed", "patient": s,
            "vaccineCode": {"text": "Influenza"}, "occurrenceDateTime": "2023-10-01", "lotNumber": "AB1"}),
        json!({"resourceType": "Procedure", "id": "pr", "status": "completed", "subject": s, "code": {"text": "Appendicectomy"}}),
        json!({"resourceType": "RelatedPerson", "id": "rp", "patient": s, "relationship": [{"text": "Carer"}],
            "name": [{"given": ["Kim"], "family": "Lee"}]}),
        json!({"resourceType": "Observation", "id": "cov", "status": "final", "subject": s,
            "code": {"coding": [{"system": "http://loinc.org", "code": "94500-6"}]}, "valueCodeableConcept": {"text": "Not detected"}}),
        json!({"resourceType": "DiagnosticReport", "id": "rep", "status": "final", "subject": s, "code": {"text": "FBC"},
            "result": [{"reference": "Observation/cov"}], "conclusion": "Normal"}),
        json!({"resourceType": "Medication", "id": "med", "code": {"text": "Amoxicillin 500mg capsules"}}),
    ];
    let mut entries: Vec<Value> = resources
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    entries[1]["fullUrl"] = json!("urn:uuid:m");
    entries[20]["fullUrl"] = json!("urn:uuid:med");
    let p = parse(bundle(entries));
    assert!(rejects(&p).is_empty(), "{:?}", rejects(&p));
    assert_eq!(
        p.skipped.get("Consent (not an advance directive)"),
        Some(&1)
    );
    assert_eq!(p.skipped.get("Medication"), Some(&1));
    let all: Vec<&crate::model::EntryDraft> =
        extracts(&p).iter().flat_map(|x| &x.entries).collect();
    let cats: Vec<Category> = all.iter().map(|e| e.category).collect();
    use Category::*;
    assert_eq!(
        cats,
        [
            Allergy,
            Medication,
            Problem,
            Contact,
            Safeguarding,
            ConditionFlag,
            Alert,
            CarePlan,
            AdvanceDirective,
            AdvanceDirective,
            SocialCare,
            MentalHealth,
            Referral,
            CareNetwork,
            CareNetwork,
            Immunisation,
            Procedure,
            NextOfKin,
            Result,
            ConditionFlag,
            Result
        ]
    );
    assert_eq!(
        all[1].title, "Amoxicillin 500mg capsules",
        "medication named through the Bundle"
    );
    let EntryBody::Contact(c) = &all[3].body else {
        panic!()
    };
    assert_eq!(
        (c.kind, c.ward.as_deref()),
        (ContactKind::AandE, Some("Ward 7"))
    );
    let EntryBody::ConditionFlag(f) = &all[5].body else {
        panic!()
    };
    assert_eq!(f.state, FlagState::Positive);
    let EntryBody::Alert(f) = &all[6].body else {
        panic!()
    };
    assert_eq!(
        f.kind,
        crate::model::entry::AlertKind::Clinical,
        "hearing impaired is a clinical alert, not a problem"
    );
    let EntryBody::CarePlan(cp) = &all[7].body else {
        panic!()
    };
    assert_eq!(cp.kind, CarePlanKind::EndOfLife);
    let EntryBody::AdvanceDirective(d) = &all[8].body else {
        panic!()
    };
    assert_eq!(d.kind, DirectiveKind::Dnacpr);
    let EntryBody::AdvanceDirective(d) = &all[9].body else {
        panic!()
    };
    assert_eq!(d.kind, DirectiveKind::LpaPropertyFinance);
    assert_eq!(all[13].source_ref, "CareTeam/ct#participant-1");
    assert_eq!(all[13].title, "Nurse A (Nurse)");
    let EntryBody::NextOfKin(n) = &all[17].body else {
        panic!()
    };
    assert!(n.is_carer);
    let EntryBody::Result(r) = &all[18].body else {
        panic!()
    };
    assert_eq!(r.report.as_deref(), Some("DiagnosticReport/rep"));
    let EntryBody::ConditionFlag(f) = &all[19].body else {
        panic!()
    };
    assert_eq!(
        (f.condition.as_str(), f.state),
        ("COVID-19", FlagState::Negative)
    );
    assert_eq!(all[19].source_ref, "Observation/cov#covid-19");
}

#[test]
fn sensitive_security_labels_mark_entries() {
    let mut o = observation("o", json!({"reference": "Patient/p1"}));
    o["meta"] = json!({"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]});
    let x = parse(o).units.remove(0).unwrap();
    assert!(x.entries[0].sensitive);
    let x = parse(observation("o", json!({"reference": "Patient/p1"})))
        .units
        .remove(0)
        .unwrap();
    assert!(!x.entries[0].sensitive);
}

#[test]
fn a_resource_without_an_id_gets_a_stable_reference() {
    let mut o = observation("x", json!({"reference": "Patient/p1"}));
    o.as_object_mut().unwrap().remove("id");
    let a = parse(o.clone()).units.remove(0).unwrap();
    let b = parse(o).units.remove(0).unwrap();
    assert!(a.entries[0].source_ref.starts_with("Observation#sha256:"));
    assert_eq!(a.entries[0].source_ref, b.entries[0].source_ref);
}

// ---- the shared corpus ----------------------------------------------------------------------

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/fhir");

fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn parse_corpus_file(path: &std::path::Path) -> Result<ParsedFile, FileError> {
    let bytes = std::fs::read(path).unwrap();
    let started = Instant::now();
    let result = parse_file(&bytes);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{} was slow",
        path.display()
    );
    result
}

#[test]
fn corpus_ukcore_examples_parse_without_panic() {
    let dir = std::path::Path::new(CORPUS).join("ukcore-json");
    if !dir.is_dir() {
        println!("skipped: corpus not present at {}", dir.display());
        return;
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    let (mut units, mut rejected, mut skipped, mut unreadable) = (0, 0, 0, 0);
    for path in &files {
        match parse_corpus_file(path) {
            Ok(p) => {
                units += p.units.iter().filter(|u| u.is_ok()).count();
                skipped += p.skipped.values().sum::<usize>();
                for r in rejects(&p) {
                    rejected += 1;
                    assert!(!r.reason.is_empty());
                    println!("{}: {} — {}", path.display(), r.position, r.reason);
                }
            }
            Err(e) => {
                unreadable += 1;
                assert!(!e.to_string().is_empty());
                println!("{}: {e}", path.display());
            }
        }
    }
    println!("{} files: {units} extracts, {rejected} rejects, {skipped} skipped, {unreadable} unreadable", files.len());
    assert!(units > 50, "the UK Core examples should mostly be read");

    let richard = parse_corpus_file(&dir.join("UKCore-Patient-RichardSmith-Example.json")).unwrap();
    let d = richard.units[0]
        .as_ref()
        .unwrap()
        .demographics
        .as_ref()
        .unwrap();
    let nhs = d.nhs_number.as_ref().unwrap();
    assert_eq!(nhs.value, "9912003888");
    assert_eq!(nhs.status, NhsNumberStatus::Verified);
    assert_eq!(d.postcode(), Some("LS17 7DF"));
}

#[test]
fn corpus_pds_sandbox_parses_and_9000000009_is_verified() {
    let dir = std::path::Path::new(CORPUS).join("nhs-pds-sandbox");
    if !dir.is_dir() {
        println!("skipped: corpus not present at {}", dir.display());
        return;
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    assert!(!files.is_empty());
    let mut found = false;
    for path in &files {
        let parsed = match parse_corpus_file(path) {
            Ok(p) => p,
            Err(e) => {
                println!("{}: {e}", path.display());
                continue;
            }
        };
        for unit in &parsed.units {
            let Unit::Ok(x) = unit else {
                println!("{}: {:?}", path.display(), unit);
                continue;
            };
            let Some(nhs) = x.demographics.as_ref().and_then(|d| d.nhs_number.as_ref()) else {
                continue;
            };
            if nhs.value == "9000000009" {
                assert_eq!(nhs.status, NhsNumberStatus::Verified);
                assert_eq!(x.subject, "9000000009");
                found = true;
            }
        }
    }
    assert!(found, "Patient 9000000009 not found in the PDS sandbox");

    let restricted =
        dir.join("karate-tests/src/test/java/mocks/stubs/searchResponses/Sensitive_Patient.json");
    if let Ok(p) = parse_corpus_file(&restricted) {
        assert!(
            p.units[0]
                .as_ref()
                .unwrap()
                .demographics
                .as_ref()
                .unwrap()
                .restricted
        );
    }
    let related = dir.join("karate-tests/src/test/java/mocks/stubs/relatedPersonResponses/related_person_9000000009.json");
    if let Ok(p) = parse_corpus_file(&related) {
        let x = extracts(&p);
        assert_eq!(x.len(), 2);
        assert!(x.iter().all(|x| x.subject == "NHS:9000000009"));
    }
}

// ---- finding 6: a large Bundle is read a resource at a time, and bounded ---------------------

fn pulse(id: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"text": "Pulse"}, "subject": {"reference": "urn:uuid:p1"},
        "valueQuantity": {"value": 72, "unit": "/min"}
    })
}

#[test]
fn regression_large_fhir_bundle_is_read_a_resource_at_a_time() {
    // Resource 3 of 5 has a field of the wrong shape: it alone is rejected, in its place.
    let mut broken = pulse("o3");
    broken["subject"] = json!(5);
    let mut entries = vec![entry("urn:uuid:p1", patient())];
    for (i, r) in [pulse("o1"), pulse("o2"), broken, pulse("o4")]
        .into_iter()
        .enumerate()
    {
        entries.push(entry(&format!("urn:uuid:o{}", i + 1), r));
    }
    let text = serde_json::to_vec(&bundle(entries)).unwrap();
    let mut stream = Stream::new(Cow::Borrowed(&text)).unwrap();
    assert_eq!(stream.slots(), 5);
    let mut skipped = BTreeMap::new();
    // Units come one at a time, each adapted only when asked for.
    let first = stream.next_unit(&mut skipped).unwrap().unwrap();
    assert!(first.demographics.is_some(), "the Patient first");
    let mut rest = Vec::new();
    while let Some(unit) = stream.next_unit(&mut skipped) {
        rest.push(unit);
    }
    assert_eq!(rest.len(), 4);
    let positions: Vec<&str> = rest
        .iter()
        .map(|u| match u {
            Ok(e) => e.position.as_str(),
            Err(r) => r.position.as_str(),
        })
        .collect();
    assert_eq!(
        positions,
        [
            "entry 2 (Observation/o1)",
            "entry 3 (Observation/o2)",
            "entry 4 (Observation/o3)",
            "entry 5 (Observation/o4)"
        ]
    );
    assert!(rest[0].is_ok() && rest[1].is_ok() && rest[3].is_ok());
    let reject = rest[2].as_ref().unwrap_err();
    assert!(reject.reason.contains("wrong shape"), "{}", reject.reason);
    assert!(
        !reject.raw.is_empty(),
        "the rejected resource is kept for replay"
    );
    // The Patient's fullUrl was learned in the first pass, so Observations find it.
    assert_eq!(rest[0].as_ref().unwrap().subject, "p1");
}

#[test]
fn regression_fhir_bundle_over_the_resource_cap_is_refused_with_a_reason() {
    let entries = |n: usize| -> Vec<u8> {
        let mut text = br#"{"resourceType":"Bundle","type":"collection","entry":["#.to_vec();
        for i in 0..n {
            if i > 0 {
                text.push(b',');
            }
            text.extend_from_slice(br#"{"resource":{"resourceType":"Basic"}}"#);
        }
        text.extend_from_slice(b"]}");
        text
    };
    let at_cap = Stream::with_limit(Cow::Owned(entries(10)), 10).unwrap();
    assert_eq!(at_cap.slots(), 10);
    let Err(FileError::Unreadable(reason)) = Stream::with_limit(Cow::Owned(entries(11)), 10) else {
        panic!("11 resources over a cap of 10 must be refused");
    };
    assert!(
        reason.contains("more than 10 resources") && reason.contains("split"),
        "{reason}"
    );
    // Resources inside nested Bundles count too.
    let nested = json!({"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Bundle", "entry": [
            {"resource": {"resourceType": "Basic"}}, {"resource": {"resourceType": "Basic"}}
        ]}},
        {"resource": {"resourceType": "Basic"}}
    ]});
    let text = serde_json::to_vec(&nested).unwrap();
    assert!(Stream::with_limit(Cow::Borrowed(&text), 2).is_err());
    assert!(Stream::with_limit(Cow::Borrowed(&text), 3).is_ok());
    // And the shipped cap is the one `parse_file` applies (entries without a resource count:
    // the index holds a slot for each).
    let mut text = br#"{"resourceType":"Bundle","entry":["#.to_vec();
    text.extend(std::iter::repeat_n(&b"{},"[..], MAX_RESOURCES).flatten());
    text.extend_from_slice(b"{}]}");
    let Err(FileError::Unreadable(reason)) = parse_file(&text) else {
        panic!("a Bundle over MAX_RESOURCES must be refused");
    };
    assert!(reason.contains("split"), "{reason}");
}

#[test]
fn the_bundle_index_reads_keys_in_any_order_escaped_or_spaced() {
    // `entry` before `timestamp`, an escaped key, whitespace everywhere, a nested Bundle.
    let text = r#" { "entry" : [ { "resource" : { "resourceType" : "Patient" , "id" : "p9" ,
        "name":[{"family":"Br\"own"}] } , "fullUrl" : "urn:uuid:x\/1" } ,
        {"resource": {"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:n","resource":
        {"resourceTyp\u0065":"Observation","id":"n1","status":"final","code":{"text":"x"},
         "subject":{"reference":"urn:uuid:x/1"}}}]}} ] ,
        "timestamp" : "2024-01-02T03:04:05Z", "resourceType":"Bundle" } "#;
    let parsed = parse_file(text.as_bytes()).unwrap();
    let units: Vec<&Extract> = extracts(&parsed);
    assert_eq!(units.len(), 2, "{:?}", rejects(&parsed));
    assert_eq!(units[0].position, "entry 1 (Patient/p9)");
    assert_eq!(units[0].event_time.as_deref(), Some("2024-01-02T03:04:05Z"));
    assert_eq!(units[1].position, "entry 2.1 (Observation/n1)");
    assert_eq!(
        units[1].subject, "p9",
        "nested Bundle's reference to the outer Patient"
    );
    assert_eq!(units[1].event_time.as_deref(), Some("2024-01-02T03:04:05Z"));
}

/// Fuzz finding (fhir, 2 December 2026): `"reference": "Patient/"` and a Patient whose id is
/// blank gave extracts with an empty subject, which the importer would file under one
/// nameless person shared by every such resource.
#[test]
fn regression_fhir_blank_patient_id_is_rejected_not_a_blank_subject() {
    let observation = json!({
        "resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"text": "Pulse"}, "subject": {"reference": "Patient/"},
        "valueQuantity": {"value": 70, "unit": "/min"}
    });
    let blank_patient =
        json!({"resourceType": "Patient", "id": " ", "name": [{"family": "Nobody"}]});
    let parsed = parse(bundle(vec![
        json!({"resource": observation}),
        json!({"resource": blank_patient}),
    ]));
    assert!(extracts(&parsed).is_empty(), "{:?}", extracts(&parsed));
    let rejects = rejects(&parsed);
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert!(rejects.iter().all(|r| !r.reason.trim().is_empty()));
}

#[test]
fn observations_carry_the_panel_of_their_report_or_grouping_observation() {
    let s = json!({"reference": "urn:uuid:p1"});
    let obs = |id: &str, name: &str| {
        entry(
            &format!("urn:uuid:{id}"),
            json!({"resourceType": "Observation", "id": id, "status": "final", "subject": s,
                   "code": {"text": name}, "valueQuantity": {"value": 4.1, "unit": "mmol/L"}}),
        )
    };
    let p = parse(bundle(vec![
        entry("urn:uuid:p1", patient()),
        obs("k", "Potassium"),
        entry(
            "urn:uuid:rep",
            json!({"resourceType": "DiagnosticReport", "id": "rep", "status": "final", "subject": s,
                   "code": {"coding": [{"system": "https://lab.example/orders", "code": "UE", "display": "Urea and electrolytes"}]},
                   "result": [{"reference": "urn:uuid:k"}]}),
        ),
        entry(
            "urn:uuid:fbc",
            json!({"resourceType": "Observation", "id": "fbc", "status": "final", "subject": s,
                   "code": {"coding": [{"system": "http://snomed.info/sct", "code": "26604007", "display": "Full blood count"}]},
                   "hasMember": [{"reference": "urn:uuid:hb"}]}),
        ),
        obs("hb", "Haemoglobin"),
        obs("lone", "Glucose"),
    ]));
    let e = extracts(&p);
    let panel = |title: &str| {
        e.iter()
            .flat_map(|x| &x.entries)
            .find(|d| d.title == title)
            .and_then(|d| match &d.body {
                EntryBody::Result(r) => Some((r.panel.clone(), r.panel_code.clone())),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        panel("Potassium"),
        (Some("Urea and electrolytes".into()), Some("UE".into()))
    );
    assert_eq!(
        panel("Haemoglobin"),
        (Some("Full blood count".into()), Some("26604007".into()))
    );
    assert_eq!(panel("Glucose"), (None, None));
}

#[test]
fn the_nopat_security_label_marks_an_entry_not_for_the_patient() {
    let mut o = observation("o", json!({"reference": "Patient/p1"}));
    o["meta"] = json!({"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NOPAT"}]});
    let x = parse(o).units.remove(0).unwrap();
    assert!(x.entries[0].not_for_patient);
    assert!(
        !x.entries[0].sensitive,
        "not for the patient is not sensitive"
    );
    let x = parse(observation("o", json!({"reference": "Patient/p1"})))
        .units
        .remove(0)
        .unwrap();
    assert!(!x.entries[0].not_for_patient);
}
