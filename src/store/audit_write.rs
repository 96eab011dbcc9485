//! The audit writer's SQL: one audit-file transaction that moves the outbox's new rows into the
//! chain, then appends the events of every request waiting on it (group commit).

use super::audit::{previous_hash, stored, StoredEvent, STORED_COLUMNS};
use super::audit_file::AuditFile;
use crate::audit::chain::{self, to_hex, Hash, GENESIS};
use crate::audit::Chain;
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension, Transaction};

/// Whether the log's end is checked against the head before appending. A reanchor appends
/// unchecked: it is the operator accepting the log as it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadCheck {
    Checked,
    Accepting,
}

/// What one commit of the audit file appended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Appended {
    /// The last event (seq, hash), when any was appended.
    pub last: Option<(i64, Hash)>,
    /// The highest outbox id now in the chain.
    pub moved: i64,
}

impl AuditFile {
    /// Moves the outbox's new rows into the chain, then appends `events` (each keeps its own
    /// `at`), in one transaction. Nothing is appended when the log ends before the head.
    pub fn append(
        &mut self,
        chain: &Chain,
        events: &[&StoredEvent],
        check: HeadCheck,
    ) -> Result<Appended> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .doing("starting an audit write")?;
        let last: Option<(i64, Option<String>)> = tx
            .prepare_cached("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .doing("reading the end of the audit trail")?;
        let mut moved: i64 = tx
            .query_row("SELECT last_id FROM outbox_moved", [], |r| r.get(0))
            .doing("reading the audit outbox mark")?;
        // Read as stored events whose seq is the outbox id, until they are given their place.
        let outbox: Vec<StoredEvent> = tx
            .prepare_cached(
                "SELECT id, at, user_id, actor, role, profile, org, action, person_id, reason,
                        detail, outcome, ip, NULL
                 FROM records.audit_outbox WHERE id > ?1 ORDER BY id",
            )
            .and_then(|mut s| s.query_map([moved], stored)?.collect())
            .doing("reading the audit outbox")?;
        if outbox.is_empty() && events.is_empty() {
            return Ok(Appended { last: None, moved });
        }
        if check == HeadCheck::Checked {
            chain.check_extends(last.as_ref().map(|l| l.0))?;
        }
        let (mut seq, mut prev) = match last {
            None => (0, GENESIS),
            Some((seq, hash)) => (seq, previous_hash(seq, hash.as_deref())?),
        };
        for event in &outbox {
            seq += 1;
            prev = insert(&tx, chain, seq, &prev, event)?;
            moved = event.seq;
        }
        for event in events {
            seq += 1;
            prev = insert(&tx, chain, seq, &prev, event)?;
        }
        tx.execute("UPDATE outbox_moved SET last_id = ?1", [moved])
            .doing("recording the moved audit outbox")?;
        tx.commit().doing("committing the audit trail")?;
        Ok(Appended {
            last: Some((seq, prev)),
            moved,
        })
    }

    /// The seq of the log's last event, as committed now.
    pub fn last_seq(&self) -> Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT max(seq) FROM audit_event")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .doing("reading the end of the audit trail")
    }

    /// Seals events written before the chain existed (none hashed) into it as they stand.
    /// Returns the new end, or `None` when there was nothing to seal.
    pub fn seal_unchained(&mut self, chain: &Chain) -> Result<Option<(usize, i64, Hash)>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .doing("starting an audit write")?;
        let started: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM audit_event WHERE hash IS NOT NULL)",
                [],
                |r| r.get(0),
            )
            .doing("checking whether the audit chain has started")?;
        if started {
            return Ok(None);
        }
        let rows: Vec<StoredEvent> = tx
            .prepare(&format!(
                "SELECT {STORED_COLUMNS} FROM audit_event ORDER BY seq"
            ))
            .and_then(|mut s| s.query_map([], stored)?.collect())
            .doing("reading audit events to seal")?;
        let mut prev = GENESIS;
        for row in &rows {
            prev = chain::link(chain.key(), &prev, row.seq, &row.at, &row.event());
            tx.prepare_cached("UPDATE audit_event SET hash = ?2 WHERE seq = ?1")
                .and_then(|mut s| s.execute(params![row.seq, to_hex(&prev)]))
                .doing("sealing an audit event")?;
        }
        tx.commit().doing("committing the sealed audit trail")?;
        Ok(rows.last().map(|last| (rows.len(), last.seq, prev)))
    }
}

fn insert(
    tx: &Transaction<'_>,
    chain: &Chain,
    seq: i64,
    prev: &Hash,
    e: &StoredEvent,
) -> Result<Hash> {
    let hash = chain::link(chain.key(), prev, seq, &e.at, &e.event());
    tx.prepare_cached(
        "INSERT INTO audit_event (seq, at, user_id, actor, role, profile, org, action,
                                  person_id, reason, detail, outcome, ip, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .and_then(|mut s| {
        s.execute(params![
            seq,
            e.at,
            e.user_id,
            e.actor,
            e.role,
            e.profile,
            e.org,
            e.action,
            e.person_id,
            e.reason,
            e.detail,
            e.outcome,
            e.ip,
            to_hex(&hash)
        ])
    })
    .doing("writing the audit trail")?;
    Ok(hash)
}
