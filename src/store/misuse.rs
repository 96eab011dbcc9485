//! The misuse watch's SQL (see `crate::misuse`): the audit events it has not yet looked at,
//! the facts its rules compare them with (who a staff user is, who a person is, what else the
//! trail says), and the alerts it raises with their evidence and its place in the trail.
//!
//! The watch reads and writes inside one transaction on the records database; the audit file
//! is read through its read-only attachment (`audit.audit_event`).

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::Serialize;

/// An audit event as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEvent {
    pub seq: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub role: Option<String>,
    pub action: String,
    pub person_id: Option<i64>,
    pub outcome: String,
}

/// Who a staff user is as a person the record may hold (set by an administrator).
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaffIdentity {
    pub nhs_number: Option<String>,
    pub family_name: Option<String>,
    pub postcode: Option<String>,
}

impl std::fmt::Debug for StaffIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffIdentity(..)")
    }
}

/// What the rules need to know of a person viewed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonFacts {
    pub nhs_number: Option<String>,
    pub family: Option<String>,
    pub postcode: Option<String>,
    /// `vip` or `staff` when an administrator flagged the person.
    pub watched: Option<String>,
}

impl std::fmt::Debug for PersonFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonFacts(..)")
    }
}

/// One audit event behind a misuse alert, as the privacy officer's page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub seq: i64,
    pub at: String,
    pub actor: Option<String>,
    pub profile: Option<String>,
    pub action: String,
    pub person_id: Option<i64>,
    pub detail: Option<String>,
    pub outcome: String,
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn trail_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<TrailEvent> {
    Ok(TrailEvent {
        seq: r.get(0)?,
        at: r.get(1)?,
        user_id: r.get(2)?,
        role: r.get(3)?,
        action: r.get(4)?,
        person_id: r.get(5)?,
        outcome: r.get(6)?,
    })
}

/// Reads for the rules, on whichever connection holds the watch's transaction.
pub struct TrailFacts<'c> {
    conn: &'c Connection,
}

