//! Each shipped rule fires for the feed it names, once, and not for one it does not name.

use super::super::server::person_with_nhs;
use super::*;

const CHILD: &str = "child-at-hospital";
const GP: &str = "gp-patient-admitted-discharged-died";
const CASELOAD: &str = "caseload-admitted-discharged";
const NETWORK: &str = "care-network-safeguarding-directive";

fn row(event: &str, recipient: &str, person: i64) -> (String, String, Option<i64>) {
    (event.to_owned(), recipient.to_owned(), Some(person))
}

#[test]
fn the_sample_region_is_old_news_and_raises_no_notification() {
    let env = region();
    assert!(
        env.count("SELECT count(*) FROM entry") > 0,
        "the sample feeds were not loaded"
    );
    assert_eq!(notifications(&env), []);
}

#[test]
fn a_looked_after_child_or_one_on_a_protection_plan_at_hospital_tells_their_social_care_team_once()
{
    let env = region();
    let tyler = person_with_nhs(&env, TYLER.nhs);
    let chloe = person_with_nhs(&env, CHLOE.nhs);
    let attendance = adt_of("A04", "N-T1", &TYLER, "E", "V-T1", false, false);
    feed(&env, "WGH-PAS", "t1.hl7", &attendance);
    // The children's social care feed (WCC-CHILDREN) belongs to L9W01.
    assert_eq!(
        of_rule(&env, CHILD),
        [row("attendance", "org:L9W01", tyler)]
    );
    // The same message again, re-sent under a new control id: nothing new.
    let again = adt_of("A04", "N-T1-RESENT", &TYLER, "E", "V-T1", false, false);
    feed(&env, "WGH-PAS", "t1-again.hl7", &again);
    assert_eq!(of_rule(&env, CHILD).len(), 1);
    // Chloe, on a child protection plan, admitted.
    feed(
        &env,
        "WGH-PAS",
        "c1.hl7",
        &adt_of("A01", "N-C1", &CHLOE, "I", "V-C1", false, false),
    );
    assert_eq!(
        of_rule(&env, CHILD),
        [
            row("attendance", "org:L9W01", tyler),
            row("admission", "org:L9W01", chloe)
        ]
    );
    // An adult at A&E is not this rule's business.
    feed(
        &env,
        "WGH-PAS",
        "m1.hl7",
        &adt_of("A04", "N-M0", &MARGARET, "E", "V-M0", false, false),
    );
    assert_eq!(of_rule(&env, CHILD).len(), 2);
}

#[test]
fn a_registered_patient_admitted_discharged_and_dying_tells_their_practice_once_each() {
    let env = region();
    let margaret = person_with_nhs(&env, MARGARET.nhs);
    let orchard = "org:X99001";
    feed(
        &env,
        "WGH-PAS",
        "a01.hl7",
        &adt_of("A01", "N-M1", &MARGARET, "I", "V-M1", false, false),
    );
    assert_eq!(of_rule(&env, GP), [row("admission", orchard, margaret)]);
    feed(
        &env,
        "WGH-PAS",
        "a01-again.hl7",
        &adt_of("A01", "N-M1-RESENT", &MARGARET, "I", "V-M1", false, false),
    );
    assert_eq!(
        of_rule(&env, GP).len(),
        1,
        "a re-sent admission notified again"
    );
    feed(
        &env,
        "WGH-PAS",
        "a03.hl7",
        &adt_of("A03", "N-M2", &MARGARET, "I", "V-M1", true, false),
    );
    feed(
        &env,
        "WGH-PAS",
        "death.hl7",
        &adt_of("A03", "N-M3", &MARGARET, "I", "V-M1", true, true),
    );
    assert_eq!(
        of_rule(&env, GP),
        [
            row("admission", orchard, margaret),
            row("discharge", orchard, margaret),
            row("death", orchard, margaret)
        ]
    );
    // Someone no practice's feed knows: admitted, and no practice is told.
    feed(
        &env,
        "WGH-PAS",
        "stranger.hl7",
        &adt_of("A01", "N-S1", &STRANGER, "I", "V-S1", false, false),
    );
    assert_eq!(of_rule(&env, GP).len(), 3);
    assert!(notifications(&env).iter().all(|n| n.3 == Some(margaret)));
}

