//! Counts for `sharedcare stats`.

use super::Store;
use crate::error::{DbContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stats {
    pub persons: i64,
    pub source_persons: i64,
    pub entries: i64,
    pub entries_by_category: BTreeMap<String, i64>,
    pub entry_history: i64,
    pub files_by_state: BTreeMap<String, i64>,
    pub rejects: i64,
    pub review_queue: i64,
}

impl Store {
    /// The record's counts. Entries by category are kept as they are stored (at a region's size
    /// counting them would sort every entry's category).
    pub fn stats(&self) -> Result<Stats> {
        let by_category = self.entry_category_counts()?;
        let one = |sql: &str| -> Result<i64> {
            self.conn()
                .query_row(sql, [], |r| r.get(0))
                .doing("counting")
        };
        Ok(Stats {
            persons: one("SELECT count(*) FROM person WHERE merged_into IS NULL AND id IN (SELECT person_id FROM source_person)")?,
            source_persons: one("SELECT count(*) FROM source_person")?,
            entries: by_category.values().sum(),
            entries_by_category: by_category,
            entry_history: one("SELECT count(*) FROM entry_history")?,
            files_by_state: self.grouped("SELECT state, count(*) FROM feed_file GROUP BY state")?,
            rejects: one("SELECT count(*) FROM feed_reject")?,
            review_queue: one("SELECT count(*) FROM match_review WHERE state = 'open'")?,
        })
    }

    fn grouped(&self, sql: &str) -> Result<BTreeMap<String, i64>> {
        self.conn()
            .prepare(sql)
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .doing("counting")
    }
}
