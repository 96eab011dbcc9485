//! The administrator's and the privacy officer's pages in Chromium, each checked by axe-core:
//! users and one user; the start page with its links and the header's profile switch; the alert
//! queue, a "who looked" report, the reports page and a record viewed as another role.

use super::super::server::{self, Server};
use super::{axe, driver, find, sign_in_as, wait_for, Driver};

#[test]
fn staff_pages_in_chromium_with_no_serious_accessibility_violations() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    let person = |nhs: &str| -> i64 {
        s.env
            .sql()
            .query_row(
                "SELECT id FROM person WHERE nhs_number = ?1 AND merged_into IS NULL",
                [nhs],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (daniel, margaret) = (person("9997661001"), person("9994837567"));
    let clin = s.login("clin");
    server::claim(&s, &clin, daniel);
    // View-as shows a test person without a reason (a real one needs a reason and alerts).
    server::cli(&s.env, &["person", "mark-test", &margaret.to_string()]);
    // Two profiles: the header offers the switch.
    server::cli(
        &s.env,
        &[
            "user", "add-role", "po", "--role", "analyst", "--org", "X99001",
        ],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        sign_in_as(&c, &s, "it").await;
        c.goto(&s.url("/admin/users")).await.unwrap();
        wait_for(&c, "table#users").await;
        axe::assert_accessible(&c, "users").await;
        find(&c, "table#users a[href^=\"/admin/users/\"]")
            .await
            .click()
            .await
            .unwrap();
        wait_for(&c, "#h-password").await;
        axe::assert_accessible(&c, "user").await;
        c.delete_all_cookies().await.unwrap();

        sign_in_as(&c, &s, "po").await;
        wait_for(&c, "header form.switch select").await;
        axe::assert_accessible(&c, "privacy officer's start").await;
        for (page, url, ready) in [
            ("alerts", "/privacy/alerts".to_owned(), "table#alerts"),
            // The self-claim above reached the privacy officer's inbox.
            (
                "notifications",
                "/notifications".to_owned(),
                "table#notifications",
            ),
            ("reports", "/privacy/reports".to_owned(), "#h-person-form"),
            (
                "who looked",
                format!("/privacy/person?person={daniel}"),
                "table#events",
            ),
            (
                "view as",
                format!("/privacy/view-as?role=social-worker-adults&org=X99001&person={margaret}"),
                "#viewing-as",
            ),
        ] {
            c.goto(&s.url(&url)).await.unwrap();
            wait_for(&c, ready).await;
            axe::assert_accessible(&c, page).await;
        }
        c.close().await.unwrap();
    });
}
