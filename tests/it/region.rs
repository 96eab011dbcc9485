//! The synthetic region: deterministic bytes, flat memory, a clean load apart from the planted
//! faults, matching quality against the generator's truth, and a day's delta on top.

use super::support::Env;
use std::collections::BTreeMap;
use std::path::Path;

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn region_same_seed_same_bytes_and_flat_memory() {
    let env = Env::new();
    let a = env.dir.path().join("a");
    let b = env.dir.path().join("b");
    for out in [&a, &b] {
        env.ok(&[
            "demo",
            "generate",
            "--people",
            "300",
            "--seed",
            "42",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 10, "{:?}", ta.keys());
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (k, v) in &ta {
        assert!(
            v == &tb[k],
            "{k} differs between two runs with the same seed"
        );
    }
    // A different seed is a different region.
    let c = env.dir.path().join("c");
    env.ok(&[
        "demo",
        "generate",
        "--people",
        "300",
        "--seed",
        "43",
        "--out",
        c.to_str().unwrap(),
    ]);
    assert_ne!(tree(&c)["truth.csv"], ta["truth.csv"]);

    // The generator writes person by person: its peak memory does not grow with the region.
    let big = env.dir.path().join("big");
    let run = env.ok(&[
        "--json",
        "demo",
        "generate",
        "--people",
        "2000",
        "--out",
        big.to_str().unwrap(),
    ]);
    let kib = run.json()["peak_rss_kib"]
        .as_u64()
        .expect("peak RSS from /proc");
    assert!(kib < 64 * 1024, "generator peak RSS {kib} KiB");
}

#[test]
fn region_loads_cleanly_matches_well_and_takes_a_delta() {
    let env = Env::new();
    let out = env.dir.path().join("region");
    let out_s = out.to_str().unwrap();
    env.ok(&[
        "demo", "generate", "--people", "300", "--seed", "7", "--out", out_s,
    ]);
    let run = env.run(&["--json", "demo", "load", out_s]);
    assert_eq!(
        run.code, 1,
        "planted faults make the load report rejects\n{}",
        run.stderr
    );
    let figures = run.json();

    // Exactly the planted faults are rejected, each for its expected reason.
    let faults = std::fs::read_to_string(out.join("faults.csv")).unwrap();
    let expected: Vec<&str> = faults
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(expected.len(), 3);
    let reasons = figures["reject_reasons"].as_object().unwrap();
    assert_eq!(figures["rejects"], 3, "{reasons:?}");
    assert_eq!(figures["quarantined"], 0);
    for want in &expected {
        assert!(
            reasons.keys().any(|r| r.contains(want)),
            "no reject for {want}: {reasons:?}"
        );
    }
    assert_eq!(env.count("SELECT count(*) FROM feed_reject"), 3);

    // Realistic volume: about 25 entries per person, and every truth record imported.
    let persons = figures["persons"].as_i64().unwrap();
    let entries = figures["entries"].as_i64().unwrap();
    assert!(persons > 250, "{persons}");
    assert!(
        (15..45).contains(&(entries / persons)),
        "{entries} entries for {persons} persons"
    );
    // The database's size is measured after a checkpoint, so it is the file itself.
    let bytes = figures["database_bytes"].as_u64().unwrap();
    assert_eq!(bytes, std::fs::metadata(env.db()).unwrap().len());
    let per_entry = figures["bytes_per_entry"].as_f64().unwrap();
    assert!((100.0..2000.0).contains(&per_entry), "{per_entry}");
    let l = &figures["linkage"];
    assert_eq!(l["missing"], 0, "{l}");
    assert!(l["true_pairs"].as_i64().unwrap() > 50, "{l}");
    assert!(l["recall"].as_f64().unwrap() >= 0.99, "{l}");
    assert!(l["precision"].as_f64().unwrap() >= 0.999, "{l}");
    // `check` says the same on its own.
    let check = env.ok(&["--json", "demo", "check", out_s]).json();
    assert_eq!(check["recall"], l["recall"]);
    assert_eq!(check["false_merges"], 0);

    // Records sent without an NHS number (social care above all) were linked on demographics.
    let no_nhs = env.count(
        "SELECT count(*) FROM source_person WHERE nhs_number IS NULL AND link_kind = 'probable'",
    );
    assert!(no_nhs > 0);

    // Day 1's delta imports with no rejects and changes the record.
    let before =
        env.count("SELECT count(*) FROM entry") + env.count("SELECT count(*) FROM entry_history");
    env.ok(&[
        "demo", "generate", "--people", "300", "--seed", "7", "--out", out_s, "--day", "1",
    ]);
    let day = out.join("day-1");
    let run = env.run(&[
        "--json",
        "demo",
        "load",
        day.to_str().unwrap(),
        "--compare-bare",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let figures = run.json();
    // The bare loader wrote every entry row the store holds, and left no scratch file behind.
    let bare = &figures["bare"];
    assert_eq!(bare["rows"], figures["entries"], "{figures}");
    assert!(bare["rows_per_second"].as_f64().unwrap() > 0.0, "{bare}");
    assert!(
        figures["ratio_to_bare"].as_f64().unwrap() > 0.0,
        "{figures}"
    );
    assert!(!env.data_dir().join("bare-loader.db").exists());
    let alone = env.ok(&["--json", "demo", "bare"]).json();
    assert_eq!(alone["rows"], figures["entries"]);
    assert_eq!(figures["rejects"], 0, "{figures}");
    assert!(figures["messages"].as_i64().unwrap() > 0, "{figures}");
    let after =
        env.count("SELECT count(*) FROM entry") + env.count("SELECT count(*) FROM entry_history");
    assert!(
        after > before,
        "the delta changed nothing: {before} → {after}"
    );
    assert!(figures["linkage"]["precision"].as_f64().unwrap() >= 0.999);

    // Plain `demo` still builds from the sample feeds.
    let plain = Env::new();
    let sample = super::support::repo().join("sample-feeds");
    let r = plain.run(&["demo", "--no-serve", "--from", sample.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(plain.count("SELECT count(*) FROM person") > 0);
}
