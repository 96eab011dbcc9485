//! Watching for misuse, end to end: for each rule a scripted session by a real user over
//! HTTPS, then the watch run (`sharedcare misuse check`, as the scheduled job runs it), then
//! the privacy officer's queue and evidence pages — exactly that rule's alert and no other. A
//! normal clinician's day raises none. Viewing the alerts is audited, and only the privacy
//! officer may.
//!
//! The server's clock is the wall clock, so each test's site rules file puts the unusual hours
//! where the test wants them: away from now, except in the test of that rule.

use super::server::{self, add_user, person_with_nhs, Server};
use super::support::Env;
use chrono::Timelike;
use reqwest::blocking::Client;

const MARGARET: &str = "9994837567";
const JOHN: &str = "9998934850";
const TYLER: &str = "9998137284";
const CHLOE: &str = "9993605670";
const ROBERT: &str = "9991256555";
/// Registered at Riverside: no one at X99001 has a relationship with him.
const DANIEL: &str = "9997661001";

/// The UK hour now (plus `ahead`), for a window of unusual hours.
fn uk_hour(ahead: u32) -> u32 {
    let (local, _) = sharedcare::record::when::london(chrono::Utc::now());
    (local.hour() + ahead) % 24
}

/// Unusual hours that cannot be now while the test runs.
fn daytime() -> String {
    format!(
        "[unusual-hours]\nfrom = {}\nuntil = {}\n",
        uk_hour(3),
        uk_hour(5)
    )
}

/// A server over the sample feeds (users `clin`, `sw`, `it`, `po`) whose site misuse rules
/// are `rules`; the scheduled watch is off, so the test decides when it runs.
fn start(rules: &str) -> Server {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let file = env.data_dir().join("misuse-rules.toml");
    std::fs::write(&file, rules).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[access]\nmisuse_rules = {:?}\n[jobs]\nmisuse_watch = \"\"\n",
            file.to_str().unwrap()
        ),
    )
    .unwrap();
    env.load_sample_feeds();
    for (name, role) in [
        ("clin", "clinician"),
        ("sw", "social-worker"),
        ("it", "admin"),
        ("po", "privacy-officer"),
    ] {
        add_user(&env, name, role);
    }
    Server::start_in(env)
}

fn ok(c: &Client, s: &Server, path: &str) -> String {
    let r = c.get(s.url(path)).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().unwrap()
}

/// Runs the watch now; returns what it printed.
fn check(s: &Server) -> String {
    server::cli(&s.env, &["misuse", "check"])
}

/// The misuse alerts in the privacy officer's queue, read over HTTPS: (rule, user, evidence
/// actions), oldest first.
fn misuse_alerts(s: &Server) -> Vec<(String, String, Vec<String>)> {
    let po = s.login("po");
    let queue = ok(&po, s, "/privacy/alerts");
    let mut ids: Vec<i64> = queue
        .split("href=\"/privacy/alerts/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let page = ok(&po, s, &format!("/privacy/alerts/{id}"));
            let between = |html: &str, open: &str| -> String {
                html.split(open)
                    .nth(1)
                    .unwrap()
                    .split('<')
                    .next()
                    .unwrap()
                    .to_owned()
            };
            let rule = between(&page, "<dd id=\"rule\">");
            let user = between(&page, "/privacy/user?user=");
            let user = user
                .split('"')
                .nth(1)
                .unwrap_or("")
                .trim_start_matches('>')
                .to_owned();
            let actions = page
                .split("class=\"evidence-action\">")
                .skip(1)
                .map(|r| r.split('<').next().unwrap().to_owned())
                .collect();
            (rule, user, actions)
        })
        .collect()
}

fn rules_of(alerts: &[(String, String, Vec<String>)]) -> Vec<(&str, &str)> {
    alerts
        .iter()
        .map(|a| (a.0.as_str(), a.1.as_str()))
        .collect()
}

