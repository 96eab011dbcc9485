//! FHIR `Patient` search pages of the size `_count` asks for.

use super::server::*;
use super::support::*;
use serde_json::Value;

/// A server over the sample feeds plus 25 people called QUENBY, and a token for `clin`.
fn quenbys() -> (Server, String) {
    let env = Env::new();
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    let messages: String = (0..25)
        .map(|i| {
            a08(
                &format!("Q{i}"),
                "20240301120000",
                &format!("Q{i:05}"),
                &nhs_number(4000 + i),
                "QUENBY",
                &format!("Given{}", char::from(b'a' + i as u8)),
                &format!("19{:02}0{}1{}", 30 + i, 1 + i % 9, i % 10),
            )
        })
        .collect();
    let file = env.write("quenby.hl7", messages);
    assert_eq!(env.import("WGH-PAS", &file).code, 0);
    let s = Server::start_in(env);
    let token = cli(&s.env, &["token", "create", "--user", "clin"])
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    (s, token)
}

fn get(s: &Server, token: &str, url: &str) -> (u16, Value) {
    let r = s.client().get(url).bearer_auth(token).send().unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn next(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .map(str::to_owned)
}

fn hits_audited(s: &Server) -> i64 {
    s.env
        .sql()
        .query_row(
            "SELECT count(*) FROM audit_event WHERE action = 'search-hit'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn regression_fhir_patient_search_honours_count() {
    // `_count` was accepted and ignored: every page held twenty.
    let (s, t) = quenbys();
    let (status, twenty) = get(&s, &t, &s.url("/fhir/Patient?family=QUENBY"));
    assert_eq!(status, 200);
    let all_first = ids(&twenty);
    assert_eq!(all_first.len(), 20);
    let audited = hits_audited(&s);

    // Pages of 7: the same ranking, 7 at a time, each audited for the 7 it lists.
    let (status, first) = get(&s, &t, &s.url("/fhir/Patient?family=QUENBY&_count=7"));
    assert_eq!(status, 200, "{first}");
    assert_eq!(ids(&first), all_first[..7]);
    assert!(first.get("total").is_none(), "more follow: {first}");
    assert_eq!(hits_audited(&s) - audited, 7);
    let mut seen = ids(&first);
    let mut url = next(&first).expect("a next link");
    assert!(url.contains("_count=7") && url.contains("_page=2"), "{url}");
    let mut pages = 1;
    loop {
        let (status, page) = get(&s, &t, &url);
        assert_eq!(status, 200, "{page}");
        pages += 1;
        seen.extend(ids(&page));
        match next(&page) {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(pages, 4, "25 people in pages of 7");
    assert_eq!(seen.len(), 25);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25, "no one listed twice");
    assert_eq!(seen[..20], all_first[..]);

    // A count above the most a page holds is given that most; all 25 fit, with their total.
    let (status, big) = get(&s, &t, &s.url("/fhir/Patient?family=QUENBY&_count=1000"));
    assert_eq!(status, 200, "{big}");
    assert_eq!(ids(&big).len(), 25);
    assert_eq!(big["total"], 25, "{big}");
    assert!(next(&big).is_none());

    // Nonsense is refused, not guessed at.
    for bad in ["0", "-3", "ten"] {
        let (status, outcome) = get(
            &s,
            &t,
            &s.url(&format!("/fhir/Patient?family=QUENBY&_count={bad}")),
        );
        assert_eq!(status, 400, "_count={bad}: {outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
    }
}
