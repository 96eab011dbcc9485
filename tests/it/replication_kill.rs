//! The replication acceptance run: Litestream replicates to a file replica while the server
//! serves 8 reading clinicians and a generated region is imported; then the machine "dies" —
//! server, importer and Litestream SIGKILLed at one instant. A standby restored from the replica
//! passes `integrity_check` and `audit verify`, holds every file whose import had finished more
//! than `RPO_SECONDS` before the kill, and serves. The test prints the lag it saw.

use super::replication::{config, configured, copy_audit_key, litestream, Replicating};
use super::server::*;
use super::support::*;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MARGARET: &str = "9994837567";

/// The day deltas imported while the server serves: one `demo load` each, so files finish at
/// different times.
const DAYS: [&str; 8] = ["1", "2", "3", "4", "5", "6", "7", "8"];

/// The recovery point stated: Litestream ships the write-ahead log every second (about 1.5 s
/// measured here); the rest is margin for a loaded CI machine.
const RPO_SECONDS: i64 = 10;

/// Files the database says were imported: (source id, name) → when the import finished.
fn finished_files(env: &Env) -> Vec<((i64, String), DateTime<Utc>)> {
    let conn = env.sql();
    let mut st = conn
        .prepare("SELECT source_id, name, finished_at FROM feed_file WHERE state = 'imported'")
        .unwrap();
    st.query_map([], |r| {
        let at: String = r.get(2)?;
        Ok(((r.get(0)?, r.get(1)?), at))
    })
    .unwrap()
    .map(Result::unwrap)
    .map(|(key, at)| {
        let at = DateTime::parse_from_rfc3339(&at)
            .unwrap_or_else(|e| panic!("finished_at {at}: {e}"))
            .with_timezone(&Utc);
        (key, at)
    })
    .collect()
}

#[test]
fn killed_mid_import_the_replica_holds_every_file_finished_before_the_last_sync_and_serves() {
    let litestream = litestream();
    let place = tempfile::tempdir().unwrap();
    let replica = place.path().join("replica");
    let env = configured(&config(&replica, &litestream));
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    let region = place.path().join("region");
    let people = "3000";
    let generate = |day: Option<&str>| {
        let mut args = vec!["demo", "generate", "--people", people, "--out"];
        args.push(region.to_str().unwrap());
        if let Some(d) = day {
            args.extend(["--day", d]);
        }
        env.ok(&args);
    };
    generate(None);
    for day in DAYS {
        generate(Some(day));
    }
    // The region itself first, then its days, one `demo load` each, while the server serves.
    // (The generator plants three faults; their rejects make the exit status non-zero.)
    let base = env.run(&["demo", "load", region.to_str().unwrap()]);
    assert!(
        base.stdout.contains("rejects           3"),
        "{}{}",
        base.stdout,
        base.stderr
    );
    let settings = place.path().join("litestream.yml");
    std::fs::write(&settings, env.ok(&["replication", "config"]).stdout).unwrap();
    let already = env.count("SELECT count(*) FROM feed_file WHERE state = 'imported'");

    let replicating = Replicating::start(&litestream, &settings);
    // Litestream's first snapshot of the loaded region, before anything else happens.
    let shipped = |db: &str| {
        std::fs::read_dir(replica.join(db).join("ltx").join("0"))
            .is_ok_and(|mut files| files.next().is_some())
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(shipped("sharedcare") && shipped("sharedcare-audit")) {
        assert!(Instant::now() < deadline, "Litestream shipped no snapshot");
        std::thread::sleep(Duration::from_millis(200));
    }
    let s = Server::start_in(env);
    let margaret = person_with_nhs(&s.env, MARGARET);
    let stop = Arc::new(AtomicBool::new(false));
    let pages = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (s.login("clin"), s.url(&format!("/person/{margaret}")));
            let (stop, pages) = (Arc::clone(&stop), Arc::clone(&pages));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if client.get(&url).send().is_ok_and(|r| r.status() == 200) {
                        pages.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let script = DAYS
        .iter()
        .map(|d| format!("\"$0\" --data-dir \"$1\" demo load \"$2/day-{d}\" >/dev/null; "))
        .collect::<String>();
    let mut loader = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(bin())
        .arg(s.env.data_dir())
        .arg(&region)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(place.path().join("loader.err")).unwrap())
        .spawn()
        .unwrap();
    // Let the import get well under way, then kill everything at once.
    let deadline = Instant::now() + Duration::from_secs(300);
    while s
        .env
        .count("SELECT count(*) FROM feed_file WHERE state = 'imported'")
        < already + 8
    {
        assert!(
            Instant::now() < deadline && loader.try_wait().unwrap().is_none(),
            "the import did not get going: {}",
            std::fs::read_to_string(place.path().join("loader.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        loader.try_wait().unwrap().is_none(),
        "the import finished before the kill: nothing was cut short"
    );
    let killed_at = Utc::now();
    drop(replicating);
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", loader.id())])
        .status();
    let _ = loader.wait();
    let primary = s.kill();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let finished = finished_files(&primary);
    assert!(finished.len() as i64 > already, "nothing was imported");

    // A standby, with the primary's audit key copied by hand.
    let standby = configured(&config(&replica, &litestream));
    copy_audit_key(&primary, &standby);
    let restored = standby.ok(&["replication", "restore", "--json"]).json();
    assert_eq!(restored["integrity"], "ok", "{restored}");
    assert_eq!(restored["audit_ok"], true, "{restored}");
    standby.ok(&["audit", "verify"]);

    let held: HashSet<(i64, String)> = finished_files(&standby)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let missing: Vec<_> = finished.iter().filter(|(k, _)| !held.contains(k)).collect();
    let lag = missing
        .iter()
        .map(|(_, at)| (killed_at - *at).num_milliseconds())
        .max()
        .unwrap_or(0);
    eprintln!(
        "replication kill: {} files imported on the primary, {} of them missing on the standby, \
         the oldest missing finished {} ms before the kill; {} pages read meanwhile",
        finished.len(),
        missing.len(),
        lag,
        pages.load(Ordering::Relaxed)
    );
    assert!(
        lag < RPO_SECONDS * 1000,
        "a file finished {lag} ms before the kill is not on the standby"
    );

    // The standby serves the record to the same clinician.
    let t = Server::start_in(standby);
    let c = t.login("clin");
    let page = c.get(t.url(&format!("/person/{margaret}"))).send().unwrap();
    assert_eq!(page.status(), 200);
}
