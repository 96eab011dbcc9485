//! The audit trail's own file, beside the database: `sharedcare-audit.db` next to
//! `sharedcare.db` (see [`audit_path`]).
//!
//! Why a second file: a page view writes an audit event, and a commit to a WAL database makes
//! every other connection to it throw its page cache away. With the trail in its own file,
//! reading a record writes nothing to the database the records live in.
//!
//! Who writes it: only [`AuditFile`], one connection per process (the audit writer in
//! `crate::audit::writer`), which opens the audit file as its main database and the records
//! database read-only. Request connections attach the audit file read-only ([`attach`]), for
//! reports and verify; a read-only attachment also keeps their write transactions (`BEGIN
//! IMMEDIATE` locks every writable attached file) from ever holding the audit file's lock.
//!
//! How a change stays atomic with its event: SQLite cannot commit one transaction across two
//! WAL files atomically, so a change's event is written into `audit_outbox` in the records
//! database, inside the change's own transaction. The audit writer moves outbox rows, in id
//! order, into the chain; the highest id it has moved is kept in the audit file
//! (`outbox_moved`) and advances in the same audit transaction as the events, so a row is moved
//! exactly once, whenever the process dies. Moved rows are deleted later by the next change's
//! transaction (the outbox id is `AUTOINCREMENT`, never reused). On every start the outbox is
//! drained, so no committed change is ever without its event in the chain for longer than the
//! process that made it lives.

use crate::error::{DbContext, Error, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The schema of the audit file at [`AUDIT_FILE_VERSION`]; its `user_version` records it.
const AUDIT_SCHEMA: &str = "
-- Every look at patient data and every security event, in order, each chained by HMAC to the
-- one before (see src/audit/chain.rs). Moved here from the records database at schema 12.
CREATE TABLE audit_event (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER,
    actor TEXT,
    role TEXT,
    org TEXT,
    action TEXT NOT NULL,
    person_id INTEGER,
    detail TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    ip TEXT,
    reason TEXT,
    profile TEXT,
    hash TEXT
) STRICT;
CREATE INDEX audit_event_person ON audit_event(person_id) WHERE person_id IS NOT NULL;
CREATE INDEX audit_event_user ON audit_event(user_id);
-- The highest audit_outbox id (in the records database) whose event is in audit_event.
CREATE TABLE outbox_moved (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL
) STRICT;
INSERT INTO outbox_moved (one, last_id) VALUES (1, 0);
";

pub const AUDIT_FILE_VERSION: i64 = 1;

/// Every column of an event, in the order both tables keep them.
pub(super) const EVENT_COLUMNS: &str =
    "seq, at, user_id, actor, role, org, action, person_id, detail, outcome, ip, reason, profile, hash";

/// The audit file of the database at `db`: `X.db` → `X-audit.db`, so a backup's pair is found
/// by its name. An in-memory database has an in-memory trail.
pub fn audit_path(db: &Path) -> PathBuf {
    if db.as_os_str() == ":memory:" {
        return db.to_path_buf();
    }
    let stem = db
        .file_stem()
        .map_or_else(|| "sharedcare".into(), |s| s.to_string_lossy().into_owned());
    db.with_file_name(format!("{stem}-audit.db"))
}

/// Creates the audit file when it is not there (private, WAL) and brings its schema up to
/// date; a file written by a newer sharedcare is refused.
pub(super) fn prepare(path: &Path) -> Result<()> {
    super::make_database_private(path)?;
    let conn = Connection::open(path).map_err(|source| Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    configure(&conn).doing("configuring the audit file")?;
    init(&conn, path)
}

fn init(conn: &Connection, path: &Path) -> Result<()> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .doing("reading the audit file's version")?;
    if found > AUDIT_FILE_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: AUDIT_FILE_VERSION,
        });
    }
    if found == 0 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             {AUDIT_SCHEMA}
             PRAGMA user_version = {AUDIT_FILE_VERSION};
             COMMIT;"
        ))
        .or_else(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            // Another process made it between our read and our write lock.
            let now: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap_or(0);
            if now == AUDIT_FILE_VERSION {
                Ok(())
            } else {
                Err(e)
            }
        })
        .doing("creating the audit file")?;
    }
    Ok(())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;",
    )?;
    conn.busy_handler(Some(super::retry_every_millisecond))?;
    Ok(())
}

/// Attaches the audit file of `db` to a records connection as `audit`. Read-only, except for
/// an in-memory database (tests), whose trail can only live in the same connection.
pub(super) fn attach(conn: &Connection, db: &Path, writable: bool) -> Result<()> {
    let path = audit_path(db);
    if path.as_os_str() == ":memory:" {
        conn.execute_batch("ATTACH DATABASE ':memory:' AS audit")
            .doing("attaching the audit trail")?;
        return init_attached(conn);
    }
    let uri = file_uri(&path, if writable { "rw" } else { "ro" });
    conn.execute("ATTACH DATABASE ?1 AS audit", [uri])
        .doing("attaching the audit file")?;
    Ok(())
}

pub(super) fn detach(conn: &Connection) -> Result<()> {
    conn.execute_batch("DETACH DATABASE audit")
        .doing("detaching the audit file")
}

fn init_attached(conn: &Connection) -> Result<()> {
    let schema = AUDIT_SCHEMA
        .replace("CREATE TABLE ", "CREATE TABLE audit.")
        .replace("CREATE INDEX ", "CREATE INDEX audit.")
        .replace("INSERT INTO ", "INSERT INTO audit.");
    conn.execute_batch(&format!(
        "{schema} PRAGMA audit.user_version = {AUDIT_FILE_VERSION};"
    ))
    .doing("creating the in-memory audit trail")
}

