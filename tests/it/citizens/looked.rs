//! Who has looked, saying no, and reporting an error, each from the citizen's pages.

use super::*;

#[test]
fn who_has_looked_shows_the_clinicians_view_by_role_and_organisation_with_why() {
    let s = Server::start();
    let margaret = person_with_nhs(&s.env, MARGARET);
    // A clinician at Margaret's practice opens her record (a care relationship).
    let clin = s.login("clin");
    assert_eq!(
        clin.get(s.url(&format!("/person/{margaret}")))
            .send()
            .unwrap()
            .status(),
        200
    );
    // A clinician elsewhere breaks glass.
    add_user_at(&s.env, "er", "acute-clinician", "R1K");
    let er = s.login("er");
    let page_text = er
        .get(s.url(&format!("/person/{margaret}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&page_text, "csrf");
    let r = er
        .post(s.url(&format!("/person/{margaret}/break-glass")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason_code", "unconscious"),
            ("reason", "Brought in unconscious"),
            ("password", PASSWORD),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        er.get(s.url(&format!("/person/{margaret}")))
            .send()
            .unwrap()
            .status(),
        200
    );

    let (citizen, _) = sign_up(&s, MARGARET, "margaret");
    let looked = page(&s, &citizen, "/citizen/looked");
    assert!(looked.contains("Clinician"), "{looked}");
    assert!(looked.contains("involved in your care"), "{looked}");
    assert!(looked.contains("broken glass"), "{looked}");
    assert!(
        looked.contains("Unconscious or confused patient"),
        "{looked}"
    );
    assert!(
        looked.contains("Not yet reviewed by the privacy officer"),
        "{looked}"
    );
    assert!(
        !looked.contains(">clin<") && !looked.contains("(clin)") && !looked.contains("(er)"),
        "staff names are not shown by default"
    );
    // The citizen's own looks are not listed as someone else's.
    assert!(!looked.contains("Citizen"), "{looked}");

    // The privacy officer closes the alert: the decision shows.
    let po = s.login("po");
    let alerts = po
        .get(s.url("/privacy/alerts"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let id: i64 = s
        .env
        .count("SELECT id FROM privacy_alert WHERE kind = 'break-glass'");
    let csrf = hidden(&alerts, "csrf");
    let r = po
        .post(s.url(&format!("/privacy/alerts/{id}/close")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("note", "Justified: emergency admission"),
        ])
        .send()
        .unwrap();
    assert!(
        r.status().is_redirection() || r.status() == 200,
        "{}",
        r.status()
    );
    let looked = page(&s, &citizen, "/citizen/looked");
    assert!(
        looked.contains("Justified: emergency admission"),
        "{looked}"
    );

    // CSV, and the date filter.
    let csv = page(&s, &citizen, "/citizen/looked.csv");
    assert!(csv.starts_with("when,organisation,role,name,what,why,privacy officer"));
    assert!(csv.lines().count() >= 3, "{csv}");
    let none = page(
        &s,
        &citizen,
        "/citizen/looked?from=2001-01-01&until=2001-01-31",
    );
    assert!(
        none.contains("No one has looked at your record in these dates"),
        "{none}"
    );
}

/// Entry ids on a staff record page.
fn listed(page: &str) -> std::collections::BTreeSet<i64> {
    page.split("id=\"entry-")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

#[test]
fn a_citizen_recorded_objection_holds_for_staff_at_once_and_withdrawing_it_restores_sharing() {
    let s = Server::start();
    let margaret = person_with_nhs(&s.env, MARGARET);
    let clin = s.login("clin");
    let path = format!("/person/{margaret}");
    let before = listed(&clin.get(s.url(&path)).send().unwrap().text().unwrap());
    let (citizen, _) = sign_up(&s, MARGARET, "margaret");
    let sharing = page(&s, &citizen, "/citizen/sharing");
    assert!(sharing.contains("What changes if you say no"));
    let csrf = hidden(&sharing, "csrf");
    // Without ticking that they have read what changes, nothing changes.
    let r = citizen
        .post(s.url("/citizen/sharing/object"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        listed(&clin.get(s.url(&path)).send().unwrap().text().unwrap()),
        before
    );
    let r = citizen
        .post(s.url("/citizen/sharing/object"))
        .form(&[("csrf", csrf.as_str()), ("understood", "true")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(page(&s, &citizen, "/citizen/sharing").contains("You have said no to sharing"));
    let during = listed(&clin.get(s.url(&path)).send().unwrap().text().unwrap());
    assert!(
        during.len() < before.len() && during.is_subset(&before),
        "{} of {}",
        during.len(),
        before.len()
    );
    let recorded_by: String = s.env.sql().query_row(
        "SELECT recorded_by FROM sharing_objection WHERE person_id = ?1 AND withdrawn_at IS NULL",
        [margaret],
        |r| r.get(0),
    ).unwrap();
    assert!(recorded_by.starts_with("citizen:"), "{recorded_by}");
    assert_eq!(s.env.count("SELECT count(*) FROM audit.audit_event WHERE action = 'objection-record' AND role = 'citizen'"), 1);
    let r = citizen
        .post(s.url("/citizen/sharing/withdraw"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        listed(&clin.get(s.url(&path)).send().unwrap().text().unwrap()),
        before
    );
}

#[test]
fn an_error_report_goes_to_the_source_organisations_admin_who_marks_it_handled() {
    let s = Server::start();
    let (citizen, _) = sign_up(&s, MARGARET, "margaret");
    let record = page(&s, &citizen, "/citizen");
    // An item from Orchard Surgery (X99001, where the admin `it` works).
    let margaret = person_with_nhs(&s.env, MARGARET);
    let entry: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT e.id FROM entry e JOIN source_person sp ON sp.id = e.source_person_id \
         JOIN source src ON src.id = e.source_id JOIN organisation o ON o.id = src.organisation_id \
         WHERE sp.person_id = ?1 AND o.ods_code = 'X99001' AND e.category = 'allergy' LIMIT 1",
            [margaret],
            |r| r.get(0),
        )
        .unwrap();
    assert!(record.contains(&format!("/citizen/item/{entry}/report")));
    let form = page(&s, &citizen, &format!("/citizen/item/{entry}/report"));
    let csrf = hidden(&form, "csrf");
    let r = citizen
        .post(s.url(&format!("/citizen/item/{entry}/report")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("text", "I am not allergic to this"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(page(&s, &citizen, "/citizen/reports").contains("Waiting"));
    // The admin at another organisation sees nothing; a clinician may not see the queue.
    add_user_at(&s.env, "it2", "admin", "R9W");
    let queue = s
        .login("it2")
        .get(s.url("/admin/citizen-reports"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!queue.contains("I am not allergic"));
    assert_eq!(
        s.login("clin")
            .get(s.url("/admin/citizen-reports"))
            .send()
            .unwrap()
            .status(),
        403
    );
    let it = s.login("it");
    let queue = it
        .get(s.url("/admin/citizen-reports"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(queue.contains("I am not allergic to this"), "{queue}");
    let id: i64 = s.env.count("SELECT id FROM citizen_error_report");
    let csrf = hidden(&queue, "csrf");
    let r = it
        .post(s.url(&format!("/admin/citizen-reports/{id}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("note", "Removed: recorded in error"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let mine = page(&s, &citizen, "/citizen/reports");
    assert!(mine.contains("Removed: recorded in error"), "{mine}");
    assert_eq!(s.env.count("SELECT count(*) FROM audit.audit_event WHERE action IN ('citizen-error-report', 'citizen-error-handled')"), 2);
}
