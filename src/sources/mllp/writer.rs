//! The one writer of live messages: group commit.
//!
//! Connections hand their messages to one thread that owns a database connection. It takes
//! every message waiting (up to `[mllp] max_group`), stores them all in one transaction,
//! commits, and only then tells each connection its verdict, so each acknowledgement follows
//! the commit of its own message while sixteen senders share one disk flush instead of paying
//! for sixteen. The connection commits with `synchronous = FULL`, so an acknowledged message
//! survives a power cut as well as a crash.
//!
//! If storing any message of a group fails, the group is rolled back and each message is
//! stored on its own, so one failure costs only its own message an `AR`.

use super::ack::Verdict;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::import::live::{import_message, MessageOutcome};
use crate::store::{SourceRow, Store};
use rocket::tokio::sync::{mpsc, oneshot};
use std::sync::Arc;

/// One message waiting to be stored, and where its verdict goes.
pub struct Job {
    pub source: SourceRow,
    /// The feed-file name it is kept under.
    pub name: String,
    pub bytes: Vec<u8>,
    pub verdict: oneshot::Sender<Verdict>,
}

/// Starts the writer thread; messages are sent to the returned queue.
pub fn start(config: Config, clock: Arc<dyn Clock>) -> Result<mpsc::Sender<Job>> {
    let store = Store::open(&config.database_path())?;
    store.for_acknowledged_writes()?;
    let max_group = config.mllp.max_group;
    let (queue, waiting) = mpsc::channel(max_group.saturating_mul(2));
    std::thread::Builder::new()
        .name("mllp-writer".into())
        .spawn(move || run(store, &config, clock.as_ref(), waiting, max_group))
        .map_err(|e| Error::Invalid(format!("the MLLP writer could not start: {e}")))?;
    Ok(queue)
}

fn run(
    mut store: Store,
    config: &Config,
    clock: &dyn Clock,
    mut waiting: mpsc::Receiver<Job>,
    max_group: usize,
) {
    while let Some(first) = waiting.blocking_recv() {
        let mut group = vec![first];
        while group.len() < max_group {
            match waiting.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let verdicts = store_group(&mut store, config, clock, &group);
        for (job, verdict) in group.into_iter().zip(verdicts) {
            // A connection that has gone away no longer waits for its verdict; its message is
            // stored all the same, and a re-send is recognised.
            let _ = job.verdict.send(verdict);
        }
    }
}

/// Stores a group in one transaction; on failure, each message alone.
fn store_group(
    store: &mut Store,
    config: &Config,
    clock: &dyn Clock,
    group: &[Job],
) -> Vec<Verdict> {
    match store_together(store, config, clock, group) {
        Ok(verdicts) => verdicts,
        Err(_) if group.len() > 1 => group
            .iter()
            .flat_map(|job| store_group(store, config, clock, std::slice::from_ref(job)))
            .collect(),
        Err(e) => {
            log::error!("an MLLP message was not stored: {}", e.operator_summary());
            vec![Verdict::Refused(
                "the message could not be stored just now; send it again".into(),
            )]
        }
    }
}

fn store_together(
    store: &mut Store,
    config: &Config,
    clock: &dyn Clock,
    group: &[Job],
) -> Result<Vec<Verdict>> {
    let now = clock.now_text();
    let tx = store.begin()?;
    let mut verdicts = Vec::with_capacity(group.len());
    for job in group {
        let outcome = import_message(&tx, config, &job.source, &job.name, &job.bytes, &now)?;
        verdicts.push(match outcome {
            MessageOutcome::Stored | MessageOutcome::Duplicate => Verdict::Accepted,
            MessageOutcome::Rejected { reason } => Verdict::Rejected(reason),
        });
    }
    tx.commit()?;
    Ok(verdicts)
}
