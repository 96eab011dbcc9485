//! The data directory is private to the service: every file in it 0600, every folder 0700.
//!
//! It holds the database (every record and the password hashes), its write-ahead log and
//! shared-memory index, backups, the audit key and head, the TLS and SFTP host keys and feed
//! files full of patient data. Three layers keep it private, because each alone has a gap:
//!
//! - the process's umask is 0o077 from the first line of `main` ([`restrict_umask`]), so what
//!   other code creates (SQLite makes `-wal` and `-shm` itself; Rocket, russh) is private too;
//! - what sharedcare creates itself is created with an explicit mode ([`create_private_dir`],
//!   [`create_private_file`]), so a library user or a test that never called `main` gets the
//!   same;
//! - what an older version (or an operator's `cp`) left readable is tightened when the data
//!   directory is opened ([`tighten`]: the top level on every command, the whole tree when the
//!   server starts) — except private keys. A TLS key or SFTP host key that others may read has
//!   perhaps been read already: start refuses it ([`refuse_readable_keys`]) and says to run
//!   `chmod 600`, so the operator decides whether to replace it. (`audit.key` is refused the
//!   same way by `audit::key`.)
//!
//! Symlinks are never followed: a link in the data directory is left as it is, and its target is
//! not chmod-ed.

use crate::config::Config;
use crate::error::{Error, Result};
use std::fs::Permissions;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

/// Sets the process's file-creation mask to 0o077: nothing this process creates afterwards is
/// readable by group or others, whoever creates it. Returns the mask it replaced.
pub fn restrict_umask() -> u32 {
    use rustix::fs::Mode;
    rustix::process::umask(Mode::from_raw_mode(0o077)).bits()
}

/// Creates `dir` and any missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Creates or truncates `path` with mode 0600, never through a symlink.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Writes `bytes` to a new or truncated 0600 file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    create_private_file(path)?.write_all(bytes)
}

/// Writes a new key file: `bytes` under a temporary name, private (0600) and synced, then
/// linked into place, so no reader sees half a key. False when another process made the file
/// first (theirs is kept).
pub fn create_key_file(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Narrows one file to 0600 or one folder to 0700 when group or others have any access; a
/// symlink, or a path that is not there, is left alone. Returns whether it changed anything.
pub fn make_private(path: &Path) -> std::io::Result<bool> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let kind = meta.file_type();
    let wanted = if kind.is_dir() {
        DIR_MODE
    } else if kind.is_file() {
        FILE_MODE
    } else {
        return Ok(false);
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    std::fs::set_permissions(path, Permissions::from_mode(wanted))?;
    Ok(true)
}

/// Narrows what is readable by others in the data directory: the directory itself and what is
/// directly in it, or (`whole_tree`) everything below it, except `keys` (a readable key is
/// refused, never quietly narrowed). Returns how many were narrowed.
pub fn tighten(data_dir: &Path, whole_tree: bool, keys: &[PathBuf]) -> Result<usize> {
    let io = |path: &Path, source| Error::Io {
        doing: "make private",
        path: path.to_path_buf(),
        source,
    };
    let mut changed = usize::from(make_private(data_dir).map_err(|e| io(data_dir, e))?);
    let mut folders = vec![data_dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&folder, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| io(&folder, e))?.path();
            if keys.contains(&path) {
                continue;
            }
            changed += usize::from(make_private(&path).map_err(|e| io(&path, e))?);
            let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if whole_tree && is_dir {
                folders.push(path);
            }
        }
    }
    Ok(changed)
}

/// The private keys the server presents, where they are (whether or not they exist yet).
pub fn private_keys(config: &Config) -> Vec<(&'static str, PathBuf)> {
    let tls = match (&config.web.tls_cert, &config.web.tls_key) {
        (Some(_), Some(key)) => key.clone(),
        _ => config.data_dir.join("tls").join("key.pem"),
    };
    vec![
        ("TLS key", tls),
        (
            "SFTP host key",
            crate::sources::sftp::keys::host_key_path(&config.data_dir),
        ),
        (
            "OpenID Connect client key",
            crate::citizen::oidc::key::key_path(&config.data_dir),
        ),
    ]
}

/// Refuses to go on when a private key that exists may be read by its group or by others: it
/// may have been read already, and only the operator can decide whether to replace it.
pub fn refuse_readable_keys(config: &Config) -> Result<()> {
    for (what, path) in private_keys(config) {
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(Error::Io {
                    doing: "inspect",
                    path,
                    source,
                })
            }
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::Invalid(format!(
                "the {what} {} has permissions {mode:04o}: its group or other users may read \
                 it, and a private key must be readable by its owner only. Run `chmod 600 {}` \
                 (and consider replacing the key if anyone else may have read it)",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

/// What every command does before it uses the data directory: make it (0700) when it is not
/// there, refuse readable keys, and narrow what an older version left readable (the whole tree
/// when `whole_tree`, as the server does once at start).
pub fn open(config: &Config, whole_tree: bool) -> Result<()> {
    create_private_dir(&config.data_dir).map_err(|source| Error::Io {
        doing: "create the data directory",
        path: config.data_dir.clone(),
        source,
    })?;
    refuse_readable_keys(config)?;
    // The audit key is refused by `audit::key` when readable, with its own exit code.
    let mut keys: Vec<PathBuf> = private_keys(config).into_iter().map(|(_, p)| p).collect();
    keys.push(config.data_dir.join(crate::audit::key::KEY_FILE));
    let changed = tighten(&config.data_dir, whole_tree, &keys)?;
    if changed > 0 {
        log::warn!(
            "{changed} files or folders in {} were readable by other users; now private \
             (0600/0700)",
            config.data_dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn tighten_narrows_files_and_folders_and_leaves_links_and_their_targets() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("done/SRC")).unwrap();
        std::fs::set_permissions(&data, Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(data.join("done"), Permissions::from_mode(0o755)).unwrap();
        std::fs::write(data.join("done/SRC/a.hl7"), "x").unwrap();
        std::fs::set_permissions(data.join("done/SRC/a.hl7"), Permissions::from_mode(0o644))
            .unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "y").unwrap();
        std::fs::set_permissions(&outside, Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, data.join("link")).unwrap();
        assert!(tighten(&data, false, &[]).unwrap() >= 2);
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("done")), 0o700);
        assert_eq!(
            mode(&data.join("done/SRC/a.hl7")),
            0o644,
            "not below the top"
        );
        tighten(&data, true, &[]).unwrap();
        assert_eq!(mode(&data.join("done/SRC/a.hl7")), 0o600);
        assert_eq!(mode(&outside), 0o644, "a link's target is not touched");
        assert_eq!(tighten(&data, true, &[]).unwrap(), 0);
    }

    #[test]
    fn private_files_and_folders_are_made_private_whatever_the_mask() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b/c");
        create_private_dir(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        write_private(&nested.join("f"), b"z").unwrap();
        assert_eq!(mode(&nested.join("f")), 0o600);
    }
}
