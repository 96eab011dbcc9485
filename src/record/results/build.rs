//! Builds the results page's read model from a person's record (see the module essay).

use super::codes::{CommonTest, LabCodes, Unconvertible};
use super::range::{self, Band};
use super::units::{self, Conversion};
use super::words::{self, flag_words, is_critical, is_withdrawn};
use super::{Flagged, PanelView, ReportLine, ResultsView, Row, Trend};
use crate::model::entry::LabResult;
use crate::model::{Category, EntryBody, StoredEntry};
use crate::record::view::when_text;
use crate::record::PersonRecord;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::BTreeMap;

const OTHER: &str = "Other results";

/// The date a result was taken: its start, else when it was recorded.
fn taken(e: &StoredEntry) -> Option<&str> {
    e.entry.start.as_deref().or(e.entry.recorded_at.as_deref())
}

fn instant(t: &str) -> Option<NaiveDateTime> {
    let day = NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
    let time = t
        .get(11..16)
        .and_then(|x| NaiveTime::parse_from_str(x, "%H:%M").ok())
        .unwrap_or(NaiveTime::MIN);
    Some(day.and_time(time))
}

fn when(e: &StoredEntry) -> String {
    taken(e).map_or_else(|| "date not recorded".into(), when_text)
}

fn lab_result(e: &StoredEntry) -> Option<&LabResult> {
    match &e.entry.body {
        EntryBody::Result(r) if e.entry.category == Category::Result => Some(r),
        _ => None,
    }
}

/// A DiagnosticReport's own entry: it summarises its observations, it is not a test.
fn is_report(e: &StoredEntry, r: &LabResult) -> bool {
    r.report.as_deref() == Some(e.entry.source_ref.as_str())
}

/// Codes from systems every source shares: the same code is the same test wherever it is from.
fn is_common_system(system: Option<&str>) -> bool {
    system.is_some_and(|s| {
        let s = s.to_ascii_lowercase();
        s.contains("snomed") || s.contains("loinc") || s == "ln" || s == "sct"
    })
}

/// The value as a number for the trend: not when the text says `<5` or `>90`.
fn plotted_number(r: &LabResult) -> Option<f64> {
    let exact = !r
        .value
        .as_deref()
        .unwrap_or_default()
        .trim_start()
        .starts_with(['<', '>', '≤', '≥']);
    r.numeric.filter(|v| v.is_finite() && exact)
}

/// A test's entries before they become a [`Trend`].
struct Group<'a> {
    mapped: Option<&'a CommonTest>,
    entries: Vec<&'a StoredEntry>,
}

impl Group<'_> {
    /// The unit values are trended in: the table's, else the newest numeric value's.
    fn unit(&self) -> Option<String> {
        match self.mapped {
            Some(t) => Some(t.unit.clone()).filter(|u| !u.is_empty()),
            None => self
                .entries
                .iter()
                .filter_map(|e| lab_result(e))
                .find(|r| plotted_number(r).is_some())
                .and_then(|r| r.unit.clone())
                .filter(|u| !u.trim().is_empty()),
        }
    }

    fn conversion(&self, r: &LabResult, to: Option<&str>) -> Result<Conversion, Unconvertible> {
        if let Some(t) = self.mapped {
            return t.conversion(r.unit.as_deref());
        }
        let from = r.unit.as_deref().map(str::trim).filter(|u| !u.is_empty());
        match (from, to) {
            (None, None) => Ok(Conversion::SAME),
            (None, Some(_)) => Err(Unconvertible::NoUnit),
            (Some(a), Some(b)) => units::convert(a, b).ok_or_else(|| Unconvertible::Unit(a.into())),
            (Some(a), None) => Err(Unconvertible::Unit(a.into())),
        }
    }
}

/// The panel a group falls under: (short name, title).
fn panel_of(g: &Group<'_>, table: &LabCodes) -> (String, Option<String>) {
    let ordered = g
        .entries
        .iter()
        .filter_map(|e| lab_result(e))
        .find_map(|r| {
            let (code, name) = (r.panel_code.as_deref(), r.panel.as_deref());
            (code.is_some() || name.is_some()).then_some((code, name))
        });
    if let Some((code, name)) = ordered {
        if let Some(p) = table.panel(code, name) {
            return (p.name.clone(), Some(p.title.clone()));
        }
        if let Some(n) = name.or(code).map(str::trim).filter(|n| !n.is_empty()) {
            return (n.to_owned(), None);
        }
    }
    match g
        .mapped
        .and_then(|t| t.panel.as_deref())
        .and_then(|p| table.panel_named(p))
    {
        Some(p) => (p.name.clone(), Some(p.title.clone())),
        None => (OTHER.to_owned(), None),
    }
}

