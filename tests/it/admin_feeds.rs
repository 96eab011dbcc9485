//! The administrator's feed pages over a real server: who may use them, the health table, a
//! quarantined file replayed after the source fixed it, a rejected HL7 message viewed raw,
//! replayed (still bad) and discarded with a note, CSRF refusals, sources saved from the form,
//! and the audit rows every view of raw content and every decision leaves.

use super::server::{self, Server};
use super::support::*;
use std::time::{Duration, Instant};

fn get(c: &reqwest::blocking::Client, s: &Server, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
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

fn audits(s: &Server, action: &str) -> Vec<(String, Option<i64>, String, String)> {
    let db = s.env.sql();
    let mut st = db
        .prepare(
            "SELECT actor, person_id, detail, outcome FROM audit_event WHERE action = ?1
             ORDER BY seq",
        )
        .unwrap();
    st.query_map([action], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn only_admins_see_the_feed_pages_and_the_table_shows_every_source() {
    let s = Server::start();
    let clin = s.login("clin");
    for path in [
        "/admin/feeds",
        "/admin/feeds/WGH-PAS",
        "/admin/files/1",
        "/admin/rejects/1",
    ] {
        assert_eq!(get(&clin, &s, path).0, 403, "{path}");
    }
    let r = post(&clin, &s, "/admin/sources", &[("code", "X")]);
    assert_eq!(r.status(), 403);
    assert!(!get(&clin, &s, "/").1.contains("/admin/feeds"));

    let it = s.login("it");
    assert!(get(&it, &s, "/").1.contains("href=\"/admin/feeds\""));
    let (status, page) = get(&it, &s, "/admin/feeds");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<h1").count(), 1);
    assert!(page.contains("SFTP host key fingerprint"));
    assert!(
        page.contains("SHA256:"),
        "the host key exists once SFTP ran"
    );
    for code in ["ORCHARD-GP", "RIVERSIDE-GP", "WGH-PAS"] {
        assert!(
            page.contains(&format!("href=\"/admin/feeds/{code}\"")),
            "{code}"
        );
    }
    // Status is text as well as colour.
    assert!(page.contains("class=\"status status-"));
    assert!(page.contains("No cadence set") || page.contains("On time"));
    assert!(page.contains("<th scope=\"col\">Quarantined files</th>"));

    let (status, page) = get(&it, &s, "/admin/feeds/WGH-PAS");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Recent files"));
    assert_eq!(get(&it, &s, "/admin/feeds/NOPE").0, 404);
    assert_eq!(get(&it, &s, "/admin/files/999999").0, 404);
}

#[test]
fn a_quarantined_file_is_shown_raw_and_replayed_once_fixed() {
    let s = Server::start();
    let inbox = s.env.data_dir().join("inbox/ORCHARD-GP");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("broken.json"),
        "{\"resourceType\": \"Bundle\", <script>alert(1)</script>",
    )
    .unwrap();
    scan_until(
        &s,
        "SELECT count(*) FROM feed_file WHERE name = 'broken.json' AND state = 'quarantined'",
    );
    let id: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM feed_file WHERE name = 'broken.json'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let it = s.login("it");
    let (_, page) = get(&it, &s, "/admin/feeds/ORCHARD-GP");
    assert!(
        page.contains(&format!("<a href=\"/admin/files/{id}\">broken.json</a>")),
        "{page}"
    );
    let (_, table) = get(&it, &s, "/admin/feeds");
    assert!(table.contains("ORCHARD-GP"));

    let (status, page) = get(&it, &s, &format!("/admin/files/{id}"));
    assert_eq!(status, 200);
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    assert!(!page.contains("<script>"));
    assert!(page.contains("<pre class=\"raw\""));
    let views = audits(&s, "feed-raw-view");
    assert_eq!(views.len(), 1);
    assert_eq!(
        views[0],
        ("it".into(), None, format!("file {id}"), "ok".into())
    );

    // Without the session's token nothing moves.
    let r = post(&it, &s, &format!("/admin/files/{id}/replay"), &[]);
    assert_eq!(r.status(), 403);
    let quarantined = s.env.data_dir().join("quarantine/ORCHARD-GP/broken.json");
    assert!(quarantined.exists());

    // The source sends the fix; it is written over the quarantined file, then replayed.
    let nhs = nhs_number(4242);
    std::fs::write(
        &quarantined,
        format!(
            r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":
            {{"resourceType":"Patient","id":"rp-1","identifier":[{{"system":
            "https://fhir.nhs.uk/Id/nhs-number","value":"{nhs}"}}],"name":[{{"family":"Replay",
            "given":["Rita"]}}],"gender":"female","birthDate":"1970-01-02"}}}}]}}"#
        ),
    )
    .unwrap();
    let csrf = server::hidden(&page, "csrf");
    let r = post(
        &it,
        &s,
        &format!("/admin/files/{id}/replay"),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status(), 303);
    assert!(!quarantined.exists());
    assert!(!s
        .env
        .data_dir()
        .join("quarantine/ORCHARD-GP/broken.json.reason")
        .exists());
    scan_until(
        &s,
        "SELECT count(*) FROM feed_file WHERE name = 'broken.json' AND state = 'imported'
         AND accepted = 1",
    );
    let decision: (String, String) = s
        .env
        .sql()
        .query_row(
            &format!("SELECT decision, decided_by FROM feed_file WHERE id = {id}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(decision, ("replayed".into(), "it".into()));
    let feeds = s.env.ok(&["--json", "feeds"]).json();
    let orchard = feeds
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["source"] == "ORCHARD-GP")
        .unwrap();
    assert_eq!(orchard["quarantined_files"], 0, "{orchard}");
    let replays = audits(&s, "feed-replay");
    assert_eq!(replays.len(), 1);
    assert_eq!(replays[0].1, None);
    assert!(replays[0].2.starts_with(&format!("file {id}")));
}

