//! A real server for a test: its own data directory (loaded from the sample feeds), users of
//! each role, HTTPS on a free port, stopped when dropped.

use super::support::*;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Server {
    pub env: Env,
    pub base: String,
    /// The port of the embedded SFTP server (on 127.0.0.1).
    pub sftp_port: u16,
    /// The port `/metrics` answers on, when `[metrics] listen` turned it on.
    pub metrics_port: Option<u16>,
    /// What the server printed before it listened (`mllp listening on …` lines among them).
    pub banner: Vec<String>,
    child: Child,
}

impl Server {
    /// A server over the sample feeds, with users `clin` (clinician), `sw` (social-worker),
    /// `it` (admin) and `po` (privacy-officer).
    pub fn start() -> Self {
        Self::start_configured("")
    }

    /// As [`Server::start`], with `config` as the data directory's config.toml.
    pub fn start_configured(config: &str) -> Self {
        let env = Env::new();
        if !config.is_empty() {
            std::fs::create_dir_all(env.data_dir()).unwrap();
            std::fs::write(env.data_dir().join("config.toml"), config).unwrap();
        }
        env.load_sample_feeds();
        for (name, role) in [
            ("clin", "clinician"),
            ("sw", "social-worker"),
            ("it", "admin"),
            ("po", "privacy-officer"),
        ] {
            add_user(&env, name, role);
        }
        Self::start_in(env)
    }

    /// A server over an existing data directory.
    pub fn start_in(env: Env) -> Self {
        Self::spawn(env, None)
    }

    /// A server over an existing data directory that logs everything it would log at `debug`
    /// (`RUST_LOG=debug`) into `log`, appending: for tests that read what reaches the log.
    #[allow(dead_code)]
    pub fn start_logged(env: Env, log: &Path) -> Self {
        Self::spawn(env, Some(log))
    }

    fn spawn(env: Env, log: Option<&Path>) -> Self {
        let mut command = env.command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sftp-listen",
            "127.0.0.1:0",
        ]);
        command.stdout(Stdio::piped());
        match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap();
                command.env("RUST_LOG", "debug").stderr(file);
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let mut sftp_port = 0;
        let mut metrics_port = None;
        let mut banner = Vec::new();
        while !line.contains("sharedcare listening on") {
            line.clear();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "the server exited before listening"
            );
            if let Some(addr) = line.trim().strip_prefix("sftp listening on ") {
                sftp_port = addr.rsplit(':').next().unwrap().parse().unwrap();
            }
            if let Some(url) = line.trim().strip_prefix("metrics listening on http://") {
                let addr = url.trim_end_matches("/metrics");
                metrics_port = Some(addr.rsplit(':').next().unwrap().parse().unwrap());
            }
            banner.push(line.trim().to_owned());
        }
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        Self {
            env,
            base,
            sftp_port,
            metrics_port,
            banner,
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie jar, trusting the server's self-signed certificate.
    pub fn client(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .danger_accept_invalid_certs(true)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client signed in as `user`.
    pub fn login(&self, user: &str) -> reqwest::blocking::Client {
        let c = self.client();
        let form = c.get(self.url("/login")).send().unwrap().text().unwrap();
        let csrf = hidden(&form, "csrf");
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("username", user),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("next", "/"),
            ])
            .send()
            .unwrap();
        assert_eq!(
            r.status(),
            303,
            "login as {user} failed: {}",
            r.text().unwrap_or_default()
        );
        c
    }
}

impl Server {
    /// Kills the server with SIGKILL, as a crash would, and keeps its data directory.
    pub fn kill(mut self) -> Env {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.env, Env::new())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn add_user(env: &Env, name: &str, role: &str) {
    add_user_at(env, name, role, "X99001");
}

/// Adds a user with one role profile at organisation `org` (an ODS code).
pub fn add_user_at(env: &Env, name: &str, role: &str, org: &str) {
    let mut child = env
        .command(&[
            "user",
            "add",
            name,
            "--role",
            role,
            "--org",
            org,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Self-claims a care relationship with person `id` for the signed-in client `c`, as a user
/// without one does from the no-access page.
#[allow(dead_code)]
pub fn claim(s: &Server, c: &reqwest::blocking::Client, id: i64) {
    let page = c.get(s.url(&format!("/person/{id}"))).send().unwrap();
    assert_eq!(page.status(), 403, "person {id} was already open");
    let csrf = hidden(&page.text().unwrap(), "csrf");
    let r = c
        .post(s.url(&format!("/person/{id}/claim")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason_code", "direct-care"),
            ("reason", "Seeing them in clinic today"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
}

/// The value of a hidden form field in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in:\n{html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A command-line run that must succeed, as a server test needs (tokens and the like).
#[allow(dead_code)]
pub fn cli(env: &Env, args: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(env.data_dir())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new API token for `user` (acting in their first role profile).
#[allow(dead_code)]
pub fn token(env: &Env, user: &str) -> String {
    let out = cli(env, &["token", "create", "--user", user]);
    out.lines().last().unwrap().trim().to_owned()
}

/// The live person with this NHS number.
#[allow(dead_code)]
pub fn person_with_nhs(env: &Env, nhs: &str) -> i64 {
    let hits = env
        .ok(&["--json", "person", "find", "--nhs-number", nhs])
        .json();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "people with NHS number {nhs}: {hits:?}");
    hits[0]["id"].as_i64().unwrap()
}
