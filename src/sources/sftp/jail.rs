//! The jail: what a source's SFTP account can name, and where those names live on disk.
//!
//! Nothing a client sends is ever joined onto a real path as it stands. A client path is
//! resolved lexically against a virtual `/` (`..` stops at `/`, `.` and empty parts vanish) and
//! must then be `/` itself or `/NAME` with one plain file name: there are no subdirectories, so
//! `/etc/passwd`, `../../x` or `sub/x` name nothing. The real file is then
//! `uploads/<SOURCE>/NAME` (still being written, or parked under a temporary name) or
//! `inbox/<SOURCE>/NAME` (complete, handed to the importer), both directories that sharedcare
//! made and that hold only regular files it wrote; anything else found there (a symlink
//! an administrator left) is neither listed nor opened, and files are opened with
//! `O_NOFOLLOW`.
//!
//! Publishing is a hard link into the inbox followed by removing the upload: the name appears in
//! the inbox complete or not at all, and never replaces a file the importer has not taken yet.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// A client path after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Root,
    File(String),
    /// One name, but not a [`safe_name`]: refused with [`UNSAFE_NAME`].
    Unsafe,
    /// Names something outside the jail or below `/`: there is nothing there.
    Nothing,
}

/// The longest name an upload may have.
pub const MAX_NAME: usize = 128;

/// What a client is told when it names a file with anything else.
pub const UNSAFE_NAME: &str = "file names here may use only letters, digits, '.', '-' and '_', \
     must not start with '.' or '-', and are at most 128 characters";

/// A file name that is safe wherever it ends up: in a shell command an operator types, on a
/// terminal, in a listing, on the feed pages. Letters, digits and `.-_` only (so no `*`, no
/// spaces, no control or right-to-left override characters), not starting with `-` (read as an
/// option by `rm` and friends) or `.` (hidden, and `.`/`..`), at most [`MAX_NAME`] characters.
pub fn safe_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && !name.starts_with(['-', '.'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Resolves a client path against the virtual root.
pub fn resolve(path: &str) -> Resolved {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    match parts.as_slice() {
        [] => Resolved::Root,
        [name] if safe_name(name) => Resolved::File((*name).to_owned()),
        [_] => Resolved::Unsafe,
        _ => Resolved::Nothing,
    }
}

/// A name a client uses while a file is incomplete: it stays in the upload area until renamed.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        || [".part", ".tmp", ".filepart"]
            .iter()
            .any(|ext| name.to_ascii_lowercase().ends_with(ext))
}

/// One source's two directories.
#[derive(Debug, Clone)]
pub struct Area {
    pub uploads: PathBuf,
    pub inbox: PathBuf,
}

/// Where a listed file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Uploads,
    Inbox,
}

impl Area {
    pub fn new(data_dir: &std::path::Path, source: &str) -> io::Result<Self> {
        let area = Self {
            uploads: data_dir.join("sftp").join("uploads").join(source),
            inbox: data_dir.join("inbox").join(source),
        };
        crate::data_dir::create_private_dir(&area.uploads)?;
        crate::data_dir::create_private_dir(&area.inbox)?;
        Ok(area)
    }

    pub fn upload_path(&self, name: &str) -> PathBuf {
        self.uploads.join(name)
    }

    /// The regular file called `name`, wherever it is; uploads first.
    pub fn find(&self, name: &str) -> Option<(Place, Metadata)> {
        for (place, dir) in [(Place::Uploads, &self.uploads), (Place::Inbox, &self.inbox)] {
            if let Ok(m) = std::fs::symlink_metadata(dir.join(name)) {
                if m.file_type().is_file() {
                    return Some((place, m));
                }
            }
        }
        None
    }