#[test]
fn a_rejected_message_is_viewed_raw_replayed_and_discarded_with_a_note() {
    let s = Server::start();
    let good = a08(
        "RJ1",
        "20240301090000",
        "RJ-1",
        &nhs_number(77),
        "Reject",
        "Rex",
        "19600101",
    );
    let file = s.env.write("rejects.hl7", format!("<b>junk</b>\r{good}"));
    let r = s.env.import("WGH-PAS", &file);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (id, position): (i64, String) = s
        .env
        .sql()
        .query_row(
            "SELECT x.id, x.position FROM feed_reject x JOIN feed_file f ON f.id = x.feed_file_id
             WHERE f.name = 'rejects.hl7'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let it = s.login("it");
    let (_, list) = get(&it, &s, "/admin/feeds/WGH-PAS");
    assert!(
        list.contains(&format!("href=\"/admin/rejects/{id}\"")),
        "{list}"
    );

    let (status, page) = get(&it, &s, &format!("/admin/rejects/{id}"));
    assert_eq!(status, 200);
    assert!(page.contains("&#60;b&#62;junk&#60;/b&#62;"), "{page}");
    assert!(page.contains("outside any HL7 message"));
    let views = audits(&s, "feed-raw-view");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].1, None);
    assert!(views[0].2.contains(&position));
    let csrf = server::hidden(&page, "csrf");

    // Replaying what is still junk fails, leaves it open and is audited as failed.
    let r = post(
        &it,
        &s,
        &format!("/admin/rejects/{id}/replay"),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status(), 303);
    let state: String = s
        .env
        .sql()
        .query_row(
            &format!("SELECT state FROM feed_reject WHERE id = {id}"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "open");
    assert_eq!(audits(&s, "feed-replay")[0].3, "failed");

    let discard = format!("/admin/rejects/{id}/discard");
    assert_eq!(post(&it, &s, &discard, &[("note", "no")]).status(), 403);
    assert_eq!(
        post(&it, &s, &discard, &[("csrf", &csrf), ("note", " ")]).status(),
        422
    );
    let r = post(
        &it,
        &s,
        &discard,
        &[
            ("csrf", &csrf),
            ("note", "framing noise from the interface engine"),
        ],
    );
    assert_eq!(r.status(), 303);
    let row: (String, String, String) = s
        .env
        .sql()
        .query_row(
            &format!("SELECT state, note, decided_by FROM feed_reject WHERE id = {id}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "discarded".into(),
            "framing noise from the interface engine".into(),
            "it".into()
        )
    );
    let (_, page) = get(&it, &s, &format!("/admin/rejects/{id}?done=discarded"));
    assert!(page.contains("framing noise"));
    assert!(
        !page.contains("/discard\""),
        "no more decisions on a settled unit"
    );
    let discards = audits(&s, "feed-discard");
    assert_eq!(
        discards,
        vec![("it".into(), None, format!("reject {id}"), "ok".into())]
    );
}

#[test]
fn sources_are_created_and_edited_with_the_cli_checks() {
    let s = Server::start();
    let it = s.login("it");
    let (_, form) = get(&it, &s, "/admin/sources/new");
    assert!(form.contains("<label for=\"cadence\""));
    // Options read in words; their values stay the keys the CLI takes.
    assert!(form.contains("<option value=\"mental-health\">Mental health</option>"));
    assert!(form.contains(">HL7 v2</option>"));
    let csrf = server::hidden(&form, "csrf");
    let base = [
        ("csrf", csrf.as_str()),
        ("code", "NEW-LAB"),
        ("name", "New lab"),
        ("org", "R9X"),
        ("org_name", ""),
        ("kind", "acute"),
        ("format", "hl7v2"),
        ("mapping", ""),
        ("drop_folder", ""),
        ("keys", ""),
    ];
    // The base form with some fields set to other values.
    let with = |changes: &[(&'static str, &'static str)]| {
        let mut f: Vec<(&str, &str)> = base.to_vec();
        f.push(("cadence", ""));
        for (k, v) in changes {
            f.retain(|(key, _)| key != k);
            f.push((k, v));
        }
        f
    };
    let r = post(&it, &s, "/admin/sources", &with(&[("cadence", "whenever")]));
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("role=\"alert\""));
    let r = post(
        &it,
        &s,
        "/admin/sources",
        &with(&[("keys", "ssh-rsa nonsense")]),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM source WHERE code = 'NEW-LAB'"),
        0
    );
    let r = post(
        &it,
        &s,
        "/admin/sources",
        &with(&[("cadence", "daily-by 06:00")]),
    );
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/feeds/NEW-LAB");
    let cadence: String = s
        .env
        .sql()
        .query_row(
            "SELECT cadence FROM source WHERE code = 'NEW-LAB'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cadence, "daily-by 06:00");

    let (status, edit) = get(&it, &s, "/admin/sources/NEW-LAB/edit");
    assert_eq!(status, 200);
    assert!(edit.contains("value=\"daily-by 06:00\""));
    // A CSV source cannot be made without a mapping, from the form as from the CLI.
    let r = post(
        &it,
        &s,
        "/admin/sources",
        &with(&[("code", "NEW-CSV"), ("format", "csv")]),
    );
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("needs a mapping"));
    let saves = audits(&s, "feed-source-save");
    assert_eq!(saves.len(), 1);
    assert_eq!(
        saves[0].2,
        "source NEW-LAB created; no drop folder; cadence daily-by 06:00"
    );
}

