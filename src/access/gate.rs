//! The one place that decides what a profile sees of a person. Every reader — pages, the FHIR
//! API, search results, exports, the CLI — gets a person's record through [`Gate::open`] (or a
//! search hit through [`Gate::hit`]), never from the store directly.

use super::policy::{Activity, Policy, RoleDef};
use super::relationship::{self, Basis, Relationship};
use super::sensitive::SensitiveCodes;
use super::Profile;
use crate::config::AccessConfig;
use crate::model::{Category, Demographics, EntryBody};
use crate::record::PersonRecord;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// The kind of the grant a notification stands for (see [`Gate::notification_grant`]).
pub const NOTIFICATION_GRANT: &str = "notification";

/// A self-claim or broken glass in force for one profile and person.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub id: i64,
    /// `self-claim`, `break-glass`, or `notification` (a notification to the organisation,
    /// where the access settings make it a reason: see [`Gate::notification_grant`]).
    pub kind: String,
    pub reason_code: String,
    pub reason: String,
    pub expires_at: String,
}

/// What the record holds about access, besides its data.
#[derive(Debug, Clone, Default)]
pub struct Restrictions {
    /// The person objects to sharing: each organisation sees what it supplied, nothing else.
    pub objection: bool,
}

/// What was kept back from a reader, so a page can say so.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Withheld {
    /// Sensitive entries the reader did not ask (or may not ask) to see.
    pub sensitive: usize,
    /// Whether the reader's role may ask to see them, with a reason.
    pub may_ask: bool,
    /// Entries from other organisations, hidden by the person's objection.
    pub by_objection: usize,
    /// Address, phone and location withheld: the person is S-flagged.
    pub restricted: bool,
}

/// A record as one profile may see it.
#[derive(Debug, Clone)]
pub struct Visible {
    pub record: PersonRecord,
    /// The categories the role sees; sections outside it are not shown at all.
    pub categories: BTreeSet<Category>,
    pub relationships: Vec<Relationship>,
    pub withheld: Withheld,
    pub objection: bool,
}

impl Visible {
    pub fn by_break_glass(&self) -> bool {
        self.relationships
            .iter()
            .all(|r| r.basis == Basis::BreakGlass)
    }
}

/// The outcome of asking to open a record. `NoAccess` is the same whether the person exists
/// or not, so a profile without a relationship learns nothing by trying ids.
#[derive(Debug, Clone)]
pub enum Opened {
    Record(Box<Visible>),
    NoAccess {
        may_claim: bool,
        may_break_glass: bool,
    },
}

/// How a search hit may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitLevel {
    /// Every column, with address details withheld for an S-flagged person.
    Full,
    /// Name, date of birth and NHS number only: no care relationship yet.
    Identity,
}

pub struct Gate {
    pub policy: Policy,
    pub sensitive: SensitiveCodes,
    pub config: AccessConfig,
    /// The notification rules a privacy alert raised here runs (see `notify`).
    pub notifications: std::sync::Arc<crate::notify::Rules>,
}

impl Gate {
    pub fn new(config: &AccessConfig) -> crate::error::Result<Self> {
        Ok(Self {
            policy: Policy::load(config.policy.as_deref())?,
            sensitive: SensitiveCodes::load(config.sensitive_codes.as_deref())?,
            config: config.clone(),
            notifications: std::sync::Arc::new(crate::notify::Rules::shipped()?),
        })
    }

    /// The gate with the notification rules in force (the config's, not the shipped ones).
    pub fn with_notifications(mut self, rules: std::sync::Arc<crate::notify::Rules>) -> Self {
        self.notifications = rules;
        self
    }

    /// A fingerprint of the policy and sensitive-code list in force, so that a change between
    /// runs is noticed and audited.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let text = format!(
            "{}\n{:?}",
            serde_json::to_string(&self.policy).unwrap_or_default(),
            self.sensitive
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    pub fn role(&self, who: &Profile) -> Option<&RoleDef> {
        self.policy.role(&who.role)
    }

