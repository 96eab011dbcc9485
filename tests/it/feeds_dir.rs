//! Drop folders, the claim → processing → done / quarantine lifecycle, `scan`, `feeds`, and
//! backup / restore, through the real binary on real folders.

use super::support::*;
use std::path::{Path, PathBuf};

fn patients(seed: u32) -> String {
    let n = nhs_number(seed);
    [
        a08(
            "D1",
            "20240101090000",
            &format!("DM{seed}A"),
            &n,
            "Okafor",
            "Grace",
            "19540312",
        ),
        a08(
            "D2",
            "20240101100000",
            &format!("DM{seed}B"),
            &nhs_number(seed + 50),
            "Hale",
            "Tom",
            "19800704",
        ),
    ]
    .concat()
}

fn setup() -> (Env, PathBuf) {
    let env = Env::new();
    env.add_source("PAS", "acute", "hl7v2");
    let inbox = env.data_dir().join("inbox/PAS");
    std::fs::create_dir_all(&inbox).unwrap();
    (env, inbox)
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn done_files(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = files_under(&env.data_dir().join("done/PAS"))
        .into_iter()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_dropped_file_is_imported_on_the_second_scan_and_moved_to_done() {
    let (env, inbox) = setup();
    std::fs::write(inbox.join("adt-1.hl7"), patients(1)).unwrap();
    // The first scan only notes the file; it is ready when a second scan sees it unchanged.
    let first = env.ok(&["--json", "scan"]).json();
    assert_eq!(first["files"].as_array().unwrap().len(), 0);
    assert!(inbox.join("adt-1.hl7").exists());
    let second = env.ok(&["--json", "scan"]).json();
    assert_eq!(second["files"][0]["outcome"], "imported", "{second}");
    assert_eq!(second["files"][0]["accepted"], 2);
    assert!(!inbox.join("adt-1.hl7").exists());
    assert_eq!(done_files(&env), ["adt-1.hl7"]);
    assert_eq!(env.count("SELECT count(*) FROM source_person"), 2);
    assert_eq!(
        env.count("SELECT count(*) FROM job_run WHERE job = 'inbox_scan' AND outcome = 'ok'"),
        2
    );
    // The same bytes again under another name: harmless, recognised and filed as done.
    std::fs::write(inbox.join("adt-1-again.hl7"), patients(1)).unwrap();
    env.ok(&["scan"]);
    let again = env.ok(&["--json", "scan"]).json();
    assert_eq!(again["files"][0]["outcome"], "duplicate", "{again}");
    assert_eq!(done_files(&env), ["adt-1-again.hl7", "adt-1.hl7"]);
    assert_eq!(env.count("SELECT count(*) FROM source_person"), 2);
}

#[test]
fn a_broken_file_is_quarantined_with_its_reason_and_does_not_block_the_next() {
    let (env, inbox) = setup();
    std::fs::write(inbox.join("a-empty.hl7"), b"").unwrap();
    std::fs::write(inbox.join("b-good.hl7"), patients(2)).unwrap();
    env.ok(&["scan"]);
    let r = env.run(&["--json", "scan"]);
    assert_eq!(
        r.code, 1,
        "a quarantined file is a rejected input\n{}",
        r.stdout
    );
    let outcomes: Vec<(String, String)> = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().into(),
                f["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        outcomes.contains(&("a-empty.hl7".into(), "quarantined".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("b-good.hl7".into(), "imported".into())),
        "{outcomes:?}"
    );
    let q = env.data_dir().join("quarantine/PAS");
    assert!(q.join("a-empty.hl7").exists());
    let reason = std::fs::read_to_string(q.join("a-empty.hl7.reason")).unwrap();
    assert!(reason.contains("empty"), "{reason}");
    let feeds = env.ok(&["--json", "feeds"]).json();
    assert_eq!(feeds[0]["quarantined"][0]["file"], "a-empty.hl7");
    assert!(feeds[0]["quarantined"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("empty"));
}

#[test]
fn a_growing_file_is_not_claimed_until_it_stops_changing() {
    let (env, inbox) = setup();
    let whole = patients(3);
    let (half, rest) = whole.split_at(whole.len() / 2);
    let path = inbox.join("growing.hl7");
    std::fs::write(&path, half).unwrap();
    env.ok(&["scan"]);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, rest.as_bytes()).unwrap();
    drop(f);
    let r = env.ok(&["--json", "scan"]).json();
    assert_eq!(
        r["files"].as_array().unwrap().len(),
        0,
        "claimed while growing: {r}"
    );
    assert!(path.exists());
    let r = env.ok(&["--json", "scan"]).json();
    assert_eq!(r["files"][0]["outcome"], "imported");
    assert_eq!(
        r["files"][0]["accepted"], 2,
        "the whole file, not half of it"
    );
}

#[test]
fn temporary_and_hidden_files_are_ignored() {
    let (env, inbox) = setup();
    for name in [".hidden.hl7", "upload.part", "upload.TMP", "x.tmp"] {
        std::fs::write(inbox.join(name), patients(4)).unwrap();
    }
    env.ok(&["scan"]);
    let r = env.ok(&["--json", "scan"]).json();
    assert_eq!(r["files"].as_array().unwrap().len(), 0, "{r}");
    assert_eq!(files_under(&inbox).len(), 4);
    // Renamed to its final name, the upload is taken.
    std::fs::rename(inbox.join("upload.part"), inbox.join("upload.hl7")).unwrap();
    env.ok(&["scan"]);
    let r = env.ok(&["--json", "scan"]).json();
    assert_eq!(r["files"][0]["name"], "upload.hl7");
}

#[test]
fn a_file_left_in_processing_is_resumed_first() {
    let (env, _) = setup();
    let processing = env.data_dir().join("processing/PAS");
    std::fs::create_dir_all(&processing).unwrap();
    std::fs::write(processing.join("interrupted.hl7"), patients(5)).unwrap();
    let r = env.ok(&["--json", "scan"]).json();
    assert_eq!(r["files"][0]["name"], "interrupted.hl7");
    assert_eq!(r["files"][0]["outcome"], "imported");
    assert!(!processing.join("interrupted.hl7").exists());
    assert_eq!(done_files(&env), ["interrupted.hl7"]);
}

#[test]
fn an_extra_drop_folder_is_watched_too() {
    let (env, _) = setup();
    let extra = env.dir.path().join("shared-drop");
    std::fs::create_dir_all(&extra).unwrap();
    // Drop folders may only be where the operator's configuration allows.
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[feeds]\ndrop_folder_roots = [{:?}]\n",
            extra.to_str().unwrap()
        ),
    )
    .unwrap();
    env.ok(&[
        "source",
        "edit",
        "PAS",
        "--drop-folder",
        extra.to_str().unwrap(),
    ]);
    std::fs::write(extra.join("from-share.hl7"), patients(6)).unwrap();
    env.ok(&["scan"]);
    let r = env.ok(&["--json", "scan"]).json();
    assert_eq!(r["files"][0]["outcome"], "imported", "{r}");
    assert!(!extra.join("from-share.hl7").exists());
}

