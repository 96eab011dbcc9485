//! The matching review pages against a real server: who may use them, the side-by-side pair,
//! "same person", "not the same person", unmerge with its preview, CSRF and the audit trail.

use super::server::*;
use super::support::*;

fn council_file(control: &str) -> String {
    format!(
        "MSH|^~\\&|ASC|QAC|SC|REG|20240102090000||ADT^A28|{control}|P|2.4\rEVN|A28|20240102090000\r\
         PID|1||CL-QA1^^^QAC^PI||Brown^Philippa||19410309|F|||1 High Street^^Maidstone^^ME14 1AA\r"
    )
}

/// Philippa Quenby at the hospital, then a council record under her maiden name with no NHS
/// number: a possible match. Returns (review id, hospital person, council person).
fn possible_match(s: &Server) -> (i64, i64, i64) {
    let env = &s.env;
    env.add_source("QA-PAS", "acute", "hl7v2");
    env.add_source("QA-ASC", "social-care", "hl7v2");
    let pas = a08(
        "QP1",
        "20240101090000",
        "MRN-QA1",
        &nhs_number(7301),
        "Quenby",
        "Philippa",
        "19410309",
    )
    .replace("|M|||", "|F|||");
    let r = env.import("QA-PAS", &env.write("qa-pas.hl7", pas));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = env.import("QA-ASC", &env.write("qa-c1.hl7", council_file("QC1")));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let hospital = person_of(env, "MRN-QA1");
    let council = person_of(env, "CL-QA1");
    assert_ne!(hospital, council, "a possible match is not linked");
    let review = open_review_of(env, "CL-QA1").expect("the pair waits for review");
    (review, hospital, council)
}

fn open_review_of(env: &Env, local_id: &str) -> Option<i64> {
    let queue = env.ok(&["review", "list", "--json"]).json();
    queue
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["local_id"] == local_id)
        .map(|r| r["id"].as_i64().unwrap())
}

