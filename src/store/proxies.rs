//! Proxy relationships: who may act for whom on the citizens' pages (see `access::proxy`).

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ProxyRow {
    pub id: i64,
    pub proxy_person_id: i64,
    pub for_person_id: i64,
    pub legal_basis: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub evidence: String,
    pub recorded_by: String,
    pub ended_at: Option<String>,
}

const PROXY: &str = "SELECT id, proxy_person_id, for_person_id, legal_basis, starts_on, ends_on,
        evidence, recorded_by, ended_at FROM citizen_proxy";

fn proxy(r: &Row<'_>) -> rusqlite::Result<ProxyRow> {
    Ok(ProxyRow {
        id: r.get(0)?,
        proxy_person_id: r.get(1)?,
        for_person_id: r.get(2)?,
        legal_basis: r.get(3)?,
        starts_on: r.get(4)?,
        ends_on: r.get(5)?,
        evidence: r.get(6)?,
        recorded_by: r.get(7)?,
        ended_at: r.get(8)?,
    })
}

impl Tx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn add_proxy(
        &self,
        proxy_person_id: i64,
        for_person_id: i64,
        legal_basis: &str,
        starts_on: &str,
        ends_on: Option<&str>,
        evidence: &str,
        recorded_by: &str,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO citizen_proxy (proxy_person_id, for_person_id, legal_basis, starts_on,
                     ends_on, evidence, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    proxy_person_id,
                    for_person_id,
                    legal_basis,
                    starts_on,
                    ends_on,
                    evidence,
                    recorded_by,
                    now
                ],
            )
            .doing("recording a proxy relationship")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Ends a relationship; its row when it was in force.
    pub fn end_proxy(&self, id: i64, by: &str, now: &str) -> Result<Option<ProxyRow>> {
        let n = self
            .conn()
            .execute(
                "UPDATE citizen_proxy SET ended_at = ?3, ended_by = ?2 WHERE id = ?1 AND ended_at IS NULL",
                params![id, by, now],
            )
            .doing("ending a proxy relationship")?;
        if n == 0 {
            return Ok(None);
        }
        self.conn()
            .query_row(&format!("{PROXY} WHERE id = ?1"), [id], proxy)
            .optional()
            .doing("ending a proxy relationship")
    }

    pub fn set_citizen_acting_for(&self, session_id: i64, person: Option<i64>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE citizen_session SET acting_for = ?2 WHERE id = ?1",
                params![session_id, person],
            )
            .doing("switching whom a citizen acts for")?;
        Ok(())
    }
}

impl Store {
    /// The relationships in force on `today` (YYYY-MM-DD) in which `proxy_person_id` acts.
    pub fn proxies_of(&self, proxy_person_id: i64, today: &str) -> Result<Vec<ProxyRow>> {
        self.conn()
            .prepare(&format!(
                "{PROXY} WHERE proxy_person_id = ?1 AND ended_at IS NULL AND starts_on <= ?2
                   AND (ends_on IS NULL OR ends_on >= ?2) ORDER BY id"
            ))
            .and_then(|mut s| {
                s.query_map(params![proxy_person_id, today], proxy)?
                    .collect()
            })
            .doing("reading proxy relationships")
    }

    /// The latest relationships recorded, newest first.
    pub fn recent_proxies(&self, limit: usize) -> Result<Vec<ProxyRow>> {
        self.conn()
            .prepare(&format!("{PROXY} ORDER BY id DESC LIMIT ?1"))
            .and_then(|mut s| s.query_map([super::as_i64(limit)], proxy)?.collect())
            .doing("reading proxy relationships")
    }

    /// Whom a citizen session acts for (NULL: themselves).
    pub fn citizen_acting_for(&self, session_id: i64) -> Result<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT acting_for FROM citizen_session WHERE id = ?1",
                [session_id],
                |r| r.get(0),
            )
            .doing("reading whom a citizen acts for")
    }

    /// The citizen account of a person, if they have one.
    pub fn citizen_account_of(&self, person_id: i64) -> Result<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT id FROM citizen_account WHERE person_id = ?1",
                [person_id],
                |r| r.get(0),
            )
            .optional()
            .doing("reading citizens' accounts")
    }
}
