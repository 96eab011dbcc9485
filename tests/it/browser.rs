//! The clinician's journey in real headless Chromium, driven over WebDriver: sign in, search,
//! open a record and read the allergies and DNACPR, open the results and see the trend chart, sign
//! out; axe-core checks the login, search, record and results pages on the way. Chromium and
//! chromedriver come from Debian (`scripts/test` installs them), axe-core from npm. The test fails when
//! they are missing; only `SHAREDCARE_SKIP_BROWSER=1` skips it.

mod axe;
mod citizen;
mod citizen_oidc;
mod citizen_states;
mod dashboard;
mod demo;
mod driver;
mod layout;
mod results_phone;
mod staff;
mod summary;

use super::server::{Server, PASSWORD};
use driver::Driver;
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};

/// Margaret Ellen Thompson in `sample-feeds/README.md`: the one person with an allergy
/// (penicillin), a DNACPR and numeric lab results.
const NAME: &str = "Margaret Thompson";
const NHS_NUMBER: &str = "9994837567";

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn clinician_journey_in_chromium_with_no_serious_accessibility_violations() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let server = Server::start();
    add_follow_up_crp(&server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        journey(&c, &server).await;
        axe::assert_detects_a_known_fault(&c).await;
        c.close().await.unwrap();
    });
}

