//! Streams from the third-party client: acknowledged and applied exactly once, through a crash.

use super::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn mllp_stream_from_a_third_party_client_is_acknowledged_aa_and_applied_exactly_once() {
    let env = Env::new();
    live_source(&env, "LIVE-PAS");
    env.ok(&["source", "edit", "LIVE-PAS", "--cadence", "every 1h"]);
    super::super::server::add_user(&env, "it", "admin");
    let server = Server::start_in(env);
    let port = mllp_port(&server, "LIVE-PAS");
    let n = stream_length();
    let messages: Vec<String> = (0..n).map(|i| admission("S", i)).collect();
    let file = stream_file(&server.env, "stream.hl7", &messages);

    let started = Instant::now();
    let (ok, out) = send_file(port, &file);
    let took = started.elapsed();
    assert!(ok, "mllp_send failed");
    let acks = acks(&out);
    assert_eq!(acks.len(), n, "one acknowledgement per message");
    for (i, (code, id)) in acks.iter().enumerate() {
        assert_eq!(
            (code.as_str(), id.as_str()),
            ("AA", format!("S-{i:05}").as_str())
        );
    }
    eprintln!(
        "{n} messages acknowledged in {:.1} s: {:.0} msg/s, one sender",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    let n64 = n as i64;
    assert_eq!(applied(&server.env, "LIVE-PAS"), (n64, n64, n64));
    assert_eq!(
        server.env.count("SELECT count(*) FROM feed_reject"),
        0,
        "no message of the stream was rejected"
    );
    let entries = server.env.count("SELECT count(*) FROM entry");

    // The same messages again: acknowledged, and nothing changes.
    let again = stream_file(&server.env, "again.hl7", &messages[..100]);
    let (ok, out) = send_file(port, &again);
    assert!(ok);
    assert_eq!(accepted(&out).len(), 100);
    assert_eq!(applied(&server.env, "LIVE-PAS"), (n64, n64, n64));
    assert_eq!(server.env.count("SELECT count(*) FROM entry"), entries);

    // Feed health: the live source, its port, the messages of the last minute, and a cadence
    // that judges live messages as it judges files.
    let feeds = server.env.ok(&["--json", "feeds"]).json();
    let row = feeds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "LIVE-PAS")
        .unwrap();
    assert_eq!(row["mllp"], "127.0.0.1:0");
    assert_eq!(row["status"], "green");
    assert!(row["last_received"].is_string());
    if took < Duration::from_secs(50) {
        assert!(row["messages_per_minute"].as_i64().unwrap() >= n64, "{row}");
    }
    let later = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let feeds = server.env.ok(&["--json", "feeds", "--now", &later]).json();
    let row = feeds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "LIVE-PAS")
        .unwrap();
    assert_eq!(
        row["status"], "red",
        "a live source that went quiet raises the alarm"
    );
    let page = server
        .login("it")
        .get(server.url("/admin/feeds"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("live over MLLP on 127.0.0.1:0"), "{page}");
    assert!(page.contains("Messages / minute"));
}

#[test]
fn mllp_sigkill_mid_stream_then_resend_of_the_unacknowledged_loses_nothing_and_duplicates_nothing()
{
    let env = Env::new();
    live_source(&env, "LIVE-PAS");
    let server = Server::start_in(env);
    let port = mllp_port(&server, "LIVE-PAS");
    let n = stream_length();
    let messages: Vec<String> = (0..n).map(|i| admission("K", i)).collect();
    let file = stream_file(&server.env, "stream.hl7", &messages);
    // The client's output goes to a file: a pipe nobody reads would stop it once full.
    let printed = server.env.dir.path().join("client.out");
    let mut client = Command::new(mllp_send())
        .args(["--port", &port.to_string(), "-f"])
        .arg(&file)
        .arg("127.0.0.1")
        .stdout(std::fs::File::create(&printed).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the server once a quarter of the stream is stored, while the client still sends.
    let deadline = Instant::now() + Duration::from_secs(120);
    while applied(&server.env, "LIVE-PAS").0 < (n / 4) as i64 {
        assert!(Instant::now() < deadline, "the stream did not get going");
        std::thread::sleep(Duration::from_millis(20));
    }
    let env = server.kill();
    let status = client.wait().unwrap();
    assert!(
        !status.success(),
        "the client saw the server die mid-stream"
    );
    let acked = accepted(&std::fs::read(&printed).unwrap());
    let stored = applied(&env, "LIVE-PAS").0 as usize;
    assert!(
        acked.len() >= n / 4 - 1 && acked.len() < n,
        "acknowledged {}",
        acked.len()
    );
    assert!(
        stored >= acked.len(),
        "every acknowledged message was committed first"
    );

    // Restart; the client resends what it holds no acknowledgement for.
    let server = Server::start_in(env);
    let port = mllp_port(&server, "LIVE-PAS");
    let rest: Vec<String> = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| !acked.contains(&format!("K-{i:05}")))
        .map(|(_, m)| m.clone())
        .collect();
    let file = stream_file(&server.env, "rest.hl7", &rest);
    let (ok, out) = send_file(port, &file);
    assert!(ok);
    assert_eq!(
        accepted(&out).len(),
        rest.len(),
        "every re-sent message is acknowledged AA"
    );
    eprintln!(
        "killed with {} acknowledged and {stored} stored; {} re-sent",
        acked.len(),
        rest.len()
    );
    let n64 = n as i64;
    assert_eq!(
        applied(&server.env, "LIVE-PAS"),
        (n64, n64, n64),
        "every message applied exactly once"
    );
    assert_eq!(
        server.env.count(
            "SELECT count(DISTINCT c) FROM (SELECT count(*) c FROM entry GROUP BY source_person_id)"
        ),
        1,
        "every admitted person holds the same entries: none twice"
    );
}