impl TrailFacts<'_> {
    /// Events after `seq`, in order, at most `limit`.
    pub fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<TrailEvent>> {
        self.conn
            .prepare_cached(
                "SELECT seq, at, user_id, role, action, person_id, outcome
                 FROM audit.audit_event WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![seq, super::as_i64(limit)], trail_event)?
                    .collect()
            })
            .doing("reading new audit events")
    }

    pub fn staff_identity(&self, user_id: i64) -> Result<Option<StaffIdentity>> {
        self.conn
            .prepare_cached(
                "SELECT nhs_number, family_name, postcode FROM staff_identity WHERE user_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([user_id], |r| {
                    Ok(StaffIdentity {
                        nhs_number: r.get(0)?,
                        family_name: r.get(1)?,
                        postcode: r.get(2)?,
                    })
                })
                .optional()
            })
            .doing("reading a staff identity")
    }

    /// The person behind an id as the record holds them now (following merges).
    pub fn person(&self, person_id: i64) -> Result<Option<PersonFacts>> {
        self.conn
            .prepare_cached(
                "WITH RECURSIVE up(id, next, depth) AS (
                     SELECT id, merged_into, 0 FROM person WHERE id = ?1
                     UNION ALL
                     SELECT p.id, p.merged_into, up.depth + 1 FROM person p
                     JOIN up ON p.id = up.next WHERE up.depth < 64)
                 SELECT p.nhs_number, p.family, p.postcode,
                        (SELECT kind FROM watched_person w WHERE w.person_id IN (SELECT id FROM up)
                         ORDER BY kind DESC LIMIT 1)
                 FROM up JOIN person p ON p.id = up.id WHERE up.next IS NULL",
            )
            .and_then(|mut s| {
                s.query_row([person_id], |r| {
                    Ok(PersonFacts {
                        nhs_number: r.get(0)?,
                        family: r.get(1)?,
                        postcode: r.get(2)?,
                        watched: r.get(3)?,
                    })
                })
                .optional()
            })
            .doing("reading a person for the misuse watch")
    }

    /// The family name and postcode of the live person with this NHS number (a staff user's
    /// own record), when there is exactly one.
    pub fn household_of(
        &self,
        nhs_number: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        let found: Vec<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT family, postcode FROM person
                 WHERE nhs_number = ?1 AND merged_into IS NULL LIMIT 2",
            )
            .and_then(|mut s| {
                s.query_map([nhs_number], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .doing("reading a staff member's own record")?;
        Ok(match found.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }

    /// A user's successful views (`actions`) in `[from, until)` up to `max_seq`: (seq, person).
    pub fn views_between(
        &self,
        user_id: i64,
        from: &str,
        until: &str,
        max_seq: i64,
        actions: &[String],
    ) -> Result<Vec<(i64, i64)>> {
        let sql = format!(
            "SELECT seq, person_id FROM audit.audit_event
             WHERE user_id = ? AND at >= ? AND at < ? AND seq <= ? AND outcome = 'ok'
               AND person_id IS NOT NULL AND action IN ({})
             ORDER BY seq",
            placeholders(actions.len())
        );
        let mut values: Vec<rusqlite::types::Value> = vec![
            user_id.into(),
            from.to_owned().into(),
            until.to_owned().into(),
            max_seq.into(),
        ];
        values.extend(actions.iter().map(|a| a.clone().into()));
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(values), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .doing("counting a user's views")
    }

    /// Distinct people viewed per active hour in `[from, until)`, by one user (`user_id`) or
    /// by every user of `role`: (user-hours with any view, people summed over them).
    pub fn hourly_views(
        &self,
        user_id: Option<i64>,
        role: Option<&str>,
        from: &str,
        until: &str,
        actions: &[String],
    ) -> Result<(i64, i64)> {
        let sql = format!(
            "SELECT count(*), coalesce(sum(n), 0) FROM (
                 SELECT count(DISTINCT person_id) AS n FROM audit.audit_event
                 WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR role = ?2)
                   AND user_id IS NOT NULL AND at >= ?3 AND at < ?4 AND outcome = 'ok'
                   AND person_id IS NOT NULL AND action IN ({})
                 GROUP BY user_id, substr(at, 1, 13))",
            (0..actions.len())
                .map(|i| format!("?{}", i + 5))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut values: Vec<rusqlite::types::Value> = vec![
            user_id.into(),
            role.map(str::to_owned).into(),
            from.to_owned().into(),
            until.to_owned().into(),
        ];
        values.extend(actions.iter().map(|a| a.clone().into()));
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params_from_iter(values), |r| Ok((r.get(0)?, r.get(1)?))))
            .doing("reading a baseline of views")
    }

    /// The user's latest self-claim or broken glass on the person before `before_seq`:
    /// (seq, at).
    pub fn last_claim(
        &self,
        user_id: i64,
        person_id: i64,
        before_seq: i64,
    ) -> Result<Option<(i64, String)>> {
        self.conn
            .prepare_cached(LAST_CLAIM)
            .and_then(|mut s| {
                s.query_row(params![user_id, person_id, before_seq], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .doing("reading a claim")
    }

    /// The user's search hits listing the person in `[since, before_seq)`.
    pub fn search_hits(
        &self,
        user_id: i64,
        person_id: i64,
        since: &str,
        before_seq: i64,
    ) -> Result<Vec<i64>> {
        self.conn
            .prepare_cached(SEARCH_HITS)
            .and_then(|mut s| {
                s.query_map(params![user_id, person_id, since, before_seq], |r| r.get(0))?
                    .collect()
            })
            .doing("reading search hits")
    }
}

// The two look-backs of the search-without-relationship rule, run for every look at a record.
// Both walk the person's events, never the user's: `+user_id` keeps SQLite off the user index,
// which it otherwise prefers for the ORDER BY, and which for a busy user means reading every
// event they ever caused, per look (the watch then managed 400 events a second at 200,000
// people and held its write transaction for seconds, so sign-ins failed meanwhile).
pub(crate) const LAST_CLAIM: &str = "SELECT seq, at FROM audit.audit_event
     WHERE person_id = ?2 AND +user_id = ?1 AND seq < ?3 AND outcome = 'ok'
       AND action IN ('self-claim', 'break-glass-start')
     ORDER BY seq DESC LIMIT 1";
pub(crate) const SEARCH_HITS: &str = "SELECT seq FROM audit.audit_event
     WHERE person_id = ?2 AND +user_id = ?1 AND seq < ?4 AND at >= ?3
       AND outcome = 'ok' AND action = 'search-hit'
     ORDER BY seq";

/// A misuse alert to raise.
#[derive(Debug, Clone)]
pub struct NewMisuseAlert<'a> {
    pub rule: &'a str,
    pub dedup_key: &'a str,
    pub user_id: i64,
    pub person_id: Option<i64>,
    /// What the rule saw, without patient data.
    pub detail: &'a str,
}

impl Store {
    /// The audit trail and the facts the misuse rules read, outside any write transaction.
    pub fn trail(&self) -> TrailFacts<'_> {
        TrailFacts { conn: self.conn() }
    }

    /// The last audit seq the misuse watch has evaluated.
    pub fn misuse_cursor(&self) -> Result<i64> {
        misuse_cursor(self.conn())
    }
}

fn misuse_cursor(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT last_seq FROM misuse_watch", [], |r| r.get(0))
        .doing("reading the misuse watch's place")
}

