//! What a new user or role profile must be, checked in one place so that every use case in
//! [`super`] refuses the same things with the same words, whether from the web or the CLI.

use crate::access::{password, Policy};
use crate::error::{Error, Result};

/// A role profile as typed: a role of the policy, an organisation's ODS code, maybe a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInput {
    pub role: String,
    pub org: String,
    pub team: Option<String>,
}

impl ProfileInput {
    /// Trims each part, upper-cases the ODS code (codes are upper case; people type them
    /// either way) and reads an empty team as none.
    pub fn new(role: &str, org: &str, team: Option<&str>) -> Self {
        Self {
            role: role.trim().to_owned(),
            org: org.trim().to_ascii_uppercase(),
            team: team
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        }
    }

    /// Refuses a role the policy does not define (naming the ones it does) and an empty or
    /// malformed ODS code.
    pub fn check(&self, policy: &Policy) -> Result<()> {
        if policy.role(&self.role).is_none() {
            return Err(Error::Invalid(format!(
                "unknown role {:?}; the policy defines: {}",
                self.role,
                policy.names().join(", ")
            )));
        }
        if self.org.is_empty() {
            return Err(Error::Invalid(
                "give the ODS code of the organisation, like X99001".into(),
            ));
        }
        if self.org.len() > 12 || !self.org.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::Invalid(format!(
                "{:?} is not an ODS code: letters and digits only, like X99001",
                self.org
            )));
        }
        if self
            .team
            .as_deref()
            .is_some_and(|t| t.chars().count() > 100)
        {
            return Err(Error::Invalid(
                "a team name has at most 100 characters".into(),
            ));
        }
        Ok(())
    }

    /// `role@ORG` or `role@ORG/team`, as [`crate::access::Profile::label`] names a stored profile.
    pub fn label(&self) -> String {
        match &self.team {
            Some(t) => format!("{}@{}/{t}", self.role, self.org),
            None => format!("{}@{}", self.role, self.org),
        }
    }
}

/// A user name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`, starting with a letter or
/// digit (it shows in reports and their CSV exports, where a leading `-` or `@` means a
/// formula).
pub fn check_username(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    let valid = (1..=64).contains(&name.len())
        && name.chars().all(ok_char)
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{name:?} is not a user name: 1 to 64 letters, digits, '.', '_', '-' or '@', \
             starting with a letter or digit"
        )))
    }
}

/// Hashes a new password, refusing one shorter than [`password::MIN_LENGTH`] or, when a
/// confirmation was typed (the pages ask for one), one that does not match it.
pub fn new_password(new: &str, confirm: Option<&str>) -> Result<String> {
    if confirm.is_some_and(|c| c != new) {
        return Err(Error::Invalid(
            "the password and its confirmation differ".into(),
        ));
    }
    password::hash(new).map_err(Error::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_tidied_and_checked_against_the_policy() {
        let policy = Policy::shipped().unwrap();
        let p = ProfileInput::new(" clinician ", " x99001 ", Some("  "));
        assert_eq!(p.org, "X99001");
        assert_eq!(p.team, None);
        assert!(p.check(&policy).is_ok());
        assert_eq!(p.label(), "clinician@X99001");
        let e = ProfileInput::new("wizard", "X99001", None)
            .check(&policy)
            .unwrap_err();
        assert!(e.to_string().contains("unknown role"), "{e}");
        assert!(e.to_string().contains("privacy-officer"), "{e}");
        let e = ProfileInput::new("clinician", " ", None)
            .check(&policy)
            .unwrap_err();
        assert!(e.to_string().contains("ODS code"), "{e}");
        assert!(ProfileInput::new("clinician", "=1+2", None)
            .check(&policy)
            .is_err());
        let t = ProfileInput::new("social-worker", "X99001", Some("Adults East"));
        assert_eq!(t.label(), "social-worker@X99001/Adults East");
    }

    #[test]
    fn user_names_and_passwords() {
        for good in ["clin", "a.b-c_d", "jo@nhs.net", "X1"] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in ["", " clin", "-x", "@x", "=x", "a b", "é", &"a".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(new_password("long enough password", None).is_ok());
        assert!(new_password("short", Some("short")).is_err());
        let e = new_password("long enough password", Some("long enough passw0rd")).unwrap_err();
        assert!(e.to_string().contains("differ"), "{e}");
    }
}
