//! Builds the results page's read model from a person's record (see the module essay).

use super::codes::{CommonTest, LabCodes, Unconvertible};
use super::units::{self, Conversion};
use super::{Flagged, PanelView, ReportLine, ResultsView, Trend};
use crate::model::entry::LabResult;
use crate::model::{Category, EntryBody, StoredEntry};
use crate::record::view::when_text;
use crate::record::PersonRecord;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::BTreeMap;

const OTHER: &str = "Other results";

/// The date a result was taken: its start, else when it was recorded.
pub(super) fn taken(e: &StoredEntry) -> Option<&str> {
    e.entry.start.as_deref().or(e.entry.recorded_at.as_deref())
}

pub(super) fn instant(t: &str) -> Option<NaiveDateTime> {
    let day = NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
    let time = t
        .get(11..16)
        .and_then(|x| NaiveTime::parse_from_str(x, "%H:%M").ok())
        .unwrap_or(NaiveTime::MIN);
    Some(day.and_time(time))
}

pub(super) fn when(e: &StoredEntry) -> String {
    taken(e).map_or_else(|| "date not recorded".into(), when_text)
}

pub(super) fn lab_result(e: &StoredEntry) -> Option<&LabResult> {
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
pub(super) fn plotted_number(r: &LabResult) -> Option<f64> {
    let exact = !r
        .value
        .as_deref()
        .unwrap_or_default()
        .trim_start()
        .starts_with(['<', '>', '≤', '≥']);
    r.numeric.filter(|v| v.is_finite() && exact)
}

/// A test's entries before they become a [`Trend`].
pub(super) struct Group<'a> {
    pub(super) mapped: Option<&'a CommonTest>,
    pub(super) entries: Vec<&'a StoredEntry>,
}

impl Group<'_> {
    /// The unit values are trended in: the table's, else the newest numeric value's.
    pub(super) fn unit(&self) -> Option<String> {
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

    pub(super) fn conversion(
        &self,
        r: &LabResult,
        to: Option<&str>,
    ) -> Result<Conversion, Unconvertible> {
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
        let (trend, flagged) = super::trend::trend(key, &g, format!("test-{}", n + 1));
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
