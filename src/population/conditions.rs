//! The condition set: which entries put a person in a condition, as data (`conditions.toml`,
//! shipped in the binary; an operator's own file replaces it). The dashboard's figures and the
//! record banner's test flags (COVID-19 and any other a condition names in its `[condition.flag]`)
//! read the same rules, so a new condition or a new banner flag needs no code.

use crate::error::{Error, Result};
use crate::model::entry::FlagState;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The shipped condition set.
pub const SHIPPED: &str = include_str!("conditions.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSet {
    pub opt_out: OptOut,
    #[serde(rename = "condition")]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptOut {
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub key: String,
    pub name: String,
    /// "ever", "open" or "N days".
    pub current: String,
    #[serde(default)]
    pub hot_spots: bool,
    /// A result this condition's result rules name is a test the record's banner shows.
    #[serde(default)]
    pub flag: Option<TestFlag>,
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

/// How a test's result reads on the record's banner: the importers turn every result a flagged
/// condition's result rules name into a condition flag with this name and a state read from
/// the result's words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFlag {
    /// What the banner calls it ("COVID-19").
    pub name: String,
    /// Whole words in the result's value or interpretation that make it positive …
    pub positive_words: Vec<String>,
    /// … or negative; read first, since "not detected" contains "detected".
    pub negative_words: Vec<String>,
}

impl TestFlag {
    /// The state `evidence` (the result's value, flags and interpretation) gives the test.
    pub fn state(&self, evidence: &str) -> FlagState {
        let text = evidence.to_lowercase();
        let any = |words: &[String]| {
            words
                .iter()
                .any(|w| crate::ingest::alerts::has_word(&text, &w.to_lowercase()))
        };
        if any(&self.negative_words) {
            FlagState::Negative
        } else if any(&self.positive_words) {
            FlagState::Positive
        } else {
            FlagState::Tested
        }
    }

    /// The stable word in the flag entries' references: "covid" for "COVID-19".
    pub fn reference_word(&self) -> String {
        self.name
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    }
}

/// How long a person stays in a condition's current count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lasting {
    Ever,
    WhileOpen,
    Days(i64),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub category: String,
    #[serde(default)]
    pub codes: Vec<String>,
    #[serde(default)]
    pub title_words: Vec<String>,
    #[serde(default)]
    pub codes_or_titles: bool,
    #[serde(default)]
    pub body: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub value_words: Vec<String>,
    #[serde(default)]
    pub not_value_words: Vec<String>,
}

/// What a rule looks at in one entry.
pub struct EntryFacts<'a> {
    pub category: &'a str,
    pub code: Option<&'a str>,
    pub title: &'a str,
    pub body: &'a serde_json::Value,
}

fn has_any(text: &str, words: &[String]) -> bool {
    let text = text.to_lowercase();
    words.iter().any(|w| text.contains(&w.to_lowercase()))
}

impl Rule {
    pub fn matches(&self, e: &EntryFacts<'_>) -> bool {
        if e.category != self.category {
            return false;
        }
        let code = e
            .code
            .is_some_and(|c| self.codes.iter().any(|k| k.eq_ignore_ascii_case(c.trim())));
        let title = has_any(e.title, &self.title_words);
        let named = match (self.codes.is_empty(), self.title_words.is_empty()) {
            (true, true) => true,
            (false, true) => code,
            (true, false) => title,
            (false, false) if self.codes_or_titles => code || title,
            (false, false) => code && title,
        };
        named && self.body_matches(e.body) && self.value_matches(e.body)
    }

    fn body_matches(&self, body: &serde_json::Value) -> bool {
        self.body.iter().all(|(field, allowed)| {
            body.get(field)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v.trim())))
        })
    }

    fn value_matches(&self, body: &serde_json::Value) -> bool {
        if self.value_words.is_empty() && self.not_value_words.is_empty() {
            return true;
        }
        let value = body.get("value").and_then(serde_json::Value::as_str);
        let Some(value) = value else { return false };
        // Negative words first: "not detected" contains "detected".
        !has_any(value, &self.not_value_words)
            && (self.value_words.is_empty() || has_any(value, &self.value_words))
    }
}

impl Condition {
    pub fn matches(&self, e: &EntryFacts<'_>) -> bool {
        self.rules.iter().any(|r| r.matches(e))
    }

    pub fn lasting(&self) -> Lasting {
        match self.current.trim() {
            "ever" => Lasting::Ever,
            "open" => Lasting::WhileOpen,
            other => other
                .strip_suffix("days")
                .and_then(|n| n.trim().parse().ok())
                .map_or(Lasting::Ever, Lasting::Days),
        }
    }
}

impl ConditionSet {
    pub fn shipped() -> Result<Self> {
        Self::parse(SHIPPED, "the shipped conditions.toml")
    }

