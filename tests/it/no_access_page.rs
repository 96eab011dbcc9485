//! The page for a record the user may not open, over a real server: it names the person as
//! the search row did (and no more), audits that it did, offers break glass first to a role
//! with emergency duties, lays its forms out one field under another, and says how long access
//! lasts in days.

use super::server::Server;

const DANIEL: &str = "9997661001";

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

fn get(c: &reqwest::blocking::Client, s: &Server, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// (person, detail) of each `view-refused` event by `actor`.
fn refusals(s: &Server, actor: &str) -> Vec<(Option<i64>, String)> {
    let db = s.env.sql();
    let mut st = db
        .prepare(
            "SELECT person_id, coalesce(detail, '') FROM audit_event
             WHERE action = 'view-refused' AND actor = ?1 ORDER BY seq",
        )
        .unwrap();
    st.query_map([actor], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The text of the element with this id, tags and all.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let end = page[start..]
        .find("</section>")
        .map_or(page.len(), |n| start + n);
    &page[start..end]
}

#[test]
fn regression_the_no_access_page_names_the_person_the_search_row_showed() {
    let s = Server::start();
    let daniel = person(&s, DANIEL);
    let clin = s.login("clin");
    let (_, row) = get(&clin, &s, "/search?q=okafor");
    for shown in ["Daniel OKAFOR", "3 Jun 1978", "999 766 1001"] {
        assert!(row.contains(shown), "the search row lacks {shown}: {row}");
    }
    let (status, page) = get(&clin, &s, &format!("/person/{daniel}"));
    assert_eq!(status, 403);
    for shown in ["Daniel OKAFOR", "3 Jun 1978", "999 766 1001"] {
        assert!(
            page.contains(shown),
            "the no-access page lacks {shown}: {page}"
        );
    }
    // No more than the search row: not where he lives, not his practice.
    for withheld in ["CANAL", "WX3", "Riverside"] {
        assert!(
            !page.to_uppercase().contains(&withheld.to_uppercase()),
            "the no-access page shows {withheld}: {page}"
        );
    }
    // Naming him is a look at him: audited, with the person.
    let seen = refusals(&s, "clin");
    assert!(
        seen.iter()
            .any(|(p, d)| *p == Some(daniel) && d.contains("NHS number shown")),
        "{seen:?}"
    );

    // An id that names no one names no one, and its audit names no one either.
    let (status, nobody) = get(&clin, &s, "/person/999999");
    assert_eq!(status, 403);
    assert!(!nobody.contains("refused-person"), "{nobody}");
    let seen = refusals(&s, "clin");
    assert_eq!(seen.last(), Some(&(None, "record 999999".to_owned())));
}

#[test]
fn regression_break_glass_comes_first_for_roles_with_emergency_duties() {
    let s = Server::start();
    let daniel = person(&s, DANIEL);
    // The shipped policy gives clinicians break glass (emergency duties); social workers not.
    let (_, clinician) = get(&s.login("clin"), &s, &format!("/person/{daniel}"));
    let glass = clinician
        .find("id=\"h-glass\"")
        .expect("break glass offered");
    let claim = clinician.find("id=\"h-claim\"").expect("claim offered");
    assert!(glass < claim, "break glass is not first: {clinician}");
    let (_, social) = get(&s.login("sw"), &s, &format!("/person/{daniel}"));
    assert!(!social.contains("id=\"h-glass\""), "{social}");
    assert!(social.contains("id=\"h-claim\""), "{social}");
}

#[test]
fn regression_no_access_forms_are_laid_out_one_field_under_another() {
    let s = Server::start();
    let daniel = person(&s, DANIEL);
    let (_, page) = get(&s.login("clin"), &s, &format!("/person/{daniel}"));
    for id in ["h-glass", "h-claim"] {
        let form = section(&page, id);
        assert!(
            form.contains("<form method=\"post\"") && form.contains("class=\"stack\""),
            "the form under #{id} is not laid out as a stack: {form}"
        );
        // Each field has its label, before it.
        for field in ["-code\"", "-reason\""] {
            let name = if id == "h-glass" { "glass" } else { "claim" };
            let label = form
                .find(&format!("<label for=\"{name}{field}"))
                .unwrap_or_else(|| panic!("no label for {name}{field}"));
            let input = form
                .find(&format!("id=\"{name}{field}"))
                .unwrap_or_else(|| panic!("no field {name}{field}"));
            assert!(label < input, "{name}{field}: label after its field");
        }
    }
    // The stack is a one-column grid in the stylesheet the page loads.
    let css = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
        .get(s.url("/static/app.css"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        css.contains("form.stack { display: grid;")
            && css.contains("form.stack { grid-template-columns: minmax(0, 1fr); }"),
        "form.stack is not a one-column grid"
    );
}

#[test]
fn regression_durations_read_lasts_7_days_not_lasts_168_hours() {
    let s = Server::start();
    let daniel = person(&s, DANIEL);
    let (_, page) = get(&s.login("clin"), &s, &format!("/person/{daniel}"));
    assert!(page.contains("Lasts 7 days."), "{page}");
    assert!(page.contains("for 4 hours;"), "{page}");
    assert!(!page.contains("168 hours"), "{page}");
}
