//! One audit event against every rule: what each rule finds, with the events behind it.
//!
//! The evaluator keeps what it has read for the length of one batch (who a user is, who a
//! person is, each user's people per hour), so a busy hour costs one query, not one per event.

use super::rules::{self, Rules};
use crate::error::Result;
use crate::model::nhs_number;
use crate::record::when;
use crate::store::{PersonFacts, StaffIdentity, TrailEvent, TrailFacts};
use chrono::{DateTime, Duration, Timelike, Utc};
use std::collections::{HashMap, HashSet};

/// What a rule found: an alert to raise, or (when one with the same key stands) more evidence
/// for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    /// Rule, user and the person, hour or night it is about: one alert per key.
    pub key: String,
    pub user_id: i64,
    pub person_id: Option<i64>,
    /// What the rule saw, for the privacy officer, without patient data.
    pub detail: String,
    /// Audit event seqs behind it.
    pub evidence: Vec<i64>,
}

/// A user's views in one clock hour (UTC), as far as the batch has read.
struct Hour {
    people: HashSet<i64>,
    seqs: Vec<i64>,
    threshold: Option<i64>,
    fired: bool,
}

/// Household facts of a staff user: family name and postcode, folded for comparison.
#[derive(Clone, Default)]
struct Household {
    family: Option<String>,
    postcode: Option<String>,
}

/// What the watch has learnt in one run, kept from batch to batch: without it each batch of
/// events re-read every user's hour from the trail (for a busy user, their whole trail).
#[derive(Default)]
pub struct Memory {
    staff: HashMap<i64, Option<(StaffIdentity, Household)>>,
    people: HashMap<i64, Option<PersonFacts>>,
    hours: HashMap<(i64, String), Hour>,
}

pub struct Evaluator<'a> {
    rules: &'a Rules,
    facts: TrailFacts<'a>,
    memory: &'a mut Memory,
}

fn fold_name(s: &str) -> String {
    s.trim().to_lowercase()
}

