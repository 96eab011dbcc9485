//! Backups in the age format (age-encryption.org/v1), and their second copy.
//!
//! With `[backup] recipient` set, a backup pair (the database and its audit file) is encrypted
//! to that public key as soon as it has passed its checks, and the plain copy is removed: what
//! stays on this disk, and what is copied to `[backup] copy_to`, cannot be read without the
//! identity, which is kept elsewhere. `sharedcare restore --identity FILE` decrypts a pair
//! into private files beside the database and restores those as any backup; the restore
//! drill does the same into its scratch directory.
//!
//! A sealed pair is named as a plain one with `.age` added: `sharedcare-<time>.db.age` and
//! `sharedcare-<time>-audit.db.age`.

use crate::config::BackupConfig;
use crate::error::{Error, Result};
use crate::sources::io;
use crate::store::audit_file::audit_path;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// The ending an encrypted backup's name has.
pub const SEALED: &str = ".age";

/// The first bytes of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

/// Checks `[backup]` when the configuration is read.
pub fn check(c: &BackupConfig) -> std::result::Result<(), String> {
    if let Some(r) = &c.recipient {
        recipient(r)?;
    }
    if let Some(dir) = &c.copy_to {
        if !dir.is_absolute() {
            return Err(format!(
                "[backup] copy_to = {:?}: give an absolute path",
                dir.display()
            ));
        }
    }
    Ok(())
}

fn recipient(text: &str) -> std::result::Result<age::x25519::Recipient, String> {
    text.trim().parse().map_err(|why| {
        format!(
            "[backup] recipient = {text:?} is not an age public key ({why}); it starts \
             `age1`, as `age-keygen -y IDENTITY_FILE` prints"
        )
    })
}

/// Whether `path` names an encrypted backup, by its name.
pub fn is_sealed(path: &Path) -> bool {
    path.to_string_lossy().ends_with(SEALED)
}

/// Whether the file at `path` begins as an age file does.
pub fn looks_sealed(path: &Path) -> bool {
    let mut head = [0u8; AGE_MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == AGE_MAGIC)
}

/// The audit file of the backup at `path`, sealed or plain.
pub fn pair_of(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_suffix(SEALED) {
        Some(plain) => {
            let audit = audit_path(Path::new(plain));
            PathBuf::from(format!("{}{SEALED}", audit.display()))
        }
        None => audit_path(path),
    }
}

/// Encrypts `plain` to the configured recipient into `sealed` (private; written, then
/// synced).
pub fn seal(config: &BackupConfig, plain: &Path, sealed: &Path) -> Result<()> {
    let text = config.recipient.as_deref().unwrap_or_default();
    let to = recipient(text).map_err(Error::Invalid)?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&to as &dyn age::Recipient))
        .map_err(|e| Error::Invalid(format!("cannot encrypt to {text}: {e}")))?;
    let mut input = std::fs::File::open(plain).map_err(|e| io("open", plain, e))?;
    let out = crate::data_dir::create_private_file(sealed).map_err(|e| io("create", sealed, e))?;
    let mut writer = encryptor
        .wrap_output(std::io::BufWriter::new(out))
        .map_err(|e| io("encrypt into", sealed, e))?;
    std::io::copy(&mut input, &mut writer).map_err(|e| io("encrypt into", sealed, e))?;
    let buffered = writer.finish().map_err(|e| io("encrypt into", sealed, e))?;
    let file = buffered
        .into_inner()
        .map_err(|e| io("encrypt into", sealed, e.into_error()))?;
    file.sync_all().map_err(|e| io("sync", sealed, e))
}

/// Reads the identities in an age identity file (`AGE-SECRET-KEY-1…` lines).
pub fn identities(file: &Path) -> Result<Vec<Box<dyn age::Identity>>> {
    let unreadable = |why: String| {
        Error::Invalid(format!(
            "{} is not an age identity file ({why}); give the file `age-keygen -o` wrote",
            file.display()
        ))
    };
    let f = std::fs::File::open(file).map_err(|e| io("open", file, e))?;
    let ids = age::IdentityFile::from_buffer(BufReader::new(f))
        .map_err(|e| unreadable(e.to_string()))?
        .into_identities()
        .map_err(|e| unreadable(e.to_string()))?;
    if ids.is_empty() {
        return Err(unreadable("it holds no identity".into()));
    }
    Ok(ids)
}

