//! The bulk path: the same database as the normal path for the same files, and exactly once
//! when killed at any point, the deferred index builds included; the server refuses a
//! database whose builds are pending.

use super::support::{bin, links, Env};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test; `SHAREDCARE_BULK_BIN` names another (a release build, for running
/// the crash test by hand at a region's size: `SHAREDCARE_BULK_PEOPLE`).
fn sharedcare(env: &Env, args: &[&str]) -> Command {
    let program = std::env::var("SHAREDCARE_BULK_BIN").unwrap_or_else(|_| bin().to_owned());
    let mut c = Command::new(program);
    c.arg("--data-dir").arg(env.data_dir()).args(args);
    c.env_remove("SHAREDCARE_DATA_DIR");
    c
}

fn people(default: u32) -> u32 {
    std::env::var("SHAREDCARE_BULK_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn generate(env: &Env, people: u32) -> std::path::PathBuf {
    let out = env.dir.path().join("region");
    let status = sharedcare(
        env,
        &[
            "demo",
            "generate",
            "--people",
            &people.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::null())
    .status()
    .unwrap();
    assert!(status.success());
    out
}

/// `demo load` into `env`, with `flags` (`--bulk`, `--no-bulk` or none); the planted faults
/// make its exit code 1.
fn load(env: &Env, region: &Path, flags: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json", "demo", "load", region.to_str().unwrap()];
    args.extend(flags);
    let out = sharedcare(env, &args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stdout}{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}{stderr}"))
}

fn rows(env: &Env, sql: &str) -> Vec<String> {
    let conn = env.sql();
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Counts per table, per entry category and per history disposition.
fn counts(env: &Env) -> Vec<String> {
    let mut out = rows(
        env,
        "SELECT category || '=' || count(*) FROM entry GROUP BY category ORDER BY category",
    );
    out.extend(rows(
        env,
        "SELECT disposition || '=' || count(*) FROM entry_history GROUP BY disposition ORDER BY 1",
    ));
    for table in [
        "person",
        "source_person",
        "source_person_history",
        "match_review",
        "feed_file",
        "feed_reject",
    ] {
        out.push(format!(
            "{table}={}",
            env.count(&format!("SELECT count(*) FROM {table}"))
        ));
    }
    out
}

/// A fixed set of searches, drawn from the normal database's own words so that each finds
/// something: names and postcode districts through the person index, entry titles and
/// codes through the entry index. Each answer is the ids found, in the index's order.
fn queries(normal: &Env) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for family in rows(
        normal,
        "SELECT DISTINCT family FROM person WHERE family IS NOT NULL ORDER BY family LIMIT 8",
    ) {
        // One word: the index keeps no positions, so it answers no phrases.
        let word = family
            .split(|c: char| !c.is_alphanumeric())
            .max_by_key(|w| w.len())
            .unwrap_or_default()
            .to_lowercase();
        if !word.is_empty() {
            out.push(("person_search_fts", format!("names : \"{word}\"")));
        }
    }
    for postcode in rows(
        normal,
        "SELECT DISTINCT postcode FROM person WHERE postcode IS NOT NULL ORDER BY postcode LIMIT 4",
    ) {
        let district = postcode
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        out.push(("person_search_fts", format!("facts : \"pc{district}\"")));
    }
    for (index, sql) in [
        (
            "entry_fts",
            "SELECT DISTINCT title FROM entry ORDER BY title LIMIT 12",
        ),
        (
            "entry_fts",
            "SELECT DISTINCT code FROM entry WHERE code IS NOT NULL ORDER BY code LIMIT 6",
        ),
    ] {
        for text in rows(normal, sql) {
            let words: Vec<String> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| format!("\"{w}\""))
                .collect();
            if !words.is_empty() {
                out.push((index, words.join(" ")));
            }
        }
    }
    out
}

fn answers(env: &Env, queries: &[(&str, String)]) -> Vec<Vec<i64>> {
    let conn = env.sql();
    queries
        .iter()
        .map(|(index, q)| {
            let mut st = conn
                .prepare(&format!(
                    "SELECT rowid FROM {index} WHERE {index} MATCH ?1 ORDER BY rowid"
                ))
                .unwrap();
            st.query_map([q], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
        .collect()
}

fn schema(env: &Env) -> Vec<String> {
    rows(
        env,
        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema ORDER BY name",
    )
}

/// Asserts that `bulk` holds what `normal` holds, finished and sound.
fn assert_same(normal: &Env, bulk: &Env) {
    assert_eq!(
        bulk.count("SELECT count(*) FROM deferred_build"),
        0,
        "builds left pending"
    );
    assert_eq!(rows(bulk, "PRAGMA integrity_check"), vec!["ok".to_string()]);
    assert_eq!(counts(normal), counts(bulk));
    assert_eq!(links(normal), links(bulk), "links differ");
    let (a, b) = (normal.snapshot(), bulk.snapshot());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "entries, links, history or persons differ");
    }
    assert_eq!(
        schema(normal),
        schema(bulk),
        "indexes not rebuilt as they were"
    );
    let queries = queries(normal);
    assert!(queries.len() >= 20, "{queries:?}");
    let (a, b) = (answers(normal, &queries), answers(bulk, &queries));
    for ((query, x), y) in queries.iter().zip(&a).zip(&b) {
        assert!(!x.is_empty(), "{query:?} finds nothing: not a useful query");
        assert_eq!(x, y, "search {query:?} answers differently");
    }
}

#[test]
fn bulk_and_normal_loads_of_one_region_give_the_same_record_and_search_answers() {
    let normal = Env::new();
    let region = generate(&normal, people(2000));
    let n = load(&normal, &region, &["--no-bulk"]);
    assert!(n.get("deferred_builds").is_none(), "{n}");
    let bulk = Env::new();
    let b = load(&bulk, &region, &["--bulk"]);
    let builds = &b["deferred_builds"];
    assert_eq!(builds["indexes"], 3, "{b}");
    assert_eq!(builds["entries_indexed"], b["entries"], "{b}");
    assert!(b["entries"].as_i64().unwrap() > 40_000, "{b}");
    assert_eq!(n["linkage"], b["linkage"]);
    assert_same(&normal, &bulk);

    // A first load into an empty database takes the bulk path by itself.
    let first = Env::new();
    let small = generate(&first, 100);
    let f = load(&first, &small, &[]);
    assert!(f.get("deferred_builds").is_some(), "{f}");
}

/// Where a kill lands: in the import, or inside the deferred builds (an index, or a
/// full-text index part built).
#[derive(Debug, Clone, Copy)]
enum Phase {
    Import,
    Builds,
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

/// Whether the load is inside its deferred builds: an index already rebuilt, or a full-text
/// build started.
fn in_builds(env: &Env) -> bool {
    if !env.db().exists() {
        return false;
    }
    let Ok(conn) = rusqlite::Connection::open(env.db()) else {
        return false;
    };
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM deferred_build WHERE next_id IS NOT NULL)
            OR (EXISTS (SELECT 1 FROM deferred_build)
                AND NOT EXISTS (SELECT 1 FROM deferred_build WHERE sql IS NOT NULL))",
        [],
        |r| r.get(0),
    )
    .unwrap_or(false)
}

/// Starts a bulk load and kills it (SIGKILL) at a random moment of `phase`, within `span`.
/// Returns whether the kill landed before the load finished.
fn load_and_kill(env: &Env, region: &Path, phase: Phase, span: Duration, rng: &mut Lcg) -> bool {
    let mut child = sharedcare(env, &["demo", "load", region.to_str().unwrap(), "--bulk"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let after = Duration::from_micros(rng.next() % (span.as_micros().max(1) as u64));
    let mut reached: Option<Instant> = None;
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let at = match phase {
            Phase::Import => started,
            Phase::Builds => {
                if reached.is_none() && in_builds(env) {
                    reached = Some(Instant::now());
                }
                match reached {
                    Some(at) => at,
                    None => {
                        std::thread::sleep(Duration::from_micros(300));
                        continue;
                    }
                }
            }
        };
        if at.elapsed() >= after {
            let landed = child.try_wait().unwrap().is_none();
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return landed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the load made no progress"
        );
        std::thread::sleep(Duration::from_micros(300));
    }
}

/// The server will not start on a database whose builds are pending, and says what to do.
fn assert_serve_refuses(env: &Env) {
    let mut child = sharedcare(
        env,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sftp-listen",
            "127.0.0.1:0",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the server started on a database with index builds pending");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("index builds pending") && stderr.contains("run the same load again"),
        "{stderr}"
    );
}

#[test]
fn a_bulk_load_killed_at_random_points_resumes_to_the_database_a_normal_load_gives() {
    let kills_wanted: usize = std::env::var("SHAREDCARE_BULK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed = std::env::var("SHAREDCARE_BULK_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        });
    let mut rng = Lcg(seed);
    let normal = Env::new();
    let region = generate(&normal, people(1000));
    let started = Instant::now();
    load(&normal, &region, &["--no-bulk"]);
    let whole = started.elapsed();

    let mut bulk = Env::new();
    let (mut landed, mut in_build, mut refused, mut rounds) = (0, 0, false, 1);
    let mut runs = 0;
    while landed < kills_wanted {
        runs += 1;
        assert!(runs < kills_wanted * 6, "kills keep missing (seed {seed})");
        // Every third kill aims inside the deferred builds.
        let phase = if runs % 3 == 0 {
            Phase::Builds
        } else {
            Phase::Import
        };
        let span = match phase {
            Phase::Import => whole,
            Phase::Builds => whole / 10,
        };
        if !load_and_kill(&bulk, &region, phase, span, &mut rng) {
            // The load finished before the kill: it must be whole; start a new round.
            assert_same(&normal, &bulk);
            bulk = Env::new();
            rounds += 1;
            continue;
        }
        landed += 1;
        if matches!(phase, Phase::Builds) {
            in_build += 1;
        }
        eprintln!("seed {seed}: kill {landed} landed ({phase:?}), round {rounds}");
        assert_eq!(
            rows(&bulk, "PRAGMA integrity_check"),
            vec!["ok".to_string()],
            "seed {seed}"
        );
        if !refused && bulk.count("SELECT count(*) FROM deferred_build") > 0 {
            assert_serve_refuses(&bulk);
            refused = true;
        }
    }
    eprintln!(
        "seed {seed}: {landed} kills landed ({in_build} inside the builds) in {runs} runs, {rounds} rounds"
    );
    assert!(
        in_build > 0,
        "no kill landed inside the builds (seed {seed})"
    );
    // The rerun takes the bulk path by itself while builds are pending.
    load(&bulk, &region, &[]);
    assert_same(&normal, &bulk);
}

#[test]
fn a_bulk_backfill_into_a_loaded_database_gives_what_the_normal_path_gives() {
    let (normal, bulk) = (Env::new(), Env::new());
    let region = generate(&normal, 300);
    let status = sharedcare(
        &normal,
        &[
            "demo",
            "generate",
            "--people",
            "300",
            "--day",
            "1",
            "--out",
            region.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::null())
    .status()
    .unwrap();
    assert!(status.success());
    for env in [&normal, &bulk] {
        load(env, &region, &["--no-bulk"]);
    }
    // The day's changes: new entries and new versions of entries already indexed.
    let n = load(&normal, &region.join("day-1"), &[]);
    assert!(n.get("deferred_builds").is_none(), "{n}");
    let b = load(&bulk, &region.join("day-1"), &["--bulk"]);
    assert_eq!(b["deferred_builds"]["indexes"], 3, "{b}");
    assert!(
        bulk.count("SELECT count(*) FROM entry_history") > 0,
        "the delta changed no entry"
    );
    assert_same(&normal, &bulk);
}
