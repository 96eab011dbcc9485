//! The audit trail of what a user saw. A page that shows patient data calls [`record`] before
//! it renders: the events are committed first, and a failure to write them fails the request.

use crate::store::Actor;
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
    reason: Option<&str>,
) -> Result<(), ServerError> {
    let (username, role, org, ip, profile) = (
        session.row.user.username.clone(),
        session.profile.role.clone(),
        session.profile.org.clone(),
        session.ip.clone(),
        session.profile.label(),
    );
    let actor = Actor {
        user_id: session.row.user.id,
        username: &username,
        role: &role,
        profile: Some(&profile),
        reason,
        org: &org,
        ip: ip.as_deref(),
    };
    session
        .store_mut()
        .audit_seen(&actor, action, people, detail, &web.clock.now_text())?;
    Ok(())
}
