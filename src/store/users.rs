//! Users, browser sessions and API tokens. Secrets are stored only as hashes.

use super::{Store, Tx};
use crate::access::Profile;
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use std::collections::HashMap;

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

/// A live session as an administrator sees it (never its token).
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: i64,
    /// The profile it acts in, as `role@ORG/team`.
    pub profile: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
    pub ip: Option<String>,
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

    /// Sets a new password, ends the user's sessions and revokes their API tokens: whoever
    /// held the old password keeps nothing it opened.
    pub fn set_password(&self, user_id: i64, password_hash: &str, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE app_user SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
                params![user_id, password_hash, now],
            )
            .doing("changing a password")?;
        self.revoke_tokens_of(user_id, now)?;
        self.end_sessions_of(user_id, now)
    }

    fn revoke_tokens_of(&self, user_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE api_token SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, now],
            )
            .doing("revoking tokens")?;
        Ok(())
    }

    /// Disables a user, ends their sessions and revokes their API tokens.
    pub fn disable_user(&self, user_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE app_user SET disabled = 1 WHERE id = ?1", [user_id])
            .doing("disabling a user")?;
        self.revoke_tokens_of(user_id, now)?;
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
        expires_at: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO api_token (token_hash, user_id, profile_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, user_id, profile_id, now, expires_at],
            )
            .doing("creating a token")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Ends one of a user's sessions; returns whether it was live. The user id keeps an
    /// administrator's form from ending someone else's session by a mistyped id.
    pub fn end_user_session(&self, user_id: i64, session_id: i64, now: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE web_session SET ended_at = ?3
                 WHERE id = ?2 AND user_id = ?1 AND ended_at IS NULL",
                params![user_id, session_id, now],
            )
            .doing("ending a session")?;
        Ok(n > 0)
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

    /// Records that a token was used now, at most once a minute (`used_before`: a minute ago),
    /// so a busy client does not write on every call.
    pub fn touch_api_token(&self, token_id: i64, now: &str, used_before: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE api_token SET last_used_at = ?2
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?3)",
            )
            .and_then(|mut s| s.execute(params![token_id, now, used_before]))
            .doing("recording a token's use")?;
        Ok(())
    }
}

/// A live API token's id and when it was last used (kept to the minute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub id: i64,
    pub last_used_at: Option<String>,
}

impl TokenUse {
    /// Whether its last use is older than `used_before` (or unknown), so that recording this
    /// use changes the row. A use within the same minute writes nothing, and then the request
    /// need not take the write lock at all.
    pub fn is_stale(&self, used_before: &str) -> bool {
        self.last_used_at
            .as_deref()
            .is_none_or(|last| last < used_before)
    }
}

/// An API token as an administrator sees it (never the token).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub username: String,
    pub profile: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl Store {
    /// Every API token, newest first.
    pub fn api_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.conn()
            .prepare(
                "SELECT t.id, u.username, p.role || '@' || p.org || coalesce('/' || p.team, ''),
                        t.created_at, t.expires_at, t.last_used_at, t.revoked_at
                 FROM api_token t JOIN app_user u ON u.id = t.user_id
                 LEFT JOIN role_profile p ON p.id = t.profile_id
                 ORDER BY t.id DESC",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(TokenInfo {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        profile: r.get(2)?,
                        created_at: r.get(3)?,
                        expires_at: r.get(4)?,
                        last_used_at: r.get(5)?,
                        revoked_at: r.get(6)?,
                    })
                })?
                .collect()
            })
            .doing("listing API tokens")
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        self.conn()
            .query_row(&format!("{USER} WHERE u.username = ?1"), [username], user)
            .optional()
            .doing("reading a user")
    }

    pub fn user_by_id(&self, user_id: i64) -> Result<Option<UserRow>> {
        self.conn()
            .query_row(&format!("{USER} WHERE u.id = ?1"), [user_id], user)
            .optional()
            .doing("reading a user")
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        self.conn()
            .prepare(&format!("{USER} ORDER BY u.username"))
            .and_then(|mut s| s.query_map([], user)?.collect())
            .doing("listing users")
    }

    /// A user's sessions that are still live: not ended, used since `idle_since` and started
    /// since `started_since` (both timestamps in the stored text form), newest first.
    pub fn live_sessions(
        &self,
        user_id: i64,
        idle_since: &str,
        started_since: &str,
    ) -> Result<Vec<SessionInfo>> {
        self.conn()
            .prepare(
                "SELECT s.id, p.role || '@' || p.org || coalesce('/' || p.team, ''),
                        s.created_at, s.last_seen_at, s.ip
                 FROM web_session s LEFT JOIN role_profile p ON p.id = s.profile_id
                 WHERE s.user_id = ?1 AND s.ended_at IS NULL
                   AND s.last_seen_at >= ?2 AND s.created_at >= ?3
                 ORDER BY s.id DESC",
            )
            .and_then(|mut s| {
                s.query_map(params![user_id, idle_since, started_since], |r| {
                    Ok(SessionInfo {
                        id: r.get(0)?,
                        profile: r.get(1)?,
                        created_at: r.get(2)?,
                        last_seen_at: r.get(3)?,
                        ip: r.get(4)?,
                    })
                })?
                .collect()
            })
            .doing("listing sessions")
    }

    /// How many live sessions (as [`Store::live_sessions`] counts them) each user has; users
    /// without one are absent.
    pub fn live_session_counts(
        &self,
        idle_since: &str,
        started_since: &str,
    ) -> Result<HashMap<i64, usize>> {
        self.conn()
            .prepare(
                "SELECT user_id, count(*) FROM web_session
                 WHERE ended_at IS NULL AND last_seen_at >= ?1 AND created_at >= ?2
                 GROUP BY user_id",
            )
            .and_then(|mut s| {
                s.query_map(params![idle_since, started_since], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?
                .map(|r| r.map(|(u, n)| (u, usize::try_from(n).unwrap_or(0))))
                .collect()
            })
            .doing("counting sessions")
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

    /// A live API token (not revoked, not lapsed at `now`): its id and last use, the user it
    /// belongs to, and the role profile it acts in (`None` once that profile has been
    /// removed). A token without an expiry is not live: every token has one since migration 10.
    pub fn user_by_api_token(
        &self,
        token_hash: &[u8],
        now: &str,
    ) -> Result<Option<(TokenUse, UserRow, Option<Profile>)>> {
        self.conn()
            .prepare_cached(
                &format!(
                    "{USER} JOIN api_token t ON t.user_id = u.id
                 LEFT JOIN role_profile p ON p.id = t.profile_id AND p.removed_at IS NULL
                 LEFT JOIN organisation o ON o.ods_code = p.org
                 WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND t.expires_at > ?2"
                )
                .replace(
                    " FROM app_user u",
                    ", p.id, p.role, p.org, p.team, o.name, t.id, t.last_used_at FROM app_user u",
                ),
            )
            .and_then(|mut s| {
                s.query_row(params![token_hash, now], |r| {
                    let user = user(r)?;
                    let profile = super::access::profile_at(r, 7, &user)?;
                    let token = TokenUse {
                        id: r.get(12)?,
                        last_used_at: r.get(13)?,
                    };
                    Ok((token, user, profile))
                })
                .optional()
            })
            .doing("reading a token")
    }
}
