//! Entries, their superseded versions, and the full-text index over them.

use super::persons::is_older;
use super::{decode, Tx};
use crate::error::{DbContext, Result};
use crate::model::EntryDraft;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

/// What writing one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryWrite {
    Inserted,
    Updated,
    Unchanged,
    /// Older than the stored version: kept in history, not applied.
    ArrivedLate,
}

/// Where an entry version came from.
pub struct EntryOrigin<'a> {
    pub source_id: i64,
    pub source_person_id: i64,
    pub as_of: Option<&'a str>,
    pub file_id: i64,
    pub message_ref: Option<&'a str>,
    pub received_at: &'a str,
    /// Fields a message leaves out keep their stored values (HL7 v2, where an event message
    /// carries only what changed); otherwise a newer version replaces the whole entry (FHIR,
    /// CSV, where each row or resource is complete).
    pub fill_missing: bool,
}

/// The stored current version of an entry: id, content hash, version, as-of time, and the
/// draft as JSON when the caller fills missing fields from it.
type StoredVersion = (i64, Vec<u8>, i64, Option<String>, Option<String>);

/// An entry draft turned into what the writer stores, ahead of the write: its JSON (what the
/// content hash is taken over), the stored body cut from it and packed, and its full-text detail. None of
/// it needs the database, so an import makes it on another core while the writer stores the
/// batch before (see `import::ahead`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialisedEntry {
    json: String,
    /// Packed ([`super::packed`]).
    body: Vec<u8>,
    /// `None` when the full-text index is built at the end of a bulk load instead.
    search_text: Option<String>,
}

impl SerialisedEntry {
    /// `with_search_text`: whether the writer will index the entry as it stores it.
    pub fn of(draft: &EntryDraft, with_search_text: bool) -> Self {
        let json = serde_json::to_string(draft).unwrap_or_default();
        Self {
            body: super::packed::pack(&stored_body(&json, draft.category)),
            json,
            search_text: with_search_text.then(|| searchable_text(draft)),
        }
    }
}

