//! The only module that speaks SQL.
//!
//! SQLite in WAL mode with foreign keys on. The schema is built by embedded, forward-only
//! migrations, each applied in one transaction together with the `user_version` that records
//! it; a database written by a newer sharedcare is refused rather than guessed at. The
//! `schema.sql` file at the repository root is the result, for reading (a test keeps it true).
//!
//! Writes happen inside a [`Tx`]; reads use the [`Store`] directly. Each submodule owns one
//! group of tables.

mod access;
mod audit;
pub mod audit_file;
mod audit_write;
pub mod backup;
mod bare;
mod bulk;
pub mod bulk_lock;
mod citizen_links;
mod citizens;
mod decode;
mod entries;
mod feeds;
mod files;
mod find;
pub mod find_terms;
mod links;
mod looks;
#[cfg(test)]
mod migration_tests;
mod misuse;
mod mllp;
mod notifications;
mod ops;
pub mod packed;
mod persons;
pub mod population;
pub mod population_facts;
mod proxies;
mod read;
mod region;
mod replay;
mod reviews;
mod search;
mod search_index;
mod sftp;
mod sources;
mod stats;
pub mod tuning;
mod upgrade;
mod users;
mod write_lock;

pub use access::{AlertRow, NewAlert, ObjectionRow};
pub use audit::{AuditEvent, AuditQuery, AuditRow, AuditSubject, EventText, StoredEvent};
pub use audit_write::HeadCheck;
pub use bare::BareLoad;
pub use bulk::BuildFigures;
pub use citizen_links::NhsHolder;
pub use citizens::{CitizenAccount, CitizenSessionRow, ErrorReportRow, InviteRow};
pub use entries::{EntryOrigin, EntryWrite, SerialisedEntry};
pub use feeds::{FeedCounts, FullTextIndex, JobRunRow, SourceFeed};
pub use files::{FileBegin, FileRow};
pub use links::{LinkMove, PreviewMove, UnmergePreview};
pub use looks::LookRow;
pub use misuse::{EvidenceRow, NewMisuseAlert, PersonFacts, StaffIdentity, TrailEvent, TrailFacts};
#[cfg(test)]
pub(crate) use misuse::{LAST_CLAIM, SEARCH_HITS};
pub use mllp::MllpSource;
pub use notifications::{MailRow, NewNotification, NotificationRow};
pub use ops::{check_database, readable, JobOutcome, OpsFigures, SourceFigures};
pub use persons::{DemographicsWrite, Subject};
pub use proxies::ProxyRow;
pub use read::PersonHit;
pub use region::Linkage;
pub use replay::{FileListRow, RejectRow};
pub use reviews::ReviewRow;
pub use search::SearchPerson;
pub use sftp::{SftpAccount, SftpKeyRow};
pub use sources::{NewSource, SourceRow};
pub use stats::Stats;
pub use users::{SessionInfo, SessionRow, TokenUse, UserRow};

use crate::audit::Chain;
use crate::error::{is_disk_full, DbContext, Error, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Migrations in order; the index + 1 is the schema version. Never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_users_sessions_audit.sql"),
    include_str!("migrations/0003_feeds_jobs.sql"),
    include_str!("migrations/0004_source_sftp.sql"),
    include_str!("migrations/0005_nhs_number_lookup.sql"),
    include_str!("migrations/0006_feed_decisions.sql"),
    include_str!("migrations/0007_access.sql"),
    include_str!("migrations/0008_audit_chain.sql"),
    include_str!("migrations/0009_feed_file_received.sql"),
    include_str!("migrations/0010_duties.sql"),
    include_str!("migrations/0011_alert_category.sql"),
    include_str!("migrations/0012_audit_file.sql"),
    include_str!("migrations/0013_person_search_fts.sql"),
    include_str!("migrations/0014_source_mllp.sql"),
    include_str!("migrations/0015_deferred_builds.sql"),
    include_str!("migrations/0016_misuse_watch.sql"),
    include_str!("migrations/0017_notifications.sql"),
    include_str!("migrations/0018_citizens.sql"),
    include_str!("migrations/0019_person_merged_into_index.sql"),
    include_str!("migrations/0020_population.sql"),
    include_str!("migrations/0021_population_record_totals.sql"),
    include_str!("migrations/0022_match_review_open_by_person.sql"),
    include_str!("migrations/0023_population_incremental.sql"),
    include_str!("migrations/0024_packed_bodies.sql"),
];

