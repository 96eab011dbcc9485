//! The acceptance table's region: generated, stripped to who people are, loaded with the
//! sample feeds and a few people with Welsh, Irish and accented names; and what the table
//! reads back from it.

use super::super::server::{add_user, Server};
use super::super::support::*;
use std::collections::HashMap;
use std::path::Path;

pub const PEOPLE: u64 = 20_000;
pub const SEED: u64 = 7;

/// A live person as the golden record has them.
pub struct Golden {
    pub id: i64,
    pub given: String,
    pub family: String,
    pub born: String,
    pub postcode: String,
    pub sex: String,
    pub nhs: Option<String>,
}

/// Keeps only who people are: ADT messages of HL7 files, Patient resources of FHIR bundles.
fn strip_entries(dir: &Path) {
    for source in std::fs::read_dir(dir).unwrap() {
        let source = source.unwrap().path();
        if !source.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&source).unwrap() {
            let file = file.unwrap().path();
            let name = file.to_string_lossy().to_string();
            if name.ends_with(".hl7") {
                let text = std::fs::read_to_string(&file).unwrap();
                let kept: String = text
                    .split_inclusive('\r')
                    .fold(Vec::<String>::new(), |mut msgs, seg| {
                        if seg.starts_with("MSH|") || msgs.is_empty() {
                            msgs.push(String::new());
                        }
                        msgs.last_mut().unwrap().push_str(seg);
                        msgs
                    })
                    .into_iter()
                    .filter(|m| m.split('|').nth(8).is_some_and(|t| t.starts_with("ADT")))
                    .collect();
                std::fs::write(&file, kept).unwrap();
            } else if name.ends_with(".json") {
                let mut bundle: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
                if let Some(entries) = bundle["entry"].as_array_mut() {
                    entries.retain(|e| e["resource"]["resourceType"] == "Patient");
                }
                std::fs::write(&file, serde_json::to_vec(&bundle).unwrap()).unwrap();
            }
        }
    }
}

/// People with names from Wales, Ireland and further afield, sent by the sample hospital.
const NAMED: &[(&str, &str, &str)] = &[
    ("Siân", "ap Rhys", "19610304"),
    ("Zoë", "Núñez", "19770519"),
    ("Seán", "Ó Ceallaigh", "19580830"),
    ("Dafydd", "Llywelyn-Jones", "19490211"),
    ("Gwenllian", "ab Owain", "19831122"),
    ("Renée", "D'Souza", "19900607"),
];

pub fn region() -> Server {
    let env = Env::new();
    env.load_sample_feeds();
    let out = env.dir.path().join("region");
    let out_s = out.to_str().unwrap();
    let seed = SEED.to_string();
    let people = PEOPLE.to_string();
    env.ok(&[
        "demo", "generate", "--people", &people, "--seed", &seed, "--out", out_s,
    ]);
    strip_entries(&out);
    // Exit code 1: the region's planted faults are rejected.
    let run = env.run(&["demo", "load", out_s]);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    let messages: String = NAMED
        .iter()
        .enumerate()
        .map(|(i, (given, family, dob))| {
            a08(
                &format!("W{i}"),
                "20240301120000",
                &format!("W{i:05}"),
                &nhs_number(7000 + i as u32),
                family,
                given,
                dob,
            )
        })
        .collect();
    let file = env.write("named.hl7", messages);
    assert_eq!(env.import("WGH-PAS", &file).code, 0);
    add_user(&env, "clin", "clinician");
    Server::start_in(env)
}

pub fn golden(s: &Server) -> Vec<Golden> {
    let conn = s.env.sql();
    let mut st = conn
        .prepare(
            "SELECT id, coalesce(given, ''), coalesce(family, ''), coalesce(birth_date, ''),
                    coalesce(postcode, ''), coalesce(sex, ''), nhs_number
             FROM person WHERE merged_into IS NULL ORDER BY id",
        )
        .unwrap();
    st.query_map([], |r| {
        Ok(Golden {
            id: r.get(0)?,
            given: r.get(1)?,
            family: r.get(2)?,
            born: r.get(3)?,
            postcode: r.get(4)?,
            sex: r.get(5)?,
            nhs: r.get(6)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

pub fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or("").to_owned()
}

/// `1954-03-12` → `12/03/1954`, as a clinician types it.
pub fn uk_date(iso: &str) -> String {
    let p: Vec<&str> = iso.split('-').collect();
    format!("{}/{}/{}", p[2], p[1], p[0])
}

pub fn count<K: std::hash::Hash + Eq>(
    people: &[Golden],
    key: impl Fn(&Golden) -> K,
) -> HashMap<K, usize> {
    let mut m = HashMap::new();
    for p in people {
        *m.entry(key(p)).or_insert(0) += 1;
    }
    m
}

/// The person with this NHS number as a source sent it.
pub fn person_with(s: &Server, nhs: &str) -> Option<i64> {
    s.env
        .sql()
        .query_row(
            "SELECT p.id FROM source_person sp JOIN person p ON p.id = sp.person_id
             WHERE sp.nhs_number = ?1 AND p.merged_into IS NULL LIMIT 1",
            [nhs],
            |r| r.get(0),
        )
        .ok()
}
