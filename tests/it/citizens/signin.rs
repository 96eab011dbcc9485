//! Invitation codes, the second factor, throttling, and sessions apart from staff.

use super::*;

#[test]
fn a_citizen_signs_up_by_invitation_code_and_totp_and_codes_work_once() {
    let s = Server::start();
    let code = invite(&s.env, MARGARET);
    assert_eq!(code.len(), 14, "the code alone on the last line: {code}");
    let (c, r) = redeem(&s, &code, "margaret");
    assert_eq!(r.status(), 303);
    // Until the second factor is set up, the record is not open.
    let r = c.get(s.url("/citizen")).send().unwrap();
    assert_eq!(r.status(), 403);
    let page = page(&s, &c, "/citizen/second-factor");
    let secret = shown_secret(&page);
    let csrf = hidden(&page, "csrf");
    let r = c
        .post(s.url("/citizen/second-factor"))
        .form(&[("code", "000000"), ("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "a wrong code is refused on the page");
    assert!(r.text().unwrap().contains("did not match"));
    let totp = sharedcare::citizen::totp::code_at(&secret, now()).unwrap();
    let r = c
        .post(s.url("/citizen/second-factor"))
        .form(&[("code", totp.as_str()), ("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let record = super::page(&s, &c, "/citizen");
    assert!(record.contains("Your health and care record"));
    assert!(record.to_lowercase().contains("thompson"), "{record}");

    // The code was single use.
    let (_, r) = redeem(&s, &code, "someone-else");
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("did not work"));

    // Sign in: the setup code's step is spent; the next step's code works once.
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &totp);
    assert_eq!(r.status(), 200, "a code already used is refused");
    let next = sharedcare::citizen::totp::code_at(&secret, now() + 30).unwrap();
    let (_, r) = sign_in(&s, "margaret", "wrong password!!", &next);
    assert_eq!(r.status(), 200, "a wrong password is refused");
    let (signed, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &next);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    assert!(super::page(&s, &signed, "/citizen").contains("Your health and care record"));
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &next);
    assert_eq!(r.status(), 200, "the same code again is a replay");

    // Every step is in the audit trail, the code itself nowhere.
    let env = &s.env;
    assert_eq!(
        env.count("SELECT count(*) FROM audit.audit_event WHERE action = 'citizen-invite'"),
        1
    );
    assert!(env.count("SELECT count(*) FROM audit.audit_event WHERE action = 'citizen-login' AND outcome = 'denied'") >= 3);
    assert_eq!(env.count("SELECT count(*) FROM audit.audit_event WHERE action = 'citizen-register' AND outcome = 'ok'"), 1);
    let plain = code.replace('-', "");
    for entry in std::fs::read_dir(env.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(&plain) && !text.contains(&code),
                "the code is stored as it is in {}",
                path.display()
            );
        }
    }
}

#[test]
fn lost_device_reset_by_staff_replaces_password_and_second_factor_and_is_audited() {
    let s = Server::start();
    let (old, old_secret) = sign_up(&s, MARGARET, "margaret");
    // Staff issue a new code on the page (the administrator may invite citizens).
    let it = s.login("it");
    let form = it
        .get(s.url("/admin/citizens"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&form, "csrf");
    let r = it
        .post(s.url("/admin/citizens"))
        .form(&[("csrf", csrf.as_str()), ("person", MARGARET)])
        .send()
        .unwrap();
    let page = r.text().unwrap();
    assert!(page.contains("resets their existing account"), "{page}");
    let marker = "id=\"invite-code\">";
    let at = page.find(marker).unwrap() + marker.len();
    let code = page[at..].split('<').next().unwrap().to_owned();
    // A clinician may not issue codes.
    let clin = s.login("clin");
    assert_eq!(
        clin.get(s.url("/admin/citizens")).send().unwrap().status(),
        403
    );

    let (c, r) = redeem(&s, &code, "margaret-new");
    assert_eq!(r.status(), 303);
    let secret = shown_secret(&page_of(&s, &c, "/citizen/second-factor"));
    assert_ne!(secret, old_secret, "a new second factor");
    // The old session ended with the reset.
    let r = old.get(s.url("/citizen")).send().unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/citizen/login");
    let later = sharedcare::citizen::totp::code_at(&old_secret, now() + 30).unwrap();
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &later);
    assert_eq!(r.status(), 200, "the old name and factor no longer sign in");
    let events = s.env.count(
        "SELECT count(*) FROM audit.audit_event WHERE action = 'citizen-invite' \
         AND detail LIKE '%resets the account%' AND actor = 'it'",
    );
    assert_eq!(events, 1);
}

fn page_of(s: &Server, c: &Client, path: &str) -> String {
    super::page(s, c, path)
}

#[test]
fn wrong_invitation_codes_and_wrong_sign_ins_are_throttled() {
    let s = Server::start();
    let code = invite(&s.env, MARGARET);
    for i in 0..5 {
        let (_, r) = redeem(&s, &format!("WRNG-CODE-{i:04}"), "guesser");
        assert!(r.text().unwrap().contains("did not work"), "guess {i}");
    }
    // Now even the right code waits: guesses from this address are slowed.
    let (_, r) = redeem(&s, &code, "margaret");
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("Please wait"));

    let s = Server::start();
    let (_, secret) = sign_up(&s, MARGARET, "margaret");
    for i in 0..5 {
        let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &format!("{:06}", i));
        assert!(r.text().unwrap().contains("did not match"), "try {i}");
    }
    let right = sharedcare::citizen::totp::code_at(&secret, now() + 30).unwrap();
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &right);
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("Please wait"));
}

