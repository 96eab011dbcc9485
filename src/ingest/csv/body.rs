//! The typed body fields each entry category takes from a mapping, and what kind of value each
//! one is (text, a date, a number, yes/no, or one of a fixed list).
//!
//! The names are the field names of the body structs in `model::entry`, so a mapping reads like
//! the model; a test proves every listed field and value is accepted by those structs.

use crate::model::Category;

/// What a body field holds, which decides how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    /// Read with the mapping's date formats and stored as ISO 8601.
    Date,
    Number,
    Flag,
    /// One of these values; text is lower-cased and spaces or underscores become `-` first.
    OneOf(&'static [&'static str]),
}

/// One body field: its name, what it holds, and whether every entry needs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyField {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn text(name: &'static str) -> BodyField {
    BodyField {
        name,
        kind: Kind::Text,
        required: false,
    }
}

const fn date(name: &'static str) -> BodyField {
    BodyField {
        name,
        kind: Kind::Date,
        required: false,
    }
}

const fn one_of(name: &'static str, values: &'static [&'static str]) -> BodyField {
    BodyField {
        name,
        kind: Kind::OneOf(values),
        required: true,
    }
}

const DIRECTIVE_KINDS: &[&str] = &[
    "dnacpr",
    "respect",
    "lpa-health-welfare",
    "lpa-property-finance",
    "adrt",
    "other",
];
/// An alert's kind; safeguarding alerts map to the `safeguarding` category instead.
const ALERT_KINDS: &[&str] = &["risk-to-staff", "clinical", "other"];
const FLAG_STATES: &[&str] = &["tested", "positive", "negative", "other"];
const LOCATION_KINDS: &[&str] = &[
    "home",
    "inpatient",
    "care-home",
    "mental-health-unit",
    "step-down",
    "emergency-department",
    "hospice",
    "other-hospital",
    "deceased",
    "not-known",
    "other",
];
const CARE_PLAN_KINDS: &[&str] = &["end-of-life", "crisis", "anticipatory", "other"];
const CONTACT_KINDS: &[&str] = &[
    "aand-e",
    "admission",
    "outpatient",
    "appointment",
    "visit",
    "other",
];
const SERVICES: &[&str] = &["adults", "children"];
const SOCIAL_CARE_KINDS: &[&str] = &[
    "case",
    "package-of-care",
    "allocation",
    "looked-after",
    "child-protection-plan",
    "legal-status",
    "assessment",
    "other",
];

/// The body fields of a category, in the order of the model's struct.
pub(super) fn fields(category: Category) -> &'static [BodyField] {
    match category {
        Category::AdvanceDirective => {
            const {
                &[
                    one_of("kind", DIRECTIVE_KINDS),
                    text("description"),
                    date("review_date"),
                    text("responsible_person"),
                    text("document_location"),
                ]
            }
        }
        Category::Allergy => {
            const {
                &[
                    text("substance"),
                    text("allergy_type"),
                    text("reaction"),
                    text("severity"),
                    text("criticality"),
                ]
            }
        }
        Category::Medication => {
            const {
                &[
                    text("name"),
                    text("dose"),
                    text("route"),
                    text("frequency"),
                    text("quantity"),
                    text("prescriber"),
                    text("kind"),
                ]
            }
        }
        Category::Safeguarding => {
            const {
                &[
                    text("alert_type"),
                    text("description"),
                    text("risk_level"),
                    text("contact"),
                    text("recorded_by"),
                ]
            }
        }
        Category::Alert => {
            const {
                &[
                    one_of("kind", ALERT_KINDS),
                    text("description"),
                    text("recorded_by"),
                    text("contact"),
                ]
            }
        }
        Category::ConditionFlag => {
            const {
                &[
                    BodyField {
                        name: "condition",
                        kind: Kind::Text,
                        required: true,
                    },
                    one_of("state", FLAG_STATES),
                    date("date"),
                    text("detail"),
                ]
            }
        }
        Category::Problem => {
            const {
                &[
                    text("name"),
                    text("kind"),
                    text("clinical_status"),
                    text("verification_status"),
                    text("severity"),
                ]
            }
        }
        Category::Location => {
            const {
                &[
                    one_of("kind", LOCATION_KINDS),
                    text("name"),
                    text("ward"),
                    text("bed"),
                    text("organisation"),
                ]
            }
        }
        Category::CarePlan => {
            const {
                &[
                    one_of("kind", CARE_PLAN_KINDS),
                    text("description"),
                    date("review_date"),
                    text("author"),
                ]
            }
        }
        Category::Result => {
            const {
                &[
                    text("value"),
                    BodyField {
                        name: "numeric",
                        kind: Kind::Number,
                        required: false,
                    },
                    text("unit"),
                    text("reference_range"),
                    text("abnormal_flag"),
                    text("report"),
                    text("panel"),
                    text("panel_code"),
                    text("specimen"),
                    text("comment"),
                ]
            }
        }
        Category::Contact => {
            const {
                &[
                    one_of("kind", CONTACT_KINDS),
                    text("organisation"),
                    text("site"),
                    text("ward"),
                    text("bed"),
                    text("specialty"),
                    text("clinician"),
                    text("reason"),
                    text("discharge_destination"),
                ]
            }
        }
        Category::MentalHealth => {
            const {
                &[
                    text("team"),
                    text("care_coordinator"),
                    text("coordinator_contact"),
                    text("crisis_plan"),
                    text("legal_status"),
                    text("cpa_level"),
                ]
            }
        }
        Category::SocialCare => {
            const {
                &[
                    one_of("service", SERVICES),
                    one_of("kind", SOCIAL_CARE_KINDS),
                    text("description"),
                    text("team"),
                    text("named_worker"),
                    text("worker_contact"),
                    text("legal_status"),
                    text("provider"),
                    text("hours_per_week"),
                ]
            }
        }
        Category::Referral => {
            const {
                &[
                    text("to_service"),
                    text("to_organisation"),
                    text("from_organisation"),
                    text("reason"),
                    text("priority"),
                ]
            }
        }
        Category::CareNetwork => {
            const {
                &[
                    text("agency"),
                    text("team"),
                    text("role"),
                    text("name"),
                    text("phone"),
                    text("email"),
                ]
            }
        }
        Category::NextOfKin => {
            const {
                &[
                    text("name"),
                    text("relationship"),
                    text("phone"),
                    text("address"),
                    BodyField {
                        name: "is_carer",
                        kind: Kind::Flag,
                        required: false,
                    },
                ]
            }
        }
        Category::Immunisation => {
            const {
                &[
                    text("vaccine"),
                    text("dose_number"),
                    text("site"),
                    text("batch"),
                    text("performer"),
                ]
            }
        }
        Category::Procedure => {
            const {
                &[
                    text("name"),
                    text("performer"),
                    text("body_site"),
                    text("outcome"),
                ]
            }
        }
    }
}

