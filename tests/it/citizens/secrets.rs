//! Citizens' TOTP secrets at rest: sealed under the data directory's own key, never stored as
//! an authenticator app is given them; a secret an older version stored plain is sealed by the
//! upgrade and still signs in.

use super::*;
use std::os::unix::fs::PermissionsExt;

const KEY_FILE: &str = "citizen-secrets.key";

fn stored_secret(env: &Env, username: &str) -> String {
    env.sql()
        .query_row(
            "SELECT totp_secret FROM citizen_account WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .unwrap()
}

/// Whether any file of the data directory holds `needle`.
fn stored_anywhere(env: &Env, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(env.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file()
            && String::from_utf8_lossy(&std::fs::read(&path).unwrap()).contains(needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn regression_totp_secrets_were_stored_in_plain_text() {
    let s = Server::start();
    let (_, secret) = sign_up(&s, MARGARET, "margaret");
    let stored = stored_secret(&s.env, "margaret");
    assert!(stored.starts_with("sealed1:"), "{stored}");
    assert!(!stored.contains(&secret));
    let env = s.kill();
    assert_eq!(stored_anywhere(&env, &secret), Vec::<String>::new());
    let key = env.data_dir().join(KEY_FILE);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the key is private to the service");

    // The sealed secret opens with this data directory's key only: another key refuses it,
    // and a missing key is not silently replaced by a new one.
    let kept = std::fs::read(&key).unwrap();
    std::fs::write(&key, [9u8; 32]).unwrap();
    let s = Server::start_in(env);
    let code = sharedcare::citizen::totp::code_at(&secret, now() + 30).unwrap();
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &code);
    assert_ne!(
        r.status(),
        303,
        "a secret sealed by another key signs no one in"
    );
    let env = s.kill();
    std::fs::remove_file(&key).unwrap();
    let s = Server::start_in(env);
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &code);
    assert_ne!(r.status(), 303);
    let env = s.kill();
    assert!(
        !key.exists(),
        "a missing key is put back, never made anew, while secrets need it"
    );
    std::fs::write(&key, &kept).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = Server::start_in(env);
    let (_, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &code);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
}

#[test]
fn regression_an_account_with_a_plain_secret_signs_in_after_the_upgrade_that_seals_it() {
    // A data directory as the version before sealing left it: the secret plain, no key.
    let s = Server::start();
    let (_, secret) = sign_up(&s, MARGARET, "margaret");
    let env = s.kill();
    let conn = env.sql();
    conn.execute(
        "UPDATE citizen_account SET totp_secret = ?1 WHERE username = 'margaret'",
        [&secret],
    )
    .unwrap();
    drop(conn);
    std::fs::remove_file(env.data_dir().join(KEY_FILE)).unwrap();

    let s = Server::start_in(env);
    let code = sharedcare::citizen::totp::code_at(&secret, now() + 30).unwrap();
    let (c, r) = sign_in(&s, "margaret", CITIZEN_PASSWORD, &code);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    assert!(page(&s, &c, "/citizen").contains("Your health and care record"));
    let stored = stored_secret(&s.env, "margaret");
    assert!(
        stored.starts_with("sealed1:") && !stored.contains(&secret),
        "{stored}"
    );
    assert!(s.env.data_dir().join(KEY_FILE).is_file());
    let env = s.kill();
    env.sql()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let in_place: Vec<String> = stored_anywhere(&env, &secret)
        .into_iter()
        .filter(|p| !p.contains("backups"))
        .collect();
    assert_eq!(
        in_place,
        Vec::<String>::new(),
        "only the pre-upgrade copy holds it"
    );
}
