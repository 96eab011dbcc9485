//! The "possible duplicate, waiting for review" notes on the record banner and in search rows.
//! What each note shows of the other person is the access gate's to say; showing who they are
//! is audited like a search row (`search-hit`, detail `possible-duplicate`).

use super::seen;
use crate::audit::Action;
use crate::record::view::Duplicate;
use crate::web::guards::Session;
use crate::web::{ServerError, Web};

/// The notes for one person, and the other people they name.
pub fn notes(
    session: &Session,
    web: &Web,
    person_id: i64,
) -> Result<(Vec<Duplicate>, Vec<i64>), ServerError> {
    let found = web.gate.possible_duplicates(
        session.store(),
        &session.profile,
        person_id,
        web.clock.now(),
    )?;
    let named = found
        .iter()
        .filter_map(|d| d.shown.as_ref().map(|s| s.0))
        .collect();
    let notes = found
        .iter()
        .map(|d| Duplicate::of(d.shown.as_ref().map(|(id, who)| (*id, who))))
        .collect();
    Ok((notes, named))
}

/// Records that the notes named these people, before the page that shows them is sent.
pub fn audit_named(session: &mut Session, web: &Web, named: &[i64]) -> Result<(), ServerError> {
    if named.is_empty() {
        return Ok(());
    }
    seen::record(
        session,
        web,
        Action::SearchHit,
        named,
        Some("possible-duplicate"),
        None,
    )
}
