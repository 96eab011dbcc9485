//! The full-text indexes, written once per transaction.
//!
//! FTS5 keeps a transaction's new terms in memory and writes them as one segment at commit,
//! but it must flush them whenever SQLite opens a statement savepoint, which every write to a
//! table with foreign keys does. Indexing as we go therefore wrote one tiny segment per entry
//! and spent its time merging them. Instead a transaction collects the documents it changes and
//! writes them, last version only, just before it commits.

use super::find_terms::FindDoc;
use super::Tx;
use crate::error::{DbContext, Result};
use rusqlite::params;
use std::collections::BTreeMap;

/// What the search indexes should hold for the rows a transaction changed.
#[derive(Default)]
pub(super) struct Pending {
    entries: BTreeMap<i64, EntryDoc>,
    persons: BTreeMap<i64, Option<FindDoc>>,
}

struct EntryDoc {
    replace: bool,
    title: String,
    detail: String,
}

impl Tx<'_> {
    pub(super) fn index_entry_later(&self, id: i64, title: &str, detail: String, replace: bool) {
        let mut pending = self.pending.borrow_mut();
        let replace = replace && pending.entries.get(&id).is_none_or(|d| d.replace);
        pending.entries.insert(
            id,
            EntryDoc {
                replace,
                title: title.to_owned(),
                detail,
            },
        );
    }

    /// `None` removes the person from the index (no source describes them any more).
    pub(super) fn index_person_later(&self, id: i64, doc: Option<FindDoc>) {
        self.pending.borrow_mut().persons.insert(id, doc);
    }

    /// Whether the full-text indexes are left to a bulk load's build at its end (asking
    /// changes nothing; [`Self::deferring_search_index`] also notes a change they miss).
    pub fn search_index_deferred(&self) -> bool {
        self.deferring
    }

    /// Whether the full-text indexes are left to a bulk load's build at its end.
    pub(super) fn deferring_search_index(&self) -> bool {
        if self.deferring {
            self.deferred_changes.set(true);
        }
        self.deferring
    }

    pub(super) fn flush_search_index(&self) -> Result<()> {
        if self.deferred_changes.get() {
            return self.restart_deferred_builds();
        }
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        let conn = self.conn();
        for (id, doc) in pending.entries {
            if doc.replace {
                conn.prepare_cached("DELETE FROM entry_fts WHERE rowid = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .doing("updating the entry index")?;
            }
            conn.prepare_cached("INSERT INTO entry_fts (rowid, title, detail) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![id, doc.title, doc.detail]))
                .doing("indexing an entry")?;
        }
        for (id, doc) in pending.persons {
            conn.prepare_cached("DELETE FROM person_search_fts WHERE rowid = ?1")
                .and_then(|mut s| s.execute([id]))
                .doing("updating the person index")?;
            if let Some(doc) = doc {
                super::find::insert_doc(conn, id, &doc)?;
            }
        }
        Ok(())
    }
}
