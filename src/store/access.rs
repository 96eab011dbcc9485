//! Role profiles, access grants (self-claims, broken glass), privacy alerts and objections.

use super::users::UserRow;
use super::{Store, Tx};
use crate::access::{Grant, Profile};
use crate::error::{DbContext, Error, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// A profile from the columns `id, role, org, team, organisation name` starting at `at`;
/// `None` when the id column is NULL (no live profile).
pub(super) fn profile_at(
    r: &Row<'_>,
    at: usize,
    user: &UserRow,
) -> rusqlite::Result<Option<Profile>> {
    let Some(id) = r.get::<_, Option<i64>>(at)? else {
        return Ok(None);
    };
    Ok(Some(Profile {
        id,
        user_id: user.id,
        username: user.username.clone(),
        role: r.get(at + 1)?,
        org: r.get(at + 2)?,
        team: r.get(at + 3)?,
        org_name: r.get(at + 4)?,
    }))
}

/// A privacy officer's alert.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    /// The user the alert is about.
    pub user_id: i64,
    pub username: String,
    pub profile: Option<String>,
    /// The person it concerns; none for a role granted.
    pub person_id: Option<i64>,
    /// Who raised it, when not the user it is about (an administrator granting a role).
    pub raised_by_user_id: Option<i64>,
    pub raised_by: Option<String>,
    pub raised_at: String,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionRow {
    pub id: i64,
    pub person_id: i64,
    pub reason: String,
    pub objected_on: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A privacy alert to raise.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    /// `self-claim`, `break-glass`, `objection-override`, `role-grant` or `view-as`.
    pub kind: &'a str,
    pub grant_id: Option<i64>,
    /// The user it is about.
    pub user_id: i64,
    pub person_id: Option<i64>,
    /// The user whose action raised it; none for the operator at the command line.
    pub raised_by_user_id: Option<i64>,
    pub raised_by: &'a str,
    /// What happened, without patient data.
    pub detail: Option<&'a str>,
}

const PROFILE: &str = "SELECT p.id, p.role, p.org, p.team, o.name FROM role_profile p
     LEFT JOIN organisation o ON o.ods_code = p.org";

impl Tx<'_> {
    pub fn add_profile(
        &self,
        user_id: i64,
        role: &str,
        org: &str,
        team: Option<&str>,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO role_profile (user_id, role, org, team, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user_id, role, org, team, now],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::Invalid("the user already holds that role profile".into())
                }
                source => Error::Db {
                    doing: "adding a role profile",
                    source,
                },
            })?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Removes a profile; sessions and tokens acting in it end at once.
    pub fn remove_profile(&self, profile_id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE role_profile SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL",
                params![profile_id, now],
            )
            .doing("removing a role profile")?;
        self.conn()
            .execute(
                "UPDATE web_session SET ended_at = ?2 WHERE profile_id = ?1 AND ended_at IS NULL",
                params![profile_id, now],
            )
            .doing("ending sessions")?;
        self.conn()
            .execute(
                "UPDATE api_token SET revoked_at = ?2 WHERE profile_id = ?1 AND revoked_at IS NULL",
                params![profile_id, now],
            )
            .doing("revoking tokens")?;
        Ok(())
    }

    pub fn set_session_profile(&self, session_id: i64, profile_id: i64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE web_session SET profile_id = ?2 WHERE id = ?1",
                params![session_id, profile_id],
            )
            .doing("switching a session's role profile")?;
        Ok(())
    }

    /// Records a self-claim or broken glass; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn add_grant(
        &self,
        kind: &str,
        profile_id: i64,
        person_id: i64,
        reason_code: &str,
        reason: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO access_grant (kind, profile_id, person_id, reason_code, reason, granted_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![kind, profile_id, person_id, reason_code, reason, now, expires_at],
            )
            .doing("recording access")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Ends the live grants of one kind a profile holds for a person; returns how many.
    pub fn end_grants(
        &self,
        kind: &str,
        profile_id: i64,
        person_id: i64,
        now: &str,
    ) -> Result<usize> {
        self.conn()
            .execute(
                "UPDATE access_grant SET ended_at = ?4
                 WHERE kind = ?1 AND profile_id = ?2 AND person_id = ?3
                   AND ended_at IS NULL AND expires_at > ?4",
                params![kind, profile_id, person_id, now],
            )
            .doing("ending access")
    }

    /// Raises an alert for the privacy officer; returns its reference (no patient details).
    pub fn raise_alert(&self, alert: &NewAlert<'_>, now: &str) -> Result<String> {
        self.conn()
            .execute(
                "INSERT INTO privacy_alert (reference, kind, grant_id, user_id, person_id, raised_at,
                                            raised_by_user_id, raised_by, detail)
                 VALUES ('pending', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    alert.kind,
                    alert.grant_id,
                    alert.user_id,
                    alert.person_id,
                    now,
                    alert.raised_by_user_id,
                    alert.raised_by,
                    alert.detail
                ],
            )
            .doing("raising a privacy alert")?;
        let id = self.conn().last_insert_rowid();
        let reference = format!("PA-{id:06}");
        self.conn()
            .execute(
                "UPDATE privacy_alert SET reference = ?2 WHERE id = ?1",
                params![id, reference],
            )
            .doing("raising a privacy alert")?;
        Ok(reference)
    }

    /// Closes an open alert with a note; returns whether one was open.
    pub fn close_alert(&self, alert_id: i64, by: &str, note: &str, now: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE privacy_alert SET closed_at = ?2, closed_by = ?3, note = ?4
                 WHERE id = ?1 AND closed_at IS NULL",
                params![alert_id, now, by, note],
            )
            .doing("closing a privacy alert")?;
        Ok(n > 0)
    }

    /// Marks or unmarks a person as a test person; returns whether that changed anything.
    pub fn set_test_person(&self, person_id: i64, test: bool, by: &str, now: &str) -> Result<bool> {
        let n = if test {
            self.conn().execute(
                "INSERT INTO test_person (person_id, marked_at, marked_by) VALUES (?1, ?2, ?3)
                 ON CONFLICT (person_id) DO NOTHING",
                params![person_id, now, by],
            )
        } else {
            self.conn()
                .execute("DELETE FROM test_person WHERE person_id = ?1", [person_id])
        }
        .doing("marking a test person")?;
        Ok(n > 0)
    }

    pub fn add_objection(
        &self,
        person_id: i64,
        reason: &str,
        objected_on: &str,
        by: &str,
        now: &str,
    ) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO sharing_objection (person_id, reason, objected_on, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![person_id, reason, objected_on, by, now],
            )
            .doing("recording an objection")?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Withdraws every standing objection of a person; returns how many there were.
    pub fn withdraw_objections(&self, person_id: i64, now: &str) -> Result<usize> {
        self.conn()
            .execute(
                "UPDATE sharing_objection SET withdrawn_at = ?2
                 WHERE person_id = ?1 AND withdrawn_at IS NULL",
                params![person_id, now],
            )
            .doing("withdrawing an objection")
    }
}