fn audit_rows(env: &Env, action: &str) -> Vec<(Option<i64>, String, String)> {
    let conn = env.sql();
    let mut st = conn
        .prepare(
            "SELECT person_id, coalesce(detail, ''), coalesce(actor, '') FROM audit_event
             WHERE action = ?1 ORDER BY seq",
        )
        .unwrap();
    st.query_map([action], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn same_person_links_and_unmerge_restores_the_previous_link_exactly() {
    let s = Server::start();
    let (review, hospital, council) = possible_match(&s);
    let before = links(&s.env);

    for user in ["clin", "sw"] {
        let c = s.login(user);
        for path in ["/review".to_owned(), format!("/review/{review}")] {
            let r = c.get(s.url(&path)).send().unwrap();
            assert_eq!(r.status(), 403, "{user} {path}");
        }
    }
    let po = s.login("po");
    assert_eq!(po.get(s.url("/review")).send().unwrap().status(), 200);

    let it = s.login("it");
    let queue = it.get(s.url("/review")).send().unwrap();
    assert_eq!(queue.status(), 200);
    let queue = queue.text().unwrap();
    assert!(
        queue.contains(&format!("href=\"/review/{review}\"")),
        "{queue}"
    );
    assert!(queue.contains("CL-QA1"));

    let page = it.get(s.url(&format!("/review/{review}"))).send().unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(page.contains("Incoming: QA-ASC record CL-QA1"), "{page}");
    assert!(
        page.contains("Philippa BROWN"),
        "the incoming record as its source gave it"
    );
    assert!(
        page.contains("Philippa QUENBY"),
        "the candidate's demographics"
    );
    assert!(page.contains(&format!("Person {hospital} from QA-PAS record MRN-QA1")));
    assert!(page.matches("class=\"field-score\"").count() >= 5, "{page}");
    for field in ["family", "given", "birth_date", "postcode"] {
        assert!(
            page.contains(&format!("<th scope=\"row\">{field}</th>")),
            "{field}"
        );
    }
    let seen = audit_rows(&s.env, "review-view");
    let detail = format!("review {review}");
    for person in [hospital, council] {
        assert!(
            seen.iter()
                .any(|(p, d, a)| *p == Some(person) && *d == detail && a == "it"),
            "review-view for person {person}: {seen:?}"
        );
    }
    let csrf = hidden(&page, "csrf");

    // Without the session's token nothing changes.
    let forged = it
        .post(s.url(&format!("/review/{review}/link")))
        .form(&[("csrf", "forged"), ("note", "")])
        .send()
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(links(&s.env), before);
    assert_eq!(open_review_of(&s.env, "CL-QA1"), Some(review));

    let linked = it
        .post(s.url(&format!("/review/{review}/link")))
        .form(&[("csrf", csrf.as_str()), ("note", "same DOB and address")])
        .send()
        .unwrap();
    assert_eq!(linked.status(), 200);
    assert!(linked.text().unwrap().contains("Linked"));
    assert_eq!(person_of(&s.env, "CL-QA1"), hospital);
    assert_eq!(open_review_of(&s.env, "CL-QA1"), None);
    let (state, by, note): (String, String, String) = s
        .env
        .sql()
        .query_row(
            "SELECT state, decided_by, note FROM match_review WHERE id = ?1",
            [review],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (state.as_str(), by.as_str(), note.as_str()),
        ("linked", "it", "same DOB and address")
    );
    let link_audit = audit_rows(&s.env, "review-link");
    for person in [hospital, council] {
        assert!(
            link_audit
                .iter()
                .any(|(p, d, _)| *p == Some(person) && d.starts_with(&detail)),
            "review-link for person {person}: {link_audit:?}"
        );
    }
    let again = it
        .post(s.url(&format!("/review/{review}/link")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(again.status(), 409, "a decided review is not decided twice");

    let preview = it
        .get(s.url(&format!("/review/person/{hospital}/unmerge")))
        .send()
        .unwrap();
    assert_eq!(preview.status(), 200);
    let preview = preview.text().unwrap();
    assert!(
        preview.contains(&detail),
        "names the review it undoes: {preview}"
    );
    assert_eq!(preview.matches("class=\"move\"").count(), 1, "{preview}");
    assert!(preview.contains("QA-ASC record CL-QA1"));
    assert!(
        preview.contains(&format!(
            "<td data-label=\"Goes back to\">person {council}</td>"
        )),
        "{preview}"
    );
    assert_eq!(
        links(&s.env).len(),
        before.len(),
        "a preview changes nothing"
    );
    assert_eq!(person_of(&s.env, "CL-QA1"), hospital);

    let forged = it
        .post(s.url(&format!("/review/person/{hospital}/unmerge")))
        .form(&[("csrf", "forged")])
        .send()
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(person_of(&s.env, "CL-QA1"), hospital);

    let undone = it
        .post(s.url(&format!("/review/person/{hospital}/unmerge")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(undone.status(), 200);
    assert_eq!(links(&s.env), before, "the previous links, exactly");
    let unmerge_audit = audit_rows(&s.env, "unmerge");
    for person in [hospital, council] {
        assert!(
            unmerge_audit
                .iter()
                .any(|(p, d, _)| *p == Some(person) && d.contains(&detail)),
            "unmerge for person {person}: {unmerge_audit:?}"
        );
    }
    let nothing = it
        .get(s.url(&format!("/review/person/{hospital}/unmerge")))
        .send()
        .unwrap();
    assert_eq!(nothing.status(), 404, "nothing left to undo");
}

#[test]
fn not_the_same_person_is_remembered_across_a_new_file() {
    let s = Server::start();
    let (review, hospital, council) = possible_match(&s);
    let it = s.login("it");
    let page = it
        .get(s.url(&format!("/review/{review}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let rejected = it
        .post(s.url(&format!("/review/{review}/reject")))
        .form(&[("csrf", hidden(&page, "csrf").as_str()), ("note", "twin")])
        .send()
        .unwrap();
    assert_eq!(rejected.status(), 200);
    assert!(rejected.text().unwrap().contains("Not the same person"));
    assert_eq!(person_of(&s.env, "CL-QA1"), council);
    assert_eq!(open_review_of(&s.env, "CL-QA1"), None);
    let reject_audit = audit_rows(&s.env, "review-reject");
    for person in [hospital, council] {
        assert!(
            reject_audit.iter().any(|(p, d, a)| *p == Some(person)
                && d.starts_with(&format!("review {review}"))
                && a == "it"),
            "review-reject for person {person}: {reject_audit:?}"
        );
    }
    assert!(
        reject_audit.iter().all(|(_, d, _)| !d.contains("twin")),
        "the note stays out of the audit trail"
    );

    // The council sends the same record again in a new file: it is not proposed again.
    let r = s
        .env
        .import("QA-ASC", &s.env.write("qa-c2.hl7", council_file("QC2")));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["files"][0]["state"], "imported", "{}", r.stdout);
    assert_eq!(open_review_of(&s.env, "CL-QA1"), None);
    assert_eq!(person_of(&s.env, "CL-QA1"), council);
    assert_eq!(
        s.env.count(&format!(
            "SELECT count(*) FROM match_review WHERE id = {review} AND state = 'rejected'"
        )),
        1
    );
    let decided = it.get(s.url(&format!("/review/{review}"))).send().unwrap();
    assert_eq!(decided.status(), 200);
    assert!(decided
        .text()
        .unwrap()
        .contains("already decided: rejected"));
}

#[test]
fn a_feed_merge_is_previewed_and_undone_from_the_page() {
    let s = Server::start();
    let env = &s.env;
    env.add_source("QM-PAS", "acute", "hl7v2");
    let nhs = nhs_number(7302);
    // One man under two hospital numbers: the second with no NHS number, a slipped birth date
    // and an old address, so the matcher keeps them apart until the hospital merges them.
    let pid_b =
        "PID|1||MRN-QB^^^RWF^MR||Quarrell^Ambrose||19460321|M|||9 Mill Lane^^Ashford^^TN23 1AB\r";
    let feed = [
        a08("QM1", "20240101090000", "MRN-QA", &nhs, "Quarrell", "Ambrose", "19460312"),
        format!("MSH|^~\\&|PAS|RWF|SC|REG|20240102090000||ADT^A08|QM2|P|2.4\rEVN|A08|20240102090000\r{pid_b}"),
    ]
    .concat();
    let r = env.import("QM-PAS", &env.write("qm.hl7", feed));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let (kept, retired) = (person_of(env, "MRN-QA"), person_of(env, "MRN-QB"));
    assert_ne!(kept, retired);
    let before = links(env);
    let merge = format!(
        "MSH|^~\\&|PAS|RWF|SC|REG|20240103090000||ADT^A40|QM3|P|2.4\rEVN|A40|20240103090000\r\
         PID|1||MRN-QA^^^RWF^MR~{nhs}^^^NHS^NH||Quarrell^Ambrose||19460312|M\rMRG|MRN-QB^^^RWF^MR\r"
    );
    let r = env.import("QM-PAS", &env.write("qm-merge.hl7", merge));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(person_of(env, "MRN-QB"), kept, "merged");

    let it = s.login("it");
    let preview = it
        .get(s.url(&format!("/review/person/{kept}/unmerge")))
        .send()
        .unwrap();
    assert_eq!(preview.status(), 200);
    let preview = preview.text().unwrap();
    assert!(preview.contains("a merge from a feed"), "{preview}");
    assert_eq!(preview.matches("class=\"move\"").count(), 1, "{preview}");
    assert!(preview.contains("QM-PAS record MRN-QB"), "{preview}");
    assert!(preview.contains(&format!(
        "<td data-label=\"Goes back to\">person {retired}</td>"
    )));
    assert!(
        preview.contains("Ambrose QUARRELL"),
        "the records that move"
    );
    let seen = audit_rows(env, "review-view");
    for person in [kept, retired] {
        assert!(seen.iter().any(|(p, _, _)| *p == Some(person)), "{seen:?}");
    }

    let r = it
        .post(s.url(&format!("/review/person/{kept}/unmerge")))
        .form(&[("csrf", hidden(&preview, "csrf").as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(links(env), before, "the links before the merge, exactly");
    assert_eq!(
        env.count(&format!(
            "SELECT count(*) FROM person WHERE id = {retired} AND merged_into IS NULL"
        )),
        1
    );
    let unmerge_audit = audit_rows(env, "unmerge");
    assert!(unmerge_audit
        .iter()
        .any(|(p, d, a)| *p == Some(retired) && d.contains("undid merge") && a == "it"));
}
