//! The reads behind the patient search box and the freshness marks on the record page: people
//! by date of birth or postcode, the details a result row shows, and when each source last
//! delivered a file.

use super::{decode, Store};
use crate::error::{DbContext, Result};
use crate::model::Demographics;
use rusqlite::OptionalExtension;

/// The most people one lookup returns; the search page asks for more terms beyond this.
const LOOKUP_LIMIT: i64 = 500;

/// A person as a search result row needs them: the golden record and every name a linked
/// source gives them (to say why a misspelt name matched).
#[derive(Debug, Clone)]
pub struct SearchPerson {
    pub id: i64,
    pub demographics: Demographics,
    /// `(given names, family name)` as each linked source states them.
    pub source_names: Vec<(Vec<String>, Option<String>)>,
}

impl Store {
    /// Live people born on `date` (`YYYY-MM-DD`).
    pub fn persons_born_on(&self, date: &str) -> Result<Vec<i64>> {
        self.conn()
            .prepare_cached(
                "SELECT id FROM person WHERE birth_date = ?1 AND merged_into IS NULL
                 ORDER BY id LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(rusqlite::params![date, LOOKUP_LIMIT], |r| r.get(0))?
                    .collect()
            })
            .doing("finding people by date of birth")
    }

    /// Live people whose postcode, without spaces and in upper case, is `key`; when `outward`
    /// is set, `key` is only the outward code (`WX3`) and every postcode of that district counts.
    pub fn persons_by_postcode(&self, key: &str, outward: bool) -> Result<Vec<i64>> {
        let sql = if outward {
            // A range, so the postcode index serves it; an outward code is followed by exactly
            // three inward characters ('~' sorts after every letter and digit).
            "SELECT id FROM person WHERE postcode_key >= ?1 AND postcode_key < ?1 || '~'
               AND length(postcode_key) = length(?1) + 3 AND merged_into IS NULL
             ORDER BY id LIMIT ?2"
        } else {
            "SELECT id FROM person WHERE postcode_key = ?1 AND merged_into IS NULL
             ORDER BY id LIMIT ?2"
        };
        self.conn()
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_map(rusqlite::params![key, LOOKUP_LIMIT], |r| r.get(0))?
                    .collect()
            })
            .doing("finding people by postcode")
    }

    /// The result-row details of live people, in the order of `ids`; unknown or merged-away
    /// ids are left out.
    pub fn search_people(&self, ids: &[i64]) -> Result<Vec<SearchPerson>> {
        let mut person = self
            .conn()
            .prepare_cached("SELECT demographics FROM person WHERE id = ?1 AND merged_into IS NULL")
            .doing("preparing a person read")?;
        let mut names = self
            .conn()
            .prepare_cached(
                "SELECT demographics FROM source_person
                 WHERE person_id = ?1 AND demographics IS NOT NULL ORDER BY id",
            )
            .doing("preparing a source names read")?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let golden: Option<String> = person
                .query_row([id], |r| r.get(0))
                .optional()
                .doing("reading a person")?;
            let Some(golden) = golden else { continue };
            // Unreadable stored demographics fail the search: read as empty, an S-flagged
            // person's row would show what the flag withholds.
            let source_names = names
                .query_map([id], |r| {
                    let d: Demographics =
                        decode::json("source person demographics", id, 0, &r.get::<_, String>(0)?)?;
                    Ok((d.given, d.family))
                })
                .and_then(|rows| rows.collect())
                .doing("reading a person's names")?;
            out.push(SearchPerson {
                id,
                demographics: decode::json("golden record", id, 0, &golden)
                    .doing("reading a person")?,
                source_names,
            });
        }
        Ok(out)
    }

    /// Each source's code with when its most recent file arrived (`None`: never a file).
    pub fn source_last_received(&self) -> Result<Vec<(String, Option<String>)>> {
        self.conn()
            .prepare_cached(
                "SELECT s.code, (SELECT max(f.received_at) FROM feed_file f
                                 WHERE f.source_id = s.id AND f.state = 'imported')
                 FROM source s ORDER BY s.code",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .doing("reading when sources last delivered")
    }
}
