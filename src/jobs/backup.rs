//! Backups and restore.
//!
//! A backup uses SQLite's online backup API, so the server keeps serving and importing while it
//! runs. The copy is written under a hidden name, opened and `integrity_check`ed, and only then
//! renamed to `DATA_DIR/backups/sharedcare-<UTC timestamp>.db`; the newest
//! `feeds.backups_keep` are kept. The audit file is copied the same way, after the database,
//! to `sharedcare-<UTC timestamp>-audit.db` beside it: taken after, it holds the event of every
//! change the database copy holds (events still in the copy's outbox are either moved already,
//! which the audit file's outbox mark says, or moved when the restored pair is first opened).
//!
//! A restore trusts nothing it is given: the file is copied beside the database, and the copy
//! must be a sharedcare database of a version this binary reads and pass `integrity_check`.
//! Then, holding the live database exclusively (which fails while a server has it open), the
//! old database is kept as `sharedcare.db.before-restore` and the copy renamed over it; the
//! audit file likewise, from the backup's pair (a backup from before the audit file has none:
//! its events are inside it, and move into a new audit file when it is first opened).

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sources::{create_dir, io};
use crate::store::audit_file::{audit_path, check_audit_file};
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
    let audit_partial = dir.join(format!(".sharedcare-{stamp}-audit.db.partial"));
    let _ = std::fs::remove_file(&partial);
    let _ = std::fs::remove_file(&audit_partial);
    // The database first, then the audit file: see the module's note.
    store.backup_to(&partial)?;
    store.backup_audit_to(&audit_partial)?;
    for p in [&partial, &audit_partial] {
        // SQLite creates the copy by the process's umask; a backup is the whole record.
        crate::data_dir::make_private(p).map_err(|e| io("make private", p, e))?;
    }
    let checked = check_database_file(&partial).and_then(|_| check_audit_file(&audit_partial));
    if let Err(e) = checked {
        // Kept for inspection, under names that are never rotated into use.
        let _ = std::fs::rename(&partial, dir.join(format!(".sharedcare-{stamp}.db.failed")));
        let _ = std::fs::rename(
            &audit_partial,
            dir.join(format!(".sharedcare-{stamp}-audit.db.failed")),
        );
        return Err(e);
    }
    // The audit file first: a backup that shows is always whole.
    let audit_path = crate::store::audit_file::audit_path(&path);
    std::fs::rename(&audit_partial, &audit_path).map_err(|e| io("rename", &audit_partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| io("rename", &partial, e))?;
    let bytes = [&path, &audit_path]
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum();
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
            p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| {
                n.starts_with("sharedcare-") && n.ends_with(".db") && !n.ends_with("-audit.db")
            })
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let old: Vec<PathBuf> = backups.into_iter().take(excess).collect();
    for p in &old {
        std::fs::remove_file(p).map_err(|e| io("remove", p, e))?;
        let audit = crate::store::audit_file::audit_path(p);
        match std::fs::remove_file(&audit) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("remove", &audit, e))
            }
            _ => {}
        }
    }
    Ok(old)
}

#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub restored_from: PathBuf,
    pub schema_version: i64,
    pub previous: Option<PathBuf>,
}

/// Restores `file` (and the audit file beside it); `actor` is who asked, for the audit trail.
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
    let audit = audit_path(&db);
    if !file.is_file() {
        return Err(Error::Invalid(format!(
            "{} is not a file; give a backup from {}",
            file.display(),
            config.data_dir.join("backups").display()
        )));
    }
    let staged = PathBuf::from(format!("{}.restore-tmp", db.display()));
    let schema_version = stage(file, &staged, check_database_file)?;
    // From the version that keeps the audit trail in its own file, a backup is a pair.
    let pair = audit_path(file);
    let audit_staged = PathBuf::from(format!("{}.restore-tmp", audit.display()));
    let with_pair = schema_version >= crate::store::AUDIT_SPLIT_VERSION;
    if with_pair {
        let staged_pair = match pair.is_file() {
            true => stage(&pair, &audit_staged, check_audit_file),
            false => Err(Error::Invalid(format!(
                "{} has no audit file beside it ({}); a backup is the pair of files `sharedcare \
                 backup` wrote",
                file.display(),
                pair.display()
            ))),
        };
        if let Err(e) = staged_pair {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    }
    let unstage = || {
        let _ = std::fs::remove_file(&staged);
        let _ = std::fs::remove_file(&audit_staged);
    };
    let mut holds = Vec::new();
    let mut previous = None;
    for live in [&db, &audit] {
        if !live.exists() {
            continue;
        }
        let hold = match ExclusiveHold::take(live) {
            Ok(h) => h,
            Err(e) => {
                unstage();
                holds.into_iter().for_each(ExclusiveHold::release);
                return Err(e);
            }
        };
        holds.push(hold);
        let before = PathBuf::from(format!("{}.before-restore", live.display()));
        std::fs::copy(live, &before)
            .and_then(|_| crate::data_dir::make_private(&before))
            .map_err(|e| io("keep a copy of", live, e))?;
        if live == &db {
            previous = Some(before);
        }
    }
    put_in_place(&staged, &db)?;
    if with_pair {
        put_in_place(&audit_staged, &audit)?;
    } else if audit.exists() {
        // Kept as before-restore above; the backup's own events make the new one.
        std::fs::remove_file(&audit).map_err(|e| io("set aside", &audit, e))?;
    }
    holds.into_iter().for_each(ExclusiveHold::release);
    // The old files' shared-memory indexes must not be read against the new ones.
    for live in [&db, &audit] {
        for file in &crate::store::database_files(live)[1..] {
            let _ = std::fs::remove_file(file);
        }
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

/// Copies `from` to `staged` (private), and checks the copy; the copy is removed when the check
/// fails, and the error names `from`.
fn stage<T>(from: &Path, staged: &Path, check: impl Fn(&Path) -> Result<T>) -> Result<T> {
    let _ = std::fs::remove_file(staged);
    // A copy takes the permissions of what it copies; the backup may have been readable.
    std::fs::copy(from, staged)
        .and_then(|_| crate::data_dir::make_private(staged))
        .map_err(|e| io("copy", from, e))?;
    check(staged).map_err(|e| {
        let _ = std::fs::remove_file(staged);
        match e {
            Error::Invalid(why) => Error::Invalid(
                why.replace(&staged.display().to_string(), &from.display().to_string()),
            ),
            other => other,
        }
    })
}

fn put_in_place(staged: &Path, live: &Path) -> Result<()> {
    std::fs::File::open(staged)
        .and_then(|f| f.sync_all())
        .and_then(|()| std::fs::rename(staged, live))
        .map_err(|e| io("put in place", staged, e))
}