#[test]
fn a_discharge_arriving_before_its_admission_still_notifies_each_once() {
    let env = region();
    let margaret = person_with_nhs(&env, MARGARET.nhs);
    let orchard = "org:X99001";
    feed(
        &env,
        "WGH-PAS",
        "a03-first.hl7",
        &adt_sent("A03", "N-O2", &MARGARET, "I", "V-O1", true, false, 0),
    );
    feed(
        &env,
        "WGH-PAS",
        "a01-late.hl7",
        &adt_sent("A01", "N-O1", &MARGARET, "I", "V-O1", false, false, 90),
    );
    assert_eq!(
        of_rule(&env, GP),
        [
            row("admission", orchard, margaret),
            row("discharge", orchard, margaret)
        ]
    );
}

#[test]
fn a_person_on_a_mental_health_caseload_admitted_tells_that_team_and_no_one_else_s_caseload() {
    let env = region();
    let john = person_with_nhs(&env, JOHN.nhs);
    feed(
        &env,
        "WGH-PAS",
        "j1.hl7",
        &adt_of("A01", "N-J1", &JOHN, "I", "V-J1", false, false),
    );
    // The mental-health partnership (R9M) holds his open mental-health episode.
    assert_eq!(of_rule(&env, CASELOAD), [row("admission", "org:R9M", john)]);
    // Tyler is on no community or mental-health caseload.
    feed(
        &env,
        "WGH-PAS",
        "t1.hl7",
        &adt_of("A01", "N-T9", &TYLER, "I", "V-T9", false, false),
    );
    assert_eq!(of_rule(&env, CASELOAD).len(), 1);
}

/// A FHIR bundle from Orchard Surgery: Margaret's Patient resource (as the sample sends it)
/// and `resources`.
pub(super) fn orchard_bundle(resources: &[serde_json::Value]) -> String {
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("sample-feeds/gp/01-orchard-surgery-20240301.json"))
            .unwrap(),
    )
    .unwrap();
    let patient = sample["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["id"] == "os-1001")
        .unwrap()
        .clone();
    let mut entries = vec![patient];
    entries.extend(
        resources
            .iter()
            .map(|r| serde_json::json!({ "resource": r })),
    );
    serde_json::json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
        .to_string()
}

pub(super) fn flag(id: &str, category: &str, text: &str) -> serde_json::Value {
    serde_json::json!({
        "resourceType": "Flag", "id": id, "status": "active",
        "subject": { "reference": "Patient/os-1001" },
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": category }], "text": category }],
        "code": { "text": text },
        "period": { "start": Utc::now().format("%Y-%m-%d").to_string() }
    })
}

fn dnacpr(status: &str) -> serde_json::Value {
    let today = Utc::now().format("%Y-%m-%d").to_string();
    serde_json::json!({
        "resourceType": "Consent", "id": "os-cn-9", "status": status,
        "patient": { "reference": "Patient/os-1001" },
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "adr" }] },
        "category": [{ "text": "DNACPR", "coding": [{ "system": "http://snomed.info/sct", "code": "304253006" }] }],
        "dateTime": today,
        "provision": { "period": { "start": today } }
    })
}

