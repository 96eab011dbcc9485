//! The audit trail in its own file: a data directory from before the split is migrated with
//! every event kept; a change whose event had not reached the audit file gets it at the next
//! start; and the server killed with SIGKILL while eight clients read records leaves a chain
//! that verifies, with an event for every record page a client received.

use super::server::*;
use super::support::*;
use sharedcare::audit::chain::{self, to_hex, GENESIS};
use sharedcare::audit::head::{self, Head};
use sharedcare::audit::key::AuditKey;
use sharedcare::store::EventText;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A data directory as sharedcare left it at schema 11, before the audit file: the database
/// built from the migrations that shipped, `events` chained events in its own `audit_event`
/// table, the audit key and a head at the last event.
fn data_dir_at_schema_11(dir: &Path, events: i64) {
    std::fs::create_dir_all(dir).unwrap();
    let conn = rusqlite::Connection::open(dir.join("sharedcare.db")).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    let migrations = repo().join("src/store/migrations");
    let mut names: Vec<_> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.as_str() < "0012")
        .collect();
    names.sort();
    assert_eq!(names.len(), 11);
    for name in names {
        conn.execute_batch(&std::fs::read_to_string(migrations.join(name)).unwrap())
            .unwrap();
    }
    conn.execute_batch("PRAGMA user_version = 11;").unwrap();
    let (key, made) = AuditKey::load_or_create(dir, true).unwrap();
    assert!(made);
    let mut prev = GENESIS;
    for seq in 1..=events {
        let at = format!("2025-01-01T00:{:02}:{:02}Z", seq / 60 % 60, seq % 60);
        let detail = format!("event {seq}");
        let e = EventText {
            actor: Some("cli:root"),
            action: "login",
            detail: Some(&detail),
            outcome: "ok",
            ..EventText::default()
        };
        prev = chain::link(&key, &prev, seq, &at, &e);
        conn.execute(
            "INSERT INTO audit_event (seq, at, actor, action, detail, outcome, hash)
             VALUES (?1, ?2, 'cli:root', 'login', ?3, 'ok', ?4)",
            rusqlite::params![seq, at, detail, to_hex(&prev)],
        )
        .unwrap();
    }
    head::write(
        dir,
        &key,
        &Head {
            seq: events,
            hash: prev,
        },
    )
    .unwrap();
}

