//! SFTP accounts of sources: the authorised public keys (table `source_key`, which
//! `source add --sftp-key` fills too) and the optional password hash.
//!
//! Keys are kept as OpenSSH one-line text; the store does not speak SSH, so parsing,
//! fingerprints and comparison as key material are the SFTP module's business.

use super::{Store, Tx};
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension};

/// What the SFTP server needs to decide a login.
#[derive(Clone, Default)]
pub struct SftpAccount {
    pub source_code: String,
    pub public_keys: Vec<String>,
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for SftpAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpAccount")
            .field("source_code", &self.source_code)
            .field("public_keys", &self.public_keys.len())
            .field("password_hash", &self.password_hash.as_ref().map(|_| "***"))
            .finish()
    }
}

/// One authorised key as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SftpKeyRow {
    pub public_key: String,
    pub added_at: String,
}

fn find_source(conn: &rusqlite::Connection, code: &str) -> Result<Option<i64>> {
    conn.query_row("SELECT id FROM source WHERE code = ?1", [code], |r| {
        r.get(0)
    })
    .optional()
    .doing("reading a source")
}

fn source_id(conn: &rusqlite::Connection, code: &str) -> Result<i64> {
    find_source(conn, code)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no source with code {code}; `sharedcare source list` shows the registered ones"
        ))
    })
}

fn keys_of(conn: &rusqlite::Connection, source: &str) -> Result<Vec<SftpKeyRow>> {
    let id = source_id(conn, source)?;
    conn.prepare("SELECT public_key, added_at FROM source_key WHERE source_id = ?1 ORDER BY id")
        .and_then(|mut st| {
            st.query_map([id], |r| {
                Ok(SftpKeyRow {
                    public_key: r.get(0)?,
                    added_at: r.get(1)?,
                })
            })?
            .collect()
        })
        .doing("listing SFTP keys")
}

impl Tx<'_> {
    /// The keys authorised for a source, read inside the transaction that changes them.
    pub fn sftp_keys(&self, source: &str) -> Result<Vec<SftpKeyRow>> {
        keys_of(self.conn(), source)
    }

    /// Authorises a key for a source; false when that exact key text was already there.
    pub fn add_sftp_key(&self, source: &str, public_key: &str, now: &str) -> Result<bool> {
        let id = source_id(self.conn(), source)?;
        let n = self
            .conn()
            .execute(
                "INSERT INTO source_key (source_id, public_key, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source_id, public_key) DO NOTHING",
                params![id, public_key, now],
            )
            .doing("saving an SFTP key")?;
        Ok(n == 1)
    }

    /// Removes the stored key with exactly this text; how many rows went.
    pub fn remove_sftp_key(&self, source: &str, public_key: &str) -> Result<usize> {
        let id = source_id(self.conn(), source)?;
        self.conn()
            .execute(
                "DELETE FROM source_key WHERE source_id = ?1 AND public_key = ?2",
                params![id, public_key],
            )
            .doing("removing an SFTP key")
    }

    /// Sets (Some) or clears (None) the account's password hash.
    pub fn set_sftp_password(&self, source: &str, hash: Option<&str>, now: &str) -> Result<()> {
        let id = source_id(self.conn(), source)?;
        let r = match hash {
            Some(h) => self.conn().execute(
                "INSERT INTO source_sftp_password (source_id, password_hash, set_at)
                 VALUES (?1, ?2, ?3) ON CONFLICT (source_id)
                 DO UPDATE SET password_hash = ?2, set_at = ?3",
                params![id, h, now],
            ),
            None => self.conn().execute(
                "DELETE FROM source_sftp_password WHERE source_id = ?1",
                [id],
            ),
        };
        r.map(|_| ()).doing("saving an SFTP password")
    }
}

impl Store {
    pub fn sftp_keys(&self, source: &str) -> Result<Vec<SftpKeyRow>> {
        keys_of(self.conn(), source)
    }

    /// The account named `user`, or None when no source has that code.
    pub fn sftp_account(&self, user: &str) -> Result<Option<SftpAccount>> {
        let Some(id) = find_source(self.conn(), user)? else {
            return Ok(None);
        };
        let public_keys = self
            .conn()
            .prepare("SELECT public_key FROM source_key WHERE source_id = ?1")
            .and_then(|mut st| st.query_map([id], |r| r.get(0))?.collect())
            .doing("reading SFTP keys")?;
        let password_hash = self
            .conn()
            .query_row(
                "SELECT password_hash FROM source_sftp_password WHERE source_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .doing("reading an SFTP password")?;
        Ok(Some(SftpAccount {
            source_code: user.to_owned(),
            public_keys,
            password_hash,
        }))
    }
}
