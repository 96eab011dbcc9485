//! The audit trail: who did what, to whose record, when, from where, and why.
//!
//! Every event is appended through [`Tx::audit`], which chains it (see `crate::audit`): inside
//! the write transaction it reads the last event's seq and hash, refuses to go on when the log
//! ends before the chain head, and inserts the event with the next seq and its HMAC. Writers are
//! serialised by the transaction (IMMEDIATE), across processes too, so reading the previous
//! hash there is always right; nothing is cached between transactions.

use super::{Store, Tx};
use crate::audit::chain::{self, from_hex, to_hex, Hash, GENESIS};
use crate::audit::{Action, Actor, Chain};
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use std::cell::Cell;
use std::sync::Arc;

/// One event to record. Made by `audit::Actor::event` (or [`AuditEvent::new`] for an event
/// with no actor), written only by [`Tx::audit`].
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub user_id: Option<i64>,
    pub actor: Option<&'a str>,
    pub role: Option<&'a str>,
    /// The role profile acted in, e.g. `acute-clinician@R9W/ward-7`.
    pub profile: Option<&'a str>,
    pub org: Option<&'a str>,
    pub action: Action,
    pub person_id: Option<i64>,
    /// The purpose of use, or the reason given for a self-claim or break-glass.
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// `ok`, `denied` or `failed`.
    pub outcome: &'a str,
    pub ip: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    /// An `ok` event of `action` with every other field empty.
    pub fn new(action: Action) -> Self {
        Self {
            user_id: None,
            actor: None,
            role: None,
            profile: None,
            org: None,
            action,
            person_id: None,
            reason: None,
            detail: None,
            outcome: "ok",
            ip: None,
        }
    }

    /// The event as the text the chain hashes.
    pub fn text(&self) -> EventText<'a> {
        EventText {
            user_id: self.user_id,
            actor: self.actor,
            role: self.role,
            profile: self.profile,
            org: self.org,
            action: self.action.as_str(),
            person_id: self.person_id,
            reason: self.reason,
            detail: self.detail,
            outcome: self.outcome,
            ip: self.ip,
        }
    }
}

/// An event's fields as stored: what the chain's hash covers. Stored events are read back as
/// this, since an old event's action text need not be one of today's actions.
#[derive(Debug, Clone, Default)]
pub struct EventText<'a> {
    pub user_id: Option<i64>,
    pub actor: Option<&'a str>,
    pub role: Option<&'a str>,
    pub profile: Option<&'a str>,
    pub org: Option<&'a str>,
    pub action: &'a str,
    pub person_id: Option<i64>,
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
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

/// An event as stored, with its hash, for verifying the chain.
#[derive(Debug, Clone, Default)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub profile: Option<String>,
    pub org: Option<String>,
    pub action: String,
    pub person_id: Option<i64>,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub hash: Option<String>,
}

impl StoredEvent {
    pub fn event(&self) -> EventText<'_> {
        EventText {
            user_id: self.user_id,
            actor: self.actor.as_deref(),
            role: self.role.as_deref(),
            profile: self.profile.as_deref(),
            org: self.org.as_deref(),
            action: &self.action,
            person_id: self.person_id,
            reason: self.reason.as_deref(),
            detail: self.detail.as_deref(),
            outcome: &self.outcome,
            ip: self.ip.as_deref(),
        }
    }
}

const STORED_COLUMNS: &str = "seq, at, user_id, actor, role, profile, org, action, person_id, \
                              reason, detail, outcome, ip, hash";

fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: r.get(0)?,
        at: r.get(1)?,
        user_id: r.get(2)?,
        actor: r.get(3)?,
        role: r.get(4)?,
        profile: r.get(5)?,
        org: r.get(6)?,
        action: r.get(7)?,
        person_id: r.get(8)?,
        reason: r.get(9)?,
        detail: r.get(10)?,
        outcome: r.get(11)?,
        ip: r.get(12)?,
        hash: r.get(13)?,
    })
}

