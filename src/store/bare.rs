//! The bare loader an import is measured against: the store's entry rows written into a fresh
//! database by one prepared INSERT, with the same unique key and one person index, and nothing
//! else (no matching, no history, no full-text index, no audit). What an import costs beyond
//! this is the product's own work.

use super::Store;
use crate::error::{DbContext, Result};
use rusqlite::{params, Connection};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows committed per transaction: bulk loading as a tuned loader would.
const BATCH: usize = 100_000;

#[derive(Debug, Clone, Serialize)]
pub struct BareLoad {
    pub rows: u64,
    /// Time spent inserting and committing; reading the rows from the store is not counted.
    pub seconds: f64,
    pub rows_per_second: f64,
    pub database_bytes: u64,
}

type Row = (i64, String, i64, String, String, String);

impl Store {
    /// Writes every entry row into a new database at `path` (which must not exist).
    pub fn bare_load_into(&self, path: &Path) -> Result<BareLoad> {
        let mut bare = Connection::open(path).doing("creating the bare loader's database")?;
        bare.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE entry (id INTEGER PRIMARY KEY, source_id INTEGER, source_ref TEXT,
                person INTEGER, category TEXT, title TEXT, body TEXT,
                UNIQUE (source_id, source_ref));
             CREATE INDEX entry_person ON entry(person, category);",
        )
        .doing("creating the bare loader's table")?;
        let mut read = self
            .conn
            .prepare(
                "SELECT source_id, source_ref, source_person_id, category, title, body
                 FROM entry ORDER BY id",
            )
            .doing("reading entries for the bare loader")?;
        let mut rows = read
            .query([])
            .doing("reading entries for the bare loader")?;
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
        let mut writing = Duration::ZERO;
        let mut total = 0u64;
        loop {
            batch.clear();
            while batch.len() < BATCH {
                let Some(r) = rows.next().doing("reading entries for the bare loader")? else {
                    break;
                };
                batch.push((
                    r.get(0).doing("reading an entry")?,
                    r.get(1).doing("reading an entry")?,
                    r.get(2).doing("reading an entry")?,
                    r.get(3).doing("reading an entry")?,
                    r.get(4).doing("reading an entry")?,
                    r.get(5).doing("reading an entry")?,
                ));
            }
            if batch.is_empty() {
                break;
            }
            let started = Instant::now();
            insert(&mut bare, &batch).doing("bare loading")?;
            writing += started.elapsed();
            total += batch.len() as u64;
        }
        drop(bare);
        let seconds = writing.as_secs_f64();
        let database_bytes = super::database_bytes(path);
        Ok(BareLoad {
            rows: total,
            seconds,
            rows_per_second: total as f64 / seconds.max(1e-9),
            database_bytes,
        })
    }
}

fn insert(bare: &mut Connection, batch: &[Row]) -> rusqlite::Result<()> {
    let tx = bare.transaction()?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO entry (source_id, source_ref, person, category, title, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for r in batch {
            st.execute(params![r.0, r.1, r.2, r.3, r.4, r.5])?;
        }
    }
    tx.commit()
}