    pub fn allows(&self, who: &Profile, activity: Activity) -> bool {
        self.policy.allows(&who.role, activity)
    }

    pub(super) fn notification_hours(&self) -> i64 {
        self.config.notification_relationship_hours
    }

    fn grace(&self) -> Duration {
        Duration::hours(self.config.relationship_grace_hours)
    }

    /// Relationships inferred from the record plus grants in force at `now`.
    pub fn relationships(
        &self,
        who: &Profile,
        record: &PersonRecord,
        grants: &[Grant],
        now: DateTime<Utc>,
    ) -> Vec<Relationship> {
        let mut out = relationship::infer(record, who, now, self.grace());
        out.extend(grants.iter().filter_map(|g| {
            let until = relationship::time_of(&g.expires_at)?;
            let basis = match g.kind.as_str() {
                "break-glass" => Basis::BreakGlass,
                NOTIFICATION_GRANT => Basis::Notified,
                _ => Basis::SelfClaim,
            };
            (until > now).then_some(Relationship {
                basis,
                entry_id: None,
                until: Some(until),
            })
        }));
        out
    }

    /// How a search hit for a person may be shown; `None` when it may not be listed: the role
    /// may not search, or the person was found by a postcode the role may not see (an
    /// S-flagged person's): listing them would say where they live.
    pub fn hit(
        &self,
        who: &Profile,
        related: bool,
        by_withheld_postcode: bool,
    ) -> Option<HitLevel> {
        if !self.allows(who, Activity::Search)
            || (by_withheld_postcode && !self.allows(who, Activity::ViewRestricted))
        {
            return None;
        }
        Some(if related && self.allows(who, Activity::ViewRecord) {
            HitLevel::Full
        } else {
            HitLevel::Identity
        })
    }

    /// The record of a person as `who` may see it. `record` is `None` when there is no such
    /// person; `show_sensitive` is set when the reader gave a reason to see sensitive entries.
    pub fn open(
        &self,
        who: &Profile,
        record: Option<PersonRecord>,
        grants: &[Grant],
        restrictions: &Restrictions,
        now: DateTime<Utc>,
        show_sensitive: bool,
    ) -> Opened {
        let no_access = Opened::NoAccess {
            may_claim: self.allows(who, Activity::SelfClaim),
            may_break_glass: self.allows(who, Activity::BreakGlass),
        };
        let (Some(role), Some(record)) = (self.role(who), record) else {
            return no_access;
        };
        if !role.may(Activity::ViewRecord) {
            return no_access;
        }
        let relationships = self.relationships(who, &record, grants, now);
        if relationships.is_empty() {
            return no_access;
        }
        let overridden = self.config.break_glass_overrides_objection
            && relationships.iter().any(|r| r.basis == Basis::BreakGlass);
        let objection_holds = restrictions.objection && !overridden;
        let show_sensitive = show_sensitive && role.may(Activity::ViewSensitive);
        let show_restricted = role.may(Activity::ViewRestricted);
        Opened::Record(Box::new(self.filter(
            who,
            role,
            record,
            relationships,
            objection_holds,
            show_sensitive,
            show_restricted,
        )))
    }

