//! The systemd unit in `packaging/`: installed with the binary into a scratch root, it passes
//! `systemd-analyze verify`, and `systemd-analyze security` rates its exposure "OK" (2.0 or
//! less on its 0–10 scale), with the hardening the package promises written in it. The .deb
//! (`cargo deb`, packaging the debug binary the tests built, so no release build is in the
//! test path) has no lintian error, unpacks (`dpkg-deb -x`) into a scratch root where the unit
//! verifies, and the packaged binary serves HTTPS. Whether the container file builds is not
//! tested here (no container engine runs on the test machines): hadolint lints it.

use super::support::{bin, repo};
use std::path::Path;
use std::process::Command;

const UNIT: &str = "sharedcare.service";

fn systemd_analyze() -> Command {
    let path = Path::new("/usr/bin/systemd-analyze");
    assert!(
        path.exists(),
        "systemd-analyze is missing: install Debian's `systemd` package (scripts/test does)"
    );
    Command::new(path)
}

#[test]
fn the_systemd_unit_verifies_in_a_scratch_root_and_is_hardened() {
    let unit = std::fs::read_to_string(repo().join("packaging").join(UNIT)).unwrap();
    for line in [
        "User=sharedcare",
        "ExecStart=/usr/bin/sharedcare serve",
        "StateDirectory=sharedcare",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "UMask=0077",
    ] {
        assert!(
            unit.lines().any(|l| l.trim() == line),
            "{UNIT} lacks `{line}`"
        );
    }

    // The scratch root: the binary and the unit where the package puts them, beside the
    // system's own targets the unit is ordered against.
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
    std::fs::copy(bin(), root.path().join("usr/bin/sharedcare")).unwrap();
    for entry in std::fs::read_dir("/lib/systemd/system").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "target") {
            std::fs::copy(&path, units.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(units.join(UNIT), &unit).unwrap();
    let verify = systemd_analyze()
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .arg(UNIT)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains(UNIT),
        "systemd-analyze verify: {said}"
    );

    let security = systemd_analyze()
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(units.join(UNIT))
        .output()
        .unwrap();
    assert!(
        security.status.success(),
        "the unit's exposure is above 2.0:\n{}",
        String::from_utf8_lossy(&security.stdout)
    );
}

#[test]
fn the_container_file_passes_hadolint_and_runs_as_a_non_root_user_with_a_data_volume() {
    let file = repo().join("packaging/Containerfile");
    let text = std::fs::read_to_string(&file).unwrap();
    let runtime = text
        .rsplit_once("\nFROM ")
        .map(|(_, last)| last)
        .expect("no runtime stage");
    for line in [
        "USER 10001:10001",
        "VOLUME [\"/var/lib/sharedcare\"]",
        "ENV SHAREDCARE_DATA_DIR=/var/lib/sharedcare",
    ] {
        assert!(
            runtime.lines().any(|l| l.trim() == line),
            "the runtime stage lacks `{line}`"
        );
    }
    assert!(
        runtime.contains("HEALTHCHECK") && runtime.contains("/readyz"),
        "no health check on /readyz"
    );
    let out = Command::new("hadolint")
        .arg(&file)
        .output()
        .expect("hadolint is needed for the container file check (scripts/test installs it)");
    assert!(
        out.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_deb_unpacks_into_a_scratch_root_where_the_unit_verifies_and_the_binary_serves() {
    let out_dir = tempfile::tempdir().unwrap();
    // The binary the tests run (a debug build: `--profile dev`); CI's release package is
    // `cargo deb` with no flags.
    let built = Command::new("cargo-deb")
        .args([
            "--no-build",
            "--profile",
            "dev",
            "--fast",
            "--quiet",
            "--manifest-path",
        ])
        .arg(repo().join("Cargo.toml"))
        .arg("-o")
        .arg(out_dir.path())
        .output()
        .expect("cargo-deb is needed for the package test (scripts/test installs it)");
    assert!(
        built.status.success(),
        "cargo deb failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let deb = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("no .deb written");
    // lintian, Debian's package checker, finds no error in it.
    let lint = Command::new("lintian")
        .args(["--fail-on", "error", "--tag-display-limit", "0"])
        .arg(&deb)
        .output()
        .expect("lintian is needed for the package test (scripts/test installs it)");
    let said = String::from_utf8_lossy(&lint.stdout);
    assert!(
        lint.status.success() && !said.lines().any(|l| l.starts_with("E:")),
        "lintian: {said}{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let control = Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(out_dir.path().join("control"))
        .status()
        .unwrap();
    assert!(control.success());
    let conffiles = std::fs::read_to_string(out_dir.path().join("control/conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/sharedcare/config.toml");
    let postinst = std::fs::read_to_string(out_dir.path().join("control/postinst")).unwrap();
    assert!(
        postinst.contains("adduser --system")
            && postinst
                .contains("install -d -o sharedcare -g sharedcare -m 0700 /var/lib/sharedcare")
    );

    let root = tempfile::tempdir().unwrap();
    let unpacked = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path())
        .status()
        .unwrap();
    assert!(unpacked.success());
    for file in [
        "usr/bin/sharedcare",
        "lib/systemd/system/sharedcare.service",
        "etc/sharedcare/config.toml",
        "usr/share/doc/sharedcare/changelog.Debian.gz",
        "usr/share/doc/sharedcare/copyright",
    ] {
        assert!(
            root.path().join(file).is_file(),
            "the package lacks /{file}"
        );
    }
    let units = root.path().join("lib/systemd/system");
    for entry in std::fs::read_dir("/lib/systemd/system").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "target") {
            std::fs::copy(&path, units.join(path.file_name().unwrap())).unwrap();
        }
    }
    let verify = systemd_analyze()
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .arg(UNIT)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains(UNIT),
        "systemd-analyze verify: {said}"
    );

    // The packaged binary, with the packaged config, serves.
    let data = root.path().join("var/lib/sharedcare");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        root.path().join("etc/sharedcare/config.toml"),
        data.join("config.toml"),
    )
    .unwrap();
    let mut server = Command::new(root.path().join("usr/bin/sharedcare"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0", "--sftp-listen", ""])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        if n == 0 {
            let _ = server.kill();
            panic!("the packaged binary exited before listening");
        }
        if let Some(url) = line.trim().strip_prefix("sharedcare listening on ") {
            break url.to_owned();
        }
    };
    let client = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let answer = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .send()
            .map(|r| r.status().as_u16())
    };
    let (health, ready) = (answer("/healthz"), answer("/readyz"));
    let _ = server.kill();
    let _ = server.wait();
    assert!(base.starts_with("https://"), "{base}");
    assert_eq!(health.unwrap(), 200);
    assert_eq!(ready.unwrap(), 200);
}