#[test]
fn a_new_safeguarding_alert_and_a_dnacpr_recorded_and_withdrawn_tell_the_care_network() {
    let env = region();
    let margaret = person_with_nhs(&env, MARGARET.nhs);
    // Everyone whose feeds know Margaret, but the practice whose feed says it.
    let network: Vec<String> = {
        let conn = env.sql();
        let mut st = conn
            .prepare(
                "SELECT DISTINCT 'org:' || o.ods_code FROM source_person sp
                   JOIN source s ON s.id = sp.source_id
                   JOIN organisation o ON o.id = s.organisation_id
                 WHERE sp.person_id = ?1 AND o.ods_code <> 'X99001' ORDER BY 1",
            )
            .unwrap();
        st.query_map([margaret], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(network.len() >= 3, "{network:?}");
    let told = |event: &str| -> Vec<String> {
        of_rule(&env, NETWORK)
            .into_iter()
            .filter(|(e, _, p)| e == event && *p == Some(margaret))
            .map(|(_, r, _)| r)
            .collect()
    };
    // A risk-to-staff flag is not a safeguarding alert.
    let dog = flag("os-fl-8", "safety", "Two large dogs at home");
    feed(&env, "ORCHARD-GP", "dog.json", &orchard_bundle(&[dog]));
    assert_eq!(of_rule(&env, NETWORK), []);
    let alert = flag(
        "os-fl-9",
        "safeguarding",
        "Adult at risk: financial abuse suspected",
    );
    feed(
        &env,
        "ORCHARD-GP",
        "alert.json",
        &orchard_bundle(std::slice::from_ref(&alert)),
    );
    assert_eq!(told("safeguarding-alert"), network);
    feed(
        &env,
        "ORCHARD-GP",
        "dnacpr.json",
        &orchard_bundle(&[dnacpr("active")]),
    );
    assert_eq!(told("directive-recorded"), network);
    // The same bundle again (with the alert): nothing new.
    feed(
        &env,
        "ORCHARD-GP",
        "dnacpr-again.json",
        &orchard_bundle(&[alert, dnacpr("active")]),
    );
    assert_eq!(of_rule(&env, NETWORK).len(), 2 * network.len());
    feed(
        &env,
        "ORCHARD-GP",
        "withdrawn.json",
        &orchard_bundle(&[dnacpr("inactive")]),
    );
    assert_eq!(told("directive-withdrawn"), network);
    assert_eq!(of_rule(&env, NETWORK).len(), 3 * network.len());
}

#[test]
fn an_admission_over_mllp_sent_twice_notifies_the_practice_once() {
    use super::super::mllp::{acks, mllp_port, send_file, stream_file};
    use super::super::server::Server;
    let env = region();
    env.ok(&["source", "edit", "WGH-PAS", "--mllp", "127.0.0.1:0"]);
    let margaret = person_with_nhs(&env, MARGARET.nhs);
    let s = Server::start_in(env);
    let port = mllp_port(&s, "WGH-PAS");
    let message = adt_of("A01", "N-L1", &MARGARET, "I", "V-L1", false, false);
    let file = stream_file(&s.env, "live.mllp", &[message.clone(), message]);
    let (ok, out) = send_file(port, &file);
    assert!(ok, "{}", String::from_utf8_lossy(&out));
    let answers = acks(&out);
    assert_eq!(answers.len(), 2);
    assert!(answers.iter().all(|(code, _)| code == "AA"), "{answers:?}");
    assert_eq!(
        of_rule(&s.env, GP),
        [row("admission", "org:X99001", margaret)]
    );
}

/// An A08 (demographics, no visit) from a GP system `facility` about `who`, registering them
/// with `practice` (PD1-3), sent at `time`.
fn registration(facility: &str, control: &str, time: &str, who: &Who, practice: &str) -> String {
    let ids = format!("{}^^^{facility}^MR~{}^^^NHS^NH", who.mrn, who.nhs);
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, ids.as_str()),
            (5, who.name),
            (7, who.dob),
            (8, who.sex),
            (11, who.address),
        ],
    );
    adt(
        "A08",
        facility,
        control,
        time,
        &[pid, segment("PD1", &[(3, practice)])],
    )
}

#[test]
fn regression_a_practice_the_patient_has_left_is_not_told_of_their_admission() {
    let env = Env::new();
    for (code, org, name, kind) in [
        ("ORCHARD-GP", "X99001", "Orchard Surgery", "gp"),
        ("RIVERSIDE-GP", "X99002", "Riverside Medical Centre", "gp"),
        ("WGH-PAS", "R9W", "Westshire General Hospital", "acute"),
    ] {
        env.ok(&[
            "source",
            "add",
            code,
            "--name",
            code,
            "--org",
            org,
            "--org-name",
            name,
            "--kind",
            kind,
            "--format",
            "hl7v2",
        ]);
    }
    // Registered at Orchard a month ago; then Riverside's system registers her.
    feed(
        &env,
        "ORCHARD-GP",
        "orchard.hl7",
        &registration(
            "X99001",
            "OR1",
            &hl7_time(60 * 24 * 30),
            &MARGARET,
            "Orchard Surgery^^X99001",
        ),
    );
    feed(
        &env,
        "RIVERSIDE-GP",
        "riverside.hl7",
        &registration(
            "X99002",
            "RV1",
            &hl7_time(60 * 24),
            &MARGARET,
            "Riverside Medical Centre^^X99002",
        ),
    );
    let margaret = person_with_nhs(&env, MARGARET.nhs);
    feed(
        &env,
        "WGH-PAS",
        "a01.hl7",
        &adt_of("A01", "N-M1", &MARGARET, "I", "V-M1", false, false),
    );
    assert_eq!(
        of_rule(&env, GP),
        [row("admission", "org:X99002", margaret)],
        "only the practice she is registered with now is told"
    );
}
