//! "Who has looked at my record": a person's audit trail as the citizen reads it, with the grant
//! (self-claim or broken glass) each look was made under and the privacy officer's decision.

use super::Store;
use crate::error::{DbContext, Result};
use rusqlite::params;
use serde::Serialize;

/// One look at a person's record, for "who has looked at my record".
#[derive(Debug, Clone, Serialize)]
pub struct LookRow {
    pub at: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub org: Option<String>,
    pub action: String,
    pub detail: Option<String>,
    /// The grant the look was made under, if any: `self-claim` or `break-glass`.
    pub grant_kind: Option<String>,
    pub grant_reason_code: Option<String>,
    pub grant_reason: Option<String>,
    /// The privacy officer's decision on the grant's alert: when closed and their note.
    pub alert_closed_at: Option<String>,
    pub alert_note: Option<String>,
}

/// The audited actions that showed a person's data to someone other than the person (a proxy's
/// `citizen-view` among them), and the recording or ending of someone's proxy access to it.
const LOOKS: &str = "('view-record', 'view-timeline', 'view-results', 'view-results-chart',
    'search-hit', 'view-as-role', 'fhir-read', 'cli-show', 'cli-search', 'cli-export', 'cli-list',
    'citizen-view', 'proxy-record', 'proxy-end')";

impl Store {
    /// Every look at person `person_id` (and those merged into them) by anyone but the person
    /// themselves (`own_actor`, their citizen account's audit name), newest first, at or after
    /// `from` and before `until` (stored text form).
    pub fn looks_at(
        &self,
        person_id: i64,
        own_actor: &str,
        from: Option<&str>,
        until: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LookRow>> {
        let sql = format!(
            "WITH RECURSIVE ids(id) AS (
                 SELECT ?1 UNION SELECT p.id FROM person p JOIN ids ON p.merged_into = ids.id)
             SELECT e.at, e.actor, e.role, coalesce(o.name, e.org), e.action, e.detail,
                    g.kind, g.reason_code, g.reason, a.closed_at, a.note
             FROM audit.audit_event e
             LEFT JOIN access_grant g ON g.id = (
                 SELECT g2.id FROM access_grant g2 JOIN role_profile rp ON rp.id = g2.profile_id
                 WHERE rp.user_id = e.user_id AND g2.person_id = e.person_id
                   AND g2.granted_at <= e.at AND g2.expires_at > e.at
                 ORDER BY g2.kind = 'break-glass' DESC, g2.id DESC LIMIT 1)
             LEFT JOIN privacy_alert a ON a.grant_id = g.id
             LEFT JOIN organisation o ON o.ods_code = e.org
             WHERE e.person_id IN (SELECT id FROM ids) AND e.action IN {LOOKS}
               AND e.outcome = 'ok' AND coalesce(e.actor, '') != ?5
               AND (?2 IS NULL OR e.at >= ?2) AND (?3 IS NULL OR e.at < ?3)
             ORDER BY e.seq DESC LIMIT ?4"
        );
        self.conn()
            .prepare(&sql)
            .and_then(|mut s| {
                s.query_map(
                    params![person_id, from, until, super::as_i64(limit), own_actor],
                    |r| {
                        Ok(LookRow {
                            at: r.get(0)?,
                            actor: r.get(1)?,
                            role: r.get(2)?,
                            org: r.get(3)?,
                            action: r.get(4)?,
                            detail: r.get(5)?,
                            grant_kind: r.get(6)?,
                            grant_reason_code: r.get(7)?,
                            grant_reason: r.get(8)?,
                            alert_closed_at: r.get(9)?,
                            alert_note: r.get(10)?,
                        })
                    },
                )?
                .collect()
            })
            .doing("reading who has looked at a record")
    }
}