impl Tx<'_> {
    /// Writes an entry, serialising it here (see [`Self::write_serialised_entry`]).
    pub fn write_entry(&self, draft: &EntryDraft, origin: &EntryOrigin<'_>) -> Result<EntryWrite> {
        let serialised = SerialisedEntry::of(draft, !self.search_index_deferred());
        self.write_serialised_entry(draft, &serialised, origin)
    }

    /// Writes an entry: a new one, a newer version of a stored one (the old kept in history),
    /// an older one (kept in history only) or the same one again (nothing). `serialised` is
    /// [`SerialisedEntry::of`] this draft.
    pub fn write_serialised_entry(
        &self,
        draft: &EntryDraft,
        serialised: &SerialisedEntry,
        origin: &EntryOrigin<'_>,
    ) -> Result<EntryWrite> {
        let fill_missing = origin.fill_missing && draft.category.keeps_missing_fields();
        let current: Option<StoredVersion> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT id, content_hash, version, as_of, CASE WHEN ?3 THEN {DRAFT_JSON} END
                 FROM entry WHERE source_id = ?1 AND source_ref = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(
                    params![origin.source_id, draft.source_ref, fill_missing],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()
            })
            .doing("looking up an entry")?;
        let Some((entry_id, stored_hash, version, stored_as_of, stored_draft)) = current else {
            // Serialised once: the hash is taken over the draft's JSON, and the stored body
            // is cut from it.
            let hash = content_hash(&serialised.json, origin.source_person_id);
            self.insert_entry(draft, origin, &hash, serialised)?;
            return Ok(EntryWrite::Inserted);
        };
        // A stored version that cannot be read stops the write: replaced unread, it could
        // lose what the new message leaves out (its sensitivity among them).
        let filled = stored_draft
            .as_deref()
            .map(|stored| filled_from(draft, stored, entry_id))
            .transpose()
            .doing("reading an entry's stored version")?;
        let refilled = filled
            .as_ref()
            .map(|filled| SerialisedEntry::of(filled, serialised.search_text.is_some()));
        let draft = filled.as_ref().unwrap_or(draft);
        let serialised = refilled.as_ref().unwrap_or(serialised);
        let hash = content_hash(&serialised.json, origin.source_person_id);
        if stored_hash == hash {
            return Ok(EntryWrite::Unchanged);
        }
        if is_older(origin.as_of, stored_as_of.as_deref()) {
            let added = self.keep_late_version(entry_id, serialised, origin, &hash)?;
            return Ok(if added {
                EntryWrite::ArrivedLate
            } else {
                EntryWrite::Unchanged
            });
        }
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO entry_history (entry_id, version, source_person_id, draft,
                    content_hash, as_of, feed_file_id, message_ref, received_at, disposition)
                 SELECT id, version, source_person_id, packed({DRAFT_JSON}), content_hash, as_of, feed_file_id, message_ref, received_at, 'superseded'
                 FROM entry WHERE id = ?1"
            ))
            .and_then(|mut s| s.execute([entry_id]))
            .doing("keeping the superseded entry")?;
        self.conn()
            .prepare_cached(
                "UPDATE entry SET source_person_id = ?2, category = ?3, code_system = ?4,
                    code = ?5, title = ?6, status = ?7, start_at = ?8, end_at = ?9,
                    recorded_at = ?10, sensitive = ?11, body = ?12, content_hash = ?13,
                    version = ?14, as_of = ?15, feed_file_id = ?16, message_ref = ?17,
                    received_at = ?18, not_for_patient = ?19
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    entry_id,
                    origin.source_person_id,
                    draft.category.as_str(),
                    draft.code_system,
                    draft.code,
                    draft.title,
                    draft.status,
                    draft.start,
                    draft.end,
                    draft.recorded_at,
                    draft.sensitive,
                    serialised.body,
                    hash,
                    version + 1,
                    origin.as_of,
                    origin.file_id,
                    origin.message_ref,
                    origin.received_at,
                    draft.not_for_patient
                ])
            })
            .doing("updating an entry")?;
        self.index_entry(entry_id, draft, serialised, true);
        Ok(EntryWrite::Updated)
    }

    /// Every applied version of one entry, oldest first, the current one last (versions kept
    /// only because they arrived late are left out: they never applied).
    pub fn entry_versions(&self, source_id: i64, source_ref: &str) -> Result<Vec<EntryDraft>> {
        let rows: Vec<(i64, i64, String)> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT h.id, h.version, unpacked(h.draft) FROM entry_history h
                    JOIN entry e ON e.id = h.entry_id
                 WHERE e.source_id = ?1 AND e.source_ref = ?2 AND h.version IS NOT NULL
                 UNION ALL
                 SELECT id, version, {DRAFT_JSON} FROM entry WHERE source_id = ?1 AND source_ref = ?2
                 ORDER BY 2"
            ))
            .and_then(|mut s| {
                s.query_map(params![source_id, source_ref], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
            })
            .doing("reading an entry's versions")?;
        rows.iter()
            .map(|(id, _, json)| decode::json("entry_history", *id, 3, json))
            .collect::<rusqlite::Result<_>>()
            .doing("reading an entry's versions")
    }

    fn insert_entry(
        &self,
        draft: &EntryDraft,
        origin: &EntryOrigin<'_>,
        hash: &[u8],
        serialised: &SerialisedEntry,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO entry (source_id, source_ref, source_person_id, category, code_system,
                    code, title, status, start_at, end_at, recorded_at, sensitive, body,
                    content_hash, version, as_of, feed_file_id, message_ref, received_at,
                    not_for_patient)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15,
                    ?16, ?17, ?18, ?19)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    origin.source_id,
                    draft.source_ref,
                    origin.source_person_id,
                    draft.category.as_str(),
                    draft.code_system,
                    draft.code,
                    draft.title,
                    draft.status,
                    draft.start,
                    draft.end,
                    draft.recorded_at,
                    draft.sensitive,
                    serialised.body,
                    hash,
                    origin.as_of,
                    origin.file_id,
                    origin.message_ref,
                    origin.received_at,
                    draft.not_for_patient
                ])
            })
            .doing("inserting an entry")?;
        let id = self.conn().last_insert_rowid();
        self.index_entry(id, draft, serialised, false);
        Ok(())
    }

    /// Keeps a version older than the stored one in history (it never had a version number of
    /// its own). Returns whether a row was added: false when this version was already kept.
    fn keep_late_version(
        &self,
        entry_id: i64,
        serialised: &SerialisedEntry,
        origin: &EntryOrigin<'_>,
        hash: &[u8],
    ) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(
                "INSERT INTO entry_history (entry_id, version, source_person_id, draft,
                    content_hash, as_of, feed_file_id, message_ref, received_at, disposition)
                 SELECT ?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'arrived-late'
                 WHERE NOT EXISTS (SELECT 1 FROM entry_history
                    WHERE entry_id = ?1 AND content_hash = ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    entry_id,
                    origin.source_person_id,
                    super::packed::pack(&serialised.json),
                    hash,
                    origin.as_of,
                    origin.file_id,
                    origin.message_ref,
                    origin.received_at
                ])
            })
            .doing("keeping entry history")?;
        Ok(n > 0)
    }

    fn index_entry(
        &self,
        entry_id: i64,
        draft: &EntryDraft,
        serialised: &SerialisedEntry,
        replace: bool,
    ) {
        if self.deferring_search_index() {
            return;
        }
        let detail = match &serialised.search_text {
            Some(text) => text.clone(),
            None => searchable_text(draft),
        };
        self.index_entry_later(entry_id, &draft.title, detail, replace);
    }
}

