//! Citizens' accounts, invitation codes, sessions and error reports (see `crate::citizen`).

use super::{Store, Tx};
use crate::citizen::secret_key::{is_sealed, SecretKey};
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The key citizens' TOTP secrets are sealed with (`citizen::secret_key`), read from the
/// database's data directory at first need and kept for the connection's life. The store
/// seals a secret as it writes it and opens it as it reads it: nothing else sees it sealed.
pub(crate) struct SecretKeyCell {
    /// The data directory; none for an in-memory database, whose key lives as long as it.
    dir: Option<PathBuf>,
    key: OnceLock<SecretKey>,
}

impl SecretKeyCell {
    /// The key of the data directory `database` is in.
    pub(crate) fn beside(database: &Path) -> Self {
        let dir = match database.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self {
            dir: Some(dir),
            key: OnceLock::new(),
        }
    }

    pub(crate) fn in_memory() -> Self {
        Self {
            dir: None,
            key: OnceLock::new(),
        }
    }

    /// The key, read (or, while no secret is sealed yet, made) at first need.
    pub(super) fn get(&self, conn: &Connection) -> Result<&SecretKey> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = match &self.dir {
            None => SecretKey::ephemeral()?,
            Some(dir) => {
                let any_sealed: bool = conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM citizen_account
                                        WHERE substr(totp_secret, 1, 8) = 'sealed1:')",
                        [],
                        |r| r.get(0),
                    )
                    .doing("reading citizens' accounts")?;
                SecretKey::load_or_create(dir, !any_sealed)?
            }
        };
        let _ = self.key.set(key);
        self.key
            .get()
            .ok_or_else(|| Error::Invalid("the citizens' secret key was not kept".into()))
    }
}

/// Seals every TOTP secret still stored plain (written by a version before secrets were
/// sealed), in one write transaction; how many. Nothing is written when none is plain.
pub(crate) fn seal_plain_secrets(conn: &mut Connection, cell: &SecretKeyCell) -> Result<usize> {
    const PLAIN: &str = "SELECT id, person_id, totp_secret FROM citizen_account
                         WHERE substr(totp_secret, 1, 8) != 'sealed1:'";
    let read = |conn: &Connection| -> Result<Vec<(i64, i64, String)>> {
        conn.prepare(PLAIN)
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .doing("reading citizens' accounts")
    };
    if read(conn)?.is_empty() {
        return Ok(0);
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .doing("sealing citizens' second-factor secrets")?;
    let plain = read(&tx)?;
    let key = cell.get(&tx)?;
    // The plain text must not stay behind in the freed space of the page it was in.
    let secure_delete: i64 = tx
        .query_row("PRAGMA secure_delete", [], |r| r.get(0))
        .doing("sealing citizens' second-factor secrets")?;
    tx.pragma_update(None, "secure_delete", true)
        .doing("sealing citizens' second-factor secrets")?;
    for (id, person_id, secret) in &plain {
        tx.execute(
            "UPDATE citizen_account SET totp_secret = ?2 WHERE id = ?1",
            params![id, key.seal(secret, *person_id)?],
        )
        .doing("sealing a citizen's second-factor secret")?;
    }
    tx.commit()
        .doing("sealing citizens' second-factor secrets")?;
    conn.pragma_update(None, "secure_delete", secure_delete)
        .doing("sealing citizens' second-factor secrets")?;
    log::warn!(
        "sealed {} citizens' second-factor secrets stored plain by an older version, with {}",
        plain.len(),
        crate::citizen::secret_key::KEY_FILE
    );
    Ok(plain.len())
}

/// An account as read, its secret opened with the key.
fn opened(
    cell: &SecretKeyCell,
    conn: &Connection,
    mut a: CitizenAccount,
) -> Result<CitizenAccount> {
    if !is_sealed(&a.totp_secret) {
        return Err(Error::Invalid(
            "a citizen's second-factor secret is stored unsealed; the database was changed              outside sharedcare (the citizen can be given a new invitation code)"
                .into(),
        ));
    }
    a.totp_secret = cell.get(conn)?.open(&a.totp_secret, a.person_id)?;
    Ok(a)
}

/// A citizen's account: one per person.
#[derive(Clone)]
pub struct CitizenAccount {
    pub id: i64,
    pub person_id: i64,
    pub username: String,
    pub password_hash: String,
    /// The TOTP secret, base32.
    pub totp_secret: String,
    pub totp_confirmed: bool,
    pub totp_last_step: i64,
}

impl std::fmt::Debug for CitizenAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CitizenAccount({}, ***)", self.id)
    }
}

/// A live citizen session with its account.
#[derive(Debug, Clone)]
pub struct CitizenSessionRow {
    pub id: i64,
    pub stage: String,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub account: CitizenAccount,
}

