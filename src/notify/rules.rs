//! The notification rules as data: which events tell whom. A default ships inside the binary
//! (`rules.toml`); a site replaces it with its own file (`[notifications] rules`), as it does
//! the access policy.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::Path;

const SHIPPED: &str = include_str!("rules.toml");

/// Something that happened, as a rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    Attendance,
    Admission,
    Discharge,
    Death,
    SafeguardingAlert,
    DirectiveRecorded,
    DirectiveWithdrawn,
    BreakGlass,
    SelfClaim,
    ObjectionOverride,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attendance => "attendance",
            Self::Admission => "admission",
            Self::Discharge => "discharge",
            Self::Death => "death",
            Self::SafeguardingAlert => "safeguarding-alert",
            Self::DirectiveRecorded => "directive-recorded",
            Self::DirectiveWithdrawn => "directive-withdrawn",
            Self::BreakGlass => "break-glass",
            Self::SelfClaim => "self-claim",
            Self::ObjectionOverride => "objection-override",
        }
    }

    /// What the inbox says happened.
    pub fn label(name: &str) -> &'static str {
        match name {
            "attendance" => "A&E attendance",
            "admission" => "Admission",
            "discharge" => "Discharge",
            "death" => "Death",
            "safeguarding-alert" => "New safeguarding alert",
            "directive-recorded" => "DNACPR or ReSPECT recorded",
            "directive-withdrawn" => "DNACPR or ReSPECT withdrawn",
            "break-glass" => "Broken glass",
            "self-claim" => "Self-claimed relationship",
            "objection-override" => "Objection overridden",
            _ => "Event",
        }
    }

    /// The privacy alert kinds (`privacy_alert.kind`) that are events here.
    pub fn of_alert(kind: &str) -> Option<Self> {
        match kind {
            "break-glass" => Some(Self::BreakGlass),
            "self-claim" => Some(Self::SelfClaim),
            "objection-override" => Some(Self::ObjectionOverride),
            _ => None,
        }
    }
}

/// A standing fact about the person a rule may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    LookedAfter,
    ChildProtectionPlan,
}

impl Condition {
    /// The social-care entry kind (`SocialCareKind` in kebab-case) that shows it.
    pub fn social_care_kind(self) -> &'static str {
        match self {
            Self::LookedAfter => "looked-after",
            Self::ChildProtectionPlan => "child-protection-plan",
        }
    }
}

/// Whose inbox a rule fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipient {
    SocialCareTeam,
    RegisteredGp,
    CaseloadTeam,
    CareNetwork,
    PrivacyOfficer,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub label: String,
    pub events: Vec<Event>,
    #[serde(default)]
    pub only_if: Vec<Condition>,
    pub notify: Recipient,
}

/// The rules in force.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Feed events dated further back than this raise nothing (a backfill is not news).
    #[serde(default = "default_age")]
    pub ignore_older_than_hours: i64,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

fn default_age() -> i64 {
    168
}

impl Rules {
    /// No rules at all: nothing is notified.
    pub fn none() -> Self {
        Self {
            ignore_older_than_hours: default_age(),
            rules: Vec::new(),
        }
    }

    pub fn shipped() -> Result<Self> {
        Self::parse(SHIPPED, "the shipped notification rules")
    }

    /// The shipped rules, or the file that replaces them.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let Some(path) = file else {
            return Self::shipped();
        };
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            doing: "read the notification rules",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let rules: Self = toml::from_str(text)
            .map_err(|e| Error::Invalid(format!("{origin}: {e}; see the shipped rules file")))?;
        let mut names = std::collections::BTreeSet::new();
        for rule in &rules.rules {
            let name = rule.name.trim();
            if name.is_empty() || !names.insert(name.to_owned()) {
                return Err(Error::Invalid(format!(
                    "{origin}: every rule needs a name of its own ({name:?} is blank or repeated)"
                )));
            }
            if rule.events.is_empty() {
                return Err(Error::Invalid(format!(
                    "{origin}: rule {name} names no events"
                )));
            }
            let privacy = rule
                .events
                .iter()
                .any(|e| Event::of_alert(e.as_str()).is_some());
            if privacy != (rule.notify == Recipient::PrivacyOfficer)
                || (privacy
                    && rule
                        .events
                        .iter()
                        .any(|e| Event::of_alert(e.as_str()).is_none()))
            {
                return Err(Error::Invalid(format!(
                    "{origin}: rule {name}: break-glass, self-claim and objection-override go to \
                     the privacy officer, and only they do (a privacy alert names no feed \
                     organisation to tell)"
                )));
            }
        }
        if rules.ignore_older_than_hours < 1 {
            return Err(Error::Invalid(format!(
                "{origin}: ignore_older_than_hours must be at least 1"
            )));
        }
        Ok(rules)
    }

    /// The rules that fire on `event`.
    pub fn on(&self, event: Event) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| r.events.contains(&event))
    }

    /// Whether any rule fires on `event`: the importer asks nothing more when none does.
    pub fn wants(&self, event: Event) -> bool {
        self.on(event).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_parse_and_cover_the_five_promised_kinds() {
        let rules = Rules::shipped().unwrap();
        let notify: Vec<Recipient> = rules.rules.iter().map(|r| r.notify).collect();
        for want in [
            Recipient::SocialCareTeam,
            Recipient::RegisteredGp,
            Recipient::CaseloadTeam,
            Recipient::CareNetwork,
            Recipient::PrivacyOfficer,
        ] {
            assert!(notify.contains(&want), "{want:?}");
        }
        for event in [
            Event::Attendance,
            Event::Admission,
            Event::Discharge,
            Event::Death,
            Event::SafeguardingAlert,
            Event::DirectiveRecorded,
            Event::DirectiveWithdrawn,
            Event::BreakGlass,
            Event::SelfClaim,
            Event::ObjectionOverride,
        ] {
            assert!(rules.wants(event), "{event:?}");
        }
    }

    #[test]
    fn bad_rule_files_are_refused_with_the_reason() {
        let bad = [
            ("[[rule]]\nname = \"a\"\nlabel = \"x\"\nevents = []\nnotify = \"registered-gp\"", "no events"),
            ("[[rule]]\nname = \"a\"\nlabel = \"x\"\nevents = [\"admission\"]\nnotify = \"privacy-officer\"", "privacy officer"),
            ("[[rule]]\nname = \"a\"\nlabel = \"x\"\nevents = [\"break-glass\"]\nnotify = \"registered-gp\"", "privacy officer"),
            ("[[rule]]\nname = \"a\"\nlabel = \"x\"\nevents = [\"admitted\"]\nnotify = \"registered-gp\"", "unknown variant"),
            ("[[rule]]\nname = \"a\"\nlabel = \"x\"\nevents = [\"death\"]\nnotify = \"registered-gp\"\n[[rule]]\nname = \"a\"\nlabel = \"y\"\nevents = [\"death\"]\nnotify = \"care-network\"", "repeated"),
        ];
        for (text, why) in bad {
            let err = Rules::parse(text, "test").unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        let none = Rules::parse("rule = []", "test").unwrap();
        assert!(!none.wants(Event::Admission));
    }
}
