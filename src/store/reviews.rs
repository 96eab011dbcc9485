//! The queue of possible matches that a person must decide.

use super::{Store, Tx};
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ReviewRow {
    pub id: i64,
    pub source_person_id: i64,
    pub source_code: String,
    pub local_id: String,
    /// The person the record currently sits with (its own, unlinked).
    pub current_person_id: Option<i64>,
    pub candidate_person_id: i64,
    pub score: f64,
    pub explanation: String,
    pub state: String,
    pub created_at: String,
}

impl Tx<'_> {
    /// Queues a possible match, unless this pair was decided before.
    pub fn add_review(
        &self,
        source_person_id: i64,
        candidate: i64,
        score: f64,
        explanation: &str,
        now: &str,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO match_review (source_person_id, candidate_person_id, score, explanation, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source_person_id, candidate_person_id) DO UPDATE
                    SET score = excluded.score, explanation = excluded.explanation
                    WHERE state = 'open'",
            )
            .and_then(|mut s| s.execute(params![source_person_id, candidate, score, explanation, now]))
            .doing("queueing a possible match")?;
        Ok(())
    }

    /// Marks an open review decided; returns (source person, candidate person).
    pub fn decide_review(
        &self,
        review_id: i64,
        state: &str,
        by: &str,
        note: Option<&str>,
        now: &str,
    ) -> Result<(i64, i64)> {
        let row: Option<(i64, i64, String)> = self
            .conn()
            .query_row(
                "SELECT source_person_id, candidate_person_id, state FROM match_review WHERE id = ?1",
                [review_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .doing("reading a review")?;
        let Some((sp, candidate, current)) = row else {
            return Err(Error::NotFound(format!(
                "no review {review_id}; `sharedcare review list` shows the open ones"
            )));
        };
        if current != "open" {
            return Err(Error::Invalid(format!(
                "review {review_id} was already decided ({current})"
            )));
        }
        self.conn()
            .execute(
                "UPDATE match_review SET state = ?2, decided_by = ?3, decided_at = ?4, note = ?5
                 WHERE id = ?1",
                params![review_id, state, by, now, note],
            )
            .doing("deciding a review")?;
        Ok((sp, candidate))
    }
}

/// Reviews with their source record, as listed and as shown one by one.
const REVIEW_SELECT: &str = "SELECT r.id, r.source_person_id, s.code, sp.local_id, sp.person_id,
        r.candidate_person_id, r.score, r.explanation, r.state, r.created_at
 FROM match_review r
 JOIN source_person sp ON sp.id = r.source_person_id
 JOIN source s ON s.id = sp.source_id";

fn review_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReviewRow> {
    Ok(ReviewRow {
        id: r.get(0)?,
        source_person_id: r.get(1)?,
        source_code: r.get(2)?,
        local_id: r.get(3)?,
        current_person_id: r.get(4)?,
        candidate_person_id: r.get(5)?,
        score: r.get(6)?,
        explanation: r.get(7)?,
        state: r.get(8)?,
        created_at: r.get(9)?,
    })
}

/// The people an open review ties person `?1` to, from either side: the person's own source
/// records' reviews first (`CROSS JOIN`: from the person's few source records, never from every
/// open review), then reviews naming them as the candidate.
pub const POSSIBLE_DUPLICATES: &str = "SELECT r.candidate_person_id FROM source_person sp
        CROSS JOIN match_review r ON r.source_person_id = sp.id
     WHERE sp.person_id = ?1 AND r.state = 'open'
     UNION
     SELECT sp.person_id FROM match_review r
        JOIN source_person sp ON sp.id = r.source_person_id
     WHERE r.state = 'open' AND r.candidate_person_id = ?1
        AND sp.person_id IS NOT NULL";

impl Store {
    pub fn reviews(&self, state: &str) -> Result<Vec<ReviewRow>> {
        self.conn()
            .prepare(&format!(
                "{REVIEW_SELECT} WHERE r.state = ?1 ORDER BY r.score DESC, r.id"
            ))
            .and_then(|mut s| s.query_map([state], review_row)?.collect())
            .doing("listing reviews")
    }

    /// The other people in open reviews with this person (either side of the pair): the
    /// possible duplicates of them waiting for someone to decide. Merged-away people are
    /// followed to the person they became; the person themself is left out.
    pub fn possible_duplicates(&self, person_id: i64) -> Result<Vec<i64>> {
        let ids: Vec<i64> = self
            .conn()
            .prepare_cached(POSSIBLE_DUPLICATES)
            .and_then(|mut s| s.query_map([person_id], |r| r.get(0))?.collect())
            .doing("finding possible duplicates waiting for review")?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(live) = self.resolve_person(id)? {
                if live != person_id && !out.contains(&live) {
                    out.push(live);
                }
            }
        }
        Ok(out)
    }

    /// One review, whatever its state.
    pub fn review(&self, id: i64) -> Result<Option<ReviewRow>> {
        self.conn()
            .query_row(
                &format!("{REVIEW_SELECT} WHERE r.id = ?1"),
                [id],
                review_row,
            )
            .optional()
            .doing("reading a review")
    }
}

#[cfg(test)]
mod tests {
    use super::POSSIBLE_DUPLICATES;

    /// At 1.8 million people each record page and search row read every open review (10,368)
    /// twice: 80 % of a record page's time, 44 ms a search by NHS number with 8 clients.
    #[test]
    fn regression_the_possible_duplicate_note_read_every_open_review() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("t.db")).unwrap();
        let mut explain = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {POSSIBLE_DUPLICATES}"))
            .unwrap();
        let plan: Vec<String> = explain
            .query_map([1_i64], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let plan = plan.join("; ");
        assert!(
            plan.contains("INDEX source_person_person")
                && plan.contains("INDEX match_review_open_source")
                && plan.contains("INDEX match_review_open_candidate")
                && !plan.contains("match_review_open (state=?)"),
            "{plan}"
        );
    }
}
