//! What an import did, for people and for scripts.

use crate::model::Category;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FileOutcome {
    Imported,
    /// The same bytes were imported before; nothing changed.
    Duplicate {
        imported_at: String,
    },
    /// The file as a whole could not be read; nothing from it was stored.
    Quarantined {
        reason: String,
    },
}

/// Counts of what happened to entries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EntryCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub arrived_late: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: String,
    #[serde(skip)]
    pub file_id: i64,
    #[serde(flatten)]
    pub outcome: FileOutcome,
    /// Set when this run continued an import that was interrupted at this unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_at: Option<usize>,
    pub units: usize,
    pub accepted: usize,
    pub rejects: Vec<(String, String)>,
    pub skipped: BTreeMap<String, usize>,
    pub persons_created: usize,
    pub persons_matched: usize,
    pub persons_probable: usize,
    pub possible_matches_queued: usize,
    pub merges: usize,
    pub demographics_arrived_late: usize,
    pub entries: BTreeMap<Category, EntryCounts>,
}

impl FileSummary {
    pub fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            file_id: 0,
            outcome: FileOutcome::Imported,
            resumed_at: None,
            units: 0,
            accepted: 0,
            rejects: Vec::new(),
            skipped: BTreeMap::new(),
            persons_created: 0,
            persons_matched: 0,
            persons_probable: 0,
            possible_matches_queued: 0,
            merges: 0,
            demographics_arrived_late: 0,
            entries: BTreeMap::new(),
        }
    }

    /// True when anything in the file could not be used.
    pub fn had_problems(&self) -> bool {
        !self.rejects.is_empty() || matches!(self.outcome, FileOutcome::Quarantined { .. })
    }
}

/// All files of one `import` run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: Vec<FileSummary>,
}

impl Summary {
    pub fn had_problems(&self) -> bool {
        self.files.iter().any(FileSummary::had_problems)
    }

    /// The human-readable report printed after an import.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut totals: BTreeMap<Category, EntryCounts> = BTreeMap::new();
        let (mut units, mut rejects, mut created, mut matched, mut queued) = (0, 0, 0, 0, 0);
        for f in &self.files {
            let state = match &f.outcome {
                FileOutcome::Imported => match f.resumed_at {
                    Some(at) => format!("imported (resumed at unit {at})"),
                    None => "imported".to_owned(),
                },
                FileOutcome::Duplicate { imported_at } => {
                    format!("duplicate: already imported {imported_at}; nothing changed")
                }
                FileOutcome::Quarantined { reason } => format!("QUARANTINED: {reason}"),
            };
            out.push_str(&format!(
                "{}: {state}; {} units, {} accepted, {} rejected\n",
                f.file,
                f.units,
                f.accepted,
                f.rejects.len()
            ));
            for (position, reason) in &f.rejects {
                out.push_str(&format!("  rejected {position}: {reason}\n"));
            }
            for (what, n) in &f.skipped {
                out.push_str(&format!("  skipped {n} × {what}\n"));
            }
            units += f.units;
            rejects += f.rejects.len();
            created += f.persons_created;
            matched += f.persons_matched + f.persons_probable;
            queued += f.possible_matches_queued;
            for (c, n) in &f.entries {
                let t = totals.entry(*c).or_default();
                t.inserted += n.inserted;
                t.updated += n.updated;
                t.unchanged += n.unchanged;
                t.arrived_late += n.arrived_late;
            }
        }
        out.push_str(&format!(
            "\n{} files, {units} messages/rows, {rejects} rejected\npersons: {created} created, {matched} matched to existing, {queued} possible matches queued for review\n",
            self.files.len()
        ));
        if !totals.is_empty() {
            out.push_str("entries (new / updated / unchanged / older than stored):\n");
            for (c, n) in totals {
                out.push_str(&format!(
                    "  {:<18} {:>6} / {:>6} / {:>6} / {:>6}\n",
                    c.as_str(),
                    n.inserted,
                    n.updated,
                    n.unchanged,
                    n.arrived_late
                ));
            }
        }
        out
    }
}
