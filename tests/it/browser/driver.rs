//! Headless Chromium under a chromedriver the test starts itself, on a free loopback port, with
//! the flags this closed network needs; chromedriver (and with it Chromium) is killed on drop.

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` to skip the browser tests; nothing else skips them.
pub const SKIP_VAR: &str = "SHAREDCARE_SKIP_BROWSER";

const INSTALL_HINT: &str =
    "install Debian's `chromium` and `chromium-driver` packages (as scripts/test \
     does), or set SHAREDCARE_SKIP_BROWSER=1 to skip the browser tests on purpose";

/// Whether the browser tests were switched off on purpose.
pub fn skipped() -> bool {
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("skipped: {SKIP_VAR}=1");
        true
    } else {
        false
    }
}

/// A running chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
    /// Chromium's profile and chromedriver's log live here.
    dir: tempfile::TempDir,
    chromium: PathBuf,
}

impl Driver {
    /// Starts chromedriver, or fails the test saying what is missing.
    pub fn start() -> Self {
        let chromedriver = executable("CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver");
        let chromium = executable("CHROMIUM", "/usr/bin/chromium", "chromium");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = File::create(dir.path().join("chromedriver.log")).unwrap();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // Its own process group, so that dropping it also ends the Chromium it started.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Self {
            child,
            port,
            dir,
            chromium,
        };
        driver.wait_ready();
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&self) {
        let status = format!("{}/status", self.url());
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(&status).send() {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {status}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// chromedriver's own output, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    /// A new headless Chromium session that accepts the server's self-signed certificate.
    pub async fn session(&self) -> Client {
        let profile = self.dir.path().join("profile");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // Without these Chromium keeps calling out to Google, and this network refuses it.
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--ignore-certificate-errors".to_owned(),
            "--window-size=1280,1024".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = serde_json::json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": self.chromium.to_str().unwrap(),
                "args": args,
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session: {e}\nchromedriver log:\n{}",
                    self.log()
                )
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$var` if set, else the Debian path, else the name on PATH; a clear failure if none exists.
fn executable(var: &str, debian: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{var}={} does not exist; {INSTALL_HINT}",
            p.display()
        );
        return p;
    }
    if Path::new(debian).is_file() {
        return PathBuf::from(debian);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("the browser tests need `{name}` ({debian}): {INSTALL_HINT}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
