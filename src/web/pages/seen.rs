//! The audit trail of what a user saw. A page that shows patient data calls [`record`] before
//! it renders: the events are committed first, and a failure to write them fails the request.

use crate::audit::Action;
use crate::web::guards::Session;
use crate::web::{ServerError, Web};

/// Writes one `action` event per person, in one transaction. `detail` must not hold patient
/// data (say what kind of thing was asked, never the words typed).
pub fn record(
    session: &mut Session,
    web: &Web,
    action: Action,
    people: &[i64],
    detail: Option<&str>,
    reason: Option<&str>,
) -> Result<(), ServerError> {
    let actor = session.actor();
    session.store_mut().audit_seen(
        &actor,
        action,
        people,
        detail,
        reason,
        &web.clock.now_text(),
    )?;
    Ok(())
}
