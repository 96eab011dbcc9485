//! The audit writer: one per process, the only thing that writes the audit file.
//!
//! Group commit without a thread of its own: a request puts its events in the queue and takes
//! the writer's lock; whoever holds the lock commits everything queued so far in one
//! transaction, then hands each waiting request its result. A request whose events a previous
//! holder committed finds its result waiting when it gets the lock, and returns at once. So the
//! writer commits once per burst rather than once per request, and every request still returns
//! only after its own events are committed. Each commit first moves the outbox (changes'
//! events, see `store::audit_file`) into the chain, so the chain keeps the order in which the
//! records database committed them.

use super::Chain;
use crate::error::{Error, Result};
use crate::store::audit_file::AuditFile;
use crate::store::{HeadCheck, StoredEvent};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, Default)]
pub(super) struct Writer {
    /// The records database this chain's audit file belongs to, set by the first store.
    db: OnceLock<PathBuf>,
    /// The audit file's connection, opened at the first write.
    file: Mutex<Option<AuditFile>>,
    queue: Mutex<Vec<Waiting>>,
    /// The highest outbox id known to be in the chain.
    moved: AtomicI64,
}

#[derive(Debug)]
struct Waiting {
    events: Vec<StoredEvent>,
    result: Arc<Mutex<Option<std::result::Result<(), Error>>>>,
}

/// The error a request whose events another request committed receives: the same kind (a full
/// disk stays a full disk, so the page says so), with the same words.
fn shared(e: &Error) -> Error {
    match e {
        Error::DiskFull { doing } => Error::DiskFull {
            doing: doing.clone(),
        },
        other => Error::Audit(other.to_string()),
    }
}

fn poisoned() -> Error {
    Error::Audit("the audit writer's lock was poisoned".into())
}

impl Chain {
    /// Ties this chain to the records database at `db`: its audit file is written beside it.
    pub fn bind(&self, db: &Path) -> Result<()> {
        let bound = self.writer.db.get_or_init(|| db.to_path_buf());
        if bound != db {
            return Err(Error::Audit(format!(
                "this audit chain writes the trail of {}, not of {}",
                bound.display(),
                db.display()
            )));
        }
        Ok(())
    }

    /// The highest outbox id the audit file holds, as far as this process knows.
    pub fn moved_outbox(&self) -> i64 {
        self.writer.moved.load(Ordering::SeqCst)
    }

    /// Appends `events` to the chain, together with whatever other requests are waiting;
    /// returns once they are committed. A failure fails every request of that commit.
    pub fn append(&self, events: Vec<StoredEvent>) -> Result<()> {
        let result = Arc::new(Mutex::new(None));
        self.writer
            .queue
            .lock()
            .map_err(|_| poisoned())?
            .push(Waiting {
                events,
                result: Arc::clone(&result),
            });
        let mut file = self.writer.file.lock().map_err(|_| poisoned())?;
        if let Some(done) = result.lock().map_err(|_| poisoned())?.take() {
            return done;
        }
        let waiting = std::mem::take(&mut *self.writer.queue.lock().map_err(|_| poisoned())?);
        let all: Vec<&StoredEvent> = waiting.iter().flat_map(|w| &w.events).collect();
        let committed = self.commit(&mut file, &all, HeadCheck::Checked);
        for w in &waiting {
            if let Ok(mut slot) = w.result.lock() {
                *slot = Some(committed.as_ref().map(|_| ()).map_err(shared));
            }
        }
        drop(file);
        result.lock().map_err(|_| poisoned())?.take();
        committed.map(|_| ())
    }

    /// Checks that the audit file's log still reaches the head, as it is now: a change may
    /// write its event only then.
    pub fn check_log_end(&self) -> Result<()> {
        let mut file = self.writer.file.lock().map_err(|_| poisoned())?;
        let last = self.file(&mut file)?.last_seq()?;
        self.check_extends(last)
    }

    /// Moves what the outbox holds into the chain (after a change commits, and at start).
    pub fn drain(&self) -> Result<()> {
        self.append(Vec::new())
    }

    /// Appends `event` without checking the log's end against the head, and moves the head to
    /// it: the operator accepting the log as it ends. Returns its seq.
    pub fn reanchor(&self, event: StoredEvent) -> Result<i64> {
        let mut file = self.writer.file.lock().map_err(|_| poisoned())?;
        self.seal_in(&mut file)?;
        let appended = self.commit(&mut file, &[&event], HeadCheck::Accepting)?;
        let (seq, hash) =
            appended.ok_or_else(|| Error::Audit("the reanchor event was not written".into()))?;
        self.force(seq, hash)?;
        Ok(seq)
    }

    /// Seals events from before the chain (none hashed) into it as they stand, moving the
    /// head to the last of them. Returns how many.
    pub fn seal(&self) -> Result<usize> {
        let mut file = self.writer.file.lock().map_err(|_| poisoned())?;
        self.seal_in(&mut file)
    }

    fn seal_in(&self, file: &mut Option<AuditFile>) -> Result<usize> {
        let sealed = self.file(file)?.seal_unchained(self)?;
        let Some((count, seq, hash)) = sealed else {
            return Ok(0);
        };
        self.force(seq, hash)?;
        Ok(count)
    }

    /// One transaction on the audit file; the head follows what it appended.
    fn commit(
        &self,
        file: &mut Option<AuditFile>,
        events: &[&StoredEvent],
        check: HeadCheck,
    ) -> Result<Option<(i64, super::chain::Hash)>> {
        let appended = self.file(file)?.append(self, events, check);
        let appended = match appended {
            Ok(a) => a,
            Err(e) => {
                // A connection left in a bad state is opened afresh next time.
                if !matches!(e, Error::Audit(_)) {
                    *file = None;
                }
                return Err(e);
            }
        };
        self.writer
            .moved
            .fetch_max(appended.moved, Ordering::SeqCst);
        if let (Some((seq, hash)), HeadCheck::Checked) = (appended.last, check) {
            if let Err(e) = self.committed(seq, hash) {
                log::error!("the audit head was not updated: {}", e.operator_summary());
            }
        }
        Ok(appended.last)
    }

    fn file<'a>(&self, file: &'a mut Option<AuditFile>) -> Result<&'a mut AuditFile> {
        if file.is_none() {
            let db = self.writer.db.get().ok_or_else(|| {
                Error::Audit("this audit chain belongs to no database yet".into())
            })?;
            *file = Some(AuditFile::open(db)?);
        }
        file.as_mut()
            .ok_or_else(|| Error::Audit("the audit file is not open".into()))
    }
}
