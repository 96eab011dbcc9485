//! Acceptance: no change of any kind commits without its audit event. The audit trail is made
//! unwritable (a trigger aborts every insert into `audit_event`, as a read-only or broken audit
//! target would), then every kind of change is attempted — on the web and at the command line —
//! and each must fail and leave the database exactly as it was.

use super::server::{self, Server, PASSWORD};
use super::support::Env;
use reqwest::blocking::Client;
use std::io::Write;
use std::process::Stdio;

/// Every row of every table, as text; the columns that record mere activity (a session's or a
/// token's last use, the job runs of the scheduler, the misuse watch's place in the audit trail,
/// which its scheduled run advances whatever the test does — the alerts it raises are audited
/// like any change) and the full-text index are left out.
fn dump(env: &Env) -> Vec<String> {
    let db = env.sql();
    let tables: Vec<String> = {
        let mut st = db
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' AND name NOT LIKE 'job_%'
                 AND name != 'misuse_watch'
                 AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut out = Vec::new();
    for table in tables {
        let columns: Vec<String> = {
            let mut st = db
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap();
            st.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .filter(|c| !matches!(c.as_str(), "last_seen_at" | "last_used_at"))
                .collect()
        };
        let sql = format!(
            "SELECT {} FROM \"{table}\" ORDER BY rowid",
            columns.join(", ")
        );
        let mut st = db.prepare(&sql).unwrap();
        let n = columns.len();
        let rows = st
            .query_map([], |r| {
                let mut line = format!("{table}:");
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!(" {v:?}"));
                }
                Ok(line)
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

fn csrf(c: &Client, s: &Server) -> String {
    server::hidden(&c.get(s.url("/")).send().unwrap().text().unwrap(), "csrf")
}

fn id(env: &Env, sql: &str) -> i64 {
    env.count(sql)
}

/// Runs the command line with `stdin` as its standard input; its exit code.
fn cli(env: &Env, args: &[&str], stdin: &str) -> i32 {
    let mut child = env
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn no_change_of_any_kind_commits_without_its_audit_event() {
    let s = Server::start();
    let env = &s.env;
    server::add_user(env, "er", "acute-clinician");
    server::add_user(env, "spare", "clinician");
    let margaret = server::person_with_nhs(env, "9994837567");
    let daniel = server::person_with_nhs(env, "9997661001");
    // Things to undo while the trail is unwritable: a token, an objection, an alert, broken
    // glass, a live session.
    let token = server::token(env, "clin");
    env.ok(&[
        "person",
        "object",
        &margaret.to_string(),
        "--reason",
        "said so",
    ]);
    let (it, po, clin, er) = (s.login("it"), s.login("po"), s.login("clin"), s.login("er"));
    let spare_session = s.login("spare");
    server::claim(&s, &clin, daniel);
    let page = er.get(s.url(&format!("/person/{daniel}"))).send().unwrap();
    let er_csrf = server::hidden(&page.text().unwrap(), "csrf");
    let r = er
        .post(s.url(&format!("/person/{daniel}/break-glass")))
        .form(&[
            ("csrf", er_csrf.as_str()),
            ("reason_code", "emergency-care"),
            ("reason", "Collapsed in the waiting room"),
            ("password", PASSWORD),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let (it_csrf, po_csrf, clin_csrf) = (csrf(&it, &s), csrf(&po, &s), csrf(&clin, &s));
    let clin_id = id(env, "SELECT id FROM app_user WHERE username = 'clin'");
    let spare_id = id(env, "SELECT id FROM app_user WHERE username = 'spare'");
    let spare_profile = id(
        env,
        &format!("SELECT id FROM role_profile WHERE user_id = {spare_id}"),
    );
    let spare_sid = id(
        env,
        &format!("SELECT max(id) FROM web_session WHERE user_id = {spare_id}"),
    );
    let clin_profile = id(
        env,
        &format!("SELECT id FROM role_profile WHERE user_id = {clin_id}"),
    );
    let alert = id(
        env,
        "SELECT max(id) FROM privacy_alert WHERE kind = 'self-claim'",
    );
    let token_id = id(env, "SELECT max(id) FROM api_token");

    env.refuse_audit_writes("the audit trail is read-only");
    let before = dump(env);

    // The web: every form that changes something, each by a user allowed to use it.
    type Form<'a> = Vec<(&'a str, String)>;
    let web: Vec<(&str, &Client, String, Form)> = vec![
        (
            "create a user",
            &it,
            "/admin/users".into(),
            vec![
                ("username", "newbie".into()),
                ("password", PASSWORD.into()),
                ("confirm", PASSWORD.into()),
                ("role", "gp-clinician".into()),
                ("org", "X99001".into()),
                ("team", String::new()),
                ("csrf", it_csrf.clone()),
            ],
        ),
        (
            "add a role",
            &it,
            format!("/admin/users/{clin_id}/profiles"),
            vec![
                ("role", "privacy-officer".into()),
                ("org", "X99001".into()),
                ("team", String::new()),
                ("csrf", it_csrf.clone()),
            ],
        ),
        (
            "remove a role",
            &it,
            format!("/admin/users/{spare_id}/profiles/{spare_profile}/remove"),
            vec![("csrf", it_csrf.clone())],
        ),
        (
            "reset a password",
            &it,
            format!("/admin/users/{spare_id}/password"),
            vec![
                ("password", "a brand new passphrase".into()),
                ("confirm", "a brand new passphrase".into()),
                ("csrf", it_csrf.clone()),
            ],
        ),
        (
            "disable a user",
            &it,
            format!("/admin/users/{spare_id}/disable"),
            vec![("csrf", it_csrf.clone())],
        ),
        (
            "end a session",
            &it,
            format!("/admin/users/{spare_id}/sessions/{spare_sid}/end"),
            vec![("csrf", it_csrf.clone())],
        ),
        (
            "close an alert",
            &po,
            format!("/privacy/alerts/{alert}/close"),
            vec![("note", "checked".into()), ("csrf", po_csrf.clone())],
        ),
        (
            "record an objection",
            &po,
            "/privacy/objections".into(),
            vec![
                ("person", daniel.to_string()),
                ("reason", "phoned in".into()),
                ("date", "2025-01-01".into()),
                ("csrf", po_csrf.clone()),
            ],
        ),
        (
            "withdraw an objection",
            &po,
            format!("/privacy/objections/person/{margaret}/withdraw"),
            vec![("csrf", po_csrf.clone())],
        ),
        (
            "self-claim",
            &clin,
            format!("/person/{daniel}/claim"),
            vec![
                ("reason_code", "direct-care".into()),
                ("reason", "Seeing them in clinic today".into()),
                ("csrf", clin_csrf.clone()),
            ],
        ),
        (
            "break glass",
            &er,
            format!("/person/{daniel}/break-glass"),
            vec![
                ("reason_code", "emergency-care".into()),
                ("reason", "Collapsed in the waiting room".into()),
                ("password", PASSWORD.into()),
                ("csrf", er_csrf.clone()),
            ],
        ),
        (
            "end broken glass",
            &er,
            format!("/person/{daniel}/break-glass/end"),
            vec![("csrf", er_csrf.clone())],
        ),
        (
            "switch profile",
            &clin,
            "/profile".into(),
            vec![
                ("profile", clin_profile.to_string()),
                ("csrf", clin_csrf.clone()),
            ],
        ),
        (
            "log out",
            &clin,
            "/logout".into(),
            vec![("csrf", clin_csrf.clone())],
        ),
    ];
    for (what, client, path, form) in &web {
        let r = client.post(s.url(path)).form(form).send().unwrap();
        let status = r.status().as_u16();
        assert!(
            status >= 400 && status != 422,
            "{what}: answered {status} with the audit trail unwritable"
        );
    }
    // Reads that must be audited first: a record view, view-as of a real person with a reason.
    let r = clin
        .get(s.url(&format!("/person/{daniel}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 500, "a record was shown unaudited");
    let r = po
        .get(s.url(&format!(
            "/privacy/view-as?role=gp-clinician&org=X99001&person={margaret}&reason=Checking+the+policy+today"
        )))
        .send()
        .unwrap();
    assert_eq!(r.status(), 500, "view-as showed a record unaudited");
    // Signing in starts a session: not without its event.
    let c = s.client();
    let form = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let login_csrf = server::hidden(&form, "csrf");
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("username", "po"),
            ("password", PASSWORD),
            ("csrf", &login_csrf),
            ("next", "/"),
        ])
        .send()
        .unwrap();
    assert_ne!(r.status(), 303, "signed in unaudited");

    // The command line.
    let margaret = margaret.to_string();
    let daniel = daniel.to_string();
    let token_id = token_id.to_string();
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "user",
                "add",
                "newbie2",
                "--role",
                "admin",
                "--org",
                "X99001",
                "--password-stdin",
            ],
            PASSWORD,
        ),
        (
            vec![
                "user", "add-role", "spare", "--role", "analyst", "--org", "X99001",
            ],
            "",
        ),
        (
            vec![
                "user",
                "remove-role",
                "spare",
                "--role",
                "clinician",
                "--org",
                "X99001",
            ],
            "",
        ),
        (
            vec!["user", "passwd", "spare", "--password-stdin"],
            "another long password",
        ),
        (vec!["user", "disable", "spare"], ""),
        (vec!["token", "create", "--user", "spare"], ""),
        (vec!["token", "revoke", &token_id], ""),
        (
            vec!["person", "object", &daniel, "--reason", "phoned in"],
            "",
        ),
        (vec!["person", "withdraw-objection", &margaret], ""),
        (vec!["person", "mark-test", &margaret], ""),
        (vec!["person", "show", &margaret], ""),
    ];
    for (args, stdin) in &commands {
        let code = cli(env, args, stdin);
        assert_ne!(
            code, 0,
            "{args:?} succeeded with the audit trail unwritable"
        );
    }

    let after = dump(env);
    let changed: Vec<String> = after
        .iter()
        .filter(|l| !before.contains(l))
        .chain(before.iter().filter(|l| !after.contains(l)))
        .cloned()
        .collect();
    assert!(
        changed.is_empty(),
        "rows changed without their audit event:\n{}",
        changed.join("\n")
    );
    // The token still works: nothing was revoked.
    drop(spare_session);
    let status = s
        .client()
        .get(s.url("/fhir/Patient?identifier=9994837567"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .status();
    assert_ne!(status, 401);
}
