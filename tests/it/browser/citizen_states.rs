//! axe-core on every citizen page in each state it can be in — empty and filled forms, a form
//! answered with its error, an objection in force, a report sent, acting for someone as their
//! proxy — at phone and desktop sizes, in real Chromium. (`citizen.rs` walks the journey; this
//! walks the states.)

use super::super::citizens::{invite, now, CITIZEN_PASSWORD, MARGARET, OTHER};
use super::super::server::{hidden, person_with_nhs, Server};
use super::{axe, driver, find, path, wait_for, Driver, WAIT};
use fantoccini::Client;
use std::time::{Duration, Instant};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);

/// The current page passes axe at both sizes (0 serious or critical violations).
async fn accessible_at_both_sizes(c: &Client, what: &str) {
    for (w, h) in [PHONE, DESKTOP] {
        c.set_window_size(w, h).await.unwrap();
        axe::assert_accessible(c, &format!("{what} at {w} px")).await;
    }
}

async fn visit(c: &Client, s: &Server, p: &str) {
    c.goto(&s.url(p)).await.unwrap();
    wait_for(c, "h1").await;
}

async fn type_into(c: &Client, css: &str, text: &str) {
    find(c, css).await.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.unwrap();
}

/// Clicks a form's button and waits until the browser has replaced the page with the answer, so
/// that what is read next is the answer and not the page the form was on (regression: a
/// `wait_for("h1")` straight after the click found the old page's heading).
async fn submit(c: &Client, css: &str) {
    let old_page = find(c, "html").await;
    find(c, css).await.click().await.unwrap();
    let deadline = Instant::now() + WAIT;
    while old_page.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "clicking `{css}` loaded no new page"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn page_text(c: &Client) -> String {
    c.source().await.unwrap()
}

#[test]
fn every_citizen_page_in_each_of_its_states_passes_axe_at_phone_and_desktop() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    let margaret = person_with_nhs(&s.env, MARGARET);
    let john = person_with_nhs(&s.env, OTHER);
    // Margaret may act for John; a clinician has looked at her record.
    let it = s.login("it");
    let form = it
        .get(s.url("/admin/proxies"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let recorded = it
        .post(s.url("/admin/proxies"))
        .form(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("proxy", MARGARET),
            ("person", OTHER),
            ("basis", "lpa-health-welfare"),
            ("starts_on", ""),
            ("ends_on", ""),
            ("evidence", "Lasting power of attorney registration seen"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(recorded.contains("Recorded (relationship"), "{recorded}");
    let clin = s.login("clin");
    let seen = clin
        .get(s.url(&format!("/person/{margaret}")))
        .send()
        .unwrap();
    assert_eq!(seen.status(), 200);
    let code = invite(&s.env, MARGARET);
    let entry: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT e.id FROM entry e JOIN source_person sp ON sp.id = e.source_person_id \
             WHERE sp.person_id = ?1 AND e.category = 'allergy' LIMIT 1",
            [margaret],
            |r| r.get(0),
        )
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
        // Start: empty, then answered with its error (a code that does not work).
        visit(&c, &s, "/citizen/start").await;
        accessible_at_both_sizes(&c, "start").await;
        type_into(&c, "#code", "WRNG-CODE-0000").await;
        type_into(&c, "#username", "margaret").await;
        type_into(&c, "#password", CITIZEN_PASSWORD).await;
        type_into(&c, "#password2", CITIZEN_PASSWORD).await;
        submit(&c, "main form button[type=submit]").await;
        wait_for(&c, "h1").await;
        assert!(page_text(&c).await.contains("did not work"));
        accessible_at_both_sizes(&c, "start, code refused").await;
        visit(&c, &s, "/citizen/start").await;
        type_into(&c, "#code", &code).await;
        type_into(&c, "#username", "margaret").await;
        type_into(&c, "#password", CITIZEN_PASSWORD).await;
        type_into(&c, "#password2", CITIZEN_PASSWORD).await;
        submit(&c, "main form button[type=submit]").await;
        // Second factor: as shown, then with a wrong code refused.
        let secret = wait_for(&c, "#totp-secret").await.text().await.unwrap();
        accessible_at_both_sizes(&c, "second factor").await;
        type_into(&c, "#code", "000000").await;
        submit(&c, "main form button[type=submit]").await;
        wait_for(&c, "#totp-secret").await;
        assert!(page_text(&c).await.contains("did not match"));
        accessible_at_both_sizes(&c, "second factor, code refused").await;
        let totp = sharedcare::citizen::totp::code_at(secret.trim(), now()).unwrap();
        type_into(&c, "#code", &totp).await;
        submit(&c, "main form button[type=submit]").await;
        wait_for(&c, "#cat-allergy").await;

        // Her own pages, as first seen.
        let report_form = format!("/citizen/item/{entry}/report");
        for p in [
            "/citizen",
            "/citizen/looked",
            "/citizen/sharing",
            "/citizen/reports",
            "/citizen/people",
            report_form.as_str(),
        ] {
            visit(&c, &s, p).await;
            accessible_at_both_sizes(&c, p).await;
        }
        // A report: the form answered with its error (nothing typed), then sent and listed.
        visit(&c, &s, &report_form).await;
        c.execute(
            "document.getElementById('text').removeAttribute('required');",
            vec![],
        )
        .await
        .unwrap();
        submit(&c, "main form button[type=submit]").await;
        wait_for(&c, "#text").await;
        assert!(page_text(&c).await.contains("Nothing was sent yet"));
        accessible_at_both_sizes(&c, "report form, nothing typed").await;
        type_into(&c, "#text", "I have never been allergic to penicillin").await;
        submit(&c, "main form button[type=submit]").await;
        wait_for(&c, "h1").await;
        assert_eq!(path(&c).await, "/citizen/reports");
        assert!(page_text(&c).await.contains("never been allergic"));
        accessible_at_both_sizes(&c, "reports, one sent").await;
        // Saying no: the form refused unticked, then the objection in force.
        visit(&c, &s, "/citizen/sharing").await;
        submit(&c, "form[action='/citizen/sharing/object'] button").await;
        wait_for(&c, "h1").await;
        assert!(page_text(&c).await.contains("Please tick the box"));
        accessible_at_both_sizes(&c, "sharing, box not ticked").await;
        click(&c, "#understood").await;
        submit(&c, "form[action='/citizen/sharing/object'] button").await;
        wait_for(&c, "form[action='/citizen/sharing/withdraw']").await;
        accessible_at_both_sizes(&c, "sharing, objection in force").await;
        submit(&c, "form[action='/citizen/sharing/withdraw'] button").await;
        wait_for(&c, "#understood").await;

        // Acting for John: the record, people, who looked and sharing pages as his proxy.
        visit(&c, &s, "/citizen/people").await;
        submit(&c, &format!("form input[value='{john}'] ~ button")).await;
        wait_for(&c, "h1").await;
        assert_eq!(path(&c).await, "/citizen");
        assert!(page_text(&c).await.contains("acting for them"));
        for p in [
            "/citizen",
            "/citizen/people",
            "/citizen/looked",
            "/citizen/sharing",
            "/citizen/reports",
        ] {
            visit(&c, &s, p).await;
            accessible_at_both_sizes(&c, &format!("{p} acting for John")).await;
        }

        // Signed out, then a sign-in refused with its message.
        submit(&c, "header form button[type=submit]").await;
        wait_for(&c, "#username").await;
        type_into(&c, "#username", "margaret").await;
        type_into(&c, "#password", "not her password at all").await;
        type_into(&c, "#code", "123456").await;
        submit(&c, "main form button[type=submit]").await;
        wait_for(&c, "#username").await;
        assert!(page_text(&c).await.contains("did not match"));
        accessible_at_both_sizes(&c, "sign-in, refused").await;
        c.close().await.unwrap();
    });
}
