//! Moving source persons between persons: merges, reviewers' links, and undoing them.
//! Entries never move: they belong to source persons, so a link change is only a change of
//! `source_person.person_id`, recorded move by move so it can be reversed exactly.

use super::{Store, Tx};
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// What [`Tx::unmerge`] would undo, read without changing anything.
#[derive(Debug, Clone, Serialize)]
pub struct UnmergePreview {
    pub link_event_id: i64,
    /// `merge` (a feed's merge message) or `review-link` (a reviewer's "same person").
    pub kind: String,
    /// What the event says of itself, e.g. `review 7`; never patient data.
    pub detail: Option<String>,
    pub created_at: String,
    pub retired_person_id: Option<i64>,
    pub moves: Vec<PreviewMove>,
}

/// One source record that an unmerge would move back.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewMove {
    pub source_person_id: i64,
    pub source_code: String,
    pub local_id: String,
    /// Where it goes back to; `None` when it had no person before.
    pub back_to: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkMove {
    pub source_person_id: i64,
    pub from_person_id: Option<i64>,
    pub to_person_id: Option<i64>,
}

impl Tx<'_> {
    /// Moves every source person of `retired` to `surviving`, and marks `retired` merged.
    /// Returns the moves made (none when they are already one person).
    pub fn merge_persons(
        &self,
        surviving: i64,
        retired: i64,
        kind: &str,
        file_id: Option<i64>,
        detail: &str,
        now: &str,
    ) -> Result<Vec<LinkMove>> {
        if surviving == retired {
            return Ok(Vec::new());
        }
        let event = self.link_event(kind, surviving, Some(retired), file_id, detail, now)?;
        let mut moves = Vec::new();
        for (sp, link_kind) in self.source_persons_of(retired)? {
            self.record_move(
                event,
                sp,
                Some(retired),
                link_kind.as_deref(),
                Some(surviving),
            )?;
            self.conn()
                .execute(
                    "UPDATE source_person SET person_id = ?2, link_kind = 'merge' WHERE id = ?1",
                    params![sp, surviving],
                )
                .doing("moving a source person")?;
            moves.push(LinkMove {
                source_person_id: sp,
                from_person_id: Some(retired),
                to_person_id: Some(surviving),
            });
        }
        self.conn()
            .execute(
                "UPDATE person SET merged_into = ?2 WHERE id = ?1",
                params![retired, surviving],
            )
            .doing("retiring the merged person")?;
        Ok(moves)
    }

    /// Moves one source person to another person (a reviewer's "same person").
    pub fn move_source_person(
        &self,
        source_person_id: i64,
        to_person: i64,
        kind: &str,
        detail: &str,
        now: &str,
    ) -> Result<LinkMove> {
        let (from, link_kind): (Option<i64>, Option<String>) = self
            .conn()
            .query_row(
                "SELECT person_id, link_kind FROM source_person WHERE id = ?1",
                [source_person_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .doing("reading a source person")?;
        let event = self.link_event(kind, to_person, from, None, detail, now)?;
        self.record_move(
            event,
            source_person_id,
            from,
            link_kind.as_deref(),
            Some(to_person),
        )?;
        self.conn()
            .execute(
                "UPDATE source_person SET person_id = ?2, link_kind = 'review' WHERE id = ?1",
                params![source_person_id, to_person],
            )
            .doing("linking a source person")?;
        if let Some(from) = from {
            if self.source_persons_of(from)?.is_empty() {
                self.conn()
                    .execute(
                        "UPDATE person SET merged_into = ?2 WHERE id = ?1",
                        params![from, to_person],
                    )
                    .doing("retiring an emptied person")?;
            }
        }
        Ok(LinkMove {
            source_person_id,
            from_person_id: from,
            to_person_id: Some(to_person),
        })
    }

    /// Undoes the latest merge or link into `person_id` that is not yet undone, restoring
    /// exactly the links it changed. Returns the moves made, and the persons touched.
    pub fn unmerge(&self, person_id: i64, now: &str) -> Result<(Vec<LinkMove>, Vec<i64>)> {
        let event: Option<(i64, Option<i64>)> = self
            .conn()
            .query_row(
                "SELECT id, retired_person_id FROM link_event
                 WHERE person_id = ?1 AND kind IN ('merge', 'review-link') AND undone_by IS NULL
                 ORDER BY id DESC LIMIT 1",
                [person_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .doing("finding the last merge")?;
        let Some((event_id, retired)) = event else {
            return Err(Error::NotFound(format!(
                "person {person_id} has no merge or link to undo"
            )));
        };
        let moved: Vec<(i64, Option<i64>, Option<String>)> = self
            .conn()
            .prepare(
                "SELECT source_person_id, from_person_id, from_link_kind FROM link_move
                 WHERE link_event_id = ?1 ORDER BY source_person_id",
            )
            .and_then(|mut s| {
                s.query_map([event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .doing("reading the merge's moves")?;
        let undo = self.link_event("unmerge", person_id, retired, None, "", now)?;
        let mut moves = Vec::new();
        let mut touched = vec![person_id];
        for (sp, from, from_kind) in moved {
            self.record_move(undo, sp, Some(person_id), Some("merge"), from)?;
            self.conn()
                .execute(
                    "UPDATE source_person SET person_id = ?2, link_kind = ?3 WHERE id = ?1",
                    params![sp, from, from_kind],
                )
                .doing("restoring a link")?;
            if let Some(p) = from {
                self.conn()
                    .execute("UPDATE person SET merged_into = NULL WHERE id = ?1", [p])
                    .doing("restoring a person")?;
                if !touched.contains(&p) {
                    touched.push(p);
                }
            }
            moves.push(LinkMove {
                source_person_id: sp,
                from_person_id: Some(person_id),
                to_person_id: from,
            });
        }
        self.conn()
            .execute(
                "UPDATE link_event SET undone_by = ?2 WHERE id = ?1",
                params![event_id, undo],
            )
            .doing("marking the merge undone")?;
        Ok((moves, touched))
    }

    fn link_event(
        &self,
        kind: &str,
        person_id: i64,
        retired: Option<i64>,
        file_id: Option<i64>,
        detail: &str,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO link_event (kind, person_id, retired_person_id, feed_file_id, detail, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![kind, person_id, retired, file_id, detail, now],
            )
            .doing("recording a link change")?;
        Ok(self.conn().last_insert_rowid())
    }

    fn record_move(
        &self,
        event: i64,
        sp: i64,
        from: Option<i64>,
        from_kind: Option<&str>,
        to: Option<i64>,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO link_move (link_event_id, source_person_id, from_person_id, from_link_kind, to_person_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![event, sp, from, from_kind, to],
            )
            .doing("recording a link move")?;
        Ok(())
    }
}

impl Store {
    /// The moves [`Tx::unmerge`] of `person_id` would make: the latest merge or link into the
    /// person not yet undone, chosen by the same rule. `None` when there is nothing to undo.
    pub fn unmerge_preview(&self, person_id: i64) -> Result<Option<UnmergePreview>> {
        let event = self
            .conn()
            .query_row(
                "SELECT id, kind, detail, created_at, retired_person_id FROM link_event
                 WHERE person_id = ?1 AND kind IN ('merge', 'review-link') AND undone_by IS NULL
                 ORDER BY id DESC LIMIT 1",
                [person_id],
                |r| {
                    Ok(UnmergePreview {
                        link_event_id: r.get(0)?,
                        kind: r.get(1)?,
                        detail: r.get::<_, Option<String>>(2)?.filter(|d| !d.is_empty()),
                        created_at: r.get(3)?,
                        retired_person_id: r.get(4)?,
                        moves: Vec::new(),
                    })
                },
            )
            .optional()
            .doing("finding the last merge")?;
        let Some(mut preview) = event else {
            return Ok(None);
        };
        let moves = self
            .conn()
            .prepare(
                "SELECT m.source_person_id, s.code, sp.local_id, m.from_person_id
                 FROM link_move m
                 JOIN source_person sp ON sp.id = m.source_person_id
                 JOIN source s ON s.id = sp.source_id
                 WHERE m.link_event_id = ?1 ORDER BY m.source_person_id",
            )
            .and_then(|mut s| {
                s.query_map([preview.link_event_id], |r| {
                    Ok(PreviewMove {
                        source_person_id: r.get(0)?,
                        source_code: r.get(1)?,
                        local_id: r.get(2)?,
                        back_to: r.get(3)?,
                    })
                })?
                .collect()
            })
            .doing("reading the merge's moves")?;
        preview.moves = moves;
        Ok(Some(preview))
    }
}
