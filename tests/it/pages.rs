//! The clinician's pages against a real server over the sample feeds: search by every kind of
//! term, the record page's banner and sections, timeline filters, results with trend charts,
//! and the audit rows each of them writes.

use super::server::*;
use super::support::*;
use reqwest::blocking::Client;

/// The person id the sample feeds gave an NHS number.
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

const MARGARET: &str = "9994837567";
const JOHN: &str = "9998934850";
const CHLOE: &str = "9993605670";
const ROBERT: &str = "9991256555";
const DANIEL: &str = "9997661001";

fn get(c: &Client, s: &Server, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn search(c: &Client, s: &Server, q: &str) -> String {
    let r = c.get(s.url("/search")).query(&[("q", q)]).send().unwrap();
    assert_eq!(r.status(), 200, "search {q}");
    r.text().unwrap()
}

/// The person ids listed in the results table, in order.
fn listed(html: &str) -> Vec<i64> {
    let Some(start) = html.find("<table id=\"results\"") else {
        return Vec::new();
    };
    let table = &html[start..html[start..].find("</table>").unwrap() + start];
    table
        .split("<a href=\"/person/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

fn audit_actions(s: &Server, actor: &str) -> Vec<(String, Option<i64>, Option<String>)> {
    let conn = s.env.sql();
    let mut st = conn
        .prepare("SELECT action, person_id, detail FROM audit_event WHERE actor = ?1 ORDER BY seq")
        .unwrap();
    st.query_map([actor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn search_understands_every_kind_of_term() {
    let s = Server::start();
    let c = s.login("clin");
    let margaret = person(&s, MARGARET);
    let john = person(&s, JOHN);
    for (q, who, why) in [
        ("9994837567", margaret, "NHS number"),
        ("999 483 7567", margaret, "NHS number"),
        ("thom", margaret, "name"),
        ("Margaret Thompson", margaret, "name"),
        ("14/03/1938", margaret, "date of birth"),
        ("1938-03-14", margaret, "date of birth"),
        ("14 Mar 1938", margaret, "date of birth"),
        ("WX3 7HG", john, "postcode"),
        ("wx37hg", john, "postcode"),
        ("smith 1952", john, "year of birth"),
        ("smith 22/07/1952", john, "date of birth"),
        ("smith WX3", john, "postcode district"),
    ] {
        let page = search(&c, &s, q);
        assert_eq!(listed(&page), vec![who], "{q}:\n{page}");
        assert!(page.contains(why), "{q} should say {why}");
    }
    // Misspelt: a spelling one source uses, and one no source uses but that sounds the same.
    let page = search(&c, &s, "John Smyth");
    assert_eq!(listed(&page), vec![john]);
    assert!(page.contains("name ≈ Smyth"), "{page}");
    let page = search(&c, &s, "smithe");
    assert!(listed(&page).contains(&john), "{page}");
    // The row shows what identifies the person.
    let page = search(&c, &s, "999 483 7567");
    for shown in [
        "THOMPSON",
        "14 Mar 1938",
        "999 483 7567",
        "female",
        "WX1 4AB",
        "X99001",
    ] {
        assert!(page.contains(shown), "missing {shown}");
    }
    // Several people; and no one.
    assert_eq!(listed(&search(&c, &s, "watson")).len(), 2);
    let none = search(&c, &s, "zzyzx");
    assert!(listed(&none).is_empty());
    assert!(none.contains("No one found for"), "{none}");
    // The search form is on the start page and the search page.
    for path in ["/", "/search"] {
        let (_, page) = get(&c, &s, path);
        assert!(
            page.contains("role=\"search\"") && page.contains("id=\"q\""),
            "{path}"
        );
    }
}

#[test]
fn who_may_search_and_open_records() {
    let s = Server::start();
    let margaret = person(&s, MARGARET);
    let sw = s.login("sw");
    assert_eq!(listed(&search(&sw, &s, "thompson")), vec![margaret]);
    assert_eq!(get(&sw, &s, &format!("/person/{margaret}")).0, 200);
    let admin = s.login("it");
    for path in [
        "/search?q=thompson".to_owned(),
        format!("/person/{margaret}"),
        format!("/person/{margaret}/timeline"),
        format!("/person/{margaret}/results"),
    ] {
        assert_eq!(get(&admin, &s, &path).0, 403, "{path}");
    }
    assert!(audit_actions(&s, "it").iter().all(|a| a.0 == "login"));
    // No one with that id: refused, naming no one. Someone the user has no relationship with:
    // refused, named as a search row names them (see `no_access_page`).
    let clin = s.login("clin");
    let (status, nobody) = get(&clin, &s, "/person/999999");
    assert_eq!(status, 403);
    assert!(!nobody.contains("refused-person"), "{nobody}");
    let daniel = person(&s, DANIEL);
    let (status, stranger) = get(&clin, &s, &format!("/person/{daniel}"));
    assert_eq!(status, 403);
    assert!(stranger.contains("OKAFOR"), "{stranger}");
}

#[test]
fn record_page_has_every_section_and_the_banner_flags() {
    let s = Server::start();
    let c = s.login("clin");
    let (status, page) = get(&c, &s, &format!("/person/{}", person(&s, MARGARET)));
    assert_eq!(status, 200);
    for category in sharedcare::model::Category::ALL {
        let id = format!("<section id=\"cat-{}\"", category.as_str());
        assert!(page.contains(&id), "missing {id}");
        assert!(page.contains(category.label()));
    }
    // Most urgent first.
    let first = page.find("id=\"cat-advance-directive\"").unwrap();
    assert!(first < page.find("id=\"cat-allergy\"").unwrap());
    assert!(page.find("id=\"cat-allergy\"").unwrap() < page.find("id=\"cat-procedure\"").unwrap());
    for (flag, text) in [("flag-dnacpr", "DNACPR"), ("flag-allergy", "Penicillin")] {
        let at = page
            .find(&format!("class=\"flag {flag}\""))
            .unwrap_or_else(|| panic!("no {flag}"));
        assert!(
            page[at..at + 200].contains(text),
            "{flag} should say {text}"
        );
    }
    assert!(page.contains("id=\"banner\""));
    assert!(page.contains("999 483 7567") && page.contains("14 Mar 1938"));
    assert!(
        page.contains("Ashcombe Community Hospital"),
        "current location"
    );
    assert!(page.contains("Orchard Surgery") && page.contains("received"));
    assert_eq!(page.matches("<h1").count(), 1);

    let flag = |nhs: &str, flag: &str| {
        let (_, page) = get(&c, &s, &format!("/person/{}", person(&s, nhs)));
        assert!(
            page.contains(&format!("class=\"flag {flag}\"")),
            "{nhs}: no {flag}"
        );
        page
    };
    // Issue 11: test results from 2024 are history, not banner warnings, by now.
    assert!(!page.contains("flag-covid") && !page.contains("flag-test"));
    let john = flag(JOHN, "flag-mha");
    assert!(
        !john.contains("flag-test-positive"),
        "a 2024 positive has aged out"
    );
    // Alerts are the banner's alert block, kind in words.
    let (_, chloe) = get(&c, &s, &format!("/person/{}", person(&s, CHLOE)));
    assert!(chloe.contains("record-alert record-alert-safeguarding"));
    let robert = flag(ROBERT, "flag-deceased");
    assert!(robert.contains("record-alert record-alert-risk-to-staff"));
    assert!(robert.contains("Large dog at home"));
    // Daniel has no GP on record: the practice claims its relationship first.
    super::server::claim(&s, &c, person(&s, DANIEL));
    // No source sent Daniel's allergies: that is not "no known allergies".
    let daniel = flag(DANIEL, "flag-allergy-unknown");
    assert!(!daniel.contains("flag-allergy\"") && !daniel.contains("flag-nka"));
    assert!(daniel.contains("No allergy information"));
    assert!(!daniel.contains("No known allergies"));
    assert!(daniel.contains("None recorded by"));
    let empty = &daniel[daniel.find("id=\"cat-allergy\"").unwrap()..];
    assert!(empty[..400].contains("None recorded by Riverside Medical Centre"));

    // Searching inside the record marks what matched.
    let (_, found) = get(
        &c,
        &s,
        &format!("/person/{}?find=penicillin", person(&s, MARGARET)),
    );
    assert!(found.contains("item found"), "{found}");
    assert!(found.contains("Matches your search"));
}

#[test]
fn timeline_filters_narrow_the_rows() {
    let s = Server::start();
    let c = s.login("clin");
    let robert = person(&s, ROBERT);
    let rows = |query: &str| {
        let (status, page) = get(&c, &s, &format!("/person/{robert}/timeline{query}"));
        assert_eq!(status, 200);
        assert!(page.contains("<form method=\"get\""));
        page.matches("<tr class=\"cat-").count()
    };
    let all = rows("");
    let contacts = rows("?category=contact");
    let community = rows("?source=WCH-COMMUNITY");
    let early_2024 = rows("?from=2024-01-01&to=2024-01-31");
    assert!(all > 10, "{all}");
    assert_eq!(contacts, 6);
    assert!(community > 0 && community < all);
    assert!(early_2024 > 0 && early_2024 < all);
    assert_eq!(rows("?category=contact&from=2024-02-01&to=2024-03-31"), 3);
    assert_eq!(rows("?category=&source=&from=&to="), all);
}

#[test]
fn results_page_draws_a_trend_chart_as_svg() {
    let env = Env::new();
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    // A second haemoglobin for Margaret, a week after the first.
    let margaret_pid = pid("W100233", MARGARET, "THOMPSON", "MARGARET", "19380314");
    let file = env.write(
        "hb.hl7",
        oru("LAB1", "20240210110500", &margaret_pid, "L24041001", "104"),
    );
    assert_eq!(env.import("WGH-PAS", &file).code, 0);
    let s = Server::start_in(env);
    let c = s.login("clin");
    let (status, page) = get(&c, &s, &format!("/person/{}/results", person(&s, MARGARET)));
    assert_eq!(status, 200);
    assert!(page.contains("<section class=\"test\""));
    assert!(page.contains("Haemoglobin") && page.contains("115-165"));
    assert!(page.contains("abnormal-flag"), "flags are highlighted");
    let marker = "<img class=\"trend\" src=\"";
    let at = page.find(marker).expect("a chart");
    let src = page[at + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        page.contains("alt=\"Trend of Haemoglobin"),
        "a chart for haemoglobin"
    );
    let r = c.get(s.url(&src)).send().unwrap();
    assert_eq!(r.status(), 200, "{src}");
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().unwrap();
    assert!(svg.starts_with("<svg") && (svg.contains("<polyline") || svg.contains("<path")));
    assert_eq!(
        audit_actions(&s, "clin")
            .iter()
            .filter(|a| a.0 == "view-results-chart")
            .count(),
        1
    );
    // A test with a single value gets a table and no chart.
    let sodium = &page[page.find("-h\">Sodium").unwrap()..];
    let sodium = &sodium[..sodium.find("</section>").unwrap()];
    assert!(sodium.contains("131") && !sodium.contains("<img"));
    let missing = format!(
        "/person/{}/results/chart.svg?test=nope",
        person(&s, MARGARET)
    );
    assert_eq!(get(&c, &s, &missing).0, 404);
}

#[test]
fn a_scripted_session_writes_exactly_the_expected_audit_rows() {
    let s = Server::start();
    let c = s.login("clin");
    let margaret = person(&s, MARGARET);
    assert_eq!(listed(&search(&c, &s, "thompson 1938")), vec![margaret]);
    get(&c, &s, &format!("/person/{margaret}"));
    get(&c, &s, &format!("/person/{margaret}/timeline"));
    get(&c, &s, &format!("/person/{margaret}/results"));
    let (_, home) = get(&c, &s, "/");
    let out = c
        .post(s.url("/logout"))
        .form(&[("csrf", &hidden(&home, "csrf"))])
        .send()
        .unwrap();
    assert_eq!(out.status(), 303);
    let expected = vec![
        ("login".to_owned(), None, None),
        (
            "search-hit".to_owned(),
            Some(margaret),
            Some("name+year".to_owned()),
        ),
        ("view-record".to_owned(), Some(margaret), None),
        ("view-timeline".to_owned(), Some(margaret), None),
        ("view-results".to_owned(), Some(margaret), None),
        ("logout".to_owned(), None, None),
    ];
    assert_eq!(audit_actions(&s, "clin"), expected);
    let roles: Vec<(String, String)> = s
        .env
        .sql()
        .prepare("SELECT role, org FROM audit_event WHERE actor = 'clin' AND person_id IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(roles.iter().all(|(r, o)| r == "clinician" && o == "X99001"));
}

#[test]
fn a_search_matching_25_people_audits_only_the_20_shown_then_the_5_on_the_next_page() {
    let env = Env::new();
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    let given = [
        "Alice", "Bernard", "Cora", "Desmond", "Elspeth", "Fergus", "Gwen", "Hector", "Ingrid",
        "Jasper", "Kirsty", "Lionel", "Morag", "Nigel", "Olwen", "Percy", "Rhona", "Seamus",
        "Tamsin", "Ulric", "Verity", "Wilfred", "Yvonne", "Zachary", "Agnes",
    ];
    let messages: String = given
        .iter()
        .enumerate()
        .map(|(i, name)| {
            a08(
                &format!("Q{i}"),
                "20240301120000",
                &format!("Q{i:05}"),
                &nhs_number(4000 + i as u32),
                "QUENBY",
                name,
                &format!("19{:02}0{}1{}", 30 + i, 1 + i % 9, i % 10),
            )
        })
        .collect();
    let file = env.write("quenby.hl7", messages);
    assert_eq!(env.import("WGH-PAS", &file).code, 0);
    let s = Server::start_in(env);
    let c = s.login("clin");
    let audited = || {
        let mut ids: Vec<i64> = audit_actions(&s, "clin")
            .into_iter()
            .filter(|a| a.0 == "search-hit")
            .inspect(|a| assert_eq!(a.2.as_deref(), Some("name")))
            .map(|a| a.1.unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    let page = search(&c, &s, "quenby");
    let first = listed(&page);
    assert_eq!(first.len(), 20, "{page}");
    let mut shown = first.clone();
    shown.sort_unstable();
    assert_eq!(audited(), shown, "only the people on the page are audited");
    // The next page is a plain link (no script needed) and audits its own five.
    let more = page
        .split("<a href=\"")
        .map(|a| a.split('"').next().unwrap())
        .find(|href| href.starts_with("/search?") && href.contains("page=2"))
        .unwrap_or_else(|| panic!("no link to more results: {page}"))
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (status, second) = get(&c, &s, &more);
    assert_eq!(status, 200);
    let next = listed(&second);
    assert_eq!(next.len(), 5, "{second}");
    assert!(next.iter().all(|id| !first.contains(id)));
    assert!(!second.contains("page=3"));
    shown.extend(next);
    shown.sort_unstable();
    assert_eq!(audited(), shown);
    // A search that lists no one writes nothing.
    search(&c, &s, "zzyzx");
    assert_eq!(audit_actions(&s, "clin").len(), 26);

    // The FHIR API pages the same way, and never claims a total it has not counted
    // (regression: a Bundle of the first 20 said "total": 20 of 25).
    let token = s
        .env
        .ok(&["token", "create", "--user", "clin"])
        .stdout
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let fhir = |url: &str| -> serde_json::Value {
        c.get(url)
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let bundle = fhir(&s.url("/fhir/Patient?family=QUENBY"));
    assert_eq!(
        bundle["entry"].as_array().map(Vec::len),
        Some(20),
        "{bundle}"
    );
    assert!(bundle.get("total").is_none(), "{bundle}");
    let next = bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .unwrap_or_else(|| panic!("no next link: {bundle}"))
        .to_owned();
    assert!(
        next.contains("_page=2") && next.contains("family=QUENBY"),
        "{next}"
    );
    let rest = fhir(&next);
    assert_eq!(rest["entry"].as_array().map(Vec::len), Some(5), "{rest}");
    assert!(rest["link"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["relation"] != "next"));
    // One page only: the total is the count.
    let one = fhir(&s.url("/fhir/Patient?family=QUENBY&given=Agnes"));
    assert_eq!(one["total"], 1, "{one}");
}
