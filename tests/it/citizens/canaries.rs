//! Canaries: a safeguarding alert, an entry its source marked not for the patient (FHIR
//! `meta.security` NOPAT), a result inside the policy's delay and another person's entry never
//! appear on a citizen's pages or in their download; an ordinary entry planted beside them does,
//! which proves the test can fail.

use super::*;
use serde_json::{json, Value};

const WITHHELD: [&str; 4] = ["canarysafe", "canarynopat", "canaryresult", "canaryother"];
const SHOWN: &str = "canaryshown";

/// The sample GP bundle's Patient for `id` (`os-1001` …), to carry new entries.
fn sample_patient(id: &str) -> Value {
    let text =
        std::fs::read_to_string(repo().join("sample-feeds/gp/01-orchard-surgery-20240301.json"))
            .unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["id"] == id)
        .unwrap()
        .clone()
}

fn resource(kind: &str, id: &str, patient: &str, body: Value) -> Value {
    let mut r = body;
    r["resourceType"] = json!(kind);
    r["id"] = json!(id);
    r["subject"] = json!({ "reference": format!("Patient/{patient}") });
    json!({ "fullUrl": format!("https://fhir.orchard-surgery.example/{kind}/{id}"), "resource": r })
}

fn plant(env: &Env) {
    let margaret = "os-1001";
    let entries = vec![
        sample_patient(margaret),
        sample_patient("os-1002"),
        resource(
            "Flag",
            "cz-safe",
            margaret,
            json!({
                "status": "active",
                "code": { "text": "Child protection plan in place CANARYSAFE" }
            }),
        ),
        resource(
            "Condition",
            "cz-nopat",
            margaret,
            json!({
                "meta": { "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NOPAT" }] },
                "clinicalStatus": { "coding": [{ "code": "active" }] },
                "code": { "text": "Concern told by a neighbour CANARYNOPAT" }
            }),
        ),
        resource(
            "Observation",
            "cz-result",
            margaret,
            json!({
                "status": "final",
                "category": [{ "coding": [{ "code": "laboratory" }] }],
                "code": { "text": "Biopsy CANARYRESULT" },
                "valueString": "see report",
                "effectiveDateTime": "2026-11-30T10:00:00Z"
            }),
        ),
        resource(
            "Condition",
            "cz-shown",
            margaret,
            json!({
                "clinicalStatus": { "coding": [{ "code": "active" }] },
                "code": { "text": "Hay fever CANARYSHOWN" }
            }),
        ),
        resource(
            "Condition",
            "cz-other",
            "os-1002",
            json!({
                "clinicalStatus": { "coding": [{ "code": "active" }] },
                "code": { "text": "Gout CANARYOTHER" }
            }),
        ),
    ];
    let bundle = json!({ "resourceType": "Bundle", "type": "collection", "entry": entries });
    let file = env.write("canaries.json", bundle.to_string());
    let r = env.import("ORCHARD-GP", &file);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// The shipped policy with results held back from citizens for a long time.
fn policy_with_result_delay() -> String {
    sharedcare::access::Policy::shipped_text()
        .replace("delay_hours = {}", "delay_hours = { result = 100000 }")
}

fn leaks(place: &str, text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    WITHHELD
        .iter()
        .filter(|c| lower.contains(*c))
        .map(|c| format!("{place}: {c}"))
        .collect()
}