/// The schema version that moved the audit trail into its own file (see [`audit_file`]).
pub const AUDIT_SPLIT_VERSION: i64 = 12;

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The key and head that audit events are chained with; without it no audit event can be
    /// written (see [`Store::with_audit`]).
    audit: Option<Arc<Chain>>,
    /// A bulk load's index builds are pending (see [`bulk`]): transactions leave the
    /// full-text indexes alone, since they will be built whole at the end.
    deferring: bool,
    /// The key citizens' TOTP secrets are sealed with, read at first need.
    secrets: citizens::SecretKeyCell,
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls everything back.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    pending: std::cell::RefCell<search_index::Pending>,
    audit: audit::TxAudit,
    deferring: bool,
    /// Whether this transaction changed what the deferred full-text indexes would hold.
    deferred_changes: std::cell::Cell<bool>,
    secrets: &'a citizens::SecretKeyCell,
    /// Last, so that it ends after the transaction (see [`write_lock`]).
    _held: write_lock::Held,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |source| Error::Open {
            path: path.to_path_buf(),
            source,
        };
        make_database_private(path)?;
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure(&conn).map_err(|e| match is_disk_full(&e) {
            true => Error::DiskFull {
                doing: "opening the database".into(),
            },
            false => open_err(e),
        })?;
        // The audit file is attached writable only while migrating (schema 12 moves the old
        // events into it); a request connection reads it and never writes it.
        audit_file::prepare(&audit_file::audit_path(path))?;
        audit_file::attach(&conn, path, true)?;
        migrate(&mut conn, path)?;
        audit_file::detach(&conn)?;
        audit_file::attach(&conn, path, false)?;
        audit_file::align_outbox_ids(&conn)?;
        let deferring = bulk::pending(&conn)?;
        // Secrets an older version stored plain are sealed at the first start of this one.
        let secrets = citizens::SecretKeyCell::beside(path);
        citizens::seal_plain_secrets(&mut conn, &secrets)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            audit: None,
            deferring,
            secrets,
        })
    }

    /// An in-memory database with the full schema, for tests.
    pub fn open_in_memory() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let mut conn = Connection::open_in_memory().map_err(|source| Error::Open {
            path: path.clone(),
            source,
        })?;
        configure(&conn).doing("configuring the connection")?;
        audit_file::attach(&conn, &path, true)?;
        migrate(&mut conn, &path)?;
        Ok(Self {
            conn,
            path,
            audit: None,
            deferring: false,
            secrets: citizens::SecretKeyCell::in_memory(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    #[track_caller]
    pub fn begin(&mut self) -> Result<Tx<'_>> {
        let caller = std::panic::Location::caller();
        WAITING_WRITERS.fetch_add(1, Ordering::SeqCst);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate);
        WAITING_WRITERS.fetch_sub(1, Ordering::SeqCst);
        let tx = tx.doing("starting a write transaction")?;
        Ok(Tx {
            tx,
            pending: Default::default(),
            audit: audit::TxAudit::new(self.audit.clone()),
            deferring: self.deferring,
            deferred_changes: Default::default(),
            secrets: &self.secrets,
            _held: write_lock::Held::new(caller),
        })
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Settings for a connection that serves requests. It never copies the write-ahead log
    /// back itself: the server's checkpointer does (see [`Store::checkpoint_passive`]), so no
    /// page view waits while sixteen megabytes are copied. Its page cache is small because
    /// the server keeps several such connections and the operating system caches the file.
    pub fn for_requests(self) -> Result<Self> {
        self.conn
            .execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -16384;")
            .doing("configuring a request connection")?;
        Ok(self)
    }

    /// Settings for a bulk import from the command line (`sharedcare import`, `demo load`),
    /// which keep its memory to about `mib` MiB at any size:
    /// - a page cache of `mib` MiB: at a region's size the person, link and entry indexes no
    ///   longer fit the default cache, and the import spent a third of its time fetching pages
    ///   from the operating system's;
    /// - no memory map: the writer's pages are in that cache, and a map of the file's first
    ///   2 GiB only added them again to the process's resident size;
    /// - sorts (an index built at the end of a bulk load) spill to temporary files rather
    ///   than memory, and use a helper thread for each further core.
    pub fn for_bulk_import(&self, mib: i64) -> Result<()> {
        let helpers = std::thread::available_parallelism().map_or(0, |n| n.get() - 1);
        self.conn
            .execute_batch(&format!(
                "PRAGMA cache_size = -{}; PRAGMA mmap_size = 0; PRAGMA temp_store = FILE;
                 PRAGMA threads = {helpers};",
                mib * 1024
            ))
            .doing("configuring a bulk import")
    }

    /// Copies what it can of the write-ahead log back into the database file, waiting for no
    /// reader or writer.
    pub fn checkpoint_passive(&self) -> Result<()> {
        if checkpoints_left_to_litestream() {
            return Ok(());
        }
        self.conn
            .query_row("PRAGMA main.wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .doing("checkpointing the write-ahead log")
    }

    /// Copies the write-ahead log into the database file and empties it, so that the file's
    /// size is the database's.
    pub fn checkpoint(&self) -> Result<()> {
        if checkpoints_left_to_litestream() {
            return Ok(());
        }
        self.conn
            .query_row("PRAGMA main.wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .doing("checkpointing the write-ahead log")
    }

    /// `PRAGMA integrity_check`: "ok" or the problems found.
    pub fn integrity_check(&self) -> Result<String> {
        let rows: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .doing("checking integrity")?;
        Ok(rows.join("\n"))
    }

    /// The schema as SQLite holds it, in the form `schema.sql` keeps.
    pub fn schema_sql(&self) -> Result<String> {
        let statements: Vec<String> = self
            .conn
            .prepare(
                "SELECT sql FROM sqlite_schema
                 WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
                   AND NOT (type = 'table' AND name GLOB '*_fts_*')
                 ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .doing("reading the schema")?;
        let mut out = format!(
            "-- The sharedcare schema at version {SCHEMA_VERSION}, as the embedded migrations build it.\n\
             -- For reading only: src/store/migrations/ is the truth, and a test keeps this file equal.\n\n"
        );
        for s in statements {
            out.push_str(&s);
            out.push_str(";\n\n");
        }
        let audit: Vec<String> = self
            .conn
            .prepare(
                "SELECT sql FROM audit.sqlite_schema WHERE sql IS NOT NULL
                 ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .doing("reading the audit file's schema")?;
        out.push_str(&format!(
            "-- The audit file (sharedcare-audit.db) at version {}: see src/store/audit_file.rs.\n\n",
            audit_file::AUDIT_FILE_VERSION
        ));
        for s in audit {
            out.push_str(&s);
            out.push_str(";\n\n");
        }
        Ok(out.trim_end().to_owned() + "\n")
    }
}

impl Tx<'_> {
    pub fn commit(self) -> Result<()> {
        self.flush_search_index()?;
        self.tx.commit().doing("committing")?;
        DISK_FULL.store(false, Ordering::SeqCst);
        self.audit.committed()
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }
}

/// Whether this process's last write failed because the disk was full; cleared by the next
/// commit that succeeds. The web server reads it to say why a request failed (a clear page, not
/// a bare 500), since the request's own error is long gone by then.
static DISK_FULL: AtomicBool = AtomicBool::new(false);

/// Records that a write failed for want of space (see [`Error::DiskFull`]).
pub fn note_disk_full() {
    DISK_FULL.store(true, Ordering::SeqCst);
}

/// Whether the last write of this process failed because the disk was full.
pub fn disk_full() -> bool {
    DISK_FULL.load(Ordering::SeqCst)
}

/// Whether Litestream checkpoints this process's databases (`[replication]` is configured):
/// then no connection checkpoints by itself, so that a checkpoint never races Litestream's
/// reading of the write-ahead log (see `replication`).
static CHECKPOINTS_BY_LITESTREAM: AtomicBool = AtomicBool::new(false);

/// Leaves checkpoints to Litestream for every connection this process opens from now on.
pub fn leave_checkpoints_to_litestream() {
    CHECKPOINTS_BY_LITESTREAM.store(true, Ordering::SeqCst);
}

/// Whether checkpoints are left to Litestream.
pub fn checkpoints_left_to_litestream() -> bool {
    CHECKPOINTS_BY_LITESTREAM.load(Ordering::SeqCst)
}

/// Connections of this process waiting for the write lock. A long writer (the importer) lets
/// them go first between its batches ([`yield_to_waiting_writers`]): a page view's audit
/// write then waits for at most one batch, never for a whole import.
static WAITING_WRITERS: AtomicUsize = AtomicUsize::new(0);

/// Whether a connection of this process is waiting for the write lock.
pub fn writers_waiting() -> bool {
    WAITING_WRITERS.load(Ordering::SeqCst) > 0
}

/// Waits, holding no lock, while other connections of this process wait for the write lock,
/// up to `limit`.
pub fn yield_to_waiting_writers(limit: std::time::Duration) {
    let started = std::time::Instant::now();
    while writers_waiting() && started.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

/// Prepared statements each connection keeps for reuse.
const STATEMENT_CACHE: usize = 256;

/// Every connection-level setting, in one place.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "
        -- Readers never block the writer and a crash never leaves a half-written page.
        PRAGMA journal_mode = WAL;
        -- In WAL mode NORMAL is durable across application crashes (a power cut may lose the
        -- last transactions, never corrupt); every import resumes from its last commit.
        PRAGMA synchronous = NORMAL;
        -- References between tables are checked, always.
        PRAGMA foreign_keys = ON;
        -- 64 MiB page cache: the person and entry indexes stay hot during imports.
        PRAGMA cache_size = -65536;
        PRAGMA temp_store = MEMORY;
        -- Checkpoint the WAL every ~16 MiB rather than every 4 MiB: bulk imports spend less time
        -- copying pages back, at the cost of a larger WAL file between checkpoints.
        PRAGMA wal_autocheckpoint = 4000;
        ",
    )?;
    if checkpoints_left_to_litestream() {
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
    }
    // Pages are read where the operating system caches them, not copied (see `tuning`).
    conn.execute_batch(&format!("PRAGMA mmap_size = {};", tuning::mmap_bytes()))?;
    // Room for every statement of the hot paths (record page, search tiers, gate, session,
    // FHIR) so that none is compiled again per request: well over the hundred or so there are.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Wait for a busy database (another connection or sharedcare process holds the write lock)
    // rather than fail at once: up to 10 s, trying again every millisecond. SQLite's own
    // busy_timeout backs off to 100 ms sleeps, so a page view's audit write could lose the
    // lock to an import that commits and begins again many times in a row.
    conn.busy_handler(Some(retry_every_millisecond))?;
    packed::register(conn)
}

/// How long a writer waits for another to release the write lock before giving up.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn retry_every_millisecond(attempts: i32) -> bool {
    if attempts >= BUSY_WAIT.as_millis() as i32 {
        write_lock::log_give_up(BUSY_WAIT);
        return false;
    }
    std::thread::sleep(std::time::Duration::from_millis(1));
    true
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .doing("reading the schema version")?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    // An existing database (not a new one) is copied, verified, before it changes.
    let on_disk = conn.path().is_some_and(|p| !p.is_empty());
    let copy = match (found > 0 && found < SCHEMA_VERSION, on_disk) {
        (true, true) => {
            let copy = upgrade::backup_before(conn, path, found, SCHEMA_VERSION)?;
            log::warn!(
                "upgrading the database from schema {found} to {SCHEMA_VERSION}; a verified \
                 copy of it as it was is {}",
                copy.display()
            );
            Some(copy)
        }
        _ => None,
    };
    let migrated = apply_migrations(conn, found);
    if let (Err(e), Some(copy)) = (&migrated, &copy) {
        upgrade::put_back(conn, copy).map_err(|put| {
            Error::Invalid(format!(
                "the upgrade failed ({e}) and the copy {} could not be put back ({put}): \
                 restore it by hand",
                copy.display()
            ))
        })?;
        log::error!(
            "the upgrade failed; the database is back at schema {found}, as it was ({})",
            copy.display()
        );
    }
    migrated
}

fn apply_migrations(conn: &mut Connection, found: i64) -> Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        if version == AUDIT_SPLIT_VERSION {
            audit_file::move_legacy_events(conn)?;
        }
        // A migration that rebuilds a table others refer to runs with foreign keys off (SQLite
        // can switch them only outside a transaction) and checks every reference before it
        // commits; they are switched back on whatever happens.
        let rebuilds = sql.starts_with(FOREIGN_KEYS_OFF);
        if rebuilds {
            conn.pragma_update(None, "foreign_keys", false)
                .doing("turning foreign keys off for a table rebuild")?;
        }
        let applied = apply_migration(conn, sql, version, rebuilds);
        if rebuilds {
            conn.pragma_update(None, "foreign_keys", true)
                .doing("turning foreign keys back on")?;
        }
        applied?;
        log::info!("database schema migrated to version {version}");
    }
    Ok(())
}

