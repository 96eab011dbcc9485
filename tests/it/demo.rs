//! The sample feeds, end to end: every category lands, overlaps link, deliberate faults are
//! reported with reasons.

use super::support::*;

#[test]
fn demo_loads_every_category_and_links_overlapping_records() {
    let env = Env::new();
    let r = env.run(&[
        "--json",
        "demo",
        "--no-serve",
        "--from",
        repo().join("sample-feeds").to_str().unwrap(),
    ]);
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    let out = r.json();
    let stats = &out["stats"];
    for c in sharedcare::model::Category::ALL {
        assert!(
            stats["entries_by_category"][c.as_str()]
                .as_i64()
                .unwrap_or(0)
                > 0,
            "no {} entries in the sample feeds: {stats}",
            c.as_str()
        );
    }
    // Overlap: some person is described by three or more sources.
    let most_sources = env.count(
        "SELECT max(n) FROM (SELECT count(DISTINCT source_id) AS n FROM source_person WHERE person_id IS NOT NULL GROUP BY person_id)",
    );
    assert!(most_sources >= 3, "sample people overlap across sources");
    // A record without an NHS number was linked by demographics.
    assert!(env.count("SELECT count(*) FROM source_person WHERE nhs_number IS NULL AND link_kind IN ('exact', 'probable')") >= 1);
    assert!(env.count("SELECT count(*) FROM person WHERE deceased = 1") >= 1);
    // Full-text search inside one record.
    let smith = env
        .ok(&["--json", "person", "find", "--name", "smith"])
        .json();
    let id = smith[0]["id"].as_i64().unwrap().to_string();
    let hits = env
        .ok(&["--json", "person", "search", &id, "clozapine"])
        .json();
    assert!(
        !hits.as_array().unwrap().is_empty(),
        "clozapine is in the sample record"
    );
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["category"] == "medication"
            || h["title"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("clozapine")
            || h.to_string().to_lowercase().contains("clozapine")));
    let none = env.ok(&["--json", "person", "search", &id, "zzzyx"]).json();
    assert!(none.as_array().unwrap().is_empty());
    // Running the demo again is harmless.
    let again = env.run(&[
        "--json",
        "demo",
        "--no-serve",
        "--from",
        repo().join("sample-feeds").to_str().unwrap(),
    ]);
    assert_eq!(again.json()["stats"]["entries"], stats["entries"]);
}

#[test]
fn regression_serving_demo_refuses_a_data_directory_it_did_not_make() {
    // A real region's data directory: the demo must not add synthetic people and users with
    // printed passwords to it.
    let env = Env::new();
    env.add_source("PAS", "acute", "hl7v2");
    let file = env.write(
        "a08.hl7",
        a08(
            "C1",
            "20240101120000",
            "M1",
            &nhs_number(1),
            "REAL",
            "PERSON",
            "19700101",
        ),
    );
    assert_eq!(env.import("PAS", &file).code, 0);
    let users_before = env.count("SELECT count(*) FROM app_user");
    let r = env.run(&[
        "demo",
        "--from",
        repo().join("sample-feeds").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--sftp-listen",
        "",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("did not make"), "{}", r.stderr);
    assert!(!r.stdout.contains("login "), "{}", r.stdout);
    assert_eq!(env.count("SELECT count(*) FROM app_user"), users_before);
    assert_eq!(
        env.count("SELECT count(*) FROM source WHERE code = 'WGH-PAS'"),
        0
    );
}