#[test]
fn a_user_opening_their_own_record_raises_own_record_only() {
    let s = start(&daytime());
    add_user(&s.env, "margaret", "clinician");
    server::cli(
        &s.env,
        &["misuse", "link-user", "margaret", "--nhs-number", MARGARET],
    );
    let me = person_with_nhs(&s.env, MARGARET);
    let john = person_with_nhs(&s.env, JOHN);
    let c = s.login("margaret");
    ok(&c, &s, &format!("/person/{me}"));
    ok(&c, &s, &format!("/person/{me}/timeline"));
    // A patient of hers who is someone else raises nothing.
    ok(&c, &s, &format!("/person/{john}"));
    check(&s);
    let alerts = misuse_alerts(&s);
    assert_eq!(rules_of(&alerts), vec![("own-record", "margaret")]);
    assert_eq!(alerts[0].2, vec!["view-record", "view-timeline"]);
    // Evaluated once: running again raises nothing more.
    assert!(check(&s).contains("0 misuse alerts raised"));
    assert_eq!(misuse_alerts(&s).len(), 1);
}

#[test]
fn opening_the_record_of_someone_with_your_surname_and_postcode_raises_same_household_only() {
    let s = start(&daytime());
    add_user(&s.env, "kwatson", "clinician");
    server::cli(
        &s.env,
        &[
            "misuse",
            "link-user",
            "kwatson",
            "--family-name",
            "Watson",
            "--postcode",
            "wx2 5pl",
        ],
    );
    let chloe = person_with_nhs(&s.env, CHLOE);
    let margaret = person_with_nhs(&s.env, MARGARET);
    let c = s.login("kwatson");
    ok(&c, &s, &format!("/person/{chloe}"));
    ok(&c, &s, &format!("/person/{margaret}"));
    check(&s);
    let alerts = misuse_alerts(&s);
    assert_eq!(rules_of(&alerts), vec![("same-household", "kwatson")]);
    assert_eq!(alerts[0].2, vec!["view-record"]);
}

#[test]
fn views_of_a_person_flagged_as_a_vip_raise_watched_person_only() {
    let s = start(&daytime());
    let robert = person_with_nhs(&s.env, ROBERT);
    server::cli(&s.env, &["misuse", "flag", ROBERT, "--kind", "vip"]);
    let c = s.login("clin");
    ok(&c, &s, &format!("/person/{robert}"));
    ok(
        &c,
        &s,
        &format!("/person/{}", person_with_nhs(&s.env, TYLER)),
    );
    check(&s);
    assert_eq!(
        rules_of(&misuse_alerts(&s)),
        vec![("watched-person", "clin")]
    );
    // Unflagged, he is like anyone else.
    server::cli(&s.env, &["misuse", "unflag", &robert.to_string()]);
    let other = s.login("clin");
    ok(&other, &s, &format!("/person/{robert}/timeline"));
    check(&s);
    let alerts = misuse_alerts(&s);
    assert_eq!(rules_of(&alerts), vec![("watched-person", "clin")]);
    assert_eq!(
        alerts[0].2,
        vec!["view-record"],
        "the unflagged view joined"
    );
}

#[test]
fn viewing_many_more_records_in_an_hour_than_usual_raises_many_records_only() {
    // A small region: five people in an hour is "many" once the floor is three.
    let s = start(&format!("{}[many-records]\nfloor = 3\n", daytime()));
    let c = s.login("clin");
    let people: Vec<i64> = [MARGARET, JOHN, TYLER, CHLOE, ROBERT]
        .iter()
        .map(|n| person_with_nhs(&s.env, n))
        .collect();
    for p in &people {
        ok(&c, &s, &format!("/person/{p}"));
    }
    check(&s);
    let alerts = misuse_alerts(&s);
    assert_eq!(rules_of(&alerts), vec![("many-records", "clin")]);
    // Every view of the hour is evidence: the four that crossed the floor and the one after.
    assert_eq!(alerts[0].2.len(), 5, "{alerts:?}");
}

#[test]
fn looking_at_records_at_unusual_hours_raises_unusual_hours_only() {
    // Now is inside the unusual hours.
    let s = start(&format!(
        "[unusual-hours]\nfrom = {}\nuntil = {}\n",
        uk_hour(0),
        uk_hour(2)
    ));
    let c = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    ok(&c, &s, &format!("/person/{margaret}"));
    ok(&c, &s, &format!("/person/{margaret}/results"));
    check(&s);
    let alerts = misuse_alerts(&s);
    assert_eq!(rules_of(&alerts), vec![("unusual-hours", "clin")]);
    assert_eq!(alerts[0].2, vec!["view-record", "view-results"]);
}

