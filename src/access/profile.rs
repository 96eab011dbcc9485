//! Who is asking: one user acting in one role profile (role, organisation, team).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub role: String,
    /// ODS code of the organisation.
    pub org: String,
    /// The organisation's name, when a source of ours belongs to it.
    pub org_name: Option<String>,
    pub team: Option<String>,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Profile {
    /// `role@ORG` or `role@ORG/team`: how the audit trail and the header name a profile.
    pub fn label(&self) -> String {
        match &self.team {
            Some(team) => format!("{}@{}/{team}", self.role, self.org),
            None => format!("{}@{}", self.role, self.org),
        }
    }

    /// Whether a feed's organisation text (an ODS code or a name) is this profile's organisation.
    pub fn is_org(&self, text: &str) -> bool {
        same(text, &self.org) || self.org_name.as_deref().is_some_and(|n| same(text, n))
    }

    /// Whether a feed's team text is this profile's team.
    pub fn is_team(&self, text: &str) -> bool {
        self.team.as_deref().is_some_and(|t| same(text, t))
    }
}
