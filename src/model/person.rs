//! What a source says about a person: identifiers and demographics.

use super::nhs_number::NhsNumberStatus;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Administrative sex as feeds carry it (HL7 table 0001, FHIR administrative-gender).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
    Other,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }

    /// Reads HL7 (`M`, `F`, `O`, `U`, `A`, `N`), FHIR (`male` …) and NHS data dictionary codes
    /// (`1` male, `2` female, `9` indeterminate, `0` not known).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "m" | "male" | "1" => Some(Self::Male),
            "f" | "female" | "2" => Some(Self::Female),
            "o" | "other" | "a" | "9" | "i" => Some(Self::Other),
            "u" | "unknown" | "n" | "0" => Some(Self::Unknown),
            _ => None,
        }
    }
}

/// An identifier a source uses for a person (hospital number, social care client id …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// Who assigns it, as the source says it (HL7 assigning authority, FHIR system).
    pub system: String,
    /// HL7 identifier type code where known (`MR`, `NH`, `PI` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub value: String,
}

/// The NHS number exactly as a source sent it, with how far it can be trusted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedNhsNumber {
    /// Digits only when it parsed; otherwise the text as received.
    pub value: String,
    pub status: NhsNumberStatus,
}

impl ReportedNhsNumber {
    /// Classifies a number from a feed. `source_says_verified` is the source's own verification
    /// flag where it sends one (FHIR UK Core extension, PDS); `None` when it says nothing.
    pub fn classify(raw: &str, source_says_verified: Option<bool>) -> Self {
        match super::NhsNumber::parse(raw) {
            Ok(n) => Self {
                value: n.as_str().to_owned(),
                status: if source_says_verified == Some(false) {
                    NhsNumberStatus::Unverified
                } else {
                    NhsNumberStatus::Verified
                },
            },
            Err(_) => Self {
                value: raw.trim().to_owned(),
                status: NhsNumberStatus::Invalid,
            },
        }
    }

    /// A number that may be matched on.
    pub fn trusted(&self) -> Option<&str> {
        (self.status == NhsNumberStatus::Verified).then_some(self.value.as_str())
    }
}

impl std::fmt::Debug for ReportedNhsNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportedNhsNumber(*** {:?})", self.status)
    }
}

/// A postal address; `postcode` is normalised to upper case with one space.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

/// Demographics as one source states them. Every field is optional: a feed says what it knows.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Demographics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<ReportedNhsNumber>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Date of death; `deceased` alone when the source flags death without a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub death_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deceased: bool,
    /// ODS code of the registered GP practice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gp_practice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gp_practice_name: Option<String>,
    /// Name or code of the registered GP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gp_name: Option<String>,
    /// S-flag: address, phone and location must be withheld.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restricted: bool,
    /// The person objects to their record being shared.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sharing_objection: bool,
    /// The NHS ethnic category code (see [`ethnic_category`]); read only by population figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<String>,
}

/// An NHS ethnic category (England; the data dictionary's ETHNIC CATEGORY, as UK Core's
/// ethnic category extension and HL7 v2 PID-22 carry it): one of A–H, J–N, P, R, S, or Z (not
/// stated), upper-cased; national two-character codes ("A1") keep their letter. Anything else
/// is not a category and is dropped rather than guessed.
pub fn ethnic_category(code: &str) -> Option<String> {
    let code = code.trim();
    let letter = code.chars().next()?.to_ascii_uppercase();
    let rest_ok =
        code.len() == 1 || (code.len() == 2 && code.as_bytes()[1].is_ascii_alphanumeric());
    ("ABCDEFGHJKLMNPRSZ".contains(letter) && rest_ok).then(|| letter.to_string())
}

impl Demographics {
    pub fn postcode(&self) -> Option<&str> {
        self.address.as_ref().and_then(|a| a.postcode.as_deref())
    }

    /// Takes from `earlier` (what the same source said before) every field this message leaves
    /// out. HL7 messages other than registrations often carry a thin PID (a lab result with
    /// name and number only): an absent field means "not sent", not "removed".
    pub fn fill_missing_from(&mut self, earlier: &Demographics) {
        macro_rules! fill {
            ($($field:ident),*) => {
                $(if self.$field.is_none() {
                    self.$field.clone_from(&earlier.$field);
                })*
            };
        }
        fill!(
            nhs_number,
            family,
            title,
            birth_date,
            sex,
            address,
            phone,
            email,
            death_date,
            gp_practice,
            gp_practice_name,
            gp_name,
            ethnicity
        );
        if self.given.is_empty() {
            self.given.clone_from(&earlier.given);
        }
        for id in &earlier.identifiers {
            if !self.identifiers.contains(id) {
                self.identifiers.push(id.clone());
            }
        }
        self.deceased |= earlier.deceased;
    }

    /// "Given Family", for people to read.
    pub fn display_name(&self) -> String {
        let mut parts: Vec<&str> = self.given.iter().map(String::as_str).collect();
        if let Some(f) = &self.family {
            parts.push(f);
        }
        parts.join(" ")
    }
}

/// Redacted: demographics are patient data and must not reach logs.
impl std::fmt::Debug for Demographics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Demographics(***)")
    }
}

/// Upper-cases a UK postcode and puts one space before the inward code (`se17eh` → `SE1 7EH`).
pub fn normalise_postcode(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() < 5 || compact.len() > 7 || !compact.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return (!compact.is_empty()).then_some(compact);
    }
    let split = compact.len() - 3;
    Some(format!("{} {}", &compact[..split], &compact[split..]))
}
