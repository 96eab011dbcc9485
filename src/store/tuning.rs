//! How connections read the database file: memory-mapped I/O and how many request
//! connections the server keeps (`[database]` in `config.toml`).
//!
//! With memory-mapped I/O a read finds a page of the database file in the operating system's
//! cache and uses it where it lies, instead of copying it into the connection's own page
//! cache. Every connection then shares one copy of each page, and a connection whose cache
//! another connection's commit has just invalidated finds its pages again without a read.
//! Pages still in the write-ahead log are read from the log as before.
//!
//! The price: a read error on a mapped page (a failing disk) stops the process with SIGBUS
//! rather than returning an error to one request, as SQLite documents. The file is never cut
//! short under a running server: a restore swaps it only with no connection open.

use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest map this build of SQLite allows (its `SQLITE_MAX_MMAP_SIZE` on 64-bit Linux);
/// a larger `mmap_size` is quietly cut to it.
pub const MMAP_LIMIT_MIB: u64 = 2047;

/// `[database]`: how the server's connections read the database.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// How much of the database file each connection reads through a memory map, in MiB
    /// (SQLite's `mmap_size`); the rest is read with ordinary reads. 0 turns the map off.
    /// Mapped pages are the operating system's file cache, shared by every connection: they
    /// count in the server's resident size while in use but are not its own memory. Default
    /// 2047, the most SQLite maps.
    pub mmap_mib: u64,
    /// Connections the web server reads with (each may also write a session's or token's last
    /// use). Default 0: one for each core, plus two for requests waiting on the network or the
    /// audit writer.
    pub read_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            mmap_mib: MMAP_LIMIT_MIB,
            read_connections: 0,
        }
    }
}

impl DatabaseConfig {
    /// Refuses a map larger than SQLite can make, rather than quietly making a smaller one.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.mmap_mib > MMAP_LIMIT_MIB {
            return Err(format!(
                "[database] mmap_mib = {}: SQLite maps at most {MMAP_LIMIT_MIB} MiB",
                self.mmap_mib
            ));
        }
        Ok(())
    }

    /// The number of request connections: as configured, or one per core plus two.
    pub fn read_connections(&self) -> u32 {
        match self.read_connections {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get() as u32) + 2,
            n => n,
        }
    }

    /// Makes every connection this process opens from now on map this much of the file.
    pub fn apply(&self) {
        MMAP_BYTES.store(self.mmap_mib * 1024 * 1024, Ordering::SeqCst);
    }
}

static MMAP_BYTES: AtomicU64 = AtomicU64::new(MMAP_LIMIT_MIB * 1024 * 1024);

/// The `mmap_size` a new connection is given, in bytes.
pub(super) fn mmap_bytes() -> u64 {
    MMAP_BYTES.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_file_database_is_read_through_a_memory_map() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sharedcare.db")).unwrap();
        let mapped: i64 = store
            .conn()
            .query_row("PRAGMA mmap_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mapped as u64, mmap_bytes());
        assert!(mapped > 0, "the default maps the file");
    }

    /// Regression: a bulk load of the 1.8 M region peaked at 6.1 GiB resident (2 GiB of it
    /// the map of a file the writer's own cache already held, the rest index sorts in memory).
    #[test]
    fn regression_a_bulk_load_held_a_2_gib_map_and_sorted_its_indexes_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sharedcare.db")).unwrap();
        store.for_bulk_import(64).unwrap();
        let pragma = |name: &str| -> i64 {
            store
                .conn()
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(pragma("mmap_size"), 0, "a bulk import maps nothing");
        assert_eq!(pragma("temp_store"), 1, "its sorts spill to files");
        assert_eq!(
            pragma("cache_size"),
            -64 * 1024,
            "its page cache is as asked"
        );
    }

    #[test]
    fn a_map_larger_than_sqlite_makes_is_refused() {
        let mut config = DatabaseConfig::default();
        assert!(config.check().is_ok());
        config.mmap_mib = MMAP_LIMIT_MIB + 1;
        assert!(config.check().is_err());
        config.mmap_mib = 0;
        assert!(config.check().is_ok());
    }

    #[test]
    fn request_connections_default_to_the_cores_plus_two() {
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(DatabaseConfig::default().read_connections(), cores + 2);
        let set = DatabaseConfig {
            read_connections: 3,
            ..Default::default()
        };
        assert_eq!(set.read_connections(), 3);
    }
}
