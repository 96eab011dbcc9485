//! Feed operations: each source's cadence, drop folder and SFTP keys, the inbox scanner's
//! observations, the record of scheduled job runs, feed-health counts, and the online backup.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use std::path::Path;

/// How a source delivers, beyond what `SourceRow` says.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceFeed {
    pub cadence: Option<String>,
    pub drop_folder: Option<String>,
    pub keys: usize,
}

/// One source's traffic, for the feed-health table. Times are RFC 3339 text.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeedCounts {
    pub last_received: Option<String>,
    pub last_success: Option<String>,
    pub files_today: i64,
    pub files_7d: i64,
    pub messages_today: i64,
    pub messages_7d: i64,
    pub rejects_today: i64,
    pub rejects_7d: i64,
    pub quarantined_files: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobRunRow {
    pub id: i64,
    pub job: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub message: Option<String>,
}

impl Tx<'_> {
    /// Sets (or with `None` clears) the expected cadence.
    pub fn set_source_cadence(&self, source_id: i64, cadence: Option<&str>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE source SET cadence = ?2 WHERE id = ?1",
                params![source_id, cadence],
            )
            .doing("saving the cadence")?;
        Ok(())
    }

    /// Sets (or with `None` clears) the extra drop folder.
    pub fn set_source_drop_folder(&self, source_id: i64, folder: Option<&str>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE source SET drop_folder = ?2 WHERE id = ?1",
                params![source_id, folder],
            )
            .doing("saving the drop folder")?;
        Ok(())
    }

    /// Records what a scan saw of a waiting file; true when the previous scan saw the same
    /// size and modification time (the file has stopped changing).
    pub fn observe_inbox_file(
        &self,
        source_id: i64,
        path: &str,
        size: i64,
        mtime_ns: i64,
        now: &str,
    ) -> Result<bool> {
        let conn = self.conn();
        let before: Option<(i64, i64)> = conn
            .query_row(
                "SELECT size, mtime_ns FROM inbox_seen WHERE path = ?1",
                [path],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .doing("reading an inbox observation")?;
        if before == Some((size, mtime_ns)) {
            return Ok(true);
        }
        conn.execute(
            "INSERT INTO inbox_seen (path, source_id, size, mtime_ns, seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (path) DO UPDATE SET size = ?3, mtime_ns = ?4, seen_at = ?5",
            params![path, source_id, size, mtime_ns, now],
        )
        .doing("saving an inbox observation")?;
        Ok(false)
    }

    /// Forgets observations of a source's files that are no longer waiting.
    pub fn forget_inbox_files_except(&self, source_id: i64, waiting: &[String]) -> Result<()> {
        let conn = self.conn();
        let seen: Vec<String> = conn
            .prepare("SELECT path FROM inbox_seen WHERE source_id = ?1")
            .and_then(|mut s| s.query_map([source_id], |r| r.get(0))?.collect())
            .doing("listing inbox observations")?;
        for path in seen.iter().filter(|p| !waiting.contains(p)) {
            conn.execute("DELETE FROM inbox_seen WHERE path = ?1", [path])
                .doing("forgetting an inbox observation")?;
        }
        Ok(())
    }

    pub fn job_started(&self, job: &str, now: &str) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO job_run (job, started_at, outcome) VALUES (?1, ?2, 'running')",
            params![job, now],
        )
        .doing("recording a job run")?;
        Ok(conn.last_insert_rowid())
    }

    pub fn job_finished(&self, run_id: i64, now: &str, ok: bool, message: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE job_run SET finished_at = ?2, outcome = ?3, message = ?4 WHERE id = ?1",
                params![run_id, now, if ok { "ok" } else { "failed" }, message],
            )
            .doing("recording a job's end")?;
        Ok(())
    }

    /// Runs still marked running when the scheduler starts were cut short by a stop.
    pub fn jobs_interrupted(&self, now: &str) -> Result<usize> {
        self.conn()
            .execute(
                "UPDATE job_run SET finished_at = ?1, outcome = 'failed',
                    message = 'interrupted: the server stopped during the run'
                 WHERE outcome = 'running'",
                [now],
            )
            .doing("closing interrupted job runs")
    }

    /// Deletes rejected units of files finished before `cutoff`; returns how many.
    pub fn purge_rejects_before(&self, cutoff: &str) -> Result<usize> {
        self.conn()
            .execute(
                "DELETE FROM feed_reject WHERE feed_file_id IN
                    (SELECT id FROM feed_file WHERE finished_at IS NOT NULL AND finished_at < ?1)",
                [cutoff],
            )
            .doing("purging old rejects")
    }

    /// One step of merging a full-text index's segments into one (as `'optimize'` does, a few
    /// megabytes at a time): returns whether there was work to do.
    pub fn fts_merge_step(&self, table: FullTextIndex, pages: i64) -> Result<bool> {
        let doing = "optimising the search indexes";
        let total = || -> Result<i64> {
            self.conn()
                .query_row("SELECT total_changes()", [], |r| r.get(0))
                .doing(doing)
        };
        let before = total()?;
        let table = table.name();
        self.conn()
            .execute(
                &format!("INSERT INTO {table} ({table}, rank) VALUES ('merge', ?1)"),
                // Negative: when no merge is under way, every segment takes part (an optimise).
                [-pages.abs()],
            )
            .doing(doing)?;
        // SQLite's documented test: a step that merged nothing changes fewer than two rows.
        Ok(total()? - before >= 2)
    }
}

