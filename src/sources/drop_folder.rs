//! A watched folder: the source's inbox under the data directory, plus an optional folder of
//! the operator's choosing (`source add|edit --drop-folder DIR`).
//!
//! Nothing tells us when another program has finished writing a file into a shared folder, so a
//! file is ready only when two scans, whenever they run and in whichever process, have seen the
//! same size and modification time (the observations live in the database). Folder events
//! (inotify) were left out: a close event also fires for an aborted write, so they could only
//! make a scan happen sooner, and the scheduled scan (`jobs.inbox_scan`, every 10 s by default)
//! already bounds the delay. Symlinks and sub-folders are not followed.

use super::{ignored, regular_files, Claimed, Incoming, Source, Spool};
use crate::error::Result;
use crate::store::Store;
use chrono::NaiveDate;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

pub struct DropFolder {
    pub source_id: i64,
    pub spool: Spool,
    /// The extra folder, when the source has one.
    pub extra: Option<PathBuf>,
}

impl DropFolder {
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
