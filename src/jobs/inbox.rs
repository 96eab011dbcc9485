//! The importer worker: one pass over every source's folders. Per source, files a stopped
//! import left in `processing/` go first, then ready files in arrival order; sources are taken
//! one at a time. A file that fails as a whole is quarantined with its reason and the pass goes
//! on, so one poison file never holds up the rest. A database or disk failure is not the
//! file's fault: the file stays in `processing/` and the next pass resumes it.

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::import::{FileOutcome, Importer};
use crate::sources::drop_folder::DropFolder;
use crate::sources::sftp::jail::Area;
use crate::sources::{Claimed, Source};
use crate::store::{SourceRow, Store};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    pub files: Vec<ScannedFile>,
    /// Sources that could not be scanned, with why (no patient data).
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ScannedFile {
    pub source: String,
    pub name: String,
    /// imported, duplicate, quarantined, or retry (left in processing/).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub accepted: usize,
    pub rejected: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<PathBuf>,
}

impl ScanReport {
    pub fn summary(&self) -> String {
        let count = |o: &str| self.files.iter().filter(|f| f.outcome == o).count();
        format!(
            "{} files: {} imported, {} duplicate, {} quarantined, {} to retry; {} source errors",
            self.files.len(),
            count("imported"),
            count("duplicate"),
            count("quarantined"),
            count("retry"),
            self.errors.len()
        )
    }

    pub fn had_problems(&self) -> bool {
        !self.errors.is_empty()
            || self
                .files
                .iter()
                .any(|f| f.outcome == "quarantined" || f.outcome == "retry" || f.rejected > 0)
    }
}

/// Scans every source once.
pub fn scan_once(config: &Config, store: &mut Store, clock: &dyn Clock) -> Result<ScanReport> {
    let mut report = ScanReport::default();
    for source in store.sources()? {
        if let Err(e) = scan_source(config, store, clock, &source, &mut report) {
            log::warn!("inbox scan of {}: {}", source.code, e.operator_summary());
            report
                .errors
                .push(format!("{}: {}", source.code, e.operator_summary()));
        }
    }
    Ok(report)
}

fn scan_source(
    config: &Config,
    store: &mut Store,
    clock: &dyn Clock,
    source: &SourceRow,
    report: &mut ScanReport,
) -> Result<()> {
    let stored = store.source_feed(source.id)?.drop_folder;
    let (mut folder, refused) =
        DropFolder::for_source(config, source.id, &source.code, stored.as_deref())?;
    if let Some(why) = refused {
        // The source's own inbox is still scanned; only the refused folder is left alone.
        log::warn!("inbox scan of {}: {why}", source.code);
        report.errors.push(format!("{}: {why}", source.code));
    }
    let spool = folder.spool.clone();
    remove_abandoned_uploads(config, clock, &source.code)?;
    for claimed in spool.leftovers()? {
        log::info!("resuming {} file left in processing", source.code);
        let done = import_claimed(config, store, clock, source, &mut folder, claimed)?;
        report.files.push(done);
    }
    for incoming in folder.list_new(store, &clock.now_text())? {
        if let Some(claimed) = folder.claim(&incoming)? {
            let done = import_claimed(config, store, clock, source, &mut folder, claimed)?;
            report.files.push(done);
        }
    }
    Ok(())
}

fn import_claimed(
    config: &Config,
    store: &mut Store,
    clock: &dyn Clock,
    source: &SourceRow,
    folder: &mut dyn Source,
    claimed: Claimed,
) -> Result<ScannedFile> {
    let mut file = ScannedFile {
        source: source.code.clone(),
        name: claimed.name.clone(),
        outcome: "retry",
        detail: None,
        accepted: 0,
        rejected: 0,
        moved_to: None,
    };
    let result = match crate::sources::read_regular(&claimed.path) {
        Ok(bytes) => Importer {
            store,
            config,
            clock,
        }
        .import_bytes(source, &claimed.name, &bytes, &mut |_, _| {}),
        // A link, FIFO or device put in its place after it was listed: never read through it.
        Err(e)
            if e.kind() == std::io::ErrorKind::InvalidInput
                || e.raw_os_error() == Some(libc::ELOOP) =>
        {
            Err(Error::Invalid(
                "not a regular file (a link, FIFO or device took its place); it was not read"
                    .into(),
            ))
        }
        Err(e) => Err(crate::sources::io("read", &claimed.path, e)),
    };
    let quarantine_reason = match result {
        Ok(summary) => {
            file.accepted = summary.accepted;
            file.rejected = summary.rejects.len();
            match summary.outcome {
                FileOutcome::Imported => {
                    file.outcome = "imported";
                    None
                }
                FileOutcome::Duplicate { imported_at } => {
                    file.outcome = "duplicate";
                    file.detail = Some(format!("already imported at {imported_at}"));
                    None
                }
                FileOutcome::Quarantined { reason } => Some(reason),
            }
        }
        // Not the file's fault: it stays where it is and the next scan resumes it.
        Err(
            e @ (Error::Db { .. } | Error::Open { .. } | Error::Io { .. } | Error::DiskFull { .. }),
        ) => {
            log::warn!(
                "import of a {} file failed: {}",
                source.code,
                e.operator_summary()
            );
            file.detail = Some(e.operator_summary());
            return Ok(file);
        }
        Err(e) => Some(e.to_string()),
    };
    match quarantine_reason {
        None => file.moved_to = Some(folder.done(&claimed, clock.now().date_naive())?),
        Some(reason) => {
            log::warn!("a {} file was quarantined", source.code);
            file.outcome = "quarantined";
            file.moved_to = Some(folder.quarantine(&claimed, &reason)?);
            file.detail = Some(reason);
        }
    }
    Ok(file)
}

/// Removes the source's SFTP uploads that were never finished (see
/// `sources::sftp::jail::Area::remove_abandoned`) once `[sftp] abandoned_upload_hours` old.
fn remove_abandoned_uploads(config: &Config, clock: &dyn Clock, code: &str) -> Result<()> {
    let hours = config.sftp.abandoned_upload_hours;
    if hours <= 0 {
        return Ok(());
    }
    let area = Area::new(&config.data_dir, code)
        .map_err(|e| crate::sources::io("prepare", &config.data_dir.join("sftp"), e))?;
    let cutoff: std::time::SystemTime = (clock.now() - chrono::Duration::hours(hours)).into();
    let removed = area
        .remove_abandoned(cutoff)
        .map_err(|e| crate::sources::io("clean", &area.uploads, e))?;
    if removed > 0 {
        log::info!("{code}: removed {removed} uploads abandoned for over {hours} hours");
    }
    Ok(())
}