const ALERT: &str = "SELECT a.id, a.reference, a.kind, u.username,
        p.role || '@' || p.org || coalesce('/' || p.team, ''),
        a.person_id, a.raised_at, g.reason_code, coalesce(g.reason, a.detail), g.expires_at,
        a.closed_at, a.closed_by, a.note, a.user_id, a.raised_by_user_id, a.raised_by
     FROM privacy_alert a JOIN app_user u ON u.id = a.user_id
     LEFT JOIN access_grant g ON g.id = a.grant_id
     LEFT JOIN role_profile p ON p.id = g.profile_id";

fn alert(r: &Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        reference: r.get(1)?,
        kind: r.get(2)?,
        username: r.get(3)?,
        profile: r.get(4)?,
        person_id: r.get(5)?,
        raised_at: r.get(6)?,
        reason_code: r.get(7)?,
        reason: r.get(8)?,
        expires_at: r.get(9)?,
        closed_at: r.get(10)?,
        closed_by: r.get(11)?,
        note: r.get(12)?,
        user_id: r.get(13)?,
        raised_by_user_id: r.get(14)?,
        raised_by: r.get(15)?,
    })
}

fn objection_row(r: &Row<'_>) -> rusqlite::Result<ObjectionRow> {
    Ok(ObjectionRow {
        id: r.get(0)?,
        person_id: r.get(1)?,
        reason: r.get(2)?,
        objected_on: r.get(3)?,
        recorded_by: r.get(4)?,
        recorded_at: r.get(5)?,
    })
}

fn profile_row(r: &Row<'_>, user: &UserRow) -> rusqlite::Result<Profile> {
    Ok(Profile {
        id: r.get(0)?,
        user_id: user.id,
        username: user.username.clone(),
        role: r.get(1)?,
        org: r.get(2)?,
        team: r.get(3)?,
        org_name: r.get(4)?,
    })
}

