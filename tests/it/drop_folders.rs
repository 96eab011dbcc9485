//! Which folder may be a drop folder (issue 10, finding 1): never the data directory, a folder
//! inside it or above it, a symlink, or a folder outside the roots the operator configured —
//! refused alike by `source edit --drop-folder` and the source form, and again at scan time for
//! a folder saved before the rule. And a scan claims regular files only.

use super::server::{self, Server};
use super::support::*;
use std::path::PathBuf;

/// A data directory whose config lets drop folders live under the test's whole temporary
/// folder, which holds the data directory: so only the data-directory rule, not the root rule,
/// can refuse the data directory, its parent or a folder inside it.
fn env_with_root() -> Env {
    let env = Env::new();
    let root = env.dir.path().to_path_buf();
    std::fs::create_dir_all(env.data_dir().join("inbox")).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[feeds]\ndrop_folder_roots = [{:?}]\n[jobs]\ninbox_scan = \"\"\n",
            root.to_str().unwrap()
        ),
    )
    .unwrap();
    env.add_source("PAS", "acute", "hl7v2");
    env
}

/// The folders the rule must refuse (with the default root), each with a word its refusal
/// names.
fn refused_folders(env: &Env) -> Vec<(String, PathBuf, &'static str)> {
    let link = env.dir.path().join("link-to-data");
    if !link.exists() {
        std::os::unix::fs::symlink(env.data_dir(), &link).unwrap();
    }
    let outside = tempfile::tempdir().unwrap().keep();
    vec![
        (
            "the data directory".into(),
            env.data_dir(),
            "data directory",
        ),
        (
            "a parent of the data directory".into(),
            env.dir.path().to_path_buf(),
            "data directory",
        ),
        (
            "a folder inside the data directory".into(),
            env.data_dir().join("inbox"),
            "data directory",
        ),
        (
            "a symlink to the data directory".into(),
            link,
            "symbolic link",
        ),
        ("a folder outside every root".into(), outside, "outside"),
    ]
}

fn stored_drop_folder(env: &Env) -> Option<String> {
    env.sql()
        .query_row(
            "SELECT drop_folder FROM source WHERE code = 'PAS'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn regression_drop_folder_can_be_any_folder_cli_refuses_data_dir_parent_symlink_and_outside_roots()
{
    let env = env_with_root();
    let env_root = env.dir.path().to_path_buf();
    for (what, folder, why) in refused_folders(&env) {
        let r = env.run(&[
            "source",
            "edit",
            "PAS",
            "--drop-folder",
            folder.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 2, "{what} was accepted: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(why), "{what}: {}", r.stderr);
        assert_eq!(stored_drop_folder(&env), None, "{what} was saved");
    }
    // A folder inside the root is accepted, and stored resolved.
    let good = env_root.join("share");
    std::fs::create_dir_all(&good).unwrap();
    env.ok(&[
        "source",
        "edit",
        "PAS",
        "--drop-folder",
        good.to_str().unwrap(),
    ]);
    assert_eq!(
        stored_drop_folder(&env).as_deref(),
        Some(std::fs::canonicalize(&good).unwrap().to_str().unwrap())
    );
    // With no roots configured there are no drop folders at all.
    std::fs::write(env.data_dir().join("config.toml"), "").unwrap();
    let r = env.run(&[
        "source",
        "edit",
        "PAS",
        "--drop-folder",
        good.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("drop_folder_roots"), "{}", r.stderr);
}

#[test]
fn regression_drop_folder_can_be_any_folder_web_form_refuses_data_dir_parent_symlink_and_outside_roots(
) {
    let env = env_with_root();
    server::add_user(&env, "it", "admin");
    let folders = refused_folders(&env);
    let s = Server::start_in(env);
    let it = s.login("it");
    let form = it
        .get(s.url("/admin/sources/PAS/edit"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = server::hidden(&form, "csrf");
    for (what, folder, why) in folders {
        let r = it
            .post(s.url("/admin/sources"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("existing", "PAS"),
                ("code", "PAS"),
                ("name", "PAS feed"),
                ("org", "R1K"),
                ("org_name", ""),
                ("kind", "acute"),
                ("format", "hl7v2"),
                ("mapping", ""),
                ("cadence", ""),
                ("drop_folder", folder.to_str().unwrap()),
                ("keys", ""),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), 422, "{what} was accepted");
        let page = r.text().unwrap();
        assert!(page.contains(why), "{what}: the form does not say why");
        assert_eq!(stored_drop_folder(&s.env), None, "{what} was saved");
    }
}

#[test]
fn regression_drop_folder_saved_before_the_rule_is_refused_at_scan_and_audit_key_is_never_moved() {
    let env = env_with_root();
    let data = env.data_dir();
    let key_before = std::fs::read(data.join("audit.key")).unwrap();
    // As an older sharedcare would have saved it, unchecked.
    env.sql()
        .execute(
            "UPDATE source SET drop_folder = ?1 WHERE code = 'PAS'",
            [data.to_str().unwrap()],
        )
        .unwrap();
    for _ in 0..2 {
        let r = env.run(&["--json", "scan"]);
        assert_eq!(r.code, 1, "a refused folder is a problem: {}", r.stderr);
        let errors = r.json()["errors"].to_string();
        assert!(
            errors.contains("data directory") && errors.contains("not scanned"),
            "{errors}"
        );
    }
    for f in ["audit.key", "audit.head", "sharedcare.db", "config.toml"] {
        assert!(data.join(f).is_file(), "{f} was moved away");
    }
    assert_eq!(std::fs::read(data.join("audit.key")).unwrap(), key_before);
    assert!(
        !data.join("done/PAS").exists() && !data.join("processing/PAS").exists(),
        "nothing was claimed"
    );
    let health = env.ok(&["--json", "feeds"]).json();
    let why = health[0]["drop_folder_refused"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("data directory"), "{health}");
    env.ok(&["audit", "verify"]);
}

#[test]
fn regression_drop_folder_scan_claims_regular_files_only() {
    let env = env_with_root();
    let share = env.dir.path().join("share");
    std::fs::create_dir_all(&share).unwrap();
    env.ok(&[
        "source",
        "edit",
        "PAS",
        "--drop-folder",
        share.to_str().unwrap(),
    ]);
    let secret = env.write("secret.txt", "not for the importer");
    std::os::unix::fs::symlink(&secret, share.join("link.hl7")).unwrap();
    let fifo = share.join("pipe.hl7");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::create_dir(share.join("sub.hl7")).unwrap();
    for _ in 0..2 {
        let r = env.ok(&["--json", "scan"]).json();
        assert_eq!(r["files"].as_array().unwrap().len(), 0, "{r}");
    }
    assert!(std::fs::symlink_metadata(share.join("link.hl7"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fifo.exists() && share.join("sub.hl7").is_dir());
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "not for the importer"
    );
}
