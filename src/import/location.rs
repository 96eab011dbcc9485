//! Location events that need what was stored before: a stay corrected (A08) and the cancels
//! (A11 admission, A12 transfer, A13 discharge), which put back the location the cancelled
//! event replaced.
//!
//! The location entry's history holds every location the source reported, in order; each
//! carries the visit it belongs to. A cancel only ever undoes the event it names: when the
//! current location is not what that event set (another visit, or the event never arrived), it
//! changes nothing, rather than guess.

use crate::error::Result;
use crate::ingest::{LocationEvent, LocationEventKind};
use crate::model::entry::Location;
use crate::model::{EntryBody, EntryDraft};
use crate::store::{EntryOrigin, EntryWrite, Tx};

/// Resolves the event against the stored versions and writes the result, if any.
pub(super) fn apply(
    tx: &Tx<'_>,
    origin: &EntryOrigin<'_>,
    event: &LocationEvent,
) -> Result<Option<EntryWrite>> {
    let versions = tx.entry_versions(origin.source_id, &event.source_ref)?;
    match resolve(event, &versions) {
        Some(draft) => Ok(Some(tx.write_entry(&draft, origin)?)),
        None => Ok(None),
    }
}

/// What the location becomes, given its versions (oldest first, current last); `None` leaves
/// it as it is.
pub fn resolve(event: &LocationEvent, versions: &[EntryDraft]) -> Option<EntryDraft> {
    let located: Vec<(&EntryDraft, &Location)> = versions
        .iter()
        .filter_map(|d| match &d.body {
            EntryBody::Location(l) => Some((d, l)),
            _ => None,
        })
        .collect();
    let ours = |l: &Location| match (&l.visit, &event.visit) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let live = |(d, l): &(&EntryDraft, &Location)| {
        l.kind.in_hospital() && ours(l) && d.status.as_deref() != Some("cancelled")
    };
    let Some(current) = located.last() else {
        // Nothing stored: only what the message itself says can be shown.
        return match event.kind {
            LocationEventKind::CancelAdmission => None,
            _ => event.stated.clone(),
        };
    };
    let earlier = located.get(..located.len() - 1).unwrap_or_default();
    match event.kind {
        // The same stay, corrected: it began when it began.
        LocationEventKind::UpdateStay => live(current)
            .then(|| event.stated.clone())
            .flatten()
            .filter(|stated| stated.body != current.0.body)
            .map(|mut stated| {
                stated.start = current.0.start.clone();
                stated
            }),
        LocationEventKind::CancelTransfer => {
            if !live(current) {
                return None;
            }
            match earlier.last() {
                Some(before) if live(before) => Some(restored(before.0, event)),
                _ => event.stated.clone(),
            }
        }
        LocationEventKind::CancelDischarge => {
            if live(current) || !ours(current.1) {
                return None;
            }
            match earlier.iter().rev().find(|v| v.1.kind.in_hospital()) {
                Some(before) if live(before) => Some(restored(before.0, event)),
                _ => event.stated.clone(),
            }
        }
        LocationEventKind::CancelAdmission => {
            if !live(current) {
                return None;
            }
            // Back past every location of this visit (or, with no visit numbers, of this
            // stay) to where the person was before it.
            let of_visit = |l: &Location| event.visit.is_some() && l.visit == event.visit;
            let before = if located.iter().any(|v| of_visit(v.1)) {
                located.iter().rev().find(|v| !of_visit(v.1))
            } else {
                let began = located.iter().rposition(|v| !live(v)).map_or(0, |i| i + 1);
                began.checked_sub(1).and_then(|i| located.get(i))
            };
            match before {
                Some(before) if before.0.status.as_deref() != Some("cancelled") => {
                    Some(restored(before.0, event))
                }
                // Nothing before the stay: this source no longer says where the person is.
                _ => {
                    let mut gone = current.0.clone();
                    gone.status = Some("cancelled".to_owned());
                    gone.recorded_at = event.recorded_at.clone();
                    Some(gone)
                }
            }
        }
    }
}

/// An earlier version made current again: the same place since the same time.
fn restored(before: &EntryDraft, event: &LocationEvent) -> EntryDraft {
    let mut draft = before.clone();
    draft.status = Some("active".to_owned());
    draft.recorded_at = event.recorded_at.clone().or(draft.recorded_at);
    draft
}
