//! Importing one file, top to bottom: read → recognise a re-delivery → parse → for each unit,
//! match and store → finish. Exactly once: units are committed in batches together with the
//! file's progress mark, so an import killed at any point resumes after its last commit, and a
//! file already imported is recognised by its SHA-256 and changes nothing.

mod apply;
pub mod links;
pub mod live;
pub mod location;
pub mod replay;
mod summary;

pub use summary::{FileOutcome, FileSummary, Summary};

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, csv::Mapping};
use crate::store::{FileBegin, SourceRow, Store};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::Path;

/// Units committed per transaction: large enough to amortise the commit (and the full-text
/// index's segment written with it), small enough that an interrupted import repeats little
/// work.
const BATCH: usize = 4000;

/// A transaction is also committed once it has been open this long, so that writers of other
/// processes (a server beside a command-line import) wait for at most one batch.
const BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(100);

/// Every page a clinician opens writes its audit event through the same single writer. When a
/// writer of this process (a page view, while the server imports) is waiting, the batch is
/// committed as soon as it has been open this long, and the waiting writers go first, for up
/// to [`YIELD_LIMIT`].
const BATCH_TIME_WHEN_WAITED_FOR: std::time::Duration = std::time::Duration::from_millis(2);
const YIELD_LIMIT: std::time::Duration = std::time::Duration::from_millis(50);

/// After a batch cut short by time, the importer leaves the write lock free at least this long
/// before taking it again, so that writers of other processes (which retry every millisecond)
/// get their turn.
const YIELD_TIME: std::time::Duration = std::time::Duration::from_millis(1);

/// Progress of one file, for a progress bar: (units done, units in the file).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

pub struct Importer<'a> {
    pub store: &'a mut Store,
    pub config: &'a Config,
    pub clock: &'a dyn Clock,
}

impl Importer<'_> {
    /// Imports one file's bytes for a source.
    pub fn import_bytes(
        &mut self,
        source: &SourceRow,
        name: &str,
        bytes: &[u8],
        progress: Progress<'_>,
    ) -> Result<FileSummary> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        self.import_with(
            source,
            name,
            &sha256,
            bytes.len(),
            || read(source, Cow::Borrowed(bytes)),
            progress,
        )
    }

    /// Imports a file read and parsed ahead (see [`Prepared`]).
    pub fn import_prepared(
        &mut self,
        source: &SourceRow,
        prepared: Prepared,
        progress: Progress<'_>,
    ) -> Result<FileSummary> {
        let Prepared {
            name,
            sha256,
            len,
            parsed,
        } = prepared;
        let read = || match parsed {
            Parsed::Done(result) => result,
            Parsed::Later(bytes) => read(source, Cow::Owned(bytes)),
        };
        self.import_with(source, &name, &sha256, len, read, progress)
    }

    /// The import proper; `read` runs only when the file is not a re-delivery. Units are
    /// taken from the file one at a time, so a FHIR file's memory follows one batch, not the
    /// file.
    fn import_with<'b>(
        &mut self,
        source: &SourceRow,
        name: &str,
        sha256: &str,
        len: usize,
        read: impl FnOnce() -> std::result::Result<ingest::FileUnits<'b>, String>,
        progress: Progress<'_>,
    ) -> Result<FileSummary> {
        let now = self.clock.now_text();
        let mut summary = FileSummary::new(name);
        let tx = self.store.begin()?;
        let begin = tx.begin_file(source.id, name, sha256, len, &now)?;
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
        let mut units = match read() {
            Ok(units) => units,
            Err(reason) => {
                let tx = self.store.begin()?;
                tx.quarantine_file(file_id, &reason, &self.clock.now_text())?;
                tx.commit()?;
                summary.outcome = FileOutcome::Quarantined { reason };
                return Ok(summary);
            }
        };
        let slots = units.slots();
        // Resuming: the units before the last commit were stored; read past them again.
        let mut index = 0;
        while index < first_unit && units.next_unit().is_some() {
            index += 1;
        }
        progress(index, slots);
        let mut next = units.next_unit();
        while next.is_some() {
            let now = self.clock.now_text();
            let tx = self.store.begin()?;
            let opened = std::time::Instant::now();
            let (mut accepted, mut rejected, mut taken) = (0, 0, 0);
            while let Some(unit) = next.take() {
                match unit {
                    Ok(extract) => {
                        apply::apply(
                            &tx,
                            self.config,
                            source,
                            file_id,
                            &extract,
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
                        summary.rejects.push((reject.position, reject.reason));
                        rejected += 1;
                    }
                }
                index += 1;
                taken += 1;
                next = units.next_unit();
                if taken >= BATCH || time_to_commit(opened.elapsed()) {
                    break;
                }
            }
            tx.file_progress(file_id, index, accepted, rejected)?;
            tx.commit()?;
            summary.accepted += accepted;
            progress(index, slots.max(index));
            if taken < BATCH && next.is_some() {
                std::thread::sleep(YIELD_TIME);
            }
            crate::store::yield_to_waiting_writers(YIELD_LIMIT);
        }
        let total = index;
        summary.units = total;
        summary.skipped = units.skipped().clone();
        progress(total, total);
        let tx = self.store.begin()?;
        tx.finish_file(file_id, total, &self.clock.now_text())?;
        tx.commit()?;
        summary.outcome = FileOutcome::Imported;
        Ok(summary)
    }
}

fn time_to_commit(open_for: std::time::Duration) -> bool {
    open_for >= BATCH_TIME
        || (open_for >= BATCH_TIME_WHEN_WAITED_FOR && crate::store::writers_waiting())
}

/// A file read, fingerprinted and parsed, ready for the writer. Preparing needs no write
/// access, so a caller with several files prepares the next on another core while the writer
/// stores this one.
pub struct Prepared {
    name: String,
    sha256: String,
    len: usize,
    parsed: Parsed,
}

enum Parsed {
    Done(std::result::Result<ingest::FileUnits<'static>, String>),
    /// A re-delivery of a file already imported when it was read is not parsed ahead: the
    /// importer will find it a duplicate (and parses it after all if it is not).
    Later(Vec<u8>),
}

impl Prepared {
    /// Reads and parses a file, unless `already_imported(sha256)` says it is a re-delivery.
    pub fn read(
        source: &SourceRow,
        path: &Path,
        already_imported: &dyn Fn(&str) -> bool,
    ) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            doing: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let len = bytes.len();
        let parsed = if already_imported(&sha256) {
            Parsed::Later(bytes)
        } else {
            Parsed::Done(read(source, Cow::Owned(bytes)))
        };
        Ok(Self {
            name,
            sha256,
            len,
            parsed,
        })
    }
}

fn read<'b>(
    source: &SourceRow,
    bytes: Cow<'b, [u8]>,
) -> std::result::Result<ingest::FileUnits<'b>, String> {
    let mapping = match &source.mapping {
        Some(text) => Some(Mapping::from_toml(text).map_err(|e| {
            format!(
                "the CSV mapping of source {} is not valid: {e}; fix it with `sharedcare source add {} … --mapping FILE`",
                source.code, source.code
            )
        })?),
        None => None,
    };
    ingest::read(source.format, bytes, mapping.as_ref()).map_err(|e| e.to_string())
}
