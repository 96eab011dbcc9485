//! Sources: the systems that send us files.

use serde::{Deserialize, Serialize};

/// What kind of organisation a source is; decides precedence when sources disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Gp,
    Acute,
    Community,
    MentalHealth,
    SocialCare,
}

impl SourceKind {
    pub const ALL: [SourceKind; 5] = [
        Self::Gp,
        Self::Acute,
        Self::Community,
        Self::MentalHealth,
        Self::SocialCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gp => "gp",
            Self::Acute => "acute",
            Self::Community => "community",
            Self::MentalHealth => "mental-health",
            Self::SocialCare => "social-care",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Gp => "GP practice",
            Self::Acute => "Acute hospital",
            Self::Community => "Community services",
            Self::MentalHealth => "Mental health",
            Self::SocialCare => "Social care",
        }
    }
}

/// The file format a source sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Hl7v2,
    Fhir,
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hl7v2 => "hl7v2",
            Self::Fhir => "fhir",
            Self::Csv => "csv",
        }
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hl7v2 => "HL7 v2",
            Self::Fhir => "FHIR",
            Self::Csv => "CSV",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hl7v2" => Some(Self::Hl7v2),
            "fhir" => Some(Self::Fhir),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}
