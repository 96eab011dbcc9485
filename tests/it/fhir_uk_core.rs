//! Issue 11 through the real server: a FHIR Flag imported comes back as a Flag (export, API
//! search and read by id) and shows in the record banner; every resource the API returns
//! claims its UK Core profile, still passes the third-party validator, and is readable by id
//! with the same access rule and audit as the rest; the CapabilityStatement lists the
//! profiles.

use super::server::*;
use super::support::*;
use serde_json::{json, Value};

const MARGARET_NHS: &str = "9994837567";

fn alerts_bundle() -> Value {
    let patient = json!({
        "resourceType": "Patient", "id": "a-1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": MARGARET_NHS,
            "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", "code": "01"}]}}]}],
        "name": [{"family": "Thompson", "given": ["Margaret", "Ellen"]}],
        "gender": "female", "birthDate": "1938-03-14"
    });
    let flag = |id: &str, category: &str, text: &str, author: &str| {
        json!({"fullUrl": format!("urn:uuid:{id}"), "resource": {
            "resourceType": "Flag", "id": id, "status": "active",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": category}]}],
            "code": {"text": text},
            "subject": {"reference": "urn:uuid:a-1"},
            "period": {"start": "2024-02-20"},
            "author": {"display": author}}})
    };
    json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:a-1", "resource": patient},
        flag("dog", "safety", "Large dog at home", "Sam Patel, district nurse"),
        flag("airway", "clinical", "Difficult airway", "Dr Ruth Okoye"),
    ]})
}

fn server() -> Server {
    let env = Env::new();
    env.load_sample_feeds();
    env.add_source("ALERTS", "community", "fhir");
    let file = env.write("alerts.json", alerts_bundle().to_string());
    let r = env.import("ALERTS", &file);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for (name, role) in [("clin", "clinician"), ("sw", "social-worker")] {
        add_user(&env, name, role);
    }
    Server::start_in(env)
}

fn get(s: &Server, path: &str, bearer: &str) -> (u16, Value) {
    let r = s
        .client()
        .get(s.url(path))
        .bearer_auth(bearer)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

fn everything(s: &Server, t: &str, person: i64) -> Vec<Value> {
    let (status, b) = get(s, &format!("/fhir/Patient/person-{person}/$everything"), t);
    assert_eq!(status, 200, "{b}");
    assert_valid_fhir(&b);
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn profile_of(kind: &str) -> String {
    format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{kind}")
}

/// Issue 11: "large dog at home" came back as a Condition.
#[test]
fn regression_a_fhir_flag_imported_comes_back_as_a_flag_from_the_api_and_in_the_banner() {
    let s = server();
    let person = person_with_nhs(&s.env, MARGARET_NHS);
    let t = token(&s.env, "clin");
    let all = everything(&s, &t, person);
    let dog = all
        .iter()
        .find(|r| r["code"]["text"] == "Large dog at home")
        .unwrap_or_else(|| panic!("no dog in {all:?}"));
    assert_eq!(dog["resourceType"], "Flag");
    assert_eq!(dog["category"][0]["text"], "Risk to staff");
    assert_eq!(dog["author"]["display"], "Sam Patel, district nurse");
    assert_eq!(dog["meta"]["profile"][0], profile_of("Flag"));
    assert!(!all
        .iter()
        .any(|r| r["resourceType"] == "Condition" && r["code"]["text"] == "Large dog at home"));
    let id = dog["id"].as_str().unwrap();
    let (status, read) = get(&s, &format!("/fhir/Flag/{id}"), &t);
    assert_eq!(status, 200, "{read}");
    assert_eq!(&read, dog);

    // The record page's banner shows it with its kind in words and who recorded it.
    let page = s
        .login("clin")
        .get(s.url(&format!("/person/{person}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let banner =
        &page[page.find("id=\"banner\"").unwrap()..page.find("</section>\n").unwrap_or(page.len())];
    assert!(banner.contains("Risk to staff:"), "{banner}");
    assert!(banner.contains("Large dog at home"), "{banner}");
    assert!(banner.contains("Sam Patel, district nurse"), "{banner}");
    assert!(banner.contains("Clinical alert:"), "{banner}");

    // Staff safety: a social worker, who sees no medications, sees the risk to staff.
    let sw = token(&s.env, "sw");
    let (status, _) = get(&s, &format!("/fhir/Flag/{id}"), &sw);
    assert_eq!(status, 200);
}

/// Issue 11: meta.profile on every resource, the CapabilityStatement lists the profiles, and
/// every resource type is readable by id — access-checked and audited like the rest.
#[test]
fn regression_the_fhir_api_speaks_uk_core_and_reads_every_type_by_id() {
    let s = server();
    let person = person_with_nhs(&s.env, MARGARET_NHS);
    let t = token(&s.env, "clin");
    let all = everything(&s, &t, person);
    let reads_before = s.env.count(
        "SELECT count(*) FROM audit_event WHERE action = 'fhir-read' AND actor = 'clin' AND outcome = 'ok'",
    );
    let mut types = std::collections::BTreeSet::new();
    for r in &all {
        let kind = r["resourceType"].as_str().unwrap();
        assert_eq!(r["meta"]["profile"][0], profile_of(kind), "{r}");
        let id = r["id"].as_str().unwrap();
        let (status, read) = get(&s, &format!("/fhir/{kind}/{id}"), &t);
        assert_eq!(status, 200, "{kind}/{id}: {read}");
        assert_eq!(&read, r, "{kind}/{id}");
        types.insert(kind.to_owned());
    }
    assert!(types.len() >= 12, "types read: {types:?}");
    let reads_after = s.env.count(
        "SELECT count(*) FROM audit_event WHERE action = 'fhir-read' AND actor = 'clin' AND outcome = 'ok'",
    );
    assert_eq!(
        reads_after - reads_before,
        all.len() as i64,
        "one audit event per read"
    );

    // A wrong type, an unknown id, a malformed id: the same 404 OperationOutcome.
    let flag_id = all.iter().find(|r| r["resourceType"] == "Flag").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/fhir/AllergyIntolerance/{flag_id}"),
        "/fhir/Flag/entry-987654".to_owned(),
        "/fhir/Flag/person-1".to_owned(),
    ] {
        let (status, o) = get(&s, &path, &t);
        assert_eq!(status, 404, "{path}");
        assert_eq!(o["resourceType"], "OperationOutcome");
        assert_valid_fhir(&o);
    }
    let (status, o) = get(&s, "/fhir/Banana/entry-1", &t);
    assert_eq!(
        (status, o["issue"][0]["code"].as_str()),
        (404, Some("not-supported"))
    );

    // Withheld by role: a social worker does not see medications, so cannot read one by id.
    let med = all
        .iter()
        .find(|r| r["resourceType"] == "MedicationStatement")
        .expect("Margaret has medications");
    let sw = token(&s.env, "sw");
    let (status, _) = get(
        &s,
        &format!("/fhir/MedicationStatement/{}", med["id"].as_str().unwrap()),
        &sw,
    );
    assert_eq!(status, 404);

    // The CapabilityStatement lists the profile and the read interaction of every type.
    let c: Value = s
        .client()
        .get(s.url("/fhir/metadata"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_valid_fhir(&c);
    for r in c["rest"][0]["resource"].as_array().unwrap() {
        let kind = r["type"].as_str().unwrap();
        assert_eq!(r["supportedProfile"], json!([profile_of(kind)]), "{kind}");
        assert!(
            r["interaction"]
                .as_array()
                .unwrap()
                .contains(&json!({"code": "read"})),
            "{kind}"
        );
    }
}
