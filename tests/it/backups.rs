//! Backups that survive the server: encrypted in the age format to a recipient key from the
//! configuration, copied to a second location, restored only with the identity; the restore
//! drill, by hand and on its schedule, reported on feed health and in `/metrics`.

use super::operations::{parse_prometheus, sample};
use super::server::{self, Server};
use super::support::*;
use age::secrecy::ExposeSecret;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

/// A new age key pair: the identity written to `file`, the recipient returned.
fn key_pair(file: &Path) -> String {
    let id = age::x25519::Identity::generate();
    std::fs::write(
        file,
        format!("# test key\n{}\n", id.to_string().expose_secret()),
    )
    .unwrap();
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
    id.to_public().to_string()
}

fn hl7_patients(from: u32, n: u32) -> String {
    (from..from + n)
        .map(|i| {
            adt(
                "A28",
                "WGH",
                &format!("B{i}"),
                "20250301090000",
                &[pid(
                    &format!("M{i}"),
                    &nhs_number(7000 + i),
                    &format!("FAMILY{i}"),
                    "ALEX",
                    "19700101",
                )],
            )
        })
        .collect()
}

fn import_patients(env: &Env, from: u32, n: u32) {
    let file = env.write(&format!("p{from}.hl7"), hl7_patients(from, n));
    assert_eq!(env.import("PAS", &file).code, 0);
}

fn persons(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM person")
}

