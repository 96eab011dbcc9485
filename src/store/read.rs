//! Reading people and their records.

use super::{decode, Store};
use crate::error::{DbContext, Result};
use crate::model::{
    Category, Demographics, EntryBody, EntryDraft, Provenance, SourceKind, StoredEntry,
};
use crate::record::{PersonRecord, SourcePersonView};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// A person in a list of search results.
#[derive(Debug, Clone, Serialize)]
pub struct PersonHit {
    pub id: i64,
    pub nhs_number: Option<String>,
    pub family: Option<String>,
    pub given: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub gp_practice: Option<String>,
    pub deceased: bool,
    /// S-flagged: the postcode is for readers allowed to see a restricted person's whereabouts.
    pub restricted: bool,
}

const HIT: &str = "SELECT id, nhs_number, family, given, birth_date, sex, postcode, gp_practice,
    deceased, restricted FROM person";

fn hit(r: &Row<'_>) -> rusqlite::Result<PersonHit> {
    Ok(PersonHit {
        id: r.get(0)?,
        nhs_number: r.get(1)?,
        family: r.get(2)?,
        given: r.get(3)?,
        birth_date: r.get(4)?,
        sex: r.get(5)?,
        postcode: r.get(6)?,
        gp_practice: r.get(7)?,
        deceased: r.get(8)?,
        restricted: r.get(9)?,
    })
}

impl Store {
    /// The live person an id refers to, following merges.
    pub fn resolve_person(&self, mut id: i64) -> Result<Option<i64>> {
        for _ in 0..64 {
            let row: Option<Option<i64>> = self
                .conn()
                .prepare_cached("SELECT merged_into FROM person WHERE id = ?1")
                .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
                .doing("reading a person")?;
            match row {
                None => return Ok(None),
                Some(None) => return Ok(Some(id)),
                Some(Some(next)) => id = next,
            }
        }
        Ok(None)
    }

    /// The live person an entry is about (following merges); `None` for an unknown entry or
    /// one whose source person is linked to nobody yet.
    pub fn entry_person(&self, entry_id: i64) -> Result<Option<i64>> {
        let person: Option<Option<i64>> = self
            .conn()
            .prepare_cached(
                "SELECT sp.person_id FROM entry e
                 JOIN source_person sp ON sp.id = e.source_person_id
                 WHERE e.id = ?1",
            )
            .and_then(|mut s| s.query_row([entry_id], |r| r.get(0)).optional())
            .doing("finding whom an entry is about")?;
        match person.flatten() {
            Some(id) => self.resolve_person(id),
            None => Ok(None),
        }
    }

    /// People with this NHS number: verified on the golden record, or as any source sent it.
    pub fn find_by_nhs_number(&self, nhs: &str) -> Result<Vec<PersonHit>> {
        self.conn()
            .prepare_cached(&format!(
                // A UNION of two index searches: written as one OR, SQLite scans every person.
                "{HIT} WHERE merged_into IS NULL AND id IN
                    (SELECT id FROM person WHERE nhs_number = ?1
                     UNION SELECT person_id FROM source_person WHERE nhs_number = ?1)
                 ORDER BY id"
            ))
            .and_then(|mut s| s.query_map([nhs], hit)?.collect())
            .doing("finding by NHS number")
    }

