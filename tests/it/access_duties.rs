//! Separation of duties and credentials, over a real server and the real command line: nobody
//! changes their own roles (finding 2), granting a clinical or privacy role raises an alert
//! that neither the granter nor the grantee may close, view-as on a real person needs a reason
//! and raises an alert (finding 3), API tokens die with a password change and lapse
//! (finding 13), a self-claim answers alike for an id no one has (finding 17), and the
//! command line's actor is the real user id, not `$USER` (finding 10).

use super::server::{self, Server, PASSWORD};
use super::support::Env;
use reqwest::blocking::{Client, Response};

const MARGARET: &str = "9994837567";
/// No registered GP, so no one at X99001 has a relationship with him.
const DANIEL: &str = "9997661001";

fn get(c: &Client, s: &Server, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn post(c: &Client, s: &Server, path: &str, form: &[(&str, &str)]) -> Response {
    c.post(s.url(path)).form(form).send().unwrap()
}

fn csrf(c: &Client, s: &Server) -> String {
    server::hidden(&get(c, s, "/").1, "csrf")
}

fn user_id(env: &Env, name: &str) -> i64 {
    env.sql()
        .query_row("SELECT id FROM app_user WHERE username = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap()
}

fn roles_of(env: &Env, name: &str) -> Vec<String> {
    let db = env.sql();
    let mut st = db
        .prepare(
            "SELECT p.role FROM role_profile p JOIN app_user u ON u.id = p.user_id
             WHERE u.username = ?1 AND p.removed_at IS NULL ORDER BY p.id",
        )
        .unwrap();
    st.query_map([name], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `(id, kind, about, raised by)` of every open alert of these kinds.
fn open_alerts(env: &Env, kind: &str) -> Vec<(i64, String, String, Option<String>)> {
    let db = env.sql();
    let mut st = db
        .prepare(
            "SELECT a.id, a.reference, u.username, a.raised_by FROM privacy_alert a
             JOIN app_user u ON u.id = a.user_id
             WHERE a.kind = ?1 AND a.closed_at IS NULL ORDER BY a.id",
        )
        .unwrap();
    st.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn events(env: &Env, action: &str) -> i64 {
    env.count(&format!(
        "SELECT count(*) FROM audit_event WHERE action = '{action}'"
    ))
}

fn person(env: &Env, nhs: &str) -> i64 {
    server::person_with_nhs(env, nhs)
}

/// The login name the command line runs as, as the audit trail names it (`cli:<login>`).
fn operator() -> String {
    sharedcare::audit::actor::operator_name()
}

#[test]
fn regression_admin_gives_themselves_a_role_on_the_web_is_refused() {
    let s = Server::start();
    let it = s.login("it");
    let token = csrf(&it, &s);
    let own = user_id(&s.env, "it");
    for role in ["gp-clinician", "privacy-officer"] {
        let before = events(&s.env, "user-add-role");
        let r = post(
            &it,
            &s,
            &format!("/admin/users/{own}/profiles"),
            &[
                ("csrf", token.as_str()),
                ("role", role),
                ("org", "X99001"),
                ("team", ""),
            ],
        );
        assert_eq!(r.status(), 422, "{role}");
        let page = r.text().unwrap();
        assert!(
            page.contains("Nobody may change their own role profiles"),
            "{page}"
        );
        assert_eq!(roles_of(&s.env, "it"), ["admin"], "{role} was added");
        assert_eq!(events(&s.env, "user-add-role"), before);
    }
    // Nor take one away from themselves.
    let profile: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM role_profile WHERE user_id = ?1",
            [own],
            |r| r.get(0),
        )
        .unwrap();
    let r = post(
        &it,
        &s,
        &format!("/admin/users/{own}/profiles/{profile}/remove"),
        &[("csrf", token.as_str())],
    );
    assert_eq!(r.status(), 422);
    assert_eq!(roles_of(&s.env, "it"), ["admin"]);
    // Another user's roles are the administrator's job.
    let clin = user_id(&s.env, "clin");
    let r = post(
        &it,
        &s,
        &format!("/admin/users/{clin}/profiles"),
        &[
            ("csrf", token.as_str()),
            ("role", "gp-clinician"),
            ("org", "X99001"),
            ("team", ""),
        ],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(roles_of(&s.env, "clin"), ["clinician", "gp-clinician"]);
}

#[test]
fn regression_operator_gives_their_own_user_a_role_at_the_command_line_is_refused() {
    let env = Env::new();
    let login = operator();
    let login = login.strip_prefix("cli:").unwrap();
    server::add_user(&env, login, "admin");
    let r = env.run(&[
        "user",
        "add-role",
        login,
        "--role",
        "gp-clinician",
        "--org",
        "X99001",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("nobody may change their own role profiles"),
        "{}",
        r.stderr
    );
    assert_eq!(roles_of(&env, login), ["admin"]);
    let r = env.run(&[
        "user",
        "remove-role",
        login,
        "--role",
        "admin",
        "--org",
        "X99001",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(roles_of(&env, login), ["admin"]);
    // Someone else's user is fine, and the grant of a clinical role raises an alert.
    server::add_user(&env, "clin", "care-provider-staff");
    env.ok(&[
        "user",
        "add-role",
        "clin",
        "--role",
        "gp-clinician",
        "--org",
        "X99001",
    ]);
    let alerts = open_alerts(&env, "role-grant");
    assert!(
        alerts
            .iter()
            .any(|(_, _, about, by)| about == "clin" && by.as_deref() == Some(operator().as_str())),
        "{alerts:?}"
    );
}

#[test]
fn regression_cli_actor_is_the_real_user_not_the_user_variable() {
    let env = Env::new();
    let out = env
        .command(&[
            "user", "add", "someone", "--role", "admin", "--org", "X99001",
        ])
        .arg("--password-stdin")
        .env("USER", "mallory")
        .env("LOGNAME", "mallory")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(PASSWORD.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(out.success());
    let actor: String = env
        .sql()
        .query_row(
            "SELECT actor FROM audit_event WHERE action = 'user-add'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, operator());
    assert_ne!(actor, "cli:mallory");
}

#[test]
fn regression_granted_role_alerts_and_no_one_closes_an_alert_about_themselves() {
    let s = Server::start();
    // A second administrator who is also a privacy officer (given by the operator).
    server::add_user(&s.env, "it2", "admin");
    s.env.ok(&[
        "user",
        "add-role",
        "it2",
        "--role",
        "privacy-officer",
        "--org",
        "X99001",
    ]);
    let it2 = s.login("it2");
    let token = csrf(&it2, &s);
    let clin = user_id(&s.env, "clin");
    let before = open_alerts(&s.env, "role-grant").len();
    let r = post(
        &it2,
        &s,
        &format!("/admin/users/{clin}/profiles"),
        &[
            ("csrf", token.as_str()),
            ("role", "privacy-officer"),
            ("org", "X99001"),
            ("team", ""),
        ],
    );
    assert_eq!(r.status(), 303);
    let alerts = open_alerts(&s.env, "role-grant");
    assert_eq!(alerts.len(), before + 1, "{alerts:?}");
    let (alert, reference, about, by) = alerts.last().unwrap().clone();
    assert_eq!((about.as_str(), by.as_deref()), ("clin", Some("it2")));
    // A non-clinical role raises none.
    let sw = user_id(&s.env, "sw");
    let r = post(
        &it2,
        &s,
        &format!("/admin/users/{sw}/profiles"),
        &[
            ("csrf", token.as_str()),
            ("role", "analyst"),
            ("org", "X99001"),
            ("team", ""),
        ],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(open_alerts(&s.env, "role-grant").len(), before + 1);

    // The granter, now acting as privacy officer, may not close it.
    let po_profile: String = s
        .env
        .sql()
        .query_row(
            "SELECT p.id FROM role_profile p JOIN app_user u ON u.id = p.user_id
             WHERE u.username = 'it2' AND p.role = 'privacy-officer'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        .to_string();
    let r = post(
        &it2,
        &s,
        "/profile",
        &[("csrf", token.as_str()), ("profile", po_profile.as_str())],
    );
    assert_eq!(r.status(), 303);
    let close = format!("/privacy/alerts/{alert}/close");
    let r = post(
        &it2,
        &s,
        &close,
        &[("csrf", token.as_str()), ("note", "looks fine to me")],
    );
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .unwrap()
        .contains("cannot be closed by the user who raised it"));
    // Nor may the user it is about, once a privacy officer.
    let clin_c = s.login("clin");
    let clin_token = csrf(&clin_c, &s);
    let clin_po: String = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM role_profile WHERE user_id = ?1 AND role = 'privacy-officer'",
            [clin],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        .to_string();
    let r = post(
        &clin_c,
        &s,
        "/profile",
        &[("csrf", clin_token.as_str()), ("profile", clin_po.as_str())],
    );
    assert_eq!(r.status(), 303);
    let r = post(
        &clin_c,
        &s,
        &close,
        &[("csrf", clin_token.as_str()), ("note", "that is me, fine")],
    );
    assert_eq!(r.status(), 403);
    assert_eq!(events(&s.env, "alert-close"), 0);
    // Another privacy officer may.
    let po = s.login("po");
    let po_token = csrf(&po, &s);
    let r = post(
        &po,
        &s,
        &close,
        &[
            ("csrf", po_token.as_str()),
            ("note", "agreed with the manager"),
        ],
    );
    assert_eq!(r.status(), 303);
    assert!(open_alerts(&s.env, "role-grant")
        .iter()
        .all(|(_, r, _, _)| *r != reference));
    assert_eq!(events(&s.env, "alert-close"), 1);
}

#[test]
fn regression_break_glass_alert_cannot_be_closed_by_the_one_who_broke_it() {
    let s = Server::start();
    // A clinician who is also a privacy officer breaks glass, then tries to close the alert.
    server::add_user(&s.env, "er", "acute-clinician");
    s.env.ok(&[
        "user",
        "add-role",
        "er",
        "--role",
        "privacy-officer",
        "--org",
        "X99001",
    ]);
    let daniel = person(&s.env, DANIEL);
    let er = s.login("er");
    let page = get(&er, &s, &format!("/person/{daniel}"));
    assert_eq!(page.0, 403);
    let token = server::hidden(&page.1, "csrf");
    let r = post(
        &er,
        &s,
        &format!("/person/{daniel}/break-glass"),
        &[
            ("csrf", token.as_str()),
            ("reason_code", "emergency-care"),
            ("reason", "Collapsed in the waiting room"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 303);
    let (alert, ..) = open_alerts(&s.env, "break-glass").pop().unwrap();
    let po_profile: String = s
        .env
        .sql()
        .query_row(
            "SELECT p.id FROM role_profile p JOIN app_user u ON u.id = p.user_id
             WHERE u.username = 'er' AND p.role = 'privacy-officer'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        .to_string();
    let r = post(
        &er,
        &s,
        "/profile",
        &[("csrf", token.as_str()), ("profile", po_profile.as_str())],
    );
    assert_eq!(r.status(), 303);
    let r = post(
        &er,
        &s,
        &format!("/privacy/alerts/{alert}/close"),
        &[("csrf", token.as_str()), ("note", "it was an emergency")],
    );
    assert_eq!(r.status(), 403);
    assert_eq!(open_alerts(&s.env, "break-glass").len(), 1);
}

#[test]
fn regression_view_as_on_a_real_person_needs_a_reason_and_raises_an_alert() {
    let s = Server::start();
    let margaret = person(&s.env, MARGARET);
    let po = s.login("po");
    let look = |extra: &str| {
        get(
            &po,
            &s,
            &format!(
                "/privacy/view-as?role=gp-clinician&org=X99001&team=&person={margaret}{extra}"
            ),
        )
    };
    let (status, page) = look("");
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("not a test person"), "{page}");
    assert!(!page.contains("id=\"viewing-as\""), "the record was shown");
    assert_eq!(events(&s.env, "view-as-role"), 0);
    assert!(open_alerts(&s.env, "view-as").is_empty());
    let (status, _) = look("&reason=short");
    assert_eq!(status, 422);
    let (status, page) = look("&reason=Checking+the+GP+policy+after+a+complaint");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"viewing-as\""), "{page}");
    let alerts = open_alerts(&s.env, "view-as");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].2, "po");
    assert!(page.contains(&alerts[0].1), "the page names the alert");
    let reason: String = s
        .env
        .sql()
        .query_row(
            "SELECT reason FROM audit_event WHERE action = 'view-as-role'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "Checking the GP policy after a complaint");
    // The officer may not close the alert about their own look.
    let token = server::hidden(&page, "csrf");
    let r = post(
        &po,
        &s,
        &format!("/privacy/alerts/{}/close", alerts[0].0),
        &[("csrf", token.as_str()), ("note", "it was me")],
    );
    assert_eq!(r.status(), 403);

    // Marked as a test person (audited), it shows without a reason or an alert.
    s.env.ok(&["person", "mark-test", &margaret.to_string()]);
    assert_eq!(events(&s.env, "person-test-mark"), 1);
    let (status, page) = look("");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"viewing-as\""));
    assert_eq!(open_alerts(&s.env, "view-as").len(), 1);
    s.env.ok(&["person", "unmark-test", &margaret.to_string()]);
    assert_eq!(events(&s.env, "person-test-unmark"), 1);
    assert_eq!(look("").0, 422);
}

fn api_status(s: &Server, token: &str) -> u16 {
    s.client()
        .get(s.url(&format!("/fhir/Patient?identifier={MARGARET}")))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn passwd(env: &Env, user: &str) {
    use std::io::Write;
    let mut child = env
        .command(&["user", "passwd", user, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password")
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn regression_api_tokens_die_with_a_password_change_and_lapse() {
    let s = Server::start();
    // A password change at the command line.
    let token = server::token(&s.env, "clin");
    assert_eq!(api_status(&s, &token), 200);
    let used: Option<String> = s
        .env
        .sql()
        .query_row("SELECT last_used_at FROM api_token", [], |r| r.get(0))
        .unwrap();
    assert!(used.is_some(), "the last use is recorded");
    passwd(&s.env, "clin");
    assert_eq!(
        api_status(&s, &token),
        401,
        "the token outlived the password"
    );

    // A reset on the web.
    let token = server::token(&s.env, "sw");
    assert_eq!(api_status(&s, &token), 200);
    let it = s.login("it");
    let csrf = csrf(&it, &s);
    let sw = user_id(&s.env, "sw");
    let r = post(
        &it,
        &s,
        &format!("/admin/users/{sw}/password"),
        &[
            ("csrf", csrf.as_str()),
            ("password", "a brand new passphrase"),
            ("confirm", "a brand new passphrase"),
        ],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(api_status(&s, &token), 401, "the token outlived the reset");

    // Expiry: the configured default, fewer days on request, never more; a lapsed token fails.
    let out = server::cli(&s.env, &["token", "create", "--user", "po", "--days", "7"]);
    assert!(out.contains("valid until"), "{out}");
    let r = s
        .env
        .run(&["token", "create", "--user", "po", "--days", "400"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let token = server::token(&s.env, "clin");
    let (created, expires): (String, String) = s
        .env
        .sql()
        .query_row(
            "SELECT created_at, expires_at FROM api_token ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let days = chrono::DateTime::parse_from_rfc3339(&expires).unwrap()
        - chrono::DateTime::parse_from_rfc3339(&created).unwrap();
    assert_eq!(days.num_days(), 90);
    assert_eq!(api_status(&s, &token), 200);
    s.env
        .sql()
        .execute(
            "UPDATE api_token SET expires_at = '2020-01-01T00:00:00Z' WHERE id =
             (SELECT max(id) FROM api_token)",
            [],
        )
        .unwrap();
    assert_eq!(api_status(&s, &token), 401, "a lapsed token still worked");
    let listed = server::cli(&s.env, &["token", "list"]);
    assert!(listed.contains("last used"), "{listed}");
}

#[test]
fn regression_self_claim_answers_alike_for_an_id_no_one_has() {
    let s = Server::start();
    let daniel = person(&s.env, DANIEL);
    let clin = s.login("clin");
    let token = csrf(&clin, &s);
    let claim = |id: i64| {
        let r = post(
            &clin,
            &s,
            &format!("/person/{id}/claim"),
            &[
                ("csrf", token.as_str()),
                ("reason_code", "direct-care"),
                ("reason", "Seeing them in clinic today"),
            ],
        );
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = r.text().unwrap();
        (status, location.replace(&id.to_string(), "ID"), body)
    };
    let missing = 987_654_321;
    assert_eq!(claim(daniel), claim(missing));
    // The probe is recorded as refused.
    let refused = s.env.count(
        "SELECT count(*) FROM audit_event WHERE action = 'self-claim' AND outcome = 'denied'",
    );
    assert_eq!(refused, 1);
}
