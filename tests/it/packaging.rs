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
