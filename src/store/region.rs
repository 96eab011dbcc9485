//! Reads for measuring the matcher against a synthetic region's truth (`demo check`).
//!
//! The truth (source code, local id, true person) is loaded into a temporary table and joined
//! to `source_person`, so the counting happens in SQLite and memory stays flat however big the
//! region. Pair counts are sums of n·(n−1)/2 over groups, never a list of pairs.

use super::Store;
use crate::error::{DbContext, Result};
use serde::Serialize;

/// How the links in the database compare with the truth, over all pairs of source records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Linkage {
    /// Source records in the truth.
    pub records: i64,
    /// Truth records with no source person in the database (never imported).
    pub missing: i64,
    /// Source persons not linked to any person (waiting in review, or referred to only).
    pub unlinked: i64,
    /// Pairs of records of the same true person.
    pub true_pairs: i64,
    /// Pairs of records linked to the same person.
    pub linked_pairs: i64,
    /// Pairs both linked and truly the same.
    pub correct_pairs: i64,
    /// Persons in the database holding records of more than one true person.
    pub false_merges: i64,
    pub review_queue: i64,
    pub recall: f64,
    pub precision: f64,
}

impl Store {
    /// Compares the database's links with `truth` rows `(source code, local id, true person)`.
    pub fn linkage(
        &self,
        truth: &mut dyn Iterator<Item = (String, String, i64)>,
    ) -> Result<Linkage> {
        let c = self.conn();
        c.execute_batch(
            "DROP TABLE IF EXISTS temp.region_truth;
             CREATE TEMP TABLE region_truth (source TEXT, local_id TEXT, person INTEGER);",
        )
        .doing("preparing the truth table")?;
        let tx = c.unchecked_transaction().doing("loading the truth")?;
        {
            let mut insert = tx
                .prepare("INSERT INTO temp.region_truth VALUES (?1, ?2, ?3)")
                .doing("loading the truth")?;
            for (source, local, person) in truth {
                insert
                    .execute(rusqlite::params![source, local, person])
                    .doing("loading the truth")?;
            }
        }
        tx.commit().doing("loading the truth")?;
        c.execute_batch(
            "DROP TABLE IF EXISTS temp.region_join;
             CREATE TEMP TABLE region_join AS
               SELECT t.person AS truth, sp.person_id AS linked, sp.id AS sp_id
               FROM temp.region_truth t
               LEFT JOIN source s ON s.code = t.source
               LEFT JOIN source_person sp ON sp.source_id = s.id AND sp.local_id = t.local_id;",
        )
        .doing("joining the truth")?;
        let one = |sql: &str| -> Result<i64> {
            c.query_row(sql, [], |r| r.get(0))
                .doing("measuring the links")
        };
        let pairs = "SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM temp.region_join";
        let mut l = Linkage {
            records: one("SELECT count(*) FROM temp.region_join")?,
            missing: one("SELECT count(*) FROM temp.region_join WHERE sp_id IS NULL")?,
            unlinked: one(
                "SELECT count(*) FROM temp.region_join WHERE sp_id IS NOT NULL AND linked IS NULL",
            )?,
            true_pairs: one(&format!("{pairs} GROUP BY truth)"))?,
            linked_pairs: one(&format!(
                "{pairs} WHERE linked IS NOT NULL GROUP BY linked)"
            ))?,
            correct_pairs: one(&format!(
                "{pairs} WHERE linked IS NOT NULL GROUP BY truth, linked)"
            ))?,
            false_merges: one(
                "SELECT count(*) FROM (SELECT linked FROM temp.region_join WHERE linked IS NOT NULL
                 GROUP BY linked HAVING count(DISTINCT truth) > 1)",
            )?,
            review_queue: one("SELECT count(*) FROM match_review WHERE state = 'open'")?,
            ..Linkage::default()
        };
        c.execute_batch("DROP TABLE temp.region_join; DROP TABLE temp.region_truth;")
            .doing("measuring the links")?;
        l.recall = ratio(l.correct_pairs, l.true_pairs);
        l.precision = ratio(l.correct_pairs, l.linked_pairs);
        Ok(l)
    }
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}
