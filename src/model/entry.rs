//! Entries: one fact about a person from one source (an allergy, a result, an admission …),
//! with a typed body per category.
//!
//! Times are ISO 8601 text as precise as the source gave them (`2024`, `2024-03-05`,
//! `2024-03-05T14:20:00`, with an offset when the source sent one). Text of that shape sorts in
//! time order, which is all the store needs, and no precision is invented.

use super::category::Category;
use serde::{Deserialize, Serialize};

/// A fact about a person as a source states it, before it is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryDraft {
    /// Unique within the source: the same reference in a later message updates this entry.
    pub source_ref: String,
    pub category: Category,
    /// Code system (`http://snomed.info/sct`, `LN`, a local lab system …) and code, where coded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What a person reads first: "Penicillin", "Haemoglobin", "Admitted to Ward 7".
    pub title: String,
    /// Clinical or workflow status as the source says it: active, resolved, final, cancelled …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// When the source recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// Marked sensitive by the source (or by code list, later): withheld by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// Marked by the source as not for the patient's own view (third-party information, a
    /// result to be explained first): never shown to the citizen. See the README for each
    /// format's marker.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_for_patient: bool,
    pub body: EntryBody,
}

impl std::fmt::Debug for EntryDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EntryDraft({}, ***)", self.category)
    }
}

/// The category-specific part of an entry. The variant always agrees with the entry's category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EntryBody {
    AdvanceDirective(AdvanceDirective),
    Allergy(Allergy),
    Medication(Medication),
    Safeguarding(Safeguarding),
    Alert(Alert),
    ConditionFlag(ConditionFlag),
    Problem(Problem),
    Location(Location),
    CarePlan(CarePlan),
    Result(LabResult),
    Contact(Contact),
    MentalHealth(MentalHealth),
    SocialCare(SocialCare),
    Referral(Referral),
    CareNetwork(CareNetworkMember),
    NextOfKin(NextOfKin),
    Immunisation(Immunisation),
    Procedure(Procedure),
}

impl EntryBody {
    pub fn category(&self) -> Category {
        match self {
            Self::AdvanceDirective(_) => Category::AdvanceDirective,
            Self::Allergy(_) => Category::Allergy,
            Self::Medication(_) => Category::Medication,
            Self::Safeguarding(_) => Category::Safeguarding,
            Self::Alert(_) => Category::Alert,
            Self::ConditionFlag(_) => Category::ConditionFlag,
            Self::Problem(_) => Category::Problem,
            Self::Location(_) => Category::Location,
            Self::CarePlan(_) => Category::CarePlan,
            Self::Result(_) => Category::Result,
            Self::Contact(_) => Category::Contact,
            Self::MentalHealth(_) => Category::MentalHealth,
            Self::SocialCare(_) => Category::SocialCare,
            Self::Referral(_) => Category::Referral,
            Self::CareNetwork(_) => Category::CareNetwork,
            Self::NextOfKin(_) => Category::NextOfKin,
            Self::Immunisation(_) => Category::Immunisation,
            Self::Procedure(_) => Category::Procedure,
        }
    }
}

macro_rules! optional_text {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
        }
    };
}

/// DNACPR, ReSPECT, LPA, ADRT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirectiveKind {
    Dnacpr,
    Respect,
    LpaHealthWelfare,
    LpaPropertyFinance,
    Adrt,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvanceDirective {
    pub kind: DirectiveKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_date: Option<String>,
    /// Attorney (LPA) or the clinician who made the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_person: Option<String>,
    /// Where the signed original is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_location: Option<String>,
}

optional_text!(
    /// An allergy or intolerance.
    Allergy {
        substance,
        /// allergy | intolerance
        allergy_type,
        reaction,
        severity,
        criticality,
    }
);

optional_text!(
    /// A medication the person takes or was prescribed.
    Medication {
        name,
        dose,
        route,
        frequency,
        quantity,
        prescriber,
        /// statement | request | administration
        kind,
    }
);

optional_text!(
    /// A safeguarding alert: child protection, adult at risk, domestic abuse, MARAC …
    Safeguarding {
        alert_type,
        description,
        risk_level,
        /// Who to call about it, as the feed says (a team, a named worker, a number).
        contact,
        /// Who recorded the alert, when the feed says so.
        recorded_by,
    }
);

/// What an alert other than safeguarding warns of. Safeguarding alerts are their own
/// category ([`Safeguarding`]), so that they keep their own, narrower, access rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// A danger to whoever visits or treats the person: violence, a dangerous dog, lone
    /// working not advised. Shown to everyone who may open the record.
    RiskToStaff,
    /// A clinical warning that is not an allergy: difficult airway, hearing impaired …
    Clinical,
    Other,
}

impl AlertKind {
    /// The stable name used in feeds, CSV mappings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RiskToStaff => "risk-to-staff",
            Self::Clinical => "clinical",
            Self::Other => "other",
        }
    }

    /// The kind in words, as the banner says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::RiskToStaff => "Risk to staff",
            Self::Clinical => "Clinical alert",
            Self::Other => "Alert",
        }
    }
}

