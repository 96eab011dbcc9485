//! The audit key: 32 random bytes in `DATA_DIR/audit.key`, readable by the service account only.
//!
//! The key lives outside the database on purpose: whoever can edit the database (a copy of it,
//! a backup, a stray `sqlite3` session) cannot recompute the chain without it. It is made at
//! first need, published atomically (written under a temporary name, then hard-linked into
//! place, which fails if another process got there first), and refused when its permissions
//! are wider than 0600. It is never logged: `Debug` is redacted.

use crate::error::{Error, Result};
use hmac::KeyInit;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub const KEY_FILE: &str = "audit.key";
const KEY_LEN: usize = 32;

pub struct AuditKey {
    /// Keyed once; each MAC starts from a clone, which skips re-deriving the padded key.
    mac: HmacSha256,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

impl AuditKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mac = HmacSha256::new_from_slice(bytes)
            .map_err(|_| Error::Audit("the audit key has an invalid length".into()))?;
        Ok(Self { mac })
    }

    /// A fresh MAC under this key.
    pub fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// Reads `DATA_DIR/audit.key`, making it first when there is none and `may_create` (a
    /// missing key for a log already chained must be restored, not replaced). Returns the key
    /// and whether it was made now.
    pub fn load_or_create(data_dir: &Path, may_create: bool) -> Result<(Self, bool)> {
        let path = data_dir.join(KEY_FILE);
        match read(&path) {
            Ok(key) => Ok((key, false)),
            Err(Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && !may_create =>
            {
                Err(Error::Audit(format!(
                    "{} is missing but the audit trail was chained with it: put the key back \
                     from where it is kept safe; without it the trail cannot be verified or \
                     extended",
                    path.display()
                )))
            }
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let made = create(&path)?;
                Ok((read(&path)?, made))
            }
            Err(e) => Err(e),
        }
    }
}

fn io(doing: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        doing,
        path: path.to_path_buf(),
        source,
    }
}

fn read(path: &Path) -> Result<AuditKey> {
    let mut file = std::fs::File::open(path).map_err(|e| io("open the audit key", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| io("inspect the audit key", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if !meta.is_file() || mode & 0o077 != 0 {
        return Err(Error::Audit(format!(
            "{} has permissions {mode:04o}; the audit key must be readable by its owner only: \
             run `chmod 600 {}` (and ask whether anyone else has read it)",
            path.display(),
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(KEY_LEN);
    Read::by_ref(&mut file)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io("read the audit key", path, e))?;
    if bytes.len() != KEY_LEN {
        return Err(Error::Audit(format!(
            "{} is not an audit key ({} bytes, not {KEY_LEN}); restore it from the key backup — \
             without it the audit trail cannot be verified",
            path.display(),
            bytes.len()
        )));
    }
    AuditKey::from_bytes(&bytes)
}

/// Makes a new key file; false when another process made one first (theirs is kept).
fn create(path: &Path) -> Result<bool> {
    let mut bytes = [0u8; KEY_LEN];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Audit(format!("no randomness available for the audit key: {e}")))?;
    crate::data_dir::create_key_file(path, &bytes).map_err(|e| io("create the audit key", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    #[test]
    fn a_key_is_made_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (a, made) = AuditKey::load_or_create(dir.path(), true).unwrap();
        assert!(made);
        let path = dir.path().join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        let (b, made) = AuditKey::load_or_create(dir.path(), true).unwrap();
        assert!(!made);
        assert_eq!(
            a.mac().chain_update(b"x").finalize().into_bytes(),
            b.mac().chain_update(b"x").finalize().into_bytes()
        );
        assert_eq!(format!("{a:?}"), "AuditKey(<redacted>)");
    }

    #[test]
    fn a_key_others_can_read_or_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        AuditKey::load_or_create(dir.path(), true).unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = AuditKey::load_or_create(dir.path(), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("0640") && e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        let e = AuditKey::load_or_create(dir.path(), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("5 bytes"), "{e}");
        std::fs::remove_file(&path).unwrap();
        let e = AuditKey::load_or_create(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is missing"), "{e}");
        assert!(
            !path.exists(),
            "a missing key for a chained log is not replaced"
        );
    }
}
