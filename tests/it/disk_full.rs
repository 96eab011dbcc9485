//! Running out of disk (issue 10, build item 5), on a real full file system: a 24 MiB tmpfs
//! mounted over the data directory. An import stops with a clear error, loses nothing already
//! committed, leaves its file to be imported (never quarantined as unreadable) and completes
//! once space returns; the server says why a write failed (507 and a page that says the disk is
//! full), keeps serving what needs no write, and recovers by itself.

use super::server::{self, Server};
use super::support::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A size-limited tmpfs mounted at a folder, unmounted when dropped.
struct Mounted(PathBuf);

impl Mounted {
    fn tmpfs(at: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
            return None;
        }
        Some(Self(at.to_path_buf()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes a filler file until the file system is full, then frees `leave` bytes of it.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    // Smaller writes take the last partial pages.
    while f.write_all(&chunk[..512]).is_ok() {}
    drop(f);
    let written = std::fs::metadata(path).unwrap().len();
    if leave == 0 {
        return;
    }
    let keep = (written.saturating_sub(leave) / 4096) * 4096;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(keep)
        .unwrap();
}

fn many_patients(from: u32, n: u32) -> String {
    (from..from + n)
        .map(|i| {
            a08(
                &format!("F{i}"),
                "20240301090000",
                &format!("FULL{i}"),
                &nhs_number(10_000 + i),
                "Fuller",
                &format!("Pat{i}"),
                "19600101",
            )
        })
        .collect()
}

fn where_is(data: &Path, name: &str) -> Vec<String> {
    ["inbox/PAS", "processing/PAS", "quarantine/PAS"]
        .iter()
        .filter(|d| data.join(d).join(name).exists())
        .map(|d| (*d).to_owned())
        .collect()
}

#[test]
fn build_item_5_running_out_of_disk_import_stops_clearly_keeps_the_file_and_completes_later() {
    let env = Env::new();
    let data = env.data_dir();
    let Some(_mount) = Mounted::tmpfs(&data, "24m") else {
        return;
    };
    std::fs::write(
        data.join("config.toml"),
        "[jobs]\ninbox_scan = \"\"\nbackup = \"\"\n",
    )
    .unwrap();
    env.add_source("PAS", "acute", "hl7v2");
    let first = env.write("first.hl7", many_patients(0, 20));
    assert_eq!(env.import("PAS", &first).code, 0);
    let committed = env.count("SELECT count(*) FROM source_person");
    assert_eq!(committed, 20);
    server::add_user(&env, "clin", "clinician");
    let s = Server::start_in(env);
    let clin = s.login("clin");
    let search = |c: &reqwest::blocking::Client| {
        let r = c.get(s.url("/search?q=fuller")).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(search(&clin).0, 200);

    std::fs::create_dir_all(data.join("inbox/PAS")).unwrap();
    std::fs::write(data.join("inbox/PAS/big.hl7"), many_patients(100, 3000)).unwrap();
    // Every later write needs new space: the write-ahead log starts empty.
    s.env
        .sql()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    fill(&data.join("filler"), 256 * 1024);

    // The first scan only notes the file (a file is ready when two scans agree on it).
    let mut said = String::new();
    let mut failed = 0;
    for _ in 0..4 {
        let r = s.env.run(&["scan"]);
        said.push_str(&r.stdout);
        said.push_str(&r.stderr);
        assert!(!said.contains("panicked"), "{said}");
        failed += usize::from(r.code != 0);
    }
    assert!(failed >= 3, "scans on a full disk succeeded: {said}");
    eprintln!("what the scans said on a full disk:\n{said}");
    assert!(
        said.contains("disk holding the data directory is full"),
        "{said}"
    );
    let at = where_is(&data, "big.hl7");
    assert!(
        at == ["inbox/PAS"] || at == ["processing/PAS"],
        "the file is waiting to be imported again, not quarantined: {at:?}\n{said}"
    );
    assert!(s.env.count("SELECT count(*) FROM source_person") >= committed);

    // The server: a look at a record must be audited first, so it fails, and says why. Space
    // the failed import's write-ahead log already took would let small writes through, so the
    // log is emptied first (with room to do it) and the disk filled to the last byte.
    std::fs::remove_file(data.join("filler")).unwrap();
    let mut emptied = false;
    for _ in 0..100 {
        let busy: i64 = s
            .env
            .sql()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .unwrap();
        if busy == 0 {
            emptied = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(emptied, "the write-ahead log could not be emptied");
    fill(&data.join("filler"), 0);
    let (status, page) = search(&clin);
    assert_eq!(status, 507, "{page}");
    assert!(page.contains("disk is full"), "{page}");
    // What needs no write still works.
    let r = s.client().get(s.url("/login")).send().unwrap();
    assert_eq!(r.status(), 200);

    // Space returns: the import completes and the server recovers by itself.
    std::fs::remove_file(data.join("filler")).unwrap();
    for _ in 0..3 {
        s.env.run(&["scan"]);
    }
    assert_eq!(where_is(&data, "big.hl7"), Vec::<String>::new(), "{said}");
    assert_eq!(
        s.env.count("SELECT count(*) FROM source_person"),
        committed + 3000
    );
    assert_eq!(search(&clin).0, 200);
    s.env.ok(&["audit", "verify"]);
    drop(s);
}

/// Found when the 1.8 M-person region (30 GB) was opened by a newer binary on a disk with 25 GB
/// free: the pre-upgrade copy filled the disk, stopped, and its half was left behind, readable
/// by anyone on the machine while it was being written.
#[test]
fn regression_a_pre_upgrade_copy_that_fills_the_disk_is_removed_and_the_upgrade_waits() {
    let env = Env::new();
    let data = env.data_dir();
    // A database as the schema before this one left it (every migration but the last), with
    // a megabyte in it: more than the backups folder will hold.
    std::fs::create_dir_all(&data).unwrap();
    let migrations = repo().join("src/store/migrations");
    let mut names: Vec<_> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names.pop();
    let older = names.len() as i64;
    {
        let conn = rusqlite::Connection::open(env.db()).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
        for name in &names {
            conn.execute_batch(&std::fs::read_to_string(migrations.join(name)).unwrap())
                .unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA user_version = {older};
             CREATE TABLE padding (b BLOB);
             INSERT INTO padding VALUES (zeroblob(1048576));
             PRAGMA wal_checkpoint(TRUNCATE);"
        ))
        .unwrap();
    }
    let version = older + 1;
    let backups = data.join("backups");
    let Some(mount) = Mounted::tmpfs(&backups, "256k") else {
        return;
    };
    let r = env.run(&["stats"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("disk"), "{}", r.stderr);
    let left: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "a partial copy was left: {left:?}");
    let still: i64 = rusqlite::Connection::open(env.db())
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(still, version - 1, "the database was not upgraded");

    // With space again the upgrade goes ahead, its copy private.
    drop(mount);
    env.ok(&["stats"]);
    let now: i64 = rusqlite::Connection::open(env.db())
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(now, version);
    let copies: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copies[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