/// The package's postinst, run as `configure` with its paths moved under `root` and the
/// account tools (`getent`, `adduser`, `install`, `chown`, `chmod`) replaced by stand-ins, so
/// that its own logic runs without touching this machine's accounts.
fn run_postinst(root: &Path) -> std::process::Output {
    let script = std::fs::read_to_string(repo().join("packaging/debian/postinst")).unwrap();
    let moved = script
        .replace(
            "/var/lib/sharedcare",
            &format!("{}/var/lib/sharedcare", root.display()),
        )
        .replace(
            "/etc/sharedcare",
            &format!("{}/etc/sharedcare", root.display()),
        );
    let bin = root.join("stand-ins");
    std::fs::create_dir_all(&bin).unwrap();
    for (tool, body) in [
        ("getent", "exit 0"),
        ("adduser", "exit 0"),
        // As the real ones, they fail on a file that is not there.
        ("chown", "for last; do :; done; [ -e \"$last\" ]"),
        ("chmod", "for last; do :; done; [ -e \"$last\" ]"),
        // `install -d -o U -g G -m M DIR`: the folder is the last argument.
        ("install", "for last; do :; done; mkdir -p \"$last\""),
    ] {
        let path = bin.join(tool);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(&moved)
        .arg("postinst")
        .arg("configure")
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn regression_an_upgrade_after_the_conffile_was_deleted_does_not_fail() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/sharedcare");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("config.toml"), "# defaults\n").unwrap();
    let link = root.path().join("var/lib/sharedcare/config.toml");

    let first = run_postinst(root.path());
    assert!(first.status.success(), "{first:?}");
    assert_eq!(std::fs::read_link(&link).unwrap(), etc.join("config.toml"));

    // The administrator deletes the conffile (the defaults then apply); dpkg does not bring
    // it back on an upgrade, so postinst runs with it gone and the link dangling.
    std::fs::remove_file(etc.join("config.toml")).unwrap();
    assert!(!link.exists() && link.symlink_metadata().is_ok());
    let upgrade = run_postinst(root.path());
    assert!(
        upgrade.status.success(),
        "postinst failed without the conffile: {}",
        String::from_utf8_lossy(&upgrade.stderr)
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), etc.join("config.toml"));

    // An operator's own config.toml in the data directory is left alone.
    std::fs::remove_file(&link).unwrap();
    std::fs::write(&link, "# the operator's\n").unwrap();
    assert!(run_postinst(root.path()).status.success());
    assert_eq!(
        std::fs::read_to_string(&link).unwrap(),
        "# the operator's\n"
    );
}
