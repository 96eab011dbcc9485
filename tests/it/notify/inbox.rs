//! The inboxes over the real HTTPS server: an organisation's users see, count and mark their
//! own organisation's notifications and no one else's; opening the person still goes through
//! the access gate; self-claims reach the privacy officer's inbox.

use super::super::server::*;
use super::*;

fn unread(env: &Env, id: i64) -> bool {
    env.sql()
        .query_row(
            "SELECT read_at IS NULL FROM notification WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

fn csrf_of(s: &Server, c: &reqwest::blocking::Client) -> (String, String) {
    let page = c.get(s.url("/notifications")).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    (hidden(&html, "csrf"), html)
}

#[test]
fn an_organisation_reads_and_marks_only_its_own_inbox_and_the_header_counts_it() {
    let s = Server::start();
    add_user_at(&s.env, "gp2", "gp-clinician", "X99002");
    let margaret = person_with_nhs(&s.env, MARGARET.nhs);
    feed(
        &s.env,
        "WGH-PAS",
        "a01.hl7",
        &adt_of("A01", "N-I1", &MARGARET, "I", "V-I1", false, false),
    );
    let id: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM notification WHERE recipient = 'org:X99001' AND event = 'admission'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let row = format!("id=\"notification-{id}\"");

    // Not signed in: nothing.
    let anonymous = s.client().get(s.url("/notifications")).send().unwrap();
    assert_ne!(anonymous.status(), 200);

    // Another practice: not listed, not counted, not markable by id or all at once.
    let gp2 = s.login("gp2");
    let (csrf, html) = csrf_of(&s, &gp2);
    assert!(!html.contains(&row), "{html}");
    assert!(html.contains("No unread notifications"));
    assert!(!html.contains("class=\"unread\""));
    for path in [
        format!("/notifications/{id}/read"),
        "/notifications/read".into(),
    ] {
        let r = gp2
            .post(s.url(&path))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    assert!(
        unread(&s.env, id),
        "another organisation marked the notification read"
    );
    // The notification is no reason to be let into the record.
    let record = gp2
        .get(s.url(&format!("/person/{margaret}")))
        .send()
        .unwrap();
    assert_eq!(record.status(), 403);

    // Orchard Surgery: listed, counted in the header, opened through the gate, marked read.
    let clin = s.login("clin");
    let (csrf, html) = csrf_of(&s, &clin);
    assert!(html.contains(&row), "{html}");
    assert!(html.contains("class=\"unread\">1<"), "{html}");
    assert!(html.contains(&format!("href=\"/person/{margaret}\"")));
    // No name, NHS number or date of birth in the inbox itself.
    for detail in ["THOMPSON", "Thompson", "9994837567", "999 483 7567", "1938"] {
        assert!(!html.contains(detail), "the inbox shows {detail}");
    }
    let no_csrf = clin
        .post(s.url(&format!("/notifications/{id}/read")))
        .form(&[("csrf", "wrong")])
        .send()
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    assert!(unread(&s.env, id));
    let r = clin
        .post(s.url(&format!("/notifications/{id}/read")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!unread(&s.env, id));
    let (_, html) = csrf_of(&s, &clin);
    assert!(!html.contains("class=\"unread\""), "{html}");
    assert!(!html.contains(&row));
    let all = clin
        .get(s.url("/notifications?all=true"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        all.contains(&row) && all.contains("by clinician@X99001"),
        "{all}"
    );
}

#[test]
fn a_self_claim_reaches_the_privacy_officer_s_inbox_and_no_clinician_s() {
    let s = Server::start();
    add_user_at(&s.env, "gp2", "gp-clinician", "X99002");
    let margaret = person_with_nhs(&s.env, MARGARET.nhs);
    let gp2 = s.login("gp2");
    claim(&s, &gp2, margaret);
    let (reference, recipient): (String, String) = s
        .env
        .sql()
        .query_row(
            "SELECT reference, recipient FROM notification WHERE event = 'self-claim'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(recipient, "privacy-officer");
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM privacy_alert WHERE kind = 'self-claim'"),
        1
    );
    let po = s.login("po");
    let page = po
        .get(s.url("/notifications"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains(&format!("Alert {reference}")), "{page}");
    assert!(page.contains("Self-claimed relationship"));
    for user in ["clin", "gp2"] {
        let page = s
            .login(user)
            .get(s.url("/notifications"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            !page.contains(&reference),
            "{user} sees the privacy officer's inbox"
        );
    }
}