    /// Every regular file in both directories, by name.
    pub fn list(&self) -> Vec<(String, Metadata)> {
        let mut out = Vec::new();
        for dir in [&self.uploads, &self.inbox] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let (Ok(name), Ok(m)) = (e.file_name().into_string(), e.metadata()) else {
                    continue;
                };
                if m.file_type().is_file() && resolve(&name) == Resolved::File(name.clone()) {
                    out.push((name, m));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Opens an upload for writing, creating or truncating it.
    pub fn create(&self, name: &str, truncate: bool, exclusive: bool) -> io::Result<File> {
        if self.inbox.join(name).exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file of that name is waiting to be imported",
            ));
        }
        let mut o = OpenOptions::new();
        o.write(true).custom_flags(nofollow()).mode(0o600);
        if exclusive {
            o.create_new(true);
        } else {
            o.create(true).truncate(truncate);
        }
        o.open(self.upload_path(name))
    }

    /// Moves a finished upload into the inbox, complete, under `to`; never replaces a file.
    pub fn publish(&self, from: &str, to: &str) -> io::Result<()> {
        let src = self.upload_path(from);
        std::fs::hard_link(&src, self.inbox.join(to))?;
        std::fs::remove_file(src)
    }

    /// Renames within the upload area, never replacing a file.
    pub fn rename_pending(&self, from: &str, to: &str) -> io::Result<()> {
        if self.find(to).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file of that name exists",
            ));
        }
        std::fs::rename(self.upload_path(from), self.upload_path(to))
    }

    /// Bytes of every regular file waiting in both directories: what counts against the
    /// source's quota.
    pub fn waiting_bytes(&self) -> u64 {
        self.list().iter().map(|(_, m)| m.len()).sum()
    }

    /// Removes uploads left unfinished (in the upload area, or under a temporary name in the
    /// inbox) whose last change is older than `cutoff`: what a client that never came back to
    /// rename or close them left. Returns how many were removed.
    pub fn remove_abandoned(&self, cutoff: std::time::SystemTime) -> io::Result<usize> {
        let mut removed = 0;
        for (dir, only_temporary) in [(&self.uploads, false), (&self.inbox, true)] {
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let meta = entry.path().symlink_metadata()?;
                let name = entry.file_name();
                let temporary = name.to_str().is_none_or(is_temporary);
                let old = meta.modified().is_ok_and(|m| m < cutoff);
                if meta.is_file() && old && (temporary || !only_temporary) {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        match self.find(name) {
            Some((Place::Uploads, _)) => std::fs::remove_file(self.upload_path(name)),
            Some((Place::Inbox, _)) => std::fs::remove_file(self.inbox.join(name)),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }
}

fn nofollow() -> i32 {
    libc::O_NOFOLLOW
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_resolves_inside_the_root() {
        assert_eq!(resolve("/"), Resolved::Root);
        assert_eq!(resolve("."), Resolved::Root);
        assert_eq!(resolve(""), Resolved::Root);
        assert_eq!(resolve("/../.."), Resolved::Root);
        assert_eq!(resolve("a.hl7"), Resolved::File("a.hl7".into()));
        assert_eq!(resolve("/x/../a.hl7"), Resolved::File("a.hl7".into()));
        assert_eq!(resolve("../../etc/passwd"), Resolved::Nothing);
        assert_eq!(resolve("/etc/passwd"), Resolved::Nothing);
        assert_eq!(resolve("/../../a.hl7"), Resolved::File("a.hl7".into()));
        for unsafe_name in [
            "a\\b",
            "a\nb",
            "*",
            "-rf",
            ".hidden",
            "x\u{202e}lmth.exe",
            "a b",
        ] {
            assert_eq!(resolve(unsafe_name), Resolved::Unsafe, "{unsafe_name:?}");
        }
        assert_eq!(
            resolve(&"a".repeat(MAX_NAME)),
            Resolved::File("a".repeat(MAX_NAME))
        );
        assert_eq!(resolve(&"a".repeat(MAX_NAME + 1)), Resolved::Unsafe);
    }

    #[test]
    fn temporary_names_are_recognised() {
        assert!(is_temporary("x.part"));
        assert!(is_temporary("X.TMP"));
        assert!(is_temporary(".x.hl7"));
        assert!(!is_temporary("x.hl7"));
    }

    #[test]
    fn publishing_never_replaces_and_symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let area = Area::new(dir.path(), "SRC").unwrap();
        std::fs::write(area.upload_path("a.hl7"), "one").unwrap();
        area.publish("a.hl7", "a.hl7").unwrap();
        assert_eq!(
            std::fs::read_to_string(area.inbox.join("a.hl7")).unwrap(),
            "one"
        );
        assert!(area.create("a.hl7", true, false).is_err());
        std::fs::write(area.upload_path("b.hl7"), "two").unwrap();
        assert!(area.publish("b.hl7", "a.hl7").is_err());
        assert_eq!(
            std::fs::read_to_string(area.inbox.join("a.hl7")).unwrap(),
            "one"
        );
        std::os::unix::fs::symlink("/etc/passwd", area.upload_path("evil")).unwrap();
        assert!(area.find("evil").is_none());
        assert!(area.create("evil", true, false).is_err());
        assert!(area.list().iter().all(|(n, _)| n != "evil"));
    }
}
