//! Citizens' accounts, invitation codes, sessions and error reports (see `crate::citizen`).

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

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
        self.conn()
            .execute(
                "INSERT INTO citizen_account (person_id, username, password_hash, totp_secret, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (person_id) DO UPDATE SET username = excluded.username,
                     password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
                     totp_confirmed = 0, totp_last_step = 0, reset_at = excluded.created_at",
                params![person_id, username, password_hash, totp_secret, now],
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
            .doing("reading a citizen's account")
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
            .doing("reading a citizen's session")
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
