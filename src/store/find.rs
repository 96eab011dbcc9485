//! The person search index: writing a person's row, filling it for every person when the
//! index is (re)built, and asking it one expression (see [`super::find_terms`]).

use super::find_terms::{self, FindDoc};
use super::{decode, Store};
use crate::error::{DbContext, Result};
use crate::model::Demographics;
use rusqlite::{params, Connection};

pub(super) fn insert_doc(conn: &Connection, id: i64, doc: &FindDoc) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO person_search_fts (rowid, names, sounds, facts) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![id, doc.names, doc.sounds, doc.facts]))
    .doing("indexing a person")?;
    Ok(())
}

/// Indexes every live person from their golden record and every linked source's version, as
/// a person refresh does; run by the migration that creates the index.
pub(super) fn index_every_person(conn: &Connection) -> Result<()> {
    let mut people = conn
        .prepare(
            "SELECT id, demographics FROM person
             WHERE merged_into IS NULL AND demographics IS NOT NULL ORDER BY id",
        )
        .doing("reading people to index")?;
    let mut versions = conn
        .prepare(
            "SELECT id, demographics FROM source_person
             WHERE person_id = ?1 AND demographics IS NOT NULL ORDER BY id",
        )
        .doing("reading people to index")?;
    let mut rows = people.query([]).doing("reading people to index")?;
    while let Some(row) = rows.next().doing("reading people to index")? {
        let id: i64 = row.get(0).doing("reading people to index")?;
        let json: String = row.get(1).doing("reading people to index")?;
        let golden: Demographics =
            decode::json("golden record", id, 1, &json).doing("reading people to index")?;
        let sources: Vec<Demographics> = versions
            .query_map([id], |r| {
                let sp: i64 = r.get(0)?;
                decode::json("source person demographics", sp, 1, &r.get::<_, String>(1)?)
            })
            .and_then(|rows| rows.collect())
            .doing("reading people to index")?;
        if sources.is_empty() {
            continue;
        }
        insert_doc(conn, id, &find_terms::doc(&golden, &sources))?;
    }
    Ok(())
}

impl Store {
    /// People the index finds for an FTS5 expression built from [`find_terms`], lowest id
    /// first, at most `limit`.
    pub fn find_people(&self, expression: &str, limit: usize) -> Result<Vec<i64>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.conn()
            .prepare_cached(
                "SELECT rowid FROM person_search_fts WHERE person_search_fts MATCH ?1 ORDER BY rowid LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![expression, limit], |r| r.get(0))?
                    .collect()
            })
            .doing("searching the person index")
    }
}