fn table_exists(conn: &rusqlite::Connection, schema: &str, table: &str) -> bool {
    conn.query_row(
        &format!("SELECT count(*) FROM {schema}.sqlite_schema WHERE type = 'table' AND name = ?1"),
        [table],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

#[test]
fn a_data_directory_from_before_the_audit_file_is_migrated_with_every_event() {
    let env = Env::new();
    data_dir_at_schema_11(&env.data_dir(), 250);
    let r = env.ok(&["audit", "verify"]);
    assert_eq!(r.stdout.trim(), "audit chain ok: 250 events, last seq 250");
    // Before it changed, a verified copy of the database as it was was taken, and named.
    let copies: Vec<std::path::PathBuf> = std::fs::read_dir(env.data_dir().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("before-schema-")
        })
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(
        r.stderr.contains(&copies[0].display().to_string()),
        "{}",
        r.stderr
    );
    let copy = rusqlite::Connection::open(&copies[0]).unwrap();
    let (version, events): (i64, i64) = copy
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), count(*) FROM audit_event",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (version, events),
        (11, 250),
        "the copy is the database as it was"
    );
    let conn = env.sql();
    assert!(!table_exists(&conn, "main", "audit_event"));
    assert!(table_exists(&conn, "main", "audit_outbox"));
    let moved: Vec<(i64, String)> = conn
        .prepare("SELECT seq, detail FROM audit.audit_event ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<(i64, String)> = (1..=250).map(|n| (n, format!("event {n}"))).collect();
    assert_eq!(moved, expected);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.data_dir().join("sharedcare-audit.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the audit file is private");
    // The chain goes on from the moved events.
    add_user(&env, "later", "clinician");
    let r = env.ok(&["--json", "audit", "verify"]).json();
    assert_eq!(
        (r["events"].as_i64(), r["last_seq"].as_i64()),
        (Some(251), Some(251))
    );
    // And a cut of the moved log still shows against the head kept from before.
    rusqlite::Connection::open(env.data_dir().join("sharedcare-audit.db"))
        .unwrap()
        .execute("DELETE FROM audit_event WHERE seq > 249", [])
        .unwrap();
    let r = env.run(&["audit", "verify"]);
    assert_eq!(r.code, 3);
    assert!(
        r.stdout
            .starts_with("audit chain broken at seq 250: truncated"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_upgrade_that_fails_part_way_leaves_the_database_as_the_older_version_wrote_it() {
    let env = Env::new();
    data_dir_at_schema_11(&env.data_dir(), 40);
    // A column a later migration (MLLP settings) adds is there already: that migration fails
    // after the audit file's and the search index's have been applied.
    rusqlite::Connection::open(env.db())
        .unwrap()
        .execute_batch("ALTER TABLE source ADD COLUMN mllp_listen TEXT;")
        .unwrap();
    let r = env.run(&["audit", "verify"]);
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 11, "the database is back at the older schema");
    let events: i64 = conn
        .query_row("SELECT count(*) FROM audit_event", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        events, 40,
        "its own audit events are back where the older version reads them"
    );
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

#[test]
fn a_change_whose_event_had_not_reached_the_audit_file_gets_it_at_the_next_start() {
    let env = Env::new();
    add_user(&env, "first", "clinician");
    // The state a process killed between committing a change and moving its event leaves:
    // the move is refused, so the change commits with its event in the outbox only.
    env.sql()
        .execute_batch(
            "CREATE TRIGGER audit.no_move BEFORE INSERT ON audit_event
             BEGIN SELECT RAISE(ABORT, 'the audit file is unwritable'); END;",
        )
        .unwrap();
    add_user(&env, "second", "clinician");
    let waiting = env.count("SELECT count(*) FROM main.audit_outbox WHERE action = 'user-add'");
    assert_eq!(waiting, 1, "the change's event waits in the outbox");
    assert_eq!(
        env.count("SELECT count(*) FROM audit.audit_event WHERE detail LIKE '%second%'"),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM app_user WHERE username = 'second'"),
        1,
        "the change committed"
    );
    env.sql()
        .execute_batch("DROP TRIGGER audit.no_move")
        .unwrap();
    // The next start (any command) moves it, once.
    let r = env.ok(&["audit", "verify"]);
    assert!(r.stdout.starts_with("audit chain ok"), "{}", r.stdout);
    env.ok(&["audit", "verify"]);
    assert_eq!(
        env.count(
            "SELECT count(*) FROM audit.audit_event WHERE action = 'user-add' AND detail LIKE '%second%'"
        ),
        1
    );
    // Moved rows leave the outbox with the next change (which leaves its own until the one
    // after).
    add_user(&env, "third", "clinician");
    assert_eq!(
        env.count("SELECT count(*) FROM main.audit_outbox WHERE detail LIKE '%second%'"),
        0
    );
    let r = env.ok(&["--json", "audit", "verify"]).json();
    assert!(r["broken"].is_null(), "{r}");
}

#[test]
fn regression_an_audit_file_newer_than_its_database_never_sees_an_outbox_id_twice() {
    let env = Env::new();
    add_user(&env, "first", "clinician");
    // A pair restored from copies taken apart (a backup, a replica): the audit file has moved
    // outbox ids the database has not issued yet.
    env.sql()
        .execute_batch("UPDATE audit.outbox_moved SET last_id = last_id + 50")
        .unwrap();
    add_user(&env, "second", "clinician");
    assert_eq!(
        env.count(
            "SELECT count(*) FROM audit.audit_event WHERE action = 'user-add' AND detail LIKE '%second%'"
        ),
        1,
        "the change's event was taken as moved already"
    );
    env.ok(&["audit", "verify"]);
}

#[test]
fn a_backup_from_before_the_audit_file_restores_with_its_events() {
    let env = Env::new();
    data_dir_at_schema_11(&env.data_dir(), 40);
    // The database file as a backup of that version was: one file, its trail inside.
    let old = env.data_dir().join("old-backup.db");
    std::fs::copy(env.db(), &old).unwrap();
    add_user(&env, "since", "clinician");
    add_user(&env, "again", "clinician");
    let r = env.ok(&["--json", "audit", "verify"]).json();
    assert_eq!(r["events"], 42);
    env.ok(&["restore", old.to_str().unwrap()]);
    let r = env.ok(&["--json", "audit", "verify"]).json();
    assert!(r["broken"].is_null(), "{r}");
    assert_eq!(r["events"], 41, "the backup's 40 events and the restore");
    let last: String = env
        .sql()
        .query_row(
            "SELECT action FROM audit_event ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(last, "restore");
    assert!(env
        .data_dir()
        .join("sharedcare-audit.db.before-restore")
        .exists());
}

/// A small deterministic generator for the kill points.
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

#[test]
fn sigkill_while_eight_clients_read_records_leaves_an_event_for_every_page_received() {
    let seed = std::env::var("SHAREDCARE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261203);
    eprintln!("crash seed {seed} (set SHAREDCARE_CRASH_SEED to repeat)");
    let mut rng = Lcg(seed);
    let mut server = Server::start();
    let id: i64 = server
        .env
        .count("SELECT id FROM person WHERE merged_into IS NULL AND nhs_number = '9994837567'");
    let events = |env: &Env| {
        env.count(&format!(
            "SELECT count(*) FROM audit.audit_event
             WHERE action = 'view-record' AND actor = 'clin' AND person_id = {id}"
        ))
    };
    let mut received = 0i64;
    let mut sent = 0i64;
    for round in 0..4 {
        let clients: Vec<_> = (0..8).map(|_| server.login("clin")).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new((0i64, 0i64)));
        let url = server.url(&format!("/person/{id}"));
        let threads: Vec<_> = clients
            .into_iter()
            .map(|c| {
                let (stop, tally, url) = (Arc::clone(&stop), Arc::clone(&tally), url.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        tally.lock().unwrap().1 += 1;
                        let Ok(r) = c.get(&url).send() else { break };
                        let ok = r.status() == 200;
                        // A page counts as received only when its whole body arrived.
                        if ok && r.text().is_ok_and(|t| t.contains("</html>")) {
                            tally.lock().unwrap().0 += 1;
                        }
                    }
                })
            })
            .collect();
        let wait = Duration::from_millis(200 + rng.next() % 1500);
        let started = Instant::now();
        while started.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(5));
        }
        let env = server.kill();
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().unwrap();
        }
        let (ok, tried) = *tally.lock().unwrap();
        received += ok;
        sent += tried;
        eprintln!("round {round}: killed after {wait:?}; {ok} pages received");
        let r = env.run(&["audit", "verify"]);
        assert_eq!(r.code, 0, "round {round}: {}{}", r.stdout, r.stderr);
        let logged = events(&env);
        assert!(
            logged >= received,
            "round {round}: {received} pages received but only {logged} view events"
        );
        assert!(
            logged <= sent,
            "more events ({logged}) than requests ({sent})"
        );
        server = Server::start_in(env);
    }
    assert!(
        received > 0,
        "no page was received: the test proved nothing"
    );
}
