//! What a citizen sees of their own record: the `[citizen]` table of the policy file, and the
//! gate's reading of a record for its own person.
//!
//! A citizen sees every category of their record except those the policy withholds
//! (safeguarding alerts by default: telling the person can put someone at risk), never an
//! entry its source marked as not for the patient's view, and a new entry of a category with a
//! delay only once that delay has passed since it arrived (so a result can be explained by a
//! clinician first). Sensitive entries and the person's own address are theirs to see. No
//! care relationship is involved: the only record a citizen's session can open is its own
//! person's, which the session itself names.

use super::gate::Gate;
use super::policy::{Activity, RoleDef};
use super::{Profile, Visible};
use crate::error::{Error, Result};
use crate::model::Category;
use crate::record::PersonRecord;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The `[citizen]` table of the policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitizenPolicy {
    /// Categories a citizen never sees in their own record.
    pub withheld: BTreeSet<Category>,
    /// Hours after arrival before a new entry of a category is shown to the citizen.
    pub delay_hours: BTreeMap<Category, i64>,
    /// Whether "who has looked at my record" names the staff (else role and organisation).
    pub show_staff_names: bool,
    /// The role whose users at an item's organisation handle citizens' error reports.
    pub error_reports_role: String,
}

impl Default for CitizenPolicy {
    fn default() -> Self {
        Self {
            withheld: [Category::Safeguarding].into_iter().collect(),
            delay_hours: BTreeMap::new(),
            show_staff_names: false,
            error_reports_role: "admin".into(),
        }
    }
}

impl CitizenPolicy {
    pub fn check(&self, origin: &str) -> Result<()> {
        if let Some((c, h)) = self.delay_hours.iter().find(|(_, h)| **h < 0) {
            return Err(Error::Invalid(format!(
                "{origin}: [citizen] delay_hours for {c} is {h}: a delay cannot be negative"
            )));
        }
        Ok(())
    }

    /// The categories a citizen sees.
    pub fn categories(&self) -> BTreeSet<Category> {
        Category::ALL
            .into_iter()
            .filter(|c| !self.withheld.contains(c))
            .collect()
    }
}

/// How many items of a citizen's record were held back, and why.
#[derive(Debug, Clone, Default)]
pub struct CitizenHeld {
    /// New entries not shown yet; the earliest time one will be.
    pub delayed: usize,
    pub next_release: Option<DateTime<Utc>>,
}

impl Gate {
    /// Person `record` as their own citizen session sees it. The caller has established the
    /// session is this person's (see `web::citizen::guard`).
    pub fn open_for_citizen(
        &self,
        record: PersonRecord,
        now: DateTime<Utc>,
    ) -> (Visible, CitizenHeld) {
        let policy = &self.policy.citizen;
        let me = Profile {
            id: 0,
            user_id: 0,
            username: "citizen".into(),
            role: "citizen".into(),
            org: String::new(),
            org_name: None,
            team: None,
        };
        let role = RoleDef {
            name: "citizen".into(),
            label: "Citizen (their own record)".into(),
            activities: [Activity::ViewRecord, Activity::ViewSensitive].into(),
            categories: policy.categories(),
        };
        let mut visible = self.filter(&me, &role, record, Vec::new(), false, true, true);
        let mut held = CitizenHeld::default();
        visible.record.entries.retain(|e| {
            if e.entry.not_for_patient {
                return false;
            }
            let Some(hours) = policy.delay_hours.get(&e.entry.category) else {
                return true;
            };
            let arrived = DateTime::parse_from_rfc3339(&e.provenance.received_at)
                .map(|t| t.with_timezone(&Utc));
            // An arrival time that cannot be read is held back: fail closed.
            let release = arrived.ok().map(|t| t + Duration::hours(*hours));
            match release {
                Some(at) if at <= now => true,
                other => {
                    held.delayed += 1;
                    held.next_release = match (held.next_release, other) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    false
                }
            }
        });
        // The citizen's own view says nothing of sensitivity or objections: all theirs.
        visible.withheld = Default::default();
        (visible, held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Policy;

    #[test]
    fn the_shipped_citizen_policy_withholds_safeguarding_delays_nothing_and_names_no_one() {
        let p = Policy::shipped().unwrap().citizen;
        assert_eq!(p, CitizenPolicy::default());
        assert!(!p.categories().contains(&Category::Safeguarding));
        assert_eq!(p.categories().len(), Category::ALL.len() - 1);
        assert!(p.delay_hours.is_empty() && !p.show_staff_names);
        assert!(Policy::shipped()
            .unwrap()
            .allows("admin", Activity::InviteCitizens));
        assert!(!Policy::shipped()
            .unwrap()
            .allows("clinician", Activity::InviteCitizens));
    }

    #[test]
    fn a_policy_file_sets_delays_and_a_negative_delay_is_refused() {
        let roles = "[roles.nurse]\nlabel='x'\nactivities=[]\ncategories=[]\n";
        let p = Policy::parse(
            &format!("{roles}[citizen]\nwithheld=[]\ndelay_hours={{ result = 48 }}\n"),
            "p",
        )
        .unwrap();
        assert_eq!(p.citizen.delay_hours.get(&Category::Result), Some(&48));
        assert!(p.citizen.withheld.is_empty());
        let e = Policy::parse(
            &format!("{roles}[citizen]\ndelay_hours={{ result = -1 }}\n"),
            "p",
        )
        .unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
        let e =
            Policy::parse(&format!("{roles}[citizen]\nwithheld=['gossip']\n"), "p").unwrap_err();
        assert!(e.to_string().contains("gossip"), "{e}");
    }
}
