//! Walking the chain: every event in seq order, recomputed under the key, then the log's end
//! checked against the head file. The first thing wrong is reported with its seq, since
//! everything after a break is suspect anyway.

use super::chain::{self, from_hex, Hash, GENESIS};
use crate::error::{Error, Result};
use crate::store::Store;
use serde::Serialize;
use std::fmt;

/// What is wrong at the first bad seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Events from the reported seq up to `next - 1` are missing.
    SequenceGap { next: i64 },
    /// The log starts below seq 1, or goes back: rows were renumbered.
    OutOfOrder { found: i64 },
    /// The stored hash is not the HMAC of this event after the one before.
    HashMismatch,
    /// No hash, or one that is not 64 hex digits.
    HashMissing,
    /// The log ends before the head: its last events were cut off.
    Truncated { ends: i64, head: i64 },
    /// The event at the head's seq is not the one the head recorded.
    HeadDiffers,
    /// There are events but no head file, so a cut cannot be ruled out.
    HeadMissing,
    /// The head file is damaged or was not written with this key.
    HeadInvalid { why: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The first bad sequence number.
    pub seq: i64,
    #[serde(flatten)]
    pub problem: Problem,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match &self.problem {
            Problem::SequenceGap { next } if *next == seq + 1 => write!(
                f,
                "sequence gap: event {seq} is missing (deleted); the log goes on at {next}"
            ),
            Problem::SequenceGap { next } => write!(
                f,
                "sequence gap: events {seq} to {} are missing (deleted); the log goes on at {next}",
                next - 1
            ),
            Problem::OutOfOrder { found } => write!(
                f,
                "out of order: expected event {seq}, found seq {found} (renumbered or inserted)"
            ),
            Problem::HashMismatch => write!(
                f,
                "hash mismatch: event {seq} was edited, moved, or inserted without the key"
            ),
            Problem::HashMissing => write!(
                f,
                "hash missing: event {seq} carries no valid hash (inserted or edited by hand)"
            ),
            Problem::Truncated { ends, head } => write!(
                f,
                "truncated: the log ends at seq {ends} but the head says {head} (the last \
                 events were deleted, or lost in a power cut)"
            ),
            Problem::HeadDiffers => write!(
                f,
                "the event at seq {seq} is not the one the audit head recorded (the log was cut \
                 back and written again)"
            ),
            Problem::HeadMissing => write!(
                f,
                "the audit head file is missing, so the log's end cannot be checked (events \
                 after seq {} may have been deleted)",
                seq - 1
            ),
            Problem::HeadInvalid { why } => write!(f, "{why}"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Events checked (all of them when the chain is whole).
    pub events: u64,
    pub last_seq: i64,
    pub broken: Option<Break>,
}

impl Report {
    pub fn summary(&self) -> String {
        match &self.broken {
            None => format!(
                "audit chain ok: {} events, last seq {}",
                self.events, self.last_seq
            ),
            Some(b) => format!("audit chain broken at seq {}: {b}", b.seq),
        }
    }
}

/// Verifies the whole log of `store` against its chain; `progress(events checked)` is told
/// every few thousand events.
pub fn verify(store: &Store, progress: &mut dyn FnMut(u64)) -> Result<Report> {
    let chain = store.audit_chain().ok_or_else(|| {
        Error::Audit("this database connection has no audit key to verify with".into())
    })?;
    // Read before the snapshot of the log is taken, so a head written while we walk (for
    // events our snapshot cannot see) is never mistaken for a cut.
    let head = chain.read_head();
    let key = chain.key();
    let mut expected = 1i64;
    let mut prev: Hash = GENESIS;
    let mut events = 0u64;
    let mut at_head: Option<Hash> = None;
    let head_seq = head.as_ref().ok().and_then(|h| h.as_ref()).map(|h| h.seq);
    let mut broken = None;
    store.audit_walk(&mut |row| {
        if row.seq != expected {
            let problem = if row.seq > expected {
                Problem::SequenceGap { next: row.seq }
            } else {
                Problem::OutOfOrder { found: row.seq }
            };
            broken = Some(Break {
                seq: expected,
                problem,
            });
            return false;
        }
        let Some(stored) = row.hash.as_deref().and_then(from_hex) else {
            broken = Some(Break {
                seq: row.seq,
                problem: Problem::HashMissing,
            });
            return false;
        };
        let computed = chain::link(key, &prev, row.seq, &row.at, &row.event());
        // Not secret-dependent timing that matters here: the stored value is public, and a
        // forger learns nothing from how fast a verify run fails.
        if computed != stored {
            broken = Some(Break {
                seq: row.seq,
                problem: Problem::HashMismatch,
            });
            return false;
        }
        if Some(row.seq) == head_seq {
            at_head = Some(stored);
        }
        prev = stored;
        events += 1;
        expected += 1;
        if events.is_multiple_of(4096) {
            progress(events);
        }
        true
    })?;
    progress(events);
    let last_seq = expected - 1;
    if broken.is_none() {
        broken = check_head(head, last_seq, at_head);
    }
    Ok(Report {
        events,
        last_seq,
        broken,
    })
}

/// The log's end against the head; `at_head` is the stored hash at the head's seq.
fn check_head(
    head: Result<Option<super::head::Head>>,
    last_seq: i64,
    at_head: Option<Hash>,
) -> Option<Break> {
    let next = last_seq + 1;
    match head {
        Err(e) => Some(Break {
            seq: next,
            problem: Problem::HeadInvalid { why: e.to_string() },
        }),
        Ok(None) if last_seq == 0 => None,
        Ok(None) => Some(Break {
            seq: next,
            problem: Problem::HeadMissing,
        }),
        Ok(Some(h)) if h.seq > last_seq => Some(Break {
            seq: next,
            problem: Problem::Truncated {
                ends: last_seq,
                head: h.seq,
            },
        }),
        Ok(Some(h)) if h.seq == 0 || at_head == Some(h.hash) => None,
        Ok(Some(h)) => Some(Break {
            seq: h.seq,
            problem: Problem::HeadDiffers,
        }),
    }
}
