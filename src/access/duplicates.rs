//! Possible duplicates waiting for review, as a reader may see them.
//!
//! A person with an open match review (a possible match the matcher would not link on its
//! own) may be the same person as another record: a clinician reading either must be told, or
//! an allergy or a DNACPR on the other record goes unseen. What the note shows of the other
//! person follows the access rules for them: a reader who may open the other person's record
//! (a care relationship, and a role that may search and view) is told who they are (name, date
//! of birth, NHS number, with an objection or S-flag applied as on a search row); any other
//! reader is told only that a possible duplicate is waiting for review.

use super::gate::{identity_only, Gate, HitLevel};
use super::profile::Profile;
use crate::error::Result;
use crate::model::Demographics;
use crate::store::Store;
use chrono::{DateTime, Utc};

/// One possible duplicate of the person being read.
#[derive(Debug, Clone, PartialEq)]
pub struct PossibleDuplicate {
    /// The other person and their identity (name, date of birth, NHS number), when the reader
    /// may be shown who they are; `None` says only that there is one.
    pub shown: Option<(i64, Demographics)>,
}

impl Gate {
    /// The possible duplicates of `person_id` waiting for review, each as `who` may see it.
    pub fn possible_duplicates(
        &self,
        store: &Store,
        who: &Profile,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<PossibleDuplicate>> {
        let mut out = Vec::new();
        for other in store.possible_duplicates(person_id)? {
            let related = self.related(store, who, other, now)?;
            // Who the other person is, only for a reader who may open their record.
            let shown = match self.hit(who, related, false) {
                Some(HitLevel::Full) => match store.search_people(&[other])?.into_iter().next() {
                    None => None,
                    Some(p) => {
                        let listed =
                            self.listed_hit(store, who, other, &p.demographics, HitLevel::Full)?;
                        Some((other, identity_only(&listed.demographics)))
                    }
                },
                Some(HitLevel::Identity) | None => None,
            };
            out.push(PossibleDuplicate { shown });
        }
        Ok(out)
    }
}
