//! What an administrator sees and decides about feed data that did not import: a source's
//! recent files, its rejected units with their raw bytes, and the replay / discard decisions
//! (who, when, a note) recorded against them. Nothing here deletes a row.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// A file as the feed pages list it, with any decision taken on it.
#[derive(Debug, Clone, Serialize)]
pub struct FileListRow {
    pub id: i64,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub state: String,
    pub received_at: String,
    pub finished_at: Option<String>,
    pub accepted: i64,
    pub rejected: i64,
    pub reason: Option<String>,
    pub decision: Option<String>,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

/// A rejected unit. `raw` is empty when listed, filled when read alone.
#[derive(Debug, Clone, Serialize)]
pub struct RejectRow {
    pub id: i64,
    pub file_id: i64,
    pub source_code: String,
    pub file_name: String,
    pub unit_index: i64,
    pub position: String,
    pub reason: String,
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub raw_len: i64,
    /// open, replayed or discarded.
    pub state: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

const FILE_SELECT: &str = "SELECT id, name, sha256, size, state, received_at, finished_at,
        accepted, rejected, reason, decision, note, decided_by, decided_at FROM feed_file";

fn file_row(r: &Row<'_>) -> rusqlite::Result<FileListRow> {
    Ok(FileListRow {
        id: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        size: r.get(3)?,
        state: r.get(4)?,
        received_at: r.get(5)?,
        finished_at: r.get(6)?,
        accepted: r.get(7)?,
        rejected: r.get(8)?,
        reason: r.get(9)?,
        decision: r.get(10)?,
        note: r.get(11)?,
        decided_by: r.get(12)?,
        decided_at: r.get(13)?,
    })
}

/// `raw_sql` is `x.raw` to read the bytes or `x''` to leave them out of a listing.
fn reject_select(raw_sql: &str) -> String {
    format!(
        "SELECT x.id, x.feed_file_id, s.code, f.name, x.unit_index, x.position, x.reason,
            {raw_sql}, length(x.raw), x.state, x.note, x.decided_by, x.decided_at
         FROM feed_reject x JOIN feed_file f ON f.id = x.feed_file_id
         JOIN source s ON s.id = f.source_id"
    )
}

fn reject_row(r: &Row<'_>) -> rusqlite::Result<RejectRow> {
    Ok(RejectRow {
        id: r.get(0)?,
        file_id: r.get(1)?,
        source_code: r.get(2)?,
        file_name: r.get(3)?,
        unit_index: r.get(4)?,
        position: r.get(5)?,
        reason: r.get(6)?,
        raw: r.get(7)?,
        raw_len: r.get(8)?,
        state: r.get(9)?,
        note: r.get(10)?,
        decided_by: r.get(11)?,
        decided_at: r.get(12)?,
    })
}

impl Store {
    /// A source's most recent files, newest first.
    pub fn recent_files(&self, source_id: i64, limit: usize) -> Result<Vec<FileListRow>> {
        self.conn()
            .prepare(&format!(
                "{FILE_SELECT} WHERE source_id = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![source_id, super::as_i64(limit)], file_row)?
                    .collect()
            })
            .doing("listing a source's files")
    }

    /// One file with its decision, when it exists.
    pub fn file_with_decision(&self, file_id: i64) -> Result<Option<FileListRow>> {
        self.conn()
            .query_row(&format!("{FILE_SELECT} WHERE id = ?1"), [file_id], file_row)
            .optional()
            .doing("reading a file")
    }

    /// A source's rejected units, open ones first, then newest first; without raw bytes.
    pub fn source_rejects(&self, source_id: i64, limit: usize) -> Result<Vec<RejectRow>> {
        self.conn()
            .prepare(&format!(
                "{} WHERE f.source_id = ?1
                 ORDER BY x.state = 'open' DESC, x.feed_file_id DESC, x.unit_index LIMIT ?2",
                reject_select("x''")
            ))
            .and_then(|mut s| {
                s.query_map(params![source_id, super::as_i64(limit)], reject_row)?
                    .collect()
            })
            .doing("listing a source's rejects")
    }

    /// A file's rejected units in file order; without raw bytes.
    pub fn file_reject_rows(&self, file_id: i64) -> Result<Vec<RejectRow>> {
        self.conn()
            .prepare(&format!(
                "{} WHERE x.feed_file_id = ?1 ORDER BY x.unit_index",
                reject_select("x''")
            ))
            .and_then(|mut s| s.query_map([file_id], reject_row)?.collect())
            .doing("listing a file's rejects")
    }

    /// One rejected unit with its raw bytes.
    pub fn reject(&self, reject_id: i64) -> Result<Option<RejectRow>> {
        self.conn()
            .query_row(
                &format!("{} WHERE x.id = ?1", reject_select("x.raw")),
                [reject_id],
                reject_row,
            )
            .optional()
            .doing("reading a rejected unit")
    }
}

impl Tx<'_> {
    /// The unit imported on replay: it no longer counts as rejected in its file's figures.
    pub fn reject_replayed(&self, reject_id: i64, by: &str, now: &str) -> Result<bool> {
        let conn = self.conn();
        let n = conn
            .execute(
                "UPDATE feed_reject SET state = 'replayed', decided_by = ?2, decided_at = ?3
                 WHERE id = ?1 AND state = 'open'",
                params![reject_id, by, now],
            )
            .doing("marking a unit replayed")?;
        if n == 1 {
            conn.execute(
                "UPDATE feed_file SET accepted = accepted + 1, rejected = max(rejected - 1, 0)
                 WHERE id = (SELECT feed_file_id FROM feed_reject WHERE id = ?1)",
                [reject_id],
            )
            .doing("recounting a file")?;
        }
        Ok(n == 1)
    }

    /// A replay that failed again: the unit stays open with the new reason.
    pub fn reject_reason(&self, reject_id: i64, reason: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE feed_reject SET reason = ?2 WHERE id = ?1",
                params![reject_id, reason],
            )
            .doing("updating a rejected unit's reason")?;
        Ok(())
    }

    pub fn reject_discarded(
        &self,
        reject_id: i64,
        by: &str,
        note: &str,
        now: &str,
    ) -> Result<bool> {
        self.conn()
            .execute(
                "UPDATE feed_reject SET state = 'discarded', note = ?2, decided_by = ?3,
                    decided_at = ?4 WHERE id = ?1 AND state = 'open'",
                params![reject_id, note, by, now],
            )
            .map(|n| n == 1)
            .doing("discarding a rejected unit")
    }

    /// Records a decision (`replayed` or `discarded`) on a quarantined file; false when it
    /// was decided already (by someone else, a moment ago), and then nothing changes.
    pub fn file_decided(
        &self,
        file_id: i64,
        decision: &str,
        by: &str,
        note: Option<&str>,
        now: &str,
    ) -> Result<bool> {
        self.conn()
            .execute(
                "UPDATE feed_file SET decision = ?2, note = ?3, decided_by = ?4, decided_at = ?5
                 WHERE id = ?1 AND decision IS NULL",
                params![file_id, decision, note, by, now],
            )
            .map(|n| n == 1)
            .doing("recording a decision on a file")
    }
}
