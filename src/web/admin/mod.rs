//! The administrator's pages under `/admin`.
//!
//! Feeds: the health of every source, each source's files and rejected units, the raw content
//! of what did not import, and the decisions on it (replay, discard with a note), plus creating
//! and editing sources. Only a role with `manage-sources` may use them
//! ([`Admin`](crate::web::guards::Admin) guard). An administrator has no access to patient
//! records, but rejected and quarantined feed data is patient data in raw form: it is shown
//! here because fixing feeds is the administrator's job, and every view of raw content is an
//! audit event (`feed-raw-view`, detail naming the file or unit, never a person). Every
//! decision is audited too (`feed-replay`, `feed-discard`, `feed-source-save`).
//!
//! Users: users with their role profiles and live sessions; creating a user, adding and
//! removing role profiles, resetting a password, disabling, ending sessions — what
//! `sharedcare user …` does, checked by the same rules ([`crate::access::users`]). Only a role
//! with `manage-users` may use them ([`UserAdmin`](crate::web::guards::UserAdmin) guard). Each
//! change is audited with the administrator as actor and the user changed in the detail,
//! never a password (`user-add`, `user-add-role`, `user-remove-role`, `user-passwd`,
//! `user-disable`, `session-end`).
//!
//! Each POST checks the session's CSRF token.

mod feeds;
mod items;
mod sources;
mod user;
pub(crate) mod users;

use crate::web::guards::Session;
use crate::web::pages::ErrorPage;
use crate::web::{ServerError, Web};
use rocket::http::Status;
use rocket::Route;

pub fn routes() -> Vec<Route> {
    let mut all = feeds::routes();
    all.extend(items::routes());
    all.extend(sources::routes());
    all.extend(users::routes());
    all.extend(user::routes());
    all
}

/// Raw content shown on a page at most; the rest is left out with a note.
pub const RAW_CAP: usize = 64 * 1024;

/// Writes one audit event about feed data (no person) in its own committed transaction, before
/// the page that depends on it is sent.
pub fn audit(
    session: &mut Session,
    web: &Web,
    action: crate::audit::Action,
    detail: &str,
    outcome: &str,
) -> Result<(), ServerError> {
    Ok(session.audit(web, action, None, detail, outcome)?)
}

/// A use case's message (lower case, no full stop: it reads in a terminal too) as a sentence
/// for a page.
pub fn sentence(why: &str) -> String {
    let mut chars = why.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    let mut text = first.unwrap_or_default() + chars.as_str();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// The refusal for a form posted without this session's token.
pub fn csrf_refused() -> ErrorPage {
    ErrorPage::new(
        Status::Forbidden,
        "The form had expired or did not come from this site. Go back, reload the page and try again.",
    )
}

/// Checks a posted token; true when the form may be acted on.
pub fn csrf_ok(session: &Session, token: Option<&str>) -> bool {
    token.is_some_and(|t| session.csrf_ok(t))
}

/// Bytes as text for a `<pre>`: UTF-8, or Windows-1252 as older systems send; HL7 segment
/// separators (CR) become line breaks.
pub fn show_raw(bytes: &[u8]) -> String {
    crate::ingest::decode_text(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

/// Why an id in a path is no use: the page does not exist.
pub fn parse_id(id: &str) -> Option<i64> {
    id.parse().ok().filter(|n: &i64| *n > 0)
}

/// A text for the overdue status, so colour is never the only sign.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "green" => "On time",
        "amber" => "Late",
        "red" => "Overdue",
        _ => "No cadence set",
    }
}
