//! Notifications: who to tell (organisations found from the feeds that know a person), the
//! inboxes, and the e-mail outbox. The rules themselves live in `notify`.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

/// Entry statuses that mean "no longer open" (any case).
const CLOSED: &str = "('closed', 'completed', 'complete', 'finished', 'ended', 'discharged', \
                      'cancelled', 'inactive', 'resolved', 'entered-in-error', 'withdrawn', \
                      'revoked')";

/// One notification to record.
pub struct NewNotification<'a> {
    pub rule: &'a str,
    pub event_key: &'a str,
    pub event: &'a str,
    pub recipient: &'a str,
    pub person_id: Option<i64>,
    pub source_id: Option<i64>,
    pub reference: Option<&'a str>,
}

/// A notification as an inbox lists it. It names no one: the person is opened through the
/// access gate like any other.
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub rule: String,
    pub event: String,
    pub person_id: Option<i64>,
    pub source: Option<String>,
    pub reference: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
    pub read_by: Option<String>,
}

/// An e-mail waiting in the outbox.
#[derive(Clone)]
pub struct MailRow {
    pub id: i64,
    pub recipient: String,
    pub address: String,
    pub count: i64,
    pub attempts: i64,
}

fn placeholders(n: usize, from: usize) -> String {
    (0..n)
        .map(|i| format!("?{}", i + from))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tx<'_> {
    /// Records a notification unless this rule already told this recipient of this event;
    /// returns whether it was new.
    pub fn add_notification(&self, n: &NewNotification<'_>, now: &str) -> Result<bool> {
        let added = self
            .conn()
            .prepare_cached(
                "INSERT INTO notification (rule, event_key, event, recipient, person_id, source_id,
                                           reference, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (event_key, rule, recipient) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    n.rule,
                    n.event_key,
                    n.event,
                    n.recipient,
                    n.person_id,
                    n.source_id,
                    n.reference,
                    now
                ])
            })
            .doing("recording a notification")?;
        Ok(added > 0)
    }

    /// The person a source's local id is linked to now.
    pub fn person_of_source_person(&self, source_person_id: i64) -> Result<Option<i64>> {
        self.conn()
            .prepare_cached("SELECT person_id FROM source_person WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([source_person_id], |r| r.get::<_, Option<i64>>(0))
                    .optional()
            })
            .map(Option::flatten)
            .doing("finding whom a notification is about")
    }

    /// ODS codes of the organisations whose feeds of the given kinds hold an open entry of
    /// one of `categories` about the person (any category when empty), or of social-care kind
    /// `social_care_kinds` when given.
    pub fn organisations_holding(
        &self,
        person_id: i64,
        source_kinds: &[&str],
        categories: &[&str],
        social_care_kinds: &[&str],
        today: &str,
    ) -> Result<Vec<String>> {
        organisations_holding(
            self.conn(),
            person_id,
            source_kinds,
            categories,
            social_care_kinds,
            today,
        )
    }

    /// ODS codes of the organisations whose feeds of the given kinds (any when empty) know the
    /// person at all.
    pub fn organisations_knowing(
        &self,
        person_id: i64,
        source_kinds: &[&str],
    ) -> Result<Vec<String>> {
        let kinds = match source_kinds.is_empty() {
            true => String::new(),
            false => format!("AND s.kind IN ({})", placeholders(source_kinds.len(), 2)),
        };
        let sql = format!(
            "SELECT DISTINCT o.ods_code FROM source_person sp
               JOIN source s ON s.id = sp.source_id
               JOIN organisation o ON o.id = s.organisation_id
             WHERE sp.person_id = ?1 {kinds} ORDER BY o.ods_code"
        );
        let mut values: Vec<rusqlite::types::Value> = vec![person_id.into()];
        values.extend(source_kinds.iter().map(|k| (*k).to_owned().into()));
        self.conn()
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(values), |r| r.get(0))?
                    .collect()
            })
            .doing("finding whom to notify")
    }

    /// The ODS code of a source's organisation.
    pub fn source_organisation(&self, source_id: i64) -> Result<Option<String>> {
        self.conn()
            .prepare_cached(
                "SELECT o.ods_code FROM source s JOIN organisation o ON o.id = s.organisation_id
                 WHERE s.id = ?1",
            )
            .and_then(|mut s| s.query_row([source_id], |r| r.get(0)).optional())
            .doing("finding a source's organisation")
    }

    /// Marks one notification read, if it is in one of `recipients`' inboxes and unread.
    pub fn mark_notification_read(
        &self,
        id: i64,
        recipients: &[String],
        by: &str,
        now: &str,
    ) -> Result<bool> {
        if recipients.is_empty() {
            return Ok(false);
        }
        let sql = format!(
            "UPDATE notification SET read_at = ?2, read_by = ?3
             WHERE id = ?1 AND read_at IS NULL AND recipient IN ({})",
            placeholders(recipients.len(), 4)
        );
        let mut values: Vec<rusqlite::types::Value> =
            vec![id.into(), now.to_owned().into(), by.to_owned().into()];
        values.extend(recipients.iter().map(|r| r.clone().into()));
        let n = self
            .conn()
            .execute(&sql, params_from_iter(values))
            .doing("marking a notification read")?;
        Ok(n > 0)
    }

    /// Marks every unread notification in `recipients`' inboxes read; returns how many.
    pub fn mark_all_notifications_read(
        &self,
        recipients: &[String],
        by: &str,
        now: &str,
    ) -> Result<usize> {
        if recipients.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE notification SET read_at = ?1, read_by = ?2
             WHERE read_at IS NULL AND recipient IN ({})",
            placeholders(recipients.len(), 3)
        );
        let mut values: Vec<rusqlite::types::Value> =
            vec![now.to_owned().into(), by.to_owned().into()];
        values.extend(recipients.iter().map(|r| r.clone().into()));
        self.conn()
            .execute(&sql, params_from_iter(values))
            .doing("marking notifications read")
    }

    /// Puts one e-mail for `recipient` in the outbox covering every notification of theirs
    /// not yet announced; returns it, or `None` when there is nothing new.
    pub fn queue_mail(&self, recipient: &str, address: &str, now: &str) -> Result<Option<i64>> {
        let count: i64 = self
            .conn()
            .query_row(
                "SELECT count(*) FROM notification WHERE recipient = ?1 AND mail_id IS NULL",
                [recipient],
                |r| r.get(0),
            )
            .doing("counting notifications to announce")?;
        if count == 0 {
            return Ok(None);
        }
        self.conn()
            .execute(
                "INSERT INTO notification_mail (recipient, address, count, created_at, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![recipient, address, count, now],
            )
            .doing("queueing a notification e-mail")?;
        let id = self.conn().last_insert_rowid();
        self.conn()
            .execute(
                "UPDATE notification SET mail_id = ?2 WHERE recipient = ?1 AND mail_id IS NULL",
                params![recipient, id],
            )
            .doing("queueing a notification e-mail")?;
        Ok(Some(id))
    }

    /// The relay accepted e-mail `id`.
    pub fn mail_sent(&self, id: i64, now: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE notification_mail SET sent_at = ?2, attempts = attempts + 1,
                    last_error = NULL WHERE id = ?1",
                params![id, now],
            )
            .doing("marking a notification e-mail sent")?;
        Ok(())
    }

    /// Sending e-mail `id` failed; it is tried again at `next_at`.
    pub fn mail_failed(&self, id: i64, error: &str, next_at: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE notification_mail SET attempts = attempts + 1, last_error = ?2,
                    next_attempt_at = ?3 WHERE id = ?1",
                params![id, error, next_at],
            )
            .doing("recording a failed notification e-mail")?;
        Ok(())
    }
}