impl Tx<'_> {
    /// The watch's place, read inside the transaction that will move it.
    pub fn misuse_cursor(&self) -> Result<i64> {
        misuse_cursor(self.conn())
    }

    pub fn set_misuse_cursor(&self, seq: i64) -> Result<()> {
        self.conn()
            .execute("UPDATE misuse_watch SET last_seq = ?1", [seq])
            .doing("recording the misuse watch's place")?;
        Ok(())
    }

    /// The alert already raised under `dedup_key`, if any.
    pub fn misuse_alert_by_key(&self, dedup_key: &str) -> Result<Option<i64>> {
        self.conn()
            .prepare_cached("SELECT alert_id FROM misuse_alert WHERE dedup_key = ?1")
            .and_then(|mut s| s.query_row([dedup_key], |r| r.get(0)).optional())
            .doing("reading misuse alerts")
    }

    /// Raises a misuse alert; returns (id, reference).
    pub fn raise_misuse_alert(&self, a: &NewMisuseAlert<'_>, now: &str) -> Result<(i64, String)> {
        let reference = self.raise_alert(
            &super::NewAlert {
                kind: "misuse",
                grant_id: None,
                user_id: a.user_id,
                person_id: a.person_id,
                raised_by_user_id: None,
                raised_by: "misuse watch",
                detail: Some(a.detail),
            },
            now,
        )?;
        let id: i64 = self
            .conn()
            .query_row(
                "SELECT id FROM privacy_alert WHERE reference = ?1",
                [&reference],
                |r| r.get(0),
            )
            .doing("raising a misuse alert")?;
        self.conn()
            .execute(
                "INSERT INTO misuse_alert (alert_id, rule, dedup_key) VALUES (?1, ?2, ?3)",
                params![id, a.rule, a.dedup_key],
            )
            .doing("raising a misuse alert")?;
        Ok((id, reference))
    }

    /// Adds audit events to an alert's evidence (each once).
    pub fn add_misuse_evidence(&self, alert_id: i64, seqs: &[i64]) -> Result<()> {
        let mut st = self
            .conn()
            .prepare_cached(
                "INSERT INTO misuse_evidence (alert_id, seq) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )
            .doing("recording misuse evidence")?;
        for seq in seqs {
            st.execute(params![alert_id, seq])
                .doing("recording misuse evidence")?;
        }
        Ok(())
    }

    /// Sets (or with every field empty, clears) who a staff user is.
    pub fn set_staff_identity(
        &self,
        user_id: i64,
        who: &StaffIdentity,
        by: &str,
        now: &str,
    ) -> Result<()> {
        if who == &StaffIdentity::default() {
            self.conn()
                .execute("DELETE FROM staff_identity WHERE user_id = ?1", [user_id])
                .doing("clearing a staff identity")?;
            return Ok(());
        }
        self.conn()
            .execute(
                "INSERT INTO staff_identity (user_id, nhs_number, family_name, postcode, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (user_id) DO UPDATE SET nhs_number = ?2, family_name = ?3,
                     postcode = ?4, set_by = ?5, set_at = ?6",
                params![user_id, who.nhs_number, who.family_name, who.postcode, by, now],
            )
            .doing("setting a staff identity")?;
        Ok(())
    }

    /// Flags a person as `vip` or `staff`, or (`None`) removes the flag; returns whether that
    /// changed anything.
    pub fn set_watched_person(
        &self,
        person_id: i64,
        kind: Option<&str>,
        by: &str,
        now: &str,
    ) -> Result<bool> {
        let n = match kind {
            Some(kind) => self.conn().execute(
                "INSERT INTO watched_person (person_id, kind, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (person_id) DO UPDATE SET kind = ?2, set_by = ?3, set_at = ?4
                 WHERE kind IS NOT ?2",
                params![person_id, kind, by, now],
            ),
            None => self.conn().execute(
                "DELETE FROM watched_person WHERE person_id = ?1",
                [person_id],
            ),
        }
        .doing("flagging a watched person")?;
        Ok(n > 0)
    }
}

impl Store {
    /// The rule a misuse alert was raised by; `None` for other alerts.
    pub fn misuse_rule(&self, alert_id: i64) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT rule FROM misuse_alert WHERE alert_id = ?1",
                [alert_id],
                |r| r.get(0),
            )
            .optional()
            .doing("reading a misuse alert")
    }

    /// The audit events behind a misuse alert, in order.
    pub fn misuse_evidence(&self, alert_id: i64) -> Result<Vec<EvidenceRow>> {
        self.conn()
            .prepare(
                "SELECT e.seq, e.at, e.actor, e.profile, e.action, e.person_id, e.detail, e.outcome
                 FROM misuse_evidence m JOIN audit.audit_event e ON e.seq = m.seq
                 WHERE m.alert_id = ?1 ORDER BY e.seq",
            )
            .and_then(|mut s| {
                s.query_map([alert_id], |r| {
                    Ok(EvidenceRow {
                        seq: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        profile: r.get(3)?,
                        action: r.get(4)?,
                        person_id: r.get(5)?,
                        detail: r.get(6)?,
                        outcome: r.get(7)?,
                    })
                })?
                .collect()
            })
            .doing("reading misuse evidence")
    }

    /// Who a staff user is, as set for the misuse watch.
    pub fn staff_identity(&self, user_id: i64) -> Result<Option<StaffIdentity>> {
        TrailFacts { conn: self.conn() }.staff_identity(user_id)
    }
}