#[test]
fn the_source_form_sets_a_sources_mllp_port_and_senders_as_the_cli_does() {
    use std::io::{Read, Write};
    let s = Server::start();
    let it = s.login("it");
    let (status, edit) = get(&it, &s, "/admin/sources/WGH-PAS/edit");
    assert_eq!(status, 200);
    assert!(edit.contains("<label for=\"mllp\""), "{edit}");
    assert!(edit.contains("id=\"mllp_allow\" name=\"mllp_allow\" value=\"\""));
    let csrf = server::hidden(&edit, "csrf");
    let form =
        |code: &'static str, format: &'static str, mllp: &'static str, allow: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("existing", code.to_owned()),
                ("code", code.to_owned()),
                ("name", "Westshire General PAS".to_owned()),
                ("org", "R9W".to_owned()),
                ("org_name", String::new()),
                ("kind", "acute".to_owned()),
                ("format", format.to_owned()),
                ("mapping", String::new()),
                ("cadence", String::new()),
                ("drop_folder", String::new()),
                ("keys", String::new()),
                ("mllp", mllp.to_owned()),
                ("mllp_allow", allow.to_owned()),
            ]
        };
    let send = |f: Vec<(&str, String)>| it.post(s.url("/admin/sources")).form(&f).send().unwrap();
    // The CLI's checks refuse what the CLI refuses, and nothing is saved.
    for (mllp, allow, why) in [
        ("port 2575", "", "expected ADDR:PORT"),
        (
            "127.0.0.1:0",
            "the hospital",
            "is not an address or network",
        ),
    ] {
        let r = send(form("WGH-PAS", "hl7v2", mllp, allow));
        assert_eq!(r.status(), 422, "{mllp} {allow}");
        assert!(r.text().unwrap().contains(why), "{why}");
    }
    let r = send(form("ORCHARD-GP", "fhir", "127.0.0.1:0", ""));
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("for HL7 v2 sources"));
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM source WHERE mllp_listen IS NOT NULL OR mllp_allow IS NOT NULL"
        ),
        0
    );
    // A port of its own, and senders that are not this machine.
    let r = send(form(
        "WGH-PAS",
        "hl7v2",
        "127.0.0.1:0",
        "192.0.2.10, 10.1.0.0/16",
    ));
    assert_eq!(r.status(), 303);
    let (_, edit) = get(&it, &s, "/admin/sources/WGH-PAS/edit");
    assert!(edit.contains("value=\"127.0.0.1:0\""));
    assert!(edit.contains("value=\"192.0.2.10, 10.1.0.0/16\""));
    let saves = audits(&s, "feed-source-save");
    assert!(
        saves
            .last()
            .unwrap()
            .2
            .ends_with("; MLLP port 127.0.0.1:0; MLLP senders 192.0.2.10, 10.1.0.0/16"),
        "{saves:?}"
    );
    // Heard from the next start: the port is bound, and loopback is not an allowed sender, so
    // its connection is closed with no answer.
    let s = Server::start_in(s.kill());
    let port = super::mllp::mllp_port(&s, "WGH-PAS");
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut frame = vec![0x0b];
    frame.extend_from_slice(super::mllp::admission("form", 1).as_bytes());
    frame.extend_from_slice(&[0x1c, 0x0d]);
    let _ = conn.write_all(&frame);
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // Emptied on the form: no port of its own, loopback only, as `--mllp ""` does.
    let it = s.login("it");
    let (_, edit) = get(&it, &s, "/admin/sources/WGH-PAS/edit");
    let csrf = server::hidden(&edit, "csrf");
    let mut f = form("WGH-PAS", "hl7v2", "", "");
    f[0].1 = csrf;
    let r = it.post(s.url("/admin/sources")).form(&f).send().unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM source WHERE mllp_listen IS NOT NULL OR mllp_allow IS NOT NULL"
        ),
        0
    );
}