/// An entry row as the JSON of its draft (the shape `EntryDraft` serialises to).
const DRAFT_JSON: &str = "json_object('source_ref', source_ref, 'category', category,
    'code_system', code_system, 'code', code, 'title', title, 'status', status,
    'start', start_at, 'end', end_at, 'recorded_at', recorded_at,
    'sensitive', json(CASE sensitive WHEN 1 THEN 'true' ELSE 'false' END),
    'not_for_patient', json(CASE not_for_patient WHEN 1 THEN 'true' ELSE 'false' END),
    'body', json_set(unpacked(body), '$.type', category))";

/// The draft with every field it leaves out taken from the stored version (JSON of a draft).
fn filled_from(draft: &EntryDraft, stored: &str, entry_id: i64) -> rusqlite::Result<EntryDraft> {
    let stored: serde_json::Value = decode::json("entry", entry_id, 4, stored)?;
    let mut incoming = serde_json::to_value(draft)
        .map_err(|e| decode::undecodable("incoming entry", entry_id, 4, &e))?;
    fill_object(&mut incoming, &stored);
    // A visit back in progress (a cancelled discharge) has no end, whatever was stored.
    if draft.status.as_deref() == Some("in-progress") && draft.end.is_none() {
        if let Some(fields) = incoming.as_object_mut() {
            fields.remove("end");
        }
    }
    if let (Some(new_body), Some(old_body)) = (incoming.get_mut("body"), stored.get("body")) {
        if new_body.get("type") == old_body.get("type") {
            fill_object(new_body, old_body);
        }
    }
    serde_json::from_value(incoming).map_err(|e| decode::undecodable("entry", entry_id, 4, &e))
}

/// Copies into `target` every key of `earlier` that `target` lacks or has as null.
fn fill_object(target: &mut serde_json::Value, earlier: &serde_json::Value) {
    let (Some(t), Some(e)) = (target.as_object_mut(), earlier.as_object()) else {
        return;
    };
    for (k, v) in e {
        if !v.is_null() && t.get(k).is_none_or(serde_json::Value::is_null) {
            t.insert(k.clone(), v.clone());
        }
    }
}

/// The body alone, as stored in `entry.body`: without its `type` tag, which always equals the
/// row's category (a test holds that true), saving some 20 bytes an entry. Readers put it back
/// ([`super::read`], and `DRAFT_JSON` here).
#[cfg(test)]
fn body_json(draft: &EntryDraft) -> String {
    stored_body(
        &serde_json::to_string(draft).unwrap_or_default(),
        draft.category,
    )
}

/// The stored body, cut from the JSON of its whole draft: the body is the draft's last field,
/// and the key `"body":` cannot occur earlier (the other keys are fixed, and a quote inside a
/// string value is escaped).
fn stored_body(draft_json: &str, category: crate::model::Category) -> String {
    const KEY: &str = ",\"body\":";
    let json = draft_json
        .find(KEY)
        .and_then(|at| draft_json.get(at + KEY.len()..draft_json.len().saturating_sub(1)))
        .unwrap_or("{}");
    let tag = format!("{{\"type\":\"{}\"", category.as_str());
    match json.strip_prefix(&tag) {
        Some(rest) => match rest.strip_prefix(',') {
            Some(fields) => format!("{{{fields}"),
            None => "{}".to_owned(),
        },
        None => json.to_owned(),
    }
}

