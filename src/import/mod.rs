//! Importing one file, top to bottom: read → recognise a re-delivery → parse → for each unit,
//! match and store → finish. Exactly once: units are committed in batches together with the
//! file's progress mark, so an import killed at any point resumes after its last commit, and a
//! file already imported is recognised by its SHA-256 and changes nothing.

mod apply;
pub mod links;
pub mod replay;
mod summary;

pub use summary::{FileOutcome, FileSummary, Summary};

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, csv::Mapping};
use crate::store::{FileBegin, SourceRow, Store};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Units committed per transaction: large enough to amortise the commit, small enough that an
/// interrupted import repeats little work.
const BATCH: usize = 1000;

/// A transaction is also committed once it has been open this long, because every page a
/// clinician opens writes its audit event through the same single writer and must not wait
/// behind a long import transaction.
const BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(25);

/// After a batch that ran for [`BATCH_TIME`], the importer leaves the write lock free at least
/// this long before taking it again, so that writers of other processes (which retry every
/// millisecond) get their turn; writers of this process (page views' audit events, when the
/// server imports) go first, for up to [`YIELD_LIMIT`].
const YIELD_TIME: std::time::Duration = std::time::Duration::from_millis(1);
const YIELD_LIMIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Progress of one file, for a progress bar: (units done, units in the file).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

pub struct Importer<'a> {
    pub store: &'a mut Store,
    pub config: &'a Config,
    pub clock: &'a dyn Clock,
}

impl Importer<'_> {
    /// Imports one file from disk for a source.
    pub fn import_path(
        &mut self,
        source: &SourceRow,
        path: &Path,
        progress: Progress<'_>,
    ) -> Result<FileSummary> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            doing: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.import_bytes(source, &name, &bytes, progress)
    }

    /// Imports one file's bytes for a source.
    pub fn import_bytes(
        &mut self,
        source: &SourceRow,
        name: &str,
        bytes: &[u8],
        progress: Progress<'_>,
    ) -> Result<FileSummary> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let now = self.clock.now_text();
        let mut summary = FileSummary::new(name);
        let tx = self.store.begin()?;
        let begin = tx.begin_file(source.id, name, &sha256, bytes.len(), &now)?;
        tx.commit()?;
        let (file_id, first_unit) = match begin {
            FileBegin::Duplicate { imported_at, .. } => {
                summary.outcome = FileOutcome::Duplicate { imported_at };
                return Ok(summary);
            }
            FileBegin::Start { file_id } => (file_id, 0),
            FileBegin::Resume { file_id, next_unit } => {
                summary.resumed_at = Some(next_unit);
                (file_id, next_unit)
            }
        };
        summary.file_id = file_id;
        let parsed = match self.parse(source, bytes) {
            Ok(p) => p,
            Err(reason) => {
                let tx = self.store.begin()?;
                tx.quarantine_file(file_id, &reason, &self.clock.now_text())?;
                tx.commit()?;
                summary.outcome = FileOutcome::Quarantined { reason };
                return Ok(summary);
            }
        };
        summary.skipped = parsed.skipped;
        let total = parsed.units.len();
        summary.units = total;
        progress(first_unit.min(total), total);
        let mut index = first_unit;
        let mut rest = parsed.units.get(first_unit..).unwrap_or_default();
        while !rest.is_empty() {
            let now = self.clock.now_text();
            let tx = self.store.begin()?;
            let opened = std::time::Instant::now();
            let (mut accepted, mut rejected, mut taken) = (0, 0, 0);
            for unit in rest {
                match unit {
                    Ok(extract) => {
                        apply::apply(
                            &tx,
                            self.config,
                            source,
                            file_id,
                            extract,
                            &now,
                            &mut summary,
                        )?;
                        accepted += 1;
                    }
                    Err(reject) => {
                        tx.reject_unit(
                            file_id,
                            index,
                            &reject.position,
                            &reject.reason,
                            &reject.raw,
                        )?;
                        summary
                            .rejects
                            .push((reject.position.clone(), reject.reason.clone()));
                        rejected += 1;
                    }
                }
                index += 1;
                taken += 1;
                if taken >= BATCH || opened.elapsed() >= BATCH_TIME {
                    break;
                }
            }
            rest = rest.get(taken..).unwrap_or_default();
            tx.file_progress(file_id, index, accepted, rejected)?;
            tx.commit()?;
            summary.accepted += accepted;
            progress(index, total);
            if opened.elapsed() >= BATCH_TIME && !rest.is_empty() {
                std::thread::sleep(YIELD_TIME);
            }
            crate::store::yield_to_waiting_writers(YIELD_LIMIT);
        }
        let tx = self.store.begin()?;
        tx.finish_file(file_id, total, &self.clock.now_text())?;
        tx.commit()?;
        summary.outcome = FileOutcome::Imported;
        Ok(summary)
    }

    fn parse(
        &self,
        source: &SourceRow,
        bytes: &[u8],
    ) -> std::result::Result<ingest::ParsedFile, String> {
        let mapping = match &source.mapping {
            Some(text) => Some(Mapping::from_toml(text).map_err(|e| {
                format!(
                    "the CSV mapping of source {} is not valid: {e}; fix it with `sharedcare source add {} … --mapping FILE`",
                    source.code, source.code
                )
            })?),
            None => None,
        };
        ingest::parse(source.format, bytes, mapping.as_ref()).map_err(|e| e.to_string())
    }
}
