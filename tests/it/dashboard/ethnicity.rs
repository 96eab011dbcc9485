//! Ethnicity where the feeds carry it: the NHS ethnic category from HL7 v2 PID-22 and from UK
//! Core's ethnic category extension reaches the figures by ethnic group; a code that is not a
//! category counts as not known; nothing is shown by group when no feed sends one.

use super::super::server::{add_user, Server};
use super::super::support::*;
use super::csv_rows;

/// An ORU for one person with ethnic category `ethnicity` (PID-22) and a positive SARS-CoV-2 PCR.
fn positive_test(n: usize, ethnicity: &str) -> String {
    let when = "202611020930";
    let family = [
        "Ashworth", "Bellamy", "Carrow", "Dunmore", "Ellery", "Fenwick",
    ][n % 6];
    let born = 1950 + 7 * n;
    format!(
        "MSH|^~\\&|LAB|RWF|SHAREDCARE|REGION|{when}||ORU^R01|ETH{n}|P|2.4\r\
         PID|1||ETH-{n}^^^RWF^MR||{family}^Test||{born}0101|F|||1 High Street^^Maidstone^^WX1 1AA||01632 960001|||||||||{ethnicity}\r\
         OBR|1|ORD{n}|ORD{n}|COV^SARS-CoV-2 PCR^L|||{when}\r\
         OBX|1|ST|COV2^SARS-CoV-2 RNA^L||Detected||||||F|||{when}\r"
    )
}

/// A UK Core Patient with ethnic category M (Black Caribbean) and a positive test.
fn uk_core_patient() -> String {
    serde_json::json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p1", "resource": {
                "resourceType": "Patient", "id": "eth-fhir-1",
                "extension": [
                    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
                     "valueCodeableConcept": {"coding": [{
                        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                        "code": "M", "display": "Black or Black British - Caribbean"}]}},
                    {"url": "https://example.org/an-extension-we-do-not-read", "valueInteger": "not a number"}
                ],
                "name": [{"family": "Fhirperson", "given": ["Test"]}],
                "gender": "male", "birthDate": "1975-05-05",
                "address": [{"postalCode": "WX1 2BB"}]}},
            {"fullUrl": "urn:uuid:o1", "resource": {
                "resourceType": "Observation", "id": "o1", "status": "final",
                "subject": {"reference": "urn:uuid:p1"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "94500-6", "display": "SARS-CoV-2 RNA"}]},
                "effectiveDateTime": "2026-11-02T09:30:00Z",
                "valueCodeableConcept": {"text": "Detected"}}}
        ]
    })
    .to_string()
}

fn ethnicity_csv(s: &Server, c: &reqwest::blocking::Client) -> Vec<(String, String)> {
    let r = c
        .get(s.url("/dashboard/covid-tested/ethnicity.csv"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    csv_rows(&r.text().unwrap())[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

#[test]
fn figures_by_ethnic_group_come_from_the_category_the_feeds_send() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[population]\nsmall_number = 1\nmin_denominator = 1\n",
    )
    .unwrap();
    env.add_source("LAB", "acute", "hl7v2");
    env.add_source("EDH", "acute", "fhir");
    // White British twice, Indian, not stated, nothing, and a code that is no category.
    let messages: String = ["A", "A", "H", "Z", "", "Q9"]
        .iter()
        .enumerate()
        .map(|(n, e)| positive_test(n, e))
        .collect::<Vec<_>>()
        .join("\n");
    let file = env.write("lab.hl7", messages);
    let run = env.import("LAB", &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let file = env.write("edh.json", uk_core_patient());
    let run = env.import("EDH", &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    env.ok(&["population", "refresh"]);

    add_user(&env, "ana", "analyst");
    let s = Server::start_in(env);
    let ana = s.login("ana");
    let got = ethnicity_csv(&s, &ana);
    let want: Vec<(String, String)> = [
        ("white", "2"),
        ("mixed", "<1"),
        ("asian", "1"),
        ("black", "1"),
        ("other", "<1"),
        ("not-stated", "1"),
        ("not-known", "2"),
        ("total", "7"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(got, want);
    let page = ana
        .get(s.url("/dashboard/covid-tested"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Asian or Asian British"), "{page}");
}

#[test]
fn with_no_ethnic_category_sent_the_page_says_there_is_no_breakdown() {
    let env = Env::new();
    env.add_source("LAB", "acute", "hl7v2");
    let file = env.write("lab.hl7", positive_test(1, ""));
    assert_eq!(env.import("LAB", &file).code, 0);
    env.ok(&["population", "refresh"]);
    add_user(&env, "ana", "analyst");
    let s = Server::start_in(env);
    let page = s
        .login("ana")
        .get(s.url("/dashboard/covid-tested"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("No feed has sent an ethnic category"),
        "{page}"
    );
    assert!(!page.contains("Asian or Asian British"));
}