/// What a transaction appended to the chain, so the head can follow once it commits.
pub(super) struct TxAudit {
    chain: Option<Arc<Chain>>,
    last: Cell<Option<(i64, Hash)>>,
    /// The log's end was checked against the head at this transaction's first event; the
    /// events after it are this transaction's own.
    checked: Cell<bool>,
    /// Move the head to this transaction's last event whatever it was (restore, reanchor).
    force: Cell<bool>,
}

impl TxAudit {
    pub(super) fn new(chain: Option<Arc<Chain>>) -> Self {
        Self {
            chain,
            last: Cell::new(None),
            checked: Cell::new(false),
            force: Cell::new(false),
        }
    }

    /// After the commit: the head follows. A head that cannot be written is logged rather than
    /// failing what has already committed; the head is then only staler, which verify accepts,
    /// and the next commit tries again. A forced move must happen, so its failure is returned.
    pub(super) fn committed(&self) -> Result<()> {
        let (Some(chain), Some((seq, hash))) = (&self.chain, self.last.get()) else {
            return Ok(());
        };
        if self.force.get() {
            return chain.force(seq, hash);
        }
        if let Err(e) = chain.committed(seq, hash) {
            log::error!("the audit head was not updated: {}", e.operator_summary());
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// Appends one event to the chain. Fails (and so must the caller's request) when this
    /// connection has no audit key, or the log does not end where the chain head says.
    pub fn audit(&self, e: &AuditEvent<'_>, now: &str) -> Result<()> {
        self.append(e, now, true).map(|_| ())
    }

    fn append(&self, e: &AuditEvent<'_>, now: &str, check_head: bool) -> Result<(i64, Hash)> {
        let chain = self.audit.chain.as_deref().ok_or_else(|| {
            Error::Audit(
                "this database connection has no audit key, so it may not write audit events \
                 (open it with audit::open_store)"
                    .into(),
            )
        })?;
        let last: Option<(i64, Option<String>)> = self
            .conn()
            .prepare_cached("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .doing("reading the end of the audit trail")?;
        if check_head && !self.audit.checked.get() {
            chain.check_extends(last.as_ref().map(|l| l.0))?;
            self.audit.checked.set(true);
        }
        let (seq, prev) = match last {
            None => (1, GENESIS),
            Some((seq, hash)) => (seq + 1, previous_hash(seq, hash.as_deref())?),
        };
        let hash = chain::link(chain.key(), &prev, seq, now, &e.text());
        self.conn()
            .prepare_cached(
                "INSERT INTO audit_event (seq, at, user_id, actor, role, profile, org, action,
                                          person_id, reason, detail, outcome, ip, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    seq,
                    now,
                    e.user_id,
                    e.actor,
                    e.role,
                    e.profile,
                    e.org,
                    e.action.as_str(),
                    e.person_id,
                    e.reason,
                    e.detail,
                    e.outcome,
                    e.ip,
                    to_hex(&hash)
                ])
            })
            .doing("writing the audit trail")?;
        self.audit.last.set(Some((seq, hash)));
        Ok((seq, hash))
    }
}

fn previous_hash(seq: i64, hash: Option<&str>) -> Result<Hash> {
    hash.and_then(from_hex).ok_or_else(|| {
        Error::Audit(format!(
            "audit events cannot be written: event {seq} has no valid hash, so the chain cannot \
             go on from it; run `sharedcare audit verify`"
        ))
    })
}

impl Store {
    /// Gives this connection the audit chain it writes with. The first time a chain is opened
    /// over a database whose events predate it (all unhashed, head still at seq 0), those
    /// events are sealed into the chain as they stand.
    pub fn with_audit(mut self, chain: Arc<Chain>) -> Result<Self> {
        self.audit = Some(Arc::clone(&chain));
        if chain.at_genesis()? {
            let sealed = self.seal_unchained()?;
            if sealed > 0 {
                log::info!("{sealed} audit events written before the chain were sealed into it");
            }
        }
        Ok(self)
    }

