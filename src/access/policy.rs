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
    InviteCitizens,
    RecordProxies,
}

impl Activity {
    pub const ALL: [Activity; 17] = [
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
        Self::InviteCitizens,
        Self::RecordProxies,
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
            Self::InviteCitizens => "invite-citizens",
            Self::RecordProxies => "record-proxies",
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
    #[serde(default)]
    duties: Option<Duties>,
    #[serde(default)]
    citizen: Option<super::citizen::CitizenPolicy>,
}

/// Separation of duties as data (the `[duties]` table). The rules that no one changes their
/// own roles or closes their own alerts are not here: no policy may turn them off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Duties {
    /// Granting a role that may do any of these raises a privacy alert.
    pub alert_on_granting: BTreeSet<Activity>,
    /// What view-as does for a person who is not marked as a test person.
    pub view_as_real_person: ViewAsRealPerson,
}

impl Default for Duties {
    fn default() -> Self {
        Self {
            alert_on_granting: [
                Activity::ViewRecord,
                Activity::BreakGlass,
                Activity::ReviewAlerts,
                Activity::AuditReports,
                Activity::ViewAsRole,
            ]
            .into_iter()
            .collect(),
            view_as_real_person: ViewAsRealPerson::ReasonAndAlert,
        }
    }
}

/// View-as on a real person (one not marked as a test person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViewAsRealPerson {
    /// Allowed with a stated reason, and a privacy alert is raised.
    ReasonAndAlert,
    /// Refused: only test persons may be viewed as another role.
    Refuse,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    label: String,
    activities: Vec<Activity>,
    categories: Vec<String>,
}

/// Every role by name, and the separation of duties.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    roles: BTreeMap<String, RoleDef>,
    pub duties: Duties,
    /// What citizens see of their own record (the `[citizen]` table).
    pub citizen: super::citizen::CitizenPolicy,
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
            let activities: BTreeSet<Activity> = role.activities.into_iter().collect();
            // Staff safety: whoever may open a record sees its alerts (a risk to staff above
            // all), whatever a policy file lists. Safeguarding alerts are not in this
            // category and keep their own rule.
            if activities.contains(&Activity::ViewRecord) {
                categories.insert(Category::Alert);
            }
            let def = RoleDef {
                name: name.clone(),
                label: role.label,
                activities,
                categories,
            };
            roles.insert(name, def);
        }
        let citizen = file.citizen.unwrap_or_default();
        citizen.check(origin)?;
        Ok(Self {
            roles,
            duties: file.duties.unwrap_or_default(),
            citizen,
        })
    }

    /// Whether granting `role` raises a privacy alert: it is a clinical or privacy role.
    /// An unknown role alerts too, so a mistake errs on the side of being seen.
    pub fn grant_alerts(&self, role: &str) -> bool {
        self.role(role).is_none_or(|r| {
            r.activities
                .iter()
                .any(|a| self.duties.alert_on_granting.contains(a))
        })
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
        let care = p.role("care-provider-staff").unwrap();
        assert!(
            !care.sees(Category::Safeguarding),
            "safeguarding as narrow as before"
        );
        assert_eq!(
            p.role("gp-clinician").unwrap().categories.len(),
            Category::ALL.len()
        );
    }

    #[test]
    fn every_role_that_may_open_a_record_sees_alerts_whatever_the_file_lists() {
        let p = Policy::shipped().unwrap();
        for role in p.roles() {
            assert_eq!(
                role.sees(Category::Alert),
                role.may(Activity::ViewRecord),
                "{}",
                role.name
            );
        }
        let file = Policy::parse(
            "[roles.carer]\nlabel='x'\nactivities=['view-record']\ncategories=['allergy']\n",
            "test",
        )
        .unwrap();
        assert!(file.role("carer").unwrap().sees(Category::Alert));
    }

    #[test]
    fn granting_a_clinical_or_privacy_role_alerts_and_a_policy_file_may_say_which() {
        let p = Policy::shipped().unwrap();
        assert_eq!(
            p.duties,
            Duties::default(),
            "the shipped table is the default"
        );
        for role in ["gp-clinician", "social-worker", "privacy-officer", "nobody"] {
            assert!(p.grant_alerts(role), "{role}");
        }
        for role in ["admin", "analyst"] {
            assert!(!p.grant_alerts(role), "{role}");
        }
        let without = Policy::parse(
            "[roles.nurse]\nlabel='x'\nactivities=['view-record']\ncategories=[]\n",
            "p",
        )
        .unwrap();
        assert_eq!(without.duties, Duties::default());
        let strict = Policy::parse(
            "[roles.nurse]\nlabel='x'\nactivities=['view-record']\ncategories=[]\n\
             [duties]\nalert_on_granting=['export']\nview_as_real_person='refuse'\n",
            "p",
        )
        .unwrap();
        assert!(!strict.grant_alerts("nurse"));
        assert_eq!(strict.duties.view_as_real_person, ViewAsRealPerson::Refuse);
        let e = Policy::parse("[roles]\n[duties]\nown_roles='allowed'\n", "p").unwrap_err();
        assert!(e.to_string().contains("own_roles"), "{e}");
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
