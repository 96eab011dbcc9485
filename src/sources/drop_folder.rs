//! A watched folder: the source's inbox under the data directory, plus an optional folder of
//! the operator's choosing (`source add|edit --drop-folder DIR`).
//!
//! Nothing tells us when another program has finished writing a file into a shared folder, so a
//! file is ready only when two scans, whenever they run and in whichever process, have seen the
//! same size and modification time (the observations live in the database). Folder events
//! (inotify) were left out: a close event also fires for an aborted write, so they could only
//! make a scan happen sooner, and the scheduled scan (`jobs.inbox_scan`, every 10 s by default)
//! already bounds the delay. Symlinks and sub-folders are not followed.
//!
//! A drop folder is a place the server takes files *out of*: every regular file in it is moved
//! into the data directory and its bytes end up on the feed pages. So which folder may be one is
//! not the administrator's choice alone. [`check_drop_folder`] is the one rule, applied when a
//! folder is set (`source add|edit --drop-folder`, the source form) and again before every scan
//! (a folder saved before the rule existed, or a folder swapped for a symlink since, is not
//! scanned): the folder must be a real folder, not a symlink, neither inside the data directory
//! nor holding it, and inside one of the roots the operator listed in `config.toml`
//! (`[feeds] drop_folder_roots`), which only whoever can edit that file can widen. With no roots
//! configured there are no drop folders, only each source's own inbox.

use super::{ignored, regular_files, Claimed, Incoming, Source, Spool};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use chrono::NaiveDate;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Checks that `folder` may be a drop folder under `config`, and returns it canonical (absolute,
/// symlinks resolved): the form it is stored and scanned in. The error says which rule failed
/// and what the operator can do.
pub fn check_drop_folder(folder: &Path, config: &Config) -> Result<PathBuf> {
    let shown = folder.display();
    let refuse = |why: String| Error::Invalid(format!("drop folder {shown}: {why}"));
    let meta = std::fs::symlink_metadata(folder)
        .map_err(|_| refuse("no such folder; create it first".into()))?;
    if meta.file_type().is_symlink() {
        return Err(refuse(
            "is a symbolic link; give the real folder it points to".into(),
        ));
    }
    if !meta.is_dir() {
        return Err(refuse("not a folder".into()));
    }
    let real =
        std::fs::canonicalize(folder).map_err(|e| refuse(format!("cannot be resolved ({e})")))?;
    let data_dir = std::fs::canonicalize(&config.data_dir).map_err(|e| {
        refuse(format!(
            "the data directory {} cannot be resolved ({e})",
            config.data_dir.display()
        ))
    })?;
    if real.starts_with(&data_dir) || data_dir.starts_with(&real) {
        return Err(refuse(format!(
            "is, holds or lies inside the data directory {}; files there belong to sharedcare \
             (its database, keys and spool) and a drop folder's files are moved away: choose a \
             folder outside it",
            data_dir.display()
        )));
    }
    let roots = &config.feeds.drop_folder_roots;
    if roots.is_empty() {
        return Err(refuse(
            "drop folders are off on this server: the operator lists the folders they may be \
             in as [feeds] drop_folder_roots in config.toml"
                .into(),
        ));
    }
    let inside_a_root = roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).ok())
        .any(|root| real.starts_with(root));
    if !inside_a_root {
        let listed: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        return Err(refuse(format!(
            "is outside the folders drop folders may be in ({}); the operator can add a root to \
             [feeds] drop_folder_roots in config.toml",
            listed.join(", ")
        )));
    }
    Ok(real)
}

pub struct DropFolder {
    pub source_id: i64,
    pub spool: Spool,
    /// The extra folder, when the source has one.
    pub extra: Option<PathBuf>,
}

impl DropFolder {
    /// A source's folders as they may be scanned now: its inbox, and its drop folder when that
    /// still passes [`check_drop_folder`]. A refused drop folder is left out, with the reason.
    pub fn for_source(
        config: &Config,
        source_id: i64,
        code: &str,
        stored: Option<&str>,
    ) -> Result<(Self, Option<String>)> {
        let spool = Spool::new(&config.data_dir, code)?;
        let (extra, refused) = match stored {
            None => (None, None),
            Some(folder) => match check_drop_folder(Path::new(folder), config) {
                // The folder as checked now, not as stored: a path whose parts were swapped
                // for symlinks since is resolved again.
                Ok(real) => (Some(real), None),
                Err(e) => (None, Some(format!("{e}; it is not scanned"))),
            },
        };
        Ok((
            Self {
                source_id,
                spool,
                extra,
            },
            refused,
        ))
    }

    pub fn folders(&self) -> Vec<PathBuf> {
        let mut v = vec![self.spool.inbox()];
        v.extend(self.extra.clone());
        v
    }

    /// Files waiting (ready or not), oldest first, with their size.
    pub fn waiting(&self) -> Result<Vec<(String, PathBuf, std::fs::Metadata)>> {
        let mut out = Vec::new();
        for folder in self.folders() {
            for (name, path) in regular_files(&folder)? {
                if ignored(&name) {
                    continue;
                }
                if let Ok(meta) = path.symlink_metadata() {
                    out.push((name, path, meta));
                }
            }
        }
        out.sort_by_key(|(name, _, meta)| (meta.mtime(), meta.mtime_nsec(), name.clone()));
        Ok(out)
    }
}

impl Source for DropFolder {
    fn list_new(&mut self, store: &mut Store, now: &str) -> Result<Vec<Incoming>> {
        super::create_dir(&self.spool.inbox())?;
        let waiting = self.waiting()?;
        let tx = store.begin()?;
        let mut ready = Vec::new();
        let mut keys = Vec::new();
        for (name, path, meta) in waiting {
            let key = path.to_string_lossy().into_owned();
            let mtime_ns = meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec());
            let size = i64::try_from(meta.len()).unwrap_or(i64::MAX);
            if tx.observe_inbox_file(self.source_id, &key, size, mtime_ns, now)? {
                ready.push(Incoming { path, name });
            }
            keys.push(key);
        }
        tx.forget_inbox_files_except(self.source_id, &keys)?;
        tx.commit()?;
        Ok(ready)
    }

    fn claim(&mut self, file: &Incoming) -> Result<Option<Claimed>> {
        self.spool.claim(file)
    }

    fn done(&mut self, file: &Claimed, day: NaiveDate) -> Result<PathBuf> {
        self.spool.done(file, day)
    }

    fn quarantine(&mut self, file: &Claimed, reason: &str) -> Result<PathBuf> {
        self.spool.quarantine(file, reason)
    }
}
