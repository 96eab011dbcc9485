//! Sources heard over MLLP: where each listens and who may connect, and the live traffic
//! figures feed health shows for them.

use super::{SourceRow, Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension};

/// A source's MLLP settings as stored.
#[derive(Debug, Clone)]
pub struct MllpSource {
    pub source: SourceRow,
    /// `ADDR:PORT` of a port of its own, when it has one.
    pub listen: Option<String>,
    /// Addresses allowed to send for it, comma-separated; `None` is loopback only.
    pub allow: Option<String>,
}

impl Tx<'_> {
    /// Sets (or with `None` clears) the source's own MLLP port.
    pub fn set_source_mllp_listen(&self, source_id: i64, listen: Option<&str>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE source SET mllp_listen = ?2 WHERE id = ?1",
                params![source_id, listen],
            )
            .doing("saving the MLLP address")?;
        Ok(())
    }

    /// Sets (or with `None` resets to loopback only) who may send for the source over MLLP.
    pub fn set_source_mllp_allow(&self, source_id: i64, allow: Option<&str>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE source SET mllp_allow = ?2 WHERE id = ?1",
                params![source_id, allow],
            )
            .doing("saving the MLLP senders")?;
        Ok(())
    }

    /// The reason of a file's first rejected unit, if it has one: what a re-sent message that
    /// was rejected before is answered with again.
    pub fn first_reject_reason(&self, file_id: i64) -> Result<Option<String>> {
        self.conn()
            .prepare_cached(
                "SELECT reason FROM feed_reject WHERE feed_file_id = ?1
                 ORDER BY unit_index LIMIT 1",
            )
            .and_then(|mut s| s.query_row([file_id], |r| r.get(0)).optional())
            .doing("reading a file's rejects")
    }
}

impl Store {
    /// Every source with its MLLP settings, in code order.
    pub fn mllp_sources(&self) -> Result<Vec<MllpSource>> {
        let settings: Vec<(String, Option<String>, Option<String>)> = self
            .conn()
            .prepare("SELECT code, mllp_listen, mllp_allow FROM source ORDER BY code")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .doing("reading MLLP settings")?;
        settings
            .into_iter()
            .map(|(code, listen, allow)| {
                Ok(MllpSource {
                    source: self.source_by_code(&code)?,
                    listen,
                    allow,
                })
            })
            .collect()
    }

    /// The source's own MLLP port and who may send for it, as stored (the admin form shows
    /// them).
    pub fn mllp_settings(&self, source_id: i64) -> Result<(Option<String>, Option<String>)> {
        self.conn()
            .query_row(
                "SELECT mllp_listen, mllp_allow FROM source WHERE id = ?1",
                [source_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .doing("reading a source's MLLP settings")
    }

    /// The source's own MLLP port, when it has one.
    pub fn mllp_listen(&self, source_id: i64) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT mllp_listen FROM source WHERE id = ?1",
                [source_id],
                |r| r.get(0),
            )
            .doing("reading a source's MLLP port")
    }

    /// Messages (feed files) a source delivered at or after `since` (RFC 3339 text): the
    /// live rate feed health shows.
    pub fn messages_since(&self, source_id: i64, since: &str) -> Result<i64> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM feed_file WHERE source_id = ?1 AND received_at >= ?2",
                params![source_id, since],
                |r| r.get(0),
            )
            .doing("counting a source's recent messages")
    }
}

impl Store {
    /// Settings for the connection that stores acknowledged messages: every commit is flushed
    /// to disk before it returns (`synchronous = FULL`), because the sender deletes its copy
    /// once it has our acknowledgement.
    pub fn for_acknowledged_writes(&self) -> Result<()> {
        self.conn()
            .execute_batch("PRAGMA synchronous = FULL;")
            .doing("configuring the MLLP writer")
    }
}
