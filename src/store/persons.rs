//! Source persons (what each source says) and persons (the golden record they link to).

use super::find_terms::FindDoc;
use super::{decode, Tx};
use crate::error::{DbContext, Result};
use crate::model::golden::{self, Ranked};
use crate::model::{Demographics, SourceKind};
use rusqlite::{params, OptionalExtension};

/// A source's local id as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub source_person_id: i64,
    pub person_id: Option<i64>,
    pub has_demographics: bool,
}

/// What happened to a source person's demographics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemographicsWrite {
    First,
    Updated,
    Unchanged,
    /// Older than what is stored: kept in history, not applied.
    ArrivedLate,
}

impl Tx<'_> {
    pub fn subject(&self, source_id: i64, local_id: &str) -> Result<Option<Subject>> {
        self.conn()
            .prepare_cached(
                "SELECT id, person_id, demographics IS NOT NULL FROM source_person
                 WHERE source_id = ?1 AND local_id = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![source_id, local_id], |r| {
                    Ok(Subject {
                        source_person_id: r.get(0)?,
                        person_id: r.get(1)?,
                        has_demographics: r.get(2)?,
                    })
                })
                .optional()
            })
            .doing("looking up a source person")
    }

    /// The subject, created as a placeholder (no demographics, no person) when unknown.
    pub fn ensure_subject(&self, source_id: i64, local_id: &str, now: &str) -> Result<Subject> {
        if let Some(s) = self.subject(source_id, local_id)? {
            return Ok(s);
        }
        self.conn()
            .prepare_cached(
                "INSERT INTO source_person (source_id, local_id, updated_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![source_id, local_id, now]))
            .doing("recording a source person")?;
        Ok(Subject {
            source_person_id: self.conn().last_insert_rowid(),
            person_id: None,
            has_demographics: false,
        })
    }

    /// Applies demographics from a message unless the stored ones are from a newer message.
    pub fn write_demographics(
        &self,
        source_person_id: i64,
        d: &Demographics,
        as_of: Option<&str>,
        file_id: i64,
        now: &str,
    ) -> Result<DemographicsWrite> {
        let stored: Option<(Option<String>, Option<String>)> = self
            .conn()
            .prepare_cached("SELECT demographics, as_of FROM source_person WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([source_person_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .doing("reading a source person")?;
        let (old_json, old_as_of) = stored.unwrap_or((None, None));
        let mut d = d.clone();
        // What the source said before fills what this message leaves out; unreadable, it
        // stops the write rather than being silently replaced.
        if let Some(old) = old_json.as_deref() {
            let earlier: Demographics =
                decode::json("source person demographics", source_person_id, 0, old)
                    .doing("reading a source person")?;
            d.fill_missing_from(&earlier);
        }
        let json = serde_json::to_string(&d).unwrap_or_default();
        let outcome = match &old_json {
            None => DemographicsWrite::First,
            Some(old) if *old == json => return Ok(DemographicsWrite::Unchanged),
            Some(_) if is_older(as_of, old_as_of.as_deref()) => DemographicsWrite::ArrivedLate,
            Some(_) => DemographicsWrite::Updated,
        };
        let history = |demographics: &str, when: Option<&str>, disposition: &str| {
            self.conn()
                .prepare_cached(
                    "INSERT INTO source_person_history
                        (source_person_id, demographics, as_of, feed_file_id, recorded_at, disposition)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6
                     WHERE NOT EXISTS (SELECT 1 FROM source_person_history
                        WHERE source_person_id = ?1 AND demographics = ?2
                          AND as_of IS ?3 AND disposition = ?6)",
                )
                .and_then(|mut s| {
                    s.execute(params![source_person_id, demographics, when, file_id, now, disposition])
                })
                .doing("keeping demographics history")
        };
        match (outcome, &old_json) {
            (DemographicsWrite::ArrivedLate, _) => {
                history(&json, as_of, "arrived-late")?;
                return Ok(outcome);
            }
            (DemographicsWrite::Updated, Some(old)) => {
                history(old, old_as_of.as_deref(), "superseded")?;
            }
            _ => {}
        }
        let nhs = d.nhs_number.as_ref();
        self.conn()
            .prepare_cached(
                "UPDATE source_person SET demographics = ?2, as_of = ?3, updated_at = ?4,
                    nhs_number = ?5, nhs_number_status = ?6 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    source_person_id,
                    json,
                    as_of,
                    now,
                    nhs.map(|n| n.value.as_str()),
                    nhs.map(|n| n.status.as_str())
                ])
            })
            .doing("saving demographics")?;
        Ok(outcome)
    }

    pub fn source_person_demographics(
        &self,
        source_person_id: i64,
    ) -> Result<Option<Demographics>> {
        let json: Option<String> = self
            .conn()
            .prepare_cached("SELECT demographics FROM source_person WHERE id = ?1")
            .and_then(|mut s| s.query_row([source_person_id], |r| r.get(0)))
            .doing("reading demographics")?;
        json.map(|j| decode::json("source person demographics", source_person_id, 0, &j))
            .transpose()
            .doing("reading demographics")
    }

    /// The person a verified NHS number already belongs to.
    pub fn person_by_verified_nhs(&self, nhs: &str, except_sp: i64) -> Result<Option<i64>> {
        self.conn()
            .prepare_cached(
                "SELECT person_id FROM source_person
                 WHERE nhs_number = ?1 AND nhs_number_status = 'verified'
                   AND person_id IS NOT NULL AND id <> ?2
                 ORDER BY id LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![nhs, except_sp], |r| r.get(0))
                    .optional()
            })
            .doing("finding a person by NHS number")
    }

    /// Live persons who could be the person described: born the same day, or living at the
    /// same postcode, or with a family name that sounds the same, born the same year with a month
    /// or day that is this date's month or day: which takes in every keying slip `matching`
    /// scores as close within a year (a wrong day, a wrong month, day and month swapped). A person holding a
    /// different verified NHS number is never a candidate for a record that has a verified
    /// one: two verified numbers are two people.
    ///
    /// The sound-alike arm once took everyone of the same year: at 1.8 million people that was
    /// some 250 people a record (a common name's sound in one year), most of an import's time,
    /// and a date that agrees in its year only scores nothing and can never link.
    pub fn match_candidates(
        &self,
        keys: &crate::matching::BlockingKeys,
        verified_nhs: Option<&str>,
    ) -> Result<Vec<(i64, Demographics)>> {
        let year = keys.birth_date.as_deref().and_then(|d| d.get(..4));
        let month = keys.birth_date.as_deref().and_then(|d| d.get(5..7));
        let day = keys.birth_date.as_deref().and_then(|d| d.get(8..10));
        let mut stmt = self
            .conn()
            .prepare_cached(
                // A UNION of three index searches: written as one OR, SQLite scans the table.
                "SELECT id, demographics FROM person
                 WHERE id IN (
                     SELECT id FROM person WHERE merged_into IS NULL AND birth_date = ?1
                     UNION SELECT id FROM person WHERE merged_into IS NULL AND postcode_key = ?2
                     UNION SELECT id FROM person WHERE merged_into IS NULL AND surname_key = ?3
                         AND birth_date BETWEEN ?4 || '-01-01' AND ?4 || '-12-31'
                         AND (substr(birth_date, 6, 2) IN (?6, ?7)
                             OR substr(birth_date, 9, 2) IN (?6, ?7)))
                   AND (?5 IS NULL OR nhs_number IS NULL OR nhs_number = ?5)
                 LIMIT 500",
            )
            .doing("preparing the candidate query")?;
        let rows = stmt
            .query_map(
                params![
                    keys.birth_date,
                    keys.postcode,
                    keys.surname_phonetic,
                    year,
                    verified_nhs,
                    month,
                    day
                ],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .doing("finding match candidates")?;
        // A candidate that cannot be read fails the match: dropping it would make the import
        // create a second person for someone already here.
        rows.into_iter()
            .map(|(id, json)| decode::json("golden record", id, 1, &json).map(|d| (id, d)))
            .collect::<rusqlite::Result<Vec<_>>>()
            .doing("reading match candidates")
    }

    pub fn create_person(&self, now: &str) -> Result<i64> {
        self.conn()
            .prepare_cached("INSERT INTO person (created_at) VALUES (?1)")
            .and_then(|mut s| s.execute([now]))
            .doing("creating a person")?;
        Ok(self.conn().last_insert_rowid())
    }

    pub fn link_source_person(
        &self,
        source_person_id: i64,
        person_id: i64,
        kind: &str,
        score: Option<f64>,
        explanation: Option<&str>,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE source_person SET person_id = ?2, link_kind = ?3, link_score = ?4,
                    link_explanation = ?5 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    source_person_id,
                    person_id,
                    kind,
                    score,
                    explanation
                ])
            })
            .doing("linking a source person")?;
        Ok(())
    }

    pub fn source_persons_of(&self, person_id: i64) -> Result<Vec<(i64, Option<String>)>> {
        self.conn()
            .prepare_cached(
                "SELECT id, link_kind FROM source_person WHERE person_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([person_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .doing("listing a person's source persons")
    }

    /// Recomputes a person's golden demographics, blocking keys and search index from the
    /// source persons linked to it now.
    pub fn refresh_person(&self, person_id: i64, precedence: &[SourceKind]) -> Result<()> {
        let parsed = self.person_sources(person_id, precedence)?;
        let g = golden_of(&parsed);
        let keys = crate::matching::blocking_keys(&g);
        let verified_nhs = g.nhs_number.as_ref().and_then(|n| n.trusted());
        self.conn()
            .prepare_cached(
                "UPDATE person SET nhs_number = ?2, family = ?3, given = ?4, birth_date = ?5,
                    sex = ?6, postcode = ?7, postcode_key = ?8, surname_key = ?9,
                    gp_practice = ?10, death_date = ?11, deceased = ?12, restricted = ?13,
                    sharing_objection = ?14, demographics = ?15
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    person_id,
                    verified_nhs,
                    g.family,
                    (!g.given.is_empty()).then(|| g.given.join(" ")),
                    g.birth_date.map(|d| d.to_string()),
                    g.sex.map(|s| s.as_str()),
                    g.postcode(),
                    keys.postcode,
                    keys.surname_phonetic,
                    g.gp_practice,
                    g.death_date.map(|d| d.to_string()),
                    g.deceased,
                    g.restricted,
                    g.sharing_objection,
                    serde_json::to_string(&g).unwrap_or_default()
                ])
            })
            .doing("saving the golden record")?;
        if !self.deferring_search_index() {
            self.index_person_later(person_id, person_doc(&parsed, &g));
        }
        Ok(())
    }

    /// What each source linked to a person says of them, with the source's precedence rank.
    /// Every source's demographics must read: the golden record derived without an
    /// unreadable one could lose its S-flag or its objection.
    pub(super) fn person_sources(
        &self,
        person_id: i64,
        precedence: &[SourceKind],
    ) -> Result<Vec<SourceView>> {
        self.conn()
            .prepare_cached(
                "SELECT s.kind, sp.as_of, sp.demographics, sp.id FROM source_person sp
                 JOIN source s ON s.id = sp.source_id
                 WHERE sp.person_id = ?1 AND sp.demographics IS NOT NULL",
            )
            .and_then(|mut s| {
                s.query_map([person_id], |r| {
                    let (kind, json, id): (String, String, i64) = (r.get(0)?, r.get(2)?, r.get(3)?);
                    let kind = SourceKind::parse(&kind)
                        .ok_or_else(|| decode::unknown("source kind", id, 0))?;
                    let d: Demographics = decode::json("source person demographics", id, 2, &json)?;
                    let rank = precedence
                        .iter()
                        .position(|p| *p == kind)
                        .unwrap_or(precedence.len());
                    Ok((rank, r.get(1)?, d))
                })?
                .collect()
            })
            .doing("reading a person's sources")
    }
}

/// A source's view of a person: its precedence rank, as-of time and demographics.
pub(super) type SourceView = (usize, Option<String>, Demographics);

/// The golden record derived from the sources' views.
pub(super) fn golden_of(parsed: &[SourceView]) -> Demographics {
    let mut views: Vec<Ranked<'_>> = parsed
        .iter()
        .map(|(rank, as_of, d)| Ranked {
            rank: *rank,
            as_of: as_of.as_deref(),
            demographics: d,
        })
        .collect();
    golden::derive(&mut views)
}

/// A person's search index row: the golden record's facts and every source's names; `None`
/// (out of the index) when no source describes them.
pub(super) fn person_doc(parsed: &[SourceView], g: &Demographics) -> Option<FindDoc> {
    (!parsed.is_empty()).then(|| super::find_terms::doc(g, parsed.iter().map(|(_, _, d)| d)))
}

/// True when `incoming` is known to be older than `stored`. Unknown times never count as older:
/// a source that sends no times is applied in arrival order.
pub(crate) fn is_older(incoming: Option<&str>, stored: Option<&str>) -> bool {
    matches!((incoming, stored), (Some(i), Some(s)) if i < s)
}