/// Decrypts `sealed` with `identities` into `plain` (private). A wrong identity, or a file
/// changed after it was written, is refused and nothing is left at `plain`.
pub fn open(sealed: &Path, identities: &[Box<dyn age::Identity>], plain: &Path) -> Result<()> {
    let refused =
        |why: String| Error::Invalid(format!("{} cannot be decrypted: {why}", sealed.display()));
    let input = std::fs::File::open(sealed).map_err(|e| io("open", sealed, e))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(input))
        .map_err(|e| refused(format!("it is not an age file ({e})")))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| refused(format!("{e}; is this the identity of [backup] recipient?")))?;
    let _ = std::fs::remove_file(plain);
    let written = crate::data_dir::create_private_file(plain)
        .map_err(|e| io("create", plain, e))
        .and_then(|mut out| {
            std::io::copy(&mut reader, &mut out)
                .map_err(|e| refused(format!("its contents do not decrypt whole ({e})")))?;
            out.flush().map_err(|e| io("write", plain, e))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(plain);
    }
    written
}

/// Decrypts the sealed pair `sealed` (and its audit file, when there is one) into `plain` and
/// its audit file; returns the files written, for the caller to remove when done.
pub fn open_pair(sealed: &Path, identity: &Path, plain: &Path) -> Result<Vec<PathBuf>> {
    let ids = identities(identity)?;
    open(sealed, &ids, plain)?;
    let mut written = vec![plain.to_path_buf()];
    let sealed_audit = pair_of(sealed);
    if sealed_audit.is_file() {
        let plain_audit = audit_path(plain);
        if let Err(e) = open(&sealed_audit, &ids, &plain_audit) {
            written.iter().for_each(|p| drop(std::fs::remove_file(p)));
            return Err(e);
        }
        written.push(plain_audit);
    }
    Ok(written)
}

/// Copies a finished backup pair into `dir` (the audit file first, as the pair is made):
/// each under a hidden name, synced, then renamed. Returns the copy of `backup`.
pub fn copy_pair(backup: &Path, dir: &Path) -> Result<PathBuf> {
    crate::data_dir::create_private_dir(dir).map_err(|e| io("create", dir, e))?;
    let mut last = PathBuf::new();
    for file in [pair_of(backup), backup.to_path_buf()] {
        if !file.is_file() {
            continue;
        }
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let partial = dir.join(format!(".{name}.partial"));
        let target = dir.join(name.as_ref());
        std::fs::copy(&file, &partial)
            .and_then(|_| crate::data_dir::make_private(&partial))
            .and_then(|_| std::fs::File::open(&partial)?.sync_all())
            .and_then(|()| std::fs::rename(&partial, &target))
            .map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                io("copy a backup to", dir, e)
            })?;
        last = target;
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_backups_pair_as_plain_ones_do() {
        assert_eq!(
            pair_of(Path::new("/b/sharedcare-20260101T023000Z.db.age")),
            Path::new("/b/sharedcare-20260101T023000Z-audit.db.age")
        );
        assert_eq!(
            pair_of(Path::new("/b/sharedcare-20260101T023000Z.db")),
            Path::new("/b/sharedcare-20260101T023000Z-audit.db")
        );
    }

    #[test]
    fn a_recipient_that_is_not_an_age_public_key_is_refused() {
        let c = |r: &str| BackupConfig {
            recipient: Some(r.into()),
            ..Default::default()
        };
        let id = age::x25519::Identity::generate();
        assert!(check(&c(&id.to_public().to_string())).is_ok());
        let why = check(&c("ssh-ed25519 AAAA")).unwrap_err();
        assert!(why.contains("age1"), "{why}");
        let relative = BackupConfig {
            copy_to: Some("offsite".into()),
            ..Default::default()
        };
        assert!(check(&relative).is_err());
    }
}
