//! The systemd unit in `packaging/`: installed with the binary into a scratch root, it passes
//! `systemd-analyze verify`, and `systemd-analyze security` rates its exposure "OK" (2.0 or
//! less on its 0–10 scale), with the hardening the package promises written in it.

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
