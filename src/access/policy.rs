//! The access policy as data: roles, each a bundle of activities and the data categories it
//! sees. A default ships inside the binary (`policy.toml`); a site may replace it.

use crate::error::{Error, Result};
use crate::model::Category;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SHIPPED: &str = include_str!("policy.toml");

/// Something a user may be allowed to do. The policy file names them in kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activity {
    Search,
    ViewRecord,
    ViewRestricted,
    ViewSensitive,
    SelfClaim,
    BreakGlass,
    Export,
    ReviewAlerts,
    AuditReports,
    ViewAsRole,
    ManageUsers,
    ManageSources,
    ReviewMatches,
    RecordObjections,
    Dashboards,
}

impl Activity {
    pub const ALL: [Activity; 15] = [
        Self::Search,
        Self::ViewRecord,
        Self::ViewRestricted,
        Self::ViewSensitive,
        Self::SelfClaim,
        Self::BreakGlass,
        Self::Export,
        Self::ReviewAlerts,
        Self::AuditReports,
        Self::ViewAsRole,
        Self::ManageUsers,
        Self::ManageSources,
        Self::ReviewMatches,
        Self::RecordObjections,
        Self::Dashboards,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::ViewRecord => "view-record",
            Self::ViewRestricted => "view-restricted",
            Self::ViewSensitive => "view-sensitive",
            Self::SelfClaim => "self-claim",
            Self::BreakGlass => "break-glass",
            Self::Export => "export",
            Self::ReviewAlerts => "review-alerts",
            Self::AuditReports => "audit-reports",
            Self::ViewAsRole => "view-as-role",
            Self::ManageUsers => "manage-users",
            Self::ManageSources => "manage-sources",
            Self::ReviewMatches => "review-matches",
            Self::RecordObjections => "record-objections",
            Self::Dashboards => "dashboards",
        }
    }
}

/// One role: a label for people and what it may do.
#[derive(Debug, Clone, Serialize)]
pub struct RoleDef {
    pub name: String,
    pub label: String,
    pub activities: BTreeSet<Activity>,
    pub categories: BTreeSet<Category>,
}

impl RoleDef {
    pub fn may(&self, activity: Activity) -> bool {
        self.activities.contains(&activity)
    }

    pub fn sees(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    roles: BTreeMap<String, RoleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    label: String,
    activities: Vec<Activity>,
    categories: Vec<String>,
}

/// Every role by name.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    roles: BTreeMap<String, RoleDef>,
}

impl Policy {
    /// The policy shipped in the binary.
    pub fn shipped() -> Result<Self> {
        Self::parse(SHIPPED, "the shipped policy")
    }

    pub fn shipped_text() -> &'static str {
        SHIPPED
    }

    /// The shipped policy, or the file that replaces it.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        match file {
            None => Self::shipped(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                    doing: "read the access policy",
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::parse(&text, &path.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
        let mut roles = BTreeMap::new();
        for (name, role) in file.roles {
            let valid_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_name {
                return Err(Error::Invalid(format!(
                    "{origin}: role name {name:?} must be kebab-case (a-z, 0-9, -)"
                )));
            }
            let mut categories = BTreeSet::new();
            for c in &role.categories {
                if c == "all" {
                    categories.extend(Category::ALL);
                } else {
                    let category = Category::parse(c).ok_or_else(|| {
                        Error::Invalid(format!(
                            "{origin}: role {name}: {c:?} is not a data category"
                        ))
                    })?;
                    categories.insert(category);
                }
            }
            let def = RoleDef {
                name: name.clone(),
                label: role.label,
                activities: role.activities.into_iter().collect(),
                categories,
            };
            roles.insert(name, def);
        }
        Ok(Self { roles })
    }

    pub fn role(&self, name: &str) -> Option<&RoleDef> {
        self.roles.get(name)
    }

    pub fn roles(&self) -> impl Iterator<Item = &RoleDef> {
        self.roles.values()
    }

    /// Whether `role` may do `activity`; an unknown role may do nothing.
    pub fn allows(&self, role: &str, activity: Activity) -> bool {
        self.role(role).is_some_and(|r| r.may(activity))
    }

    /// The role names, for error messages and forms.
    pub fn names(&self) -> Vec<&str> {
        self.roles.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_parses_and_has_the_roles_the_product_promises() {
        let p = Policy::shipped().unwrap();
        for role in [
            "clinician",
            "acute-clinician",
            "gp-clinician",
            "community-clinician",
            "mental-health-clinician",
            "social-worker",
            "social-worker-adults",
            "social-worker-children",
            "care-provider-staff",
            "admin",
            "privacy-officer",
            "analyst",
        ] {
            assert!(p.role(role).is_some(), "{role}");
        }
        assert!(p.allows("acute-clinician", Activity::BreakGlass));
        assert!(!p.allows("admin", Activity::ViewRecord));
        assert!(!p.allows("analyst", Activity::Search));
        assert!(p.allows("privacy-officer", Activity::AuditReports));
        assert!(!p.allows("nobody", Activity::Search));
        let sw = p.role("social-worker-adults").unwrap();
        assert!(sw.sees(Category::Safeguarding));
        assert!(!sw.sees(Category::Result));
        assert_eq!(
            p.role("gp-clinician").unwrap().categories.len(),
            Category::ALL.len()
        );
    }

    #[test]
    fn bad_policies_are_refused_with_the_reason() {
        let e = Policy::parse(
            "[roles.Nurse]\nlabel='x'\nactivities=[]\ncategories=[]\n",
            "p",
        )
        .unwrap_err();
        assert!(e.to_string().contains("kebab-case"), "{e}");
        let e = Policy::parse(
            "[roles.nurse]\nlabel='x'\nactivities=['fly']\ncategories=[]\n",
            "p",
        )
        .unwrap_err();
        assert!(e.to_string().contains("fly"), "{e}");
        let e = Policy::parse(
            "[roles.nurse]\nlabel='x'\nactivities=[]\ncategories=['gossip']\n",
            "p",
        )
        .unwrap_err();
        assert!(e.to_string().contains("gossip"), "{e}");
    }
}