/// An alert: a standing warning for whoever opens the record ("large dog at home"). It holds
/// while its status is active and its period has not ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who recorded the alert, when the feed says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// Who to call about it, when the feed says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagState {
    Tested,
    Positive,
    Negative,
    Other,
}

/// A condition flag such as "COVID-19 positive on 2024-01-03".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionFlag {
    pub condition: String,
    pub state: FlagState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

optional_text!(
    /// A problem or diagnosis.
    Problem {
        name,
        /// diagnosis | problem | finding
        kind,
        clinical_status,
        verification_status,
        severity,
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocationKind {
    Home,
    Inpatient,
    CareHome,
    MentalHealthUnit,
    StepDown,
    /// In an emergency department (A&E), not yet admitted.
    #[serde(rename = "emergency-department")]
    EmergencyDepartment,
    /// In a hospice.
    Hospice,
    /// At another hospital (a transfer out on discharge).
    OtherHospital,
    /// Died: where the person is no longer matters, that they died does.
    Deceased,
    /// Discharged, with no destination given: the source does not say where they went.
    NotKnown,
    Other,
}

impl LocationKind {
    /// Whether the person is in the hospital that reported it (admitted or in A&E): what a
    /// cancelled admission, transfer or discharge is about.
    pub fn in_hospital(self) -> bool {
        matches!(self, Self::Inpatient | Self::EmergencyDepartment)
    }

    /// Words for people: "Inpatient", "In A&E", "Step-down bed" …
    pub fn label(self) -> &'static str {
        match self {
            Self::Home => "Home",
            Self::Inpatient => "Inpatient",
            Self::CareHome => "Care home",
            Self::MentalHealthUnit => "Mental health unit",
            Self::StepDown => "Step-down bed",
            Self::EmergencyDepartment => "In A&E",
            Self::Hospice => "Hospice",
            Self::OtherHospital => "Another hospital",
            Self::Deceased => "Deceased",
            Self::NotKnown => "Discharged, destination not recorded",
            Self::Other => "Other",
        }
    }
}

/// Where the person is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub kind: LocationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The hospital visit (encounter) this location belongs to, when a hospital reported it:
    /// what lets a cancelled admission, transfer or discharge find what it cancels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    /// Away from the assigned ward or bed for now (X-ray, theatre …), when the source says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporarily_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CarePlanKind {
    EndOfLife,
    Crisis,
    Anticipatory,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarePlan {
    pub kind: CarePlanKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// A pathology or other observation result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabResult {
    /// The result as text, always (numeric or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The value as a number when it is one, for trends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_range: Option<String>,
    /// HL7 table 0078 style: `H`, `L`, `HH`, `LL`, `A`, `N` …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abnormal_flag: Option<String>,
    /// The order or report this result belongs to (OBR, DiagnosticReport).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The panel the test was ordered as, as the source names it (OBR-4, DiagnosticReport
    /// code): "Full blood count", and its code, "FBC". The results page groups by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specimen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactKind {
    AandE,
    Admission,
    Outpatient,
    Appointment,
    Visit,
    Other,
}

/// A contact: an A&E attendance, an admission, an appointment, a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub kind: ContactKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinician: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharge_destination: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SocialCareService {
    Adults,
    Children,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SocialCareKind {
    Case,
    PackageOfCare,
    Allocation,
    LookedAfter,
    ChildProtectionPlan,
    LegalStatus,
    Assessment,
    Other,
}

/// Key social care data: an open case, a package of care, the named worker, legal status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocialCare {
    pub service: SocialCareService,
    pub kind: SocialCareKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_worker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_per_week: Option<String>,
}

optional_text!(
    /// Mental-health summary: team, care coordinator, crisis plan, legal status.
    MentalHealth {
        team,
        care_coordinator,
        coordinator_contact,
        crisis_plan,
        legal_status,
        cpa_level,
    }
);

optional_text!(
    /// A referral from one service to another.
    Referral {
        to_service,
        to_organisation,
        from_organisation,
        reason,
        priority,
    }
);

optional_text!(
    /// An agency or professional involved in the person's care.
    CareNetworkMember {
        agency,
        team,
        role,
        name,
        phone,
        email,
    }
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NextOfKin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_carer: bool,
}

optional_text!(
    /// A vaccination given.
    Immunisation {
        vaccine,
        dose_number,
        site,
        batch,
        performer,
    }
);

optional_text!(
    /// A procedure performed.
    Procedure {
        name,
        performer,
        body_site,
        outcome,
    }
);

/// Where a stored entry came from and when it arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    pub source_code: String,
    pub source_name: String,
    pub organisation: String,
    /// ODS code of the supplying organisation: care relationships and objections use it.
    pub organisation_code: String,
    pub format: String,
    pub file_name: Option<String>,
    pub message: Option<String>,
    pub received_at: String,
    /// The source's own time for the message that last set this entry.
    pub as_of: Option<String>,
}

/// An entry as stored: the draft plus identity, version and provenance.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEntry {
    pub id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub entry: EntryDraft,
    pub provenance: Provenance,
}