/// The results page for one person's record.
pub fn build(r: &PersonRecord, table: &LabCodes) -> ResultsView {
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    let mut reports: Vec<(String, Option<String>, ReportLine)> = Vec::new();
    for e in &r.entries {
        let Some(res) = lab_result(e) else { continue };
        if is_report(e, res) {
            if let Some(conclusion) = res.value.clone().filter(|v| !v.trim().is_empty()) {
                let p = table.panel(e.entry.code.as_deref(), Some(&e.entry.title));
                let (name, title) = p.map_or((e.entry.title.clone(), None), |p| {
                    (p.name.clone(), Some(p.title.clone()))
                });
                let line = ReportLine {
                    title: e.entry.title.clone(),
                    conclusion,
                    when: when(e),
                    source: e.provenance.organisation.clone(),
                };
                reports.push((name, title, line));
            }
            continue;
        }
        let code = e.entry.code.as_deref().filter(|c| !c.trim().is_empty());
        let mapped = table.test(code, &e.entry.title);
        let key = match (mapped, code) {
            (Some(t), _) => format!("c:{}", t.code),
            (None, Some(c)) if is_common_system(e.entry.code_system.as_deref()) => {
                format!("x:{}", c.trim().to_lowercase())
            }
            (None, c) => format!(
                "s:{}:{}",
                e.provenance.source_code,
                c.unwrap_or(&e.entry.title).trim().to_lowercase()
            ),
        };
        groups
            .entry(key)
            .or_insert_with(|| Group {
                mapped,
                entries: Vec::new(),
            })
            .entries
            .push(e);
    }

    let mut panels: BTreeMap<(usize, String), PanelDraft> = BTreeMap::new();
    let mut summary: Vec<(Option<NaiveDateTime>, Flagged)> = Vec::new();
    for (n, (key, mut g)) in groups.into_iter().enumerate() {
        g.entries
            .sort_by(|a, b| taken(b).cmp(&taken(a)).then(b.id.cmp(&a.id)));
        let (panel, title) = panel_of(&g, table);
        let (trend, flagged) = trend(key, &g, format!("test-{}", n + 1));
        if let Some(f) = flagged {
            summary.push(f);
        }
        let rank = panel_rank(&panel, table);
        panels
            .entry((rank, panel.clone()))
            .or_insert_with(|| PanelDraft::new(panel, title))
            .tests
            .push((trend, g.mapped.and_then(|t| table.test_rank(&t.code))));
    }
    for (name, title, line) in reports {
        let rank = panel_rank(&name, table);
        panels
            .entry((rank, name.clone()))
            .or_insert_with(|| PanelDraft::new(name, title))
            .reports
            .push(line);
    }
    summary.sort_by(|a, b| {
        b.1.critical
            .cmp(&a.1.critical)
            .then_with(|| b.0.cmp(&a.0))
            .then_with(|| a.1.test.cmp(&b.1.test))
    });
    let panels = panels
        .into_values()
        .enumerate()
        .map(|(i, p)| p.finish(format!("panel-{}", i + 1)))
        .collect();
    ResultsView {
        abnormal: summary.into_iter().map(|(_, f)| f).collect(),
        panels,
    }
}

/// Table panels in the table's order, then panels named only by a feed, then the rest.
fn panel_rank(name: &str, table: &LabCodes) -> usize {
    match table.panel_rank(name) {
        Some(i) => i,
        None if name == OTHER => usize::MAX,
        None => usize::MAX - 1,
    }
}

