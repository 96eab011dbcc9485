//! The embedded SFTP server against the real OpenSSH client: uploads reach the inbox complete
//! and only complete, accounts stay inside their own jail, and nothing but SFTP is offered.

use super::server::Server;
use super::support::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Sftp {
    server: Server,
    keys: PathBuf,
}

/// Runs a command, killing it if it takes longer than `limit`; (exit code, stdout + stderr).
fn run_within(mut cmd: Command, limit: Duration) -> (i32, String) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let sink = out.reopen().unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        // One shared file offset, so stdout and stderr interleave rather than overwrite.
        .stdout(sink.try_clone().unwrap())
        .stderr(sink)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        code,
        std::fs::read_to_string(out.path()).unwrap_or_default(),
    )
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

impl Sftp {
    /// Sources ACUTE and COUNCIL, each with its own key, and a server whose inbox scanner is
    /// off (so files stay in the inbox to be looked at) unless `config` says otherwise.
    fn start(config: &str) -> Self {
        let env = Env::new();
        env.add_source("ACUTE", "acute", "hl7v2");
        env.add_source("COUNCIL", "social-care", "hl7v2");
        std::fs::write(env.data_dir().join("config.toml"), config).unwrap();
        let keys = env.dir.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        for name in ["ACUTE", "COUNCIL", "stranger"] {
            let key = keys.join(name);
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(&key)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            if name != "stranger" {
                env.ok(&[
                    "sftp",
                    "key",
                    "add",
                    name,
                    key.with_extension("pub").to_str().unwrap(),
                ]);
            }
        }
        let server = Server::start_in(env);
        assert!(
            server.sftp_port > 0,
            "the server did not report an SFTP port"
        );
        Self { server, keys }
    }

    fn data(&self, rel: &str) -> PathBuf {
        self.server.env.data_dir().join(rel)
    }

