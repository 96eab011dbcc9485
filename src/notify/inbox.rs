//! Inboxes: an organisation's (every profile at that organisation reads it; a team shares its
//! organisation's, since a feed speaks for an organisation) and the privacy officer's (every
//! profile whose role may review privacy alerts). Whoever asks sees and marks only the inboxes
//! their profile reads; the store's queries take that list, so another inbox's notification is
//! neither listed nor marked, whatever id is sent.

use super::PRIVACY_OFFICER;
use crate::access::Profile;
use crate::error::Result;
use crate::store::{NotificationRow, Store};
use chrono::{DateTime, SecondsFormat, Utc};

/// The inboxes `profile` reads; `reviews_alerts` when its role may review privacy alerts.
pub fn inboxes_of(profile: &Profile, reviews_alerts: bool) -> Vec<String> {
    let mut inboxes = vec![format!("org:{}", profile.org.trim().to_ascii_uppercase())];
    if reviews_alerts {
        inboxes.push(PRIVACY_OFFICER.to_owned());
    }
    inboxes
}

/// Notifications at most on one page.
pub const PAGE: usize = 200;

/// The inboxes' notifications, newest first: unread ones, or all when `all`.
pub fn list(store: &Store, inboxes: &[String], all: bool) -> Result<Vec<NotificationRow>> {
    store.notifications(inboxes, all, PAGE)
}

/// Marks one notification read (`Some(id)`) or all of them; returns how many changed.
pub fn mark_read(
    store: &mut Store,
    inboxes: &[String],
    id: Option<i64>,
    by: &Profile,
    now: DateTime<Utc>,
) -> Result<usize> {
    let now = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let by = by.label();
    let tx = store.begin()?;
    let changed = match id {
        Some(id) => usize::from(tx.mark_notification_read(id, inboxes, &by, &now)?),
        None => tx.mark_all_notifications_read(inboxes, &by, &now)?,
    };
    tx.commit()?;
    Ok(changed)
}
