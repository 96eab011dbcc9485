//! The key that citizens' TOTP secrets are sealed with at rest: 32 random bytes in
//! `DATA_DIR/citizen-secrets.key`, readable by the service account only, kept outside the
//! database as the audit key is (a copy of the database, a backup or a stray `sqlite3` session
//! must not hand out every citizen's second factor).
//!
//! A secret is sealed with ChaCha20-Poly1305 under a fresh random nonce, the account's person
//! id as associated data (a sealed secret copied onto another account does not open), and
//! stored as `sealed1:` + base64 of nonce and ciphertext. Base32 (what a plain secret is) has
//! no lower case or colon, so a plain secret from before sealing is told apart by its text.
//!
//! The key is made at first need, published atomically (temporary name, then a hard link that
//! fails if another process got there first), and refused when others may read it. A missing
//! key is made only while no sealed secret exists: one that sealed secrets must be restored,
//! not replaced.

use crate::error::{Error, Result};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub const KEY_FILE: &str = "citizen-secrets.key";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const SEALED: &str = "sealed1:";

pub struct SecretKey {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Whether `stored` is a sealed secret (not a plain one from before sealing).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

fn aad(person_id: i64) -> String {
    format!("sharedcare citizen totp, person {person_id}")
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let cipher = ChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| Error::Invalid("the citizens' secret key has an invalid length".into()))?;
        Ok(Self { cipher })
    }

    /// A key that lives only as long as this process (an in-memory database's).
    pub fn ephemeral() -> Result<Self> {
        Self::from_bytes(&random::<KEY_LEN>()?)
    }

    /// `plain` sealed for the account of `person_id`.
    pub fn seal(&self, plain: &str, person_id: i64) -> Result<String> {
        let nonce = random::<NONCE_LEN>()?;
        let aad = aad(person_id);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: aad.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| Error::Invalid("sealing a citizen's secret failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// The plain secret of a sealed one; one that this key did not seal for this person (or
    /// that is not sealed at all) is an error, never a guess.
    pub fn open(&self, stored: &str, person_id: i64) -> Result<String> {
        let refused = || {
            Error::Invalid(format!(
                "a citizen's second-factor secret does not open with {KEY_FILE}: is this data \
                 directory's key the one it was sealed with? (restore the key from where it is \
                 kept safe; the citizen can otherwise be given a new invitation code)"
            ))
        };
        let text = stored.strip_prefix(SEALED).ok_or_else(refused)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| refused())?;
        if bytes.len() <= NONCE_LEN {
            return Err(refused());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let aad = aad(person_id);
        let payload = Payload {
            msg: sealed,
            aad: aad.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| refused())?;
        String::from_utf8(plain).map_err(|_| refused())
    }

    /// Reads `DATA_DIR/citizen-secrets.key`, making it first when there is none and
    /// `may_create` (false while sealed secrets exist: their key must be restored).
    pub fn load_or_create(data_dir: &Path, may_create: bool) -> Result<Self> {
        let path = data_dir.join(KEY_FILE);
        match read(&path) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                if !may_create {
                    return Err(Error::Invalid(format!(
                        "{} is missing but citizens' second-factor secrets were sealed with it: \
                         put the key back from where it is kept safe (mode 0600); without it no \
                         citizen can sign in",
                        path.display()
                    )));
                }
                create(&path)?;
                read(&path)
            }
            other => other,
        }
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("no randomness available: {e}")))?;
    Ok(bytes)
}

fn io(doing: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        doing,
        path: path.to_path_buf(),
        source,
    }
}

fn read(path: &Path) -> Result<SecretKey> {
    let mut file =
        std::fs::File::open(path).map_err(|e| io("open the citizens' secret key", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| io("inspect the citizens' secret key", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if !meta.is_file() || mode & 0o077 != 0 {
        return Err(Error::Invalid(format!(
            "{} has permissions {mode:04o}; the citizens' secret key must be readable by its \
             owner only: run `chmod 600 {}` (and ask whether anyone else has read it)",
            path.display(),
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(KEY_LEN);
    Read::by_ref(&mut file)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io("read the citizens' secret key", path, e))?;
    if bytes.len() != KEY_LEN {
        return Err(Error::Invalid(format!(
            "{} is not a key ({} bytes, not {KEY_LEN}); restore it from where it is kept safe",
            path.display(),
            bytes.len()
        )));
    }
    SecretKey::from_bytes(&bytes)
}

/// Makes a new key file; another process's key, made first, is kept.
fn create(path: &Path) -> Result<()> {
    let bytes = random::<KEY_LEN>()?;
    crate::data_dir::create_key_file(path, &bytes)
        .map(|_| ())
        .map_err(|e| io("create the citizens' secret key", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_sealed_under_a_fresh_nonce_and_opens_only_for_its_person_and_key() {
        let key = SecretKey::from_bytes(&[7; 32]).unwrap();
        let plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let a = key.seal(plain, 41).unwrap();
        let b = key.seal(plain, 41).unwrap();
        assert!(is_sealed(&a) && a != b, "a fresh nonce each time");
        assert!(!a.contains(plain));
        assert_eq!(key.open(&a, 41).unwrap(), plain);
        assert!(key.open(&a, 42).is_err(), "bound to its person");
        let other = SecretKey::from_bytes(&[8; 32]).unwrap();
        assert!(other.open(&a, 41).is_err(), "bound to its key");
        let mut flipped = a.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert!(key.open(&String::from_utf8(flipped).unwrap(), 41).is_err());
        assert!(
            key.open(plain, 41).is_err(),
            "a plain one is not taken as sealed"
        );
        assert!(!is_sealed(plain));
    }

    #[test]
    fn the_key_is_made_once_0600_and_not_replaced_while_secrets_need_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let missing = SecretKey::load_or_create(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("is missing"), "{missing}");
        assert!(!path.exists());
        let a = SecretKey::load_or_create(dir.path(), true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = SecretKey::load_or_create(dir.path(), true).unwrap();
        assert_eq!(b.open(&a.seal("ABC", 1).unwrap(), 1).unwrap(), "ABC");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wide = SecretKey::load_or_create(dir.path(), true)
            .unwrap_err()
            .to_string();
        assert!(
            wide.contains("0644") && wide.contains("chmod 600"),
            "{wide}"
        );
        assert_eq!(format!("{a:?}"), "SecretKey(<redacted>)");
    }
}
