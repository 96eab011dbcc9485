//! Importing one file, top to bottom: read → recognise a re-delivery → parse → for each unit,
//! match and store → finish. Exactly once: units are committed in batches together with the
//! file's progress mark, so an import killed at any point resumes after its last commit, and a
//! file already imported is recognised by its SHA-256 and changes nothing.

pub mod ahead;
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
use ahead::Units;
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

/// A bulk load (see `store::bulk`) commits less often: it is a first load or a backfill that
/// no server serves from meanwhile (one refuses the database until the load's builds are
/// done), and every commit of a database under 1 GiB costs SQLite a walk of the whole page
/// cache (its B-tree balancing borrows the page number at 1 GiB as a temporary name, which
/// makes the commit's cache truncation scan every slot; see docs/performance.md).
const BULK_BATCH: usize = 20_000;
const BULK_BATCH_TIME: std::time::Duration = std::time::Duration::from_secs(1);

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
        let with_search_text = !self.store.search_index_deferred();
        self.import_with(
            source,
            name,
            &sha256,
            bytes.len(),
            || {
                read(source, Cow::Borrowed(bytes)).map(|units| Units::Here {
                    units,
                    with_search_text,
                })
            },
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
        let with_search_text = !self.store.search_index_deferred();
        let read = || match parsed {
            Parsed::Ahead { slots, chunks } => Ok(Units::ahead(slots, chunks)),
            Parsed::Failed(reason) => Err(reason),
            Parsed::Later(bytes) => read(source, Cow::Owned(bytes)).map(|units| Units::Here {
                units,
                with_search_text,
            }),
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
        read: impl FnOnce() -> std::result::Result<Units<'b>, String>,
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
        while index < first_unit && units.next_unit().map_err(stopped)?.is_some() {
            index += 1;
        }
        progress(index, slots);
        let mut next = units.next_unit().map_err(stopped)?;
        let (batch, batch_time) = if self.store.search_index_deferred() {
            (BULK_BATCH, BULK_BATCH_TIME)
        } else {
            (BATCH, BATCH_TIME)
        };
        while next.is_some() {
            let now = self.clock.now_text();
            let tx = self.store.begin()?;
            let opened = std::time::Instant::now();
            let (mut accepted, mut rejected, mut taken) = (0, 0, 0);
            while let Some(prepared) = next.take() {
                match prepared.unit {
                    Ok(extract) => {
                        apply::apply_prepared(
                            &tx,
                            self.config,
                            source,
                            file_id,
                            &extract,
                            &prepared.entries,
                            prepared.keys.as_ref(),
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
                next = units.next_unit().map_err(stopped)?;
                if taken >= batch || time_to_commit(opened.elapsed(), batch_time) {
                    break;
                }
            }
            tx.file_progress(file_id, index, accepted, rejected)?;
            tx.commit()?;
            summary.accepted += accepted;
            progress(index, slots.max(index));
            if taken < batch && next.is_some() {
                std::thread::sleep(YIELD_TIME);
            }
            crate::store::yield_to_waiting_writers(YIELD_LIMIT);
        }
        let total = index;
        summary.units = total;
        summary.skipped = units.skipped();
        progress(total, total);
        let tx = self.store.begin()?;
        tx.finish_file(file_id, total, &self.clock.now_text())?;
        tx.commit()?;
        summary.outcome = FileOutcome::Imported;
        Ok(summary)
    }
}

/// The thread preparing a file's units stopped before its end: the import stops with an
/// error (the file resumes from its last commit when imported again), rather than taking the
/// units so far for the whole file.
fn stopped(_: ahead::ReaderStopped) -> Error {
    Error::Invalid("the thread reading the file stopped before its end".into())
}

fn time_to_commit(open_for: std::time::Duration, batch_time: std::time::Duration) -> bool {
    open_for >= batch_time
        || (open_for >= BATCH_TIME_WHEN_WAITED_FOR && crate::store::writers_waiting())
}

/// A file read, fingerprinted and parsed, ready for the writer. Preparing needs no write
/// access, so a caller with several files prepares them on another core while the writer
/// stores: [`Prepared::read`] reads one and gives back the [`Feed`] that prepares its units.
pub struct Prepared {
    name: String,
    sha256: String,
    len: usize,
    parsed: Parsed,
}

enum Parsed {
    /// The units arrive prepared through this channel (see [`ahead`]).
    Ahead {
        slots: usize,
        chunks: std::sync::mpsc::Receiver<ahead::Chunk>,
    },
    /// The file cannot be read at all: the importer quarantines it with this reason.
    Failed(String),
    /// A re-delivery of a file already imported when it was read is not parsed ahead: the
    /// importer will find it a duplicate (and parses it after all if it is not).
    Later(Vec<u8>),
}

/// The preparing of one file's units, for the reading thread to run once it has handed the
/// [`Prepared`] file to the writer.
pub struct Feed {
    units: ingest::FileUnits<'static>,
    to: std::sync::mpsc::SyncSender<ahead::Chunk>,
}

impl Feed {
    /// Prepares every unit, a few batches ahead of the writer; `with_search_text` as in
    /// [`ahead::PreparedUnit::of`].
    pub fn run(self, with_search_text: bool) {
        ahead::send(self.units, with_search_text, &self.to);
    }
}

impl Prepared {
    /// Reads and parses a file, unless `already_imported(sha256)` says it is a re-delivery.
    pub fn read(
        source: &SourceRow,
        path: &Path,
        already_imported: &dyn Fn(&str) -> bool,
    ) -> Result<(Self, Option<Feed>)> {
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
        let (parsed, feed) = if already_imported(&sha256) {
            (Parsed::Later(bytes), None)
        } else {
            match read(source, Cow::Owned(bytes)) {
                Ok(units) => {
                    let (to, chunks) = ahead::channel();
                    let slots = units.slots();
                    (Parsed::Ahead { slots, chunks }, Some(Feed { units, to }))
                }
                Err(reason) => (Parsed::Failed(reason), None),
            }
        };
        let prepared = Self {
            name,
            sha256,
            len,
            parsed,
        };
        Ok((prepared, feed))
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