fn fold_postcode(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl<'a> Evaluator<'a> {
    pub fn new(rules: &'a Rules, facts: TrailFacts<'a>, memory: &'a mut Memory) -> Self {
        Self {
            rules,
            facts,
            memory,
        }
    }

    /// Every rule's findings for one event.
    pub fn event(&mut self, e: &TrailEvent) -> Result<Vec<Finding>> {
        let (Some(user), Some(person)) = (e.user_id, e.person_id) else {
            return Ok(Vec::new());
        };
        if e.outcome != "ok" || !self.rules.view_actions.contains(&e.action) {
            return Ok(Vec::new());
        }
        let Ok(at) = DateTime::parse_from_rfc3339(&e.at).map(|t| t.with_timezone(&Utc)) else {
            log::warn!(
                "audit event {} has an unreadable time; the misuse rules skip it",
                e.seq
            );
            return Ok(Vec::new());
        };
        let (local, _) = when::london(at);
        let day = local.date();
        let mut found = Vec::new();
        let facts = self.person(person)?;
        let staff = self.staff(user)?;
        let own = match (&staff, &facts) {
            (Some((id, _)), Some(p)) => match (&id.nhs_number, &p.nhs_number) {
                (Some(mine), Some(theirs)) => {
                    nhs_number::standardise(mine) == nhs_number::standardise(theirs)
                }
                _ => false,
            },
            _ => false,
        };
        let one = |rule: &'static str, key: String, detail: &str| Finding {
            rule,
            key: format!("{rule}:{user}:{key}"),
            user_id: user,
            person_id: Some(person),
            detail: format!("{rule}: {detail}"),
            evidence: vec![e.seq],
        };
        if own && self.rules.own_record.enabled {
            found.push(one(
                rules::OWN_RECORD,
                format!("{person}:{day}"),
                "the user opened their own record (the NHS number set as theirs)",
            ));
        }
        if !own && self.rules.same_household.enabled {
            if let (Some((_, home)), Some(p)) = (&staff, &facts) {
                let same = |mine: &Option<String>,
                            theirs: &Option<String>,
                            fold: fn(&str) -> String| {
                    matches!((mine, theirs), (Some(m), Some(t)) if !m.is_empty() && *m == fold(t))
                };
                if same(&home.family, &p.family, fold_name)
                    && same(&home.postcode, &p.postcode, fold_postcode)
                {
                    found.push(one(
                        rules::SAME_HOUSEHOLD,
                        format!("{person}:{day}"),
                        "the user opened the record of someone with their family name and postcode",
                    ));
                }
            }
        }
        if !own && self.rules.watched_person.enabled {
            if let Some(kind) = facts.as_ref().and_then(|p| p.watched.as_deref()) {
                let what = if kind == "vip" {
                    "a VIP"
                } else {
                    "a member of staff"
                };
                found.push(one(
                    rules::WATCHED_PERSON,
                    format!("{person}:{day}"),
                    &format!("the user opened the record of {what}"),
                ));
            }
        }
        let h = &self.rules.unusual_hours;
        let exempt = e.role.as_ref().is_some_and(|r| h.except_roles.contains(r));
        if h.enabled && !exempt && self.rules.unusual_hour(local.hour()) {
            // A night that spans midnight is one night: counted from the day it began.
            let night = if h.from > h.until && local.hour() < h.until {
                day.pred_opt().unwrap_or(day)
            } else {
                day
            };
            found.push(Finding {
                person_id: None,
                ..one(
                    rules::UNUSUAL_HOURS,
                    night.to_string(),
                    &format!(
                        "the user looked at records between {:02}:00 and {:02}:00 UK time",
                        h.from, h.until
                    ),
                )
            });
        }
        if self.rules.many_records.enabled {
            found.extend(self.many_records(e, user, person, at)?);
        }
        if self.rules.search_without_relationship.enabled && e.action == "view-record" {
            found.extend(self.search_without_relationship(e, user, person)?);
        }
        Ok(found)
    }

    fn person(&mut self, id: i64) -> Result<Option<PersonFacts>> {
        if let Some(known) = self.memory.people.get(&id) {
            return Ok(known.clone());
        }
        let facts = self.facts.person(id)?;
        self.memory.people.insert(id, facts.clone());
        Ok(facts)
    }

    fn staff(&mut self, user: i64) -> Result<Option<(StaffIdentity, Household)>> {
        if let Some(known) = self.memory.staff.get(&user) {
            return Ok(known.clone());
        }
        let found = match self.facts.staff_identity(user)? {
            None => None,
            Some(id) => {
                let own = match (&id.nhs_number, &id.family_name, &id.postcode) {
                    (Some(nhs), None, _) | (Some(nhs), _, None) => {
                        self.facts.household_of(&nhs_number::standardise(nhs))?
                    }
                    _ => None,
                };
                let (own_family, own_postcode) = own.unwrap_or_default();
                let home = Household {
                    family: id.family_name.clone().or(own_family).map(|f| fold_name(&f)),
                    postcode: id
                        .postcode
                        .clone()
                        .or(own_postcode)
                        .map(|p| fold_postcode(&p)),
                };
                Some((id, home))
            }
        };
        self.memory.staff.insert(user, found.clone());
        Ok(found)
    }

    fn many_records(
        &mut self,
        e: &TrailEvent,
        user: i64,
        person: i64,
        at: DateTime<Utc>,
    ) -> Result<Vec<Finding>> {
        let rule = &self.rules.many_records;
        let start = at
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(at);
        let (from, until) = (stamp(start), stamp(start + Duration::hours(1)));
        let key = (user, from.clone());
        if !self.memory.hours.contains_key(&key) {
            let before = self.facts.views_between(
                user,
                &from,
                &until,
                e.seq - 1,
                &self.rules.view_actions,
            )?;
            let hour = Hour {
                people: before.iter().map(|v| v.1).collect(),
                seqs: before.iter().map(|v| v.0).collect(),
                threshold: None,
                fired: false,
            };
            self.memory.hours.insert(key.clone(), hour);
        }
        let Some(hour) = self.memory.hours.get_mut(&key) else {
            return Ok(Vec::new());
        };
        hour.people.insert(person);
        hour.seqs.push(e.seq);
        let seen = hour.people.len() as i64;
        if seen <= rule.floor {
            return Ok(Vec::new());
        }
        let threshold = match hour.threshold {
            Some(t) => t,
            None => {
                let baseline_from = stamp(start - Duration::days(rule.baseline_days));
                let (hours, total) = self.facts.hourly_views(
                    Some(user),
                    None,
                    &baseline_from,
                    &from,
                    &self.rules.view_actions,
                )?;
                let baseline = if hours >= rule.min_history_hours {
                    Some(total as f64 / hours as f64)
                } else {
                    match e.role.as_deref() {
                        Some(role) => {
                            let (hours, total) = self.facts.hourly_views(
                                None,
                                Some(role),
                                &baseline_from,
                                &from,
                                &self.rules.view_actions,
                            )?;
                            (hours > 0).then(|| total as f64 / hours as f64)
                        }
                        None => None,
                    }
                };
                let scaled = baseline.map_or(0, |b| (b * rule.factor).ceil() as i64);
                let t = scaled.max(rule.floor);
                if let Some(hour) = self.memory.hours.get_mut(&key) {
                    hour.threshold = Some(t);
                }
                t
            }
        };
        let Some(hour) = self.memory.hours.get_mut(&key) else {
            return Ok(Vec::new());
        };
        if seen <= threshold {
            return Ok(Vec::new());
        }
        let evidence = if hour.fired {
            vec![e.seq]
        } else {
            hour.seqs.clone()
        };
        hour.fired = true;
        Ok(vec![Finding {
            rule: rules::MANY_RECORDS,
            key: format!("{}:{user}:{from}", rules::MANY_RECORDS),
            user_id: user,
            person_id: None,
            detail: format!(
                "{}: the user looked at more than {threshold} people in the hour from {} UK time \
                 (usual for them or their role: fewer)",
                rules::MANY_RECORDS,
                when::london(start).0.format("%H:%M on %d %b %Y")
            ),
            evidence,
        }])
    }

    fn search_without_relationship(
        &mut self,
        e: &TrailEvent,
        user: i64,
        person: i64,
    ) -> Result<Vec<Finding>> {
        let Some((claim, claimed_at)) = self.facts.last_claim(user, person, e.seq)? else {
            return Ok(Vec::new());
        };
        let Ok(claimed) = DateTime::parse_from_rfc3339(&claimed_at) else {
            return Ok(Vec::new());
        };
        let within = Duration::minutes(self.rules.search_without_relationship.within_minutes);
        let since = stamp(claimed.with_timezone(&Utc) - within);
        let hits = self.facts.search_hits(user, person, &since, claim)?;
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let rule = rules::SEARCH_WITHOUT_RELATIONSHIP;
        let mut evidence = hits;
        evidence.extend([claim, e.seq]);
        Ok(vec![Finding {
            rule,
            key: format!("{rule}:{user}:{claim}"),
            user_id: user,
            person_id: Some(person),
            detail: format!(
                "{rule}: the user found a person by search, claimed a relationship they did not \
                 have (self-claim or broken glass) and opened the record"
            ),
            evidence,
        }])
    }
}