fn starts_with(path: &Path, magic: &[u8]) -> bool {
    std::fs::read(path).unwrap().starts_with(magic)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

#[test]
fn an_encrypted_backup_is_copied_offsite_and_restores_only_with_its_identity() {
    let env = Env::new();
    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let recipient = key_pair(&keys.join("backup.key"));
    let stranger = keys.join("other.key");
    key_pair(&stranger);
    let offsite = env.dir.path().join("offsite");
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[backup]\nrecipient = \"{recipient}\"\ncopy_to = \"{}\"\n",
            offsite.display()
        ),
    )
    .unwrap();
    env.add_source("PAS", "acute", "hl7v2");
    import_patients(&env, 0, 12);
    server::add_user(&env, "before", "clinician");
    let backed = env.ok(&["--json", "backup"]).json();
    let backup = PathBuf::from(backed["path"].as_str().unwrap());
    assert!(backup.to_str().unwrap().ends_with(".db.age"), "{backed}");
    assert_eq!(backed["encrypted"], true);
    let copy = PathBuf::from(backed["copied_to"].as_str().unwrap());
    assert_eq!(copy, offsite.join(backup.file_name().unwrap()));
    let at_backup = persons(&env);
    assert_eq!(at_backup, 12);

    // Both places hold the pair, encrypted, private, and nothing readable beside it.
    for dir in [env.data_dir().join("backups"), offsite.clone()] {
        let files = files_in(&dir);
        assert_eq!(files.len(), 2, "{files:?}");
        for f in &files {
            assert!(
                starts_with(f, AGE_MAGIC),
                "{} is not an age file",
                f.display()
            );
            assert!(
                !starts_with(f, SQLITE_MAGIC),
                "{} is plain SQLite",
                f.display()
            );
            assert_eq!(
                std::fs::metadata(f).unwrap().permissions().mode() & 0o077,
                0,
                "{}",
                f.display()
            );
        }
        assert!(files
            .iter()
            .any(|f| f.to_str().unwrap().ends_with("-audit.db.age")));
    }
    // Without the identity a backup is not a database, and holds no name in the clear.
    let bytes = std::fs::read(&backup).unwrap();
    assert!(!bytes.windows(8).any(|w| w == b"FAMILY10"));
    let refused = rusqlite::Connection::open(&backup)
        .and_then(|c| c.query_row("SELECT count(*) FROM person", [], |r| r.get::<_, i64>(0)));
    assert!(refused.is_err(), "an encrypted backup opened as SQLite");

    // The live database moves on.
    import_patients(&env, 100, 5);
    server::add_user(&env, "after", "clinician");
    assert_eq!(persons(&env), 17);

    let r = env.run(&["restore", copy.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--identity"), "{}", r.stderr);
    let r = env.run(&[
        "restore",
        "--identity",
        stranger.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("cannot be decrypted"), "{}", r.stderr);
    // A copy changed on its way (one byte) is refused too.
    let mut tampered = std::fs::read(&copy).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    let tampered_path = env.dir.path().join("tampered.db.age");
    std::fs::write(&tampered_path, tampered).unwrap();
    std::fs::copy(
        offsite.join(
            backup
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .replace(".db.age", "-audit.db.age"),
        ),
        env.dir.path().join("tampered-audit.db.age"),
    )
    .unwrap();
    let identity = keys.join("backup.key");
    let r = env.run(&[
        "restore",
        "--identity",
        identity.to_str().unwrap(),
        tampered_path.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(persons(&env), 17, "a refused restore changed the database");

    // From the second location, with the identity: the database as it was at the backup.
    let r = env.ok(&[
        "restore",
        "--identity",
        identity.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(r.stdout.contains("before-restore"), "{}", r.stdout);
    assert_eq!(persons(&env), at_backup);
    assert_eq!(
        env.count(
            "SELECT count(*) FROM audit_event WHERE action = 'user-add' AND detail LIKE '%after%'"
        ),
        0
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM audit_event WHERE action = 'user-add' AND detail LIKE '%before%'"
        ),
        1
    );
    env.ok(&["audit", "verify"]);
    // The decrypted files were working copies only.
    let left: Vec<PathBuf> = files_in(&env.data_dir())
        .into_iter()
        .filter(|p| p.to_str().unwrap().contains("decrypted"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_restore_drill_restores_the_newest_backup_and_reports_on_feed_health_and_metrics() {
    let env = Env::new();
    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let identity = keys.join("drill.key");
    let recipient = key_pair(&identity);
    let config = |drill_schedule: &str| {
        format!(
            "[backup]\nrecipient = \"{recipient}\"\ndrill_identity = \"{}\"\n\
             [jobs]\nbackup = \"\"\nrestore_drill = \"{drill_schedule}\"\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\n",
            identity.display()
        )
    };
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(env.data_dir().join("config.toml"), config("")).unwrap();
    env.add_source("PAS", "acute", "hl7v2");

    // No backup yet: the drill fails, and says why.
    let r = env.run(&["restore-drill"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("no backup"), "{}", r.stderr);
    let feeds = env.ok(&["feeds"]).stdout;
    assert!(feeds.contains("Restore drill: FAILED"), "{feeds}");

    import_patients(&env, 0, 9);
    env.ok(&["backup"]);
    let drill = env.ok(&["--json", "restore-drill"]).json();
    assert_eq!(drill["ok"], true, "{drill}");
    assert_eq!(drill["encrypted"], true);
    assert_eq!(drill["integrity"], "ok");
    assert_eq!(drill["audit_ok"], true);
    assert_eq!(drill["counts"]["persons"], 9);
    assert!(
        !env.data_dir().join("drill").exists()
            || files_in(&env.data_dir().join("drill")).is_empty(),
        "a passed drill left its scratch copy"
    );
    let feeds = env.ok(&["feeds"]).stdout;
    assert!(feeds.contains("Restore drill: PASSED"), "{feeds}");
    assert!(feeds.contains("9 persons"), "{feeds}");
    assert!(feeds.contains("Backup: PASSED"), "{feeds}");

    // A backup whose audit trail was altered after it was written: restored, it fails the
    // chain check, and the drill says so (exit 3) and keeps the copy.
    let newest = files_in(&env.data_dir().join("backups"))
        .into_iter()
        .find(|p| p.to_str().unwrap().ends_with("-audit.db.age"))
        .unwrap();
    let plain = env.dir.path().join("audit-plain.db");
    let ids = age::IdentityFile::from_file(identity.to_str().unwrap().to_owned())
        .unwrap()
        .into_identities()
        .unwrap();
    let decryptor = age::Decryptor::new(std::fs::File::open(&newest).unwrap()).unwrap();
    let mut reader = decryptor
        .decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .unwrap();
    std::io::copy(&mut reader, &mut std::fs::File::create(&plain).unwrap()).unwrap();
    let altered = rusqlite::Connection::open(&plain).unwrap();
    let changed = altered
        .execute(
            "UPDATE audit_event SET detail = detail || ' (altered)' WHERE seq = (SELECT max(seq) FROM audit_event)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(altered);
    let to = age::x25519::Recipient::from_str(&recipient).unwrap();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&to as &dyn age::Recipient)).unwrap();
    let mut writer = encryptor
        .wrap_output(std::fs::File::create(&newest).unwrap())
        .unwrap();
    std::io::copy(&mut std::fs::File::open(&plain).unwrap(), &mut writer).unwrap();
    writer.finish().unwrap();
    let r = env.run(&["--json", "restore-drill"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let failed = r.json();
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["integrity"], "ok");
    assert_eq!(failed["audit_ok"], false);
    assert!(Path::new(failed["kept"].as_str().unwrap()).is_dir());
    let feeds = env.ok(&["feeds"]).stdout;
    assert!(feeds.contains("Restore drill: FAILED"), "{feeds}");

    // On its schedule, in the running server: the drill runs by itself, and its failure is on
    // the feed health page and in /metrics.
    std::fs::write(env.data_dir().join("config.toml"), config("* * * * * *")).unwrap();
    let runs_before = env.count("SELECT count(*) FROM job_run WHERE job = 'restore_drill'");
    server::add_user(&env, "it", "admin");
    let s = Server::start_in(env);
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.env.count(
        "SELECT count(*) FROM job_run WHERE job = 'restore_drill' AND finished_at IS NOT NULL",
    ) <= runs_before
    {
        assert!(Instant::now() < deadline, "the scheduled drill never ran");
        std::thread::sleep(Duration::from_millis(250));
    }
    let it = s.login("it");
    let page = it
        .get(s.url("/admin/feeds"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let drill_row = page
        .split("<tr data-job=\"restore_drill\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("no restore drill row:\n{page}"));
    assert!(drill_row.contains("Failed"), "{drill_row}");
    assert!(drill_row.contains("FAILED"), "{drill_row}");
    let backup_row = page
        .split("<tr data-job=\"backup\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap();
    assert!(backup_row.contains("Passed"), "{backup_row}");
    let port = s.metrics_port.expect("no metrics listener");
    let text = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    let families = parse_prometheus(&text);
    assert_eq!(
        sample(&families, "sharedcare_restore_drill_passed", &[]),
        Some(0.0),
        "{text}"
    );
    assert!(sample(
        &families,
        "sharedcare_backup_last_success_timestamp_seconds",
        &[]
    )
    .is_some_and(|t| t > 1.7e9));
    assert!(sample(
        &families,
        "sharedcare_restore_drill_last_run_timestamp_seconds",
        &[]
    )
    .is_some());
}