#[test]
fn overdue_goes_green_amber_red_and_back_to_green_when_a_file_arrives() {
    let (env, inbox) = setup();
    env.ok(&["source", "edit", "PAS", "--cadence", "daily-by 06:00"]);
    std::fs::write(inbox.join("day1.hl7"), patients(7)).unwrap();
    env.ok(&["scan", "--now", "2025-03-01T02:00:00Z"]);
    env.ok(&["scan", "--now", "2025-03-01T02:00:10Z"]);
    let status = |now: &str| {
        let j = env.ok(&["--json", "feeds", "--now", now]).json();
        j[0]["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(status("2025-03-02T05:59:00Z"), "green");
    assert_eq!(status("2025-03-02T06:00:00Z"), "amber");
    assert_eq!(status("2025-03-02T06:59:59Z"), "amber");
    assert_eq!(status("2025-03-02T07:00:00Z"), "red");
    std::fs::write(inbox.join("day2.hl7"), patients(8)).unwrap();
    env.ok(&["scan", "--now", "2025-03-02T08:00:00Z"]);
    env.ok(&["scan", "--now", "2025-03-02T08:00:10Z"]);
    assert_eq!(status("2025-03-02T08:01:00Z"), "green");
    // A bad cadence is refused with the forms it accepts.
    let r = env.run(&["source", "edit", "PAS", "--cadence", "hourly"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("daily-by"), "{}", r.stderr);
}

#[test]
fn feeds_json_has_the_health_fields() {
    let (env, inbox) = setup();
    env.ok(&["source", "edit", "PAS", "--cadence", "every 1h"]);
    std::fs::write(inbox.join("waiting.hl7"), patients(9)).unwrap();
    let j = env.ok(&["--json", "feeds"]).json();
    let row = &j[0];
    for key in [
        "source",
        "status",
        "cadence",
        "due_at",
        "last_received",
        "last_success",
        "files_today",
        "files_7d",
        "messages_today",
        "messages_7d",
        "rejects_today",
        "rejects_7d",
        "quarantined_files",
        "quarantined",
        "waiting",
        "import_lag_seconds",
    ] {
        assert!(row.get(key).is_some(), "missing {key}: {row}");
    }
    assert_eq!(row["cadence"], "every 1h");
    assert_eq!(row["waiting"], 1);
    env.ok(&["scan"]);
    env.ok(&["scan"]);
    let row = env.ok(&["--json", "feeds"]).json()[0].clone();
    assert_eq!(row["files_today"], 1);
    assert_eq!(row["messages_7d"], 2);
    assert_eq!(row["waiting"], 0);
    assert_eq!(row["status"], "green");
    assert!(env.ok(&["feeds"]).stdout.contains("PAS"));
}

fn table_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT GLOB '*_fts*' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        // Backups record job runs, and a restore records itself in the audit trail.
        .filter(|t| t != "job_run" && t != "audit_outbox")
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}

#[test]
fn backup_then_restore_gives_the_same_database_and_a_corrupt_backup_is_refused() {
    let env = Env::new();
    env.add_source("PAS", "acute", "hl7v2");
    let file = env.write("a.hl7", patients(10));
    assert_eq!(env.import("PAS", &file).code, 0);
    super::server::add_user(&env, "first", "clinician");
    let b = env.ok(&["--json", "backup"]).json();
    let backup = PathBuf::from(b["path"].as_str().unwrap());
    assert!(backup.starts_with(env.data_dir().join("backups")));
    assert_eq!(b["integrity"], "ok");
    let before = table_counts(&env.db());
    // Change the live database, then restore.
    let more = env.write("b.hl7", patients(20));
    assert_eq!(env.import("PAS", &more).code, 0);
    super::server::add_user(&env, "second", "clinician");
    assert_ne!(table_counts(&env.db()), before);
    let r = env.ok(&["restore", backup.to_str().unwrap()]);
    assert!(r.stdout.contains("before-restore"), "{}", r.stdout);
    assert_eq!(table_counts(&env.db()), before);
    let ok: String = env
        .sql()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    assert!(env.data_dir().join("sharedcare.db.before-restore").exists());
    // The audit file came back with it: the event of the change made after the backup is in
    // the copy kept from before the restore, not in the restored trail.
    let audit_backup = backup.with_file_name(
        backup
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".db", "-audit.db"),
    );
    assert!(audit_backup.is_file());
    assert!(env
        .data_dir()
        .join("sharedcare-audit.db.before-restore")
        .exists());
    assert_eq!(
        env.count(
            "SELECT count(*) FROM audit_event WHERE action = 'user-add' AND detail LIKE '%second%'"
        ),
        0
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM audit_event WHERE action = 'user-add' AND detail LIKE '%first%'"
        ),
        1
    );

    // A truncated backup and a garbled one are refused, and the database is left alone.
    let bytes = std::fs::read(&backup).unwrap();
    let truncated = env.write("truncated.db", &bytes[..bytes.len() / 2]);
    let mut garbled = bytes.clone();
    for b in garbled.iter_mut().skip(4096).step_by(7).take(20_000) {
        *b ^= 0x5a;
    }
    let garbled = env.write("garbled.db", &garbled);
    let not_db = env.write("notes.db", b"just some text, not a database at all");
    for bad in [&truncated, &garbled, &not_db] {
        let r = env.run(&["restore", bad.to_str().unwrap()]);
        assert_eq!(
            r.code,
            2,
            "{} was accepted:\n{}{}",
            bad.display(),
            r.stdout,
            r.stderr
        );
        assert!(
            r.stderr.contains("not a usable sharedcare database"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(table_counts(&env.db()), before);

    // The backup's audit log ends before the head the live one reached: the restore is
    // recorded, the head moved to it, and the chain verifies and goes on.
    let last: String = env
        .sql()
        .query_row(
            "SELECT action FROM audit_event ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(last, "restore");
    env.ok(&["audit", "verify"]);
    super::server::add_user(&env, "after", "clinician");
    env.ok(&["audit", "verify"]);
}

#[test]
fn restore_refuses_while_another_process_has_the_database_open() {
    let env = Env::new();
    env.add_source("PAS", "acute", "hl7v2");
    let b = env.ok(&["--json", "backup"]).json();
    let holder = env.sql();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM source", [], |r| r.get(0))
        .unwrap();
    let r = env.run(&["restore", b["path"].as_str().unwrap()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("in use"), "{}", r.stderr);
    drop(holder);
    env.ok(&["restore", b["path"].as_str().unwrap()]);
}

#[test]
fn backups_are_rotated() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[feeds]\nbackups_keep = 2\n",
    )
    .unwrap();
    for _ in 0..4 {
        env.ok(&["backup"]);
    }
    let dir = env.data_dir().join("backups");
    // Two backups, each the database and its audit file.
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    let databases: Vec<&String> = names.iter().filter(|n| !n.ends_with("-audit.db")).collect();
    assert_eq!(databases.len(), 2, "{names:?}");
    for db in databases {
        assert!(names.contains(&db.replace(".db", "-audit.db")), "{names:?}");
    }
}

#[test]
fn the_running_server_scans_the_inbox_on_its_schedule_and_records_the_runs() {
    let (env, inbox) = setup();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[jobs]\ninbox_scan = \"* * * * * *\"\nbackup = \"\"\n",
    )
    .unwrap();
    let server = super::server::Server::start_in(env);
    std::fs::write(inbox.join("live.hl7"), patients(30)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while done_files(&server.env) != ["live.hl7"] {
        assert!(
            std::time::Instant::now() < deadline,
            "not imported by the scheduler"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(server.env.count("SELECT count(*) FROM source_person"), 2);
    // A run is recorded when it ends, which may be just after its file reached done/.
    while server
        .env
        .count("SELECT count(*) FROM job_run WHERE job = 'inbox_scan' AND outcome = 'ok'")
        < 2
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler's runs were not recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // A running server holds the database: restore refuses.
    let r = server
        .env
        .run(&["restore", server.env.db().to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
}
