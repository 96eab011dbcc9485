//! Users, browser sessions and API tokens. Secrets are stored only as hashes.

use super::{Store, Tx};
use crate::access::Profile;
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub org: String,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    pub user: UserRow,
    /// The role profile the session acts in; `None` once that profile has been removed.
    pub profile: Option<Profile>,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
}

const USER: &str = "SELECT u.id, u.username, u.role, u.org, u.password_hash, u.disabled, u.created_at FROM app_user u";

fn user(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        username: r.get(1)?,
        role: r.get(2)?,
        org: r.get(3)?,
        password_hash: r.get(4)?,
        disabled: r.get(5)?,
        created_at: r.get(6)?,
    })
}

impl Tx<'_> {
    pub fn add_user(
        &self,
        username: &str,
        role: &str,
        org: &str,
        team: Option<&str>,
        password_hash: &str,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO app_user (username, role, org, password_hash, created_at, password_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![username, role, org, password_hash, now],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Error::Invalid(format!("a user called {username} already exists"))
                }
                source => Error::Db { doing: "adding a user", source },
            })?;
        let user_id = self.conn().last_insert_rowid();
        self.add_profile(user_id, role, org, team, now)?;
        Ok(user_id)
    }

    /// Sets a new password and ends the user's sessions.
    pub fn set_password(&self, user_id: i64, password_hash: &str, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE app_user SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
                params![user_id, password_hash, now],
            )
            .doing("changing a password")?;
        self.end_sessions_of(user_id, now)
    }

    /// Disables a user, ends their sessions and revokes their API tokens.
    pub fn disable_user(&self, user_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE app_user SET disabled = 1 WHERE id = ?1", [user_id])
            .doing("disabling a user")?;
        self.conn()
            .execute(
                "UPDATE api_token SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, now],
            )
            .doing("revoking tokens")?;
        self.end_sessions_of(user_id, now)
    }

    pub fn end_sessions_of(&self, user_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE web_session SET ended_at = ?2 WHERE user_id = ?1 AND ended_at IS NULL",
                params![user_id, now],
            )
            .doing("ending sessions")?;
        Ok(())
    }

    pub fn start_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        profile_id: i64,
        csrf: &str,
        ip: Option<&str>,
        now: &str,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO web_session (token_hash, user_id, profile_id, csrf_token, created_at, last_seen_at, ip)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                params![token_hash, user_id, profile_id, csrf, now, ip],
            )
            .doing("starting a session")?;
        Ok(())
    }

    pub fn touch_session(&self, session_id: i64, now: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE web_session SET last_seen_at = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![session_id, now]))
            .doing("recording session activity")?;
        Ok(())
    }

    pub fn end_session(&self, session_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE web_session SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
                params![session_id, now],
            )
            .doing("ending a session")?;
        Ok(())
    }

    pub fn add_api_token(
        &self,
        token_hash: &[u8],
        user_id: i64,
        profile_id: i64,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO api_token (token_hash, user_id, profile_id, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user_id, profile_id, now],
            )
            .doing("creating a token")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Revokes a token by id; returns whether one was live.
    pub fn revoke_api_token(&self, token_id: i64, now: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE api_token SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![token_id, now],
            )
            .doing("revoking a token")?;
        Ok(n > 0)
    }
}

impl Store {
    pub fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        self.conn()
            .query_row(&format!("{USER} WHERE u.username = ?1"), [username], user)
            .optional()
            .doing("reading a user")
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        self.conn()
            .prepare(&format!("{USER} ORDER BY u.username"))
            .and_then(|mut s| s.query_map([], user)?.collect())
            .doing("listing users")
    }

    /// The live (not ended) session with this token hash, with its user.
    pub fn session_by_token(&self, token_hash: &[u8]) -> Result<Option<SessionRow>> {
        self.conn()
            .prepare_cached(
                "SELECT u.id, u.username, u.role, u.org, u.password_hash, u.disabled, u.created_at,
                        s.id, s.csrf_token, s.created_at, s.last_seen_at,
                        p.id, p.role, p.org, p.team, o.name
                 FROM web_session s JOIN app_user u ON u.id = s.user_id
                 LEFT JOIN role_profile p ON p.id = s.profile_id AND p.removed_at IS NULL
                 LEFT JOIN organisation o ON o.ods_code = p.org
                 WHERE s.token_hash = ?1 AND s.ended_at IS NULL",
            )
            .and_then(|mut s| {
                s.query_row([token_hash], |r| {
                    let user = user(r)?;
                    Ok(SessionRow {
                        profile: super::access::profile_at(r, 11, &user)?,
                        user,
                        id: r.get(7)?,
                        csrf_token: r.get(8)?,
                        created_at: r.get(9)?,
                        last_seen_at: r.get(10)?,
                    })
                })
                .optional()
            })
            .doing("reading a session")
    }

    /// The user a live API token belongs to, and the role profile it acts in (`None` once
    /// that profile has been removed).
    pub fn user_by_api_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(UserRow, Option<Profile>)>> {
        self.conn()
            .prepare_cached(
                &format!(
                    "{USER} JOIN api_token t ON t.user_id = u.id
                 LEFT JOIN role_profile p ON p.id = t.profile_id AND p.removed_at IS NULL
                 LEFT JOIN organisation o ON o.ods_code = p.org
                 WHERE t.token_hash = ?1 AND t.revoked_at IS NULL"
                )
                .replace(
                    " FROM app_user u",
                    ", p.id, p.role, p.org, p.team, o.name FROM app_user u",
                ),
            )
            .and_then(|mut s| {
                s.query_row([token_hash], |r| {
                    let user = user(r)?;
                    let profile = super::access::profile_at(r, 7, &user)?;
                    Ok((user, profile))
                })
                .optional()
            })
            .doing("reading a token")
    }
}