    /// Whether any event carries a hash: the chain has been started, so its key must exist.
    pub fn audit_chained(&self) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM audit_event WHERE hash IS NOT NULL)",
                [],
                |r| r.get(0),
            )
            .doing("checking whether the audit chain has started")
    }

    pub fn audit_chain(&self) -> Option<&Arc<Chain>> {
        self.audit.as_ref()
    }

    fn seal_unchained(&mut self) -> Result<usize> {
        let tx = self.begin()?;
        // Asked again inside the write transaction: another process may have sealed first.
        let started: bool = tx
            .conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM audit_event WHERE hash IS NOT NULL)",
                [],
                |r| r.get(0),
            )
            .doing("checking whether the audit chain has started")?;
        let Some(chain) = tx.audit.chain.clone() else {
            return Ok(0);
        };
        if started {
            return Ok(0);
        }
        let rows: Vec<StoredEvent> = tx
            .conn()
            .prepare(&format!(
                "SELECT {STORED_COLUMNS} FROM audit_event ORDER BY seq"
            ))
            .and_then(|mut s| s.query_map([], stored)?.collect())
            .doing("reading audit events to seal")?;
        let mut prev = GENESIS;
        for row in &rows {
            prev = chain::link(chain.key(), &prev, row.seq, &row.at, &row.event());
            tx.conn()
                .prepare_cached("UPDATE audit_event SET hash = ?2 WHERE seq = ?1")
                .and_then(|mut s| s.execute(params![row.seq, to_hex(&prev)]))
                .doing("sealing an audit event")?;
        }
        if let Some(last) = rows.last() {
            tx.audit.last.set(Some((last.seq, prev)));
            tx.audit.force.set(true);
        }
        tx.commit()?;
        Ok(rows.len())
    }

    /// Appends `e` after whatever the log ends with, and moves the chain head to it: the
    /// operator's acceptance of the log as it is (after a restore, or a truncation that was
    /// looked into). The event says what the head was.
    pub fn audit_reanchor(&mut self, e: &AuditEvent<'_>, now: &str) -> Result<i64> {
        // A log that never had a chain (say, a restored backup from before it) is sealed as it
        // stands, which the operator is accepting here.
        self.seal_unchained()?;
        let tx = self.begin()?;
        let (seq, _) = tx.append(e, now, false)?;
        tx.audit.force.set(true);
        tx.commit()?;
        Ok(seq)
    }

    /// The number of events and the last seq (0 when there are none).
    pub fn audit_extent(&self) -> Result<(u64, i64)> {
        self.conn()
            .query_row(
                "SELECT count(*), coalesce(max(seq), 0) FROM audit_event",
                [],
                |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)),
            )
            .doing("counting audit events")
    }

    /// Every event in seq order, to `visit` until it returns false. One statement, so one
    /// consistent snapshot of the log however long the walk takes.
    pub fn audit_walk(&self, visit: &mut dyn FnMut(&StoredEvent) -> bool) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT {STORED_COLUMNS} FROM audit_event ORDER BY seq"
            ))
            .doing("reading the audit trail")?;
        let mut rows = stmt.query([]).doing("reading the audit trail")?;
        while let Some(row) = rows.next().doing("reading the audit trail")? {
            let event = stored(row).doing("reading an audit event")?;
            if !visit(&event) {
                break;
            }
        }
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

impl Store {
    /// Records that `actor` was shown data of each of `people` (one `action` event each), in
    /// one committed transaction: the caller shows nothing unless this succeeds.
    pub fn audit_seen(
        &mut self,
        actor: &Actor,
        action: Action,
        people: &[i64],
        detail: Option<&str>,
        reason: Option<&str>,
        now: &str,
    ) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        let tx = self.begin()?;
        for &person in people {
            tx.audit(
                &AuditEvent {
                    person_id: Some(person),
                    detail,
                    reason,
                    ..actor.event(action)
                },
                now,
            )?;
        }
        tx.commit()
    }

    /// The detail of the latest event with this action, if any.
    pub fn last_audit_detail(&self, action: Action) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT detail FROM audit_event WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
                [action.as_str()],
                |r| r.get(0),
            )
            .optional()
            .doing("reading the audit trail")
            .map(Option::flatten)
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
