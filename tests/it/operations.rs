//! What operators and their monitoring see: `/healthz` and `/readyz` without a login,
//! `/metrics` in Prometheus text format on its own address (off by default) read by the
//! reference Python parser, JSON log lines, and `sharedcare check`.

use super::server::*;
use super::support::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Margaret Thompson of the sample feeds.
const MARGARET: &str = "9994837567";

#[test]
fn health_and_readiness_answer_without_login_or_data_and_readiness_fails_with_the_database() {
    let s = Server::start();
    let anon = s.client();
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let r = anon.get(s.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "{path} set a cookie"
        );
        assert_eq!(r.text().unwrap(), body, "{path}");
    }
    // The database file overwritten under the running server: still up, no longer ready.
    let db = s.env.db();
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .write_all(&vec![0x5a; len])
        .unwrap();
    let _ = std::fs::remove_file(db.with_extension("db-wal"));
    let r = anon.get(s.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 503);
    let text = r.text().unwrap();
    assert!(text.starts_with("not ready"), "{text}");
    assert_eq!(anon.get(s.url("/healthz")).send().unwrap().status(), 200);
}

#[test]
fn metrics_are_off_by_default() {
    let s = Server::start();
    assert_eq!(
        s.metrics_port, None,
        "/metrics listened without [metrics] listen"
    );
    let r = s.client().get(s.url("/metrics")).send().unwrap();
    assert_ne!(
        r.status(),
        200,
        "/metrics answered on the web server's address"
    );
}

#[test]
fn metrics_on_their_own_address_parse_as_prometheus_text_and_count_what_happened() {
    let s = Server::start_configured(
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[jobs]\naudit_verify = \"* * * * * *\"\n",
    );
    let port = s.metrics_port.expect("no `metrics listening on` line");
    // Something to count: a record opened, a page refused, a page that is not there.
    let clin = s.login("clin");
    let person: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM person WHERE nhs_number = ?1 AND merged_into IS NULL",
            [MARGARET],
            |r| r.get(0),
        )
        .unwrap();
    let page = clin
        .get(s.url(&format!("/person/{person}")))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        s.client()
            .get(s.url("/no-such-page"))
            .send()
            .unwrap()
            .status(),
        404
    );
    let plain = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}/metrics");
    // The audit_verify job runs every second here; wait for its first clean run.
    let deadline = Instant::now() + Duration::from_secs(20);
    let families = loop {
        let r = plain.get(&url).send().unwrap();
        assert_eq!(r.status(), 200);
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = r.text().unwrap();
        assert!(
            !text.to_lowercase().contains("thompson") && !text.contains(MARGARET),
            "patient data in /metrics"
        );
        let families = parse_prometheus(&text);
        if sample(
            &families,
            "sharedcare_audit_chain_last_verified_timestamp_seconds",
            &[],
        )
        .is_some()
            || Instant::now() > deadline
        {
            break families;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let family = |name: &str| {
        families
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no {name} family"))
    };
    assert_eq!(family("sharedcare_http_requests")["type"], "counter");
    assert!(
        sample(
            &families,
            "sharedcare_http_requests_total",
            &[("route", "person"), ("status", "200")]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        sample(
            &families,
            "sharedcare_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert_eq!(
        family("sharedcare_http_request_duration_seconds")["type"],
        "histogram"
    );
    let count = sample(
        &families,
        "sharedcare_http_request_duration_seconds_count",
        &[("route", "person")],
    )
    .unwrap();
    let infinite = sample(
        &families,
        "sharedcare_http_request_duration_seconds_bucket",
        &[("route", "person"), ("le", "+Inf")],
    )
    .unwrap();
    assert_eq!(count, infinite);
    // The database's figures agree with the database.
    let accepted = s.env.count(
        "SELECT coalesce(sum(f.accepted), 0) FROM feed_file f JOIN source s ON s.id = f.source_id WHERE s.code = 'WGH-PAS'",
    );
    assert!(accepted > 0);
    assert_eq!(
        sample(
            &families,
            "sharedcare_import_messages_total",
            &[("source", "WGH-PAS")]
        ),
        Some(accepted as f64)
    );
    assert!(
        sample(
            &families,
            "sharedcare_feed_lag_seconds",
            &[("source", "WGH-PAS")]
        )
        .unwrap()
            >= 0.0
    );
    assert_eq!(
        sample(&families, "sharedcare_review_queue", &[]),
        Some(
            s.env
                .count("SELECT count(*) FROM match_review WHERE state = 'open'") as f64
        )
    );
    assert!(sample(&families, "sharedcare_quarantined_files", &[]).is_some());
    assert_eq!(
        sample(&families, "sharedcare_database_readable", &[]),
        Some(1.0)
    );
    let verified = sample(
        &families,
        "sharedcare_audit_chain_last_verified_timestamp_seconds",
        &[],
    )
    .expect("the audit chain was not verified within 20 s");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (now - verified).abs() < 120.0,
        "verified at {verified}, now {now}"
    );
    // Anything but GET /metrics is refused.
    let other = plain
        .get(format!("http://127.0.0.1:{port}/person/{person}"))
        .send()
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// The families the reference parser reads from `text` (it fails the test if it cannot).
pub(super) fn parse_prometheus(text: &str) -> Vec<serde_json::Value> {
    let mut child = Command::new("python3")
        .arg(repo().join("tests/prometheus_parse.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the Prometheus parser (scripts/test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `name` whose labels include `labels`.
pub(super) fn sample(
    families: &[serde_json::Value],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    families
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][k] == *v))
        .and_then(|s| s["value"].as_f64())
}

#[test]
fn json_log_lines_are_one_object_each() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[log]\nformat = \"json\"\n",
    )
    .unwrap();
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    // A job run the last stop interrupted: the server's start logs a warning about it.
    env.sql()
        .execute(
            "INSERT INTO job_run (job, started_at, outcome) VALUES ('backup', '2026-01-01T00:00:00Z', 'running')",
            [],
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let s = Server::start_logged(env, &log);
    let c = s.login("clin");
    assert_eq!(c.get(s.url("/")).send().unwrap().status(), 200);
    drop(c);
    let s_env = s.kill();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut objects = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
            for key in ["time", "level", "target", "message"] {
                assert!(v[key].is_string(), "no {key} in {line}");
            }
            objects += 1;
        } else {
            assert!(
                !line.starts_with("[20"),
                "a text log line with [log] format = \"json\": {line}"
            );
        }
    }
    assert!(
        text.contains("job runs were interrupted"),
        "the start's warning is not in the log:\n{text}"
    );
    assert!(objects > 0, "no JSON log lines:\n{text}");
    drop(s_env);
}

