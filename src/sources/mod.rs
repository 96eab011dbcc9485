//! Where feed files come from, and the one path every file takes through the data directory.
//!
//! ```text
//! DATA_DIR/inbox/<SOURCE>/          files arrive here (drop folder; SFTP uploads land here too)
//! DATA_DIR/processing/<SOURCE>/     claimed by an atomic rename; being imported
//! DATA_DIR/done/<SOURCE>/<date>/    imported (or a re-delivery); kept for a retention period
//! DATA_DIR/quarantine/<SOURCE>/     the whole file failed; `<name>.reason` says why
//! ```
//!
//! Every kind of source implements [`Source`]: list the files ready to import, claim one, and
//! after the import has committed, mark it done or quarantine it with a reason. The claim is a
//! rename, so two scanners (the server's scheduler and a `sharedcare scan` by hand) never
//! import the same file twice at once, and a file is never deleted on error: at worst it stays
//! in `processing/`, where the next scan resumes it first (the importer continues after its last
//! committed unit, and recognises a file it already finished by its SHA-256).
//!
//! The hand-over point for pushed files is the inbox folder: a receiver (the embedded SFTP
//! server) writes under a temporary name (a dot-file, `*.part` or `*.tmp`, all ignored here)
//! and renames the file into `inbox/<SOURCE>/` only once the upload is closed, so anything
//! that appears there under its final name is complete. Drop folders written by other programs
//! get no such promise, so [`drop_folder`] also waits until a file's size and modification
//! time have stayed the same across two scans.

pub mod accounts;
pub mod cadence;
pub mod drop_folder;
pub mod mllp;
pub mod quarantine;
pub mod settings;
pub mod sftp;

use crate::error::{Error, Result};
use crate::store::Store;
use chrono::NaiveDate;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// A file ready to be claimed.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub path: PathBuf,
    pub name: String,
}

/// A file claimed into `processing/`.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub path: PathBuf,
    pub name: String,
}

/// The one small trait every kind of source implements.
pub trait Source {
    /// Files ready to import, in arrival order. `now` is for the store's records.
    fn list_new(&mut self, store: &mut Store, now: &str) -> Result<Vec<Incoming>>;
    /// Takes a file for import; `None` when another scanner took it first.
    fn claim(&mut self, file: &Incoming) -> Result<Option<Claimed>>;
    /// The import committed: move the file to `done/<day>/`.
    fn done(&mut self, file: &Claimed, day: NaiveDate) -> Result<PathBuf>;
    /// The whole file failed: move it to `quarantine/` beside a `.reason` file.
    fn quarantine(&mut self, file: &Claimed, reason: &str) -> Result<PathBuf>;
}

/// The per-source folders under the data directory.
#[derive(Debug, Clone)]
pub struct Spool {
    data_dir: PathBuf,
    code: String,
}

