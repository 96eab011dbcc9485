//! The web server: sign in and out, CSRF, security headers, and no route open to anonymous users.

use super::server::*;

#[test]
fn every_route_but_login_and_assets_refuses_anonymous_requests() {
    let s = Server::start();
    let anon = s.client();
    let mut checked = 0;
    for (routes, base, public) in sharedcare::web::routes() {
        for route in routes {
            let path = format!("{}{}", base.trim_end_matches('/'), route.uri.path())
                .replace("<path..>", "app.css")
                .replace(['<', '>'], "");
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            let r = anon
                .request(route.method.as_str().parse().unwrap(), s.url(&path))
                .send()
                .unwrap();
            let status = r.status().as_u16();
            if public {
                assert!(status < 500, "{} {path}: {status}", route.method);
            } else {
                // The citizens' pages send anyone not signed in as a citizen to their own
                // sign-in page, never the staff one.
                let sign_in = if path.starts_with("/citizen") {
                    "/citizen/login"
                } else {
                    "/login"
                };
                let refused = status == 401
                    || status == 403
                    || (status == 303
                        && r.headers()["location"]
                            .to_str()
                            .unwrap()
                            .starts_with(sign_in));
                assert!(
                    refused,
                    "{} {path} answered {status} to an anonymous request",
                    route.method
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4);
}

#[test]
fn sign_in_sign_out_and_csrf() {
    let s = Server::start();
    let c = s.client();
    // Unknown user and wrong password get the same answer.
    let form = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let csrf = hidden(&form, "csrf");
    let wrong = c
        .post(s.url("/login"))
        .form(&[
            ("username", "clin"),
            ("password", "not the password"),
            ("csrf", &csrf),
        ])
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 200);
    let wrong_text = wrong.text().unwrap();
    assert!(wrong_text.contains("Username or password not recognised"));
    let form = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let unknown = c
        .post(s.url("/login"))
        .form(&[
            ("username", "nobody"),
            ("password", "not the password"),
            ("csrf", &hidden(&form, "csrf")),
        ])
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 200);
    let strip = |t: &str| {
        t.lines()
            .filter(|l| !l.contains("name=\"csrf\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&unknown.text().unwrap()), strip(&wrong_text));

    let c = s.login("clin");
    let home = c.get(s.url("/")).send().unwrap();
    assert_eq!(home.status(), 200);
    for header in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "strict-transport-security",
    ] {
        assert!(home.headers().contains_key(header), "missing {header}");
    }
    assert_eq!(home.headers()["cache-control"], "no-store");
    let page = home.text().unwrap();
    assert!(page.contains("clin · clinician"));
    // Logging out without the CSRF token is refused; with it, the session dies.
    let refused = c
        .post(s.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let out = c
        .post(s.url("/logout"))
        .form(&[("csrf", &hidden(&page, "csrf"))])
        .send()
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = c.get(s.url("/")).send().unwrap();
    assert_eq!(after.status(), 303, "the session is dead after logout");
    let actions: Vec<(String, String)> = {
        let conn = s.env.sql();
        let mut st = conn.prepare("SELECT action, outcome FROM audit_event WHERE action IN ('login', 'logout') ORDER BY seq").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let expected: Vec<(String, String)> = [
        ("login", "failed"),
        ("login", "failed"),
        ("login", "ok"),
        ("logout", "ok"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(actions, expected);
}