/// The first line of a migration that rebuilds a table other tables refer to.
const FOREIGN_KEYS_OFF: &str = "-- sharedcare: foreign keys off";

/// The first line of a migration that edits table definitions in `sqlite_schema`: the schema
/// version is raised after it, which is how SQLite learns that its definitions changed.
const EDITS_DEFINITIONS: &str = "-- sharedcare: edits table definitions in place";

/// The first line of a migration that (re)creates the person search index: every person is
/// indexed in the same transaction, so an existing data directory can search at once.
const INDEX_PEOPLE: &str = "-- sharedcare: then index every person for search";

fn apply_migration(conn: &mut Connection, sql: &str, version: i64, check: bool) -> Result<()> {
    let tx = conn.transaction().doing("starting a migration")?;
    tx.execute_batch(sql).doing("applying a migration")?;
    if sql.starts_with(EDITS_DEFINITIONS) {
        let edits: i64 = tx
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .doing("reading the schema's edit count")?;
        tx.pragma_update(None, "schema_version", edits + 1)
            .doing("raising the schema's edit count")?;
        // Read afresh here: a definition that does not parse fails the migration, which then
        // changes nothing.
        tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .doing("reading the edited definitions")?;
    }
    if check {
        let broken: i64 = tx
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .doing("checking references after a table rebuild")?;
        if broken > 0 {
            return Err(Error::Invalid(format!(
                "schema migration {version} would leave {broken} broken references; \
                 nothing was changed (restore from a backup if the database was edited by hand)"
            )));
        }
    }
    if sql.starts_with(INDEX_PEOPLE) {
        find::index_every_person(&tx)?;
    }
    tx.pragma_update(None, "user_version", version)
        .doing("recording the schema version")?;
    tx.commit().doing("committing a migration")?;
    Ok(())
}

