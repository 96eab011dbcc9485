//! Index builds a bulk load defers to its end.
//!
//! Loading a region row by row into indexes costs the writer most of its time: every entry
//! adds a tiny segment to the full-text index and a random insert into each secondary index.
//! A bulk load instead drops the secondary indexes that matching does not read, leaves the
//! full-text indexes alone, and builds them all once at the end: each index with one sorted
//! `CREATE INDEX`, each full-text index from the stored rows in id order.
//!
//! The `deferred_build` table says which builds are still to do, so the deferral survives a
//! kill: beginning writes its rows and drops the indexes in one transaction; each index is
//! rebuilt and its row removed in one transaction; a full-text index is emptied, then filled in
//! batches that each commit with the id to resume from. While any row remains every
//! transaction of this database leaves the full-text indexes alone (they would be rebuilt
//! anyway), and one that changes what they would hold sends their builds back to the start.
//! The server refuses a database with builds pending (search would be incomplete).

use super::entries::{tagged_body, text_of};
use super::persons::{golden_of, person_doc};
use super::{decode, Store, Tx};
use crate::error::{DbContext, Result};
use crate::model::SourceKind;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Secondary indexes that nothing in an import reads: matching, entry lookups and history use
/// others. Each is dropped for a bulk load and built again at its end.
const DEFERRABLE_INDEXES: &[&str] = &[
    "entry_source_person",
    "person_nhs_number",
    "source_person_nhs_number",
];

/// The full-text indexes, in the order they are built.
const ENTRY_FTS: &str = "entry_fts";
const PERSON_FTS: &str = "person_search_fts";

/// Rows indexed per transaction of a full-text build: a kill repeats at most one batch.
const FTS_BATCH: i64 = 20_000;

/// The page cache while a dropped index is built again, in MiB (it bounds the sort's memory).
const INDEX_BUILD_CACHE_MIB: i64 = 128;

/// Batches of entries' search text made ahead of the writer (each about 5 MB).
const BATCHES_AHEAD: usize = 2;

/// The page cache of the connection that reads entries for their search text: it reads the
/// table once, in order, so the operating system's read-ahead serves it.
const READER_CACHE_MIB: i64 = 16;

/// What the builds at the end of a bulk load did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildFigures {
    pub indexes: usize,
    pub entries_indexed: u64,
    pub persons_indexed: u64,
    pub seconds: f64,
}

/// Whether a bulk load's builds are pending in this database.
pub(super) fn pending(conn: &Connection) -> Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM deferred_build)", [], |r| {
        r.get(0)
    })
    .doing("reading the deferred index builds")
}

impl Store {
    /// Whether a bulk load left index builds to do (see the module docs).
    pub fn deferred_builds_pending(&self) -> Result<bool> {
        pending(&self.conn)
    }

    /// Whether this connection leaves the full-text indexes to a bulk load's builds (an
    /// import then need not make the entries' search text).
    pub fn search_index_deferred(&self) -> bool {
        self.deferring
    }