/// One test's trend, and its summary line when its newest value is abnormal.
fn trend(
    key: String,
    g: &Group<'_>,
    anchor: String,
) -> (Trend, Option<(Option<NaiveDateTime>, Flagged)>) {
    let newest = g.entries.first();
    let name = g.mapped.map_or_else(
        || newest.map(|e| e.entry.title.clone()).unwrap_or_default(),
        |t| t.name.clone(),
    );
    let raw_unit = g.unit();
    let unit = raw_unit.as_deref().map(units::display).unwrap_or_default();
    let decimals = g.mapped.and_then(|t| t.decimals);
    let mut points = Vec::new();
    let mut rows = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut band: Option<(Band, String)> = None;
    let mut flagged = None;
    for e in &g.entries {
        let Some(res) = lab_result(e) else { continue };
        let withdrawn = is_withdrawn(e.entry.status.as_deref());
        let at = taken(e).and_then(instant);
        let conversion = g.conversion(res, raw_unit.as_deref());
        let own_band = res
            .reference_range
            .as_deref()
            .and_then(|t| range::parse(t, res.unit.as_deref()));
        if band.is_none() {
            if let (Some(b), Ok(c)) = (own_band, &conversion) {
                if let Some(b) = b.converted(c) {
                    let note = format!(
                        "{}, {}, {}",
                        words::range_text(res).unwrap_or_default(),
                        e.provenance.organisation,
                        when(e)
                    );
                    band = Some((b, note));
                }
            }
        }
        let number = plotted_number(res);
        let mut converted = None;
        let mut off_trend = None;
        match (number, &conversion) {
            (Some(_), _) if withdrawn => {
                off_trend = Some("Not on the trend: withdrawn by the laboratory".to_owned());
            }
            (Some(_), _) if at.is_none() => {
                off_trend = Some("Not on the trend: no date".to_owned());
            }
            (Some(v), Ok(c)) => {
                let same_unit = match (res.unit.as_deref(), raw_unit.as_deref()) {
                    (Some(a), Some(b)) => units::same(a, b),
                    (None, None) => true,
                    _ => false,
                };
                let shown = c.apply(v);
                if !same_unit {
                    converted = Some(
                        format!("{} {unit}", words::converted_text(shown, decimals))
                            .trim()
                            .to_owned(),
                    );
                }
                if let Some(at) = at {
                    points.push((at, shown));
                }
            }
            (Some(_), Err(why)) => {
                let reason = refusal(why, &unit);
                off_trend = Some(format!("Not on the trend: {reason}"));
                *refused.entry(reason).or_default() += 1;
            }
            (None, _) => {}
        }
        let flag = res
            .abnormal_flag
            .as_deref()
            .and_then(flag_words)
            .or_else(|| {
                let v = number?;
                own_band?.outside(v).map(|above| {
                    if above {
                        "Above the reference range".to_owned()
                    } else {
                        "Below the reference range".to_owned()
                    }
                })
            });
        let row = Row {
            value: words::value_with_unit(res),
            converted,
            range: words::range_text(res),
            flag,
            when: when(e),
            source: e.provenance.organisation.clone(),
            status: words::status_words(e.entry.status.as_deref()),
            off_trend,
        };
        if flagged.is_none() && !withdrawn {
            // Only the newest standing value decides whether the test is in the summary.
            flagged = Some(row.flag.clone().map(|flag| {
                (
                    at,
                    Flagged {
                        test: name.clone(),
                        value: row.value.clone(),
                        critical: is_critical(&flag),
                        flag,
                        range: row.range.clone(),
                        when: row.when.clone(),
                        source: row.source.clone(),
                        anchor: anchor.clone(),
                    },
                )
            }));
        }
        rows.push(row);
    }
    points.sort_by_key(|p| p.0);
    let apart = refused
        .into_iter()
        .map(|(reason, n)| {
            let values = if n == 1 {
                "1 value is".to_owned()
            } else {
                format!("{n} values are")
            };
            format!("{values} not on the trend: {reason}.")
        })
        .collect();
    let (band, band_note) = band.map_or((None, None), |(b, n)| (Some(b), Some(n)));
    let trend = Trend {
        key,
        name,
        anchor,
        unit,
        common_code: g.mapped.map(|t| t.code.clone()),
        rows,
        points,
        band,
        band_note,
        apart,
    };
    (trend, flagged.flatten())
}

fn refusal(why: &Unconvertible, unit: &str) -> String {
    let trend_unit = if unit.is_empty() {
        "the trend has no unit".to_owned()
    } else {
        format!("the trend is in {unit}")
    };
    match why {
        Unconvertible::NoUnit => format!("sent without a unit, and {trend_unit}"),
        Unconvertible::Unit(u) => {
            format!(
                "{} does not convert exactly, and {trend_unit}",
                units::display(u)
            )
        }
    }
}

/// A panel while its tests are gathered, each with its place in the table.
struct PanelDraft {
    name: String,
    title: Option<String>,
    reports: Vec<ReportLine>,
    tests: Vec<(Trend, Option<usize>)>,
}

impl PanelDraft {
    fn new(name: String, title: Option<String>) -> Self {
        Self {
            name,
            title,
            reports: Vec::new(),
            tests: Vec::new(),
        }
    }

    /// Tests in the table's order, then the ones it does not know by name.
    fn finish(mut self, anchor: String) -> PanelView {
        self.tests.sort_by(|a, b| {
            let rank = |t: &(Trend, Option<usize>)| t.1.unwrap_or(usize::MAX);
            rank(a)
                .cmp(&rank(b))
                .then_with(|| a.0.name.to_lowercase().cmp(&b.0.name.to_lowercase()))
        });
        PanelView {
            name: self.name,
            title: self.title,
            anchor,
            reports: self.reports,
            tests: self.tests.into_iter().map(|t| t.0).collect(),
        }
    }
}
