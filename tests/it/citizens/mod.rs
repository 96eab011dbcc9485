//! The citizens' side: invitation codes, the second factor, sessions apart from staff, the
//! citizen's own record (and nothing else), who has looked, saying no, reporting an error.

mod canaries;
mod header_links;
mod looked;
mod oidc;
pub mod provider;
mod proxy;
mod secrets;
mod signin;

use super::server::*;
use super::support::*;
use reqwest::blocking::Client;

/// Margaret Thompson of the sample feeds: registered at Orchard Surgery (X99001), seen at the
/// hospital, by community services and adult social care.
pub const MARGARET: &str = "9994837567";
/// Another person of the sample feeds, registered at Orchard Surgery too.
pub const OTHER: &str = "9998934850";
pub const CITIZEN_PASSWORD: &str = "my own long passphrase";

/// Unix time now: the server's clock is the system's.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An invitation code for person `key` (id or NHS number), from the command line's last line.
pub fn invite(env: &Env, key: &str) -> String {
    let out = cli(env, &["citizen", "invite", key]);
    out.lines().last().unwrap().trim().to_owned()
}

/// The TOTP secret shown on the set-up page.
pub fn shown_secret(page: &str) -> String {
    let marker = "id=\"totp-secret\">";
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no secret in:\n{page}"))
        + marker.len();
    page[at..].split('<').next().unwrap().trim().to_owned()
}

/// Redeems `code` as `username` and returns the client (in its set-up session) and the page.
pub fn redeem(s: &Server, code: &str, username: &str) -> (Client, reqwest::blocking::Response) {
    let c = s.client();
    let form = c
        .get(s.url("/citizen/start"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&form, "csrf");
    let r = c
        .post(s.url("/citizen/start"))
        .form(&[
            ("code", code),
            ("username", username),
            ("password", CITIZEN_PASSWORD),
            ("password2", CITIZEN_PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .unwrap();
    (c, r)
}

/// A citizen signed up for person `nhs` by invitation code and TOTP: the client and secret.
pub fn sign_up(s: &Server, nhs: &str, username: &str) -> (Client, String) {
    let code = invite(&s.env, nhs);
    let (c, r) = redeem(s, &code, username);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    assert_eq!(r.headers()["location"], "/citizen/second-factor");
    let page = c
        .get(s.url("/citizen/second-factor"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let secret = shown_secret(&page);
    let csrf = hidden(&page, "csrf");
    let totp = sharedcare::citizen::totp::code_at(&secret, now()).unwrap();
    let r = c
        .post(s.url("/citizen/second-factor"))
        .form(&[("code", totp.as_str()), ("csrf", &csrf)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    assert_eq!(r.headers()["location"], "/citizen");
    (c, secret)
}

/// Posts the citizens' sign-in form with a fresh client; the response.
pub fn sign_in(
    s: &Server,
    username: &str,
    password: &str,
    code: &str,
) -> (Client, reqwest::blocking::Response) {
    let c = s.client();
    let form = c
        .get(s.url("/citizen/login"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&form, "csrf");
    let r = c
        .post(s.url("/citizen/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("code", code),
            ("csrf", &csrf),
        ])
        .send()
        .unwrap();
    (c, r)
}

/// A page a signed-in citizen may see: 200 and its text.
pub fn page(s: &Server, c: &Client, path: &str) -> String {
    let r = c.get(s.url(path)).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().unwrap()
}

/// The CSRF token of a signed-in citizen's session (every form of theirs carries it).
pub fn hidden_csrf(s: &Server, c: &Client) -> String {
    hidden(&page(s, c, "/citizen/people"), "csrf")
}

/// Person `nhs` signs up and says no to sharing on the citizens' pages.
pub fn object_as_citizen(s: &Server, nhs: &str) {
    let (c, _) = sign_up(s, nhs, "objector");
    let sharing = page(s, &c, "/citizen/sharing");
    let csrf = hidden(&sharing, "csrf");
    let r = c
        .post(s.url("/citizen/sharing/object"))
        .form(&[("csrf", csrf.as_str()), ("understood", "true")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
}
