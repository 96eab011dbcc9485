//! Who may see what. For now a role either may see patient data or may not; the guard that
//! asks is the one place this is decided (`web::guards`), so a richer policy can replace it.

pub mod password;
pub mod secret;

use serde::Serialize;

/// The roles a user can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Clinician,
    SocialWorker,
    /// IT and integration staff: sources, feeds, users; no patient data.
    Admin,
    PrivacyOfficer,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Self::Clinician,
        Self::SocialWorker,
        Self::Admin,
        Self::PrivacyOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clinician => "clinician",
            Self::SocialWorker => "social-worker",
            Self::Admin => "admin",
            Self::PrivacyOfficer => "privacy-officer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may search for people and open their records.
    pub fn sees_patient_data(self) -> bool {
        matches!(
            self,
            Self::Clinician | Self::SocialWorker | Self::PrivacyOfficer
        )
    }
}
