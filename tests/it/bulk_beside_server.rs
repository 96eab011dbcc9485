//! The bulk path and a running server keep out of each other's way: a bulk load leaves the
//! full-text indexes behind until its end, so beside a server it is refused when asked for and
//! the normal path is taken when it was only chosen; a server does not start while a bulk
//! load runs. A large batch takes the bulk path by itself when no server runs.

use super::server::Server;
use super::support::{bin, Env};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn generate(dir: &Path, people: &str) -> PathBuf {
    let out = dir.join("region");
    let status = Command::new(bin())
        .args(["demo", "generate", "--people", people, "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// Rows of `table` that its full-text index `fts` does not hold.
fn unindexed(env: &Env, table: &str, fts: &str) -> i64 {
    env.count(&format!(
        "SELECT count(*) FROM {table} WHERE id NOT IN (SELECT rowid FROM {fts})"
    ))
}

#[test]
fn regression_a_bulk_load_beside_a_running_server_left_its_search_incomplete() {
    let s = Server::start();
    let region = generate(s.env.dir.path(), "300");
    let asked = s
        .env
        .run(&["--json", "demo", "load", region.to_str().unwrap(), "--bulk"]);
    assert_eq!(asked.code, 2, "{}{}", asked.stdout, asked.stderr);
    assert!(
        asked.stderr.contains("a server is running") && asked.stderr.contains("without --bulk"),
        "{}",
        asked.stderr
    );
    assert_eq!(s.env.count("SELECT count(*) FROM deferred_build"), 0);
    let entries = s.env.count("SELECT count(*) FROM entry");

    // Chosen (the files are larger than the database): the normal path, and it says so.
    let chosen = s
        .env
        .run(&["--json", "demo", "load", region.to_str().unwrap()]);
    assert!(
        matches!(chosen.code, 0 | 1),
        "{}{}",
        chosen.stdout,
        chosen.stderr
    );
    assert!(
        chosen.stderr.contains("importing on the normal path"),
        "{}",
        chosen.stderr
    );
    assert!(
        chosen.json().get("deferred_builds").is_none(),
        "{}",
        chosen.stdout
    );
    assert!(s.env.count("SELECT count(*) FROM entry") > entries + 1000);
    assert_eq!(s.env.count("SELECT count(*) FROM deferred_build"), 0);
    assert_eq!(unindexed(&s.env, "entry", "entry_fts"), 0);
    assert_eq!(unindexed(&s.env, "person", "person_search_fts"), 0);

    // The running server finds a person the load brought, by name.
    let (id, given, family): (i64, String, String) = s
        .env
        .sql()
        .query_row(
            "SELECT p.id, p.given, p.family FROM person p
             JOIN source_person sp ON sp.person_id = p.id
             JOIN source src ON src.id = sp.source_id
             WHERE src.code LIKE 'GP-%' AND p.given IS NOT NULL AND p.family IS NOT NULL
             ORDER BY p.id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let page = s
        .login("clin")
        .get(s.url("/search"))
        .query(&[("q", format!("{given} {family}"))])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains(&format!("/person/{id}")),
        "searching {given} {family} beside the load did not find person {id}"
    );
}

#[test]
fn a_server_does_not_start_while_a_bulk_load_holds_the_database() {
    let env = Env::new();
    env.load_sample_feeds();
    let lock = std::fs::File::create(env.data_dir().join("sharedcare.db.serving")).unwrap();
    lock.try_lock().unwrap();
    let out = env
        .command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sftp-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("a bulk load is running"), "{stderr}");
}

#[test]
fn files_larger_than_half_the_database_take_the_bulk_path_by_themselves() {
    let env = Env::new();
    env.load_sample_feeds();
    let region = generate(env.dir.path(), "300");
    let loaded = env.run(&["--json", "demo", "load", region.to_str().unwrap()]);
    assert!(
        matches!(loaded.code, 0 | 1),
        "{}{}",
        loaded.stdout,
        loaded.stderr
    );
    let builds = &loaded.json()["deferred_builds"];
    assert_eq!(builds["indexes"], 3, "{}", loaded.stdout);
    assert_eq!(env.count("SELECT count(*) FROM deferred_build"), 0);
    assert_eq!(unindexed(&env, "entry", "entry_fts"), 0);
    assert_eq!(unindexed(&env, "person", "person_search_fts"), 0);
    // A day's delta is small beside the database: the normal path.
    let status = Command::new(bin())
        .args(["demo", "generate", "--people", "300", "--day", "1", "--out"])
        .arg(&region)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let day = env.run(&[
        "--json",
        "demo",
        "load",
        region.join("day-1").to_str().unwrap(),
    ]);
    assert!(matches!(day.code, 0 | 1), "{}{}", day.stdout, day.stderr);
    assert!(
        day.json().get("deferred_builds").is_none(),
        "{}",
        day.stdout
    );
    assert_eq!(unindexed(&env, "entry", "entry_fts"), 0);
}
