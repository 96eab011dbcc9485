//! Kill the importer with SIGKILL at random points; the rerun must apply every message once.

use super::support::*;
use std::time::{Duration, Instant};

/// 10,000 messages: for each of 1,000 patients a registration, then result updates that each
/// supersede the last, so a message applied twice or skipped would show in versions.
fn big_feed() -> String {
    let mut out = String::new();
    let mut control = 0;
    for p in 0..1000u32 {
        let nhs = nhs_number(1000 + p);
        let mrn = format!("MRN{p:05}");
        let pid = pid(&mrn, &nhs, &format!("Family{p}"), "Given", "19600101");
        control += 1;
        out.push_str(&a08(
            &format!("C{control}"),
            "20240101090000",
            &mrn,
            &nhs,
            &format!("Family{p}"),
            "Given",
            "19600101",
        ));
        for v in 0..9u32 {
            control += 1;
            let time = format!("202402{:02}1000{:02}", v + 1, p % 60);
            out.push_str(&oru(
                &format!("C{control}"),
                &time,
                &pid,
                &format!("ORD{p}"),
                &(100 + v).to_string(),
            ));
        }
    }
    out
}

/// A small deterministic generator: the kill points vary run to run only through the seed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Imports while watching progress: (time to the first commit, time to the end).
fn timed_import(env: &Env, path: &std::path::Path) -> (Duration, Duration) {
    let started = Instant::now();
    let mut child = env
        .command(&["import", "--source", "RWF-PAS", path.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first_commit = None;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        if first_commit.is_none() && env.db().exists() {
            let committed: i64 = env
                .sql()
                .query_row(
                    "SELECT coalesce(max(next_unit), 0) FROM feed_file",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            if committed > 0 {
                first_commit = Some(started.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let full = started.elapsed();
    (first_commit.unwrap_or(full / 10), full)
}

#[test]
fn sigkill_at_twenty_random_points_then_every_message_is_applied_once() {
    let reference = Env::new();
    reference.add_source("RWF-PAS", "acute", "hl7v2");
    let feed = big_feed();
    let path = reference.write("big.hl7", &feed);
    let (first_commit, full) = timed_import(&reference, &path);

    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let path = env.write("big.hl7", &feed);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!(
        "crash test seed {seed}; a full import takes {full:?}, the first commit {first_commit:?}"
    );
    let mut rng = Lcg(seed);
    let mut kills = 0;
    let mut attempts = 0;
    // Each run resumes where the last was killed, so kill points are drawn from the start-up
    // time plus a slice of the committing phase: on average each run commits 1/20 of the file,
    // so twenty kills land before the work runs out, spread over most of it.
    let window = ((full - first_commit).as_millis() as u64 / 10).max(10);
    while kills < 20 && attempts < 200 {
        attempts += 1;
        let delay = first_commit.mul_f64(0.8) + Duration::from_millis(rng.next() % window);
        let mut child = env
            .command(&["import", "--source", "RWF-PAS", path.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(
        kills >= 20,
        "only {kills} kills landed in {attempts} attempts"
    );
    let progress = env.count("SELECT next_unit FROM feed_file");
    eprintln!("{kills} kills in {attempts} runs; {progress} of 10000 messages committed before the final run");
    let r = env.import("RWF-PAS", &path);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = r.json()["files"][0]["state"].as_str().unwrap().to_owned();
    assert!(state == "imported" || state == "duplicate", "{state}");

    assert_eq!(env.snapshot().len(), reference.snapshot().len());
    let entries = |e: &Env| -> Vec<String> {
        let conn = e.sql();
        let mut st = conn
            .prepare(
                "SELECT source_ref || '|' || version || '|' || body FROM entry ORDER BY source_ref",
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        entries(&env),
        entries(&reference),
        "every message applied exactly once"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM entry_history"),
        reference.count("SELECT count(*) FROM entry_history")
    );
    assert_eq!(
        env.count("SELECT count(*) FROM entry_history WHERE disposition = 'arrived-late'"),
        0
    );
    assert_eq!(env.count("SELECT count(*) FROM person"), 1000);
    assert_eq!(env.count("SELECT count(*) FROM feed_file"), 1);
    let check: String = env
        .sql()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