    fn ssh_options(&self, tool: &str, key: &str) -> Command {
        let mut c = Command::new(tool);
        c.arg("-i")
            .arg(self.keys.join(key))
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "LogLevel=ERROR",
            ])
            .args(["-o", "ConnectTimeout=10"]);
        c
    }

    /// `sftp -b` as `user` with `key`, in the working directory `cwd`; extra args before the host.
    fn batch(
        &self,
        user: &str,
        key: &str,
        cwd: &Path,
        batch: &str,
        extra: &[&str],
    ) -> (i32, String) {
        let file = cwd.join(".batch");
        std::fs::write(&file, batch).unwrap();
        let mut c = self.ssh_options("sftp", key);
        c.current_dir(cwd)
            .arg("-b")
            .arg(&file)
            .arg("-P")
            .arg(self.server.sftp_port.to_string())
            .args(extra)
            .arg(format!("{user}@127.0.0.1"));
        run_within(c, Duration::from_secs(180))
    }

    fn local(&self) -> PathBuf {
        let d = self.server.env.dir.path().join("local");
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

fn sample() -> String {
    a08(
        "SFTP1",
        "20240501120000",
        "M100",
        &nhs_number(7),
        "Sftpson",
        "Ada",
        "19700101",
    )
}

const NO_SCAN: &str = "[jobs]\ninbox_scan = \"\"\n";

#[test]
fn an_upload_is_handed_over_complete_and_only_to_its_own_inbox() {
    let s = Sftp::start(NO_SCAN);
    let local = s.local();
    std::fs::write(local.join("adt.hl7"), sample()).unwrap();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put adt.hl7\nls -l\n", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("adt.hl7"), "the upload is listed: {out}");
    let inbox = s.data("inbox/ACUTE/adt.hl7");
    assert_eq!(sha(&inbox), sha(&local.join("adt.hl7")));
    assert!(!s.data("inbox/COUNCIL/adt.hl7").exists());
    assert_eq!(
        std::fs::read_dir(s.data("sftp/uploads/ACUTE"))
            .unwrap()
            .count(),
        0
    );

    // A temporary name stays out of the inbox until the client renames it.
    let (code, out) = s.batch(
        "ACUTE",
        "ACUTE",
        &local,
        "put adt.hl7 second.part\n!ls\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!s.data("inbox/ACUTE/second.part").exists());
    assert!(s.data("sftp/uploads/ACUTE/second.part").exists());
    let (code, out) = s.batch(
        "ACUTE",
        "ACUTE",
        &local,
        "rename second.part second.hl7\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        sha(&s.data("inbox/ACUTE/second.hl7")),
        sha(&local.join("adt.hl7"))
    );

    // A second source sees none of it, cannot fetch, remove or overwrite it.
    std::fs::write(local.join("other.hl7"), "MSH|not the same file\r").unwrap();
    let (code, out) = s.batch(
        "COUNCIL",
        "COUNCIL",
        &local,
        "ls -la\n-get adt.hl7 stolen.hl7\n-get ../ACUTE/adt.hl7 stolen.hl7\n\
         -get /inbox/ACUTE/adt.hl7 stolen.hl7\n-rm adt.hl7\n-put other.hl7 ../ACUTE/adt.hl7\n\
         put other.hl7 adt.hl7\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("second.hl7"),
        "COUNCIL must not list ACUTE's files: {out}"
    );
    assert!(!local.join("stolen.hl7").exists());
    assert_eq!(
        sha(&inbox),
        sha(&local.join("adt.hl7")),
        "ACUTE's file is untouched"
    );
    assert_eq!(
        sha(&s.data("inbox/COUNCIL/adt.hl7")),
        sha(&local.join("other.hl7"))
    );

    // Its own not-yet-claimed file can be deleted; reading back is not offered at all.
    let (code, out) = s.batch(
        "ACUTE",
        "ACUTE",
        &local,
        "-get second.hl7 back.hl7\nrm second.hl7\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!local.join("back.hl7").exists());
    assert!(!s.data("inbox/ACUTE/second.hl7").exists());
}

#[test]
fn the_jail_holds_against_dot_dot_absolute_paths_and_symlinks() {
    let s = Sftp::start(NO_SCAN);
    let local = s.local();
    std::fs::write(local.join("x.hl7"), sample()).unwrap();
    // A link someone left in the upload area is neither listed nor followed.
    std::fs::create_dir_all(s.data("sftp/uploads/ACUTE")).unwrap();
    std::fs::create_dir_all(s.data("inbox/ACUTE")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", s.data("sftp/uploads/ACUTE/evil")).unwrap();
    std::os::unix::fs::symlink("/etc", s.data("inbox/ACUTE/etc")).unwrap();
    let (code, out) = s.batch(
        "ACUTE",
        "ACUTE",
        &local,
        "cd ..\ncd ../..\npwd\n-cd /etc\n-get /etc/passwd p1\n-get ../../../../etc/passwd p2\n\
         -get evil p3\n-get etc/passwd p4\n-symlink /etc/passwd link\n-mkdir sub\n\
         -put x.hl7 /tmp/escaped.hl7\n-put x.hl7 ../../escaped.hl7\n-put x.hl7 evil\nls -la\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Remote working directory: /"), "{out}");
    for p in ["p1", "p2", "p3", "p4"] {
        assert!(!local.join(p).exists(), "{p} was fetched: {out}");
    }
    let listing = out.split("sftp> ls -la").nth(1).unwrap();
    assert!(
        !listing.contains("evil") && !listing.contains("etc"),
        "{out}"
    );
    assert!(!Path::new("/tmp/escaped.hl7").exists());
    assert!(!s.data("escaped.hl7").exists() && !s.data("sftp/escaped.hl7").exists());
    // `../../escaped.hl7` resolves to /escaped.hl7, inside the jail: it lands in ACUTE's inbox.
    assert!(s.data("inbox/ACUTE/escaped.hl7").exists());
    assert!(std::fs::symlink_metadata(s.data("sftp/uploads/ACUTE/evil"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!s.data("sftp/uploads/ACUTE/link").exists());
}

#[test]
fn wrong_keys_are_refused_and_commands_end_promptly() {
    let s = Sftp::start(NO_SCAN);
    let local = s.local();
    let (code, out) = s.batch("ACUTE", "stranger", &local, "ls\n", &[]);
    assert_ne!(code, 0, "a stranger's key logged in: {out}");
    let (code, out) = s.batch("ACUTE", "COUNCIL", &local, "ls\n", &[]);
    assert_ne!(code, 0, "another source's key logged in: {out}");
    let (code, out) = s.batch("NOSUCH", "ACUTE", &local, "ls\n", &[]);
    assert_ne!(code, 0, "an unknown account logged in: {out}");

    let mut ssh = s.ssh_options("ssh", "ACUTE");
    ssh.arg("-p")
        .arg(s.server.sftp_port.to_string())
        .arg("ACUTE@127.0.0.1")
        .arg("whoami");
    let (code, out) = run_within(ssh, Duration::from_secs(30));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("only accepts SFTP"), "{out}");
    assert!(!out.contains("root"), "{out}");

    let mut ssh = s.ssh_options("ssh", "ACUTE");
    ssh.args([
        "-T",
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-L",
        "0:127.0.0.1:22",
        "-p",
    ])
    .arg(s.server.sftp_port.to_string())
    .arg("ACUTE@127.0.0.1");
    let (code, out) = run_within(ssh, Duration::from_secs(30));
    assert_ne!(code, 0, "port forwarding was allowed: {out}");
}

#[test]
fn sftp_keys_are_managed_from_the_command_line() {
    let env = Env::new();
    env.add_source("ACUTE", "acute", "hl7v2");
    let key = env.dir.path().join("k");
    assert!(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "k", "-f"])
        .arg(&key)
        .status()
        .unwrap()
        .success());
    let pubfile = key.with_extension("pub");
    let fp_out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&pubfile)
        .output()
        .unwrap();
    let fp = String::from_utf8_lossy(&fp_out.stdout)
        .split(' ')
        .nth(1)
        .unwrap()
        .to_owned();
    let added = env.ok(&["sftp", "key", "add", "ACUTE", pubfile.to_str().unwrap()]);
    assert!(added.stdout.contains(&fp), "{}", added.stdout);
    let again = env.ok(&["sftp", "key", "add", "ACUTE", pubfile.to_str().unwrap()]);
    assert!(again.stdout.contains("already"), "{}", again.stdout);
    let list = env.ok(&["--json", "sftp", "key", "list", "ACUTE"]).json();
    assert_eq!(list[0]["fingerprint"], fp.as_str());
    assert_eq!(
        env.run(&["sftp", "key", "add", "NOPE", pubfile.to_str().unwrap()])
            .code,
        2
    );
    let junk = env.write("junk.pub", b"not a key at all\n");
    assert_eq!(
        env.run(&["sftp", "key", "add", "ACUTE", junk.to_str().unwrap()])
            .code,
        2
    );
    env.ok(&["sftp", "key", "remove", "ACUTE", &fp]);
    assert_eq!(
        env.ok(&["--json", "sftp", "key", "list", "ACUTE"]).json(),
        serde_json::json!([])
    );
    assert_eq!(env.run(&["sftp", "key", "remove", "ACUTE", &fp]).code, 2);

    // The host key is made once, private, and its fingerprint stays the same.
    let first = env.ok(&["sftp", "fingerprint"]).stdout;
    assert!(first.starts_with("SHA256:"), "{first}");
    assert_eq!(env.ok(&["sftp", "fingerprint"]).stdout, first);
    let host_key = env.data_dir().join("sftp/host_key");
    let fp_out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&host_key)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&fp_out.stdout).contains(first.trim()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&host_key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn an_oversized_upload_is_refused_and_nothing_reaches_the_inbox() {
    let s = Sftp::start(&format!("{NO_SCAN}[sftp]\nmax_file_bytes = 100000\n"));
    let local = s.local();
    std::fs::write(local.join("big.hl7"), vec![b'x'; 300_000]).unwrap();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put big.hl7\n", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(!s.data("inbox/ACUTE/big.hl7").exists());
    assert!(!s.data("sftp/uploads/ACUTE/big.hl7").exists());
}

/// A slow 50 MB upload, watched from outside: the inbox never shows it before it is whole.
#[test]
fn a_slow_upload_is_never_visible_in_the_inbox_before_it_is_complete() {
    let s = Sftp::start(NO_SCAN);
    let local = s.local();
    let mut data = vec![0u8; 50 * 1024 * 1024];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    std::fs::write(local.join("big.hl7"), &data).unwrap();
    let want = sha(&local.join("big.hl7"));
    let inbox = s.data("inbox/ACUTE");
    let uploads = s.data("sftp/uploads/ACUTE");
    for trial in 0..3 {
        let name = format!("big{trial}.hl7");
        let batch = local.join(".batch");
        std::fs::write(&batch, format!("put big.hl7 {name}\n")).unwrap();
        let mut c = s.ssh_options("sftp", "ACUTE");
        c.current_dir(&local)
            .args(["-l", "32000", "-b"])
            .arg(&batch)
            .arg("-P")
            .arg(s.server.sftp_port.to_string())
            .arg("ACUTE@127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let (mut seen_partial, mut checked) = (false, false);
        let start = Instant::now();
        loop {
            let done = child.try_wait().unwrap();
            if let Ok(m) = std::fs::metadata(uploads.join(&name)) {
                seen_partial |= m.len() < data.len() as u64;
            }
            if let Ok(m) = std::fs::metadata(inbox.join(&name)) {
                assert_eq!(
                    m.len(),
                    data.len() as u64,
                    "trial {trial}: a partial file in the inbox"
                );
                if !checked {
                    assert_eq!(sha(&inbox.join(&name)), want, "trial {trial}");
                    checked = true;
                }
            }
            if let Some(status) = done {
                assert!(status.success(), "trial {trial}: sftp failed");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "trial {trial} took too long"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            seen_partial,
            "trial {trial}: the upload was never seen in progress"
        );
        assert_eq!(sha(&inbox.join(&name)), want, "trial {trial}");
    }

    // An upload cut off half way is never handed over, and its partial file is discarded.
    let batch = local.join(".batch");
    std::fs::write(&batch, "put big.hl7 cut.hl7\n").unwrap();
    let mut c = s.ssh_options("sftp", "ACUTE");
    c.current_dir(&local)
        .args(["-l", "8000", "-b"])
        .arg(&batch)
        .arg("-P")
        .arg(s.server.sftp_port.to_string())
        .arg("ACUTE@127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let start = Instant::now();
    while std::fs::metadata(uploads.join("cut.hl7")).map_or(0, |m| m.len()) < 1_000_000 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the upload never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while uploads.join("cut.hl7").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the partial upload was kept"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!inbox.join("cut.hl7").exists());
}

/// With the server's own inbox scanner (every second here), an upload is imported within
/// seconds and the person is in the record a clinician opens.
#[test]
fn an_upload_is_imported_within_seconds_and_visible_in_the_record() {
    let s = Sftp::start("[jobs]\ninbox_scan = \"* * * * * *\"\n");
    super::server::add_user(&s.server.env, "clin", "clinician");
    let local = s.local();
    std::fs::write(local.join("adt.hl7"), sample()).unwrap();
    let want = sha(&local.join("adt.hl7"));
    let uploaded = Instant::now();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put adt.hl7\n", &[]);
    assert_eq!(code, 0, "{out}");
    while s.server.env.count(&format!(
        "SELECT count(*) FROM feed_file WHERE sha256 = '{want}' AND state = 'imported'"
    )) == 0
    {
        assert!(
            uploaded.elapsed() < Duration::from_secs(30),
            "the upload was not imported"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("uploaded and imported in {:?}", uploaded.elapsed());
    let c = s.server.login("clin");
    let page = c
        .get(s.server.url("/search"))
        .query(&[("q", nhs_number(7))])
        .send()
        .unwrap()
        .text()
        .unwrap();
    let marker = "href=\"/person/";
    let at = page.find(marker).expect("the uploaded person is found") + marker.len();
    let id: String = page[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    // The clinician's practice has no relationship with a patient of the acute trust's feed.
    super::server::claim(&s.server, &c, id.parse().unwrap());
    let record = c
        .get(s.server.url(&format!("/person/{id}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        record.to_uppercase().contains("SFTPSON"),
        "the record shows the uploaded patient"
    );
}

/// Issue 10, finding 18: names that are dangerous in a shell, a terminal or a listing are
/// refused with a reason the client shows, and nothing is stored under them.
#[test]
fn regression_sftp_upload_names_unsafe_names_are_refused_with_a_reason() {
    let s = Sftp::start(NO_SCAN);
    let local = s.local();
    std::fs::write(local.join("x.hl7"), sample()).unwrap();
    let long = "a".repeat(129);
    let unsafe_names = [
        "-rf",
        "*",
        ".hidden.hl7",
        "evil\u{202e}lmth.hl7",
        "two words.hl7",
        long.as_str(),
    ];
    for name in unsafe_names {
        let batch = format!("put x.hl7 \"{name}\"\n");
        let (code, out) = s.batch("ACUTE", "ACUTE", &local, &batch, &[]);
        assert_ne!(code, 0, "{name:?} was accepted: {out}");
        // OpenSSH shows the status code; the status message names the rule for clients that
        // show it.
        assert!(out.contains("Permission denied"), "{name:?}: {out}");
    }
    let batch = "put x.hl7 fine.part\n-rename fine.part \"-rf\"\nrename fine.part fine.hl7\n";
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, batch, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    for dir in ["inbox/ACUTE", "sftp/uploads/ACUTE"] {
        let names: Vec<String> = std::fs::read_dir(s.data(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let expected: &[&str] = if dir == "inbox/ACUTE" {
            &["fine.hl7"]
        } else {
            &[]
        };
        assert_eq!(names, expected, "{dir}: {out}");
    }
}

/// Issue 10, finding 18: an upload never finished is removed by the inbox scan once it is
/// `[sftp] abandoned_upload_hours` old, and not before.
#[test]
fn regression_sftp_upload_leftovers_abandoned_uploads_are_cleaned() {
    let s = Sftp::start(NO_SCAN);
    let local = s.local();
    std::fs::write(local.join("x.hl7"), sample()).unwrap();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put x.hl7 left.part\n", &[]);
    assert_eq!(code, 0, "{out}");
    // Left by a client that wrote straight into the inbox under a temporary name.
    std::fs::write(s.data("inbox/ACUTE/half.tmp"), "MSH|").unwrap();
    let left = s.data("sftp/uploads/ACUTE/left.part");
    assert!(left.exists());
    let env = &s.server.env;
    let soon = (chrono::Utc::now() + chrono::Duration::hours(23)).to_rfc3339();
    env.ok(&["scan", "--now", &soon]);
    assert!(left.exists() && s.data("inbox/ACUTE/half.tmp").exists());
    let later = (chrono::Utc::now() + chrono::Duration::hours(25)).to_rfc3339();
    env.ok(&["scan", "--now", &later]);
    assert!(!left.exists(), "the abandoned upload was kept");
    assert!(!s.data("inbox/ACUTE/half.tmp").exists());
}

/// Issue 10, finding 18: a source's files waiting for import may not pass its quota; an
/// upload past it is refused with a clear error and leaves nothing behind.
#[test]
fn regression_sftp_upload_per_source_quota_refuses_writes_past_it() {
    let s = Sftp::start(&format!("{NO_SCAN}[sftp]\nsource_quota_bytes = 100000\n"));
    let local = s.local();
    std::fs::write(local.join("a.hl7"), vec![b'a'; 60_000]).unwrap();
    std::fs::write(local.join("b.hl7"), vec![b'b'; 60_000]).unwrap();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put a.hl7\n", &[]);
    assert_eq!(code, 0, "{out}");
    // 60 000 waiting + 60 000 more passes 100 000: refused during the write.
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put b.hl7\n", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(!s.data("inbox/ACUTE/b.hl7").exists());
    assert!(!s.data("sftp/uploads/ACUTE/b.hl7").exists());
    // At the quota, the open itself is refused, and the client shows why.
    std::fs::write(s.data("inbox/ACUTE/c.hl7"), vec![b'c'; 40_000]).unwrap();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put b.hl7\n", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("dest open \"/b.hl7\": Failure"), "{out}");
    assert!(!s.data("sftp/uploads/ACUTE/b.hl7").exists());
    // Another source has its own quota.
    let (code, out) = s.batch("COUNCIL", "COUNCIL", &local, "put b.hl7\n", &[]);
    assert_eq!(code, 0, "{out}");
    // Once the waiting files are taken, uploads go through again.
    std::fs::remove_file(s.data("inbox/ACUTE/a.hl7")).unwrap();
    std::fs::remove_file(s.data("inbox/ACUTE/c.hl7")).unwrap();
    let (code, out) = s.batch("ACUTE", "ACUTE", &local, "put b.hl7\n", &[]);
    assert_eq!(code, 0, "{out}");
}
