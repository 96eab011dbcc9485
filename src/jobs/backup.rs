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
//! With `[backup] recipient` set, the checked pair is encrypted in the age format before it
//! takes its name (`….db.age`, see `jobs::encrypted`) and the plain copy removed; with
//! `[backup] copy_to` set, the finished pair is copied there too and rotated alike.
//!
//! A restore trusts nothing it is given: the file is copied beside the database, and the copy
//! must be a sharedcare database of a version this binary reads and pass `integrity_check`.
//! Then, holding the live database exclusively (which fails while a server has it open), the
//! old database is kept as `sharedcare.db.before-restore` and the copy renamed over it; the
//! audit file likewise, from the backup's pair (a backup from before the audit file has none:
//! its events are inside it, and move into a new audit file when it is first opened).

use super::encrypted::{self, SEALED};
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
    /// Encrypted to `[backup] recipient` (the plain copy is gone).
    pub encrypted: bool,
    /// The copy in `[backup] copy_to`, when one is configured.
    pub copied_to: Option<PathBuf>,
    pub removed: Vec<PathBuf>,
}

pub fn backup(config: &Config, store: &Store, clock: &dyn Clock) -> Result<BackupReport> {
    let dir = config.data_dir.join("backups");
    create_dir(&dir)?;
    let sealed = config.backup.recipient.is_some();
    let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut base = format!("sharedcare-{stamp}");
    let mut n = 2;
    while [".db", ".db.age"]
        .iter()
        .any(|end| dir.join(format!("{base}{end}")).exists())
    {
        base = format!("sharedcare-{stamp}-{n}");
        n += 1;
    }
    let partial = dir.join(format!(".{base}.db.partial"));
    let audit_partial = dir.join(format!(".{base}-audit.db.partial"));
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
        let _ = std::fs::rename(&partial, dir.join(format!(".{base}.db.failed")));
        let _ = std::fs::rename(&audit_partial, dir.join(format!(".{base}-audit.db.failed")));
        return Err(e);
    }
    let path = dir.join(format!("{base}.db{}", if sealed { SEALED } else { "" }));
    let audit_path = encrypted::pair_of(&path);
    let (from, audit_from) = if sealed {
        seal_checked_pair(config, &partial, &audit_partial)?
    } else {
        (partial, audit_partial)
    };
    // The audit file first: a backup that shows is always whole.
    std::fs::rename(&audit_from, &audit_path).map_err(|e| io("rename", &audit_from, e))?;
    std::fs::rename(&from, &path).map_err(|e| io("rename", &from, e))?;
    let bytes = [&path, &audit_path]
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum();
    let keep = config.feeds.backups_keep.max(1);
    let mut removed = rotate(&dir, keep)?;
    let copied_to = match &config.backup.copy_to {
        None => None,
        Some(second) => {
            let copy = encrypted::copy_pair(&path, second).map_err(|e| {
                Error::Invalid(format!(
                    "the backup {} is made, but copying it to [backup] copy_to failed: {}",
                    path.display(),
                    e.operator_summary()
                ))
            })?;
            removed.extend(rotate(second, keep)?);
            Some(copy)
        }
    };
    Ok(BackupReport {
        path,
        bytes,
        integrity: "ok",
        encrypted: sealed,
        copied_to,
        removed,
    })
}

/// One line about a finished backup, for the job's record.
pub fn summary(r: &BackupReport) -> String {
    let mut out = format!(
        "{} ({} bytes{}), integrity ok, {} old removed",
        r.path.display(),
        r.bytes,
        if r.encrypted { ", encrypted" } else { "" },
        r.removed.len()
    );
    if let Some(copy) = &r.copied_to {
        out += &format!(", copied to {}", copy.display());
    }
    out
}

/// Encrypts a checked plain pair and removes it: only the sealed pair (still under hidden
/// names) is left.
fn seal_checked_pair(config: &Config, db: &Path, audit: &Path) -> Result<(PathBuf, PathBuf)> {
    let sealed_db = PathBuf::from(format!("{}{SEALED}", db.display()));
    let sealed_audit = PathBuf::from(format!("{}{SEALED}", audit.display()));
    let done = encrypted::seal(&config.backup, db, &sealed_db)
        .and_then(|()| encrypted::seal(&config.backup, audit, &sealed_audit));
    for plain in [db, audit] {
        let _ = std::fs::remove_file(plain);
    }
    if let Err(e) = done {
        let _ = std::fs::remove_file(&sealed_db);
        let _ = std::fs::remove_file(&sealed_audit);
        return Err(e);
    }
    Ok((sealed_db, sealed_audit))
}

/// The backups in `dir` (each pair by its database file), oldest first: the names sort by time.
pub fn backups_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io("list", dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| {
                let plain = n.strip_suffix(SEALED).unwrap_or(&n);
                n.starts_with("sharedcare-")
                    && plain.ends_with(".db")
                    && !plain.ends_with("-audit.db")
            })
        })
        .collect();
    backups.sort();
    Ok(backups)
}

/// Deletes all but the newest `keep` backups.
fn rotate(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let backups = backups_in(dir)?;
    let excess = backups.len().saturating_sub(keep);
    let old: Vec<PathBuf> = backups.into_iter().take(excess).collect();
    for p in &old {
        std::fs::remove_file(p).map_err(|e| io("remove", p, e))?;
        let audit = encrypted::pair_of(p);
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
/// An encrypted backup is decrypted with `identity` into private files beside the database
/// first, and those are removed afterwards.
pub fn restore(
    config: &Config,
    file: &Path,
    identity: Option<&Path>,
    actor: &crate::audit::Actor,
    clock: &dyn Clock,
) -> Result<RestoreReport> {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let described = format!("backup {name}");
    let sealed = encrypted::is_sealed(file) || encrypted::looks_sealed(file);
    match (sealed, identity) {
        (false, _) => restore_described(config, file, &described, actor, clock),
        (true, None) => Err(Error::Invalid(format!(
            "{} is encrypted (age): give the identity file of [backup] recipient with \
             --identity FILE",
            file.display()
        ))),
        (true, Some(identity)) => {
            let plain = config.data_dir.join(".restore-decrypted.db");
            let written = encrypted::open_pair(file, identity, &plain)?;
            let mut report = restore_described(config, &plain, &described, actor, clock);
            written.iter().for_each(|p| drop(std::fs::remove_file(p)));
            if let Ok(r) = &mut report {
                r.restored_from = file.to_path_buf();
            }
            report
        }
    }
}

/// A restored data directory, checked as every restore is: SQLite's `integrity_check`, the
/// audit chain (with the data directory's own key) and the counts.
pub struct RestoredCheck {
    pub integrity: String,
    pub audit: crate::audit::Report,
    pub counts: crate::store::Stats,
}

impl RestoredCheck {
    pub fn of(config: &Config) -> Result<Self> {
        let store = crate::audit::open_store(config)?;
        Ok(Self {
            integrity: store.integrity_check()?,
            audit: crate::audit::verify(&store, &mut |_| {})?,
            counts: store.stats()?,
        })
    }
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