    /// The operator's file when one is configured, else the shipped set.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Self::shipped();
        };
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            doing: "read the condition set",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, name: &str) -> Result<Self> {
        let set: Self = toml::from_str(text)
            .map_err(|e| Error::Invalid(format!("{name} is not a condition set: {e}")))?;
        for c in &set.conditions {
            let ok = c
                .key
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !ok || c.key.is_empty() {
                return Err(Error::Invalid(format!(
                    "{name}: condition key {:?} must be lower-case letters, digits and '-'",
                    c.key
                )));
            }
            if c.rules.is_empty() {
                return Err(Error::Invalid(format!(
                    "{name}: condition {} has no rule",
                    c.key
                )));
            }
            if let Some(flag) = &c.flag {
                if flag.reference_word().is_empty() || flag.positive_words.is_empty() {
                    return Err(Error::Invalid(format!(
                        "{name}: condition {}: a flag needs a name that starts with a letter or \
                         digit and at least one positive word",
                        c.key
                    )));
                }
            }
            let lasting_ok = matches!(c.current.trim(), "ever" | "open")
                || c.current
                    .trim()
                    .strip_suffix("days")
                    .is_some_and(|n| n.trim().parse::<i64>().is_ok_and(|n| n > 0));
            if !lasting_ok {
                return Err(Error::Invalid(format!(
                    "{name}: condition {}: current = {:?}; use \"ever\", \"open\" or \"N days\"",
                    c.key, c.current
                )));
            }
        }
        Ok(set)
    }

    pub fn get(&self, key: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.key == key)
    }

    pub fn opted_out(&self, e: &EntryFacts<'_>) -> bool {
        self.opt_out.rules.iter().any(|r| r.matches(e))
    }

    /// Categories any rule reads: the only entries the figures need.
    pub fn categories(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .conditions
            .iter()
            .flat_map(|c| c.rules.iter())
            .chain(self.opt_out.rules.iter())
            .map(|r| r.category.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The set the importers' test flags read: the operator's once [`install`]ed, else the shipped.
static ACTIVE: RwLock<Option<Arc<ConditionSet>>> = RwLock::new(None);

/// Makes `set` the one the importers read their test flags from (at start-up, from the
/// configuration), so the banner and the dashboard follow the same file.
pub fn install(set: ConditionSet) {
    let mut active = ACTIVE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *active = Some(Arc::new(set));
}

fn active() -> Option<Arc<ConditionSet>> {
    static SHIPPED_SET: std::sync::OnceLock<Option<Arc<ConditionSet>>> = std::sync::OnceLock::new();
    let installed = ACTIVE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    installed.or_else(|| {
        SHIPPED_SET
            .get_or_init(|| ConditionSet::shipped().ok().map(Arc::new))
            .clone()
    })
}

/// Letters and digits only, lower case: "SARS-CoV-2" and "sarscov2" read alike.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The test flag of the first flagged condition whose result rules name a test with one of
/// `codes` or whose title words occur in one of `names` (compared on letters and digits): how
/// the importers decide that a result is, say, a COVID-19 test.
pub fn test_flag(codes: &[&str], names: &[&str]) -> Option<TestFlag> {
    let set = active()?;
    let names: Vec<String> = names.iter().map(|n| squash(n)).collect();
    set.conditions
        .iter()
        .filter(|c| c.flag.is_some())
        .find(|c| {
            c.rules.iter().filter(|r| r.category == "result").any(|r| {
                let by_code = codes
                    .iter()
                    .any(|code| r.codes.iter().any(|k| k.eq_ignore_ascii_case(code.trim())));
                let by_name = r
                    .title_words
                    .iter()
                    .map(|w| squash(w))
                    .any(|w| !w.is_empty() && names.iter().any(|n| n.contains(&w)));
                by_code || by_name
            })
        })
        .and_then(|c| c.flag.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_are_read_on_letters_and_digits() {
        let covid = |name: &str| test_flag(&[], &[name]).map(|f| f.name);
        assert_eq!(covid("SARS-CoV-2 RNA").as_deref(), Some("COVID-19"));
        assert_eq!(covid("COVID19 PCR").as_deref(), Some("COVID-19"));
        assert_eq!(covid("Full blood count"), None);
    }

    #[test]
    fn the_shipped_set_parses_and_names_the_covid_test_codes() {
        let set = ConditionSet::shipped().unwrap();
        assert!(set.conditions.len() >= 9);
        assert!(test_flag(&["94500-6"], &[]).is_some());
        assert!(test_flag(&["12345-6"], &[]).is_none());
    }

    #[test]
    fn a_flag_reads_negative_words_first_and_whole() {
        let flag = test_flag(&["94500-6"], &[]).unwrap();
        assert_eq!(flag.state("Not detected"), FlagState::Negative);
        assert_eq!(flag.state("SARS-CoV-2 RNA DETECTED"), FlagState::Positive);
        assert_eq!(flag.state("POS"), FlagState::Positive);
        assert_eq!(
            flag.state("possible contamination, repeat"),
            FlagState::Tested
        );
        assert_eq!(flag.reference_word(), "covid");
    }

    #[test]
    fn a_positive_result_needs_a_positive_value_and_no_negative_one() {
        let set = ConditionSet::shipped().unwrap();
        let positive = set.get("covid-positive").unwrap();
        let body = |v: &str| serde_json::json!({"type": "result", "value": v});
        let facts = |b| EntryFacts {
            category: "result",
            code: Some("94500-6"),
            title: "SARS-CoV-2 RNA PCR",
            body: b,
        };
        let (yes, no) = (body("Detected"), body("Not detected"));
        assert!(positive.matches(&facts(&yes)));
        assert!(!positive.matches(&facts(&no)));
        let flag = serde_json::json!({"type": "condition-flag", "condition": "COVID-19", "state": "positive"});
        let e = EntryFacts {
            category: "condition-flag",
            code: None,
            title: "COVID-19",
            body: &flag,
        };
        assert!(positive.matches(&e));
        let opt_out = EntryFacts {
            category: "result",
            code: Some("827241000000103"),
            title: "x",
            body: &flag,
        };
        assert!(set.opted_out(&opt_out));
    }

    #[test]
    fn a_bad_condition_file_is_refused_with_its_reason() {
        let bad = "[opt_out]\nrule = []\n[[condition]]\nkey = \"Bad Key\"\nname = \"x\"\ncurrent = \"ever\"\n[[condition.rule]]\ncategory = \"problem\"\n";
        let e = ConditionSet::parse(bad, "test").unwrap_err().to_string();
        assert!(e.contains("Bad Key"), "{e}");
    }
}
