//! The population job's reads of entries and its kept facts: what the condition set made of
//! each entry it names, kept between runs so that a run reads only the entries added or
//! changed since the last (entries are never deleted; every change to one leaves an
//! `entry_history` row, which is how a run finds the changed ones).

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, Connection, OpenFlags};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// One entry a condition rule may read, with the source's record of the person it is about
/// ([`Store::population_links`] says whose it is now).
pub struct EntryRow {
    pub id: i64,
    pub source_person_id: i64,
    pub category: String,
    pub code: Option<String>,
    pub title: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub recorded: Option<String>,
    pub body: String,
}

/// What the condition set made of one entry: its person out of every figure (an opt-out), or
/// in the conditions named, from `start_on` (to `end_on`, for conditions that last while open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRow {
    pub entry_id: i64,
    pub source_person_id: i64,
    pub opted_out: bool,
    /// Condition keys, space-separated.
    pub conditions: String,
    pub start_on: Option<String>,
    pub end_on: Option<String>,
}

/// How far the kept facts go, and the fingerprint of the condition set they were read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanState {
    pub rules: String,
    pub entries_to: i64,
    pub history_to: i64,
}

const ENTRY_COLUMNS: &str = "e.id, e.category, e.status, e.source_person_id, e.code, e.title,
    e.start_at, e.end_at, e.recorded_at, unpacked(e.body)";

impl Store {
    /// The first and last entry ids, where there are entries: the range the scan splits.
    pub fn entry_id_range(&self) -> Result<Option<(i64, i64)>> {
        self.conn()
            .query_row("SELECT min(id), max(id) FROM entry", [], |r| {
                Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?))
            })
            .doing("reading the range of entry ids")
    }

    /// The id of the last entry history row (0 when there is none).
    pub fn entry_history_last_id(&self) -> Result<i64> {
        self.conn()
            .query_row("SELECT coalesce(max(id), 0) FROM entry_history", [], |r| {
                r.get(0)
            })
            .doing("reading the last entry history row")
    }

    /// Entries up to `entries_to` that a change replaced since history row `history_from`
    /// (exclusive) up to `history_to`, each once, in id order.
    pub fn entries_changed(
        &self,
        history_from: i64,
        history_to: i64,
        entries_to: i64,
    ) -> Result<Vec<i64>> {
        let doing = "reading which entries changed";
        self.conn()
            .prepare(
                "SELECT DISTINCT entry_id FROM entry_history
                 WHERE id > ?1 AND id <= ?2 AND entry_id <= ?3 AND disposition = 'superseded'
                 ORDER BY entry_id",
            )
            .and_then(|mut s| {
                s.query_map(params![history_from, history_to, entries_to], |r| r.get(0))?
                    .collect()
            })
            .doing(doing)
    }

    /// A second, read-only connection to this database for a scan that runs beside this one,
    /// or none for an in-memory database (which no other connection can see).
    pub fn scan_connection(&self) -> Result<Option<EntryScan>> {
        if self.path().as_os_str() == ":memory:" {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            self.path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .doing("opening a connection for the population figures")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .doing("opening a connection for the population figures")?;
        super::packed::register(&conn).doing("opening a connection for the population figures")?;
        Ok(Some(EntryScan(conn)))
    }

    /// Entries of the named categories with ids in `ids`, on this store's own connection.
    pub fn population_entries(
        &self,
        categories: &[String],
        ids: RangeInclusive<i64>,
        each: &mut dyn FnMut(EntryRow),
    ) -> Result<()> {
        scan_entries(self.conn(), categories, ids, each)
    }

    /// The entries with these ids, of the named categories.
    pub fn population_entries_by_id(
        &self,
        categories: &[String],
        ids: &[i64],
        each: &mut dyn FnMut(EntryRow),
    ) -> Result<()> {
        let doing = "reading changed entries for the population figures";
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entry e WHERE e.id = ?1"
            ))
            .doing(doing)?;
        for id in ids {
            let mut rows = stmt.query([id]).doing(doing)?;
            while let Some(r) = rows.next().doing(doing)? {
                if let Some(row) = entry_row(r, categories).doing(doing)? {
                    each(row);
                }
            }
        }
        Ok(())
    }

    /// Entries by category, as the triggers of `entry_category_count` keep them.
    pub fn entry_category_counts(&self) -> Result<BTreeMap<String, i64>> {
        self.conn()
            .prepare("SELECT category, entries FROM entry_category_count WHERE entries > 0")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .doing("counting entries by category")
    }

    pub fn population_scan(&self) -> Result<Option<ScanState>> {
        let doing = "reading how far the population facts go";
        let mut stmt = self
            .conn()
            .prepare("SELECT rules, entries_to, history_to FROM population_scan")
            .doing(doing)?;
        let mut rows = stmt
            .query_map([], |r| {
                Ok(ScanState {
                    rules: r.get(0)?,
                    entries_to: r.get(1)?,
                    history_to: r.get(2)?,
                })
            })
            .doing(doing)?;
        rows.next().transpose().doing(doing)
    }

    /// Every kept fact, in entry order.
    pub fn population_facts(&self, each: &mut dyn FnMut(FactRow)) -> Result<()> {
        let doing = "reading the population facts";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT entry_id, source_person_id, opted_out, conditions, start_on, end_on
                 FROM population_entry_fact",
            )
            .doing(doing)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FactRow {
                    entry_id: r.get(0)?,
                    source_person_id: r.get(1)?,
                    opted_out: r.get(2)?,
                    conditions: r.get(3)?,
                    start_on: r.get(4)?,
                    end_on: r.get(5)?,
                })
            })
            .doing(doing)?;
        for row in rows {
            each(row.doing(doing)?);
        }
        Ok(())
    }
}