impl Spool {
    /// Refuses a code that could name a path outside its folders.
    pub fn new(data_dir: &Path, code: &str) -> Result<Self> {
        let safe = !code.is_empty()
            && !code.starts_with('.')
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !safe {
            return Err(Error::Invalid(format!(
                "source code {code:?} cannot name a folder: use letters, digits, - _ and ."
            )));
        }
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            code: code.to_owned(),
        })
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    fn dir(&self, stage: &str) -> PathBuf {
        self.data_dir.join(stage).join(&self.code)
    }

    pub fn inbox(&self) -> PathBuf {
        self.dir("inbox")
    }

    pub fn processing(&self) -> PathBuf {
        self.dir("processing")
    }

    pub fn done_root(&self) -> PathBuf {
        self.dir("done")
    }

    pub fn quarantine_dir(&self) -> PathBuf {
        self.dir("quarantine")
    }

    /// Files a stopped import left in `processing/`, oldest first: they go before new ones.
    pub fn leftovers(&self) -> Result<Vec<Claimed>> {
        Ok(regular_files(&self.processing())?
            .into_iter()
            .filter(|(name, _)| !ignored(name))
            .map(|(name, path)| Claimed { path, name })
            .collect())
    }

    /// Renames a waiting file into `processing/`.
    pub fn claim(&self, file: &Incoming) -> Result<Option<Claimed>> {
        let dir = self.processing();
        create_dir(&dir)?;
        let target = free_name(&dir, &file.name);
        match std::fs::rename(&file.path, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            // A drop folder on another file system: copy under a hidden name, then rename.
            Err(e) if e.kind() == ErrorKind::CrossesDevices => {
                let hidden = dir.join(format!(".{}.claiming", file.name));
                open_regular(&file.path)
                    .and_then(|mut from| {
                        let mut to = crate::data_dir::create_private_file(&hidden)?;
                        std::io::copy(&mut from, &mut to)?;
                        to.sync_all()
                    })
                    .and_then(|()| std::fs::rename(&hidden, &target))
                    .and_then(|()| std::fs::remove_file(&file.path))
                    .map_err(|source| io("claim", &file.path, source))?;
            }
            Err(source) => return Err(io("claim", &file.path, source)),
        }
        // Another program may have dropped it readable by all; in the data directory it is
        // private. (A link is left as it is: the import refuses to read through it.)
        crate::data_dir::make_private(&target).map_err(|s| io("claim", &target, s))?;
        Ok(Some(Claimed {
            name: file_name(&target),
            path: target,
        }))
    }

    pub fn done(&self, file: &Claimed, day: NaiveDate) -> Result<PathBuf> {
        let dir = self.done_root().join(day.format("%Y-%m-%d").to_string());
        create_dir(&dir)?;
        let target = free_name(&dir, &file.name);
        std::fs::rename(&file.path, &target).map_err(|s| io("move to done", &file.path, s))?;
        Ok(target)
    }

    pub fn quarantine(&self, file: &Claimed, reason: &str) -> Result<PathBuf> {
        let dir = self.quarantine_dir();
        create_dir(&dir)?;
        let target = free_name(&dir, &file.name);
        // The reason first: a file in quarantine/ always has one.
        let reason_path = reason_path(&target);
        crate::data_dir::write_private(&reason_path, format!("{reason}\n").as_bytes())
            .map_err(|s| io("write", &reason_path, s))?;
        std::fs::rename(&file.path, &target).map_err(|s| io("quarantine", &file.path, s))?;
        Ok(target)
    }

    /// Quarantined files with their reasons, oldest first.
    pub fn quarantined(&self) -> Result<Vec<(String, String)>> {
        Ok(regular_files(&self.quarantine_dir())?
            .into_iter()
            .filter(|(name, _)| !name.ends_with(".reason") && !name.starts_with('.'))
            .map(|(name, path)| {
                let reason = std::fs::read_to_string(reason_path(&path))
                    .map(|r| r.trim().to_owned())
                    .unwrap_or_else(|_| "(no reason recorded)".into());
                (name, reason)
            })
            .collect())
    }
}

/// Opens a file for reading only if it is a regular file: a symlink is not followed, and a
/// FIFO or device (which could block a read forever or never end) is refused, whatever was
/// listed a moment before under that name.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(std::io::Error::new(
            ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Reads a claimed file whole, refusing anything but a regular file (see [`open_regular`]).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Temporary names a writer uses before the file is complete.
pub fn ignored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || lower.ends_with(".part") || lower.ends_with(".tmp")
}

fn reason_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".reason");
    PathBuf::from(s)
}

/// `name`, or `name~2`, `name~3`… when a file of that name is already there.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let mut candidate = dir.join(name);
    let mut n = 2;
    while candidate.exists() || reason_path(&candidate).exists() {
        candidate = dir.join(format!("{name}~{n}"));
        n += 1;
    }
    candidate
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Creates a folder of the data directory (and its missing parents), private: 0700.
pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    crate::data_dir::create_private_dir(dir).map_err(|s| io("create", dir, s))
}

pub(crate) fn io(doing: &'static str, path: &Path, source: std::io::Error) -> Error {
    crate::error::io_error(doing, path, source)
}

/// Regular files (not symlinks, not folders) in `dir`, oldest modification first; a missing
/// folder has none.
pub(crate) fn regular_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(s) => return Err(io("list", dir, s)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|s| io("list", dir, s))?;
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.file_type().is_file() {
            let modified = meta.modified().ok();
            files.push((
                modified,
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, n, p)| (n, p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_is_read_never_a_link_or_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.hl7");
        std::fs::write(&file, b"MSH|").unwrap();
        assert_eq!(read_regular(&file).unwrap(), b"MSH|");
        let link = dir.path().join("link.hl7");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let e = read_regular(&link).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
        let fifo = dir.path().join("pipe.hl7");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        // Refused at once: opening a FIFO without a writer must not block the scan.
        let e = read_regular(&fifo).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
}
