//! Who may log in to a source's SFTP account: its authorised public keys and its optional
//! password. Each change is one use case here (`sharedcare sftp key add|remove`, `sharedcare
//! sftp password set|clear`; keys given with a source are saved by
//! [`save_source`](super::settings::save_source)), which makes the change and writes its audit
//! event (`sftp-key-add`, `sftp-key-remove`, `sftp-password-set`, `sftp-password-clear`, the
//! detail naming the account and key fingerprints, never a key or password) in one
//! transaction: if the event cannot be written, who may log in stays as it was.

use super::sftp::keys::{self, AuthorisedKey};
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::import::links::record;
use crate::store::Store;

/// Authorises `keys` for the account `source`. Returns each key's fingerprint with whether it
/// is new (false: it was already authorised).
pub fn add_keys(
    store: &mut Store,
    source: &str,
    keys: &[AuthorisedKey],
    by: &Actor,
    now: &str,
) -> Result<Vec<(String, bool)>> {
    if keys.is_empty() {
        return Err(Error::Invalid("no public key was given".into()));
    }
    let tx = store.begin()?;
    let mut added = Vec::new();
    for k in keys {
        added.push((
            k.fingerprint.clone(),
            tx.add_sftp_key(source, &k.public_key, now)?,
        ));
    }
    let fingerprints: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
    let detail = format!("{source} {}", fingerprints.join(" "));
    record(&tx, by, Action::SftpKeyAdd, None, &detail, "ok", now)?;
    tx.commit()?;
    Ok(added)
}

/// Removes the key with this fingerprint (`SHA256:…`) from the account `source`; not found
/// when it has no such key, and then nothing is written.
pub fn remove_key(
    store: &mut Store,
    source: &str,
    fingerprint: &str,
    by: &Actor,
    now: &str,
) -> Result<()> {
    let tx = store.begin()?;
    let mut removed = 0;
    for row in tx.sftp_keys(source)? {
        if keys::describe(&row.public_key).0 == fingerprint {
            removed += tx.remove_sftp_key(source, &row.public_key)?;
        }
    }
    if removed == 0 {
        return Err(Error::NotFound(format!(
            "{source} has no key {fingerprint}; `sharedcare sftp key list {source}` shows them"
        )));
    }
    record(
        &tx,
        by,
        Action::SftpKeyRemove,
        None,
        &format!("{source} {fingerprint}"),
        "ok",
        now,
    )?;
    tx.commit()
}

/// Sets the account's password to the one `hash` holds (an argon2 PHC string), or clears it
/// (`None`: only keys work afterwards).
pub fn set_password(
    store: &mut Store,
    source: &str,
    hash: Option<&str>,
    by: &Actor,
    now: &str,
) -> Result<()> {
    let tx = store.begin()?;
    tx.set_sftp_password(source, hash, now)?;
    let action = match hash {
        Some(_) => Action::SftpPasswordSet,
        None => Action::SftpPasswordClear,
    };
    record(&tx, by, action, None, source, "ok", now)?;
    tx.commit()
}
