//! Before an existing database is migrated to a newer schema, a verified copy of it is taken
//! into `DATA_DIR/backups/` and where it is said (issue 14: upgrades). Should a migration fail,
//! the copy is put back through the open connection, so the database is left as the older
//! sharedcare wrote it and the older binary can run it again.

use super::backup::check_database_file;
use crate::error::{DbContext, Error, Result};
use rusqlite::backup::Backup;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Takes the verified copy of the database at `path` (schema `found`) before it is migrated
/// to `to`; returns where it is.
pub(super) fn backup_before(
    conn: &Connection,
    path: &Path,
    found: i64,
    to: i64,
) -> Result<PathBuf> {
    let dir = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("backups");
    crate::data_dir::create_private_dir(&dir).map_err(|source| Error::Io {
        doing: "create",
        path: dir.clone(),
        source,
    })?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let copy = dir.join(format!("before-schema-{to}-from-{found}-{stamp}.db"));
    let _ = std::fs::remove_file(&copy);
    // Private before the first page of the record is in it, and gone again if the copy cannot
    // be finished (a full disk, say): half a copy of the record helps no one and holds the
    // space the upgrade's caller needs to recover.
    crate::data_dir::write_private(&copy, b"").map_err(|source| Error::Io {
        doing: "create",
        path: copy.clone(),
        source,
    })?;
    let copied = copy_into(conn, &copy);
    if let Err(e) = copied {
        for leftover in [copy.clone(), copy.with_extension("db-journal")] {
            let _ = std::fs::remove_file(leftover);
        }
        return Err(e);
    }
    let version = check_database_file(&copy)?;
    if version != found {
        return Err(Error::Invalid(format!(
            "the pre-upgrade backup {} reads as schema {version}, not {found}",
            copy.display()
        )));
    }
    Ok(copy)
}

fn copy_into(conn: &Connection, copy: &Path) -> Result<()> {
    let mut out = Connection::open(copy).doing("creating the pre-upgrade backup")?;
    let backup = Backup::new(conn, &mut out).doing("starting the pre-upgrade backup")?;
    backup
        .run_to_completion(1024, Duration::from_millis(1), None)
        .doing("copying the database before its upgrade")
}

/// Puts the pre-upgrade copy back into the open database after a failed migration.
pub(super) fn put_back(conn: &mut Connection, copy: &Path) -> Result<()> {
    let from = Connection::open(copy).doing("opening the pre-upgrade backup")?;
    Backup::new(&from, conn)
        .doing("starting to put the pre-upgrade backup back")?
        .run_to_completion(1024, Duration::from_millis(1), None)
        .doing("putting the pre-upgrade backup back")?;
    Ok(())
}