    /// The lookup rows of live people, in the order of `ids`; unknown or merged-away ids are
    /// left out.
    pub fn person_hits(&self, ids: &[i64]) -> Result<Vec<PersonHit>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{HIT} WHERE id = ?1 AND merged_into IS NULL"))
            .doing("preparing person lookup")?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(h) = stmt
                .query_row([id], hit)
                .optional()
                .doing("reading a person")?
            {
                out.push(h);
            }
        }
        Ok(out)
    }

    /// One person's whole record: golden demographics, each source's view, current entries.
    pub fn person_record(&self, person_id: i64) -> Result<Option<PersonRecord>> {
        self.record_of(person_id, None)
    }

    /// A person's demographics and only the entries of `categories`: enough to decide access
    /// for a search hit without reading the whole record.
    pub fn person_record_of(
        &self,
        person_id: i64,
        categories: &[Category],
    ) -> Result<Option<PersonRecord>> {
        let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
        self.record_of(
            person_id,
            Some(&serde_json::to_string(&names).unwrap_or_default()),
        )
    }

    fn record_of(&self, person_id: i64, categories: Option<&str>) -> Result<Option<PersonRecord>> {
        let golden: Option<String> = self
            .conn()
            .prepare_cached("SELECT demographics FROM person WHERE id = ?1")
            .and_then(|mut s| s.query_row([person_id], |r| r.get(0)).optional())
            .doing("reading a person")?;
        let Some(golden) = golden else {
            return Ok(None);
        };
        let sources = source_views(self.conn(), person_id)?;
        let mut entries: Vec<StoredEntry> = self
            .conn()
            .prepare_cached(
                "SELECT e.id, e.version, e.source_ref, e.category, e.code_system, e.code, e.title,
                        e.status, e.start_at, e.end_at, e.recorded_at, e.sensitive, unpacked(e.body),
                        s.code, s.name, o.name, s.format, f.name, e.message_ref, e.received_at,
                        e.as_of, o.ods_code, e.not_for_patient
                 FROM entry e
                 JOIN source_person sp ON sp.id = e.source_person_id
                 JOIN source s ON s.id = e.source_id
                 JOIN organisation o ON o.id = s.organisation_id
                 LEFT JOIN feed_file f ON f.id = e.feed_file_id
                 WHERE sp.person_id = ?1
                   AND (?2 IS NULL OR e.category IN (SELECT value FROM json_each(?2)))",
            )
            .and_then(|mut s| {
                s.query_map(params![person_id, categories], stored_entry)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .doing("reading a person's entries")?;
        entries.sort_by(|a, b| {
            a.entry
                .category
                .cmp(&b.entry.category)
                .then_with(|| b.entry.start.cmp(&a.entry.start))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(Some(PersonRecord {
            person_id,
            demographics: decode::json("golden record", person_id, 0, &golden)
                .doing("reading a person")?,
            sources,
            entries,
        }))
    }

    /// Ids of a person's current entries whose title or details contain every word of `text`
    /// (prefix match, case and accents ignored), best match first.
    pub fn search_record(&self, person_id: i64, text: &str) -> Result<Vec<i64>> {
        let query = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ");
        if query.is_empty() {
            return Ok(Vec::new());
        }
        self.conn()
            .prepare_cached(
                "SELECT f.rowid FROM entry_fts f
                 JOIN entry e ON e.id = f.rowid
                 JOIN source_person sp ON sp.id = e.source_person_id
                 WHERE entry_fts MATCH ?1 AND sp.person_id = ?2
                 ORDER BY rank LIMIT 200",
            )
            .and_then(|mut s| {
                s.query_map(params![query, person_id], |r| r.get(0))?
                    .collect()
            })
            .doing("searching a record")
    }
}

/// A stored row back into an entry; `None` (skipped) if its body no longer parses.
/// An entry row; an unknown category or a body that does not decode is an error, never a
/// missing entry (a withheld-by-default sensitive entry must not vanish from the count either).
fn stored_entry(r: &Row<'_>) -> rusqlite::Result<StoredEntry> {
    let id: i64 = r.get(0)?;
    let category_text: String = r.get(3)?;
    let body: String = r.get(12)?;
    let category =
        Category::parse(&category_text).ok_or_else(|| decode::unknown("entry category", id, 3))?;
    let body: EntryBody = decode::json(
        "entry body",
        id,
        12,
        &super::entries::tagged_body(&category_text, &body),
    )?;
    Ok(StoredEntry {
        id,
        version: r.get(1)?,
        entry: EntryDraft {
            source_ref: r.get(2)?,
            category,
            code_system: r.get(4)?,
            code: r.get(5)?,
            title: r.get(6)?,
            status: r.get(7)?,
            start: r.get(8)?,
            end: r.get(9)?,
            recorded_at: r.get(10)?,
            sensitive: r.get(11)?,
            not_for_patient: r.get(22)?,
            body,
        },
        provenance: Provenance {
            source_code: r.get(13)?,
            source_name: r.get(14)?,
            organisation: r.get(15)?,
            format: r.get(16)?,
            file_name: r.get(17)?,
            message: r.get(18)?,
            received_at: r.get(19)?,
            as_of: r.get(20)?,
            organisation_code: r.get(21)?,
        },
    })
}

/// What each source linked to the person says of them, oldest link first.
fn source_views(conn: &rusqlite::Connection, person_id: i64) -> Result<Vec<SourcePersonView>> {
    conn.prepare_cached(
        "SELECT sp.id, s.code, s.name, sp.local_id, sp.demographics, sp.link_kind, sp.as_of,
                    o.ods_code, s.kind
             FROM source_person sp JOIN source s ON s.id = sp.source_id
             JOIN organisation o ON o.id = s.organisation_id
             WHERE sp.person_id = ?1 ORDER BY sp.id",
    )
    .and_then(|mut s| {
        s.query_map([person_id], |r| {
            let id: i64 = r.get(0)?;
            let demographics: Option<String> = r.get(4)?;
            let kind: String = r.get(8)?;
            Ok(SourcePersonView {
                source_person_id: id,
                source_code: r.get(1)?,
                source_name: r.get(2)?,
                local_id: r.get(3)?,
                // No demographics stated is empty; stated but unreadable is an error.
                demographics: match demographics {
                    Some(d) => decode::json("source person demographics", id, 4, &d)?,
                    None => Demographics::default(),
                },
                source_kind: SourceKind::parse(&kind)
                    .ok_or_else(|| decode::unknown("source kind", id, 8))?,
                link_kind: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                updated_at: r.get(6)?,
                organisation_code: r.get(7)?,
            })
        })?
        .collect()
    })
    .doing("reading a person's sources")
}

impl super::Tx<'_> {
    /// The person's sources as the record shows them, read inside this transaction (the
    /// notification rules ask who the registered practice is as the entry is stored).
    pub fn source_views_of(&self, person_id: i64) -> Result<Vec<SourcePersonView>> {
        source_views(self.conn(), person_id)
    }
}
