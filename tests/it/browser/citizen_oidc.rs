//! A resident signs in with NHS login's way of working, in real Chromium at phone size: "Sign in
//! with NHS login" on the citizens' sign-in page, the real provider's (`oidc-provider`) own login
//! and consent pages, back to their record; they download it and find the clinician's earlier
//! look on "who has looked". A user proved only to P5 gets the plain refusal page.

use super::super::citizens::provider::{start_with_provider, user};
use super::super::citizens::MARGARET;
use super::super::server::person_with_nhs;
use super::{axe, driver, find, path, wait_for, Driver};
use fantoccini::Client;
use serde_json::json;

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

/// Signs in at the provider's own pages as `login`: its login page, then its consent page.
async fn at_provider(c: &Client, login: &str) {
    wait_for(c, "input[name=login]")
        .await
        .send_keys(login)
        .await
        .unwrap();
    find(c, "input[name=password]")
        .await
        .send_keys("any password")
        .await
        .unwrap();
    find(c, "button[type=submit]").await.click().await.unwrap();
    wait_for(c, "input[name=prompt][value=consent]").await;
    find(c, "button[type=submit]").await.click().await.unwrap();
}

#[test]
fn a_citizen_signs_in_through_the_openid_connect_provider_on_a_phone() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let (s, _provider) = start_with_provider(
        json!({
            "margaret": user(MARGARET, "P9", None),
            "partly-proved": user(MARGARET, "P5", None),
        }),
        |_| {},
        None,
    );
    let margaret = person_with_nhs(&s.env, MARGARET);
    let clin = s.login("clin");
    let r = clin
        .get(s.url(&format!("/person/{margaret}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "the clinician's earlier look");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        c.set_window_size(PHONE.0, PHONE.1).await.unwrap();

        // Proved only to P5: a plain page, and no record.
        c.goto(&s.url("/citizen/login")).await.unwrap();
        wait_for(&c, "#oidc-sign-in").await.click().await.unwrap();
        at_provider(&c, "partly-proved").await;
        wait_for(&c, "#oidc-message").await;
        let refused = body_text(&c).await;
        assert!(
            refused.contains("You need to prove who you are first"),
            "{refused}"
        );
        axe::assert_accessible(&c, "OpenID Connect refusal at phone size").await;
        c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
        axe::assert_accessible(&c, "OpenID Connect refusal at desktop size").await;
        c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
        c.goto(&s.url("/citizen")).await.unwrap();
        wait_for(&c, "#username").await;
        assert_eq!(path(&c).await, "/citizen/login", "no session");

        // Proved to P9 (the provider's session of the last user forgotten; it runs on the same
        // host, so its cookies are this page's too): their record.
        c.delete_all_cookies().await.unwrap();
        c.goto(&s.url("/citizen/login")).await.unwrap();
        wait_for(&c, "#oidc-sign-in").await;
        axe::assert_accessible(&c, "citizen sign-in with NHS login at phone size").await;
        c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
        axe::assert_accessible(&c, "citizen sign-in with NHS login at desktop size").await;
        c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
        let button = find(&c, "#oidc-sign-in").await;
        assert_eq!(
            button.text().await.unwrap().trim(),
            "Sign in with NHS login"
        );
        button.click().await.unwrap();
        at_provider(&c, "margaret").await;
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
        c.close().await.unwrap();
    });
}