/// A read-only connection of its own, which a scan on another thread owns.
pub struct EntryScan(Connection);

impl EntryScan {
    /// As [`Store::population_entries`], on this connection.
    pub fn population_entries(
        &self,
        categories: &[String],
        ids: RangeInclusive<i64>,
        each: &mut dyn FnMut(EntryRow),
    ) -> Result<()> {
        scan_entries(&self.0, categories, ids, each)
    }
}

/// Entries of the named categories with ids in `ids`, in id order (the table's own order, so
/// the scan reads the file front to back), leaving out those entered in error.
fn scan_entries(
    conn: &Connection,
    categories: &[String],
    ids: RangeInclusive<i64>,
    each: &mut dyn FnMut(EntryRow),
) -> Result<()> {
    let doing = "reading entries for the population figures";
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entry e WHERE e.id BETWEEN ?1 AND ?2"
        ))
        .doing(doing)?;
    let mut rows = stmt.query(params![ids.start(), ids.end()]).doing(doing)?;
    while let Some(r) = rows.next().doing(doing)? {
        if let Some(row) = entry_row(r, categories).doing(doing)? {
            each(row);
        }
    }
    Ok(())
}

/// The row as an [`EntryRow`] when it is of a named category and not entered in error.
fn entry_row(r: &rusqlite::Row<'_>, categories: &[String]) -> rusqlite::Result<Option<EntryRow>> {
    // `category` is STRICT text, never null: a row without one cannot be stored.
    let Ok(category) = r.get_ref(1)?.as_str() else {
        return Ok(None);
    };
    if !categories.iter().any(|c| c == category) {
        return Ok(None);
    }
    let status: Option<String> = r.get(2)?;
    if status.as_deref() == Some("entered-in-error") {
        return Ok(None);
    }
    Ok(Some(EntryRow {
        id: r.get(0)?,
        category: category.to_owned(),
        source_person_id: r.get(3)?,
        code: r.get(4)?,
        title: r.get(5)?,
        start: r.get(6)?,
        end: r.get(7)?,
        recorded: r.get(8)?,
        body: r.get(9)?,
    }))
}

impl Tx<'_> {
    /// Forgets every kept fact and how far they went: the next run reads every entry.
    pub fn forget_population_facts(&self) -> Result<()> {
        self.conn()
            .execute_batch("DELETE FROM population_entry_fact; DELETE FROM population_scan;")
            .doing("forgetting the population facts")
    }

    /// Forgets the facts of entries from `entry_id` on: a run that stopped part way through
    /// the new entries may have kept facts of entries that have changed since.
    pub fn forget_population_facts_from(&self, entry_id: i64) -> Result<()> {
        self.conn()
            .execute(
                "DELETE FROM population_entry_fact WHERE entry_id >= ?1",
                [entry_id],
            )
            .doing("forgetting the population facts")?;
        Ok(())
    }

    /// Replaces the facts of the entries `entry_ids` with `facts` (those of them, and of new
    /// entries, that name a condition or an opt-out).
    pub fn replace_population_facts(&self, entry_ids: &[i64], facts: &[FactRow]) -> Result<()> {
        let doing = "keeping the population facts";
        let mut drop = self
            .conn()
            .prepare_cached("DELETE FROM population_entry_fact WHERE entry_id = ?1")
            .doing(doing)?;
        for id in entry_ids {
            drop.execute([id]).doing(doing)?;
        }
        let mut put = self
            .conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO population_entry_fact
                     (entry_id, source_person_id, opted_out, conditions, start_on, end_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .doing(doing)?;
        for f in facts {
            put.execute(params![
                f.entry_id,
                f.source_person_id,
                f.opted_out,
                f.conditions,
                f.start_on,
                f.end_on
            ])
            .doing(doing)?;
        }
        Ok(())
    }

    pub fn set_population_scan(&self, state: &ScanState) -> Result<()> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO population_scan (id, rules, entries_to, history_to)
                 VALUES (1, ?1, ?2, ?3)",
                params![state.rules, state.entries_to, state.history_to],
            )
            .doing("recording how far the population facts go")?;
        Ok(())
    }
}
