//! The recompute: bring the kept facts up to date, count people, write the summary tables.
//!
//! Who is counted: every (surviving) person in the record except those who opted out — an
//! entry the condition set's `opt_out` rules match (a national data opt-out a source sends),
//! the golden record's objection flag, or a standing recorded objection. Their entries are
//! dropped before anything is counted, and how many were left out is stored nowhere.
//! Denominators are the living people counted, by area, age band and sex.

use super::areas::{self, Lookup};
use super::conditions::{ConditionSet, Lasting};
use super::weeks::{date_of, name, window};
use super::{facts, poisson, PopulationConfig, Read};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::population::{AreaRow, FigureRow, HotSpotRow, RunRow};
use crate::store::Store;
use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

pub const REGION: &str = "region";
pub const AGE_BANDS: &[(i32, &str)] = &[
    (0, "0-4"),
    (5, "5-11"),
    (12, "12-17"),
    (18, "18-29"),
    (30, "30-44"),
    (45, "45-64"),
    (65, "65-74"),
    (75, "75-84"),
    (85, "85+"),
];
pub const SEXES: &[&str] = &["female", "male", "not-known"];
/// Ethnic groups (the census's five, from the NHS ethnic category codes), then "not stated"
/// (code Z) and "not known" (no code sent): (key, name, category letters).
pub const ETHNIC_GROUPS: &[(&str, &str, &str)] = &[
    ("white", "White", "ABC"),
    ("mixed", "Mixed or multiple ethnic groups", "DEFG"),
    ("asian", "Asian or Asian British", "HJKL"),
    ("black", "Black or Black British", "MNP"),
    ("other", "Other ethnic group", "RS"),
    ("not-stated", "Not stated", "Z"),
    ("not-known", "Not known", ""),
];

pub fn ethnic_group(category: Option<&str>) -> &'static str {
    let letter = category.and_then(|c| c.chars().next());
    ETHNIC_GROUPS
        .iter()
        .find(|(_, _, letters)| letter.is_some_and(|l| letters.contains(l)))
        .map_or("not-known", |(key, _, _)| key)
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub conditions: usize,
    pub figures: usize,
    pub hot_spots: usize,
    pub first_week: String,
    pub last_week: String,
    pub seconds: f64,
    /// Whether every entry was read (the first run, `--full`, or a changed condition set).
    pub read_every_entry: bool,
    /// Entries read because they were added since the last run (every entry when all were).
    pub new_entries_read: usize,
    /// Entries read because they changed since the last run.
    pub changed_entries_read: usize,
}

impl Report {
    pub fn summary(&self) -> String {
        let read = match self.read_every_entry {
            true => format!("read every entry ({})", self.new_entries_read),
            false => format!(
                "read {} new and {} changed entries",
                self.new_entries_read, self.changed_entries_read
            ),
        };
        format!(
            "population figures: {} conditions, {} counts, {} hot spots, weeks {} to {}, {read}, {:.1} s",
            self.conditions,
            self.figures,
            self.hot_spots,
            self.first_week,
            self.last_week,
            self.seconds
        )
    }
}

struct Who {
    district: String,
    la: String,
    birth: Option<NaiveDate>,
    sex: &'static str,
    ethnic_group: &'static str,
    alive: bool,
}

/// One qualifying entry: when it starts and, for "open" conditions, when it ended.
#[derive(Clone)]
struct Spell {
    start: NaiveDate,
    end: Option<NaiveDate>,
}

pub fn age_band(birth: Option<NaiveDate>, on: NaiveDate) -> &'static str {
    let Some(b) = birth else { return "not-known" };
    let mut age = on.year() - b.year();
    if (on.month(), on.day()) < (b.month(), b.day()) {
        age -= 1;
    }
    AGE_BANDS
        .iter()
        .rev()
        .find(|(from, _)| age >= *from)
        .map_or("not-known", |(_, band)| band)
}

fn sex_of(text: Option<&str>) -> &'static str {
    match text.map(str::trim) {
        Some("female") => "female",
        Some("male") => "male",
        _ => "not-known",
    }
}

type Key = (&'static str, &'static str, String, usize);

