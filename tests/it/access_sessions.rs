//! Disabling a user or taking a role profile away ends their sessions and API tokens at once:
//! the very next page request goes to the login form and the next API call is 401, with the
//! server running throughout.

use super::server::*;
use super::support::*;

const MARGARET: &str = "9994837567";

fn page_status(s: &Server, c: &reqwest::blocking::Client, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), location)
}

fn api_status(s: &Server, token: &str, path: &str) -> u16 {
    s.client()
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn token_for(env: &Env, user: &str, role: &str) -> String {
    let out = cli(env, &["token", "create", "--user", user, "--role", role]);
    out.lines().last().unwrap().trim().to_owned()
}

#[test]
fn disabling_a_user_or_removing_a_role_ends_sessions_and_tokens_at_once() {
    let env = Env::new();
    env.load_sample_feeds();
    let person = person_with_nhs(&env, MARGARET);
    add_user_at(&env, "leaver", "clinician", "X99001");
    add_user_at(&env, "mover", "clinician", "X99001");
    cli(
        &env,
        &[
            "user",
            "add-role",
            "mover",
            "--role",
            "gp-clinician",
            "--org",
            "X99001",
        ],
    );
    let leaver_token = token(&env, "leaver");
    let mover_clinician = token_for(&env, "mover", "clinician");
    let mover_gp = token_for(&env, "mover", "gp-clinician");
    let s = Server::start_in(env);
    let record = format!("/person/{person}");
    let patient = format!("/fhir/Patient/person-{person}");
    let leaver = s.login("leaver");
    let mover = s.login("mover");
    for c in [&leaver, &mover] {
        assert_eq!(page_status(&s, c, &record).0, 200);
        assert_eq!(api_status_with_session(&s, c, &patient), 200);
    }
    for t in [&leaver_token, &mover_clinician, &mover_gp] {
        assert_eq!(api_status(&s, t, &patient), 200);
    }

    // Disabled while signed in: the next request of each kind is refused.
    cli(&s.env, &["user", "disable", "leaver"]);
    let (status, location) = page_status(&s, &leaver, &record);
    assert_eq!(status, 303, "the disabled user's next page request");
    assert!(location.starts_with("/login"), "{location}");
    assert_eq!(api_status(&s, &leaver_token, &patient), 401);
    assert_eq!(api_status_with_session(&s, &leaver, &patient), 401);
    let fresh = s.client();
    let form = fresh.get(s.url("/login")).send().unwrap().text().unwrap();
    let again = fresh
        .post(s.url("/login"))
        .form(&[
            ("username", "leaver"),
            ("password", PASSWORD),
            ("csrf", &hidden(&form, "csrf")),
        ])
        .send()
        .unwrap();
    assert_eq!(again.status(), 200, "a disabled user cannot sign in again");

    // The role the session and one token act in is taken away; the other role's token lives.
    cli(
        &s.env,
        &[
            "user",
            "remove-role",
            "mover",
            "--role",
            "clinician",
            "--org",
            "X99001",
        ],
    );
    let (status, location) = page_status(&s, &mover, &record);
    assert_eq!(status, 303, "the session in the removed role");
    assert!(location.starts_with("/login"), "{location}");
    assert_eq!(api_status(&s, &mover_clinician, &patient), 401);
    assert_eq!(api_status_with_session(&s, &mover, &patient), 401);
    assert_eq!(
        api_status(&s, &mover_gp, &patient),
        200,
        "a token acting in the role the user keeps still works"
    );
    // Signing in again gives the role that is left.
    let mover = s.login("mover");
    let home = mover.get(s.url("/")).send().unwrap().text().unwrap();
    assert!(home.contains("gp-clinician@X99001"), "{home}");
}

fn api_status_with_session(s: &Server, c: &reqwest::blocking::Client, path: &str) -> u16 {
    c.get(s.url(path)).send().unwrap().status().as_u16()
}

#[test]
fn a_claim_belongs_to_the_role_profile_that_made_it() {
    let env = Env::new();
    env.load_sample_feeds();
    // Daniel Okafor: Riverside's patient only.
    let daniel = person_with_nhs(&env, "9997661001");
    add_user_at(&env, "multi", "clinician", "X99001");
    cli(
        &env,
        &[
            "user",
            "add-role",
            "multi",
            "--role",
            "community-clinician",
            "--org",
            "R1Z",
        ],
    );
    let profile = |role: &str| -> i64 {
        env.sql()
            .query_row(
                "SELECT p.id FROM role_profile p JOIN app_user u ON u.id = p.user_id
                 WHERE u.username = 'multi' AND p.role = ?1",
                [role],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (clinician, community) = (profile("clinician"), profile("community-clinician"));
    let s = Server::start_in(env);
    let c = s.login("multi");
    let record = format!("/person/{daniel}");
    claim(&s, &c, daniel);
    assert_eq!(page_status(&s, &c, &record).0, 200);
    let switch = |to: i64| {
        let csrf = hidden(&c.get(s.url("/")).send().unwrap().text().unwrap(), "csrf");
        let r = c
            .post(s.url("/profile"))
            .form(&[("csrf", csrf), ("profile", to.to_string())])
            .send()
            .unwrap();
        assert_eq!(r.status(), 303);
    };
    switch(community);
    let home = c.get(s.url("/")).send().unwrap().text().unwrap();
    assert!(home.contains("community-clinician@R1Z"), "{home}");
    assert_eq!(
        page_status(&s, &c, &record).0,
        403,
        "the claim was made as a clinician of Orchard Surgery, not as this profile"
    );
    switch(clinician);
    assert_eq!(page_status(&s, &c, &record).0, 200);
}
