//! What operations ask of the database: is it ready, and the figures `/metrics` exposes.

use super::{Store, SCHEMA_VERSION};
use crate::error::{DbContext, Result};
use rusqlite::OptionalExtension;
use serde::Serialize;

/// One source's traffic since the database began, for `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceFigures {
    pub code: String,
    pub messages_accepted: i64,
    pub messages_rejected: i64,
    pub quarantined_files: i64,
    /// When its last file finished importing (RFC 3339), if one has.
    pub last_success: Option<String>,
}

/// The queue and feed figures `/metrics` reads at each scrape.
#[derive(Debug, Clone, Serialize)]
pub struct OpsFigures {
    pub sources: Vec<SourceFigures>,
    pub review_queue: i64,
    pub quarantined_files: i64,
    /// When the audit chain last verified clean (the `audit_verify` job), if it has.
    pub audit_last_verified: Option<String>,
    /// The backup job's last finished run, if it has run.
    pub backup: Option<JobOutcome>,
    /// The restore drill's last finished run, if it has run.
    pub restore_drill: Option<JobOutcome>,
}

/// How a scheduled job last ended, and when it last succeeded.
#[derive(Debug, Clone, Serialize)]
pub struct JobOutcome {
    pub finished_at: String,
    pub ok: bool,
    /// The run's message: an outcome or a reason, never patient data.
    pub message: Option<String>,
    pub last_ok: Option<String>,
}

impl Store {
    pub fn ops_figures(&self) -> Result<OpsFigures> {
        let sources = self
            .conn()
            .prepare(
                "SELECT s.code,
                    coalesce(sum(f.accepted), 0), coalesce(sum(f.rejected), 0),
                    count(CASE WHEN f.state = 'quarantined' AND f.decision IS NULL THEN 1 END),
                    max(CASE WHEN f.state = 'imported' THEN f.finished_at END)
                 FROM source s LEFT JOIN feed_file f ON f.source_id = s.id
                 GROUP BY s.id ORDER BY s.code",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(SourceFigures {
                        code: r.get(0)?,
                        messages_accepted: r.get(1)?,
                        messages_rejected: r.get(2)?,
                        quarantined_files: r.get(3)?,
                        last_success: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .doing("counting each source's messages")?;
        let review_queue = self
            .conn()
            .query_row(
                "SELECT count(*) FROM match_review WHERE state = 'open'",
                [],
                |r| r.get(0),
            )
            .doing("counting the review queue")?;
        let audit_last_verified = self
            .conn()
            .query_row(
                "SELECT max(finished_at) FROM job_run WHERE job = 'audit_verify' AND outcome = 'ok'",
                [],
                |r| r.get(0),
            )
            .doing("reading when the audit chain was last verified")?;
        Ok(OpsFigures {
            quarantined_files: sources.iter().map(|s| s.quarantined_files).sum(),
            sources,
            review_queue,
            audit_last_verified,
            backup: self.job_outcome("backup")?,
            restore_drill: self.job_outcome("restore_drill")?,
        })
    }

    /// How `job` last ended (runs still going are not counted), and when it last succeeded.
    pub fn job_outcome(&self, job: &str) -> Result<Option<JobOutcome>> {
        let last = self
            .conn()
            .query_row(
                "SELECT finished_at, outcome = 'ok', message FROM job_run
                 WHERE job = ?1 AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                [job],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get(2)?)),
            )
            .optional()
            .doing("reading a job's last run")?;
        let Some((finished_at, ok, message)) = last else {
            return Ok(None);
        };
        let last_ok = self
            .conn()
            .query_row(
                "SELECT max(finished_at) FROM job_run WHERE job = ?1 AND outcome = 'ok'",
                [job],
                |r| r.get(0),
            )
            .doing("reading when a job last succeeded")?;
        Ok(Some(JobOutcome {
            finished_at,
            ok,
            message,
            last_ok,
        }))
    }
}

/// Whether the database file can be read, on a connection of its own (a pooled one would
/// answer from its page cache), at the schema this binary writes: the readiness check.
pub fn readable(path: &std::path::Path) -> Result<bool> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .doing("opening the database to check it")?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .doing("reading the schema version")?;
    let _: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .doing("reading the schema")?;
    Ok(version == SCHEMA_VERSION)
}

/// `sharedcare check`'s look at the database file, opened read-only (nothing is migrated or
/// changed): `integrity_check`, and a schema this binary reads. A summary when sound, else why
/// not.
pub fn check_database(path: &std::path::Path) -> std::result::Result<String, String> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot be opened: {e}"))?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("cannot be read: {e}"))?;
    if problems != ["ok"] {
        let first: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        return Err(format!(
            "integrity_check failed: {}; restore the latest backup",
            first.join("; ")
        ));
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("cannot be read: {e}"))?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "schema version {version} is newer than this sharedcare reads ({SCHEMA_VERSION})"
        ));
    }
    let bytes = super::database_bytes(path);
    Ok(format!(
        "integrity ok, schema version {version}{}, {:.1} MiB",
        if version < SCHEMA_VERSION {
            " (the next start migrates it)"
        } else {
            ""
        },
        bytes as f64 / f64::from(1u32 << 20)
    ))
}