pub fn recompute(
    store: &mut Store,
    set: &ConditionSet,
    lookup: &Lookup,
    settings: &PopulationConfig,
    clock: &dyn Clock,
    read: Read,
) -> Result<Report> {
    let started = std::time::Instant::now();
    let today = clock.now().date_naive();
    let mut people: HashMap<i64, Who> = HashMap::new();
    let mut excluded: HashSet<i64> = HashSet::new();
    let mut la_names: HashMap<String, String> = HashMap::new();
    store.population_people(&mut |p| {
        if p.objected {
            excluded.insert(p.id);
        }
        let district = areas::district(p.postcode.as_deref());
        let (la, la_name) = lookup.parent(&district);
        la_names.entry(la.clone()).or_insert(la_name);
        people.insert(
            p.id,
            Who {
                district,
                la,
                birth: date_of(p.birth_date.as_deref()),
                sex: sex_of(p.sex.as_deref()),
                ethnic_group: ethnic_group(p.ethnicity.as_deref()),
                alive: !p.deceased,
            },
        );
    })?;

    let update = facts::update(store, set, scan_threads(settings), read)?;
    let links = store.population_links()?;
    let kept = read_facts(store, set, &links, today)?;
    excluded.extend(kept.opted_out);
    let (spells, data_to) = (kept.spells, kept.data_to);

    let weeks = window(data_to.unwrap_or(today), settings.weeks);
    let week_names: Vec<String> = weeks.iter().map(|d| name(*d)).collect();
    let last = weeks.len().saturating_sub(1);
    let week_end = |w: usize| weeks[w].checked_add_days(Days::new(6)).unwrap_or(weeks[w]);
    let last_end = week_end(last);

    // Denominators: the living people counted.
    let mut denominators: HashMap<(&'static str, String), i64> = HashMap::new();
    for (id, who) in &people {
        if !who.alive || excluded.contains(id) {
            continue;
        }
        for key in [
            ("region", REGION.to_owned()),
            ("la", who.la.clone()),
            ("district", who.district.clone()),
            (
                "age-sex",
                format!("{}|{}", age_band(who.birth, last_end), who.sex),
            ),
            ("ethnicity", who.ethnic_group.to_owned()),
        ] {
            *denominators.entry(key).or_default() += 1;
        }
    }

    let mut figures = Vec::new();
    let mut hot_spots = Vec::new();
    for (i, condition) in set.conditions.iter().enumerate() {
        let mut counts: HashMap<Key, i64> = HashMap::new();
        for (person, list) in &spells[i] {
            if excluded.contains(person) {
                continue;
            }
            let Some(who) = people.get(person) else {
                continue;
            };
            let mut add = |measure: &'static str, w: usize| {
                for (level, area) in [
                    ("region", REGION.to_owned()),
                    ("la", who.la.clone()),
                    ("district", who.district.clone()),
                ] {
                    *counts.entry((measure, level, area, w)).or_default() += 1;
                }
            };
            for (w, &from) in weeks.iter().enumerate() {
                let to = week_end(w);
                if list.iter().any(|s| s.start >= from && s.start <= to) {
                    add("new", w);
                }
                if is_current(condition.lasting(), list, to) {
                    add("current", w);
                }
            }
            if is_current(condition.lasting(), list, last_end) {
                let key = format!("{}|{}", age_band(who.birth, last_end), who.sex);
                *counts.entry(("current", "age-sex", key, last)).or_default() += 1;
                let group = who.ethnic_group.to_owned();
                *counts
                    .entry(("current", "ethnicity", group, last))
                    .or_default() += 1;
            }
        }
        if condition.hot_spots {
            hot_spots.extend(find_hot_spots(
                &condition.key,
                &counts,
                &denominators,
                &week_names,
                settings,
            ));
        }
        figures.extend(
            counts
                .into_iter()
                .map(|((measure, level, area, w), people)| FigureRow {
                    condition: condition.key.clone(),
                    measure: measure.into(),
                    level: level.into(),
                    area,
                    week: week_names[w].clone(),
                    people,
                }),
        );
    }

    let area_rows: Vec<AreaRow> = denominators
        .into_iter()
        .map(|((level, area), people)| {
            let (name, parent) = match level {
                "district" => (area.clone(), Some(lookup.parent(&area).0)),
                "la" => (
                    la_names.get(&area).cloned().unwrap_or_else(|| area.clone()),
                    None,
                ),
                "region" => ("The region".to_owned(), None),
                "ethnicity" => (
                    ETHNIC_GROUPS
                        .iter()
                        .find(|(key, _, _)| *key == area)
                        .map_or_else(|| area.clone(), |(_, name, _)| (*name).to_owned()),
                    None,
                ),
                _ => (area.clone(), None),
            };
            AreaRow {
                level: level.into(),
                area,
                name,
                parent,
                people,
            }
        })
        .collect();
    let totals = serde_json::to_string(&store.stats()?)
        .map_err(|e| Error::Invalid(format!("the record's totals: {e}")))?;
    let run = RunRow {
        record_totals: Some(totals),
        computed_at: clock.now_text(),
        data_to: store.population_data_to()?,
        first_week: week_names.first().cloned().unwrap_or_default(),
        last_week: week_names.last().cloned().unwrap_or_default(),
        seconds: started.elapsed().as_secs_f64(),
    };
    let tx = store.begin()?;
    tx.replace_population(&run, &figures, &area_rows, &hot_spots)?;
    tx.commit()?;
    Ok(Report {
        conditions: set.conditions.len(),
        figures: figures.len(),
        hot_spots: hot_spots.len(),
        first_week: run.first_week,
        last_week: run.last_week,
        seconds: started.elapsed().as_secs_f64(),
        read_every_entry: update.full,
        new_entries_read: update.entries_read,
        changed_entries_read: update.changed_read,
    })
}

