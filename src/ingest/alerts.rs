//! Alerts, whichever format they arrive in: a FHIR `Flag`, an HL7 v2 `ZAL` segment or an
//! OBX-coded alert, a CSV row mapped to the `alert` category. Each says what kind of alert it
//! is in its own way; this module turns that into one of four kinds, and builds the body:
//!
//! - **safeguarding** — child protection, adult at risk, domestic abuse, MARAC … becomes a
//!   safeguarding entry (its own category, with its own, narrower access rule);
//! - **risk to staff** — violence, aggression, a dangerous dog, lone working not advised;
//! - **clinical** — a clinical warning that is not an allergy (difficult airway, hearing
//!   impaired);
//! - **other** — anything else a source flags.
//!
//! A kind the source names (`risk-to-staff`, `RTS`, a FHIR flag category) wins; otherwise the
//! alert's words decide; otherwise the alert is `other` — never dropped.

use crate::model::entry::{Alert, AlertKind, Safeguarding};
use crate::model::EntryBody;

/// The four kinds as a source may name them, before safeguarding is split off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedKind {
    Safeguarding,
    Alert(AlertKind),
}

/// A kind code as feeds send it (case and separators ignored): `safeguarding`/`SG`,
/// `risk-to-staff`/`RTS`/`staff-safety`, `clinical`/`CLIN`, `other`/`OTH`. `None` for a code
/// that names no kind: the words then decide.
pub fn named_kind(code: &str) -> Option<NamedKind> {
    let key: String = code
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "safeguarding" | "sg" | "safeguard" => NamedKind::Safeguarding,
        "risktostaff" | "rts" | "staffsafety" | "staffrisk" | "risk" => {
            NamedKind::Alert(AlertKind::RiskToStaff)
        }
        "clinical" | "clin" | "clinicalalert" => NamedKind::Alert(AlertKind::Clinical),
        "other" | "oth" => NamedKind::Alert(AlertKind::Other),
        _ => return None,
    })
}

/// The kind of safeguarding alert the words describe, most specific first.
pub fn safeguarding_type(text: &str) -> Option<&'static str> {
    const KINDS: [(&[&str], &str); 6] = [
        (
            &["child protection", "cp-is", "child protection plan"],
            "Child protection",
        ),
        (
            &["looked after child", "looked-after child"],
            "Looked after child",
        ),
        (
            &["adult at risk", "vulnerable adult", "adult safeguarding"],
            "Adult at risk",
        ),
        (&["domestic abuse", "domestic violence"], "Domestic abuse"),
        (&["marac"], "MARAC"),
        (&["safeguarding", "safeguarding concern"], "Safeguarding"),
    ];
    let text = text.to_lowercase();
    KINDS
        .iter()
        .find(|(words, _)| has_any_word(&text, words))
        .map(|(_, kind)| *kind)
}

/// Words that make an alert a risk to staff.
const RISK_TO_STAFF: &[&str] = &[
    "risk to staff",
    "staff safety",
    "violent",
    "violence",
    "aggressive",
    "aggression",
    "threatening",
    "abusive",
    "weapon",
    "weapons",
    "dog",
    "dogs",
    "lone worker",
    "lone working",
    "do not visit alone",
    "visit in pairs",
    "two staff",
    "police escort",
];

/// Words that make an alert clinical.
const CLINICAL: &[&str] = &[
    "clinical",
    "difficult airway",
    "difficult intubation",
    "hearing impaired",
    "visually impaired",
    "blind",
    "deaf",
    "pacemaker",
    "anticoagulated",
    "anticoagulant",
    "diabetic",
    "epilepsy",
    "latex",
    "mrsa",
    "cpe",
    "infection risk",
    "falls risk",
    "fall risk",
    "learning disability",
    "dementia",
    "implant",
    "transplant",
];

/// The kind the words describe: safeguarding first (it must never be shown to a role that
/// may not see safeguarding), then risk to staff, then clinical.
pub fn kind_from_words(text: &str) -> Option<NamedKind> {
    let text = text.to_lowercase();
    if safeguarding_type(&text).is_some() {
        Some(NamedKind::Safeguarding)
    } else if has_any_word(&text, RISK_TO_STAFF) {
        Some(NamedKind::Alert(AlertKind::RiskToStaff))
    } else if has_any_word(&text, CLINICAL) {
        Some(NamedKind::Alert(AlertKind::Clinical))
    } else {
        None
    }
}

