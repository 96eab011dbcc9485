//! The decisions on feed data that did not import, one use case each: replaying or discarding
//! a rejected unit, and giving a quarantined file back to the inbox or setting it aside. The
//! administrator's pages call these; each checks, changes, writes its audit event
//! (`feed-replay`, `feed-discard`; the detail names the file or unit, never a person) and
//! commits in one transaction, so if the event cannot be written nothing changes, and a file
//! moved on disk for a decision that did not commit is put back.
//!
//! Replaying a rejected unit parses its raw bytes again in the source's format (with the
//! source's current CSV mapping) and, when they now make sense, applies them through the same
//! [`apply`](super::apply) step as a unit of a fresh file, in the decision's transaction.

use super::apply;
use super::links::record;
use super::summary::FileSummary;
use crate::audit::{Action, Actor};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, csv::Mapping};
use crate::sources::Spool;
use crate::store::{FileListRow, SourceRow, Store, Tx};
use std::path::{Path, PathBuf};

/// `Ok(Ok(()))` when the unit was applied; `Ok(Err(reason))` when it is still not usable (and
/// nothing was written); `Err` for a database failure, after which the caller rolls back.
pub fn replay_unit(
    tx: &Tx<'_>,
    config: &Config,
    source: &SourceRow,
    file_id: i64,
    raw: &[u8],
    now: &str,
) -> Result<std::result::Result<(), String>> {
    let mapping = match &source.mapping {
        Some(text) => match Mapping::from_toml(text) {
            Ok(m) => Some(m),
            Err(e) => return Ok(Err(format!("the source's CSV mapping is not valid: {e}"))),
        },
        None => None,
    };
    let parsed = match ingest::parse(source.format, raw, mapping.as_ref()) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut extracts = Vec::new();
    for unit in parsed.units {
        match unit {
            Ok(extract) => extracts.push(extract),
            Err(reject) => return Ok(Err(reject.reason)),
        }
    }
    if extracts.is_empty() {
        return Ok(Err(
            "the unit holds nothing this source's format imports".into()
        ));
    }
    let mut summary = FileSummary::new("replay");
    for extract in &extracts {
        apply::apply(tx, config, source, file_id, extract, now, &mut summary)?;
    }
    Ok(Ok(()))
}

/// A quarantined file as the store records it, its source's code, and where it is on disk
/// while it is undecided and still in quarantine (`None` once decided or gone).
pub struct QuarantinedFile {
    pub file: FileListRow,
    pub source: String,
    pub path: Option<PathBuf>,
}

/// Finds file `id` and, while it is undecided and quarantined, its file on disk.
pub fn quarantined_file(
    store: &Store,
    data_dir: &Path,
    id: i64,
) -> Result<Option<QuarantinedFile>> {
    let (Some(file), Some(base)) = (store.file_with_decision(id)?, store.file(id)?) else {
        return Ok(None);
    };
    let path = if file.state == "quarantined" && file.decision.is_none() {
        Spool::new(data_dir, &base.source_code)?.find_quarantined(&file.name, &file.sha256)?
    } else {
        None
    };
    Ok(Some(QuarantinedFile {
        file,
        source: base.source_code,
        path,
    }))
}

fn no_quarantined_file(id: i64) -> Error {
    Error::NotFound(format!("file {id} is not waiting in quarantine"))
}

/// Gives quarantined file `id` back to its source's inbox, where the next scans import it (or
/// quarantine it again with a new reason), and records `feed-replay` in the same transaction.
/// Bytes the source fixed (written over the quarantined file) are a new file to the importer,
/// so this record is settled as `replayed`; the same bytes keep this record, which the next
/// import reuses. Returns whether the bytes were fixed.
pub fn release_file(
    store: &mut Store,
    data_dir: &Path,
    id: i64,
    by: &Actor,
    now: &str,
) -> Result<bool> {
    let found = quarantined_file(store, data_dir, id)?;
    let Some(QuarantinedFile {
        file,
        source,
        path: Some(path),
    }) = found
    else {
        return Err(no_quarantined_file(id));
    };
    let bytes = std::fs::read(&path).map_err(|e| crate::sources::io("read", &path, e))?;
    let fixed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)) != file.sha256;
    let spool = Spool::new(data_dir, &source)?;
    let tx = store.begin()?;
    if fixed && !tx.file_decided(id, "replayed", &by.name, None, now)? {
        return Err(no_quarantined_file(id));
    }
    let detail = format!(
        "file {id} back to the inbox{}",
        if fixed { ", fixed" } else { "" }
    );
    record(&tx, by, Action::FeedReplay, None, &detail, "ok", now)?;
    // The move comes last before the commit: an audit event that cannot be written leaves the
    // file where it was, and a commit that fails puts it back.
    let moved = spool.release(&path)?;
    commit_or_put_back(tx, &spool, &moved, &path, file.reason.as_deref())?;
    Ok(fixed)
}