/// A stored body with its `type` tag back, ready to deserialise.
pub(super) fn tagged_body(category: &str, stored: &str) -> String {
    if stored.starts_with("{\"type\":") {
        return stored.to_owned();
    }
    match stored.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"type\":\"{category}\"}}"),
        Some(rest) => format!("{{\"type\":\"{category}\",{rest}"),
        None => stored.to_owned(),
    }
}

/// The hash that decides whether a re-delivered entry changes anything: the whole draft and
/// the source person it belongs to.
fn content_hash(json: &str, source_person_id: i64) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(source_person_id.to_le_bytes());
    h.update(json.as_bytes());
    h.finalize()[..16].to_vec()
}

/// Every text value in the body, for full-text search.
fn searchable_text(draft: &EntryDraft) -> String {
    let body = serde_json::to_value(&draft.body).unwrap_or_default();
    text_of(&body, draft.code.as_deref())
}

/// An entry's full-text document detail: the body's text values, then its code. The deferred
/// build ([`super::bulk`]) makes it from the stored body; the write path from the draft.
pub(super) fn text_of(body: &serde_json::Value, code: Option<&str>) -> String {
    let mut out = String::new();
    if let serde_json::Value::Object(map) = body {
        for (key, value) in map {
            if let serde_json::Value::String(s) = value {
                if key != "type" {
                    out.push_str(s);
                    out.push(' ');
                }
            }
        }
    }
    if let Some(code) = code {
        out.push_str(code);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entry::Allergy;
    use crate::model::{Category, EntryBody};

    fn draft(body: EntryBody) -> EntryDraft {
        EntryDraft {
            source_ref: "r".into(),
            category: body.category(),
            code_system: None,
            code: None,
            title: "t".into(),
            status: None,
            start: None,
            end: None,
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body,
        }
    }

    #[test]
    fn the_body_cut_from_the_draft_json_equals_the_body_serialised_alone() {
        let mut tricky = draft(EntryBody::Allergy(Allergy {
            substance: Some(r#"x","body":{"a":1}"#.into()),
            ..Allergy::default()
        }));
        tricky.title = r#"t,"body":{"type":"allergy"}"#.into();
        tricky.code = Some(",\"body\":".into());
        for d in [tricky, draft(EntryBody::Allergy(Allergy::default()))] {
            let alone = serde_json::to_string(&d.body).unwrap();
            let cut = body_json(&d);
            let tag = format!("{{\"type\":\"{}\"", d.category.as_str());
            let expected = match alone.strip_prefix(&tag).unwrap().strip_prefix(',') {
                Some(fields) => format!("{{{fields}"),
                None => "{}".to_owned(),
            };
            assert_eq!(cut, expected);
        }
    }

    #[test]
    fn bodies_are_stored_without_their_tag_and_read_back_whole() {
        let full = draft(EntryBody::Allergy(Allergy {
            substance: Some("Penicillin".into()),
            ..Allergy::default()
        }));
        let empty = draft(EntryBody::Allergy(Allergy::default()));
        for d in [full, empty] {
            let stored = body_json(&d);
            assert!(!stored.contains("type"), "{stored}");
            let back: EntryBody =
                serde_json::from_str(&tagged_body(Category::Allergy.as_str(), &stored)).unwrap();
            assert_eq!(back, d.body);
        }
        // Every category names its body's tag, which is what lets the tag be dropped.
        for c in Category::ALL {
            let r = serde_json::from_str::<EntryBody>(&format!(r#"{{"type":"{}"}}"#, c.as_str()));
            if let Err(e) = r {
                assert!(!e.to_string().contains("unknown variant"), "{c}: {e}");
            }
        }
        // Rows written before the tag was dropped still read.
        let old = r#"{"type":"allergy","substance":"Latex"}"#;
        assert_eq!(tagged_body("allergy", old), old);
    }
}
