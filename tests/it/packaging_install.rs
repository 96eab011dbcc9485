//! The .deb installed for real: into a minimal Debian made by `debootstrap` (cached under
//! `target/test-tools/`, copied afresh for each run), with dpkg running the package's own
//! maintainer scripts there. Install makes the service account, its private data directory and
//! the conffile; the service account's server then serves from it; an upgrade keeps the
//! administrator's edit of the conffile and the data; purge removes the account and the
//! configuration and keeps the data directory, as the postrm promises.
//!
//! Needs root (dpkg and chroot) and debootstrap, which scripts/test installs; with
//! `SHAREDCARE_SKIP_DEB_INSTALL=1` it is skipped, loudly.

use super::support::repo;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";

#[test]
fn the_deb_installs_serves_upgrades_and_purges_in_a_minimal_debian() {
    if std::env::var("SHAREDCARE_SKIP_DEB_INSTALL").as_deref() == Ok("1") {
        eprintln!("WARNING: SHAREDCARE_SKIP_DEB_INSTALL=1: the .deb install test is skipped");
        return;
    }
    assert!(
        is_root(),
        "installing the .deb needs root (dpkg, chroot); set SHAREDCARE_SKIP_DEB_INSTALL=1 to skip"
    );
    let debs = tempfile::tempdir().unwrap();
    let first = build_deb(debs.path(), "1");
    let second = build_deb(debs.path(), "2");

    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(debian_root())
        .arg(&root)
        .status()
        .unwrap();
    assert!(copied.success());
    for deb in [&first, &second] {
        std::fs::copy(deb, root.join("tmp").join(deb.file_name().unwrap())).unwrap();
    }
    let inside = |path: &str| root.join(path.trim_start_matches('/'));

    // Install.
    dpkg(&root, &["-i", &format!("/tmp/{}", name(&first))]);
    let account = chroot(&root, &["getent", "passwd", "sharedcare"]);
    assert!(
        account.contains("/var/lib/sharedcare") && account.contains("nologin"),
        "{account}"
    );
    assert_eq!(
        chroot(
            &root,
            &[
                "stat",
                "-c",
                "%a %U:%G",
                "/var/lib/sharedcare",
                "/etc/sharedcare/config.toml"
            ]
        ),
        "700 sharedcare:sharedcare\n640 root:sharedcare\n"
    );
    assert_eq!(
        std::fs::read_link(inside("/var/lib/sharedcare/config.toml")).unwrap(),
        Path::new("/etc/sharedcare/config.toml")
    );
    // The service account, and only it, runs the server from the data directory.
    serves_as_the_service_account(&root);
    assert!(inside("/var/lib/sharedcare/sharedcare.db").is_file());

    // The administrator edits the conffile; an upgrade keeps the edit and the data.
    let conffile = inside("/etc/sharedcare/config.toml");
    let edited = format!(
        "{}\n# edited by the administrator\n",
        std::fs::read_to_string(&conffile).unwrap()
    );
    std::fs::write(&conffile, &edited).unwrap();
    dpkg(&root, &["-i", &format!("/tmp/{}", name(&second))]);
    assert_eq!(std::fs::read_to_string(&conffile).unwrap(), edited);
    assert!(chroot(&root, &["dpkg-query", "-W", "sharedcare"]).contains("0.1.0-2"));
    assert!(inside("/var/lib/sharedcare/sharedcare.db").is_file());
    serves_as_the_service_account(&root);

    // Purge: the account, the binary and the configuration go; the records stay.
    dpkg(&root, &["--purge", "sharedcare"]);
    assert!(!inside("/usr/bin/sharedcare").exists());
    assert!(!inside("/etc/sharedcare").exists());
    assert!(!chroot_status(&root, &["getent", "passwd", "sharedcare"]));
    assert!(inside("/var/lib/sharedcare/sharedcare.db").is_file());
}

fn is_root() -> bool {
    rustix::process::getuid().is_root()
}

/// The package of the debug binary the tests run, with the given Debian revision.
fn build_deb(out: &Path, revision: &str) -> PathBuf {
    let dir = out.join(revision);
    std::fs::create_dir_all(&dir).unwrap();
    let built = Command::new("cargo-deb")
        .args(["--no-build", "--profile", "dev", "--fast", "--quiet"])
        .args(["--deb-revision", revision, "--manifest-path"])
        .arg(repo().join("Cargo.toml"))
        .arg("-o")
        .arg(&dir)
        .output()
        .expect("cargo-deb is needed for the package test (scripts/test installs it)");
    assert!(
        built.status.success(),
        "cargo deb failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("no .deb written")
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// A minimal Debian, made once by debootstrap and kept for later runs.
fn debian_root() -> PathBuf {
    let kept = repo()
        .join("target/test-tools")
        .join(format!("debian-{SUITE}"));
    if kept.join("usr/bin/dpkg").is_file() && kept.join("usr/sbin/adduser").is_file() {
        return kept;
    }
    let making = kept.with_extension("making");
    let _ = std::fs::remove_dir_all(&making);
    std::fs::create_dir_all(&making).unwrap();
    let made = Command::new("debootstrap")
        .args(["--variant=minbase", "--include=adduser", SUITE])
        .arg(&making)
        .arg(MIRROR)
        .output()
        .expect("debootstrap is needed for the .deb install test (scripts/test installs it)");
    assert!(
        made.status.success(),
        "debootstrap failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let _ = std::fs::remove_dir_all(&kept);
    std::fs::rename(&making, &kept).unwrap();
    kept
}

fn dpkg(root: &Path, args: &[&str]) {
    let out = Command::new("chroot")
        .arg(root)
        .arg("dpkg")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chroot_status(root: &Path, args: &[&str]) -> bool {
    Command::new("chroot")
        .arg(root)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn chroot(root: &Path, args: &[&str]) -> String {
    let out = Command::new("chroot")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts the installed server as the service account on the installed data directory and
/// config, and asks it for /healthz over HTTPS.
fn serves_as_the_service_account(root: &Path) {
    let mut server = Command::new("chroot")
        .arg("--userspec=sharedcare:sharedcare")
        .arg(root)
        .args(["/usr/bin/sharedcare", "--data-dir", "/var/lib/sharedcare"])
        .args(["serve", "--listen", "127.0.0.1:0", "--sftp-listen", ""])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        if n == 0 {
            let _ = server.kill();
            let out = server.wait_with_output().unwrap();
            panic!(
                "the installed server exited before listening: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if let Some(url) = line.trim().strip_prefix("sharedcare listening on ") {
            break url.to_owned();
        }
    };
    let health = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
        .get(format!("{base}/healthz"))
        .send()
        .map(|r| r.status().as_u16());
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(health.unwrap(), 200, "{base}/healthz");
}