fn organisations_holding(
    conn: &Connection,
    person_id: i64,
    source_kinds: &[&str],
    categories: &[&str],
    social_care_kinds: &[&str],
    today: &str,
) -> Result<Vec<String>> {
    let mut values: Vec<rusqlite::types::Value> = vec![person_id.into(), today.to_owned().into()];
    let mut filter = String::new();
    for (column, list) in [
        ("s.kind", source_kinds),
        ("e.category", categories),
        (
            "json_extract(unpacked(e.body), '$.kind')",
            social_care_kinds,
        ),
    ] {
        if !list.is_empty() {
            filter.push_str(&format!(
                " AND {column} IN ({})",
                placeholders(list.len(), values.len() + 1)
            ));
            values.extend(list.iter().map(|v| (*v).to_owned().into()));
        }
    }
    let sql = format!(
        "SELECT DISTINCT o.ods_code FROM source_person sp
           JOIN entry e ON e.source_person_id = sp.id
           JOIN source s ON s.id = e.source_id
           JOIN organisation o ON o.id = s.organisation_id
         WHERE sp.person_id = ?1
           AND (e.end_at IS NULL OR substr(e.end_at, 1, 10) >= ?2)
           AND lower(coalesce(e.status, '')) NOT IN {CLOSED}
           {filter}
         ORDER BY o.ods_code"
    );
    conn.prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(values), |r| r.get(0))?
                .collect()
        })
        .doing("finding whom to notify")
}

