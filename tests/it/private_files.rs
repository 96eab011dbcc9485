//! The data directory is private whatever the umask (issue 10, finding 8): every file 0600 and
//! every folder 0700 after a demo load, an import, a backup, a quarantine and a server run, all
//! started with umask 0022; and a private key others may read stops the start, naming the file
//! and the fix.

use super::server::{self, Server};
use super::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `sharedcare ARGS` started from a shell whose umask is 0022, as a login shell's usually is.
fn with_umask_0022(env: &Env, args: &[&str]) -> Run {
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 0022 && exec \"$@\"")
        .arg("sh")
        .arg(bin())
        .arg("--data-dir")
        .arg(env.data_dir())
        .args(args)
        .env_remove("SHAREDCARE_DATA_DIR")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a command that must stop on its own (a refused start); one still running after 30 s
/// went on, and fails the test instead of hanging it.
fn run_bounded(env: &Env, args: &[&str]) -> Run {
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = env
        .command(args)
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sharedcare {args:?} did not stop: it started with a readable key");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(out.path()).unwrap(),
        stderr: std::fs::read_to_string(err.path()).unwrap(),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// Every file and folder under `dir` (itself included) whose mode is not 0600 / 0700.
fn not_private(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut wrong = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    if mode(dir) != 0o700 {
        wrong.push((dir.to_path_buf(), mode(dir)));
    }
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let want = if meta.is_dir() { 0o700 } else { 0o600 };
            if meta.is_dir() {
                folders.push(path.clone());
            }
            let found = mode(&path);
            if found != want {
                wrong.push((path, found));
            }
        }
    }
    wrong.sort();
    wrong
}

#[test]
fn regression_data_directory_files_0644_folders_0755_are_private_whatever_the_umask() {
    let env = Env::new();
    let r = with_umask_0022(
        &env,
        &[
            "demo",
            "--no-serve",
            "--from",
            repo().join("sample-feeds").to_str().unwrap(),
        ],
    );
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    let data = env.data_dir();
    assert_eq!(not_private(&data), vec![], "after the demo load");

    // What an older version left behind, readable by all, is narrowed when the server starts.
    std::fs::write(data.join("config.toml"), "[jobs]\ninbox_scan = \"\"\n").unwrap();
    std::fs::create_dir_all(data.join("inbox/PAS")).unwrap();
    for (path, m) in [
        (data.clone(), 0o755),
        (data.join("sharedcare.db"), 0o644),
        (data.join("audit.head"), 0o644),
        (data.join("inbox"), 0o755),
        (data.join("inbox/PAS"), 0o755),
        (data.join("config.toml"), 0o644),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
    }
    // A file dropped by another program, readable by all, an empty one that is quarantined, and
    // a backup: each made by the service, or claimed by it, under umask 0022.
    for (name, body) in [("a.hl7", &b"MSH|^~\\&|X\r"[..]), ("empty.hl7", b"")] {
        std::fs::write(data.join("inbox/PAS").join(name), body).unwrap();
        std::fs::set_permissions(
            data.join("inbox/PAS").join(name),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    assert_eq!(
        with_umask_0022(
            &env,
            &[
                "source", "add", "PAS", "--name", "P", "--org", "R1K", "--kind", "acute",
                "--format", "hl7v2"
            ]
        )
        .code,
        0
    );
    for _ in 0..2 {
        let r = with_umask_0022(&env, &["scan"]);
        assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    }
    assert!(data.join("quarantine/PAS/empty.hl7.reason").exists());
    assert_eq!(with_umask_0022(&env, &["backup"]).code, 0);
    server::add_user(&env, "clin", "clinician");

    // The server: TLS certificate and key, SFTP host key, sessions and audit events, WAL.
    let s = Server::start_in(env);
    let c = s.login("clin");
    assert!(c
        .get(s.url("/search?q=smith"))
        .send()
        .unwrap()
        .status()
        .is_success());
    let _env = s.kill();
    assert!(data.join("tls/key.pem").exists() && data.join("sftp/host_key").exists());
    assert_eq!(not_private(&data), vec![], "after the server ran");
}

#[test]
fn regression_readable_tls_or_sftp_host_key_stops_start_with_the_file_and_the_fix() {
    let env = Env::new();
    server::add_user(&env, "it", "admin");
    // The first start makes both keys, private.
    let env = Server::start_in(env).kill();
    let data = env.data_dir();
    for (file, what, loose) in [
        ("tls/key.pem", "TLS key", 0o644),
        ("sftp/host_key", "SFTP host key", 0o640),
    ] {
        let path = data.join(file);
        assert_eq!(mode(&path), 0o600, "{file} was made private");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
        let fix = format!("chmod 600 {}", path.display());
        for args in [
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sftp-listen",
                "127.0.0.1:0",
            ][..],
            &["stats"][..],
        ] {
            let r = run_bounded(&env, args);
            assert_eq!(
                r.code, 2,
                "{args:?} went on with a readable {what}: {}",
                r.stdout
            );
            assert!(
                r.stderr.contains(what) && r.stderr.contains(&fix),
                "{args:?}: {}",
                r.stderr
            );
            assert!(!r.stdout.contains("listening"), "{}", r.stdout);
        }
        assert_eq!(
            mode(&path),
            loose,
            "a readable key is refused, not quietly narrowed"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    env.ok(&["stats"]);
}