#[test]
fn check_reports_a_readable_audit_key_and_an_expired_certificate_and_exits_non_zero() {
    let env = Env::new();
    env.load_sample_feeds();
    let findings = |env: &Env| -> (i32, serde_json::Value) {
        let r = env.run(&["--json", "check"]);
        (r.code, r.json())
    };
    let ok_of = |v: &serde_json::Value, what: &str| -> bool {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["what"] == what)
            .unwrap_or_else(|| panic!("no {what} finding in {v}"))["ok"]
            .as_bool()
            .unwrap()
    };
    let (_, healthy) = findings(&env);
    for what in [
        "config",
        "certificate",
        "audit key",
        "citizens' secret key",
        "SFTP host key",
        "TLS key",
        "database",
    ] {
        assert!(ok_of(&healthy, what), "{what} needs attention: {healthy}");
    }
    // The disk may really be nearly full where the test runs: the exit code follows it.
    let disk_ok = ok_of(&healthy, "disk");

    let key = env.data_dir().join("audit.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, v) = findings(&env);
    assert_eq!(code, 1, "{v}");
    assert!(!ok_of(&v, "audit key"));
    // check reads only: the permission is reported, not changed.
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let text = env.run(&["check"]);
    assert!(
        text.stdout.contains("ATTENTION audit key") && text.stdout.contains("chmod 600"),
        "{}",
        text.stdout
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(findings(&env).0, i32::from(!disk_ok));

    // An expired certificate where the server keeps its own.
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let signing = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&signing).unwrap();
    let tls = env.data_dir().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    std::fs::write(tls.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(tls.join("key.pem"), signing.serialize_pem()).unwrap();
    std::fs::set_permissions(tls.join("key.pem"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, v) = findings(&env);
    assert_eq!(code, 1, "{v}");
    assert!(!ok_of(&v, "certificate"));
    assert!(ok_of(&v, "TLS key"));
    assert!(v.to_string().contains("expired on 2021-01-01"), "{v}");
}

#[test]
fn check_needs_attention_when_free_disk_is_under_the_configured_share() {
    let env = Env::new();
    env.load_sample_feeds();
    let disk = |percent: &str| -> (i32, serde_json::Value) {
        std::fs::write(
            env.data_dir().join("config.toml"),
            format!("[check]\nmin_disk_free_percent = {percent}\n"),
        )
        .unwrap();
        let r = env.run(&["--json", "check"]);
        let v = r.json();
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["what"] == "disk")
            .cloned()
            .unwrap();
        (r.code, f)
    };
    // No disk is wholly free: asking for 100 % finds less, and says how much there is.
    let (code, f) = disk("100.0");
    assert_eq!(code, 1, "{f}");
    assert_eq!(f["ok"], false);
    assert!(
        f["detail"].as_str().unwrap().contains("under 100 % free"),
        "{f}"
    );
    let (_, f) = disk("0.0");
    assert_eq!(f["ok"], true, "{f}");
}
