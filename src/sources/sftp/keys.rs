//! SSH keys: the server's own host key, made once and kept, and the public keys sources log in
//! with.
//!
//! The host key is what a sending system pins in its `known_hosts`, so it must survive restarts
//! and upgrades: it is an ed25519 key in OpenSSH format at `DATA_DIR/sftp/host_key`, readable by
//! the owner only. Its SHA-256 fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints it) is what
//! an operator reads out to the sender's administrator.

use crate::error::{Error, Result};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::LineEnding;
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use std::path::{Path, PathBuf};

pub fn host_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sftp").join("host_key")
}

/// The host key, generated on first use.
pub fn load_or_create_host_key(data_dir: &Path) -> Result<PrivateKey> {
    let path = host_key_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => PrivateKey::from_openssh(text.as_bytes()).map_err(|e| {
            Error::Invalid(format!(
                "the SFTP host key {} cannot be read ({e}); restore it from a backup, or move it \
                 away to have a new one made (senders will then see a changed host key)",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| Error::Invalid(format!("no randomness for a host key: {e}")))?;
            let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
            let text = key
                .to_openssh(LineEnding::LF)
                .map_err(|e| Error::Invalid(format!("could not encode the host key: {e}")))?;
            write_private(&path, text.as_bytes())?;
            eprintln!("made an SFTP host key in {}", path.display());
            Ok(key)
        }
        Err(source) => Err(Error::Io {
            doing: "read",
            path,
            source,
        }),
    }
}

/// `SHA256:…` of a public key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The host key's fingerprint, or None when no host key has been made yet.
pub fn host_fingerprint(data_dir: &Path) -> Result<Option<String>> {
    if !host_key_path(data_dir).exists() {
        return Ok(None);
    }
    let key = load_or_create_host_key(data_dir)?;
    Ok(Some(fingerprint(key.public_key())))
}

/// An authorised key in the form the store keeps: type and base64 without the comment, plus the
/// fingerprint and the comment apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisedKey {
    pub public_key: String,
    pub fingerprint: String,
    pub comment: String,
}

/// Parses the public keys in an `id_*.pub` or `authorized_keys`-style text; blank and `#` lines
/// are skipped, anything else that is not a key is an error naming its line.
pub fn parse_public_keys(text: &str) -> Result<Vec<AuthorisedKey>> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = PublicKey::from_openssh(line).map_err(|e| {
            Error::Invalid(format!(
                "line {}: not an OpenSSH public key ({e}); give the `.pub` file, e.g. \
                 ~/.ssh/id_ed25519.pub",
                n + 1
            ))
        })?;
        let mut bare = key.clone();
        bare.set_comment("");
        keys.push(AuthorisedKey {
            public_key: bare
                .to_openssh()
                .map_err(|e| Error::Invalid(format!("could not encode a key: {e}")))?,
            fingerprint: fingerprint(&key),
            comment: key.comment().as_str_lossy().to_owned(),
        });
    }
    if keys.is_empty() {
        return Err(Error::Invalid("no public key found in the file".into()));
    }
    Ok(keys)
}

/// Fingerprint and algorithm of a stored key, for listing; a key that no longer parses says so.
pub fn describe(stored: &str) -> (String, String) {
    match PublicKey::from_openssh(stored) {
        Ok(k) => (fingerprint(&k), k.algorithm().to_string()),
        Err(_) => ("(unreadable key)".into(), String::new()),
    }
}

/// Whether `offered` is one of the stored keys (compared as key material, never as text).
pub fn is_authorised(offered: &PublicKey, stored: &[String]) -> bool {
    stored
        .iter()
        .any(|s| PublicKey::from_openssh(s).is_ok_and(|k| k.key_data() == offered.key_data()))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        crate::data_dir::create_private_dir(dir).map_err(|source| Error::Io {
            doing: "create",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    // create_new: two processes starting at once must not both write a key.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .map_err(|source| Error::Io {
            doing: "write",
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_key_is_made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(host_fingerprint(dir.path()).unwrap(), None);
        let a = load_or_create_host_key(dir.path()).unwrap();
        let b = load_or_create_host_key(dir.path()).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(host_key_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let fp = host_fingerprint(dir.path()).unwrap().unwrap();
        assert!(fp.starts_with("SHA256:"), "{fp}");
    }

    #[test]
    fn public_keys_parse_compare_as_material_and_junk_is_named() {
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[7; 32]));
        let mut public = key.public_key().clone();
        public.set_comment("feed@hospital");
        let text = format!("# a comment\n\n{}\n", public.to_openssh().unwrap());
        let parsed = parse_public_keys(&text).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].comment, "feed@hospital");
        assert!(!parsed[0].public_key.contains("feed@hospital"));
        assert!(is_authorised(
            key.public_key(),
            &[parsed[0].public_key.clone()]
        ));
        let other = PrivateKey::from(Ed25519Keypair::from_seed(&[8; 32]));
        assert!(!is_authorised(
            other.public_key(),
            &[parsed[0].public_key.clone()]
        ));
        let err = parse_public_keys("ssh-ed25519 notbase64!").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(parse_public_keys("\n# nothing\n").is_err());
    }
}