fn file_uri(path: &Path, mode: &str) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
            _ => uri.push(char::from(b)),
        }
    }
    uri.push_str("?mode=");
    uri.push_str(mode);
    uri
}

/// Before the records database's schema 12 drops its `audit_event` table: copies every event
/// into the audit file (attached writable as `audit`) as it stands, hashes and all, in one
/// audit-file transaction, and checks each one arrived unchanged. Run again after a crash, it
/// copies nothing twice (by seq) and checks again; only then does schema 12 drop the table.
pub(super) fn move_legacy_events(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "BEGIN;
         INSERT OR IGNORE INTO audit.audit_event ({EVENT_COLUMNS})
             SELECT {EVENT_COLUMNS} FROM main.audit_event ORDER BY seq;
         COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
    .doing("moving the audit trail into its own file")?;
    let differ: i64 = conn
        .query_row(
            "SELECT count(*) FROM main.audit_event m LEFT JOIN audit.audit_event a USING (seq)
             WHERE a.seq IS NULL OR a.at IS NOT m.at OR a.action IS NOT m.action
                OR a.hash IS NOT m.hash OR a.person_id IS NOT m.person_id
                OR a.detail IS NOT m.detail OR a.actor IS NOT m.actor",
            [],
            |r| r.get(0),
        )
        .doing("checking the moved audit trail")?;
    if differ > 0 {
        return Err(Error::Audit(format!(
            "{differ} audit events of the database differ from those already in its audit file, \
             so the trail was not moved and nothing was changed; keep both files and ask for \
             support (the database's own events are untouched)"
        )));
    }
    let moved: i64 = conn
        .query_row("SELECT count(*) FROM main.audit_event", [], |r| r.get(0))
        .doing("counting the moved audit trail")?;
    if moved > 0 {
        log::info!("{moved} audit events moved into the audit file");
    }
    Ok(())
}

/// After a restore the records database may be older than its audit file: outbox ids must
/// start after the highest one the audit file has moved, or a new change's event would be
/// taken for one already moved. A write to the records database only when they disagree.
pub(super) fn align_outbox_ids(conn: &Connection) -> Result<()> {
    let moved: i64 = conn
        .query_row("SELECT last_id FROM audit.outbox_moved", [], |r| r.get(0))
        .doing("reading the audit outbox mark")?;
    let next: i64 = conn
        .query_row(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_outbox'), 0)",
            [],
            |r| r.get(0),
        )
        .doing("reading the audit outbox ids")?;
    if next >= moved {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DELETE FROM sqlite_sequence WHERE name = 'audit_outbox';
         INSERT INTO sqlite_sequence (name, seq) VALUES ('audit_outbox', {moved});
         COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
    .doing("moving the audit outbox ids past those already moved")
}

/// The audit writer's connection: the audit file as `main`, the records database read-only as
/// `records`. One per process; see [`crate::audit::writer`].
pub struct AuditFile {
    pub(super) conn: Connection,
}

impl std::fmt::Debug for AuditFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditFile")
    }
}

impl AuditFile {
    /// Opens the audit file of the database at `db` for writing.
    pub fn open(db: &Path) -> Result<Self> {
        let path = audit_path(db);
        if path.as_os_str() == ":memory:" {
            return Err(Error::Audit(
                "an in-memory database has no audit file to write (open a database file)".into(),
            ));
        }
        prepare(&path)?;
        let conn = Connection::open(&path).map_err(|source| Error::Open {
            path: path.clone(),
            source,
        })?;
        configure(&conn).doing("configuring the audit writer")?;
        conn.set_prepared_statement_cache_capacity(32);
        conn.execute("ATTACH DATABASE ?1 AS records", [file_uri(db, "ro")])
            .doing("attaching the database to the audit writer")?;
        Ok(Self { conn })
    }
}

impl super::Store {
    /// Copies the audit file, as this connection sees it now, to `dest` (SQLite's online
    /// backup, so the writer carries on), self-contained in rollback-journal mode.
    pub fn backup_audit_to(&self, dest: &Path) -> Result<()> {
        let mut out = Connection::open(dest).doing("creating the audit backup file")?;
        {
            let backup = rusqlite::backup::Backup::new_with_names(
                self.conn(),
                c"audit",
                &mut out,
                rusqlite::MAIN_DB,
            )
            .doing("starting the audit backup")?;
            backup
                .run_to_completion(512, std::time::Duration::from_millis(5), None)
                .doing("copying the audit file")?;
        }
        out.pragma_update(None, "journal_mode", "DELETE")
            .doing("finishing the audit backup")?;
        Ok(())
    }
}

/// Opens a candidate audit file (never creating one) and checks it is a sharedcare audit file
/// this version understands and that `PRAGMA integrity_check` passes. Leaves it in
/// rollback-journal mode, self-contained.
pub fn check_audit_file(path: &Path) -> Result<()> {
    let refuse = |why: String| {
        Error::Invalid(format!(
            "{} is not a usable sharedcare audit file: {why}",
            path.display()
        ))
    };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| refuse(e.to_string()))?;
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| refuse(format!("it cannot be read ({e})")))?;
    if integrity != ["ok"] {
        return Err(refuse(format!(
            "integrity_check failed: {}",
            integrity.join("; ")
        )));
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| refuse(e.to_string()))?;
    if !(1..=AUDIT_FILE_VERSION).contains(&version) {
        return Err(refuse(format!(
            "its version is {version}; this sharedcare reads 1 to {AUDIT_FILE_VERSION}"
        )));
    }
    conn.query_row("SELECT count(*) FROM audit_event", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| refuse(format!("it has no audit trail ({e})")))?;
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(|e| refuse(e.to_string()))?;
    Ok(())
}