/// An unused invitation, found by its code's hash.
#[derive(Debug, Clone)]
pub struct InviteRow {
    pub id: i64,
    pub person_id: i64,
    pub expires_at: String,
}

/// A citizen's report that an item is wrong.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReportRow {
    pub id: i64,
    pub person_id: i64,
    pub entry_id: i64,
    pub entry_title: String,
    pub organisation_code: String,
    pub report: String,
    pub reported_at: String,
    pub handled_at: Option<String>,
    pub handled_by: Option<String>,
    pub note: Option<String>,
}

const ACCOUNT: &str = "a.id, a.person_id, a.username, a.password_hash, a.totp_secret, \
                       a.totp_confirmed, a.totp_last_step";

fn account(r: &Row<'_>, at: usize) -> rusqlite::Result<CitizenAccount> {
    Ok(CitizenAccount {
        id: r.get(at)?,
        person_id: r.get(at + 1)?,
        username: r.get(at + 2)?,
        password_hash: r.get(at + 3)?,
        totp_secret: r.get(at + 4)?,
        totp_confirmed: r.get(at + 5)?,
        totp_last_step: r.get(at + 6)?,
    })
}

fn report(r: &Row<'_>) -> rusqlite::Result<ErrorReportRow> {
    Ok(ErrorReportRow {
        id: r.get(0)?,
        person_id: r.get(1)?,
        entry_id: r.get(2)?,
        entry_title: r.get(3)?,
        organisation_code: r.get(4)?,
        report: r.get(5)?,
        reported_at: r.get(6)?,
        handled_at: r.get(7)?,
        handled_by: r.get(8)?,
        note: r.get(9)?,
    })
}

const REPORT: &str = "SELECT r.id, r.person_id, r.entry_id, e.title, r.organisation_code, r.report,
            r.reported_at, r.handled_at, r.handled_by, r.note
     FROM citizen_error_report r JOIN entry e ON e.id = r.entry_id";

impl Tx<'_> {
    pub fn add_citizen_invite(
        &self,
        person_id: i64,
        code_hash: &[u8],
        issued_by: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO citizen_invite (person_id, code_hash, issued_by, issued_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![person_id, code_hash, issued_by, now, expires_at],
            )
            .doing("issuing an invitation code")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Marks an invitation used; false when it was already used (a race between two tabs).
    pub fn use_citizen_invite(&self, id: i64, now: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE citizen_invite SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
                params![id, now],
            )
            .doing("using an invitation code")?;
        Ok(n == 1)
    }

    /// Creates the person's account, or resets it (new name, password and second factor) when
    /// they have one; returns its id. The old account's sessions end.
    pub fn set_citizen_account(
        &self,
        person_id: i64,
        username: &str,
        password_hash: &str,
        totp_secret: &str,
        now: &str,
    ) -> Result<i64> {
        let sealed = self
            .secrets
            .get(self.conn())?
            .seal(totp_secret, person_id)?;
        self.conn()
            .execute(
                "INSERT INTO citizen_account (person_id, username, password_hash, totp_secret, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (person_id) DO UPDATE SET username = excluded.username,
                     password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
                     totp_confirmed = 0, totp_last_step = 0, reset_at = excluded.created_at",
                params![person_id, username, password_hash, sealed, now],
            )
            .doing("setting up a citizen's account")?;
        let id: i64 = self
            .conn()
            .query_row(
                "SELECT id FROM citizen_account WHERE person_id = ?1",
                [person_id],
                |r| r.get(0),
            )
            .doing("setting up a citizen's account")?;
        self.conn()
            .execute(
                "UPDATE citizen_session SET ended_at = ?2 WHERE account_id = ?1 AND ended_at IS NULL",
                params![id, now],
            )
            .doing("ending a citizen's sessions")?;
        Ok(id)
    }

    /// Records the TOTP step just accepted (and that the factor is confirmed); false when a
    /// code of that step or a later one was accepted before.
    pub fn accept_citizen_totp_step(&self, account_id: i64, step: i64) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE citizen_account SET totp_last_step = ?2, totp_confirmed = 1
                 WHERE id = ?1 AND totp_last_step < ?2",
                params![account_id, step],
            )
            .doing("recording a second-factor code")?;
        Ok(n == 1)
    }

    pub fn start_citizen_session(
        &self,
        token_hash: &[u8],
        account_id: i64,
        stage: &str,
        csrf: &str,
        now: &str,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO citizen_session (token_hash, account_id, stage, csrf_token, created_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![token_hash, account_id, stage, csrf, now],
            )
            .doing("starting a citizen's session")?;
        Ok(())
    }

    pub fn set_citizen_session_stage(&self, session_id: i64, stage: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE citizen_session SET stage = ?2 WHERE id = ?1",
                params![session_id, stage],
            )
            .doing("confirming a citizen's session")?;
        Ok(())
    }

    pub fn touch_citizen_session(&self, session_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE citizen_session SET last_seen_at = ?2 WHERE id = ?1",
                params![session_id, now],
            )
            .doing("recording a citizen's session activity")?;
        Ok(())
    }

    pub fn end_citizen_session(&self, session_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE citizen_session SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
                params![session_id, now],
            )
            .doing("ending a citizen's session")?;
        Ok(())
    }

    pub fn add_citizen_error_report(
        &self,
        account_id: i64,
        person_id: i64,
        entry_id: i64,
        organisation_code: &str,
        text: &str,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO citizen_error_report
                     (account_id, person_id, entry_id, organisation_code, report, reported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    account_id,
                    person_id,
                    entry_id,
                    organisation_code,
                    text,
                    now
                ],
            )
            .doing("recording an error report")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Marks a report handled; false when it was handled already or is not this
    /// organisation's.
    pub fn handle_citizen_error_report(
        &self,
        id: i64,
        organisation_code: &str,
        by: &str,
        note: &str,
        now: &str,
    ) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE citizen_error_report SET handled_at = ?5, handled_by = ?3, note = ?4
                 WHERE id = ?1 AND organisation_code = ?2 COLLATE NOCASE AND handled_at IS NULL",
                params![id, organisation_code, by, note, now],
            )
            .doing("handling an error report")?;
        Ok(n == 1)
    }
}

