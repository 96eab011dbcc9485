//! How far behind the database its replica is, where that can be seen from here: for a
//! `file://` replica, the newest transaction Litestream has written there against the
//! database's last write.
//!
//! Litestream 0.5 keeps a file replica of a database as LTX files, `ltx/<level>/<min TXID>-<max
//! TXID>.ltx` (16 hex digits each), level 0 as it ships changes and higher levels as it
//! compacts them. Each file begins with a 100-byte header: the magic `LTX1`, then flags, page
//! size, commit (4 bytes each), the minimum and maximum transaction IDs (8 bytes each), and at
//! offset 32 the time the file was written, in milliseconds since 1970, big-endian. The file
//! with the highest maximum transaction ID holds the newest change replicated.
//!
//! The database's last write is the newer modification time of the database file and its
//! write-ahead log. A replica that has everything has its newest LTX written after that: the
//! lag is how much later the database was written than the replica's newest file, and nothing
//! when the replica is newer. (Litestream's own checkpoints write the database file without a
//! new transaction; they can add up to its checkpoint interval, a minute, to what is shown.)
//! An SFTP replica is on another server: its lag is not measured here.

use crate::config::Config;
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One replicated database's lag.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaLag {
    /// The database's name in the replica (`sharedcare`, `sharedcare-audit`).
    pub database: &'static str,
    /// Seconds the replica is behind; None when it cannot be told.
    pub seconds: Option<i64>,
    /// When the newest replicated transaction was written, if one has been.
    pub replica_newest: Option<DateTime<Utc>>,
    pub detail: String,
}

/// The lag of every replicated database; empty when no replica is configured, and None in
/// each `seconds` where it cannot be told (an SFTP replica, no database yet, no replica yet).
pub fn replica_lags(config: &Config) -> Vec<ReplicaLag> {
    if config.replication.replica.is_none() {
        return Vec::new();
    }
    crate::replication::databases(config)
        .into_iter()
        .map(|(name, db)| lag_of(name, &db, crate::replication::local_replica(config, name)))
        .collect()
}

fn lag_of(database: &'static str, db: &Path, replica: Option<PathBuf>) -> ReplicaLag {
    let unknown = |detail: String, newest| ReplicaLag {
        database,
        seconds: None,
        replica_newest: newest,
        detail,
    };
    let Some(replica) = replica else {
        return unknown(
            "an SFTP replica: its lag is not measured from here (watch Litestream's own \
             metrics on the standby)"
                .into(),
            None,
        );
    };
    let Some(written) = last_write(db) else {
        return unknown(format!("{} does not exist yet", db.display()), None);
    };
    let newest = match newest_ltx(&replica) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return unknown(
                format!(
                    "no replicated transaction in {} yet: is Litestream running \
                     (`sharedcare replication config`)?",
                    replica.display()
                ),
                None,
            )
        }
        Err(why) => return unknown(format!("{}: {why}", replica.display()), None),
    };
    let seconds = (written - newest).num_seconds().max(0);
    ReplicaLag {
        database,
        seconds: Some(seconds),
        replica_newest: Some(newest),
        detail: format!(
            "{database}: replica {seconds} s behind (newest replicated {}, database written {})",
            newest.format("%Y-%m-%d %H:%M:%S UTC"),
            written.format("%Y-%m-%d %H:%M:%S UTC")
        ),
    }
}

/// The newer modification time of the database file and its write-ahead log.
fn last_write(db: &Path) -> Option<DateTime<Utc>> {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db, wal.as_path()]
        .iter()
        .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok())
        .max()
        .map(DateTime::<Utc>::from)
}

/// The write time of the LTX file holding the newest transaction under `replica`.
fn newest_ltx(replica: &Path) -> Result<Option<DateTime<Utc>>, String> {
    let levels = replica.join("ltx");
    let levels = match std::fs::read_dir(&levels) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be listed: {e}")),
    };
    let mut newest: Option<(u64, PathBuf)> = None;
    for level in levels.flatten() {
        let Ok(files) = std::fs::read_dir(level.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            let Some(max_txid) = max_txid(&path) else {
                continue;
            };
            if newest.as_ref().is_none_or(|(n, _)| max_txid > *n) {
                newest = Some((max_txid, path));
            }
        }
    }
    match newest {
        None => Ok(None),
        Some((_, path)) => written_at(&path).map(Some),
    }
}

/// The maximum transaction ID an LTX file's name says it holds.
fn max_txid(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?.strip_suffix(".ltx")?;
    let (min, max) = name.split_once('-')?;
    if min.len() != 16 || max.len() != 16 {
        return None;
    }
    u64::from_str_radix(max, 16).ok()
}

/// The write time in an LTX file's header.
fn written_at(path: &Path) -> Result<DateTime<Utc>, String> {
    let mut header = [0u8; 40];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
    let (magic, rest) = header.split_at(4);
    let stamp: [u8; 8] = rest[28..36]
        .try_into()
        .map_err(|_| format!("{}: short header", path.display()))?;
    if magic != b"LTX1" {
        return Err(format!("{} is not an LTX file", path.display()));
    }
    Utc.timestamp_millis_opt(i64::from_be_bytes(stamp))
        .single()
        .ok_or_else(|| format!("{}: its header's time is out of range", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ltx(dir: &Path, level: u8, min: u64, max: u64, millis: i64) {
        let dir = dir.join("ltx").join(level.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut header = vec![0u8; 100];
        header[..4].copy_from_slice(b"LTX1");
        header[16..24].copy_from_slice(&min.to_be_bytes());
        header[24..32].copy_from_slice(&max.to_be_bytes());
        header[32..40].copy_from_slice(&millis.to_be_bytes());
        std::fs::write(dir.join(format!("{min:016x}-{max:016x}.ltx")), header).unwrap();
    }

    #[test]
    fn the_newest_transaction_is_found_across_levels_by_its_id_and_its_header_time_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(newest_ltx(dir.path()), Ok(None));
        ltx(dir.path(), 9, 1, 20, 5_000);
        ltx(dir.path(), 0, 21, 21, 9_000);
        ltx(dir.path(), 1, 1, 20, 99_000);
        std::fs::write(dir.path().join("ltx/0/notes.txt"), "x").unwrap();
        assert_eq!(
            newest_ltx(dir.path()).unwrap().unwrap().timestamp_millis(),
            9_000
        );
        std::fs::write(
            dir.path()
                .join("ltx/0/0000000000000016-0000000000000016.ltx"),
            b"garbage that is long enough to have a header of forty bytes",
        )
        .unwrap();
        assert!(newest_ltx(dir.path()).unwrap_err().contains("not an LTX"));
    }
}
