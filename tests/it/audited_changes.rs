//! One change, one transaction, with its audit event (issue 10, build item 1, feed side):
//! with the audit trail refusing every write (a trigger on `audit_event` in the test's own
//! database file), no source, SFTP key or password, drop folder, replay or discard, review
//! decision or unmerge changes, whether asked from the command line or the web pages.

use super::server::{self, Server};
use super::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn refuse_audit_writes(env: &Env) {
    env.refuse_audit_writes("audit refused");
}

fn allow_audit_writes(env: &Env) {
    env.allow_audit_writes();
}

/// Everything the feed-side use cases change, as text to compare before and after.
fn feed_state(env: &Env) -> Vec<String> {
    let conn = env.sql();
    let mut out = env.snapshot();
    for sql in [
        "SELECT code || '|' || name || '|' || coalesce(cadence, '-') || '|' || coalesce(drop_folder, '-') FROM source ORDER BY id",
        "SELECT source_id || '|' || public_key FROM source_key ORDER BY id",
        "SELECT source_id || '|' || password_hash FROM source_sftp_password ORDER BY source_id",
        "SELECT id || '|' || state || '|' || coalesce(decision, '-') FROM feed_file ORDER BY id",
        "SELECT id || '|' || state || '|' || reason FROM feed_reject ORDER BY id",
        "SELECT id || '|' || state FROM match_review ORDER BY id",
        "SELECT id || '|' || coalesce(person_id, '-') || '|' || coalesce(link_kind, '-') FROM source_person ORDER BY id",
    ] {
        let mut st = conn.prepare(sql).unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

fn audit_count(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM audit_event")
}

fn ssh_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    key.with_extension("pub")
}

fn fingerprint(public: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

fn set_sftp_password(env: &Env, source: &str) -> i32 {
    let mut child = env
        .command(&["sftp", "password", "set", source, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long sftp password")
        .unwrap();
    child.wait().unwrap().code().unwrap_or(-1)
}

/// A possible match waiting for review (Margaret Smith at the hospital; the council's record
/// of her under her maiden name), and an A40 merge of two hospital numbers: something to
/// decide and something to unmerge. Returns (review id, merged person).
fn review_and_merge(env: &Env, hospital: &str, council: &str) -> (i64, i64) {
    let nhs = nhs_number(20);
    let r = env.import(
        hospital,
        &env.write(
            "a.hl7",
            a08(
                "P1",
                "20240101090000",
                "MRN-P",
                &nhs,
                "Smith",
                "Margaret",
                "19380505",
            )
            .replace("|M|||", "|F|||"),
        ),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let maiden =
        "MSH|^~\\&|ASC|KCC|SC|REG|20240102090000||ADT^A28|C1|P|2.4\rEVN|A28|20240102090000\r\
         PID|1||CL-77^^^KCC^PI||Brown^Margaret||19380505|F|||1 High Street^^Maidstone^^ME14 1AA\r";
    let r = env.import(council, &env.write("c.hl7", maiden));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let nhs = nhs_number(10);
    let pid_b = "PID|1||MRN-B^^^RWF^MR||Patell^Ravi||19450220|M|||9 Mill Lane^^Ashford^^TN23 1AB\r";
    let feed = [
        a08("A1", "20240101090000", "MRN-A", &nhs, "Patel", "Ravi", "19450202"),
        format!("MSH|^~\\&|PAS|RWF|SC|REG|20240102090000||ADT^A08|B1|P|2.4\rEVN|A08|20240102090000\r{pid_b}"),
        format!(
            "MSH|^~\\&|PAS|RWF|SC|REG|20240103090000||ADT^A40|M1|P|2.4\rEVN|A40|20240103090000\r\
             PID|1||MRN-A^^^RWF^MR~{nhs}^^^NHS^NH||Patel^Ravi||19450202|M\rMRG|MRN-B^^^RWF^MR\r"
        ),
    ]
    .concat();
    let r = env.import(hospital, &env.write("merge.hl7", feed));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let review: i64 = env
        .sql()
        .query_row(
            "SELECT id FROM match_review WHERE state = 'open'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (review, person_of(env, "MRN-A"))
}

/// A config.toml letting drop folders live under `root` (drop folders are off by default).
fn drop_folder_root(root: &Path) -> String {
    format!(
        "[feeds]\ndrop_folder_roots = [{:?}]\n",
        root.to_str().unwrap()
    )
}

#[test]
fn regression_cli_feed_changes_do_not_happen_when_their_audit_event_cannot_be_written() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        drop_folder_root(env.dir.path()),
    )
    .unwrap();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    env.add_source("KCC-ASC", "social-care", "hl7v2");
    let (review, merged) = review_and_merge(&env, "RWF-PAS", "KCC-ASC");
    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let kept = ssh_key(&keys, "kept");
    let refused = ssh_key(&keys, "refused");
    env.ok(&["sftp", "key", "add", "RWF-PAS", kept.to_str().unwrap()]);
    assert_eq!(set_sftp_password(&env, "RWF-PAS"), 0);
    let drop = env.dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();

    refuse_audit_writes(&env);
    let before = feed_state(&env);
    let events = audit_count(&env);
    let drop_text = drop.to_str().unwrap().to_owned();
    let review_text = review.to_string();
    let merged_text = merged.to_string();
    let attempts: Vec<Vec<&str>> = vec![
        vec![
            "source", "add", "NEW-LAB", "--name", "New lab", "--org", "R9X", "--kind", "acute",
            "--format", "hl7v2",
        ],
        vec!["source", "edit", "RWF-PAS", "--drop-folder", &drop_text],
        vec!["source", "edit", "RWF-PAS", "--cadence", "every 1h"],
        vec![
            "source",
            "edit",
            "RWF-PAS",
            "--sftp-key",
            refused.to_str().unwrap(),
        ],
        vec!["sftp", "key", "add", "KCC-ASC", refused.to_str().unwrap()],
        vec!["sftp", "key", "remove", "RWF-PAS", ""],
        vec!["sftp", "password", "clear", "RWF-PAS"],
        vec!["review", "link", &review_text],
        vec!["review", "reject", &review_text],
        vec!["unmerge", &merged_text],
    ];
    let kept_fingerprint = fingerprint(&kept);
    for mut args in attempts {
        if args.last() == Some(&"") {
            args.pop();
            args.push(&kept_fingerprint);
        }
        let r = env.run(&args);
        assert_eq!(r.code, 3, "{args:?} without its audit event: {}", r.stderr);
        assert!(feed_state(&env) == before, "{args:?} changed something");
        assert!(r.stderr.contains("audit"), "{args:?}: {}", r.stderr);
    }
    assert_eq!(set_sftp_password(&env, "KCC-ASC"), 3);
    assert_eq!(feed_state(&env), before);
    assert_eq!(audit_count(&env), events);

    // With the audit trail back, the same commands work, each with its event.
    allow_audit_writes(&env);
    env.ok(&["source", "edit", "RWF-PAS", "--drop-folder", &drop_text]);
    env.ok(&["sftp", "key", "remove", "RWF-PAS", &kept_fingerprint]);
    env.ok(&["review", "reject", &review_text]);
    env.ok(&["unmerge", &merged_text]);
    let actions: Vec<String> = {
        let db = env.sql();
        let mut st = db
            .prepare("SELECT action FROM audit_event WHERE seq > ?1 ORDER BY seq")
            .unwrap();
        st.query_map([events], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for action in [
        "feed-source-save",
        "sftp-key-remove",
        "review-reject",
        "unmerge",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    let detail: String = env
        .sql()
        .query_row(
            "SELECT detail FROM audit_event WHERE action = 'feed-source-save'
             ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(detail.starts_with("source RWF-PAS updated"), "{detail}");
    assert!(detail.contains("drop folder"), "{detail}");
}

fn post(
    c: &reqwest::blocking::Client,
    s: &Server,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::blocking::Response {
    c.post(s.url(path)).form(form).send().unwrap()
}

/// Scans (by hand, beside the server's own scan job) until `sql` counts at least one row.
fn scan_until(s: &Server, sql: &str) {
    let start = Instant::now();
    while s.env.count(sql) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never happened: {sql}"
        );
        s.env.run(&["scan"]);
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn regression_web_feed_changes_do_not_happen_when_their_audit_event_cannot_be_written() {
    // Drop folders may live under the test's temporary folder (they are off by default).
    let root = tempfile::tempdir().unwrap();
    let s = Server::start_configured(&drop_folder_root(root.path()));
    s.env.add_source("RWF-PAS", "acute", "hl7v2");
    s.env.add_source("KCC-ASC", "social-care", "hl7v2");
    let (review, merged) = review_and_merge(&s.env, "RWF-PAS", "KCC-ASC");
    // A quarantined file and a rejected unit to decide on.
    let inbox = s.env.data_dir().join("inbox/ORCHARD-GP");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join("broken.json"), "{\"resourceType\": \"Bundle\", ").unwrap();
    scan_until(
        &s,
        "SELECT count(*) FROM feed_file WHERE name = 'broken.json' AND state = 'quarantined'",
    );
    let file: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM feed_file WHERE name = 'broken.json'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let good = a08(
        "RJ1",
        "20240301090000",
        "RJ-1",
        &nhs_number(77),
        "Reject",
        "Rex",
        "19600101",
    );
    let r = s.env.import(
        "WGH-PAS",
        &s.env.write("rejects.hl7", format!("junk\r{good}")),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let reject: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT x.id FROM feed_reject x JOIN feed_file f ON f.id = x.feed_file_id
             WHERE f.name = 'rejects.hl7'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let drop = root.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let keys = s.env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let key_text = std::fs::read_to_string(ssh_key(&keys, "web")).unwrap();

    let it = s.login("it");
    let form = it
        .get(s.url("/admin/sources/new"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = server::hidden(&form, "csrf");
    let quarantined = s.env.data_dir().join("quarantine/ORCHARD-GP/broken.json");
    assert!(quarantined.exists());

    refuse_audit_writes(&s.env);
    let before = feed_state(&s.env);
    let events = audit_count(&s.env);
    let source = |code: &'static str, drop: &str, keys: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf.as_str()),
            ("code", code),
            ("name", "A lab"),
            ("org", "R9X"),
            ("org_name", ""),
            ("kind", "acute"),
            ("format", "hl7v2"),
            ("mapping", ""),
            ("cadence", "every 1h"),
            ("drop_folder", drop),
            ("keys", keys),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    let mut edit = source("RWF-PAS", drop.to_str().unwrap(), &key_text);
    edit.push(("existing".into(), "RWF-PAS".into()));
    let note = [
        ("csrf", csrf.as_str()),
        ("note", "the sender will resend it"),
    ];
    let attempts: Vec<(String, Vec<(String, String)>)> = vec![
        ("/admin/sources".into(), source("NEW-LAB", "", "")),
        ("/admin/sources".into(), edit),
        (format!("/admin/files/{file}/replay"), owned(&note)),
        (format!("/admin/files/{file}/discard"), owned(&note)),
        (format!("/admin/rejects/{reject}/replay"), owned(&note)),
        (format!("/admin/rejects/{reject}/discard"), owned(&note)),
        (format!("/review/{review}/link"), owned(&note)),
        (format!("/review/{review}/reject"), owned(&note)),
        (format!("/review/person/{merged}/unmerge"), owned(&note)),
    ];
    for (path, form) in attempts {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = post(&it, &s, &path, &form);
        assert_eq!(r.status(), 500, "{path} answered without its audit event");
        assert!(feed_state(&s.env) == before, "{path} changed something");
        assert!(quarantined.exists(), "{path} moved the quarantined file");
    }
    assert_eq!(audit_count(&s.env), events);

    // With the audit trail back, the same decisions go through, each with its event.
    allow_audit_writes(&s.env);
    let r = post(&it, &s, &format!("/admin/files/{file}/discard"), &note);
    assert_eq!(r.status(), 303);
    assert!(!quarantined.exists());
    let r = post(&it, &s, &format!("/admin/rejects/{reject}/discard"), &note);
    assert_eq!(r.status(), 303);
    let discards = s.env.count(&format!(
        "SELECT count(*) FROM audit_event WHERE action = 'feed-discard' AND seq > {events}"
    ));
    assert_eq!(discards, 2);
}

fn owned(form: &[(&str, &str)]) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_quarantined_file_moved_for_a_decision_that_cannot_commit_is_put_back() {
    let s = Server::start();
    let inbox = s.env.data_dir().join("inbox/ORCHARD-GP");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join("broken.json"), "{\"resourceType\": \"Bundle\", ").unwrap();
    scan_until(
        &s,
        "SELECT count(*) FROM feed_file WHERE name = 'broken.json' AND state = 'quarantined'",
    );
    let file: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM feed_file WHERE name = 'broken.json'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let quarantine = s.env.data_dir().join("quarantine/ORCHARD-GP");
    let quarantined = quarantine.join("broken.json");
    let reason = quarantine.join("broken.json.reason");
    let reason_text = std::fs::read_to_string(&reason).unwrap();
    let it = s.login("it");
    let page = it
        .get(s.url(&format!("/admin/files/{file}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = server::hidden(&page, "csrf");
    // The audit event is written, but the transaction fails at COMMIT: a deferred foreign key
    // that a trigger on the decision's event breaks.
    s.env
        .sql()
        .execute_batch(
            "CREATE TABLE trap_parent (id INTEGER PRIMARY KEY);
             CREATE TABLE trap (parent INTEGER REFERENCES trap_parent (id)
                                DEFERRABLE INITIALLY DEFERRED);
             CREATE TRIGGER trap_decisions AFTER INSERT ON audit_outbox
             WHEN NEW.action IN ('feed-replay', 'feed-discard')
             BEGIN INSERT INTO trap VALUES (42); END;",
        )
        .unwrap();
    let before = feed_state(&s.env);
    let events = audit_count(&s.env);
    for (action, form) in [
        ("replay", vec![("csrf", csrf.as_str())]),
        (
            "discard",
            vec![
                ("csrf", csrf.as_str()),
                ("note", "the sender will resend it"),
            ],
        ),
    ] {
        let r = post(&it, &s, &format!("/admin/files/{file}/{action}"), &form);
        assert_eq!(r.status(), 500, "{action} committed");
        assert!(feed_state(&s.env) == before, "{action} changed something");
        assert_eq!(audit_count(&s.env), events);
        assert!(quarantined.exists(), "{action}: the file was not put back");
        assert_eq!(std::fs::read_to_string(&reason).unwrap(), reason_text);
        assert!(!inbox.join("broken.json").exists(), "{action}");
        let discarded = s.env.data_dir().join("discarded/ORCHARD-GP");
        let left: Vec<_> = std::fs::read_dir(&discarded)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{action} left {left:?} in discarded/");
    }
}