    /// The record as the operator at the server's terminal sees it (`person show`, `export`):
    /// every category, no relationship needed (they hold the database itself), but sensitive
    /// entries, a restricted person's whereabouts and other organisations' data under an
    /// objection are withheld unless the operator states a reason.
    pub fn open_as_operator(
        &self,
        record: PersonRecord,
        restrictions: &Restrictions,
        with_reason: bool,
    ) -> Visible {
        let operator = Profile {
            id: 0,
            user_id: 0,
            username: "operator".into(),
            role: "operator".into(),
            org: String::new(),
            org_name: None,
            team: None,
        };
        let role = RoleDef {
            name: "operator".into(),
            label: "Operator at the server".into(),
            activities: [Activity::ViewRecord, Activity::ViewSensitive].into(),
            categories: Category::ALL.into_iter().collect(),
        };
        self.filter(
            &operator,
            &role,
            record,
            Vec::new(),
            restrictions.objection && !with_reason,
            with_reason,
            with_reason,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn filter(
        &self,
        who: &Profile,
        role: &RoleDef,
        mut record: PersonRecord,
        relationships: Vec<Relationship>,
        objection: bool,
        show_sensitive: bool,
        show_restricted: bool,
    ) -> Visible {
        let mut withheld = Withheld {
            may_ask: role.may(Activity::ViewSensitive),
            ..Withheld::default()
        };
        if objection {
            let before = record.entries.len();
            record
                .entries
                .retain(|e| who.is_org(&e.provenance.organisation_code));
            withheld.by_objection = before - record.entries.len();
            record.demographics = demographics_under_objection(who, &record);
            record.sources.retain(|s| who.is_org(&s.organisation_code));
        }
        record.entries.retain(|e| role.sees(e.entry.category));
        let before = record.entries.len();
        if !show_sensitive {
            record
                .entries
                .retain(|e| self.sensitive.classify(&e.entry).is_none());
        }
        withheld.sensitive = before - record.entries.len();
        if record.demographics.restricted && !show_restricted {
            withheld.restricted = true;
            withhold_whereabouts(&mut record.demographics);
            for s in &mut record.sources {
                withhold_whereabouts(&mut s.demographics);
            }
            record
                .entries
                .retain(|e| e.entry.category != Category::Location);
            for e in &mut record.entries {
                match &mut e.entry.body {
                    EntryBody::Contact(c) => {
                        // Feeds name the ward in the title too ("Admission: Ward 7"), and where
                        // a stay ended is as telling as where it was.
                        for place in [c.site.take(), c.ward.take(), c.bed.take()]
                            .iter()
                            .flatten()
                        {
                            e.entry.title = without_place(&e.entry.title, place);
                        }
                        c.discharge_destination = None;
                    }
                    EntryBody::NextOfKin(k) => k.address = None,
                    _ => {}
                }
            }
        }
        Visible {
            record,
            categories: role.categories.clone(),
            relationships,
            withheld,
            objection,
        }
    }
}

/// The demographics `who` may see of a person who objects to sharing: what `who`'s own
/// organisation supplied (still S-flagged if the person is), or identity only when it supplied
/// none. Search hits show these too.
pub fn demographics_under_objection(who: &Profile, record: &PersonRecord) -> Demographics {
    match record
        .sources
        .iter()
        .find(|s| who.is_org(&s.organisation_code))
    {
        Some(own) => {
            let mut d = own.demographics.clone();
            d.restricted |= record.demographics.restricted;
            d.sharing_objection = true;
            d
        }
        None => identity_only(&record.demographics),
    }
}

/// Name, date of birth, sex and NHS number: what anyone who may search is shown of a person.
pub fn identity_only(d: &Demographics) -> Demographics {
    Demographics {
        nhs_number: d.nhs_number.clone(),
        family: d.family.clone(),
        given: d.given.clone(),
        birth_date: d.birth_date,
        sex: d.sex,
        restricted: d.restricted,
        sharing_objection: d.sharing_objection,
        ..Demographics::default()
    }
}

/// `title` with `place` (in any ASCII case) taken out.
fn without_place(title: &str, place: &str) -> String {
    let place = place.trim();
    if place.is_empty() {
        return title.to_owned();
    }
    // ASCII case folding keeps every byte where it was, so offsets in `lower` hold in `title`.
    let lower = title.to_ascii_lowercase();
    let mut out = String::with_capacity(title.len());
    let mut from = 0;
    for (at, found) in lower.match_indices(&place.to_ascii_lowercase()) {
        out.push_str(title.get(from..at).unwrap_or_default());
        out.push_str("(place withheld)");
        from = at + found.len();
    }
    out.push_str(title.get(from..).unwrap_or_default());
    out
}

fn withhold_whereabouts(d: &mut Demographics) {
    d.address = None;
    d.phone = None;
    d.email = None;
}

mod withhold;
pub use withhold::{any_restricted, for_comparison, match_detail, Listed};

#[cfg(test)]
mod tests;