impl Store {
    pub fn source_feed(&self, source_id: i64) -> Result<SourceFeed> {
        self.conn()
            .query_row(
                "SELECT cadence, drop_folder,
                    (SELECT count(*) FROM source_key k WHERE k.source_id = s.id)
                 FROM source s WHERE id = ?1",
                [source_id],
                |r| {
                    Ok(SourceFeed {
                        cadence: r.get(0)?,
                        drop_folder: r.get(1)?,
                        keys: usize::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    })
                },
            )
            .doing("reading a source's feed settings")
    }

    /// Traffic of one source since `today` and since `week` (RFC 3339 text, UTC).
    pub fn feed_counts(&self, source_id: i64, today: &str, week: &str) -> Result<FeedCounts> {
        self.conn()
            .query_row(
                "SELECT max(received_at),
                    max(CASE WHEN state = 'imported' THEN finished_at END),
                    count(CASE WHEN received_at >= ?2 THEN 1 END),
                    count(CASE WHEN received_at >= ?3 THEN 1 END),
                    coalesce(sum(CASE WHEN received_at >= ?2 THEN accepted END), 0),
                    coalesce(sum(CASE WHEN received_at >= ?3 THEN accepted END), 0),
                    coalesce(sum(CASE WHEN received_at >= ?2 THEN rejected END), 0),
                    coalesce(sum(CASE WHEN received_at >= ?3 THEN rejected END), 0),
                    count(CASE WHEN state = 'quarantined' AND decision IS NULL THEN 1 END)
                 FROM feed_file WHERE source_id = ?1",
                params![source_id, today, week],
                |r| {
                    Ok(FeedCounts {
                        last_received: r.get(0)?,
                        last_success: r.get(1)?,
                        files_today: r.get(2)?,
                        files_7d: r.get(3)?,
                        messages_today: r.get(4)?,
                        messages_7d: r.get(5)?,
                        rejects_today: r.get(6)?,
                        rejects_7d: r.get(7)?,
                        quarantined_files: r.get(8)?,
                    })
                },
            )
            .doing("counting a source's files")
    }

    /// The latest job runs, newest first.
    pub fn job_runs(&self, limit: usize) -> Result<Vec<JobRunRow>> {
        self.conn()
            .prepare(
                "SELECT id, job, started_at, finished_at, outcome, message FROM job_run
                 ORDER BY id DESC LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map([super::as_i64(limit)], |r| {
                    Ok(JobRunRow {
                        id: r.get(0)?,
                        job: r.get(1)?,
                        started_at: r.get(2)?,
                        finished_at: r.get(3)?,
                        outcome: r.get(4)?,
                        message: r.get(5)?,
                    })
                })?
                .collect()
            })
            .doing("listing job runs")
    }

    /// Copies the live database, page by page while others keep writing, into `dest` (which must
    /// not exist), then makes the copy a self-contained rollback-journal file.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let mut out = rusqlite::Connection::open(dest).doing("creating the backup file")?;
        {
            let backup =
                rusqlite::backup::Backup::new(self.conn(), &mut out).doing("starting a backup")?;
            backup
                .run_to_completion(512, std::time::Duration::from_millis(5), None)
                .doing("copying the database")?;
        }
        out.pragma_update(None, "journal_mode", "DELETE")
            .doing("finishing the backup")?;
        Ok(())
    }
}

/// The full-text indexes, which the weekly job optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullTextIndex {
    Entries,
    Persons,
}

impl FullTextIndex {
    pub const ALL: [FullTextIndex; 2] = [FullTextIndex::Entries, FullTextIndex::Persons];

    fn name(self) -> &'static str {
        match self {
            FullTextIndex::Entries => "entry_fts",
            FullTextIndex::Persons => "person_search_fts",
        }
    }
}
