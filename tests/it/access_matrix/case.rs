//! One user of one role asking about one person in one relationship state, and what the
//! policy says that asking gets.

use sharedcare::access::{Activity, Policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// A relationship from the record: person A is registered at the users' practice.
    With,
    /// No relationship at all.
    Without,
    /// The user self-claimed a relationship (where the role may).
    SelfClaimed,
    /// The user broke glass (where the role may).
    BreakGlass,
    /// The user self-claimed a relationship that has since lapsed.
    Expired,
    /// No one has the id.
    Nonexistent,
}

pub(crate) const STATES: [State; 6] = [
    State::With,
    State::Without,
    State::SelfClaimed,
    State::BreakGlass,
    State::Expired,
    State::Nonexistent,
];

impl State {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::With => "with",
            Self::Without => "without",
            Self::SelfClaimed => "self-claimed",
            Self::BreakGlass => "break-glass",
            Self::Expired => "expired",
            Self::Nonexistent => "nonexistent",
        }
    }
}

/// One person of the matrix.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) id: i64,
    pub(crate) nhs: String,
    /// Whether the person has a merge or link a reviewer could undo.
    pub(crate) unmergeable: bool,
    /// One of the person's allergy entries (every role that opens records sees allergies),
    /// for reads by id; a missing id for a person who does not exist.
    pub(crate) allergy_entry: i64,
}

/// One user of one role asking about one person.
pub(crate) struct Case<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) role: &'a str,
    pub(crate) state: State,
    pub(crate) person: &'a Person,
    pub(crate) csrf: &'a str,
}

impl Case<'_> {
    pub(crate) fn may(&self, activity: Activity) -> bool {
        self.policy.allows(self.role, activity)
    }

    pub(crate) fn exists(&self) -> bool {
        self.state != State::Nonexistent
    }

    /// Whether the policy lets the role open the person's record: `view-record` and a care
    /// relationship, from the record or one the role may give itself and has not lapsed.
    pub(crate) fn opens(&self) -> bool {
        self.may(Activity::ViewRecord)
            && match self.state {
                State::With => true,
                State::SelfClaimed => self.may(Activity::SelfClaim),
                State::BreakGlass => self.may(Activity::BreakGlass),
                State::Without | State::Expired | State::Nonexistent => false,
            }
    }

    /// `ok` for a role that may do `activity`; 403 otherwise.
    pub(crate) fn gated(&self, activity: Activity, ok: &str) -> String {
        if self.may(activity) {
            ok.to_owned()
        } else {
            "403".to_owned()
        }
    }

    /// A record page: 403 for a role that may not search (the pages' guard), then the record
    /// (`ok`) when it opens and the no-access page (403) when it does not.
    pub(crate) fn record_page(&self, ok: &str) -> String {
        if !self.may(Activity::Search) || !self.opens() {
            return "403".to_owned();
        }
        ok.to_owned()
    }

    /// A self-claim or broken glass: 303 back to the record when the role may — recorded when
    /// the person exists, the same answer (and a refusal in the audit trail) when no one has
    /// the id (finding 17); the no-access page with a message (403) otherwise.
    pub(crate) fn claim(&self, activity: Activity) -> String {
        if self.may(Activity::Search) && self.may(activity) {
            "303".to_owned()
        } else {
            "403".to_owned()
        }
    }

    /// The FHIR API: 403 for a role that may not read records, then the one 404 for a person
    /// the caller may not see (or who does not exist), then `ok`.
    pub(crate) fn fhir(&self, ok: &str) -> String {
        if !self.may(Activity::ViewRecord) {
            "403".to_owned()
        } else if !self.opens() {
            "404".to_owned()
        } else {
            ok.to_owned()
        }
    }

    /// A search hit: every column with a relationship, name/birth date/NHS number without.
    pub(crate) fn hit(&self) -> &'static str {
        if !self.exists() {
            "none"
        } else if self.opens() {
            "full"
        } else {
            "identity"
        }
    }
}
