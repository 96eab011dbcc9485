//! The figures as they may be shown: every count through [`super::suppress`], rates only
//! over shown counts and large enough denominators, hot spots only where the count is shown.
//! This is the only way out of the summary tables for pages and downloads.

use super::compute::{AGE_BANDS, ETHNIC_GROUPS, REGION, SEXES};
use super::suppress::{suppress, suppress_series, suppress_with, Shown, Sum};
use super::{ConditionSet, PopulationConfig};
use crate::error::Result;
use crate::store::population::AreaRow;
use crate::store::Store;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub week: String,
    pub new: Shown,
    pub current: Shown,
    /// New people per 100,000 that week.
    pub rate: Option<f64>,
    /// New this week minus new last week, where both are shown.
    pub change: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaWeek {
    pub new: Shown,
    pub rate: Option<f64>,
    pub change: Option<i64>,
    pub hot_spot: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Area {
    /// "la" or "district".
    pub level: String,
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    /// One per week of [`Published::weeks`].
    pub weeks: Vec<AreaWeek>,
    /// People in the condition at the end of the last week, and per 100,000.
    pub current: Shown,
    pub current_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PyramidRow {
    pub band: &'static str,
    /// Female, male, not known: in [`SEXES`] order.
    pub cells: Vec<Shown>,
}

/// People in the condition at the end of the last week in one ethnic group.
#[derive(Debug, Clone, Serialize)]
pub struct EthnicRow {
    pub group: &'static str,
    pub name: &'static str,
    pub current: Shown,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub key: String,
    pub name: String,
    pub threshold: i64,
    pub computed_at: String,
    pub data_to: Option<String>,
    pub weeks: Vec<String>,
    pub trend: Vec<TrendRow>,
    /// Local authorities then districts, each with every week.
    pub areas: Vec<Area>,
    /// Current at the last week, by age band and sex; `pyramid_total` their sum.
    pub pyramid: Vec<PyramidRow>,
    pub pyramid_total: Shown,
    /// Current at the last week by ethnic group; its total is the pyramid's.
    pub ethnicity: Vec<EthnicRow>,
    /// Whether any feed sent an ethnic category for anyone counted.
    pub ethnicity_recorded: bool,
    /// (week, level, area code) of every hot spot whose count is shown.
    pub hot_spots: Vec<(String, String, String)>,
}

fn rate(shown: Shown, people: i64, min: i64) -> Option<f64> {
    let n = shown.count()?;
    (people >= min && people > 0).then(|| n as f64 * 100_000.0 / people as f64)
}

fn change(now: Shown, before: Option<Shown>) -> Option<i64> {
    Some(now.count()? - before?.count()?)
}

/// The condition's figures, suppressed; `None` when the condition or the figures do not exist.
pub fn published(
    store: &Store,
    set: &ConditionSet,
    settings: &PopulationConfig,
    key: &str,
) -> Result<Option<Published>> {
    let Some(condition) = set.get(key) else {
        return Ok(None);
    };
    // Before the first recompute: a condition with no figures at all.
    let run = store
        .population_run()?
        .unwrap_or(crate::store::population::RunRow {
            computed_at: String::new(),
            data_to: None,
            first_week: String::new(),
            last_week: String::new(),
            seconds: 0.0,
            record_totals: None,
        });
    let t = settings.small_number.max(1);
    let min = settings.min_denominator;
    let areas = store.population_areas()?;
    let weeks = week_list(&run.first_week, &run.last_week);
    let mut counts: HashMap<(String, String, String, String), i64> = HashMap::new();
    for f in store.population_figures(key)? {
        counts.insert((f.measure, f.level, f.area, f.week), f.people);
    }
    let get = |m: &str, l: &str, a: &str, w: &str| {
        counts
            .get(&(m.into(), l.into(), a.into(), w.into()))
            .copied()
            .unwrap_or(0)
    };
    let people = |level: &str, area: &str| {
        areas
            .iter()
            .find(|a| a.level == level && a.area == area)
            .map_or(0, |a| a.people)
    };
    let las: Vec<&AreaRow> = areas.iter().filter(|a| a.level == "la").collect();
    let districts: Vec<&AreaRow> = areas.iter().filter(|a| a.level == "district").collect();

    // One column per week: region, then local authorities, then districts.
    let mut columns: Vec<Vec<Shown>> = Vec::new();
    for w in &weeks {
        let mut values = vec![get("new", "region", REGION, w)];
        values.extend(las.iter().map(|a| get("new", "la", &a.area, w)));
        values.extend(districts.iter().map(|a| get("new", "district", &a.area, w)));
        columns.push(suppress(&values, &area_sums(&las, &districts), t));
    }
    let current: Vec<i64> = weeks
        .iter()
        .map(|w| get("current", "region", REGION, w))
        .collect();
    let current_shown = suppress_series(&current, t);
    let region_people = people("region", REGION);
    // In the condition at the end of the last week, by area: tied to the trend's last current
    // count (shown or hidden there) as the pyramid is.
    let last = weeks.last().cloned().unwrap_or_default();
    let region_now = current_shown
        .last()
        .map(|s| vec![(0, *s)])
        .unwrap_or_default();
    let mut values = vec![get("current", "region", REGION, &last)];
    values.extend(las.iter().map(|a| get("current", "la", &a.area, &last)));
    values.extend(
        districts
            .iter()
            .map(|a| get("current", "district", &a.area, &last)),
    );
    let current_by_area = suppress_with(&values, &area_sums(&las, &districts), t, &region_now);
    let trend: Vec<TrendRow> = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| TrendRow {
            week: w.clone(),
            new: columns[i][0],
            current: current_shown[i],
            rate: rate(columns[i][0], region_people, min),
            change: change(columns[i][0], i.checked_sub(1).map(|p| columns[p][0])),
        })
        .collect();

    let hot: HashSet<(String, String, String)> = store
        .population_hot_spots(key)?
        .into_iter()
        .map(|h| (h.week, h.level, h.area))
        .collect();
    let mut out_areas = Vec::new();
    let mut hot_spots = Vec::new();
    for (offset, list) in [(1, &las), (1 + las.len(), &districts)] {
        for (j, a) in list.iter().enumerate() {
            let cells: Vec<AreaWeek> = weeks
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let new = columns[i][offset + j];
                    let hot_spot = new.count().is_some()
                        && hot.contains(&(w.clone(), a.level.clone(), a.area.clone()));
                    if hot_spot {
                        hot_spots.push((w.clone(), a.level.clone(), a.area.clone()));
                    }
                    AreaWeek {
                        new,
                        rate: rate(new, a.people, min),
                        change: change(new, i.checked_sub(1).map(|p| columns[p][offset + j])),
                        hot_spot,
                    }
                })
                .collect();
            let current = current_by_area[offset + j];
            out_areas.push(Area {
                current,
                current_rate: rate(current, a.people, min),
                level: a.level.clone(),
                code: a.area.clone(),
                name: a.name.clone(),
                parent: a.parent.clone(),
                weeks: cells,
            });
        }
    }
    hot_spots.sort();

    // The pyramid: current at the last week; its total is the trend's last current count.
    let mut values = vec![get("current", "region", REGION, &last)];
    for (_, band) in AGE_BANDS.iter().chain([(0, "not-known")].iter()) {
        for sex in SEXES {
            values.push(get("current", "age-sex", &format!("{band}|{sex}"), &last));
        }
    }
    let sums = [Sum {
        total: 0,
        parts: (1..values.len()).collect(),
    }];
    let shown = suppress_with(&values, &sums, t, &region_now);
    let pyramid = AGE_BANDS
        .iter()
        .map(|(_, b)| *b)
        .chain(["not-known"])
        .enumerate()
        .map(|(i, band)| PyramidRow {
            band,
            cells: shown[1 + i * SEXES.len()..1 + (i + 1) * SEXES.len()].to_vec(),
        })
        .collect();

    // By ethnic group: another split of the same total.
    let mut values = vec![get("current", "region", REGION, &last)];
    values.extend(
        ETHNIC_GROUPS
            .iter()
            .map(|(group, _, _)| get("current", "ethnicity", group, &last)),
    );
    let sums = [Sum {
        total: 0,
        parts: (1..values.len()).collect(),
    }];
    let by_group = suppress_with(&values, &sums, t, &region_now);
    let ethnicity = ETHNIC_GROUPS
        .iter()
        .enumerate()
        .map(|(i, (group, name, _))| EthnicRow {
            group,
            name,
            current: by_group[1 + i],
            rate: rate(by_group[1 + i], people("ethnicity", group), min),
        })
        .collect();
    let ethnicity_recorded = areas
        .iter()
        .any(|a| a.level == "ethnicity" && a.area != "not-known" && a.people > 0);

    Ok(Some(Published {
        ethnicity,
        ethnicity_recorded,
        key: condition.key.clone(),
        name: condition.name.clone(),
        threshold: t,
        computed_at: run.computed_at,
        data_to: run.data_to,
        weeks,
        trend,
        areas: out_areas,
        pyramid,
        pyramid_total: shown[0],
        hot_spots,
    }))
}

/// The sums a week's column obeys: region = its local authorities; each = its districts.
pub fn area_sums(las: &[&AreaRow], districts: &[&AreaRow]) -> Vec<Sum> {
    let mut sums = vec![Sum {
        total: 0,
        parts: (1..=las.len()).collect(),
    }];
    for (j, la) in las.iter().enumerate() {
        let parts = districts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.parent.as_deref() == Some(la.area.as_str()))
            .map(|(k, _)| 1 + las.len() + k)
            .collect();
        sums.push(Sum {
            total: 1 + j,
            parts,
        });
    }
    sums
}

/// The weeks the figures cover, oldest first: every week of the run's window.
fn week_list(first: &str, last: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (monday_of(first), monday_of(last)) {
        let mut d = a;
        while d <= b {
            out.push(super::weeks::name(d));
            d = d + chrono::Days::new(7);
        }
    }
    out
}

fn monday_of(week: &str) -> Option<chrono::NaiveDate> {
    let (y, w) = week.split_once("-W")?;
    chrono::NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
}