impl Store {
    /// When the latest notification to inbox `recipient` about `person_id` raised after
    /// `since` was raised; `None` when there is none.
    pub fn latest_notification_to(
        &self,
        recipient: &str,
        person_id: i64,
        since: &str,
    ) -> Result<Option<String>> {
        self.conn()
            .prepare_cached(
                "SELECT max(created_at) FROM notification
                 WHERE recipient = ?1 AND person_id = ?2 AND created_at > ?3",
            )
            .and_then(|mut s| s.query_row(params![recipient, person_id, since], |r| r.get(0)))
            .doing("reading the notifications about a person")
    }

    /// Unread notifications in `recipients`' inboxes.
    pub fn unread_notifications(&self, recipients: &[String]) -> Result<i64> {
        if recipients.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT count(*) FROM notification WHERE read_at IS NULL AND recipient IN ({})",
            placeholders(recipients.len(), 1)
        );
        self.conn()
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params_from_iter(recipients), |r| r.get(0)))
            .doing("counting unread notifications")
    }

    /// `recipients`' notifications, newest first, at most `limit`; unread only unless `all`.
    pub fn notifications(
        &self,
        recipients: &[String],
        all: bool,
        limit: usize,
    ) -> Result<Vec<NotificationRow>> {
        if recipients.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT n.id, n.rule, n.event, n.person_id, s.name, n.reference, n.created_at,
                    n.read_at, n.read_by
             FROM notification n LEFT JOIN source s ON s.id = n.source_id
             WHERE n.recipient IN ({}) {}
             ORDER BY n.id DESC LIMIT {limit}",
            placeholders(recipients.len(), 1),
            if all { "" } else { "AND n.read_at IS NULL" }
        );
        self.conn()
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(recipients), |r| {
                    Ok(NotificationRow {
                        id: r.get(0)?,
                        rule: r.get(1)?,
                        event: r.get(2)?,
                        person_id: r.get(3)?,
                        source: r.get(4)?,
                        reference: r.get(5)?,
                        created_at: r.get(6)?,
                        read_at: r.get(7)?,
                        read_by: r.get(8)?,
                    })
                })?
                .collect()
            })
            .doing("reading notifications")
    }

    /// Recipients with notifications not yet announced by e-mail.
    pub fn unannounced_recipients(&self) -> Result<Vec<String>> {
        self.conn()
            .prepare_cached(
                "SELECT DISTINCT recipient FROM notification WHERE mail_id IS NULL ORDER BY 1",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .doing("finding notifications to announce")
    }

    /// E-mails in the outbox not yet sent and due by `now`, oldest first.
    pub fn due_mail(&self, now: &str) -> Result<Vec<MailRow>> {
        self.conn()
            .prepare_cached(
                "SELECT id, recipient, address, count, attempts FROM notification_mail
                 WHERE sent_at IS NULL AND next_attempt_at <= ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([now], |r| {
                    Ok(MailRow {
                        id: r.get(0)?,
                        recipient: r.get(1)?,
                        address: r.get(2)?,
                        count: r.get(3)?,
                        attempts: r.get(4)?,
                    })
                })?
                .collect()
            })
            .doing("reading the notification outbox")
    }
}
