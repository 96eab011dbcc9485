//! The audit trail: who did what, to whose record, when, from where.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// One event to record.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    pub user_id: Option<i64>,
    pub actor: Option<&'a str>,
    pub role: Option<&'a str>,
    pub org: Option<&'a str>,
    pub action: &'a str,
    pub person_id: Option<i64>,
    pub detail: Option<&'a str>,
    /// `ok`, `denied` or `failed`.
    pub outcome: &'a str,
    pub ip: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub org: Option<String>,
    pub action: String,
    pub person_id: Option<i64>,
    pub detail: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
}

impl Tx<'_> {
    pub fn audit(&self, e: &AuditEvent<'_>, now: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO audit_event (at, user_id, actor, role, org, action, person_id, detail, outcome, ip)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    now, e.user_id, e.actor, e.role, e.org, e.action, e.person_id, e.detail,
                    e.outcome, e.ip
                ])
            })
            .doing("writing the audit trail")?;
        Ok(())
    }
}

/// Who is looking, for events about what they saw.
pub struct Actor<'a> {
    pub user_id: i64,
    pub username: &'a str,
    pub role: &'a str,
    pub org: &'a str,
    pub ip: Option<&'a str>,
}

impl Store {
    /// Records that `actor` was shown data of each of `people` (one `action` event each), in
    /// one committed transaction: the caller shows nothing unless this succeeds.
    pub fn audit_seen(
        &mut self,
        actor: &Actor<'_>,
        action: &str,
        people: &[i64],
        detail: Option<&str>,
        now: &str,
    ) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        let tx = self.begin()?;
        for &person in people {
            tx.audit(
                &AuditEvent {
                    user_id: Some(actor.user_id),
                    actor: Some(actor.username),
                    role: Some(actor.role),
                    org: Some(actor.org),
                    action,
                    person_id: Some(person),
                    detail,
                    outcome: "ok",
                    ip: actor.ip,
                },
                now,
            )?;
        }
        tx.commit()
    }

    /// The detail of the latest event with this action, if any.
    pub fn last_audit_detail(&self, action: &str) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT detail FROM audit_event WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
                [action],
                |r| r.get(0),
            )
            .optional()
            .doing("reading the audit trail")
            .map(Option::flatten)
    }

    /// The most recent events, newest first; only those about one person when given.
    pub fn audit_events(&self, person_id: Option<i64>, limit: usize) -> Result<Vec<AuditRow>> {
        self.conn()
            .prepare(
                "SELECT seq, at, actor, role, org, action, person_id, detail, outcome, ip
                 FROM audit_event WHERE ?1 IS NULL OR person_id = ?1
                 ORDER BY seq DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![person_id, super::as_i64(limit)], |r| {
                    Ok(AuditRow {
                        seq: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        role: r.get(3)?,
                        org: r.get(4)?,
                        action: r.get(5)?,
                        person_id: r.get(6)?,
                        detail: r.get(7)?,
                        outcome: r.get(8)?,
                        ip: r.get(9)?,
                    })
                })?
                .collect()
            })
            .doing("reading the audit trail")
    }
}
