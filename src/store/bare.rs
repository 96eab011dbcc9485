//! The bare loader an import is measured against: the store's entry rows written into a fresh
//! database by one prepared INSERT, with the same unique key and one person index, then a
//! full-text index over the same text as the store's, built once at the end; nothing else (no
//! matching, no history, no audit). What an import costs beyond this is the product's own
//! work.

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

/// An entry row; its body as stored (packed: see [`super::packed`]).
type Row = (
    i64,
    String,
    i64,
    String,
    String,
    Option<String>,
    rusqlite::types::Value,
);

impl Store {
    /// Writes every entry row into a new database at `path` (which must not exist).
    pub fn bare_load_into(&self, path: &Path) -> Result<BareLoad> {
        let mut bare = Connection::open(path).doing("creating the bare loader's database")?;
        super::packed::register(&bare).doing("creating the bare loader's database")?;
        bare.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE entry (id INTEGER PRIMARY KEY, source_id INTEGER, source_ref TEXT,
                person INTEGER, category TEXT, title TEXT, code TEXT, body TEXT,
                UNIQUE (source_id, source_ref));
             CREATE INDEX entry_person ON entry(person, category);
             CREATE VIRTUAL TABLE entry_fts USING fts5(title, detail, content = '',
                contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');",
        )
        .doing("creating the bare loader's table")?;
        let mut read = self
            .conn
            .prepare(
                "SELECT source_id, source_ref, source_person_id, category, title, code, body
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
                    r.get(6).doing("reading an entry")?,
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
        let started = Instant::now();
        build_fts(&mut bare)?;
        writing += started.elapsed();
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
            "INSERT INTO entry (source_id, source_ref, person, category, title, code, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for r in batch {
            st.execute(params![r.0, r.1, r.2, r.3, r.4, r.5, r.6])?;
        }
    }
    tx.commit()
}

/// The full-text index over the rows just written, in id order, from the same text the
/// store's index holds (the title; the body's text values and the code).
fn build_fts(bare: &mut Connection) -> Result<()> {
    let tx = bare.transaction().doing("bare loading")?;
    {
        let mut read = tx
            .prepare("SELECT id, category, title, code, unpacked(body) FROM entry ORDER BY id")
            .doing("bare loading")?;
        let mut insert = tx
            .prepare("INSERT INTO entry_fts (rowid, title, detail) VALUES (?1, ?2, ?3)")
            .doing("bare loading")?;
        let mut rows = read.query([]).doing("bare loading")?;
        while let Some(r) = rows.next().doing("bare loading")? {
            let id: i64 = r.get(0).doing("bare loading")?;
            let category: String = r.get(1).doing("bare loading")?;
            let title: String = r.get(2).doing("bare loading")?;
            let code: Option<String> = r.get(3).doing("bare loading")?;
            let body: String = r.get(4).doing("bare loading")?;
            let body: serde_json::Value = super::decode::json(
                "entry",
                id,
                4,
                &super::entries::tagged_body(&category, &body),
            )
            .doing("bare loading")?;
            insert
                .execute(params![
                    id,
                    title,
                    super::entries::text_of(&body, code.as_deref())
                ])
                .doing("bare loading")?;
        }
    }
    tx.commit().doing("bare loading")
}
