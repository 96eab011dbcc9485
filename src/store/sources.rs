//! Organisations and the sources they run.

use super::{Store, Tx};
use crate::error::{DbContext, Error, Result};
use crate::model::{Format, SourceKind};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

pub struct NewSource<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub org_code: &'a str,
    pub org_name: Option<&'a str>,
    pub kind: SourceKind,
    pub format: Format,
    pub mapping: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub org_code: String,
    pub org_name: String,
    pub kind: SourceKind,
    pub format: Format,
    #[serde(skip)]
    pub mapping: Option<String>,
    pub has_mapping: bool,
    pub created_at: String,
}

const SELECT: &str = "SELECT s.id, s.code, s.name, o.ods_code, o.name, s.kind, s.format, s.mapping,
        s.created_at FROM source s JOIN organisation o ON o.id = s.organisation_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<SourceRow> {
    let id: i64 = r.get(0)?;
    let kind: String = r.get(5)?;
    let format: String = r.get(6)?;
    let mapping: Option<String> = r.get(7)?;
    Ok(SourceRow {
        id,
        code: r.get(1)?,
        name: r.get(2)?,
        org_code: r.get(3)?,
        org_name: r.get(4)?,
        // A kind or format this version does not know is an error, not a guess: the kind
        // decides precedence and GP registration, the format how files are read.
        kind: SourceKind::parse(&kind)
            .ok_or_else(|| super::decode::unknown("source kind", id, 5))?,
        format: Format::parse(&format)
            .ok_or_else(|| super::decode::unknown("source format", id, 6))?,
        has_mapping: mapping.is_some(),
        mapping,
        created_at: r.get(8)?,
    })
}

impl Tx<'_> {
    /// Registers a source, or updates name, kind, format and mapping of an existing one with
    /// the same code. Returns the source id.
    pub fn upsert_source(&self, s: &NewSource<'_>, now: &str) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO organisation (ods_code, name) VALUES (?1, ?2)
             ON CONFLICT (ods_code) DO UPDATE SET name = coalesce(?3, name)",
            params![s.org_code, s.org_name.unwrap_or(s.org_code), s.org_name],
        )
        .doing("saving the organisation")?;
        let org_id: i64 = conn
            .query_row(
                "SELECT id FROM organisation WHERE ods_code = ?1",
                [s.org_code],
                |r| r.get(0),
            )
            .doing("reading the organisation")?;
        conn.execute(
            "INSERT INTO source (code, name, organisation_id, kind, format, mapping, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (code) DO UPDATE SET name = ?2, organisation_id = ?3, kind = ?4,
                 format = ?5, mapping = coalesce(?6, mapping)",
            params![
                s.code,
                s.name,
                org_id,
                s.kind.as_str(),
                s.format.as_str(),
                s.mapping,
                now
            ],
        )
        .doing("saving the source")?;
        conn.query_row("SELECT id FROM source WHERE code = ?1", [s.code], |r| {
            r.get(0)
        })
        .doing("reading the source")
    }
}

impl Store {
    pub fn sources(&self) -> Result<Vec<SourceRow>> {
        self.conn()
            .prepare(&format!("{SELECT} ORDER BY s.code"))
            .and_then(|mut st| st.query_map([], from_row)?.collect())
            .doing("listing sources")
    }

    pub fn source_by_code(&self, code: &str) -> Result<SourceRow> {
        self.conn()
            .query_row(&format!("{SELECT} WHERE s.code = ?1"), [code], from_row)
            .optional()
            .doing("reading a source")?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no source with code {code}; `sharedcare source list` shows the registered ones"
                ))
            })
    }
}
