//! The tamper-evident audit trail.
//!
//! Every audit event (`store::AuditEvent`) carries an HMAC-SHA256 that chains it to the one
//! before: see [`chain`] for the rule. The events live in their own file beside the database
//! (`store::audit_file`), written by one audit writer per process ([`writer`], group commit): a
//! look at data goes straight to it (`Store::audit_seen`, `Store::audit_now`) and returns once
//! committed; a change writes its event with `Tx::audit` into the database's outbox, in the
//! change's own transaction, and the writer moves it into the chain exactly once. The key ([`key`]) lives in the data directory, outside the
//! database, so editing the database is not enough to rewrite history without it.
//!
//! What the chain alone cannot show is the end of the log being cut off: the remaining events
//! still chain perfectly. So the last committed (seq, hash) is also kept outside the database,
//! MACed, in `DATA_DIR/audit.head` ([`head`]):
//!
//! - a writer replaces the head file after a commit that added events — at most every half
//!   second, within a second anyway in the server (a flusher task), and when the process lets
//!   go of the chain (end of a command, server shutdown) — never moving it back past a head
//!   this process knows. So the head may lag the database,
//!   never lead it: a process killed before writing its head leaves one that is merely stale;
//! - [`verify`] reads the head *before* it opens its snapshot of the log, so a head written
//!   while it runs cannot look like a truncation; then a head at or before the end of the log,
//!   whose hash matches the event at its seq, is sound, and a head beyond the end is a
//!   truncation ("the log ends at seq X but the head says Y");
//! - a writer refuses to append when the log ends before the head it knows (what it committed
//!   itself, written to the file yet or not, or what the file says): otherwise new
//!   events would reuse the cut-off sequence numbers and hide the cut. The request then fails,
//!   as any failed audit write does, until an operator has looked (`sharedcare audit verify`)
//!   and accepted the end of the log (`sharedcare audit reanchor`, itself an audited event).
//!
//! Limits, by design: someone who holds the key can rewrite anything; after a process was
//! killed with its newest head not yet written (the last second or so of events), a cut of
//! exactly those events is not seen; a saved copy of an old head file put back together with
//! a log cut back to exactly that point is not detected (no local file can tell "old" from
//! "current" without a witness elsewhere); after a power cut the database may lose its last
//! commits (WAL with `synchronous = NORMAL`) while the head kept them, and verify then reports
//! a truncation that the operator should read in that light.

pub mod action;
pub mod actor;
pub mod chain;
pub mod head;
pub mod key;
pub mod verify;
mod writer;

#[cfg(test)]
mod tests;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use chain::{Hash, GENESIS};
use head::Head;
use key::AuditKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use action::Action;
pub use actor::Actor;
pub use verify::{verify, Break, Problem, Report};

/// How often, at most, a writer replaces the head file. Writing it costs about half a
/// millisecond (create, write, rename); every commit doing so would add that to each page
/// view. A process killed before its pending head is written leaves the head up to this much
/// behind: a cut of only those last events after such a crash is what goes unseen.
const HEAD_INTERVAL: Duration = Duration::from_millis(500);

/// The audit key and the head this process knows, for one data directory. Shared by every
/// connection of a process that writes (the web pool's connections share one); dropping the
/// last reference writes a pending head.
#[derive(Debug)]
pub struct Chain {
    dir: PathBuf,
    key: AuditKey,
    state: Mutex<State>,
    writer: writer::Writer,
}

#[derive(Debug)]
struct State {
    /// The newest head this process committed or read: what its writers check against.
    known: Known,
    /// `known` is a head this process committed and has not written to the file yet. Only
    /// such a head is ever written: one merely read may be older than the file by now.
    dirty: bool,
    /// When this process last wrote the file.
    written: Option<Instant>,
}

#[derive(Debug, Clone)]
enum Known {
    Absent,
    At(Head),
    Unreadable(String),
}

impl Chain {
    /// Loads the key of `data_dir` and reads the head. When there is no key yet and
    /// `log_chained` is false (see `Store::audit_chained`), a key is made, with a head at seq 0.
    /// A damaged head does not stop the opening — `audit verify` must still run — but no event
    /// is appended until it is sorted out.
    pub fn open(data_dir: &Path, log_chained: bool) -> Result<Arc<Self>> {
        let (key, made) = AuditKey::load_or_create(data_dir, !log_chained)?;
        if made {
            head::write(
                data_dir,
                &key,
                &Head {
                    seq: 0,
                    hash: GENESIS,
                },
            )?;
        }
        Ok(Self::with_key(data_dir, key))
    }

    /// A chain over a key already in hand (tests use an in-memory one); the head is kept in
    /// `dir`.
    pub fn with_key(dir: &Path, key: AuditKey) -> Arc<Self> {
        let known = read_known(dir, &key);
        Arc::new(Self {
            dir: dir.to_path_buf(),
            key,
            state: Mutex::new(State {
                known,
                dirty: false,
                written: None,
            }),
            writer: Default::default(),
        })
    }

    pub fn key(&self) -> &AuditKey {
        &self.key
    }

