//! `sharedcare demo` as a new user meets it: one command builds the demo data directory, prints
//! the `login ROLE USERNAME PASSWORD` lines and serves; Chromium signs in with a printed login
//! and shows a record with allergies and a results chart. Run again, it reuses the directory
//! and the passwords printed the first time no longer work.

use super::super::support::{bin, repo};
use super::{driver, find, path, text, wait_for, wait_for_chart, Driver};
use fantoccini::{Client, Locator};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// From the command to a browser showing the record (the issue's goal is 60 s for a release
/// build on this machine, 23 s measured for this debug build alone; a debug build sharing
/// two cores with the rest of the suite is given half as long again).
const LIMIT: Duration = Duration::from_secs(90);

struct Demo {
    child: Child,
    url: String,
    logins: Vec<(String, String, String)>,
    /// The sample resident's NHS number and one-time invitation code.
    invitation: Option<(String, String)>,
    fingerprint: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["demo", "--from"])
            .arg(repo().join("sample-feeds"))
            .args(["--listen", "127.0.0.1:0", "--sftp-listen", "127.0.0.1:0"])
            .env_remove("SHAREDCARE_DATA_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (mut logins, mut fingerprint, mut seen) = (Vec::new(), String::new(), String::new());
        let mut invitation = None;
        let url = loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "the demo exited before listening; it said:\n{seen}"
            );
            seen.push_str(&line);
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["login", role, user, password] = words[..] {
                logins.push((role.to_owned(), user.to_owned(), password.to_owned()));
            }
            if let ["citizen-invitation", nhs, code] = words[..] {
                invitation = Some((nhs.to_owned(), code.to_owned()));
            }
            if let Some(f) = line
                .trim()
                .strip_prefix("TLS certificate SHA-256 fingerprint: ")
            {
                fingerprint = f.to_owned();
            }
            if let Some(u) = line.trim().strip_prefix("sharedcare listening on ") {
                break u.to_owned();
            }
        };
        std::thread::spawn(move || for _ in reader.lines() {});
        Self {
            child,
            url,
            logins,
            invitation,
            fingerprint,
        }
    }

    fn login(&self, role: &str) -> (String, String) {
        let (_, user, password) = self
            .logins
            .iter()
            .find(|(r, _, _)| r == role)
            .unwrap_or_else(|| panic!("no `login {role} …` line among {:?}", self.logins));
        (user.clone(), password.clone())
    }
}

#[test]
fn demo_prints_logins_and_a_clinician_sees_a_record_with_allergies_and_a_chart() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("demo");
    let started = Instant::now();
    let demo = Demo::start(&data_dir);
    let roles: Vec<&str> = demo.logins.iter().map(|(r, _, _)| r.as_str()).collect();
    for role in [
        "admin",
        "acute-clinician",
        "gp-clinician",
        "social-worker",
        "privacy-officer",
        "analyst",
    ] {
        assert!(roles.contains(&role), "no demo user for {role}: {roles:?}");
    }
    assert_eq!(
        demo.fingerprint.split(':').count(),
        32,
        "no SHA-256 fingerprint printed: {:?}",
        demo.fingerprint
    );
    let region_people: i64 = rusqlite::Connection::open(data_dir.join("sharedcare.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM person", [], |r| r.get(0))
        .unwrap();
    assert!(
        region_people > 2000,
        "the demo region holds only {region_people} people"
    );
    // The analyst's dashboard has figures from the start, not from the first 06:00.
    let figures: i64 = rusqlite::Connection::open(data_dir.join("sharedcare.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM population_figure", [], |r| r.get(0))
        .unwrap();
    assert!(figures > 0, "the demo computed no population figures");
    let (user, password) = demo.login("gp-clinician");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        sign_in(&c, &demo.url, &user, &password).await;
        open_margaret_with_allergy_and_chart(&c, &demo.url).await;
        let took = started.elapsed();
        eprintln!(
            "demo: from the command to the record with its chart in {:.1} s",
            took.as_secs_f64()
        );
        assert!(took < LIMIT, "the demo took {took:?} to show a record");
        c.close().await.unwrap();

        // The printed invitation signs the sample resident up, and she sees her own record.
        let (nhs, code) = demo.invitation.clone().expect("no citizen-invitation line");
        assert_eq!(nhs, "9994837567");
        let c = driver.session().await;
        c.goto(&format!("{}/citizen/start", demo.url))
            .await
            .unwrap();
        for (css, text) in [
            ("#code", code.as_str()),
            ("#username", "margaret"),
            ("#password", "a demo resident's passphrase"),
            ("#password2", "a demo resident's passphrase"),
        ] {
            find(&c, css).await.send_keys(text).await.unwrap();
        }
        find(&c, "main form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        let secret = wait_for(&c, "#totp-secret").await.text().await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let totp = sharedcare::citizen::totp::code_at(secret.trim(), now).unwrap();
        find(&c, "#code").await.send_keys(&totp).await.unwrap();
        find(&c, "main form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        wait_for(&c, "#cat-allergy").await;
        assert_eq!(path(&c).await, "/citizen");
        assert!(text(&find(&c, "main").await).await.contains("Thompson"));
        c.close().await.unwrap();
    });

    // Again over the same directory: reused (same people), every user kept, new passwords.
    let first_password = password;
    drop(demo);
    let again = Demo::start(&data_dir);
    let after: i64 = rusqlite::Connection::open(data_dir.join("sharedcare.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM person", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        after, region_people,
        "running the demo again changed the data"
    );
    let (same_user, new_password) = again.login("gp-clinician");
    assert_eq!(same_user, user);
    assert_ne!(new_password, first_password);
    rt.block_on(async {
        let c = driver.session().await;
        c.goto(&format!("{}/login", again.url)).await.unwrap();
        submit_login(&c, &user, &first_password).await;
        wait_for(&c, "#username").await;
        assert_eq!(path(&c).await, "/login", "the old password still works");
        sign_in(&c, &again.url, &user, &new_password).await;
        c.close().await.unwrap();
    });
}

async fn submit_login(c: &Client, user: &str, password: &str) {
    wait_for(c, "#username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    find(c, "#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    find(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}

async fn sign_in(c: &Client, url: &str, user: &str, password: &str) {
    c.goto(&format!("{url}/login")).await.unwrap();
    submit_login(c, user, password).await;
    wait_for(c, "form[role=search] #q").await;
    assert_eq!(path(c).await, "/", "{user} was not signed in");
}

async fn open_margaret_with_allergy_and_chart(c: &Client, url: &str) {
    c.goto(&format!("{url}/search?q=9994837567")).await.unwrap();
    wait_for(c, "table#results").await;
    // Margaret Thompson of the sample feeds, by NHS number: the region has Thompsons too.
    let links = c
        .find_all(Locator::Css(r#"table#results a[href^="/person/"]"#))
        .await
        .unwrap();
    assert_eq!(links.len(), 1, "NHS number 9994837567 names one person");
    links[0].click().await.unwrap();
    let allergy = text(&wait_for(c, "#cat-allergy").await).await;
    assert!(
        allergy.to_lowercase().contains("penicillin"),
        "#cat-allergy does not show the penicillin allergy: {allergy}"
    );
    find(c, r#"a[href$="/results"]"#)
        .await
        .click()
        .await
        .unwrap();
    wait_for(c, "img.trend").await;
    wait_for_chart(c).await;
}