/// What the source said about one alert, whatever its format.
#[derive(Debug, Default)]
pub struct AlertText {
    /// The alert itself: "Large dog at home".
    pub title: String,
    pub description: Option<String>,
    pub recorded_by: Option<String>,
    pub contact: Option<String>,
}

/// The body for an alert of a known kind (or of the kind its words say, or `other`). Words
/// that say safeguarding win over a named kind other than safeguarding: a "clinical" alert
/// reading "child protection plan" is still kept to the roles that see safeguarding.
pub fn body(named: Option<NamedKind>, a: AlertText) -> EntryBody {
    let words = format!(
        "{} {}",
        a.title,
        a.description.as_deref().unwrap_or_default()
    );
    let kind = match (named, kind_from_words(&words)) {
        (_, Some(NamedKind::Safeguarding)) => NamedKind::Safeguarding,
        (Some(n), _) => n,
        (None, Some(w)) => w,
        (None, None) => NamedKind::Alert(AlertKind::Other),
    };
    let description = a
        .description
        .filter(|d| !d.trim().is_empty() && !d.eq_ignore_ascii_case(&a.title));
    match kind {
        NamedKind::Safeguarding => EntryBody::Safeguarding(Safeguarding {
            alert_type: Some(
                safeguarding_type(&words)
                    .unwrap_or("Safeguarding")
                    .to_owned(),
            ),
            description: description.or_else(|| Some(a.title.clone())),
            risk_level: None,
            contact: a.contact,
            recorded_by: a.recorded_by,
        }),
        NamedKind::Alert(kind) => EntryBody::Alert(Alert {
            kind,
            description,
            recorded_by: a.recorded_by,
            contact: a.contact,
        }),
    }
}

/// `word` occurs in `text` on word boundaries (so "dog" does not match "dogma", nor "lpa"
/// "palpable").
pub(crate) fn has_word(text: &str, word: &str) -> bool {
    !word.is_empty()
        && text.match_indices(word).any(|(at, _)| {
            let before = text.get(..at).and_then(|s| s.chars().next_back());
            let after = text.get(at + word.len()..).and_then(|s| s.chars().next());
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// One of `words` occurs in lower-case `text` on word boundaries.
pub(crate) fn has_any_word(text: &str, words: &[&str]) -> bool {
    words.iter().any(|word| has_word(text, word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(named: Option<NamedKind>, title: &str) -> String {
        let text = AlertText {
            title: title.into(),
            ..AlertText::default()
        };
        match body(named, text) {
            EntryBody::Safeguarding(_) => "safeguarding".into(),
            EntryBody::Alert(a) => a.kind.as_str().into(),
            _ => "neither".into(),
        }
    }

    #[test]
    fn kinds_come_from_the_code_then_the_words_then_other() {
        assert_eq!(kind_of(None, "Large dog at home"), "risk-to-staff");
        assert_eq!(kind_of(None, "Difficult airway"), "clinical");
        assert_eq!(kind_of(None, "Prefers morning visits"), "other");
        assert_eq!(
            kind_of(named_kind("RTS"), "Prefers morning visits"),
            "risk-to-staff"
        );
        assert_eq!(kind_of(named_kind("Clinical"), "Large dog"), "clinical");
        assert_eq!(kind_of(None, "Dogmatic about visiting times"), "other");
    }

    #[test]
    fn safeguarding_words_win_over_a_named_kind() {
        assert_eq!(
            kind_of(named_kind("clinical"), "Child protection plan"),
            "safeguarding"
        );
        assert_eq!(
            kind_of(named_kind("SG"), "Known to services"),
            "safeguarding"
        );
    }

    #[test]
    fn unknown_codes_name_no_kind() {
        assert_eq!(named_kind("X99"), None);
        assert_eq!(
            named_kind("Risk to staff"),
            Some(NamedKind::Alert(AlertKind::RiskToStaff))
        );
    }
}
