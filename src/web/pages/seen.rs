//! The audit trail of what a user saw. A page that shows patient data calls [`record`] before
//! it renders: the events are committed first, and a failure to write them fails the request.

use crate::store::AuditEvent;
use crate::web::guards::Session;
use crate::web::{ServerError, Web};

/// Writes one `action` event per person, in one transaction. `detail` must not hold patient
/// data (say what kind of thing was asked, never the words typed).
pub fn record(
    session: &mut Session,
    web: &Web,
    action: &str,
    people: &[i64],
    detail: Option<&str>,
) -> Result<(), ServerError> {
    if people.is_empty() {
        return Ok(());
    }
    let now = web.clock.now_text();
    let user_id = session.row.user.id;
    let actor = session.row.user.username.clone();
    let org = session.row.user.org.clone();
    let role = session.role.as_str();
    let ip = session.ip.clone();
    let tx = session.store_mut().begin()?;
    for &person in people {
        tx.audit(
            &AuditEvent {
                user_id: Some(user_id),
                actor: Some(&actor),
                role: Some(role),
                org: Some(&org),
                action,
                person_id: Some(person),
                detail,
                outcome: "ok",
                ip: ip.as_deref(),
            },
            &now,
        )?;
    }
    tx.commit()?;
    Ok(())
}
