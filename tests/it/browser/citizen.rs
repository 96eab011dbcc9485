//! A resident's journey in real Chromium at phone size: redeem an invitation code, set up the
//! second factor from the key shown, see their own record, download it, and find the
//! clinician's earlier look on "who has looked"; sign out and back in with password and code.
//! axe-core checks every citizen page at phone and desktop sizes.

use super::super::citizens::{invite, now, CITIZEN_PASSWORD, MARGARET};
use super::super::server::{person_with_nhs, Server};
use super::{axe, driver, find, path, wait_for, Driver};
use fantoccini::Client;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);

async fn body_text(c: &Client) -> String {
    c.execute("return document.body.innerText;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Fails when the page is wider than the window (a phone would scroll sideways).
async fn assert_fits(c: &Client, page: &str) {
    let over = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        over.as_f64().unwrap_or(1.0) <= 0.0,
        "{page} is {over} px wider than the phone"
    );
}

async fn type_into(c: &Client, css: &str, text: &str) {
    find(c, css).await.send_keys(text).await.unwrap();
}

async fn submit(c: &Client) {
    find(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}

#[test]
fn a_citizen_signs_in_by_code_and_totp_on_a_phone_and_sees_the_clinicians_look() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    let margaret = person_with_nhs(&s.env, MARGARET);
    let clin = s.login("clin");
    let r = clin
        .get(s.url(&format!("/person/{margaret}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "the clinician's earlier look");
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
        c.goto(&s.url("/citizen/start")).await.unwrap();
        wait_for(&c, "#code").await;
        axe::assert_accessible(&c, "citizen start at phone size").await;
        type_into(&c, "#code", &code.to_lowercase()).await;
        type_into(&c, "#username", "margaret").await;
        type_into(&c, "#password", CITIZEN_PASSWORD).await;
        type_into(&c, "#password2", CITIZEN_PASSWORD).await;
        submit(&c).await;
        let secret = wait_for(&c, "#totp-secret").await.text().await.unwrap();
        axe::assert_accessible(&c, "second factor at phone size").await;
        assert_fits(&c, "second factor").await;
        let totp = sharedcare::citizen::totp::code_at(secret.trim(), now()).unwrap();
        type_into(&c, "#code", &totp).await;
        submit(&c).await;
        wait_for(&c, "#cat-allergy").await;
        assert_eq!(path(&c).await, "/citizen");
        let record = body_text(&c).await;
        assert!(record.contains("Thompson"), "{record}");
        assert!(record.contains("Penicillin"), "{record}");
        assert!(record.contains("From Orchard Surgery"), "{record}");

        // The download, as the page's link fetches it.
        let kind = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch('/citizen/record.json').then(r => r.json())
                   .then(b => done(b.resourceType + ' ' + b.type + ' ' + b.entry.length))
                   .catch(e => done('error: ' + e));",
                vec![],
            )
            .await
            .unwrap();
        let kind = kind.as_str().unwrap_or_default().to_owned();
        assert!(kind.starts_with("Bundle collection "), "{kind}");

        c.goto(&s.url("/citizen/looked")).await.unwrap();
        wait_for(&c, "h1").await;
        let looked = body_text(&c).await;
        assert!(looked.contains("Orchard Surgery"), "{looked}");
        assert!(looked.contains("Clinician"), "{looked}");
        assert!(looked.contains("Opened your record"), "{looked}");

        let pages = [
            "/citizen".to_owned(),
            "/citizen/looked".to_owned(),
            "/citizen/sharing".to_owned(),
            "/citizen/reports".to_owned(),
            "/citizen/people".to_owned(),
            format!("/citizen/item/{entry}/report"),
        ];
        for (w, h) in [PHONE, DESKTOP] {
            c.set_window_size(w, h).await.unwrap();
            for p in &pages {
                c.goto(&s.url(p)).await.unwrap();
                wait_for(&c, "h1").await;
                axe::assert_accessible(&c, &format!("{p} at {w} px")).await;
                if w == PHONE.0 {
                    assert_fits(&c, p).await;
                }
            }
        }

        // Sign out and back in, on the phone.
        c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
        c.goto(&s.url("/citizen")).await.unwrap();
        find(&c, "header form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        wait_for(&c, "#username").await;
        assert_eq!(path(&c).await, "/citizen/login");
        for (w, h) in [DESKTOP, PHONE] {
            c.set_window_size(w, h).await.unwrap();
            axe::assert_accessible(&c, &format!("citizen sign-in at {w} px")).await;
        }
        let next = sharedcare::citizen::totp::code_at(secret.trim(), now() + 30).unwrap();
        type_into(&c, "#username", "margaret").await;
        type_into(&c, "#password", CITIZEN_PASSWORD).await;
        type_into(&c, "#code", &next).await;
        submit(&c).await;
        wait_for(&c, "#cat-allergy").await;
        c.close().await.unwrap();
    });
}