/// Sets quarantined file `id` aside in `discarded/<SOURCE>/` with a note of who, when and why,
/// and records the decision and `feed-discard` in the same transaction. Nothing is deleted.
pub fn discard_file(
    store: &mut Store,
    data_dir: &Path,
    id: i64,
    note: &str,
    by: &Actor,
    now: &str,
) -> Result<()> {
    let found = quarantined_file(store, data_dir, id)?;
    let Some(QuarantinedFile {
        file,
        source,
        path: Some(path),
    }) = found
    else {
        return Err(no_quarantined_file(id));
    };
    let spool = Spool::new(data_dir, &source)?;
    let tx = store.begin()?;
    if !tx.file_decided(id, "discarded", &by.name, Some(note), now)? {
        return Err(no_quarantined_file(id));
    }
    record(
        &tx,
        by,
        Action::FeedDiscard,
        None,
        &format!("file {id}"),
        "ok",
        now,
    )?;
    let moved = spool.discard(&path, &by.name, now, note)?;
    commit_or_put_back(tx, &spool, &moved, &path, file.reason.as_deref())
}

/// Commits a decision whose file has already moved; if the commit fails, the file goes back
/// where it was so that disk and database still agree.
fn commit_or_put_back(
    tx: Tx<'_>,
    spool: &Spool,
    moved: &Path,
    original: &Path,
    reason: Option<&str>,
) -> Result<()> {
    match tx.commit() {
        Ok(()) => Ok(()),
        Err(e) => {
            if let Err(undo) = spool.put_back(moved, original, reason) {
                log::error!("a decision on a quarantined file did not commit and the file could not be put back: {undo}");
            }
            Err(e)
        }
    }
}

/// What replaying a rejected unit came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// The unit was imported.
    Imported,
    /// It still cannot be imported, for this (new) reason; it stays open.
    StillRejected(String),
}

/// Parses open rejected unit `id` again with its source's current format and mapping; when it
/// now makes sense it is imported and settled as replayed, otherwise it stays open with the new
/// reason. Either way `feed-replay` (outcome `ok` or `failed`) is recorded in the same
/// transaction as the unit's data and state.
pub fn replay_reject(
    store: &mut Store,
    config: &Config,
    id: i64,
    by: &Actor,
    now: &str,
) -> Result<Replayed> {
    let Some(reject) = store.reject(id)?.filter(|r| r.state == "open") else {
        return Err(Error::NotFound(format!("rejected unit {id} is not open")));
    };
    let source = store.source_by_code(&reject.source_code)?;
    let tx = store.begin()?;
    let outcome = replay_unit(&tx, config, &source, reject.file_id, &reject.raw, now)?;
    let replayed = match outcome {
        Ok(()) => {
            if !tx.reject_replayed(id, &by.name, now)? {
                return Err(Error::NotFound(format!("rejected unit {id} is not open")));
            }
            Replayed::Imported
        }
        Err(reason) => {
            tx.reject_reason(id, &reason)?;
            Replayed::StillRejected(reason)
        }
    };
    let detail = format!("reject {id}: file {} {}", reject.file_id, reject.position);
    let outcome = match replayed {
        Replayed::Imported => "ok",
        Replayed::StillRejected(_) => "failed",
    };
    record(&tx, by, Action::FeedReplay, None, &detail, outcome, now)?;
    tx.commit()?;
    Ok(replayed)
}

/// Settles open rejected unit `id` as discarded, with who, when and `note`, and records
/// `feed-discard` in the same transaction.
pub fn discard_reject(store: &mut Store, id: i64, note: &str, by: &Actor, now: &str) -> Result<()> {
    let tx = store.begin()?;
    if !tx.reject_discarded(id, &by.name, note, now)? {
        return Err(Error::NotFound(format!("rejected unit {id} is not open")));
    }
    record(
        &tx,
        by,
        Action::FeedDiscard,
        None,
        &format!("reject {id}"),
        "ok",
        now,
    )?;
    tx.commit()
}