/// The spelling a fixed-list value is compared in: `Package of care` → `package-of-care`.
pub(super) fn normalise_choice(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Reads yes/no text the way extracts write it.
pub(super) fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "t" | "1" => Some(true),
        "n" | "no" | "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntryBody;

    fn body(category: Category, choice: Option<(&str, &str)>) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("type".into(), category.as_str().into());
        for f in fields(category) {
            let value = match f.kind {
                Kind::Text | Kind::Date => serde_json::Value::from("x"),
                Kind::Number => serde_json::Value::from(1.5),
                Kind::Flag => serde_json::Value::from(true),
                Kind::OneOf(values) => match choice {
                    Some((name, value)) if name == f.name => serde_json::Value::from(value),
                    _ => serde_json::Value::from(values[0]),
                },
            };
            body.insert(f.name.into(), value);
        }
        serde_json::Value::Object(body)
    }

    /// Every field and every fixed-list value in the table is one the model accepts.
    #[test]
    fn the_table_agrees_with_the_model() {
        for category in Category::ALL {
            let mut bodies = vec![body(category, None)];
            for f in fields(category) {
                if let Kind::OneOf(values) = f.kind {
                    bodies.extend(values.iter().map(|v| body(category, Some((f.name, v)))));
                }
            }
            for json in bodies {
                let parsed: EntryBody =
                    serde_json::from_value(json).unwrap_or_else(|e| panic!("{category}: {e}"));
                assert_eq!(parsed.category(), category);
                // Nothing was silently dropped: the model serialises every field back.
                let back = serde_json::to_value(&parsed).unwrap();
                for f in fields(category) {
                    assert!(
                        back.get(f.name).is_some(),
                        "{category}.{} is not a model field",
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn choices_and_flags_read_loosely() {
        assert_eq!(normalise_choice(" Package of care "), "package-of-care");
        assert_eq!(normalise_choice("LOOKED_AFTER"), "looked-after");
        assert_eq!(parse_flag("Y"), Some(true));
        assert_eq!(parse_flag("no"), Some(false));
        assert_eq!(parse_flag("maybe"), None);
    }
}
