//! The FHIR R4 read API against the real server: bearer tokens, every endpoint, errors as
//! OperationOutcomes, audit events, every response checked by a third-party R4 validator, and
//! the PyPI `fhirclient` library reading a Patient by NHS number and their allergies.

use super::server::*;
use super::support::*;
use serde_json::{json, Value};
use std::process::Command;

/// Margaret Ellen Thompson (sample-feeds/README.md): penicillin allergy, DNACPR.
const MARGARET_NHS: &str = "9994837567";
const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

const SEARCH_TYPES: [&str; 14] = [
    "AllergyIntolerance",
    "MedicationStatement",
    "Observation",
    "Encounter",
    "Condition",
    "Flag",
    "CarePlan",
    "ServiceRequest",
    "RelatedPerson",
    "CareTeam",
    "EpisodeOfCare",
    "Consent",
    "Immunization",
    "Procedure",
];

fn token(s: &Server, user: &str) -> (String, String) {
    let out = cli(&s.env, &["token", "create", "--user", user]);
    let token = out.lines().last().unwrap().trim().to_owned();
    // "API token {id} for {user}; ..."
    let id = out
        .lines()
        .find(|l| l.starts_with("API token "))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_owned();
    (token, id)
}

struct Answer {
    status: u16,
    content_type: String,
    www_authenticate: Option<String>,
    json: Value,
}

