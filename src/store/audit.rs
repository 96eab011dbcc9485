//! The audit trail: who did what, to whose record, when, from where, and why.
//!
//! The events live in their own file (`audit_file`). A change records its event with
//! [`Tx::audit`], in the change's own transaction, into the outbox; a look at data records it
//! with [`Store::audit_now`] or [`Store::audit_seen`], straight to the audit writer. Either way
//! the audit writer (`crate::audit::writer`) chains them (see `crate::audit`): inside its
//! transaction on the audit file it reads the last event's seq and hash, refuses to go on when
//! the log ends before the chain head, and inserts each event with the next seq and its HMAC.
//! Writers are serialised by that transaction (IMMEDIATE), across processes too, so reading the
//! previous hash there is always right; nothing is cached between transactions.

use super::{Store, Tx};
use crate::audit::chain::{from_hex, Hash};
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

pub(super) const STORED_COLUMNS: &str =
    "seq, at, user_id, actor, role, profile, org, action, person_id, \
                              reason, detail, outcome, ip, hash";

pub(super) fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
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

/// What a transaction wrote to the audit outbox, so the audit writer can move it once the
/// transaction commits.
pub(super) struct TxAudit {
    chain: Option<Arc<Chain>>,
    /// The log's end was checked against the head at this transaction's first event.
    checked: Cell<bool>,
    /// This transaction wrote an event to the outbox.
    wrote: Cell<bool>,
}

impl TxAudit {
    pub(super) fn new(chain: Option<Arc<Chain>>) -> Self {
        Self {
            chain,
            checked: Cell::new(false),
            wrote: Cell::new(false),
        }
    }

    /// After the commit: the audit writer moves the outbox into the chain before the caller
    /// answers. The change and its event are already committed together (the event in the
    /// outbox); a move that fails is logged and done by the next audit write or start.
    pub(super) fn committed(&self) -> Result<()> {
        let (Some(chain), true) = (&self.chain, self.wrote.get()) else {
            return Ok(());
        };
        if let Err(e) = chain.drain() {
            log::error!(
                "the audit outbox was not moved into the audit file yet: {}",
                e.operator_summary()
            );
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// Records one event of this change, in this transaction (in the audit outbox; see
    /// `store::audit_file`). Fails (and so must the caller's change) when this connection has
    /// no audit key, or the log does not end where the chain head says.
    pub fn audit(&self, e: &AuditEvent<'_>, now: &str) -> Result<()> {
        let chain = self.audit.chain.as_deref().ok_or_else(|| {
            Error::Audit(
                "this database connection has no audit key, so it may not write audit events \
                 (open it with audit::open_store)"
                    .into(),
            )
        })?;
        if !self.audit.checked.get() {
            // Read by the audit writer, not through this transaction: its snapshot of the audit
            // file dates from its start, and the writer may have committed since.
            chain.check_log_end()?;
            // Rows the audit writer has moved are deleted here, in a transaction that writes
            // anyway: the writer itself never writes this database.
            self.conn()
                .prepare_cached("DELETE FROM audit_outbox WHERE id <= ?1")
                .and_then(|mut s| s.execute([chain.moved_outbox()]))
                .doing("clearing the moved audit outbox")?;
            self.audit.checked.set(true);
        }
        self.conn()
            .prepare_cached(
                "INSERT INTO audit_outbox (at, user_id, actor, role, profile, org, action,
                                           person_id, reason, detail, outcome, ip)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut s| {
                s.execute(params![
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
                ])
            })
            .doing("writing the audit trail")?;
        self.audit.wrote.set(true);
        Ok(())
    }
}

pub(super) fn previous_hash(seq: i64, hash: Option<&str>) -> Result<Hash> {
    hash.and_then(from_hex).ok_or_else(|| {
        Error::Audit(format!(
            "audit events cannot be written: event {seq} has no valid hash, so the chain cannot \
             go on from it; run `sharedcare audit verify`"
        ))
    })
}

impl StoredEvent {
    /// An event not yet in the chain (no seq or hash), as the audit writer takes it.
    pub fn pending(e: &AuditEvent<'_>, at: &str) -> Self {
        Self {
            seq: 0,
            at: at.to_owned(),
            user_id: e.user_id,
            actor: e.actor.map(str::to_owned),
            role: e.role.map(str::to_owned),
            profile: e.profile.map(str::to_owned),
            org: e.org.map(str::to_owned),
            action: e.action.as_str().to_owned(),
            person_id: e.person_id,
            reason: e.reason.map(str::to_owned),
            detail: e.detail.map(str::to_owned),
            outcome: e.outcome.to_owned(),
            ip: e.ip.map(str::to_owned),
            hash: None,
        }
    }
}

impl Store {
    /// Gives this connection the audit chain it writes with, and the chain this database's
    /// audit file. The first time a chain is opened over a log whose events predate it (all
    /// unhashed, head still at seq 0), those events are sealed into the chain as they stand.
    /// Then whatever a process left in the outbox is moved into the chain.
    pub fn with_audit(mut self, chain: Arc<Chain>) -> Result<Self> {
        chain.bind(&self.path)?;
        self.audit = Some(Arc::clone(&chain));
        if chain.at_genesis()? {
            let sealed = chain.seal()?;
            if sealed > 0 {
                log::info!("{sealed} audit events written before the chain were sealed into it");
            }
        }
        // Events left in the outbox are safe there; one that cannot move now (a log cut back
        // by a restore, awaiting its reanchor) moves with the next audit write that can.
        if let Err(e) = chain.drain() {
            log::warn!(
                "the audit outbox was not moved into the audit file: {}",
                e.operator_summary()
            );
        }
        Ok(self)
    }

