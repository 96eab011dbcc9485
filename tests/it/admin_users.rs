//! The users pages over a real server: an administrator creates a user and gives them a second
//! role profile, the user switches to it; removing that profile ends the session acting in it
//! and the API token made for it; a password reset and disabling end sessions (and tokens);
//! refusals come back on the form; every change is audited with the administrator as actor;
//! no other role may use the pages.

use super::server::{self, Server, PASSWORD};
use reqwest::blocking::{Client, Response};

fn get(c: &Client, s: &Server, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn post(c: &Client, s: &Server, path: &str, form: &[(&str, &str)]) -> Response {
    c.post(s.url(path)).form(form).send().unwrap()
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Whether a signed-in client's session is still alive.
fn signed_in(c: &Client, s: &Server) -> bool {
    let r = c.get(s.url("/")).send().unwrap();
    match r.status().as_u16() {
        200 => true,
        303 => {
            assert!(location(&r).starts_with("/login"), "{}", location(&r));
            false
        }
        other => panic!("GET / answered {other}"),
    }
}

fn api_status(s: &Server, token: &str) -> u16 {
    s.client()
        .get(s.url("/fhir/Patient?identifier=9994837567"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn token_for(s: &Server, user: &str, role: &str) -> String {
    let out = server::cli(&s.env, &["token", "create", "--user", user, "--role", role]);
    out.lines().last().unwrap().trim().to_owned()
}

/// The details of `actor`'s audit rows with this action (the test users were added by the
/// operator at the command line, who is another actor).
fn audits(s: &Server, action: &str, actor: &str) -> Vec<String> {
    let db = s.env.sql();
    let mut st = db
        .prepare(
            "SELECT coalesce(detail, '') FROM audit_event WHERE action = ?1 AND actor = ?2
             ORDER BY seq",
        )
        .unwrap();
    st.query_map([action, actor], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The value of the `<option>` whose text is `label`.
fn option_value(html: &str, label: &str) -> String {
    let end = html
        .find(&format!(">{label}</option>"))
        .unwrap_or_else(|| panic!("no option {label} in:\n{html}"));
    let start = html[..end].rfind("value=\"").unwrap() + "value=\"".len();
    html[start..end].split('"').next().unwrap().to_owned()
}

/// The path of the form whose button reads `button`.
fn form_action(html: &str, button: &str) -> String {
    let end = html
        .find(button)
        .unwrap_or_else(|| panic!("no {button} in:\n{html}"));
    let start = html[..end].rfind("action=\"").unwrap() + "action=\"".len();
    html[start..end].split('"').next().unwrap().to_owned()
}

#[test]
fn an_administrator_manages_users_profiles_and_sessions_and_every_change_is_audited() {
    let s = Server::start();
    let it = s.login("it");
    let (status, page) = get(&it, &s, "/admin/users");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<caption>"), "{page}");
    for user in ["clin", "sw", "it", "po"] {
        assert!(page.contains(&format!(">{user}</a>")), "{user}");
    }
    assert!(page.contains("clinician@X99001"));
    let csrf = server::hidden(&page, "csrf");
    let new_user = |name: &str, pw: &str, confirm: &str, role: &str, org: &str| {
        post(
            &it,
            &s,
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("username", name),
                ("password", pw),
                ("confirm", confirm),
                ("role", role),
                ("org", org),
                ("team", ""),
            ],
        )
    };

    // Refusals come back on the form, readable, with what was typed (never the password).
    for (name, pw, confirm, role, org, why) in [
        (
            "nurse",
            PASSWORD,
            PASSWORD,
            "wizard",
            "X99001",
            "unknown role",
        ),
        ("nurse", PASSWORD, PASSWORD, "clinician", "  ", "ODS code"),
        (
            "nurse",
            "too short",
            "too short",
            "clinician",
            "X99001",
            "at least 12",
        ),
        (
            "nurse",
            PASSWORD,
            "something else entirely",
            "clinician",
            "X99001",
            "differ",
        ),
        (
            "clin",
            PASSWORD,
            PASSWORD,
            "clinician",
            "X99001",
            "already exists",
        ),
        (
            "=nurse",
            PASSWORD,
            PASSWORD,
            "clinician",
            "X99001",
            "not a user name",
        ),
    ] {
        let r = new_user(name, pw, confirm, role, org);
        assert_eq!(r.status(), 422, "{why}");
        let html = r.text().unwrap();
        assert!(html.contains("id=\"form-error\""), "{why}: {html}");
        assert!(html.contains(why), "{why}: {html}");
        assert!(!html.contains(pw), "the password came back: {why}");
    }
    let bad = post(
        &it,
        &s,
        "/admin/users",
        &[
            ("csrf", "forged"),
            ("username", "nurse"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
            ("role", "clinician"),
            ("org", "X99001"),
        ],
    );
    assert_eq!(bad.status(), 403);
    assert!(audits(&s, "user-add", "it").is_empty());

    // Created through the page; the user signs in.
    let r = new_user("nurse", PASSWORD, PASSWORD, "clinician", "x99001");
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    let user_page = location(&r);
    assert!(user_page.starts_with("/admin/users/"), "{user_page}");
    let base = user_page.split('?').next().unwrap().to_owned();
    let (_, page) = get(&it, &s, &user_page);
    assert!(page.contains("User created."));
    assert!(
        page.contains("clinician@X99001"),
        "the ODS code is upper-cased"
    );
    let nurse = s.login("nurse");
    assert!(signed_in(&nurse, &s));
    assert!(
        !get(&nurse, &s, "/").1.contains("action=\"/profile\""),
        "one profile: no switch"
    );

    // A second profile; the user switches to it from the header.
    let r = post(
        &it,
        &s,
        &format!("{base}/profiles"),
        &[
            ("csrf", csrf.as_str()),
            ("role", "social-worker-adults"),
            ("org", "X99001"),
            ("team", ""),
        ],
    );
    assert_eq!(r.status(), 303);
    let r = post(
        &it,
        &s,
        &format!("{base}/profiles"),
        &[
            ("csrf", csrf.as_str()),
            ("role", "druid"),
            ("org", "X99001"),
        ],
    );
    assert_eq!(r.status(), 422);
    let home = get(&nurse, &s, "/").1;
    assert!(home.contains("action=\"/profile\""), "{home}");
    let sw_profile = option_value(&home, "social-worker-adults@X99001");
    let nurse_csrf = server::hidden(&home, "csrf");
    let r = post(
        &nurse,
        &s,
        "/profile",
        &[
            ("csrf", nurse_csrf.as_str()),
            ("profile", sw_profile.as_str()),
        ],
    );
    assert_eq!(r.status(), 303);
    assert!(get(&nurse, &s, "/")
        .1
        .contains("nurse · social-worker-adults · social-worker-adults@X99001"));
    assert_eq!(
        audits(&s, "switch-profile", "nurse"),
        vec!["from clinician@X99001 to social-worker-adults@X99001"]
    );

    // The administrator sees the live session, acting in the new profile.
    let (_, page) = get(&it, &s, &base);
    assert!(page.contains("<table id=\"sessions\""), "{page}");
    assert!(
        page.contains("<td data-label=\"Acting as\">social-worker-adults@X99001</td>"),
        "{page}"
    );

    // Removing the profile the session acts in ends the session and the token made for it.
    let sw_token = token_for(&s, "nurse", "social-worker-adults");
    let clin_token = token_for(&s, "nurse", "clinician");
    assert_eq!(api_status(&s, &sw_token), 200);
    let remove = form_action(&page, "aria-label=\"Remove social-worker-adults@X99001\"");
    let r = post(&it, &s, &remove, &[("csrf", csrf.as_str())]);
    assert_eq!(r.status(), 303);
    assert!(!signed_in(&nurse, &s), "the session acting in it ended");
    assert_eq!(api_status(&s, &sw_token), 401);
    assert_eq!(
        api_status(&s, &clin_token),
        200,
        "other profiles are untouched"
    );
    let r = post(&it, &s, &remove, &[("csrf", csrf.as_str())]);
    assert_eq!(r.status(), 422, "already removed");

    // Ending one session from the page.
    let nurse = s.login("nurse");
    let (_, page) = get(&it, &s, &base);
    let end = form_action(&page, "aria-label=\"End session");
    let r = post(&it, &s, &end, &[("csrf", csrf.as_str())]);
    assert_eq!(r.status(), 303);
    assert!(!signed_in(&nurse, &s));

    // A password reset ends sessions; the new password works, the old one not.
    let nurse = s.login("nurse");
    let new_pw = "a completely new passphrase";
    let r = post(
        &it,
        &s,
        &format!("{base}/password"),
        &[
            ("csrf", csrf.as_str()),
            ("password", "short"),
            ("confirm", "short"),
        ],
    );
    assert_eq!(r.status(), 422);
    assert!(signed_in(&nurse, &s));
    let r = post(
        &it,
        &s,
        &format!("{base}/password"),
        &[
            ("csrf", csrf.as_str()),
            ("password", new_pw),
            ("confirm", new_pw),
        ],
    );
    assert_eq!(r.status(), 303);
    assert!(!signed_in(&nurse, &s));
    let c = s.client();
    let form = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let login_csrf = server::hidden(&form, "csrf");
    let r = post(
        &c,
        &s,
        "/login",
        &[
            ("username", "nurse"),
            ("password", new_pw),
            ("csrf", &login_csrf),
            ("next", "/"),
        ],
    );
    assert_eq!(r.status(), 303);
    assert!(signed_in(&c, &s));

    // Disabling ends the session and revokes tokens at once; an administrator cannot disable
    // themself.
    let r = post(
        &it,
        &s,
        &format!("{base}/disable"),
        &[("csrf", csrf.as_str())],
    );
    assert_eq!(r.status(), 303);
    assert!(!signed_in(&c, &s));
    assert_eq!(api_status(&s, &clin_token), 401);
    let (_, list) = get(&it, &s, "/admin/users");
    assert!(list.contains("Disabled"));
    let it_id: i64 = s
        .env
        .sql()
        .query_row("SELECT id FROM app_user WHERE username = 'it'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let r = post(
        &it,
        &s,
        &format!("/admin/users/{it_id}/disable"),
        &[("csrf", csrf.as_str())],
    );
    assert_eq!(r.status(), 422);
    assert!(signed_in(&it, &s));

    // Every change, with the administrator as actor and the user in the detail.
    let expected = [
        ("user-add", "nurse as clinician@X99001"),
        ("user-add-role", "nurse: social-worker-adults@X99001"),
        ("user-remove-role", "nurse: social-worker-adults@X99001"),
        ("user-passwd", "nurse"),
        ("user-disable", "nurse"),
    ];
    for (action, detail) in expected {
        // Clinical roles granted raise an alert, which the detail names.
        let without_alert: Vec<String> = audits(&s, action, "it")
            .iter()
            .map(|d| d.split("; alert PA-").next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(without_alert, vec![detail], "{action}");
    }
    for action in ["user-add", "user-add-role"] {
        assert!(
            audits(&s, action, "it")[0].contains("; alert PA-"),
            "{action}"
        );
    }
    let ended = audits(&s, "session-end", "it");
    assert_eq!(ended.len(), 1);
    assert!(ended[0].starts_with("nurse: session "), "{ended:?}");
    let leaked = s.env.count(&format!(
        "SELECT count(*) FROM audit_event WHERE detail LIKE '%{PASSWORD}%'
         OR detail LIKE '%{new_pw}%'"
    ));
    assert_eq!(leaked, 0);
}

#[test]
fn only_administrators_may_use_the_users_pages() {
    let s = Server::start();
    let it = s.login("it");
    assert!(get(&it, &s, "/").1.contains("href=\"/admin/users\""));
    let id = "1";
    let mut paths = Vec::new();
    for (routes, base, _) in sharedcare::web::routes() {
        for route in routes {
            let path = format!("{base}{}", route.uri.path());
            if path.starts_with("/admin/users") {
                let path = path
                    .replace("<id>", id)
                    .replace("<profile>", "1")
                    .replace("<sid>", "1");
                paths.push((route.method.as_str().to_owned(), path));
            }
        }
    }
    assert_eq!(paths.len(), 8, "{paths:?}");
    for user in ["clin", "sw", "po"] {
        let c = s.login(user);
        assert!(!get(&c, &s, "/").1.contains("/admin/users"), "{user}");
        for (method, path) in &paths {
            let r = c
                .request(method.parse().unwrap(), s.url(path))
                .form(&[("csrf", "x")])
                .send()
                .unwrap();
            assert_eq!(r.status(), 403, "{user}: {method} {path}");
        }
    }
    for user in ["clin", "sw", "po"] {
        assert!(audits(&s, "user-add", user).is_empty());
    }
}