#[test]
fn canaries_reach_no_citizen_page_or_download_and_an_ordinary_entry_does() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let policy = env.write("policy.toml", policy_with_result_delay());
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!("[access]\npolicy = \"{}\"\n", policy.display()),
    )
    .unwrap();
    env.load_sample_feeds();
    plant(&env);
    add_user(&env, "clin", "clinician");
    let s = Server::start_in(env);
    // A clinician sees every canary of Margaret's (proving they are in the record).
    let clin = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let staff_view = clin
        .get(s.url(&format!("/person/{margaret}")))
        .send()
        .unwrap()
        .text()
        .unwrap()
        .to_lowercase();
    for c in ["canarysafe", "canarynopat", "canaryresult", SHOWN] {
        assert!(staff_view.contains(c), "the clinician should see {c}");
    }

    let (citizen, _) = sign_up(&s, MARGARET, "margaret");
    let mut found = Vec::new();
    let mut shown = 0;
    for path in [
        "/citizen",
        "/citizen/looked",
        "/citizen/sharing",
        "/citizen/reports",
        "/citizen/looked.csv",
    ] {
        let text = page(&s, &citizen, path);
        found.extend(leaks(path, &text));
        shown += usize::from(text.to_lowercase().contains(SHOWN));
    }
    let download = citizen.get(s.url("/citizen/record.json")).send().unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let bundle: Value = download.json().unwrap();
    let text = bundle.to_string();
    found.extend(leaks("download", &text));
    assert!(
        text.to_lowercase().contains(SHOWN),
        "the download holds the ordinary entry"
    );
    assert_eq!(shown, 1, "the record page shows the ordinary entry");
    assert!(found.is_empty(), "canaries leaked: {found:#?}");
    let record = page(&s, &citizen, "/citizen");
    assert!(
        record.contains("not shown yet"),
        "the page says results are held back"
    );
    assert!(
        record.contains("From Orchard Surgery"),
        "every item has its provenance line"
    );
    assert_valid_fhir(&bundle);
    // The other person's record is not reachable by any id either.
    let other = person_with_nhs(&s.env, OTHER);
    for path in [
        format!("/person/{other}"),
        format!("/fhir/Patient/person-{other}"),
    ] {
        let r = citizen.get(s.url(&path)).send().unwrap();
        assert!(
            r.status() == 303 || r.status() == 401,
            "{path}: {}",
            r.status()
        );
    }
    // Every look was audited as the citizen's own.
    assert!(
        s.env.count("SELECT count(*) FROM audit.audit_event WHERE action = 'citizen-view' AND role = 'citizen'") >= 6
    );
}

/// Every page a citizen's session can reach from its record, the item report forms of every
/// item it lists and the download: the leaks found, and whether the ordinary entry was shown.
fn walk(s: &Server, c: &Client) -> (Vec<String>, bool, Value) {
    let mut found = Vec::new();
    let mut shown = false;
    let record = page(s, c, "/citizen");
    let items: Vec<String> = record
        .split("href=\"/citizen/item/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|tail| format!("/citizen/item/{tail}"))
        .collect();
    assert!(
        !items.is_empty(),
        "the record links its items' report forms"
    );
    let pages = [
        "/citizen",
        "/citizen/looked",
        "/citizen/looked.csv",
        "/citizen/sharing",
        "/citizen/reports",
        "/citizen/people",
    ];
    for path in pages.iter().map(|p| p.to_string()).chain(items) {
        let text = page(s, c, &path);
        found.extend(leaks(&path, &text));
        shown |= text.to_lowercase().contains(SHOWN);
    }
    let bundle: Value = c
        .get(s.url("/citizen/record.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    found.extend(leaks("download", &bundle.to_string()));
    (found, shown, bundle)
}

#[test]
fn canaries_reach_no_proxy_page_or_download_and_an_ordinary_entry_does() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let policy = env.write("policy.toml", policy_with_result_delay());
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!("[access]\npolicy = \"{}\"\n", policy.display()),
    )
    .unwrap();
    env.load_sample_feeds();
    plant(&env);
    add_user(&env, "it", "admin");
    let s = Server::start_in(env);
    // Daniel Okafor (registered at Riverside) acts for Margaret, with her consent.
    let proxy_nhs = "9997661001";
    let it = s.login("it");
    let form = page(&s, &it, "/admin/proxies");
    let r = it
        .post(s.url("/admin/proxies"))
        .form(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("proxy", proxy_nhs),
            ("person", MARGARET),
            ("basis", "consent"),
            ("starts_on", ""),
            ("ends_on", ""),
            ("evidence", "Signed consent form seen"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(r.contains("Recorded (relationship"), "{r}");
    let (proxy, _) = sign_up(&s, proxy_nhs, "daniel");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let people = page(&s, &proxy, "/citizen/people");
    let r = proxy
        .post(s.url("/citizen/act-as"))
        .form(&[
            ("csrf", hidden(&people, "csrf").as_str()),
            ("person", &margaret.to_string()),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let (found, shown, bundle) = walk(&s, &proxy);
    assert_eq!(
        bundle["entry"][0]["resource"]["identifier"][0]["value"], MARGARET,
        "the proxy's download is Margaret's"
    );
    assert!(shown, "the proxy sees Margaret's ordinary entry");
    assert!(
        bundle.to_string().to_lowercase().contains(SHOWN),
        "the download holds the ordinary entry"
    );
    assert!(found.is_empty(), "canaries leaked to the proxy: {found:#?}");
    assert_valid_fhir(&bundle);
    // Margaret herself, on every page and item form too.
    let (citizen, _) = sign_up(&s, MARGARET, "margaret");
    let (found, shown, _) = walk(&s, &citizen);
    assert!(shown);
    assert!(
        found.is_empty(),
        "canaries leaked to the citizen: {found:#?}"
    );
}
