//! Kill the importer with SIGKILL at random points; the rerun must apply every message once.

use super::support::*;
use std::time::{Duration, Instant};

/// 10,000 messages: for each of 1,000 patients a registration, then result updates that each
/// supersede the last, so a message applied twice or skipped would show in versions.
pub(super) fn big_feed() -> String {
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

fn committed(env: &Env) -> i64 {
    if !env.db().exists() {
        return 0;
    }
    env.sql()
        .query_row(
            "SELECT coalesce(max(next_unit), 0) FROM feed_file",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0)
}

pub(super) fn entries(env: &Env) -> Vec<String> {
    let conn = env.sql();
    let mut st = conn
        .prepare(
            "SELECT source_ref || '|' || version || '|' || unpacked(body) FROM entry ORDER BY source_ref",
        )
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Runs the import and kills it with SIGKILL at a random point: either while it starts and
/// parses, or at a random moment after its next commit. Returns whether the kill landed (false
/// when the import finished first).
fn import_and_kill(env: &Env, path: &std::path::Path, rng: &mut Lcg) -> bool {
    let wait_for_commit = rng.next().is_multiple_of(2);
    let extra = Duration::from_micros(rng.next() % 40_000);
    let start_point = committed(env);
    let mut child = env
        .command(&["import", "--source", "RWF-PAS", path.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let reached = !wait_for_commit || committed(env) > start_point;
        if reached {
            std::thread::sleep(extra);
            let landed = child.try_wait().unwrap().is_none();
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return landed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "import made no progress"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn sigkill_at_twenty_random_points_then_every_message_is_applied_once() {
    let reference = Env::new();
    reference.add_source("RWF-PAS", "acute", "hl7v2");
    let feed = big_feed();
    let path = reference.write("big.hl7", &feed);
    assert_eq!(reference.import("RWF-PAS", &path).code, 0);
    let expected = entries(&reference);
    let expected_history = reference.count("SELECT count(*) FROM entry_history");

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Lcg(seed);
    let mut kills = 0;
    let mut rounds = 0;
    // A round kills one import repeatedly until a rerun completes it, then checks the result;
    // rounds repeat until twenty kills have landed.
    while kills < 20 {
        rounds += 1;
        assert!(
            rounds <= 20,
            "kills keep missing: {kills} in {rounds} rounds"
        );
        let env = Env::new();
        env.add_source("RWF-PAS", "acute", "hl7v2");
        let path = env.write("big.hl7", &feed);
        let mut points = Vec::new();
        while import_and_kill(&env, &path, &mut rng) {
            kills += 1;
            points.push(committed(&env));
        }
        eprintln!("seed {seed}, round {rounds}: killed at committed units {points:?}");
        let r = env.import("RWF-PAS", &path);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            entries(&env),
            expected,
            "every message applied exactly once"
        );
        assert_eq!(
            env.count("SELECT count(*) FROM entry_history"),
            expected_history
        );
        assert_eq!(
            env.count("SELECT count(*) FROM entry_history WHERE disposition = 'arrived-late'"),
            0
        );
        assert_eq!(env.count("SELECT count(*) FROM person"), 1000);
        assert_eq!(
            env.count(
                "SELECT count(*) FROM feed_file WHERE state = 'imported' AND next_unit = 10000"
            ),
            1
        );
        let check: String = env
            .sql()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}

#[test]
fn a_server_killed_mid_import_finishes_the_file_in_processing_on_restart() {
    let reference = Env::new();
    reference.add_source("RWF-PAS", "acute", "hl7v2");
    let feed = big_feed();
    assert_eq!(
        reference
            .import("RWF-PAS", &reference.write("big.hl7", &feed))
            .code,
        0
    );

    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[jobs]\ninbox_scan = \"* * * * * *\"\nbackup = \"\"\n",
    )
    .unwrap();
    let inbox = env.data_dir().join("inbox/RWF-PAS");
    std::fs::create_dir_all(&inbox).unwrap();
    let server = super::server::Server::start_in(env);
    std::fs::write(inbox.join("big.hl7"), &feed).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while committed(&server.env) == 0 {
        assert!(
            Instant::now() < deadline,
            "the server never started importing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let env = server.kill();
    let at_kill = committed(&env);
    let processing = env.data_dir().join("processing/RWF-PAS/big.hl7");
    assert!(
        at_kill < 10_000,
        "killed after the import finished; the file is too small"
    );
    assert!(processing.exists(), "the claimed file waits in processing/");

    let server = super::server::Server::start_in(env);
    let deadline = Instant::now() + Duration::from_secs(180);
    // The file is marked imported in the database before it is moved to done/.
    while server
        .env
        .count("SELECT count(*) FROM feed_file WHERE state = 'imported'")
        == 0
        || processing.exists()
    {
        assert!(
            Instant::now() < deadline,
            "the file was not finished after the restart"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("killed at {at_kill} of 10000 committed messages; finished after the restart");
    assert_eq!(
        entries(&server.env),
        entries(&reference),
        "each message applied once"
    );
    assert_eq!(
        server.env.count("SELECT count(*) FROM entry_history"),
        reference.count("SELECT count(*) FROM entry_history")
    );
    assert_eq!(server.env.count("SELECT count(*) FROM feed_file"), 1);
    assert!(!processing.exists(), "the finished file left processing/");
    let check: String = server
        .env
        .sql()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