    /// The head file as it is now on disk (not what this process remembers).
    pub fn read_head(&self) -> Result<Option<Head>> {
        head::read(&self.dir, &self.key)
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| Error::Audit("the audit head lock was poisoned".into()))
    }

    /// Whether the chain has never been started: only then may events written before the chain
    /// existed (a database from before migration 8) be sealed into it.
    pub fn at_genesis(&self) -> Result<bool> {
        Ok(matches!(&self.state()?.known, Known::At(h) if h.seq == 0))
    }

    /// Checks that a new event may follow a log whose last event is `last` (its seq), before it
    /// is appended: the log must not end before the head. When what this process knows says
    /// no, the head file is read again, since another process may have moved it on — but a
    /// head this process committed itself is never forgotten for an older file.
    pub fn check_extends(&self, last: Option<i64>) -> Result<()> {
        let mut state = self.state()?;
        if extends(&state.known, last).is_ok() {
            return Ok(());
        }
        state.known = match (read_known(&self.dir, &self.key), &state.known) {
            (Known::At(file), Known::At(own)) if own.seq > file.seq => Known::At(*own),
            (Known::Absent, Known::At(own)) => Known::At(*own),
            (file, _) => file,
        };
        extends(&state.known, last)
    }

    /// Records that events up to `seq` (ending in `hash`) are committed. The head file follows
    /// at once unless it was written less than [`HEAD_INTERVAL`] ago; then a later commit, or
    /// dropping the chain, writes it.
    pub fn committed(&self, seq: i64, hash: Hash) -> Result<()> {
        let mut state = self.state()?;
        if matches!(&state.known, Known::At(h) if h.seq >= seq) {
            return Ok(());
        }
        state.known = Known::At(Head { seq, hash });
        state.dirty = true;
        let due = state.written.is_none_or(|at| at.elapsed() >= HEAD_INTERVAL);
        if due {
            self.write_known(&mut state)?;
        }
        Ok(())
    }

    /// Moves the head to `seq` whatever it was, now: after a restore or an operator's reanchor.
    pub fn force(&self, seq: i64, hash: Hash) -> Result<()> {
        let mut state = self.state()?;
        state.known = Known::At(Head { seq, hash });
        state.dirty = true;
        self.write_known(&mut state)
    }

    /// Writes a head committed but not yet written.
    pub fn flush(&self) -> Result<()> {
        let mut state = self.state()?;
        self.write_known(&mut state)
    }

    fn write_known(&self, state: &mut State) -> Result<()> {
        let (true, Known::At(head)) = (state.dirty, &state.known) else {
            return Ok(());
        };
        head::write(&self.dir, &self.key, head)?;
        state.dirty = false;
        state.written = Some(Instant::now());
        Ok(())
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            log::error!("the audit head was not written: {}", e.operator_summary());
        }
    }
}

fn read_known(dir: &Path, key: &AuditKey) -> Known {
    match head::read(dir, key) {
        Ok(Some(h)) => Known::At(h),
        Ok(None) => Known::Absent,
        Err(e) => Known::Unreadable(e.to_string()),
    }
}

fn extends(known: &Known, last: Option<i64>) -> Result<()> {
    let verify = "run `sharedcare audit verify`; once understood, `sharedcare audit reanchor \
                  --reason ...` accepts the log as it is";
    match (known, last) {
        (Known::Unreadable(why), _) => Err(Error::Audit(format!(
            "audit events cannot be written: {why}; {verify}"
        ))),
        (Known::Absent, Some(seq)) => Err(Error::Audit(format!(
            "audit events cannot be written: the log has events (up to seq {seq}) but the \
             audit head file is missing, so a cut could not be detected; {verify}"
        ))),
        (Known::At(h), last) if last.unwrap_or(0) < h.seq => Err(Error::Audit(format!(
            "audit events cannot be written: the log ends at seq {} but the audit head says \
             seq {} — events were removed; {verify}",
            last.unwrap_or(0),
            h.seq
        ))),
        _ => Ok(()),
    }
}

/// Accepts the log as it now ends (after a restore, or a cut the operator has looked into):
/// appends an event recording what the head was, and moves the head to it. Returns its seq.
pub fn reanchor(
    store: &mut Store,
    actor: &Actor,
    action: Action,
    reason: Option<&str>,
    why: &str,
    now: &str,
) -> Result<i64> {
    let chain = store
        .audit_chain()
        .cloned()
        .ok_or_else(|| Error::Audit("this database connection has no audit key".into()))?;
    let head = match chain.read_head() {
        Ok(Some(h)) => format!("seq {}", h.seq),
        Ok(None) => "missing".to_owned(),
        Err(_) => "unreadable".to_owned(),
    };
    let (_, last) = store.audit_extent()?;
    let detail = format!("{why}; the audit head was {head}, the log ended at seq {last}");
    store.audit_reanchor(
        &crate::store::AuditEvent {
            reason,
            detail: Some(&detail),
            ..actor.event(action)
        },
        now,
    )
}

/// Opens the database of `config` with its audit chain: the way every command, job and server
/// connection that may write opens it.
pub fn open_store(config: &Config) -> Result<Store> {
    let store = Store::open(&config.database_path())?;
    let chain = Chain::open(&config.data_dir, store.audit_chained()?)?;
    store.with_audit(chain)
}