#[test]
fn a_citizen_session_reaches_no_staff_route_and_a_staff_session_no_citizen_page() {
    let s = Server::start();
    let (citizen, _) = sign_up(&s, MARGARET, "margaret");
    let mut asked = 0;
    for (routes, base, public) in sharedcare::web::routes() {
        if public || base == "/citizen" {
            continue;
        }
        for route in routes {
            let path = format!("{}{}", base.trim_end_matches('/'), route.uri.path());
            let path: String = path
                .split('/')
                .map(|seg| if seg.starts_with('<') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            let method: reqwest::Method = route.method.as_str().parse().unwrap();
            let r = citizen
                .request(method.clone(), s.url(&path))
                .form(&[("csrf", "x")])
                .send()
                .unwrap();
            let status = r.status().as_u16();
            let to_login = r
                .headers()
                .get("location")
                .is_some_and(|l| l.to_str().unwrap().starts_with("/login"));
            assert!(
                (status == 303 && to_login) || status == 401,
                "{method} {path}: a citizen got {status}"
            );
            asked += 1;
        }
    }
    assert!(asked > 50, "only {asked} staff routes asked");
    // A staff session is no citizen session.
    let clin = s.login("clin");
    for path in [
        "/citizen",
        "/citizen/looked",
        "/citizen/record.json",
        "/citizen/sharing",
    ] {
        let r = clin.get(s.url(path)).send().unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/citizen/login", "{path}");
    }
    // Another person's item cannot be reported (or even named) by this citizen.
    let other = person_with_nhs(&s.env, OTHER);
    let entry: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT e.id FROM entry e JOIN source_person sp ON sp.id = e.source_person_id \
         WHERE sp.person_id = ?1 LIMIT 1",
            [other],
            |r| r.get(0),
        )
        .unwrap();
    let r = citizen
        .get(s.url(&format!("/citizen/item/{entry}/report")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn wrong_codes_at_the_second_factor_set_up_are_throttled_and_the_record_stays_shut() {
    let s = Server::start();
    let code = invite(&s.env, MARGARET);
    let (c, r) = redeem(&s, &code, "margaret");
    assert_eq!(r.status(), 303);
    let setup = page_of(&s, &c, "/citizen/second-factor");
    let secret = shown_secret(&setup);
    let csrf = hidden(&setup, "csrf");
    let post = |code: &str| {
        c.post(s.url("/citizen/second-factor"))
            .form(&[("code", code), ("csrf", csrf.as_str())])
            .send()
            .unwrap()
    };
    for i in 0..5 {
        let r = post(&format!("{:06}", i));
        assert_eq!(r.status(), 200);
        assert!(r.text().unwrap().contains("did not match"), "try {i}");
    }
    // Now even the right code waits, and the record stays shut meanwhile.
    let right = sharedcare::citizen::totp::code_at(&secret, now()).unwrap();
    let r = post(&right);
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("Please wait"));
    assert_eq!(c.get(s.url("/citizen")).send().unwrap().status(), 403);
    assert_eq!(
        s.env.count("SELECT totp_confirmed FROM citizen_account"),
        0,
        "the second factor is not confirmed by a throttled try"
    );
}