impl Store {
    /// An unused invitation with this code hash (expired ones too: the caller says so).
    pub fn citizen_invite(&self, code_hash: &[u8]) -> Result<Option<InviteRow>> {
        self.conn()
            .query_row(
                "SELECT id, person_id, expires_at FROM citizen_invite
                 WHERE code_hash = ?1 AND used_at IS NULL",
                [code_hash],
                |r| {
                    Ok(InviteRow {
                        id: r.get(0)?,
                        person_id: r.get(1)?,
                        expires_at: r.get(2)?,
                    })
                },
            )
            .optional()
            .doing("reading an invitation code")
    }

    pub fn citizen_account_by_name(&self, username: &str) -> Result<Option<CitizenAccount>> {
        self.conn()
            .query_row(
                &format!("SELECT {ACCOUNT} FROM citizen_account a WHERE a.username = ?1"),
                [username],
                |r| account(r, 0),
            )
            .optional()
            .doing("reading a citizen's account")?
            .map(|a| opened(&self.secrets, self.conn(), a))
            .transpose()
    }

    /// Whether someone else already signs in with this name.
    pub fn citizen_name_taken(&self, username: &str, person_id: i64) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM citizen_account WHERE username = ?1 AND person_id != ?2)",
                params![username, person_id],
                |r| r.get(0),
            )
            .doing("reading citizens' accounts")
    }

    pub fn citizen_has_account(&self, person_id: i64) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM citizen_account WHERE person_id = ?1)",
                [person_id],
                |r| r.get(0),
            )
            .doing("reading citizens' accounts")
    }

    /// The session with this token hash, if it has not been ended.
    pub fn citizen_session(&self, token_hash: &[u8]) -> Result<Option<CitizenSessionRow>> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT s.id, s.stage, s.csrf_token, s.created_at, s.last_seen_at, {ACCOUNT}
                     FROM citizen_session s JOIN citizen_account a ON a.id = s.account_id
                     WHERE s.token_hash = ?1 AND s.ended_at IS NULL"
                ),
                [token_hash],
                |r| {
                    Ok(CitizenSessionRow {
                        id: r.get(0)?,
                        stage: r.get(1)?,
                        csrf_token: r.get(2)?,
                        created_at: r.get(3)?,
                        last_seen_at: r.get(4)?,
                        account: account(r, 5)?,
                    })
                },
            )
            .optional()
            .doing("reading a citizen's session")?
            .map(|mut row| {
                row.account = opened(&self.secrets, self.conn(), row.account)?;
                Ok(row)
            })
            .transpose()
    }

    /// A person's own error reports, newest first.
    pub fn citizen_error_reports_of(&self, person_id: i64) -> Result<Vec<ErrorReportRow>> {
        self.conn()
            .prepare(&format!(
                "{REPORT} WHERE r.person_id = ?1 ORDER BY r.id DESC LIMIT 200"
            ))
            .and_then(|mut s| s.query_map([person_id], report)?.collect())
            .doing("reading error reports")
    }

    /// The reports queued for an organisation, open ones first.
    pub fn citizen_error_reports_for(
        &self,
        organisation_code: &str,
    ) -> Result<Vec<ErrorReportRow>> {
        self.conn()
            .prepare(&format!(
                "{REPORT} WHERE r.organisation_code = ?1 COLLATE NOCASE
                 ORDER BY r.handled_at IS NOT NULL, r.id DESC LIMIT 500"
            ))
            .and_then(|mut s| s.query_map([organisation_code], report)?.collect())
            .doing("reading error reports")
    }
}
