//! Feed files and the units rejected from them.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// What the store already knows about a file about to be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileBegin {
    /// New file (or a quarantined one tried again): import from the first unit.
    Start { file_id: i64 },
    /// An import of this file was interrupted: continue after the last committed unit.
    Resume { file_id: i64, next_unit: usize },
    /// Already imported in full: nothing to do.
    Duplicate { file_id: i64, imported_at: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    pub id: i64,
    pub source_code: String,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub state: String,
    pub received_at: String,
    pub finished_at: Option<String>,
    pub units: Option<i64>,
    pub accepted: i64,
    pub rejected: i64,
    pub reason: Option<String>,
}

impl super::Store {
    /// Whether this file (by content) is already imported for the source: a re-delivery that
    /// the importer will skip, so there is no need to parse it.
    pub fn file_already_imported(&self, source_id: i64, sha256: &str) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM feed_file
                 WHERE source_id = ?1 AND sha256 = ?2 AND state = 'imported')",
                params![source_id, sha256],
                |r| r.get(0),
            )
            .doing("looking for the file")
    }
}

impl Tx<'_> {
    pub fn begin_file(
        &self,
        source_id: i64,
        name: &str,
        sha256: &str,
        size: usize,
        now: &str,
    ) -> Result<FileBegin> {
        let conn = self.conn();
        let existing: Option<(i64, String, i64, Option<String>)> = conn
            .query_row(
                "SELECT id, state, next_unit, finished_at FROM feed_file
                 WHERE source_id = ?1 AND sha256 = ?2",
                params![source_id, sha256],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .doing("looking for the file")?;
        match existing {
            Some((file_id, state, _, finished)) if state == "imported" => {
                Ok(FileBegin::Duplicate {
                    file_id,
                    imported_at: finished.unwrap_or_default(),
                })
            }
            Some((file_id, state, next_unit, _)) if state == "importing" => Ok(FileBegin::Resume {
                file_id,
                next_unit: usize::try_from(next_unit).unwrap_or(0),
            }),
            Some((file_id, _, _, _)) => {
                conn.execute(
                    "UPDATE feed_file SET state = 'importing', reason = NULL, next_unit = 0,
                        accepted = 0, rejected = 0, finished_at = NULL, name = ?2
                     WHERE id = ?1",
                    params![file_id, name],
                )
                .doing("restarting a quarantined file")?;
                conn.execute("DELETE FROM feed_reject WHERE feed_file_id = ?1", [file_id])
                    .doing("clearing old rejects")?;
                Ok(FileBegin::Start { file_id })
            }
            None => {
                conn.execute(
                    "INSERT INTO feed_file (source_id, name, sha256, size, state, received_at)
                     VALUES (?1, ?2, ?3, ?4, 'importing', ?5)",
                    params![source_id, name, sha256, super::as_i64(size), now],
                )
                .doing("recording the file")?;
                Ok(FileBegin::Start {
                    file_id: conn.last_insert_rowid(),
                })
            }
        }
    }

    /// Records progress: units before `next_unit` are committed with this transaction.
    pub fn file_progress(
        &self,
        file_id: i64,
        next_unit: usize,
        accepted: usize,
        rejected: usize,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE feed_file SET next_unit = ?2, accepted = accepted + ?3,
                    rejected = rejected + ?4 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    file_id,
                    super::as_i64(next_unit),
                    super::as_i64(accepted),
                    super::as_i64(rejected)
                ])
            })
            .doing("recording import progress")?;
        Ok(())
    }

    pub fn reject_unit(
        &self,
        file_id: i64,
        unit_index: usize,
        position: &str,
        reason: &str,
        raw: &[u8],
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT OR IGNORE INTO feed_reject (feed_file_id, unit_index, position, reason, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![file_id, super::as_i64(unit_index), position, reason, raw])
            })
            .doing("recording a rejected unit")?;
        Ok(())
    }

    pub fn finish_file(&self, file_id: i64, units: usize, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE feed_file SET state = 'imported', units = ?2, finished_at = ?3
                 WHERE id = ?1",
                params![file_id, super::as_i64(units), now],
            )
            .doing("finishing the file")?;
        Ok(())
    }

    pub fn quarantine_file(&self, file_id: i64, reason: &str, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE feed_file SET state = 'quarantined', reason = ?2, finished_at = ?3
                 WHERE id = ?1",
                params![file_id, reason, now],
            )
            .doing("quarantining the file")?;
        Ok(())
    }
}

impl Store {
    pub fn file(&self, file_id: i64) -> Result<Option<FileRow>> {
        self.conn()
            .query_row(
                "SELECT f.id, s.code, f.name, f.sha256, f.size, f.state, f.received_at,
                        f.finished_at, f.units, f.accepted, f.rejected, f.reason
                 FROM feed_file f JOIN source s ON s.id = f.source_id WHERE f.id = ?1",
                [file_id],
                |r| {
                    Ok(FileRow {
                        id: r.get(0)?,
                        source_code: r.get(1)?,
                        name: r.get(2)?,
                        sha256: r.get(3)?,
                        size: r.get(4)?,
                        state: r.get(5)?,
                        received_at: r.get(6)?,
                        finished_at: r.get(7)?,
                        units: r.get(8)?,
                        accepted: r.get(9)?,
                        rejected: r.get(10)?,
                        reason: r.get(11)?,
                    })
                },
            )
            .optional()
            .doing("reading a file")
    }

    /// The rejects of one file: (position, reason), in file order.
    pub fn file_rejects(&self, file_id: i64) -> Result<Vec<(String, String)>> {
        self.conn()
            .prepare(
                "SELECT position, reason FROM feed_reject WHERE feed_file_id = ?1
                 ORDER BY unit_index",
            )
            .and_then(|mut s| {
                s.query_map([file_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .doing("reading rejects")
    }
}