fn get(s: &Server, path: &str, bearer: Option<&str>) -> Answer {
    let mut req = s.client().get(s.url(path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let www_authenticate = header("www-authenticate");
    let text = r.text().unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: not JSON ({e}), status {status}:\n{text}"));
    Answer {
        status,
        content_type,
        www_authenticate,
        json,
    }
}

/// A 200 answer, FHIR JSON, valid R4.
fn ok(s: &Server, path: &str, bearer: &str) -> Value {
    let a = get(s, path, Some(bearer));
    assert_eq!(a.status, 200, "{path}: {}", a.json);
    assert!(
        a.content_type.starts_with("application/fhir+json"),
        "{path}: {}",
        a.content_type
    );
    assert_valid_fhir(&a.json);
    a.json
}

/// An error answer: the status, a valid OperationOutcome, never HTML.
fn outcome(a: &Answer, status: u16) -> String {
    assert_eq!(a.status, status, "{}", a.json);
    assert!(a.content_type.starts_with("application/fhir+json"));
    assert_eq!(a.json["resourceType"], "OperationOutcome", "{}", a.json);
    assert_eq!(a.json["issue"][0]["severity"], "error");
    assert_valid_fhir(&a.json);
    a.json["issue"][0]["code"].as_str().unwrap().to_owned()
}

fn resources(bundle: &Value) -> Vec<&Value> {
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    let entries: Vec<&Value> = bundle["entry"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    assert_eq!(bundle["total"], entries.len(), "{bundle}");
    entries.iter().map(|e| &e["resource"]).collect()
}

fn margaret(s: &Server, t: &str) -> String {
    let b = ok(
        s,
        &format!("/fhir/Patient?identifier={NHS_SYSTEM}%7C{MARGARET_NHS}"),
        t,
    );
    let found = resources(&b);
    assert_eq!(found.len(), 1, "{b}");
    found[0]["id"].as_str().unwrap().to_owned()
}

fn audit_count(s: &Server, action: &str) -> i64 {
    s.env.count(&format!(
        "SELECT count(*) FROM audit_event WHERE action = '{action}' AND actor = 'clin'"
    ))
}

#[test]
fn metadata_is_a_public_capability_statement() {
    let s = Server::start();
    let a = get(&s, "/fhir/metadata", None);
    assert_eq!(a.status, 200);
    assert!(a.content_type.starts_with("application/fhir+json"));
    assert_valid_fhir(&a.json);
    let c = &a.json;
    assert_eq!(c["resourceType"], "CapabilityStatement");
    assert_eq!(c["fhirVersion"], "4.0.1");
    assert_eq!(c["format"], json!(["json"]));
    let served: Vec<&str> = c["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for t in SEARCH_TYPES.iter().chain(&["Patient"]) {
        assert!(served.contains(t), "{t} missing from {served:?}");
    }
    let xml = get(&s, "/fhir/metadata?_format=xml", None);
    assert_eq!(outcome(&xml, 406), "not-supported");
    for format in ["json", "application/fhir%2Bjson", "application/fhir+json"] {
        let a = get(&s, &format!("/fhir/metadata?_format={format}"), None);
        assert_eq!(a.status, 200, "{format}");
    }
    let r = s
        .client()
        .get(s.url("/fhir/metadata"))
        .header("Accept", "application/fhir+xml")
        .send()
        .unwrap();
    assert_eq!(r.status(), 406);
    assert_eq!(
        r.json::<Value>().unwrap()["resourceType"],
        "OperationOutcome"
    );
}

#[test]
fn patient_read_search_everything_and_per_type_searches() {
    let s = Server::start();
    let (t, _) = token(&s, "clin");
    let id = margaret(&s, &t);
    assert!(id.starts_with("person-"));
    assert_eq!(audit_count(&s, "search-hit"), 1);
    let person_id: i64 = id.trim_start_matches("person-").parse().unwrap();

    let p = ok(&s, &format!("/fhir/Patient/{id}"), &t);
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(p["id"], id.as_str());
    assert_eq!(p["name"][0]["family"], "Thompson");
    assert!(p["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["system"] == NHS_SYSTEM && i["value"] == MARGARET_NHS));
    // A bare NHS number, a spaced one, names and dates find her too; `name` is the search
    // box's search, so names that sound alike or are misspelt find her as well.
    for query in [
        "name=Tomson&birthdate=1938".to_owned(),
        "name=Thompsen%20Margaret&birthdate=1938-03-14".to_owned(),
        format!("identifier={MARGARET_NHS}"),
        "identifier=999%20483%207567".to_owned(),
        "family=thomp".to_owned(),
        "given=Marg&birthdate=1938-03-14".to_owned(),
        "name=Margaret%20Thompson&birthdate=1938".to_owned(),
        "family=Thompson&given=Margaret&_format=json".to_owned(),
    ] {
        let b = ok(&s, &format!("/fhir/Patient?{query}"), &t);
        let ids: Vec<&str> = resources(&b)
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&id.as_str()), "{query}: {ids:?}");
    }
    let none = ok(&s, "/fhir/Patient?family=Thompson&birthdate=1999", &t);
    assert!(resources(&none).is_empty());
    assert_eq!(none["total"], 0);

    // $everything: the Patient and all her data, allergies included, all referencing her.
    let reads_before = audit_count(&s, "fhir-read");
    let all = ok(&s, &format!("/fhir/Patient/{id}/$everything"), &t);
    let everything = resources(&all);
    assert_eq!(everything[0]["resourceType"], "Patient");
    let allergy = everything
        .iter()
        .find(|r| r["resourceType"] == "AllergyIntolerance")
        .unwrap_or_else(|| panic!("no allergy in {all}"));
    assert!(allergy.to_string().to_lowercase().contains("penicillin"));
    assert_eq!(allergy["patient"]["reference"], format!("Patient/{id}"));
    assert!(everything.iter().any(|r| r["resourceType"] == "Consent"));
    let only = ok(
        &s,
        &format!("/fhir/Patient/{id}/$everything?_type=AllergyIntolerance"),
        &t,
    );
    assert!(resources(&only)
        .iter()
        .all(|r| r["resourceType"] == "AllergyIntolerance"));

    // Every per-type search answers a valid searchset of that type only.
    let mut seen = 0;
    for kind in SEARCH_TYPES {
        let b = ok(&s, &format!("/fhir/{kind}?patient={id}"), &t);
        let found = resources(&b);
        assert!(found.iter().all(|r| r["resourceType"] == kind), "{b}");
        let expected = everything
            .iter()
            .filter(|r| r["resourceType"] == kind)
            .count();
        assert_eq!(found.len(), expected, "{kind}");
        seen += found.len();
    }
    assert_eq!(seen + 1, everything.len());
    let by_ref = ok(
        &s,
        &format!("/fhir/AllergyIntolerance?patient=Patient/{id}"),
        &t,
    );
    assert!(!resources(&by_ref).is_empty());
    let unknown = ok(&s, "/fhir/AllergyIntolerance?patient=person-987654", &t);
    assert!(resources(&unknown).is_empty());

    // Audit: Patient read, two $everything, 14 + 1 searches (the unknown person is no one).
    let reads: i64 = s.env.count(&format!(
        "SELECT count(*) FROM audit_event WHERE action = 'fhir-read' AND actor = 'clin'
         AND person_id = {person_id} AND outcome = 'ok' AND role = 'clinician'"
    ));
    assert_eq!(reads, 1 + 2 + 14 + 1);
    assert_eq!(audit_count(&s, "fhir-read") - reads_before, 2 + 14 + 1);
}

#[test]
fn bad_requests_are_operation_outcomes() {
    let s = Server::start();
    let (t, _) = token(&s, "sw");
    for path in [
        "/fhir/Patient",
        "/fhir/Patient?birthdate=1938-03-14",
        "/fhir/Patient?identifier=urn:other%7C123",
        "/fhir/Patient?identifier=12345",
        "/fhir/Patient?family=Smith&birthdate=lt1990",
        "/fhir/Patient?colour=blue",
        "/fhir/AllergyIntolerance",
        "/fhir/AllergyIntolerance?patient=person-1&code=123",
    ] {
        let a = get(&s, path, Some(&t));
        let code = outcome(&a, 400);
        assert!(
            code == "invalid" || code == "not-supported",
            "{path}: {code}"
        );
    }
    let xml = get(&s, "/fhir/Patient?family=Smith&_format=xml", Some(&t));
    outcome(&xml, 406);
    for path in [
        "/fhir/Practitioner?patient=person-1",
        "/fhir/Nothing/here/at/all",
    ] {
        outcome(&get(&s, path, Some(&t)), 404);
    }
    // An unknown person and a malformed id give the same answer shape.
    let unknown = get(&s, "/fhir/Patient/person-987654", Some(&t));
    let malformed = get(&s, "/fhir/Patient/whoever", Some(&t));
    let everything = get(&s, "/fhir/Patient/person-987654/$everything", Some(&t));
    for a in [&unknown, &malformed, &everything] {
        assert_eq!(outcome(a, 404), "not-found");
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["issue"][0]["diagnostics"] = json!("");
        v
    };
    assert_eq!(strip(&unknown.json), strip(&malformed.json));
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM audit_event WHERE action IN ('fhir-read', 'search-hit')"),
        0
    );
}

#[test]
fn tokens_and_roles() {
    let s = Server::start();
    let path = format!("/fhir/Patient?identifier={MARGARET_NHS}");
    let none = get(&s, &path, None);
    assert_eq!(outcome(&none, 401), "login");
    assert!(none.www_authenticate.unwrap().starts_with("Bearer"));
    outcome(&get(&s, &path, Some("not-a-token")), 401);
    outcome(&get(&s, "/fhir/Patient/person-1", Some("not-a-token")), 401);

    let (t, id) = token(&s, "clin");
    ok(&s, &path, &t);
    cli(&s.env, &["token", "revoke", &id]);
    let revoked = get(&s, &path, Some(&t));
    outcome(&revoked, 401);
    assert!(revoked.www_authenticate.is_some());

    let (admin, _) = token(&s, "it");
    assert_eq!(outcome(&get(&s, &path, Some(&admin)), 403), "forbidden");
    // The privacy officer audits access; reading records is not part of the role.
    let (po, _) = token(&s, "po");
    assert_eq!(outcome(&get(&s, &path, Some(&po)), 403), "forbidden");
    let (sw, _) = token(&s, "sw");
    ok(&s, &path, &sw);
    cli(&s.env, &["user", "disable", "sw"]);
    outcome(&get(&s, &path, Some(&sw)), 401);

    // A signed-in browser session reads the API too; the HTML pages keep their login redirect.
    let browser = s.login("clin");
    let r = browser.get(s.url(&path)).send().unwrap();
    assert_eq!(r.status(), 200);
    let anon = s.client().get(s.url("/")).send().unwrap();
    assert_eq!(anon.status(), 303);
}

#[test]
fn fhirclient_reads_a_patient_by_nhs_number_and_their_allergies() {
    let s = Server::start();
    let (t, _) = token(&s, "clin");
    let out = Command::new("python3")
        .arg(repo().join("tests/fhirclient_check.py"))
        .arg(s.url("/fhir"))
        .arg(&t)
        .arg(MARGARET_NHS)
        .env(
            "REQUESTS_CA_BUNDLE",
            s.env.data_dir().join("tls").join("cert.pem"),
        )
        .output()
        .expect("python3 is needed for the fhirclient check (scripts/test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ok: Patient/person-"), "{text}");
}