impl Store {
    /// A user's live role profiles, oldest first (the first is the default at login).
    pub fn profiles_of(&self, user: &UserRow) -> Result<Vec<Profile>> {
        self.conn()
            .prepare_cached(&format!(
                "{PROFILE} WHERE p.user_id = ?1 AND p.removed_at IS NULL ORDER BY p.id"
            ))
            .and_then(|mut s| s.query_map([user.id], |r| profile_row(r, user))?.collect())
            .doing("reading role profiles")
    }

    /// Self-claims and broken glass of `profile_id` for `person_id` that have not lapsed.
    pub fn grants(&self, profile_id: i64, person_id: i64, now: &str) -> Result<Vec<Grant>> {
        self.conn()
            .prepare_cached(
                "SELECT id, kind, reason_code, reason, expires_at FROM access_grant
                 WHERE profile_id = ?1 AND person_id = ?2 AND ended_at IS NULL AND expires_at > ?3
                 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map(params![profile_id, person_id, now], |r| {
                    Ok(Grant {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        reason_code: r.get(2)?,
                        reason: r.get(3)?,
                        expires_at: r.get(4)?,
                    })
                })?
                .collect()
            })
            .doing("reading access grants")
    }

    /// Whether a person is marked as a test person (view-as shows them without a reason).
    pub fn is_test_person(&self, person_id: i64) -> Result<bool> {
        self.conn()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM test_person WHERE person_id = ?1)")
            .and_then(|mut s| s.query_row([person_id], |r| r.get(0)))
            .doing("reading test persons")
    }

    /// Whether the person objects to sharing: said by a feed, or recorded here and standing.
    pub fn objects_to_sharing(&self, person_id: i64) -> Result<bool> {
        self.conn()
            .prepare_cached(
                "SELECT (SELECT sharing_objection FROM person WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM sharing_objection
                                WHERE person_id = ?1 AND withdrawn_at IS NULL)",
            )
            .and_then(|mut s| s.query_row([person_id], |r| r.get::<_, Option<bool>>(0)))
            .map(|v| v.unwrap_or(false))
            .doing("reading objections")
    }

    pub fn objections(&self, person_id: i64) -> Result<Vec<ObjectionRow>> {
        self.conn()
            .prepare(
                "SELECT id, person_id, reason, objected_on, recorded_by, recorded_at
                 FROM sharing_objection
                 WHERE person_id = ?1 AND withdrawn_at IS NULL ORDER BY id",
            )
            .and_then(|mut s| s.query_map([person_id], objection_row)?.collect())
            .doing("reading objections")
    }

    /// Every standing objection recorded here, newest first.
    pub fn standing_objections(&self, limit: usize) -> Result<Vec<ObjectionRow>> {
        self.conn()
            .prepare(
                "SELECT id, person_id, reason, objected_on, recorded_by, recorded_at
                 FROM sharing_objection WHERE withdrawn_at IS NULL ORDER BY id DESC LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map([super::as_i64(limit)], objection_row)?
                    .collect()
            })
            .doing("reading objections")
    }

    /// Alerts, newest first: open ones only unless `all`.
    pub fn alerts(&self, all: bool, limit: usize) -> Result<Vec<AlertRow>> {
        self.conn()
            .prepare(&format!(
                "{ALERT} WHERE ?1 OR a.closed_at IS NULL ORDER BY a.id DESC LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![all, super::as_i64(limit)], alert)?
                    .collect()
            })
            .doing("reading privacy alerts")
    }

    pub fn alert(&self, alert_id: i64) -> Result<Option<AlertRow>> {
        self.conn()
            .query_row(&format!("{ALERT} WHERE a.id = ?1"), [alert_id], alert)
            .optional()
            .doing("reading a privacy alert")
    }

    /// The name of an organisation we hold a source for, by ODS code.
    pub fn organisation_name(&self, ods_code: &str) -> Result<Option<String>> {
        self.conn()
            .prepare_cached("SELECT name FROM organisation WHERE ods_code = ?1")
            .and_then(|mut s| s.query_row([ods_code], |r| r.get(0)).optional())
            .doing("reading an organisation")
    }

    /// Whether a person row with this id exists (live or merged away).
    pub fn person_exists(&self, person_id: i64) -> Result<bool> {
        self.conn()
            .prepare_cached("SELECT 1 FROM person WHERE id = ?1")
            .and_then(|mut s| s.query_row([person_id], |_| Ok(())).optional())
            .map(|o| o.is_some())
            .doing("reading a person")
    }
}
