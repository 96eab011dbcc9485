//! A real OpenID Connect provider for the tests: the `oidc-provider` package run by
//! tests/oidc_provider.mjs on a free port, with a client registered for the service under test
//! by the public key `sharedcare citizen oidc-jwk` prints.

use super::super::server::*;
use super::super::support::*;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub const CLIENT_ID: &str = "sharedcare-test";

pub struct Provider {
    pub issuer: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Provider {
    /// Starts the provider; it answers once [`Provider::configure`] has told it its client.
    pub fn start() -> Self {
        let mut child = Command::new("node")
            .arg(repo().join("tests/oidc_provider.mjs"))
            .current_dir(repo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs tests/oidc_provider.mjs (scripts/test installs oidc-provider)");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut p = Self {
            issuer: String::new(),
            child,
            stdin,
            stdout,
        };
        let line = p.wait_for("oidc provider listening on ");
        p.issuer = line
            .trim()
            .trim_start_matches("oidc provider listening on ")
            .to_owned();
        p
    }

    fn wait_for(&mut self, prefix: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(
                n > 0,
                "the OpenID Connect provider exited before {prefix:?}"
            );
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Registers the client (redirect address and public key) and the users; with
    /// `claims_in_id_token` their claims are in the ID token and the user-info endpoint is off.
    pub fn configure(
        &mut self,
        redirect_uri: &str,
        jwk: &Value,
        users: &Value,
        claims_in_id_token: bool,
    ) {
        let setup = json!({
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "jwk": jwk,
            "users": users,
            "claims_in_id_token": claims_in_id_token,
        });
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{setup}").unwrap();
        stdin.flush().unwrap();
        self.wait_for("oidc provider ready");
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user of the provider: an NHS number and a proofing level, optionally a token tampered
/// with (`signature`, `audience`, `expired`).
pub fn user(nhs: &str, level: &str, tamper: Option<&str>) -> Value {
    let mut u = json!({"nhs_number": nhs, "identity_proofing_level": level});
    if let Some(t) = tamper {
        u["tamper"] = json!(t);
    }
    u
}

/// The service (sample feeds, staff users, OpenID Connect configured for the provider) and the
/// provider, with `prepare` run on the data directory before the service starts and the
/// service's log (at debug) in `log` when given.
pub fn start_with_provider(
    users: Value,
    prepare: impl FnOnce(&Env),
    log: Option<&Path>,
) -> (Server, Provider) {
    start_with_provider_claims(users, prepare, log, false)
}

/// As [`start_with_provider`], the claims in the ID token when `claims_in_id_token`.
pub fn start_with_provider_claims(
    users: Value,
    prepare: impl FnOnce(&Env),
    log: Option<&Path>,
    claims_in_id_token: bool,
) -> (Server, Provider) {
    let mut provider = Provider::start();
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[citizen.oidc]\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n",
            provider.issuer
        ),
    )
    .unwrap();
    env.load_sample_feeds();
    prepare(&env);
    for (name, role) in [("clin", "clinician"), ("it", "admin")] {
        add_user(&env, name, role);
    }
    let s = match log {
        Some(log) => Server::start_logged(env, log),
        None => Server::start_in(env),
    };
    let printed = cli(&s.env, &["citizen", "oidc-jwk"]);
    let jwk: Value = serde_json::from_str(printed.trim()).unwrap();
    provider.configure(
        &s.url("/citizen/oidc/callback"),
        &jwk,
        &users,
        claims_in_id_token,
    );
    (s, provider)
}

fn form_action(html: &str) -> Option<String> {
    let at = html.find("<form")?;
    let rest = &html[at..];
    let a = rest.find("action=\"")? + "action=\"".len();
    Some(rest[a..].split('"').next()?.replace("&amp;", "&"))
}

/// What came back from signing in at the provider.
pub struct Finished {
    pub status: u16,
    pub page: String,
    /// The address the provider sent the browser back to (with `code` and `state`).
    pub callback: String,
}

/// Signs in at the provider's own login and consent pages as `login`, starting from the
/// service's "Sign in with NHS login", following every redirect by hand.
pub fn sign_in_at_provider(s: &Server, c: &Client, login: &str) -> Finished {
    walk(s, c, login, false)
}

/// As [`sign_in_at_provider`], stopping where the provider sends the browser back: the
/// callback address, not yet visited.
pub fn callback_from_provider(s: &Server, c: &Client, login: &str) -> String {
    walk(s, c, login, true).callback
}

fn walk(s: &Server, c: &Client, login: &str, stop_at_callback: bool) -> Finished {
    let mut at = reqwest::Url::parse(&s.url("/citizen/oidc/start")).unwrap();
    let mut r: Response = c.get(at.clone()).send().unwrap();
    let mut callback = String::new();
    for _ in 0..20 {
        if r.status().is_redirection() {
            let location = r.headers()["location"].to_str().unwrap().to_owned();
            at = at.join(&location).unwrap();
            if at.path() == "/citizen/oidc/callback" {
                callback = at.to_string();
                if stop_at_callback {
                    return Finished {
                        status: 0,
                        page: String::new(),
                        callback,
                    };
                }
            }
            r = c.get(at.clone()).send().unwrap();
            continue;
        }
        let status = r.status().as_u16();
        let page = r.text().unwrap();
        let on_provider = at.as_str().starts_with(&s.base).then_some(()).is_none();
        if on_provider && status == 200 {
            let action = form_action(&page).unwrap_or_else(|| panic!("no form in {page}"));
            let target = at.join(&action).unwrap();
            let fields: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
                vec![
                    ("prompt", "login"),
                    ("login", login),
                    ("password", "any password"),
                ]
            } else {
                vec![("prompt", "consent")]
            };
            at = target.clone();
            r = c.post(target).form(&fields).send().unwrap();
            continue;
        }
        return Finished {
            status,
            page,
            callback,
        };
    }
    panic!("the sign-in did not finish within 20 steps");
}

/// Whether `c` holds a citizen session: the record page answers rather than sending it to the
/// sign-in page.
pub fn has_session(s: &Server, c: &Client) -> bool {
    c.get(s.url("/citizen")).send().unwrap().status() == 200
}