async fn journey(c: &Client, s: &Server) {
    // Sign in.
    c.goto(&s.url("/login")).await.unwrap();
    wait_for(c, "#username").await;
    axe::assert_accessible(c, "login").await;
    find(c, "#username").await.send_keys("clin").await.unwrap();
    find(c, "#password")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    find(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();

    // Search from the home page.
    let q = wait_for(c, "form[role=search] #q").await;
    assert_eq!(
        path(c).await,
        "/",
        "signing in did not land on the home page"
    );
    q.send_keys(NAME).await.unwrap();
    find(c, "form[role=search] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_for(c, "table#results").await;
    assert_eq!(path(c).await, "/search");
    axe::assert_accessible(c, "search").await;
    let mut person = None;
    for link in c
        .find_all(Locator::Css(r#"table#results a[href^="/person/"]"#))
        .await
        .unwrap()
    {
        if link
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("thompson")
        {
            person = Some(link);
            break;
        }
    }
    let person = person.unwrap_or_else(|| panic!("no link to {NAME} in table#results"));
    person.click().await.unwrap();

    // The record: banner, allergies, DNACPR.
    let banner = text(&wait_for(c, "#banner").await).await;
    assert!(path(c).await.starts_with("/person/"));
    let lower = banner.to_lowercase();
    assert!(
        lower.contains("margaret") && lower.contains("thompson"),
        "the banner does not name {NAME}: {banner}"
    );
    let digits: String = banner.chars().filter(char::is_ascii_digit).collect();
    assert!(
        digits.contains(NHS_NUMBER),
        "the banner lacks NHS number {NHS_NUMBER}: {banner}"
    );
    let allergy = text(&find(c, "#cat-allergy").await).await;
    assert!(
        allergy.to_lowercase().contains("penicillin"),
        "#cat-allergy does not show the penicillin allergy: {allergy}"
    );
    let flag = find(c, "#banner .flag-dnacpr").await;
    assert!(
        flag.is_displayed().await.unwrap(),
        "the DNACPR flag is hidden"
    );
    let directive = text(&find(c, "#cat-advance-directive").await).await;
    assert!(
        directive.to_lowercase().contains("dnacpr"),
        "#cat-advance-directive does not show the DNACPR: {directive}"
    );
    axe::assert_accessible(c, "record").await;

    // The results page and its chart.
    find(c, r#"a[href$="/results"]"#)
        .await
        .click()
        .await
        .unwrap();
    wait_for(c, "img.trend").await;
    assert!(path(c).await.ends_with("/results"));
    wait_for_chart(c).await;
    axe::assert_accessible(c, "results").await;

    // Sign out from the header; the session is dead afterwards.
    let mut sign_out = None;
    for b in c.find_all(Locator::Css("header button")).await.unwrap() {
        if b.text().await.unwrap().trim() == "Sign out" {
            sign_out = Some(b);
        }
    }
    sign_out
        .unwrap_or_else(|| panic!("no Sign out button in the header"))
        .click()
        .await
        .unwrap();
    wait_for(c, "#username").await;
    assert_eq!(
        path(c).await,
        "/login",
        "signing out did not land on /login"
    );
    c.goto(&s.url("/")).await.unwrap();
    wait_for(c, "#username").await;
    assert_eq!(
        path(c).await,
        "/login",
        "/ did not send a signed-out browser to /login"
    );
}

/// A repeat CRP for Margaret, arriving while the server runs: the sample feeds hold one value per
/// test, and a trend needs two.
fn add_follow_up_crp(s: &Server) {
    let message = [
        "MSH|^~\\&|WGH_PAS|R9W|SHAREDCARE|WESTSHIRE|20240210091500||ORU^R01^ORU_R01|WGHLAB2402100051|P|2.4|||AL|NE|GBR|UNICODE UTF-8",
        "PID|1||W100233^^^R9W^MR~9994837567^^^NHS^NH||THOMPSON^MARGARET^ELLEN^^MRS||19380314|F|||12 ORCHARD WAY^^ASHCOMBE^^WX1 4AB^GBR^H",
        "ORC|RE|P240210007|L24041102||CM",
        "OBR|1|P240210007|L24041102|CRP^C-reactive protein^L|||202402100730|||||||202402100745|Blood|C9990021^OKONJO^TOBI^^^MR||||||202402100910|||F",
        "OBX|1|NM|CRP^C-reactive protein^L||12|mg/L|<5|H|||F|||202402100730",
    ]
    .join("\r")
        + "\r";
    let file = s.env.dir.path().join("04-oru-follow-up.hl7");
    std::fs::write(&file, message).unwrap();
    s.env
        .ok(&["import", "--source", "WGH-PAS", file.to_str().unwrap()]);
}

/// The element, once the current page has it.
/// Signs in through the login form as `user` (the test users' password) and lands on `/`.
async fn sign_in_as(c: &Client, s: &Server, user: &str) {
    c.goto(&s.url("/login")).await.unwrap();
    find(c, "#username").await.send_keys(user).await.unwrap();
    find(c, "#password")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    find(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_for(c, "header .who").await;
    assert_eq!(path(c).await, "/", "signing in as {user} did not land on /");
}

/// Waits until the page's first trend chart (`img.trend`) has loaded its picture.
async fn wait_for_chart(c: &Client) {
    let deadline = Instant::now() + WAIT;
    loop {
        let width = c
            .execute(
                "const i = document.querySelector('img.trend'); \
                 return i.complete ? i.naturalWidth : 0;",
                vec![],
            )
            .await
            .unwrap();
        if width.as_f64().unwrap_or(0.0) > 0.0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the trend chart img.trend did not load (naturalWidth {width})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(c: &Client, css: &str) -> Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => panic!("{} on {}", e, where_am_i(c, css).await),
    }
}

/// The element, which the current page must already have.
async fn find(c: &Client, css: &str) -> Element {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => panic!("{} on {}", e, where_am_i(c, css).await),
    }
}

/// Where the browser is, for a failure message: URL, title and the start of the page's text.
async fn where_am_i(c: &Client, css: &str) -> String {
    let url = c.current_url().await.map(|u| u.to_string());
    let title = c.title().await.unwrap_or_default();
    let body = c
        .execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(|s| s.chars().take(1500).collect::<String>()))
        .unwrap_or_default();
    format!("{url:?} (title {title:?}), looking for `{css}`; the page says:\n{body}")
}

async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_owned()
}

async fn text(e: &Element) -> String {
    e.text().await.unwrap()
}
