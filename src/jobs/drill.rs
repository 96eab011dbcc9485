//! The restore drill: a backup is only as good as a restore of it. Weekly (`jobs.restore_drill`)
//! or by hand (`sharedcare restore-drill`), the newest backup in DATA_DIR/backups/ is restored
//! into a scratch directory exactly as `sharedcare restore` would restore it (decrypted with
//! `[backup] drill_identity` when it is encrypted), then checked: `integrity_check`, the audit
//! chain verified with this server's key, and its counts read. The outcome is a job run, so it
//! shows on feed health (`/admin/feeds`, `sharedcare feeds`) and in `/metrics`.
//!
//! The live database is never touched. A scratch copy that passed is removed; one that failed
//! is kept for inspection under DATA_DIR/drill/.

use super::backup::{backups_in, restore_described, RestoredCheck};
use super::encrypted;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sources::io;
use crate::store::Stats;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct DrillReport {
    /// The backup restored (its database file; the audit file is beside it).
    pub backup: PathBuf,
    pub encrypted: bool,
    /// "ok", or what `integrity_check` said.
    pub integrity: String,
    pub audit: String,
    pub audit_ok: bool,
    pub counts: Stats,
    pub ok: bool,
    /// The scratch directory, kept when a check failed.
    pub kept: Option<PathBuf>,
}

impl DrillReport {
    /// One line: passed or failed, and why, without patient data.
    pub fn summary(&self) -> String {
        let name = self
            .backup
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        format!(
            "restore drill of {name}: {} — integrity_check {}; {}; {} persons, {} entries, {} \
             files",
            if self.ok { "passed" } else { "FAILED" },
            self.integrity,
            self.audit,
            self.counts.persons,
            self.counts.entries,
            self.counts.files_by_state.values().sum::<i64>()
        )
    }
}

/// Restores the newest backup into a scratch directory and checks it. An error means the
/// drill could not restore at all (no backup, no identity, a backup that will not decrypt or
/// is refused): that is a failed drill too, recorded with its reason.
pub fn restore_drill(config: &Config, clock: &dyn Clock) -> Result<DrillReport> {
    let dir = config.data_dir.join("backups");
    let newest = match dir.is_dir() {
        true => backups_in(&dir)?.pop(),
        false => None,
    };
    let backup = newest.ok_or_else(|| {
        Error::Invalid(format!(
            "no backup in {} to drill: is the backup job running (jobs.backup)?",
            dir.display()
        ))
    })?;
    let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut scratch = config
        .data_dir
        .join("drill")
        .join(format!("backup-{stamp}"));
    let mut n = 2;
    while scratch.exists() {
        scratch = config
            .data_dir
            .join("drill")
            .join(format!("backup-{stamp}-{n}"));
        n += 1;
    }
    crate::data_dir::create_private_dir(&scratch).map_err(|e| io("create", &scratch, e))?;
    let report = drill_into(config, &backup, &scratch, clock);
    match &report {
        Ok(r) if !r.ok => {}
        _ => {
            let _ = std::fs::remove_dir_all(&scratch);
        }
    }
    report
}

fn drill_into(
    config: &Config,
    backup: &Path,
    scratch: &Path,
    clock: &dyn Clock,
) -> Result<DrillReport> {
    // The scratch directory verifies the chain with this server's key.
    let key = config.data_dir.join(crate::audit::key::KEY_FILE);
    let scratch_key = scratch.join(crate::audit::key::KEY_FILE);
    std::fs::copy(&key, &scratch_key)
        .and_then(|_| crate::data_dir::make_private(&scratch_key))
        .map_err(|e| io("copy", &key, e))?;
    let incoming = scratch.join("incoming.db");
    let sealed = encrypted::is_sealed(backup);
    let written = if sealed {
        let identity = config.backup.drill_identity.as_deref().ok_or_else(|| {
            Error::Invalid(format!(
                "{} is encrypted and [backup] drill_identity is not set: the drill cannot \
                 read it",
                backup.display()
            ))
        })?;
        encrypted::open_pair(backup, identity, &incoming)?
    } else {
        copy_plain_pair(backup, &incoming)?
    };
    let scratch_config = Config::load(scratch)?;
    let name = backup
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let restored = restore_described(
        &scratch_config,
        &incoming,
        &format!("backup {name} (restore drill)"),
        &crate::audit::Actor::system("restore_drill"),
        clock,
    );
    written.iter().for_each(|p| drop(std::fs::remove_file(p)));
    restored?;
    let checked = RestoredCheck::of(&scratch_config)?;
    let audit_ok = checked.audit.broken.is_none();
    let ok = checked.integrity == "ok" && audit_ok;
    Ok(DrillReport {
        backup: backup.to_path_buf(),
        encrypted: sealed,
        integrity: checked.integrity,
        audit: checked.audit.summary(),
        audit_ok,
        counts: checked.counts,
        ok,
        kept: (!ok).then(|| scratch.to_path_buf()),
    })
}

/// Copies a plain backup and its audit file to `into` and its audit file's name.
fn copy_plain_pair(backup: &Path, into: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (from, to) in [
        (backup.to_path_buf(), into.to_path_buf()),
        (
            encrypted::pair_of(backup),
            crate::store::audit_file::audit_path(into),
        ),
    ] {
        if !from.is_file() {
            continue;
        }
        std::fs::copy(&from, &to)
            .and_then(|_| crate::data_dir::make_private(&to))
            .map_err(|e| io("copy", &from, e))?;
        written.push(to);
    }
    Ok(written)
}
