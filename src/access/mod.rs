//! Who may see what. A session is one user acting in one role profile (role, organisation,
//! team). The policy (`policy.toml`, replaceable) says what a role may do and which data
//! categories it sees; a care relationship — inferred from the record, self-claimed or broken
//! glass — says whom it may open. Objections, S-flagged demographics and sensitive entries are
//! enforced by [`gate::Gate`], the one place every read goes through.
//!
//! Every change to who may see what is one function here — [`users`] (users, role profiles,
//! passwords, sessions), [`tokens`], [`objections`], [`alerts`], [`open`] (self-claims, broken
//! glass), [`view_as`] (and test persons) — taking the store, the actor (`audit::Actor`) and
//! the time; it checks, changes, writes its audit event and commits in one transaction, and
//! the web pages and the command line only call it. The policy's `[duties]` and the rules in
//! these functions keep duties apart: nobody changes their own roles or closes an alert about
//! themselves.

pub mod alerts;
pub mod citizen;
pub mod duplicates;
#[cfg(test)]
mod fixture;
pub mod gate;
pub mod objections;
pub mod open;
pub mod password;
pub mod policy;
pub mod profile;
pub mod proxy;
pub mod relationship;
pub mod secret;
pub mod sensitive;
pub mod tokens;
pub mod users;
pub mod view_as;

pub use duplicates::PossibleDuplicate;
pub use gate::{
    any_restricted, for_comparison, match_detail, Gate, Grant, HitLevel, Listed, Opened,
    Restrictions, Visible, Withheld,
};
pub use open::{Claim, Claimed, Identified};
pub use policy::{Activity, Duties, Policy, RoleDef, ViewAsRealPerson};
pub use profile::Profile;
pub use relationship::{Basis, Relationship};
pub use users::ProfileInput;

/// Coded reasons for a self-claimed relationship or broken glass.
pub const CLAIM_REASONS: [(&str, &str); 5] = [
    ("direct-care", "Providing direct care now"),
    (
        "referral-received",
        "Referral received, not yet in the feeds",
    ),
    ("new-registration", "New registration or transfer of care"),
    ("safeguarding", "Safeguarding enquiry"),
    ("other", "Other (explain below)"),
];

pub const GLASS_REASONS: [(&str, &str); 4] = [
    (
        "emergency-care",
        "Emergency care: the person cannot consent",
    ),
    ("unconscious", "Unconscious or confused patient"),
    ("immediate-risk", "Immediate risk to the person or others"),
    ("other", "Other (explain below)"),
];

pub fn reason_known(list: &[(&str, &str)], code: &str) -> bool {
    list.iter().any(|(c, _)| *c == code)
}