/// What the kept facts say: each condition's spells per person, who opted out, and the
/// latest start date on or before today.
struct Kept {
    spells: Vec<HashMap<i64, Vec<Spell>>>,
    opted_out: HashSet<i64>,
    data_to: Option<NaiveDate>,
}

/// How many threads read the entries: the configured number, else one per core, at most four
/// (the scan is bound by reading and decoding rows, which share nothing but the file).
fn scan_threads(settings: &PopulationConfig) -> usize {
    settings
        .scan_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

/// Reads the kept facts (brought up to date by [`facts::update`]) as each person's spells.
fn read_facts(
    store: &Store,
    set: &ConditionSet,
    links: &HashMap<i64, i64>,
    today: NaiveDate,
) -> Result<Kept> {
    let index: HashMap<&str, usize> = set
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.as_str(), i))
        .collect();
    let mut kept = Kept {
        spells: vec![HashMap::new(); set.conditions.len()],
        opted_out: HashSet::new(),
        data_to: None,
    };
    store.population_facts(&mut |f| {
        let Some(&person) = links.get(&f.source_person_id) else {
            return;
        };
        if f.opted_out {
            kept.opted_out.insert(person);
            return;
        }
        let Some(start) = date_of(f.start_on.as_deref()) else {
            return;
        };
        if start <= today {
            kept.data_to = kept.data_to.max(Some(start));
        }
        let end = date_of(f.end_on.as_deref());
        for key in f.conditions.split(' ') {
            if let Some(&i) = index.get(key) {
                kept.spells[i]
                    .entry(person)
                    .or_default()
                    .push(Spell { start, end });
            }
        }
    })?;
    Ok(kept)
}

/// In the condition at the end of a week (`at`).
fn is_current(lasting: Lasting, spells: &[Spell], at: NaiveDate) -> bool {
    spells.iter().any(|s| {
        s.start <= at
            && match lasting {
                Lasting::Ever => true,
                Lasting::WhileOpen => s.end.is_none_or(|e| e >= at),
                Lasting::Days(n) => (at - s.start).num_days() < n,
            }
    })
}

/// Areas (districts and the higher level) whose rate of new cases in a week is significantly
/// above the region's: the lower limit of the exact Poisson interval of the area's rate, at
/// [`poisson::LEVEL`], lies above the region's rate. Areas with fewer people than the minimum
/// denominator are not tested.
fn find_hot_spots(
    condition: &str,
    counts: &HashMap<Key, i64>,
    denominators: &HashMap<(&'static str, String), i64>,
    week_names: &[String],
    settings: &PopulationConfig,
) -> Vec<HotSpotRow> {
    let region_people = denominators
        .get(&("region", REGION.to_owned()))
        .copied()
        .unwrap_or(0);
    if region_people == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (w, week) in week_names.iter().enumerate() {
        let region_new = counts
            .get(&("new", "region", REGION.to_owned(), w))
            .copied()
            .unwrap_or(0);
        let region_rate = region_new as f64 / region_people as f64;
        for ((level, area), &people) in denominators {
            if !matches!(*level, "district" | "la") || people < settings.min_denominator.max(1) {
                continue;
            }
            let observed = counts
                .get(&("new", *level, area.clone(), w))
                .copied()
                .unwrap_or(0);
            let (lower, _) = poisson::interval(observed.max(0) as u64, poisson::LEVEL);
            let rate_lower = lower / people as f64;
            if observed > 0 && rate_lower > region_rate {
                out.push(HotSpotRow {
                    condition: condition.into(),
                    level: (*level).into(),
                    area: area.clone(),
                    week: week.clone(),
                    rate_lower: rate_lower * 100_000.0,
                    region_rate: region_rate * 100_000.0,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_count_birthdays() {
        let on = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        let born = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(age_band(born(2019, 4, 1), on), "0-4");
        assert_eq!(age_band(born(2019, 3, 31), on), "5-11");
        assert_eq!(age_band(born(1930, 1, 1), on), "85+");
        assert_eq!(age_band(None, on), "not-known");
    }

    #[test]
    fn current_follows_how_long_a_condition_lasts() {
        let d = |day| NaiveDate::from_ymd_opt(2024, 3, day).unwrap();
        let spells = [Spell {
            start: d(1),
            end: Some(d(10)),
        }];
        assert!(is_current(Lasting::Ever, &spells, d(30)));
        assert!(!is_current(Lasting::WhileOpen, &spells, d(11)));
        assert!(is_current(Lasting::Days(28), &spells, d(28)));
        assert!(!is_current(Lasting::Days(28), &spells, d(29)));
        assert!(!is_current(
            Lasting::Ever,
            &spells,
            d(1).pred_opt().unwrap()
        ));
    }
}
