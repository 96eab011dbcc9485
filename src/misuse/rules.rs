//! The rules as data: the shipped file (`rules.toml`) with the site's own file laid over it,
//! key by key, so a site names only what it tunes or turns off.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const SHIPPED: &str = include_str!("rules.toml");

/// The names of the rules, as alerts and files name them.
pub const OWN_RECORD: &str = "own-record";
pub const SAME_HOUSEHOLD: &str = "same-household";
pub const WATCHED_PERSON: &str = "watched-person";
pub const MANY_RECORDS: &str = "many-records";
pub const UNUSUAL_HOURS: &str = "unusual-hours";
pub const SEARCH_WITHOUT_RELATIONSHIP: &str = "search-without-relationship";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManyRecords {
    pub enabled: bool,
    pub factor: f64,
    pub floor: i64,
    pub baseline_days: i64,
    pub min_history_hours: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnusualHours {
    pub enabled: bool,
    pub from: u32,
    pub until: u32,
    pub except_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchWithoutRelationship {
    pub enabled: bool,
    pub within_minutes: i64,
}

/// The rules in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rules {
    #[serde(rename = "view_actions")]
    pub view_actions: Vec<String>,
    pub own_record: Toggle,
    pub same_household: Toggle,
    pub watched_person: Toggle,
    pub many_records: ManyRecords,
    pub unusual_hours: UnusualHours,
    pub search_without_relationship: SearchWithoutRelationship,
}

impl Rules {
    /// The shipped rules, with the site's file (when given) laid over them.
    pub fn load(site: Option<&Path>) -> Result<Self> {
        let site = match site {
            None => None,
            Some(path) => Some((
                path,
                std::fs::read_to_string(path).map_err(|source| Error::Io {
                    doing: "read the misuse rules file",
                    path: path.to_path_buf(),
                    source,
                })?,
            )),
        };
        Self::from_texts(
            site.as_ref()
                .map(|(p, t)| (p.display().to_string(), t.as_str())),
        )
    }

    /// The shipped rules with `site` (its name for messages, its text) laid over them.
    pub fn from_texts(site: Option<(String, &str)>) -> Result<Self> {
        let mut merged: toml::Table = toml::from_str(SHIPPED)
            .map_err(|e| Error::Invalid(format!("the shipped misuse rules: {e}")))?;
        let mut name = "the shipped misuse rules".to_owned();
        if let Some((site_name, text)) = site {
            let over: toml::Table =
                toml::from_str(text).map_err(|e| Error::Invalid(format!("{site_name}: {e}")))?;
            lay_over(&mut merged, over);
            name = site_name;
        }
        let rules: Rules = toml::Value::Table(merged)
            .try_into()
            .map_err(|e| Error::Invalid(format!("{name}: {e}")))?;
        rules
            .check()
            .map_err(|why| Error::Invalid(format!("{name}: {why}")))?;
        Ok(rules)
    }

    fn check(&self) -> std::result::Result<(), String> {
        let h = &self.unusual_hours;
        if h.from > 23 || h.until > 23 {
            return Err("unusual-hours from and until are hours, 0 to 23".into());
        }
        let m = &self.many_records;
        if m.factor.is_nan()
            || m.factor < 1.0
            || m.floor < 1
            || m.baseline_days < 1
            || m.min_history_hours < 1
        {
            return Err(
                "many-records needs factor ≥ 1, and floor, baseline_days and min_history_hours ≥ 1"
                    .into(),
            );
        }
        if self.search_without_relationship.within_minutes < 1 {
            return Err("search-without-relationship within_minutes must be at least 1".into());
        }
        if let Some(bad) = self
            .view_actions
            .iter()
            .find(|a| crate::audit::Action::from_stored(a).is_none())
        {
            return Err(format!(
                "view_actions names {bad:?}, which is not an audit action"
            ));
        }
        Ok(())
    }

    /// Whether an hour of the UK day is unusual.
    pub fn unusual_hour(&self, hour: u32) -> bool {
        let h = &self.unusual_hours;
        if h.from <= h.until {
            (h.from..h.until).contains(&hour)
        } else {
            hour >= h.from || hour < h.until
        }
    }

    /// The rules as TOML, for `sharedcare misuse rules`.
    pub fn to_text(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// Lays `over` onto `base`: tables merge key by key, anything else replaces.
fn lay_over(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => lay_over(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_load_and_a_site_file_tunes_or_turns_off_one_key_at_a_time() {
        let shipped = Rules::from_texts(None).unwrap();
        assert!(shipped.own_record.enabled && shipped.many_records.enabled);
        assert_eq!(shipped.many_records.floor, 40);
        let site = "[many-records]\nfloor = 5\n[own-record]\nenabled = false\n";
        let tuned = Rules::from_texts(Some(("site.toml".into(), site))).unwrap();
        assert_eq!(tuned.many_records.floor, 5);
        assert_eq!(tuned.many_records.factor, shipped.many_records.factor);
        assert!(!tuned.own_record.enabled);
        assert_eq!(tuned.unusual_hours, shipped.unusual_hours);
    }

    #[test]
    fn a_site_file_with_a_typo_or_a_bad_value_is_refused_by_name() {
        for bad in [
            "[own-recrod]\nenabled = false\n",
            "[unusual-hours]\nfrom = 25\n",
            "[many-records]\nfactor = 0.5\n",
            "view_actions = [\"view-everything\"]\n",
            "[own-record]\nenabled = \"no\"\n",
        ] {
            let e = Rules::from_texts(Some(("site.toml".into(), bad))).unwrap_err();
            assert!(e.to_string().contains("site.toml"), "{bad}: {e}");
        }
    }

    #[test]
    fn unusual_hours_may_span_midnight() {
        let night = Rules::from_texts(None).unwrap();
        assert!(night.unusual_hour(23) && night.unusual_hour(0) && night.unusual_hour(5));
        assert!(!night.unusual_hour(6) && !night.unusual_hour(12) && !night.unusual_hour(21));
        let day = Rules::from_texts(Some((
            "s".into(),
            "[unusual-hours]\nfrom = 12\nuntil = 14\n",
        )))
        .unwrap();
        assert!(day.unusual_hour(12) && day.unusual_hour(13));
        assert!(!day.unusual_hour(14) && !day.unusual_hour(11));
    }
}
