//! The privacy officer's pages over a real server: the alert queue after a self-claim and a
//! broken glass (references, no patient names, closing with a note), "who looked at this
//! person" by id and NHS number with its CSV export (formula cells made inert), "what did
//! this user look at" with date filters, "view as a role", and who may use them.

use super::server::{self, Server, PASSWORD};
use reqwest::blocking::{Client, Response};

const MARGARET: &str = "9994837567";
/// No registered GP, so no one at X99001 has a relationship with him.
const DANIEL: &str = "9997661001";

fn person(s: &Server, nhs: &str) -> i64 {
    s.env
        .sql()
        .query_row(
            "SELECT id FROM person WHERE nhs_number = ?1 AND merged_into IS NULL",
            [nhs],
            |r| r.get(0),
        )
        .unwrap()
}

fn get(c: &Client, s: &Server, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn post(c: &Client, s: &Server, path: &str, form: &[(&str, &str)]) -> Response {
    c.post(s.url(path)).form(form).send().unwrap()
}

/// `(actor, person, detail)` of every audit row with this action.
fn audits(s: &Server, action: &str) -> Vec<(Option<String>, Option<i64>, Option<String>)> {
    let db = s.env.sql();
    let mut st = db
        .prepare("SELECT actor, person_id, detail FROM audit_event WHERE action = ?1 ORDER BY seq")
        .unwrap();
    st.query_map([action], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The rows of the table with this id, as the text of each row.
fn table_rows(html: &str, id: &str) -> Vec<String> {
    let Some(start) = html.find(&format!("<table id=\"{id}\"")) else {
        return Vec::new();
    };
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr").skip(1).map(str::to_owned).collect()
}

/// The rows of self-claims and broken glass.
fn claim_rows(rows: Vec<String>) -> Vec<String> {
    rows.into_iter()
        .filter(|r| r.contains(">self-claim</td>") || r.contains(">break-glass</td>"))
        .collect()
}

fn break_glass(s: &Server, c: &Client, id: i64) {
    let page = c.get(s.url(&format!("/person/{id}"))).send().unwrap();
    assert_eq!(page.status(), 403);
    let csrf = server::hidden(&page.text().unwrap(), "csrf");
    let r = post(
        c,
        s,
        &format!("/person/{id}/break-glass"),
        &[
            ("csrf", csrf.as_str()),
            ("reason_code", "emergency-care"),
            ("reason", "Collapsed in the waiting room"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
}

#[test]
fn alerts_reports_and_csv_for_the_privacy_officer() {
    let s = Server::start();
    let daniel = person(&s, DANIEL);
    let (family, given): (String, String) = s
        .env
        .sql()
        .query_row(
            "SELECT family, given FROM person WHERE id = ?1",
            [daniel],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();

    let clin = s.login("clin");
    server::claim(&s, &clin, daniel);
    assert_eq!(get(&clin, &s, &format!("/person/{daniel}")).0, 200);
    server::add_user(&s.env, "er", "acute-clinician");
    let er = s.login("er");
    break_glass(&s, &er, daniel);
    let references: Vec<(i64, String, String)> = {
        let db = s.env.sql();
        let mut st = db
            .prepare(
                "SELECT id, reference, kind FROM privacy_alert
                 WHERE kind IN ('self-claim', 'break-glass') ORDER BY id",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(references.len(), 2, "{references:?}");
    let (claim_id, claim_ref, _) = &references[0];
    let (_, glass_ref, glass_kind) = &references[1];
    assert_eq!(glass_kind, "break-glass");

    // The queue: both alerts by reference, the person by id only.
    let po = s.login("po");
    let home = get(&po, &s, "/").1;
    for link in ["/privacy/alerts", "/privacy/reports", "/privacy/view-as"] {
        assert!(home.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(!home.contains("/admin/users"));
    let (status, queue) = get(&po, &s, "/privacy/alerts");
    assert_eq!(status, 200, "{queue}");
    // (Granting the test users their clinical and privacy roles raised alerts too.)
    let rows = claim_rows(table_rows(&queue, "alerts"));
    assert_eq!(rows.len(), 2, "{queue}");
    assert!(rows[0].contains(glass_ref.as_str()), "newest first");
    assert!(rows[1].contains(claim_ref.as_str()));
    assert!(claim_ref.starts_with("PA-") && glass_ref.starts_with("PA-"));
    assert!(rows[0].contains("emergency-care") && rows[0].contains(">er</a>"));
    assert!(rows[1].contains("clinician@X99001") && rows[1].contains(">clin</a>"));
    assert!(queue.contains(&format!("/privacy/person?person={daniel}")));
    for name in [&family, &given] {
        assert!(
            !queue.to_lowercase().contains(&name.to_lowercase()),
            "the queue names the person: {name}"
        );
    }

    // Closing needs a note and the form's token; then it leaves the open list.
    let csrf = server::hidden(&queue, "csrf");
    let close = format!("/privacy/alerts/{claim_id}/close");
    let r = post(&po, &s, &close, &[("csrf", csrf.as_str()), ("note", "  ")]);
    assert_eq!(r.status(), 422);
    let r = post(&po, &s, &close, &[("csrf", "forged"), ("note", "Checked")]);
    assert_eq!(r.status(), 403);
    let note = "Checked against the clinic list: seen that day";
    let r = post(&po, &s, &close, &[("csrf", csrf.as_str()), ("note", note)]);
    assert_eq!(r.status(), 303);
    let (_, queue) = get(&po, &s, "/privacy/alerts");
    let rows = claim_rows(table_rows(&queue, "alerts"));
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains(glass_ref.as_str()));
    let (_, all) = get(&po, &s, "/privacy/alerts?all=true");
    let rows = claim_rows(table_rows(&all, "alerts"));
    assert_eq!(rows.len(), 2);
    assert!(
        rows[1].contains(note) && rows[1].contains("by po"),
        "{}",
        rows[1]
    );
    let closed = audits(&s, "alert-close");
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].0.as_deref(), Some("po"));
    assert_eq!(closed[0].1, Some(daniel));
    assert!(closed[0]
        .2
        .as_deref()
        .unwrap()
        .starts_with(claim_ref.as_str()));

    // Who looked at Daniel: clin's claim and view, er's broken glass; by id or NHS number.
    let (status, report) = get(&po, &s, &format!("/privacy/person?person={daniel}"));
    assert_eq!(status, 200, "{report}");
    let rows = table_rows(&report, "events");
    assert!(rows
        .iter()
        .any(|r| r.contains(">clin</a>") && r.contains(">view-record</td>")));
    assert!(rows.iter().any(|r| r.contains(">self-claim</td>")));
    assert!(rows.iter().any(|r| r.contains(">break-glass-start</td>")));
    let (_, by_nhs) = get(&po, &s, "/privacy/person?person=999+766+1001");
    assert_eq!(
        table_rows(&by_nhs, "events").len(),
        rows.len() + 1,
        "the first run is listed"
    );
    let (status, page) = get(&po, &s, "/privacy/person?person=987654");
    assert_eq!(status, 422);
    assert!(page.contains("no person with id 987654"), "{page}");
    let reports = audits(&s, "audit-report");
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports.iter().all(|(a, p, d)| a.as_deref() == Some("po")
        && *p == Some(daniel)
        && d.as_deref()
            .unwrap()
            .starts_with("who looked at this person")));

    // CSV: the headers, and a detail a spreadsheet would run as a formula made inert. No page
    // lets a user start an audit detail with '=', so one is planted as an attacker with
    // database access to a feed's free text might.
    {
        // Planted through the audit chain, as any writer must: a row slipped in with SQL
        // would break the chain and (rightly) stop every later audit write.
        let config = sharedcare::config::Config::load(&s.env.data_dir()).unwrap();
        let mut store = sharedcare::audit::open_store(&config).unwrap();
        let tx = store.begin().unwrap();
        tx.audit(
            &sharedcare::store::AuditEvent {
                actor: Some("clin"),
                role: Some("clinician"),
                org: Some("X99001"),
                person_id: Some(daniel),
                detail: Some("=cmd|' /C calc'!A0"),
                outcome: "ok",
                ..sharedcare::store::AuditEvent::new(sharedcare::audit::Action::ViewRecord)
            },
            "2020-01-01T00:00:00Z",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let r = po
        .get(s.url(&format!("/privacy/person?person={daniel}&format=csv")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_owned();
    assert!(
        header("content-type").starts_with("text/csv"),
        "{}",
        header("content-type")
    );
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(".csv"), "{disposition}");
    let csv = r.text().unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time_utc,actor,role,org,action,person,detail,outcome,ip")
    );
    assert!(
        csv.contains(&format!(
            "2020-01-01T00:00:00Z,clin,clinician,X99001,view-record,{daniel},'=cmd|' /C calc'!A0,ok,"
        )),
        "{csv}"
    );
    assert!(!csv.contains(",=cmd"));
    assert!(audits(&s, "audit-report")
        .last()
        .unwrap()
        .2
        .as_deref()
        .unwrap()
        .ends_with("; csv"));

    // Date filters: the planted 2020 event is outside 2021 onwards.
    let (_, since) = get(
        &po,
        &s,
        &format!("/privacy/person?person={daniel}&from=2021-01-01"),
    );
    assert!(!since.contains("2020-01-01T00:00:00Z"));
    let (_, only) = get(
        &po,
        &s,
        &format!("/privacy/person?person={daniel}&from=2020-01-01&to=2020-01-01"),
    );
    assert_eq!(table_rows(&only, "events").len(), 1);

    // What did clin look at: today, yes; from tomorrow, nothing.
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let (status, mine) = get(&po, &s, &format!("/privacy/user?user=clin&from={today}"));
    assert_eq!(status, 200, "{mine}");
    let rows = table_rows(&mine, "events");
    assert!(rows.iter().any(|r| r.contains(">login</td>")));
    assert!(rows
        .iter()
        .any(|r| r.contains(">view-record</td>") && r.contains(&format!(">{daniel}</a>"))));
    let (_, none) = get(&po, &s, &format!("/privacy/user?user=clin&from={tomorrow}"));
    assert!(table_rows(&none, "events").is_empty());
    assert!(none.contains("id=\"no-events\""), "{none}");
    let (status, _) = get(&po, &s, "/privacy/user?user=clin&from=yesterday");
    assert_eq!(status, 422);
    let (status, _) = get(&po, &s, "/privacy/user?user=nobody-at-all");
    assert_eq!(status, 422);
    let user_reports = audits(&s, "audit-report")
        .into_iter()
        .filter(|(_, p, d)| p.is_none() && d.as_deref().unwrap().contains("user clin"))
        .count();
    assert_eq!(user_reports, 2);
}

#[test]
fn view_as_a_role_shows_what_that_profile_would_see() {
    let s = Server::start();
    let margaret = person(&s, MARGARET);
    // A test person: shown without a reason (see access_duties for a real one).
    s.env.ok(&["person", "mark-test", &margaret.to_string()]);
    let po = s.login("po");
    let (status, form) = get(&po, &s, "/privacy/view-as");
    assert_eq!(status, 200);
    assert!(form.contains("<option value=\"social-worker-adults\""));

    let path =
        |role: &str| format!("/privacy/view-as?role={role}&org=X99001&team=&person={margaret}");
    let (status, page) = get(&po, &s, &path("social-worker-adults"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Viewing as social-worker-adults@X99001"),
        "{page}"
    );
    assert!(page.contains("id=\"cat-safeguarding\""), "{page}");
    assert!(!page.contains("id=\"cat-result\""));
    assert!(page.contains("id=\"person-name\""));
    let (status, page) = get(&po, &s, &path("admin"));
    assert_eq!(status, 200);
    assert!(page.contains("Viewing as admin@X99001"));
    assert!(page.contains("id=\"no-access\""), "{page}");
    assert!(!page.contains("id=\"person-name\""));
    let (status, page) = get(&po, &s, &path("wizard"));
    assert_eq!(status, 422);
    assert!(page.contains("unknown role"));

    let seen = audits(&s, "view-as-role");
    assert_eq!(
        seen,
        vec![
            (
                Some("po".into()),
                Some(margaret),
                Some("social-worker-adults@X99001; test person".into())
            ),
            (
                Some("po".into()),
                Some(margaret),
                Some("admin@X99001; test person".into())
            ),
        ]
    );
}

#[test]
fn only_the_privacy_officer_may_use_the_privacy_pages() {
    let s = Server::start();
    let paths = [
        "/privacy/alerts",
        "/privacy/reports",
        "/privacy/person?person=1",
        "/privacy/user?user=clin",
        "/privacy/view-as?role=clinician&org=X99001&person=1",
    ];
    for user in ["clin", "sw", "it"] {
        let c = s.login(user);
        for path in paths {
            assert_eq!(get(&c, &s, path).0, 403, "{user}: {path}");
        }
        let r = post(&c, &s, "/privacy/alerts/1/close", &[("note", "x")]);
        assert_eq!(r.status(), 403, "{user}");
        let home = get(&c, &s, "/").1;
        for page in ["/privacy/alerts", "/privacy/reports", "/privacy/view-as"] {
            assert!(!home.contains(page), "{user}: {page}");
        }
    }
    assert!(audits(&s, "audit-report").is_empty());
    assert!(audits(&s, "view-as-role").is_empty());
}

/// An objection recorded on the page takes effect on the record at once, and withdrawing it
/// lifts it; the page names the person by id only.
#[test]
fn objections_are_recorded_and_withdrawn_on_the_page() {
    let s = Server::start();
    let po = s.login("po");
    let page = po.get(s.url("/privacy/objections")).send().unwrap();
    assert_eq!(page.status(), 200);
    let csrf = server::hidden(&page.text().unwrap(), "csrf");
    let margaret = "9994837567";
    let r = po
        .post(s.url("/privacy/objections"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("person", "999 483 7567"),
            ("reason", "Letter of 3 March asking that nothing be shared"),
            ("date", "2025-03-03"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let id: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM person WHERE nhs_number = ?1 AND merged_into IS NULL",
            [margaret],
            |r| r.get(0),
        )
        .unwrap();
    let listed = po
        .get(s.url("/privacy/objections"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(listed.contains("objection-") && listed.contains("2025-03-03"));
    assert!(
        !listed.to_uppercase().contains("THOMPSON"),
        "no names on the page"
    );

    let clin = s.login("clin");
    let record = |c: &Client| {
        c.get(s.url(&format!("/person/{id}")))
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    assert!(record(&clin).contains("objected to sharing"));
    let r = po
        .post(s.url(&format!("/privacy/objections/person/{id}/withdraw")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!record(&clin).contains("objected to sharing"));
    let actions = s.env.count(&format!(
        "SELECT count(*) FROM audit_event WHERE actor = 'po' AND person_id = {id}
         AND action IN ('objection-record', 'objection-withdraw')"
    ));
    assert_eq!(actions, 2);
    // A clinician may not record objections.
    let r = clin.get(s.url("/privacy/objections")).send().unwrap();
    assert_eq!(r.status(), 403);
}
