//! Duplicates a clinician can see, against a real server over the sample feeds: a council
//! record of "Margaret THOMSON" (no NHS number, her date of birth) waits in the review queue as
//! a possible match of Margaret THOMPSON. Search finds both by either spelling, and both
//! records and both search rows say a possible duplicate is waiting for review, showing of the
//! other person only what the reader may see.

use super::server::*;
use super::support::*;

const MARGARET: &str = "9994837567";

/// Imports the council's Margaret THOMSON and returns (her person, Margaret THOMPSON).
fn thomson(env: &Env) -> (i64, i64) {
    env.add_source("DUP-ASC", "social-care", "hl7v2");
    let file = "MSH|^~\\&|ASC|QAC|SC|REG|20240306090000||ADT^A28|DUP1|P|2.4\r\
                EVN|A28|20240306090000\r\
                PID|1||DUP-1^^^QAC^PI||THOMSON^MARGARET||19380314|F|||4 Mill Lane^^Brindley^^WX3 9ZZ\r";
    let r = env.import("DUP-ASC", &env.write("dup.hl7", file));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let duplicate = person_of(env, "DUP-1");
    let margaret = person_with_nhs(env, MARGARET);
    assert_ne!(duplicate, margaret, "a possible match is not linked");
    let queue = env.ok(&["review", "list", "--json"]).json();
    assert!(
        queue
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["local_id"] == "DUP-1"),
        "the pair waits for review: {queue}"
    );
    (duplicate, margaret)
}

fn page(c: &reqwest::blocking::Client, s: &Server, path: &str) -> String {
    let r = c.get(s.url(path)).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().unwrap()
}

fn search(c: &reqwest::blocking::Client, s: &Server, q: &str) -> String {
    let r = c.get(s.url("/search")).query(&[("q", q)]).send().unwrap();
    assert_eq!(r.status(), 200, "search {q}");
    r.text().unwrap()
}

/// The person ids listed in the results table, in order, each with its row's text.
fn rows(html: &str) -> Vec<(i64, String)> {
    let Some(start) = html.find("<table id=\"results\"") else {
        return Vec::new();
    };
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<a href=\"/person/")
        .skip(1)
        .map(|s| {
            let id = s.split('"').next().unwrap().parse().unwrap();
            (id, s.split("</tr>").next().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn regression_similar_surnames_with_her_date_of_birth_find_margaret_thompson() {
    let s = Server::start();
    let (duplicate, margaret) = thomson(&s.env);
    let c = s.login("clin");
    for q in [
        "Margaret Thomson 14/03/1938",
        "Tomson 14/03/1938",
        "Thompsen 14/03/1938",
        "thomson 1938-03-14",
    ] {
        let found = rows(&search(&c, &s, q));
        let ids: Vec<i64> = found.iter().map(|r| r.0).collect();
        assert!(ids.contains(&margaret), "{q}: {ids:?}");
        let (_, row) = found.iter().find(|r| r.0 == margaret).unwrap();
        assert!(
            row.contains("name ≈ Thompson") && row.contains("date of birth"),
            "{q}: why it matched: {row}"
        );
    }
    // Exact before similar: the spelling typed first.
    let ids: Vec<i64> = rows(&search(&c, &s, "Margaret Thomson 14/03/1938"))
        .iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(ids, vec![duplicate, margaret]);
    // A surname further away, or another date of birth, does not.
    for q in [
        "Tomkins 14/03/1938",
        "Thomson 15/03/1938",
        "John Thomson 14/03/1938",
    ] {
        let ids: Vec<i64> = rows(&search(&c, &s, q)).iter().map(|r| r.0).collect();
        assert!(!ids.contains(&margaret), "{q}: {ids:?}");
    }
}

#[test]
fn regression_a_possible_duplicate_says_so_in_the_banner_and_search_rows() {
    let s = Server::start();
    let (duplicate, margaret) = thomson(&s.env);
    let c = s.login("clin");

    // The duplicate's record, which has no DNACPR and no allergy, says whose it may be.
    claim(&s, &c, duplicate);
    let record = page(&c, &s, &format!("/person/{duplicate}"));
    let banner = &record[record.find("id=\"banner\"").unwrap()..record.find("</section>").unwrap()];
    assert!(
        banner.contains("Possible duplicate of Margaret"),
        "{banner}"
    );
    for shown in [
        "THOMPSON",
        "born 14 Mar 1938",
        "999 483 7567",
        "waiting for review",
    ] {
        assert!(banner.contains(shown), "{shown}: {banner}");
    }
    assert!(
        banner.contains(&format!("href=\"/person/{margaret}\"")),
        "{banner}"
    );
    // Naming her is audited like a search row.
    let named: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT count(*) FROM audit_event WHERE action = 'search-hit' AND person_id = ?1
            AND detail = 'possible-duplicate' AND actor = 'clin'",
            [margaret],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(named, 1);

    // And Margaret's own record says the same of the other.
    let record = page(&c, &s, &format!("/person/{margaret}"));
    let banner = &record[record.find("id=\"banner\"").unwrap()..record.find("</section>").unwrap()];
    assert!(
        banner.contains(
            "Possible duplicate of Margaret THOMSON (born 14 Mar 1938), waiting for review"
        ),
        "{banner}"
    );

    // Both search rows say it.
    let found = rows(&search(&c, &s, "Margaret Thomson 14/03/1938"));
    assert_eq!(found.len(), 2);
    for (id, row) in &found {
        assert!(row.contains("waiting for review"), "row {id}: {row}");
    }
    // Someone with no open review is not marked.
    let john = rows(&search(&c, &s, "9998934850"));
    assert!(!john[0].1.contains("duplicate"), "{}", john[0].1);

    // Once decided, the note goes.
    let review = s.env.ok(&["review", "list", "--json"]).json()[0]["id"]
        .as_i64()
        .unwrap();
    s.env.ok(&[
        "review",
        "reject",
        &review.to_string(),
        "--note",
        "Different people: checked with the council",
    ]);
    let record = page(&c, &s, &format!("/person/{duplicate}"));
    assert!(!record.contains("waiting for review"));
}

#[test]
fn a_reader_who_may_not_open_the_other_record_is_told_only_that_a_duplicate_waits() {
    let s = Server::start();
    let (duplicate, margaret) = thomson(&s.env);
    // A social worker of another organisation, with a relationship to the council record only.
    add_user_at(&s.env, "sw2", "social-worker", "ZZ999");
    let c = s.login("sw2");
    claim(&s, &c, duplicate);
    let record = page(&c, &s, &format!("/person/{duplicate}"));
    assert!(
        record.contains("A possible duplicate of this record is waiting for review"),
        "{record}"
    );
    for hidden in ["THOMPSON", "999 483 7567", &format!("/person/{margaret}\"")] {
        assert!(!record.contains(hidden), "{hidden} shown");
    }
    let named: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT count(*) FROM audit_event WHERE detail = 'possible-duplicate' AND actor = 'sw2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(named, 0, "no one was named");
}
