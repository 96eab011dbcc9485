//! The population dashboard against a region with a known truth: the generator plants COVID-19
//! tests, positives (with a hot spot in WX7 for two weeks), vaccinations and opt-outs and says
//! so in `population-truth.csv`; the dashboard must count exactly that, flag exactly that hot
//! spot, never show a small or recoverable number, never show anything about a person, and
//! leave opted-out people out of every figure.

mod access;
mod banner_flags;
mod ethnicity;
mod safety;
mod solver;
mod truth;

use super::server::{add_user, Server};
use super::support::*;
use std::collections::BTreeMap;

pub const PEOPLE: u64 = 20_000;
pub const SEED: u64 = 7;
pub const CONDITIONS: &[&str] = &[
    "covid-tested",
    "covid-positive",
    "covid-vaccinated",
    "diabetes",
    "copd",
    "dementia",
    "severe-frailty",
    "looked-after-child",
    "adult-social-care-package",
];

/// Every stored count, for "nothing changed" comparisons.
pub fn figures(env: &Env) -> BTreeMap<String, i64> {
    let conn = env.sql();
    let mut st = conn
        .prepare("SELECT condition || ' ' || measure || ' ' || level || ' ' || area || ' ' || week, people FROM population_figure")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn dashboard_on_the_generated_region_counts_the_truth_and_is_safe_to_share() {
    let env = Env::new();
    let out = env.dir.path().join("region");
    let out_s = out.to_str().unwrap();
    env.ok(&[
        "demo",
        "generate",
        "--people",
        &PEOPLE.to_string(),
        "--seed",
        &SEED.to_string(),
        "--out",
        out_s,
    ]);
    let run = env.run(&["demo", "load", out_s]);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    env.ok(&["population", "refresh"]);
    add_user(&env, "ana", "analyst");

    let truth = truth::Truth::read(&out);
    truth.assert_counts(&env);
    truth.assert_hot_spots(&env);

    let s = Server::start_in(env);
    let ana = s.login("ana");
    safety::assert_safe_everywhere(&s, &ana);

    // The planted hot spot is listed and marked on the page of its week, with nothing else.
    let page = ana
        .get(s.url("/dashboard/covid-positive?week=2024-W09"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("2024-W09: postcode district WX7"), "{page}");
    assert!(page.contains("2024-W10: postcode district WX7"), "{page}");
    assert!(page.contains("data-area=\"WX7\""), "the map draws WX7");
    let hot_hexes = page.matches(" hot-spot\"").count();
    assert_eq!(hot_hexes, 1, "one hexagon marked as a hot spot in W09");

    // Opted-out people change no figure: new positive tests for people who opted out.
    let before = figures(&s.env);
    truth.import_tests_for_opted_out(&s.env, &out);
    s.env.ok(&["population", "refresh"]);
    assert_eq!(
        figures(&s.env),
        before,
        "an opted-out person's new tests changed a figure"
    );

    // A recorded objection takes a person out of every figure at the next recompute.
    let (nhs, district, week) = truth.a_positive_person();
    s.env.ok(&[
        "person",
        "object",
        &nhs,
        "--reason",
        "asked not to be counted",
    ]);
    s.env.ok(&["population", "refresh"]);
    let after = figures(&s.env);
    let key = format!("covid-positive new district {district} {week}");
    assert_eq!(
        after.get(&key).copied().unwrap_or(0),
        before[&key] - 1,
        "{key}"
    );

    // Every view and download was audited.
    let views = s
        .env
        .count("SELECT count(*) FROM audit_event WHERE action = 'dashboard-view'");
    let downloads = s
        .env
        .count("SELECT count(*) FROM audit_event WHERE action = 'dashboard-download'");
    assert!(views > CONDITIONS.len() as i64, "{views} views audited");
    assert_eq!(
        downloads,
        5 * CONDITIONS.len() as i64,
        "{downloads} downloads audited"
    );
}

/// A generated 3,000-person region, loaded: (the environment, the region's feed files).
fn small_region() -> (Env, std::path::PathBuf) {
    let env = Env::new();
    let out = env.dir.path().join("region");
    let out_s = out.to_str().unwrap();
    env.ok(&[
        "demo", "generate", "--people", "3000", "--seed", "11", "--out", out_s,
    ]);
    let run = env.run(&["demo", "load", out_s]);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    (env, out)
}

/// The recompute reads the entries in id ranges on several connections at once; however many,
/// it counts the same, and the same as on one.
#[test]
fn figures_read_on_several_threads_equal_those_read_on_one() {
    let (env, _region) = small_region();
    let with_threads = |n: usize| {
        std::fs::write(
            env.data_dir().join("config.toml"),
            format!("[population]\nscan_threads = {n}\n"),
        )
        .unwrap();
        let report = env
            .run(&["--json", "population", "refresh", "--full"])
            .json();
        assert_eq!(report["read_every_entry"], true, "{report}");
        assert_record_totals_are_counted(&env);
        figures(&env)
    };
    let one = with_threads(1);
    assert!(
        one.keys()
            .any(|k| k.starts_with("covid-positive new district")),
        "the region has positives to count"
    );
    assert_eq!(with_threads(2), one, "two threads counted differently");
    assert_eq!(with_threads(3), one, "three threads counted differently");
}

/// The record's totals the job stores (entries by category kept as entries are stored and
/// changed, not counted) are what counting every entry gives.
fn assert_record_totals_are_counted(env: &Env) {
    let totals: String = env
        .sql()
        .query_row("SELECT record_totals FROM population_run", [], |r| r.get(0))
        .unwrap();
    let totals: serde_json::Value = serde_json::from_str(&totals).unwrap();
    let conn = env.sql();
    let mut st = conn
        .prepare("SELECT category, count(*) FROM entry GROUP BY category")
        .unwrap();
    let counted: serde_json::Map<String, serde_json::Value> = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|r| r.map(|(c, n)| (c, n.into())).unwrap())
        .collect();
    assert_eq!(
        totals["entries_by_category"],
        serde_json::Value::Object(counted)
    );
    assert_eq!(
        totals["entries"],
        env.count("SELECT count(*) FROM entry"),
        "entries"
    );
    let stats = env.run(&["--json", "stats"]).json();
    for key in ["entries", "entries_by_category", "persons", "entry_history"] {
        assert_eq!(totals[key], stats[key], "{key}");
    }
}

/// A run reads only the entries added or changed since the last: a new positive test is
/// counted, the same test corrected to negative (a changed entry) is counted as it now stands,
/// and each time the figures equal those of reading every entry again.
#[test]
fn figures_brought_up_to_date_equal_those_read_from_every_entry() {
    let (env, out) = small_region();
    let refresh = |args: &[&str]| {
        let report = env
            .run(&[&["--json", "population", "refresh"], args].concat())
            .json();
        (report, figures(&env))
    };
    let (first, before) = refresh(&[]);
    assert_eq!(
        first["read_every_entry"], true,
        "the first run reads every entry"
    );
    let key = "covid-positive new region region 2024-W10";
    let positives = |f: &BTreeMap<String, i64>| f.get(key).copied().unwrap_or(0);

    let truth = truth::Truth::read(&out);
    let person = truth.an_untested_person(&out);
    truth::import_covid_test(&env, &out, person, "incremental", "Detected");
    let (report, added) = refresh(&[]);
    assert_eq!(report["read_every_entry"], false, "{report}");
    assert!(
        (1..=5).contains(&report["new_entries_read"].as_i64().unwrap()),
        "only the new entries were read: {report}"
    );
    assert_eq!(
        positives(&added),
        positives(&before) + 1,
        "the new positive"
    );
    assert_eq!(
        refresh(&["--full"]).1,
        added,
        "reading every entry counts the same"
    );

    truth::import_covid_test(&env, &out, person, "incremental", "Not detected");
    assert!(
        env.count("SELECT count(*) FROM entry_history WHERE disposition = 'superseded'") > 0,
        "the corrected result replaced the stored one"
    );
    let (report, corrected) = refresh(&[]);
    assert_eq!(report["read_every_entry"], false, "{report}");
    assert!(
        report["changed_entries_read"].as_i64().unwrap() >= 1,
        "the changed entry was read again: {report}"
    );
    assert_eq!(
        positives(&corrected),
        positives(&before),
        "the corrected test"
    );
    assert_eq!(
        refresh(&["--full"]).1,
        corrected,
        "reading every entry counts the same"
    );
    assert_record_totals_are_counted(&env);

    // Another condition set: every entry is read again with it.
    let set = std::fs::read_to_string("src/population/conditions.toml")
        .unwrap()
        .replace("name = \"Diabetes\"", "name = \"Diabetes mellitus\"");
    std::fs::write(env.data_dir().join("conditions.toml"), set).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[population]\nconditions = \"{}\"\n",
            env.data_dir().join("conditions.toml").display()
        ),
    )
    .unwrap();
    let (report, changed_set) = refresh(&[]);
    assert_eq!(report["read_every_entry"], true, "{report}");
    assert_eq!(changed_set, corrected);
}