#[test]
fn a_record_reached_by_search_and_a_claimed_relationship_raises_search_without_relationship_only() {
    let s = start(&daytime());
    let daniel = person_with_nhs(&s.env, DANIEL);
    let c = s.login("clin");
    let found = ok(&c, &s, &format!("/search?q={DANIEL}"));
    assert!(found.contains(&format!("/person/{daniel}")), "{found}");
    server::claim(&s, &c, daniel);
    ok(&c, &s, &format!("/person/{daniel}"));
    // A claim on someone not found by search first is the self-claim alert alone.
    let edith = person_with_nhs(&s.env, "9993633038");
    server::claim(&s, &c, edith);
    ok(&c, &s, &format!("/person/{edith}"));
    check(&s);
    let alerts = misuse_alerts(&s);
    assert_eq!(
        rules_of(&alerts),
        vec![("search-without-relationship", "clin")]
    );
    assert_eq!(alerts[0].2, vec!["search-hit", "self-claim", "view-record"]);
}

#[test]
fn a_normal_clinicians_day_raises_no_misuse_alert() {
    let s = start(&daytime());
    let c = s.login("clin");
    let token = server::token(&s.env, "clin");
    // Their practice's patients, each found by NHS number and by name and year of birth,
    // opened, read through, and pulled into their own system over FHIR: every kind of
    // request the web benchmark makes (`cargo bench --bench web -- --day` runs the same day
    // for many clinicians at region size).
    for _round in 0..3 {
        for nhs in [MARGARET, JOHN, TYLER, CHLOE, ROBERT] {
            let id = person_with_nhs(&s.env, nhs);
            let (family, born): (String, String) = s
                .env
                .sql()
                .query_row(
                    "SELECT family, birth_date FROM person WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            ok(&c, &s, &format!("/search?q={nhs}"));
            ok(&c, &s, &format!("/search?q={family}+{}", &born[..4]));
            ok(&c, &s, &format!("/person/{id}"));
            ok(&c, &s, &format!("/person/{id}/timeline"));
            ok(&c, &s, &format!("/person/{id}/results"));
            let fhir = c
                .get(s.url(&format!("/fhir/Patient/person-{id}/$everything")))
                .bearer_auth(&token)
                .send()
                .unwrap();
            assert_eq!(fhir.status(), 200);
        }
    }
    let sw = s.login("sw");
    ok(&sw, &s, "/search?q=Watson");
    let printed = check(&s);
    assert!(printed.contains("0 misuse alerts raised"), "{printed}");
    assert_eq!(misuse_alerts(&s), vec![]);
}

#[test]
fn only_the_privacy_officer_sees_misuse_alerts_and_every_view_of_them_is_audited() {
    let s = start(&daytime());
    add_user(&s.env, "margaret", "clinician");
    server::cli(
        &s.env,
        &["misuse", "link-user", "margaret", "--nhs-number", MARGARET],
    );
    let me = person_with_nhs(&s.env, MARGARET);
    ok(&s.login("margaret"), &s, &format!("/person/{me}"));
    check(&s);
    let id: i64 = s
        .env
        .count("SELECT alert_id FROM misuse_alert WHERE rule = 'own-record'");
    for who in ["clin", "it", "sw", "margaret"] {
        let c = s.login(who);
        for path in [
            format!("/privacy/alerts/{id}"),
            "/privacy/alerts".to_owned(),
        ] {
            let r = c.get(s.url(&path)).send().unwrap();
            assert_eq!(r.status(), 403, "{who} {path}");
        }
    }
    let before = s
        .env
        .count("SELECT count(*) FROM audit_event WHERE action = 'misuse-alert-view'");
    let po = s.login("po");
    ok(&po, &s, &format!("/privacy/alerts/{id}"));
    ok(&po, &s, "/privacy/alerts");
    let views: Vec<(String, Option<i64>)> = {
        let db = s.env.sql();
        let mut st = db
            .prepare(
                "SELECT actor, person_id FROM audit_event WHERE action = 'misuse-alert-view'
                 ORDER BY seq",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(views.len() as i64, before + 2);
    assert_eq!(views[views.len() - 2], ("po".to_owned(), Some(me)));
    // No such alert, or an alert of another kind: not found, and nothing about it shown.
    let r = po.get(s.url("/privacy/alerts/999999")).send().unwrap();
    assert_eq!(r.status(), 404);
}
