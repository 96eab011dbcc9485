//! Backups and restore.
//!
//! A backup uses SQLite's online backup API, so the server keeps serving and importing while it
//! runs. The copy is written under a hidden name, opened and `integrity_check`ed, and only then
//! renamed to `DATA_DIR/backups/sharedcare-<UTC timestamp>.db`; the newest
//! `feeds.backups_keep` are kept.
//!
//! A restore trusts nothing it is given: the file is copied beside the database, and the copy
//! must be a sharedcare database of a version this binary reads and pass `integrity_check`.
//! Then, holding the live database exclusively (which fails while a server has it open), the
//! old database is kept as `sharedcare.db.before-restore` and the copy renamed over it.

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sources::{create_dir, io};
use crate::store::backup::{check_database_file, ExclusiveHold};
use crate::store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub integrity: &'static str,
    pub removed: Vec<PathBuf>,
}

pub fn backup(config: &Config, store: &Store, clock: &dyn Clock) -> Result<BackupReport> {
    let dir = config.data_dir.join("backups");
    create_dir(&dir)?;
    let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut path = dir.join(format!("sharedcare-{stamp}.db"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("sharedcare-{stamp}-{n}.db"));
        n += 1;
    }
    let partial = dir.join(format!(".sharedcare-{stamp}.db.partial"));
    let _ = std::fs::remove_file(&partial);
    store.backup_to(&partial)?;
    // SQLite creates the copy by the process's umask; a backup is the whole record.
    crate::data_dir::make_private(&partial).map_err(|e| io("make private", &partial, e))?;
    if let Err(e) = check_database_file(&partial) {
        // Kept for inspection, under a name that is never rotated into use.
        let failed = dir.join(format!(".sharedcare-{stamp}.db.failed"));
        let _ = std::fs::rename(&partial, &failed);
        return Err(e);
    }
    std::fs::rename(&partial, &path).map_err(|e| io("rename", &partial, e))?;
    let bytes = path.metadata().map(|m| m.len()).unwrap_or(0);
    let removed = rotate(&dir, config.feeds.backups_keep.max(1))?;
    Ok(BackupReport {
        path,
        bytes,
        integrity: "ok",
        removed,
    })
}

/// Deletes all but the newest `keep` backups (the names sort by time).
fn rotate(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io("list", dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy())
                .is_some_and(|n| n.starts_with("sharedcare-") && n.ends_with(".db"))
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let old: Vec<PathBuf> = backups.into_iter().take(excess).collect();
    for p in &old {
        std::fs::remove_file(p).map_err(|e| io("remove", p, e))?;
    }
    Ok(old)
}

#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub restored_from: PathBuf,
    pub schema_version: i64,
    pub previous: Option<PathBuf>,
}

/// Restores `file`; `actor` is who asked, for the audit trail.
pub fn restore(
    config: &Config,
    file: &Path,
    actor: &crate::audit::Actor,
    clock: &dyn Clock,
) -> Result<RestoreReport> {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    restore_described(config, file, &format!("backup {name}"), actor, clock)
}

/// Restores `file`, which the audit trail calls `described` ("backup NAME", "replica URL").
pub fn restore_described(
    config: &Config,
    file: &Path,
    described: &str,
    actor: &crate::audit::Actor,
    clock: &dyn Clock,
) -> Result<RestoreReport> {
    let db = config.database_path();
    if !file.is_file() {
        return Err(Error::Invalid(format!(
            "{} is not a file; give a backup from {}",
            file.display(),
            config.data_dir.join("backups").display()
        )));
    }
    let staged = PathBuf::from(format!("{}.restore-tmp", db.display()));
    let _ = std::fs::remove_file(&staged);
    // A copy takes the permissions of what it copies; the backup may have been readable.
    std::fs::copy(file, &staged)
        .and_then(|_| crate::data_dir::make_private(&staged))
        .map_err(|e| io("copy", file, e))?;
    let checked = check_database_file(&staged).map_err(|e| match e {
        Error::Invalid(why) => {
            Error::Invalid(why.replace(&staged.display().to_string(), &file.display().to_string()))
        }
        other => other,
    });
    let schema_version = match checked {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    let mut previous = None;
    let hold = if db.exists() {
        let hold = match ExclusiveHold::take(&db) {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(e);
            }
        };
        let before = PathBuf::from(format!("{}.before-restore", db.display()));
        std::fs::copy(&db, &before)
            .and_then(|_| crate::data_dir::make_private(&before))
            .map_err(|e| io("keep a copy of", &db, e))?;
        previous = Some(before);
        Some(hold)
    } else {
        None
    };
    std::fs::File::open(&staged)
        .and_then(|f| f.sync_all())
        .and_then(|()| std::fs::rename(&staged, &db))
        .map_err(|e| io("put in place", &staged, e))?;
    if let Some(hold) = hold {
        hold.release();
    }
    // The old database's shared-memory index must not be read against the new file.
    for file in &crate::store::database_files(&db)[1..] {
        let _ = std::fs::remove_file(file);
    }
    // Opening migrates an older backup forward and returns the database to WAL mode. The
    // backup's audit log ends before the head the live one reached: the restore is recorded
    // and the head moved to it, or every later audit write would refuse (see audit).
    let mut store = crate::audit::open_store(config)?;
    crate::audit::reanchor(
        &mut store,
        actor,
        crate::audit::Action::Restore,
        None,
        &format!("database restored from {described}"),
        &clock.now_text(),
    )?;
    Ok(RestoreReport {
        restored_from: file.to_path_buf(),
        schema_version,
        previous,
    })
}
