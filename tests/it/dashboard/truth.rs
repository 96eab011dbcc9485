//! What the generator planted (`population-truth.csv`), counted the way the dashboard must.

use super::super::support::*;
use super::{csv_rows, SEED};
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub struct Fact {
    pub person: u64,
    pub district: String,
    pub event: String,
    pub date: NaiveDate,
}

pub struct Truth {
    pub facts: Vec<Fact>,
    pub opted_out: BTreeSet<u64>,
}

fn week(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

impl Truth {
    pub fn read(region: &Path) -> Self {
        let text = std::fs::read_to_string(region.join("population-truth.csv")).unwrap();
        let rows = csv_rows(&text);
        assert_eq!(rows[0], ["person", "district", "event", "date"]);
        let facts: Vec<Fact> = rows[1..]
            .iter()
            .map(|r| Fact {
                person: r[0].parse().unwrap(),
                district: r[1].clone(),
                event: r[2].clone(),
                date: r[3].parse().unwrap(),
            })
            .collect();
        let opted_out = facts
            .iter()
            .filter(|f| f.event == "opted-out")
            .map(|f| f.person)
            .collect();
        Self { facts, opted_out }
    }

    /// People per (district, week) with this event, opted-out people left out.
    fn new_by_district(&self, event: &str) -> BTreeMap<(String, String), BTreeSet<u64>> {
        let mut out: BTreeMap<(String, String), BTreeSet<u64>> = BTreeMap::new();
        for f in self.facts.iter().filter(|f| f.event == event) {
            if !self.opted_out.contains(&f.person) {
                out.entry((f.district.clone(), week(f.date)))
                    .or_default()
                    .insert(f.person);
            }
        }
        out
    }

    /// The stored counts equal the truth's for tests, positives and vaccinations, district by
    /// district and week by week within the figures' weeks; current vaccinations region-wide.
    pub fn assert_counts(&self, env: &Env) {
        let conn = env.sql();
        let (first, last): (String, String) = conn
            .query_row(
                "SELECT first_week, last_week FROM population_run",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        for (event, condition) in [
            ("tested", "covid-tested"),
            ("positive", "covid-positive"),
            ("vaccinated", "covid-vaccinated"),
        ] {
            let mut st = conn
                .prepare("SELECT area, week, people FROM population_figure WHERE condition = ?1 AND measure = 'new' AND level = 'district'")
                .unwrap();
            let stored: BTreeMap<(String, String), i64> = st
                .query_map([condition], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let truth: BTreeMap<(String, String), i64> = self
                .new_by_district(event)
                .into_iter()
                .filter(|((_, w), _)| *w >= first && *w <= last)
                .map(|(k, v)| (k, v.len() as i64))
                .collect();
            assert!(
                !truth.is_empty(),
                "{condition}: nothing planted in the weeks"
            );
            assert_eq!(
                stored, truth,
                "{condition}: stored counts differ from the truth"
            );
        }
        let last_end = NaiveDate::parse_from_str(&format!("{last}-7"), "%G-W%V-%u").unwrap();
        let vaccinated: BTreeSet<u64> = self
            .facts
            .iter()
            .filter(|f| {
                f.event == "vaccinated" && f.date <= last_end && !self.opted_out.contains(&f.person)
            })
            .map(|f| f.person)
            .collect();
        let stored: i64 = conn
            .query_row(
                "SELECT people FROM population_figure WHERE condition = 'covid-vaccinated' AND measure = 'current' AND level = 'region' AND week = ?1",
                [&last],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, vaccinated.len() as i64, "current vaccinated people");
    }

    /// The district hot spots of positives are exactly the planted ones; tests in the planted
    /// district may be one too (more testing was planted there), nowhere else.
    pub fn assert_hot_spots(&self, env: &Env) {
        let conn = env.sql();
        let mut st = conn
            .prepare("SELECT condition, area, week FROM population_hot_spot WHERE level = 'district' ORDER BY 1, 2, 3")
            .unwrap();
        let spots: Vec<(String, String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let positive: Vec<(String, String)> = spots
            .iter()
            .filter(|s| s.0 == "covid-positive")
            .map(|s| (s.1.clone(), s.2.clone()))
            .collect();
        assert_eq!(
            positive,
            [
                ("WX7".to_owned(), "2024-W09".to_owned()),
                ("WX7".to_owned(), "2024-W10".to_owned())
            ],
            "{spots:?}"
        );
        assert!(
            spots.iter().all(|s| s.1 == "WX7"),
            "a district without a planted hot spot was flagged: {spots:?}"
        );
        // Only the local authority that holds WX7 may be flagged at the higher level.
        let las = env.count(
            "SELECT count(*) FROM population_hot_spot WHERE level = 'la' AND area <> 'E06900002'",
        );
        assert_eq!(las, 0);
    }

    /// Positive tests in WX7's planted weeks for three opted-out people, sent again by their GP.
    pub fn import_tests_for_opted_out(&self, env: &Env, region: &Path) {
        let gps = gp_records(region);
        let mut done = 0;
        for person in self
            .opted_out
            .iter()
            .filter(|p| gps.contains_key(p))
            .take(3)
        {
            import_covid_test(env, region, *person, "late", "Detected");
            done += 1;
        }
        assert_eq!(done, 3);
        assert!(
            env.count("SELECT count(*) FROM entry WHERE source_ref LIKE '%-late%'") >= 3,
            "the opted-out people's new tests were stored"
        );
    }

    /// A person with a GP record who has not opted out and has no COVID-19 test planted.
    pub fn an_untested_person(&self, region: &Path) -> u64 {
        let tested: BTreeSet<u64> = self
            .facts
            .iter()
            .filter(|f| f.event != "vaccinated")
            .map(|f| f.person)
            .collect();
        gp_records(region)
            .into_keys()
            .find(|p| !self.opted_out.contains(p) && !tested.contains(p))
            .expect("an untested person with a GP record")
    }

    /// (NHS number, district, week) of a person, not opted out, with one positive test in the
    /// figures' last weeks.
    pub fn a_positive_person(&self) -> (String, String, String) {
        let f = self
            .facts
            .iter()
            .find(|f| {
                f.event == "positive"
                    && !self.opted_out.contains(&f.person)
                    && week(f.date).as_str() >= "2024-W05"
                    && self
                        .facts
                        .iter()
                        .filter(|g| g.person == f.person && g.event == "positive")
                        .count()
                        == 1
            })
            .unwrap();
        (
            sharedcare::demo::nhs_number(SEED, f.person),
            f.district.clone(),
            week(f.date),
        )
    }
}

/// Each generated person's GP record: person → (source, local id).
fn gp_records(region: &Path) -> BTreeMap<u64, (String, String)> {
    let truth = std::fs::read_to_string(region.join("truth.csv")).unwrap();
    csv_rows(&truth)[1..]
        .iter()
        .filter(|r| r[0].starts_with("GP-"))
        .map(|r| (r[2].parse().unwrap(), (r[0].clone(), r[1].clone())))
        .collect()
}

/// Imports, through `person`'s GP feed, a SARS-CoV-2 PCR result taken 2024-03-05 (ISO week
/// 2024-W10) whose id ends in `suffix`, reading `value`; sent again with another value it
/// changes the stored result.
pub fn import_covid_test(env: &Env, region: &Path, person: u64, suffix: &str, value: &str) {
    let (source, local) = &gp_records(region)[&person];
    let patient = find_patient(&region.join(source), local);
    let obs = serde_json::json!({"resourceType": "Observation", "id": format!("{local}-{suffix}"), "status": "final",
        "subject": {"reference": format!("Patient/{local}")},
        "code": {"coding": [{"system": "http://loinc.org", "code": "94500-6"}], "text": "SARS-CoV-2 RNA PCR"},
        "effectiveDateTime": "2024-03-05T10:00:00Z",
        "valueCodeableConcept": {"text": value}});
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": format!("urn:uuid:p{person}"), "resource": patient},
        {"fullUrl": format!("urn:uuid:o{person}"), "resource": obs}]});
    let file = env.write(
        &format!("{suffix}-{person}-{value}.json"),
        serde_json::to_vec(&bundle).unwrap(),
    );
    assert_eq!(env.import(source, &file).code, 0);
}

fn find_patient(dir: &Path, local: &str) -> serde_json::Value {
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let bundle: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for e in bundle["entry"].as_array().into_iter().flatten() {
                if e["resource"]["resourceType"] == "Patient" && e["resource"]["id"] == local {
                    return e["resource"].clone();
                }
            }
        }
    }
    panic!("no Patient {local} in {}", dir.display());
}
