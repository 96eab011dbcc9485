//! Checking a database file before trusting it, and holding the live database while a restore
//! swaps the file underneath.

use super::SCHEMA_VERSION;
use crate::error::{DbContext, Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Tables every sharedcare database has had since its first version.
const CORE_TABLES: &[&str] = &["source", "feed_file", "person", "entry"];

/// Opens a candidate file (never creating one) and checks it is a sharedcare database this
/// version understands and that `PRAGMA integrity_check` passes; the error says which check
/// failed. Leaves the file in rollback-journal mode, self-contained. Returns its schema version.
pub fn check_database_file(path: &Path) -> Result<i64> {
    let refuse = |why: String| {
        Error::Invalid(format!(
            "{} is not a usable sharedcare database: {why}",
            path.display()
        ))
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| refuse(e.to_string()))?;
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| refuse(format!("it cannot be read ({e})")))?;
    if integrity != ["ok"] {
        let first: Vec<&str> = integrity.iter().take(3).map(String::as_str).collect();
        return Err(refuse(format!(
            "integrity_check failed: {}",
            first.join("; ")
        )));
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| refuse(e.to_string()))?;
    if !(1..=SCHEMA_VERSION).contains(&version) {
        return Err(refuse(format!(
            "its schema version is {version}; this sharedcare reads 1 to {SCHEMA_VERSION}"
        )));
    }
    for table in CORE_TABLES {
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| refuse(e.to_string()))?;
        if found == 0 {
            return Err(refuse(format!("it has no {table} table")));
        }
    }
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(|e| refuse(e.to_string()))?;
    Ok(version)
}

/// The live database, held exclusively: while this lives no other process can read or write
/// it, and it has no `-wal` file, so the main file alone is the whole database.
pub struct ExclusiveHold {
    conn: Connection,
}

impl ExclusiveHold {
    /// Fails when any other connection has the database open (a running server does).
    pub fn take(path: &Path) -> Result<Self> {
        let busy = || {
            Error::Invalid(format!(
                "the database {} is in use (is `sharedcare serve` running?); stop the server, \
                 then restore",
                path.display()
            ))
        };
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(
            |source| Error::Open {
                path: path.to_path_buf(),
                source,
            },
        )?;
        conn.busy_timeout(std::time::Duration::ZERO)
            .doing("configuring the connection")?;
        // Leaving WAL mode needs every other connection closed: the test that no server runs.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .map_err(|_| busy())?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(busy());
        }
        conn.execute_batch("BEGIN EXCLUSIVE").map_err(|_| busy())?;
        Ok(Self { conn })
    }

    pub fn release(self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}