    /// Whether any event carries a hash: the chain has been started, so its key must exist.
    pub fn audit_chained(&self) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM audit.audit_event WHERE hash IS NOT NULL)",
                [],
                |r| r.get(0),
            )
            .doing("checking whether the audit chain has started")
    }

    pub fn audit_chain(&self) -> Option<&Arc<Chain>> {
        self.audit.as_ref()
    }

    fn chain(&self) -> Result<&Arc<Chain>> {
        self.audit.as_ref().ok_or_else(|| {
            Error::Audit(
                "this database connection has no audit key, so it may not write audit events \
                 (open it with audit::open_store)"
                    .into(),
            )
        })
    }

    /// Writes one event that records no change (a look at data, a refusal), through the audit
    /// writer: returns once it is committed to the audit file. Nothing is written to this
    /// database.
    pub fn audit_now(&self, e: &AuditEvent<'_>, now: &str) -> Result<()> {
        self.chain()?.append(vec![StoredEvent::pending(e, now)])
    }

    /// Appends `e` after whatever the log ends with, and moves the chain head to it: the
    /// operator's acceptance of the log as it is (after a restore, or a truncation that was
    /// looked into). The event says what the head was.
    pub fn audit_reanchor(&mut self, e: &AuditEvent<'_>, now: &str) -> Result<i64> {
        self.chain()?.reanchor(StoredEvent::pending(e, now))
    }

    /// The number of events and the last seq (0 when there are none).
    pub fn audit_extent(&self) -> Result<(u64, i64)> {
        self.conn()
            .query_row(
                "SELECT count(*), coalesce(max(seq), 0) FROM audit.audit_event",
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
                "SELECT {STORED_COLUMNS} FROM audit.audit_event ORDER BY seq"
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
    /// Records that `actor` was shown data of each of `people` (one `action` event each),
    /// committed together by the audit writer: the caller shows nothing unless this succeeds.
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
        let events = people
            .iter()
            .map(|&person| {
                let e = AuditEvent {
                    person_id: Some(person),
                    detail,
                    reason,
                    ..actor.event(action)
                };
                StoredEvent::pending(&e, now)
            })
            .collect();
        self.chain()?.append(events)
    }

    /// The detail of the latest event with this action, if any.
    pub fn last_audit_detail(&self, action: Action) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT detail FROM audit.audit_event WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
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
    "SELECT seq, at, actor, role, org, action, person_id, detail, outcome, ip FROM audit.audit_event";

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
