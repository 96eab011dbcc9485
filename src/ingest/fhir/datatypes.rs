//! The FHIR R4 data types the resource shapes in [`super::resources`] are built from — only
//! the elements this importer reads — and the small readings of them every adapter needs
//! (what a person reads from a concept, the SNOMED coding, a current phone number).

use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
    pub text: Option<String>,
}

const SNOMED: &str = "http://snomed.info/sct";

impl CodeableConcept {
    /// What a person reads: the text, else the first display, else the first code.
    pub fn label(&self) -> Option<String> {
        non_empty(self.text.as_deref())
            .or_else(|| {
                self.coding
                    .iter()
                    .find_map(|c| non_empty(c.display.as_deref()))
            })
            .or_else(|| {
                self.coding
                    .iter()
                    .find_map(|c| non_empty(c.code.as_deref()))
            })
    }

    /// The coding to store: SNOMED CT when present (the UK's clinical terminology), else the
    /// first coding that has a code.
    pub fn primary(&self) -> Option<&Coding> {
        self.coding
            .iter()
            .find(|c| c.system.as_deref() == Some(SNOMED) && c.code.is_some())
            .or_else(|| self.coding.iter().find(|c| c.code.is_some()))
    }

    /// Every code, for matching against known code lists.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.coding.iter().filter_map(|c| c.code.as_deref())
    }

    /// Text and displays, lower-cased, for keyword matching.
    pub fn words(&self) -> String {
        let mut out = String::new();
        for part in self
            .text
            .iter()
            .chain(self.coding.iter().filter_map(|c| c.display.as_ref()))
        {
            out.push_str(&part.to_lowercase());
            out.push(' ');
        }
        out
    }
}

pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Identifier {
    pub system: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    pub extension: Vec<Extension>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Reference {
    pub reference: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub identifier: Option<Identifier>,
    pub display: Option<String>,
}

impl Reference {
    /// What a person reads: the display, else the identifier's value.
    pub fn label(&self) -> Option<String> {
        non_empty(self.display.as_deref()).or_else(|| {
            self.identifier
                .as_ref()
                .and_then(|i| non_empty(i.value.as_deref()))
        })
    }
}

/// Extensions nest; the JSON depth limit checked before parsing bounds the recursion.
#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Extension {
    pub url: String,
    pub extension: Vec<Extension>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_coding: Option<Coding>,
    pub value_string: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Period {
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    pub last_updated: Option<String>,
    pub security: Vec<Coding>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct HumanName {
    #[serde(rename = "use")]
    pub usage: Option<String>,
    pub text: Option<String>,
    pub family: Option<String>,
    pub given: Vec<String>,
    pub prefix: Vec<String>,
    pub period: Option<Period>,
}

impl HumanName {
    /// "Given Family", or the text when the parts are missing.
    pub fn full(&self) -> Option<String> {
        let mut parts: Vec<&str> = self.given.iter().map(|g| g.trim()).collect();
        if let Some(f) = &self.family {
            parts.push(f.trim());
        }
        parts.retain(|p| !p.is_empty());
        if parts.is_empty() {
            non_empty(self.text.as_deref())
        } else {
            Some(parts.join(" "))
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    #[serde(rename = "use")]
    pub usage: Option<String>,
    pub text: Option<String>,
    pub line: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub postal_code: Option<String>,
    pub period: Option<Period>,
}

impl Address {
    /// One line for people to read.
    pub fn one_line(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .line
            .iter()
            .map(String::as_str)
            .chain(self.city.as_deref())
            .chain(self.postal_code.as_deref())
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            non_empty(self.text.as_deref())
        } else {
            Some(parts.join(", "))
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct ContactPoint {
    pub system: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "use")]
    pub usage: Option<String>,
    pub period: Option<Period>,
}

/// The first current value of a telecom system (`phone`, `email`), preferring one whose
/// period has not ended.
pub fn telecom(points: &[ContactPoint], system: &str) -> Option<String> {
    let of_system = || {
        points
            .iter()
            .filter(move |p| p.system.as_deref() == Some(system) && p.value.is_some())
    };
    of_system()
        .find(|p| {
            p.usage.as_deref() != Some("old")
                && p.period.as_ref().and_then(|x| x.end.as_ref()).is_none()
        })
        .or_else(|| of_system().next())
        .and_then(|p| non_empty(p.value.as_deref()))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Quantity {
    pub value: Option<f64>,
    pub comparator: Option<String>,
    pub unit: Option<String>,
    pub code: Option<String>,
}

impl Quantity {
    pub fn unit_text(&self) -> Option<String> {
        non_empty(self.unit.as_deref()).or_else(|| non_empty(self.code.as_deref()))
    }

    /// "< 5 mmol/L", for people to read.
    pub fn text(&self) -> Option<String> {
        let value = self.value.filter(|v| v.is_finite())?;
        let mut out = format!("{}{}", self.comparator.as_deref().unwrap_or(""), value);
        if let Some(u) = self.unit_text() {
            out.push(' ');
            out.push_str(&u);
        }
        Some(out)
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Annotation {
    pub text: Option<String>,
}

/// Notes joined into one text.
pub fn notes(notes: &[Annotation]) -> Option<String> {
    let parts: Vec<&str> = notes
        .iter()
        .filter_map(|n| n.text.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Attachment {
    pub url: Option<String>,
    pub title: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Dosage {
    pub text: Option<String>,
    pub route: Option<CodeableConcept>,
    pub timing: Option<Timing>,
    pub dose_and_rate: Vec<DoseAndRate>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Timing {
    pub code: Option<CodeableConcept>,
    pub repeat: Option<TimingRepeat>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct TimingRepeat {
    pub frequency: Option<f64>,
    pub period: Option<f64>,
    pub period_unit: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct DoseAndRate {
    pub dose_quantity: Option<Quantity>,
}
