//! Who may take the bulk path. A bulk load drops secondary indexes and leaves the full-text
//! indexes behind until its end, so no server may read the database meanwhile: its searches
//! would quietly miss people. A server start refuses a database with builds pending, but a
//! server already running would not know; so the two also hold a lock on a file beside the
//! database (`sharedcare.db.serving`): a running server holds it shared for as long as it
//! runs, a bulk load holds it alone for as long as it loads and builds. The locks are the
//! operating system's (`flock`), so a process that dies lets go of its lock.

use crate::data_dir::create_private_file;
use crate::error::{Error, Result};
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

/// Held by a running server: no bulk load can begin while it lives.
#[derive(Debug)]
pub struct ServingLock {
    _held: File,
}

/// Held by a bulk load: no server can start while it lives.
#[derive(Debug)]
pub struct BulkLock {
    _held: File,
}

fn lock_file(database: &Path) -> Result<File> {
    let path = lock_path(database);
    create_private_file(&path)
        .map_err(|e| Error::Invalid(format!("cannot open the lock file {}: {e}", path.display())))
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".serving");
    PathBuf::from(name)
}

/// The lock a server holds while it serves `database`; refused while a bulk load runs.
pub fn serving(database: &Path) -> Result<ServingLock> {
    let file = lock_file(database)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(ServingLock { _held: file }),
        Err(TryLockError::WouldBlock) => Err(Error::Invalid(format!(
            "a bulk load is running on the database {} and search is incomplete until it \
             ends; start the server when it has finished",
            database.display()
        ))),
        Err(TryLockError::Error(e)) => Err(Error::Invalid(format!(
            "cannot lock {}: {e}",
            lock_path(database).display()
        ))),
    }
}

/// The lock a bulk load holds on `database`; `None` while a server has it open.
pub fn bulk(database: &Path) -> Result<Option<BulkLock>> {
    let file = lock_file(database)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(BulkLock { _held: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(Error::Invalid(format!(
            "cannot lock {}: {e}",
            lock_path(database).display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_and_a_bulk_load_exclude_each_other_and_servers_share() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sharedcare.db");
        let first = serving(&db).unwrap();
        let second = serving(&db).unwrap();
        assert!(bulk(&db).unwrap().is_none(), "a bulk load beside a server");
        drop((first, second));
        let held = bulk(&db).unwrap().expect("no server runs");
        let refused = serving(&db).unwrap_err().to_string();
        assert!(refused.contains("bulk load is running"), "{refused}");
        assert!(bulk(&db).unwrap().is_none(), "two bulk loads at once");
        drop(held);
        serving(&db).unwrap();
    }
}