/// Makes the database file private before SQLite opens it: created 0600 when it is not there
/// yet, and it, its write-ahead log and shared-memory index narrowed to 0600 when an older
/// version left them readable. SQLite gives the `-wal` and `-shm` files it creates the
/// database file's permissions, so they follow.
fn make_database_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| Error::Io {
        doing: "make private",
        path: path.to_path_buf(),
        source,
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    for file in database_files(path) {
        crate::data_dir::make_private(&file).map_err(io)?;
    }
    Ok(())
}

/// A database's files: the database itself, its write-ahead log and the log's shared-memory
/// index.
pub fn database_files(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// What a database takes on disk: the file and its write-ahead log.
pub fn database_bytes(path: &Path) -> u64 {
    database_files(path)[..2]
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// Writes a database file at an older schema `version`, as that version of sharedcare left it
/// (the audit trail still inside it before version 12), for tests of what opening it does.
#[cfg(test)]
pub(crate) fn create_at_version(path: &Path, version: usize) -> Connection {
    let mut conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        .unwrap();
    for (index, sql) in MIGRATIONS[..version].iter().enumerate() {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .unwrap();
        tx.commit().unwrap();
    }
    conn
}

/// A row id as the i64 SQLite uses, from a count or index.
pub(crate) fn as_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
