//! The audit trail: who did what, to whose record, when, from where.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::params;
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

/// Whose events a report is about.
#[derive(Debug, Clone, Copy)]
pub enum AuditSubject {
    /// A live person, with every person merged into them.
    Person(i64),
    /// A user, by id: everything they did while signed in or with a token.
    User(i64),
}

/// A page of a report: events after `after_seq`, at or after `from` and before `until`
/// (timestamps in the stored text form), at most `limit` of them.
#[derive(Debug, Clone)]
pub struct AuditQuery<'a> {
    pub subject: AuditSubject,
    pub from: Option<&'a str>,
    pub until: Option<&'a str>,
    pub after_seq: i64,
    pub limit: usize,
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

    /// The most recent events, newest first; only those about one person when given.
    pub fn audit_events(&self, person_id: Option<i64>, limit: usize) -> Result<Vec<AuditRow>> {
        self.conn()
            .prepare(&format!(
                "{EVENT} WHERE ?1 IS NULL OR person_id = ?1 ORDER BY seq DESC LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![person_id, super::as_i64(limit)], event)?
                    .collect()
            })
            .doing("reading the audit trail")
    }

    /// The events a privacy officer's report asks for, oldest first.
    pub fn audit_report(&self, q: &AuditQuery<'_>) -> Result<Vec<AuditRow>> {
        let (sql, key) = match q.subject {
            // Events written before a merge name the person merged away: they are this
            // person's too.
            AuditSubject::Person(id) => (
                format!(
                    "WITH RECURSIVE ids(id) AS (
                         SELECT ?1 UNION SELECT p.id FROM person p JOIN ids ON p.merged_into = ids.id)
                     {EVENT} WHERE person_id IN (SELECT id FROM ids) AND {RANGE}"
                ),
                id,
            ),
            AuditSubject::User(id) => (format!("{EVENT} WHERE user_id = ?1 AND {RANGE}"), id),
        };
        self.conn()
            .prepare(&sql)
            .and_then(|mut s| {
                s.query_map(
                    params![key, q.after_seq, q.from, q.until, super::as_i64(q.limit)],
                    event,
                )?
                .collect()
            })
            .doing("reading the audit trail for a report")
    }
}

const EVENT: &str =
    "SELECT seq, at, actor, role, org, action, person_id, detail, outcome, ip FROM audit_event";

/// The paging and date conditions of a report, with parameters ?2 to ?5.
const RANGE: &str = "seq > ?2 AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)
     ORDER BY seq LIMIT ?5";

fn event(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
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
}