    /// Whether the database holds no entries yet: a first load takes the bulk path.
    pub fn holds_no_entries(&self) -> Result<bool> {
        self.conn
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM entry)", [], |r| r.get(0))
            .doing("checking for entries")
    }

    /// Starts deferring: records the builds to do and drops the deferrable indexes, in one
    /// transaction. Beginning again while builds are pending changes nothing.
    pub fn begin_deferred_builds(&mut self, now: &str) -> Result<()> {
        let tx = self.begin()?;
        for name in [ENTRY_FTS, PERSON_FTS] {
            tx.conn()
                .prepare_cached(
                    "INSERT OR IGNORE INTO deferred_build (name, started_at) VALUES (?1, ?2)",
                )
                .and_then(|mut s| s.execute(params![name, now]))
                .doing("recording a deferred index build")?;
        }
        for name in DEFERRABLE_INDEXES {
            let sql: Option<String> = tx
                .conn()
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()
                .doing("reading an index's definition")?;
            let Some(sql) = sql else { continue };
            tx.conn()
                .execute(
                    "INSERT INTO deferred_build (name, sql, started_at) VALUES (?1, ?2, ?3)",
                    params![name, sql, now],
                )
                .doing("recording a deferred index build")?;
            tx.conn()
                .execute_batch(&format!("DROP INDEX {name}"))
                .doing("dropping an index for a bulk load")?;
        }
        tx.commit()?;
        self.deferring = true;
        Ok(())
    }

    /// Does every pending build: the dropped indexes, then the full-text indexes from the
    /// stored rows. Resumes a build that an earlier run left part done.
    pub fn finish_deferred_builds(&mut self, precedence: &[SourceKind]) -> Result<BuildFigures> {
        let started = std::time::Instant::now();
        let mut figures = BuildFigures::default();
        let indexes: Vec<(String, String)> = self
            .conn
            .prepare("SELECT name, sql FROM deferred_build WHERE sql IS NOT NULL ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .doing("reading the deferred index builds")?;
        // SQLite's sorter holds up to the page cache's size (at most 512 MiB) in memory for
        // each of its threads before it writes a sorted run out: with a bulk import's 1 GiB
        // cache an index build took another gigabyte. The sort reads the table once, in order,
        // and needs no large cache.
        let cache: i64 = self
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .doing("reading the page cache's size")?;
        self.conn
            .execute_batch(&format!(
                "PRAGMA cache_size = -{};",
                INDEX_BUILD_CACHE_MIB * 1024
            ))
            .doing("making room for an index build's sort")?;
        for (name, sql) in indexes {
            let tx = self.begin()?;
            tx.conn()
                .execute_batch(&sql)
                .doing("building an index after a bulk load")?;
            tx.conn()
                .execute("DELETE FROM deferred_build WHERE name = ?1", [&name])
                .doing("recording an index built")?;
            tx.commit()?;
            figures.indexes += 1;
        }
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = {cache};"))
            .doing("restoring the page cache's size")?;
        figures.entries_indexed = self.build_entry_fts()?;
        figures.persons_indexed =
            self.build_fts(PERSON_FTS, |tx, from| tx.index_persons(from, precedence))?;
        self.deferring = pending(&self.conn)?;
        figures.seconds = started.elapsed().as_secs_f64();
        Ok(figures)
    }

    /// The entries' full-text index, as [`Self::build_fts`] builds one, with the work spread
    /// over two cores: a second connection on another thread reads each batch of entries and
    /// makes their search text (parsing every body) while this one indexes the batch before.
    fn build_entry_fts(&mut self) -> Result<u64> {
        let Some(start) = self.fts_build_start(ENTRY_FTS)? else {
            return Ok(0);
        };
        let reader = Store::open(&self.path)?;
        reader.for_bulk_import(READER_CACHE_MIB)?;
        let mut indexed = 0;
        std::thread::scope(|scope| -> Result<()> {
            let (ahead, ready) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
            scope.spawn(move || {
                let mut from = start;
                loop {
                    let batch = entry_texts(reader.conn(), from);
                    let more = match &batch {
                        Ok(rows) => rows.len() as i64 == FTS_BATCH,
                        Err(_) => false,
                    };
                    if let Ok(rows) = &batch {
                        from = rows.last().map_or(from, |row| row.id + 1);
                    }
                    if ahead.send(batch).is_err() || !more {
                        break;
                    }
                }
            });
            for batch in ready {
                let batch = batch?;
                let tx = self.begin()?;
                let mut insert = tx
                    .conn()
                    .prepare_cached(
                        "INSERT INTO entry_fts (rowid, title, detail) VALUES (?1, ?2, ?3)",
                    )
                    .doing("indexing entries")?;
                for row in &batch {
                    insert
                        .execute(params![row.id, row.title, row.text])
                        .doing("indexing an entry")?;
                }
                drop(insert);
                let next = batch.last().map(|row| row.id + 1);
                tx.record_fts_progress(
                    ENTRY_FTS,
                    next.filter(|_| batch.len() as i64 == FTS_BATCH),
                )?;
                tx.commit_built()?;
                indexed += batch.len() as u64;
            }
            Ok(())
        })?;
        Ok(indexed)
    }

    /// Where a full-text build resumes: `None` when it is done (or was never asked for). A
    /// build not yet begun empties its index first, in a transaction of its own that records
    /// the start.
    fn fts_build_start(&mut self, name: &str) -> Result<Option<i64>> {
        let tx = self.begin()?;
        let next: Option<Option<i64>> = tx
            .conn()
            .query_row(
                "SELECT next_id FROM deferred_build WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .doing("reading a deferred index build")?;
        let start = match next {
            None => return Ok(None),
            Some(Some(from)) => from,
            Some(None) => {
                tx.conn()
                    .execute_batch(&format!(
                        "INSERT INTO {name} ({name}) VALUES ('delete-all')"
                    ))
                    .doing("emptying a full-text index for its rebuild")?;
                tx.record_fts_progress(name, Some(0))?;
                0
            }
        };
        tx.commit_built()?;
        Ok(Some(start))
    }

    /// One full-text index, emptied then filled batch by batch; `batch(tx, from)` indexes
    /// rows from id `from` and says how many it read and the id to go on from.
    fn build_fts(
        &mut self,
        name: &str,
        batch: impl Fn(&Tx<'_>, i64) -> Result<(u64, i64)>,
    ) -> Result<u64> {
        let Some(mut from) = self.fts_build_start(name)? else {
            return Ok(0);
        };
        let mut indexed = 0;
        loop {
            let tx = self.begin()?;
            let (read, next) = batch(&tx, from)?;
            indexed += read;
            let done = read < FTS_BATCH as u64;
            tx.record_fts_progress(name, (!done).then_some(next))?;
            tx.commit_built()?;
            if done {
                return Ok(indexed);
            }
            from = next;
        }
    }
}

/// One entry as the full-text index holds it.
struct EntryText {
    id: i64,
    title: String,
    text: String,
}

/// The search text of up to [`FTS_BATCH`] entries from id `from`, in id order.
fn entry_texts(conn: &Connection, from: i64) -> Result<Vec<EntryText>> {
    let mut read = conn
        .prepare_cached(
            "SELECT id, category, title, code, unpacked(body) FROM entry
             WHERE id >= ?1 ORDER BY id LIMIT ?2",
        )
        .doing("reading entries to index")?;
    let mut rows = read
        .query(params![from, FTS_BATCH])
        .doing("reading entries to index")?;
    let mut batch = Vec::with_capacity(FTS_BATCH as usize);
    while let Some(r) = rows.next().doing("reading entries to index")? {
        let id: i64 = r.get(0).doing("reading an entry")?;
        let category: String = r.get(1).doing("reading an entry")?;
        let title: String = r.get(2).doing("reading an entry")?;
        let code: Option<String> = r.get(3).doing("reading an entry")?;
        let stored: String = r.get(4).doing("reading an entry")?;
        let body: serde_json::Value =
            decode::json("entry", id, 4, &tagged_body(&category, &stored))
                .doing("reading an entry's body to index it")?;
        let text = text_of(&body, code.as_deref());
        batch.push(EntryText { id, title, text });
    }
    Ok(batch)
}

impl Tx<'_> {
    /// Sends the full-text builds back to the start: this transaction changed rows they may
    /// have indexed already.
    pub(super) fn restart_deferred_builds(&self) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE deferred_build SET next_id = NULL
                 WHERE sql IS NULL AND next_id IS NOT NULL",
            )
            .and_then(|mut s| s.execute([]))
            .doing("restarting the deferred full-text builds")?;
        Ok(())
    }

    /// Commits a build's batch (its own writes are the index, not changes to redo).
    fn commit_built(self) -> Result<()> {
        self.deferred_changes.set(false);
        self.commit()
    }

    /// Records a full-text build's place: the id to resume from, or (`None`) that it is done.
    fn record_fts_progress(&self, name: &str, next: Option<i64>) -> Result<()> {
        match next {
            None => self
                .conn()
                .execute("DELETE FROM deferred_build WHERE name = ?1", [name])
                .doing("recording a full-text index built")?,
            Some(next) => self
                .conn()
                .execute(
                    "UPDATE deferred_build SET next_id = ?2 WHERE name = ?1",
                    params![name, next],
                )
                .doing("recording a full-text build's progress")?,
        };
        Ok(())
    }

    fn index_persons(&self, from: i64, precedence: &[SourceKind]) -> Result<(u64, i64)> {
        let ids: Vec<i64> = self
            .conn()
            .prepare_cached("SELECT id FROM person WHERE id >= ?1 ORDER BY id LIMIT ?2")
            .and_then(|mut s| {
                s.query_map(params![from, FTS_BATCH], |r| r.get(0))?
                    .collect()
            })
            .doing("reading persons to index")?;
        for id in &ids {
            let parsed = self.person_sources(*id, precedence)?;
            if let Some(doc) = person_doc(&parsed, &golden_of(&parsed)) {
                super::find::insert_doc(self.conn(), *id, &doc)?;
            }
        }
        let next = ids.last().map_or(from, |last| last + 1);
        Ok((ids.len() as u64, next))
    }
}
