//! A person's decisions about who a record is: "same person" (link), "not the same person"
//! (reject) and undoing the latest merge or link into a person (unmerge). The command line
//! (`sharedcare review`, `sharedcare unmerge`) and the review page call these same functions,
//! so a decision means one thing whichever way it was made: the review's state, the link
//! change, the refreshed golden records and the audit events commit in one transaction, or
//! none of them do.
//!
//! Audit details name only ids (review, source record, persons). A reviewer's note may quote
//! the patient, so it stays on the review row and never enters the audit trail.

use crate::audit::Action;
use crate::error::Result;
use crate::model::SourceKind;
use crate::store::{AuditEvent, LinkMove, Store, Tx};

/// Who decided: recorded on the review and on every audit event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decider<'a> {
    pub user_id: Option<i64>,
    /// A user name, or `cli:<login>` from the command line.
    pub name: &'a str,
    pub role: Option<&'a str>,
    pub org: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl Decider<'_> {
    fn audit(
        &self,
        tx: &Tx<'_>,
        action: Action,
        people: &[i64],
        detail: &str,
        now: &str,
    ) -> Result<()> {
        for &person in people {
            tx.audit(
                &AuditEvent {
                    user_id: self.user_id,
                    actor: Some(self.name),
                    role: self.role,
                    org: self.org,
                    person_id: Some(person),
                    detail: Some(detail),
                    outcome: "ok",
                    ip: self.ip,
                    ..AuditEvent::new(action)
                },
                now,
            )?;
        }
        Ok(())
    }
}

/// A "same person" decision carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub review: i64,
    pub source_person_id: i64,
    pub person_id: i64,
    /// The person the record sat with before; emptied persons are retired into `person_id`.
    pub from_person_id: Option<i64>,
}

/// "Same person": moves the review's source record to the candidate person.
pub fn link(
    store: &mut Store,
    precedence: &[SourceKind],
    review: i64,
    by: &Decider<'_>,
    note: Option<&str>,
    now: &str,
) -> Result<Linked> {
    // A candidate merged into another person since the review was queued is that person now.
    let live = match store.review(review)? {
        Some(r) => store.resolve_person(r.candidate_person_id)?,
        None => None,
    };
    let tx = store.begin()?;
    let (sp, queued) = tx.decide_review(review, "linked", by.name, note, now)?;
    let candidate = live.unwrap_or(queued);
    let moved = tx.move_source_person(
        sp,
        candidate,
        "review-link",
        &format!("review {review}"),
        now,
    )?;
    tx.refresh_person(candidate, precedence)?;
    if let Some(from) = moved.from_person_id {
        tx.refresh_person(from, precedence)?;
    }
    let from_text = moved
        .from_person_id
        .map_or_else(|| "no person".to_owned(), |p| format!("person {p}"));
    let people: Vec<i64> = std::iter::once(candidate)
        .chain(moved.from_person_id.filter(|&p| p != candidate))
        .collect();
    by.audit(
        &tx,
        Action::ReviewLink,
        &people,
        &format!(
            "review {review}: source record {sp} moved from {from_text} to person {candidate}"
        ),
        now,
    )?;
    tx.commit()?;
    Ok(Linked {
        review,
        source_person_id: sp,
        person_id: candidate,
        from_person_id: moved.from_person_id,
    })
}

/// "Not the same person": the pair is remembered and never proposed again (the review's
/// unique pair keeps the decision when the record arrives again). Returns (source record,
/// candidate person).
pub fn reject(
    store: &mut Store,
    review: i64,
    by: &Decider<'_>,
    note: Option<&str>,
    now: &str,
) -> Result<(i64, i64)> {
    let current = store.review(review)?.and_then(|r| r.current_person_id);
    let tx = store.begin()?;
    let (sp, candidate) = tx.decide_review(review, "rejected", by.name, note, now)?;
    let people: Vec<i64> = std::iter::once(candidate)
        .chain(current.filter(|&p| p != candidate))
        .collect();
    by.audit(
        &tx,
        Action::ReviewReject,
        &people,
        &format!("review {review}: source record {sp} is not person {candidate}"),
        now,
    )?;
    tx.commit()?;
    Ok((sp, candidate))
}

/// Undoes the latest merge or link into `person`, exactly (see `Tx::unmerge`), and refreshes
/// every person it touched. What it will do can be shown first with `Store::unmerge_preview`.
pub fn unmerge(
    store: &mut Store,
    precedence: &[SourceKind],
    person: i64,
    by: &Decider<'_>,
    now: &str,
) -> Result<Vec<LinkMove>> {
    let undone = store
        .unmerge_preview(person)?
        .map(|p| match p.detail {
            Some(d) => format!("{} ({d})", p.kind),
            None => p.kind,
        })
        .unwrap_or_default();
    let tx = store.begin()?;
    let (moves, touched) = tx.unmerge(person, now)?;
    for p in &touched {
        tx.refresh_person(*p, precedence)?;
    }
    let moved: Vec<String> = moves
        .iter()
        .map(|m| {
            let to = m
                .to_person_id
                .map_or_else(|| "no person".to_owned(), |p| format!("person {p}"));
            format!("source record {} to {to}", m.source_person_id)
        })
        .collect();
    by.audit(
        &tx,
        Action::Unmerge,
        &touched,
        &format!(
            "unmerge of person {person}: undid {undone}; moved {}",
            moved.join(", ")
        ),
        now,
    )?;
    tx.commit()?;
    Ok(moves)
}
