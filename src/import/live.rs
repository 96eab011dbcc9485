//! One message that arrived live (over MLLP), stored inside a transaction the caller commits:
//! the caller commits several messages together and acknowledges each after the commit.
//!
//! A live message is kept as a feed file of its own (named after its control id), so
//! everything files have serves it too: a re-sent message is recognised by its SHA-256 and
//! changes nothing, a rejected one is kept with its raw bytes for replay on the feed page, and
//! feed health counts it.

use super::apply::apply;
use super::summary::FileSummary;
use crate::config::Config;
use crate::error::Result;
use crate::ingest;
use crate::model::Format;
use crate::store::{FileBegin, SourceRow, Tx};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// What became of one live message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Stored (or, for a message type that is not read, recorded and skipped).
    Stored,
    /// The same message was stored before: nothing changed.
    Duplicate,
    /// Understood but rejected; kept for replay. The reason names the problem.
    Rejected { reason: String },
}

/// Stores one message for `source` in `tx`, as feed file `name`.
pub fn import_message(
    tx: &Tx<'_>,
    config: &Config,
    source: &SourceRow,
    name: &str,
    bytes: &[u8],
    now: &str,
) -> Result<MessageOutcome> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let file_id = match tx.begin_file(source.id, name, &sha256, bytes.len(), now)? {
        FileBegin::Duplicate { file_id, .. } => {
            return Ok(match tx.first_reject_reason(file_id)? {
                Some(reason) => MessageOutcome::Rejected { reason },
                None => MessageOutcome::Duplicate,
            })
        }
        FileBegin::Start { file_id } | FileBegin::Resume { file_id, .. } => file_id,
    };
    let mut units = match ingest::read(Format::Hl7v2, Cow::Borrowed(bytes), None) {
        Ok(units) => units,
        Err(e) => {
            let reason = e.to_string();
            tx.reject_unit(file_id, 0, "message", &reason, bytes)?;
            tx.file_progress(file_id, 1, 0, 1)?;
            tx.finish_file(file_id, 1, now)?;
            return Ok(MessageOutcome::Rejected { reason });
        }
    };
    let mut summary = FileSummary::new(name);
    let (mut index, mut accepted, mut first_reject) = (0, 0, None);
    while let Some(unit) = units.next_unit() {
        match unit {
            Ok(extract) => {
                apply(tx, config, source, file_id, &extract, now, &mut summary)?;
                accepted += 1;
            }
            Err(reject) => {
                tx.reject_unit(
                    file_id,
                    index,
                    &reject.position,
                    &reject.reason,
                    &reject.raw,
                )?;
                first_reject.get_or_insert(reject.reason);
            }
        }
        index += 1;
    }
    let rejected = index - accepted;
    tx.file_progress(file_id, index, accepted, rejected)?;
    tx.finish_file(file_id, index, now)?;
    Ok(match first_reject {
        Some(reason) => MessageOutcome::Rejected { reason },
        None => MessageOutcome::Stored,
    })
}
