//! The categories of information the record holds, in the order a clinician needs them.

use serde::{Deserialize, Serialize};

/// One kind of entry. The order of [`Category::ALL`] is clinical urgency: what an A&E doctor
/// needs first comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    AdvanceDirective,
    Allergy,
    Medication,
    Safeguarding,
    /// Alerts other than safeguarding: risk to staff, clinical warnings, anything else a
    /// source flags for whoever opens the record.
    Alert,
    ConditionFlag,
    Problem,
    Location,
    CarePlan,
    Result,
    Contact,
    MentalHealth,
    SocialCare,
    Referral,
    CareNetwork,
    NextOfKin,
    Immunisation,
    Procedure,
}

impl Category {
    pub const ALL: [Category; 18] = [
        Self::AdvanceDirective,
        Self::Allergy,
        Self::Medication,
        Self::Safeguarding,
        Self::Alert,
        Self::ConditionFlag,
        Self::Problem,
        Self::Location,
        Self::CarePlan,
        Self::Result,
        Self::Contact,
        Self::MentalHealth,
        Self::SocialCare,
        Self::Referral,
        Self::CareNetwork,
        Self::NextOfKin,
        Self::Immunisation,
        Self::Procedure,
    ];

    /// The stable name used in the database, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdvanceDirective => "advance-directive",
            Self::Allergy => "allergy",
            Self::Medication => "medication",
            Self::Safeguarding => "safeguarding",
            Self::Alert => "alert",
            Self::ConditionFlag => "condition-flag",
            Self::Problem => "problem",
            Self::Location => "location",
            Self::CarePlan => "care-plan",
            Self::Result => "result",
            Self::Contact => "contact",
            Self::MentalHealth => "mental-health",
            Self::SocialCare => "social-care",
            Self::Referral => "referral",
            Self::CareNetwork => "care-network",
            Self::NextOfKin => "next-of-kin",
            Self::Immunisation => "immunisation",
            Self::Procedure => "procedure",
        }
    }

    /// The heading people read.
    pub fn label(self) -> &'static str {
        match self {
            Self::AdvanceDirective => "Advance directives (DNACPR, ReSPECT, LPA)",
            Self::Allergy => "Allergies and adverse reactions",
            Self::Medication => "Medications",
            Self::Safeguarding => "Safeguarding alerts",
            Self::Alert => "Alerts: risk to staff, clinical and other warnings",
            Self::ConditionFlag => "Condition flags",
            Self::Problem => "Problems and diagnoses",
            Self::Location => "Current location",
            Self::CarePlan => "Care plans",
            Self::Result => "Results",
            Self::Contact => "Contacts and encounters",
            Self::MentalHealth => "Mental health",
            Self::SocialCare => "Social care",
            Self::Referral => "Referrals",
            Self::CareNetwork => "Care network",
            Self::NextOfKin => "Next of kin and carers",
            Self::Immunisation => "Immunisations",
            Self::Procedure => "Procedures",
        }
    }

    /// Whether a newer HL7 v2 message that leaves a field out keeps the stored value of that
    /// field. Not for where a person is: each new location replaces the last one whole, so a
    /// discharge home never keeps the ward and bed the person left.
    pub fn keeps_missing_fields(self) -> bool {
        self != Self::Location
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
