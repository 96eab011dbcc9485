//! The lab code table against real pathology messages: the WinPath ORU^R01 files in the shared
//! corpus (read from their path, never copied into the repo). Every analyte code they send maps
//! to a common test whose unit the sent unit converts into, and every order panel they name
//! resolves to a panel.

use super::codes::LabCodes;
use crate::ingest::hl7v2::parse_file;
use crate::model::EntryBody;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const WINPATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/hl7v2/uclh-emap/hl7-reader/src/test/resources/LabOrders/winpath"
);

/// Codes in the corpus that are parser test cases, not analytes ("Greater than example").
const NOT_ANALYTES: [&str; 10] = [
    "GRE",
    "GREATER_RANGE",
    "GREATER_AND_HIGH",
    "LESS_RANGE",
    "UNPARSABLE_RANGE",
    "UNKONWN_OPERATOR",
    "SUB1",
    "SUB2",
    "EMPTY",
    "ALBR",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn the_table_maps_every_analyte_and_panel_in_real_winpath_results() {
    let root = Path::new(WINPATH);
    if !root.is_dir() {
        println!("skipped: corpus not present at {WINPATH}");
        return;
    }
    let table = LabCodes::shipped().unwrap();
    let mut paths = Vec::new();
    files(root, &mut paths);
    let (mut numeric, mut mapped) = (0, 0);
    let mut unmapped = BTreeSet::new();
    let mut panels = BTreeSet::new();
    for path in paths {
        let Ok(parsed) = parse_file(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        for extract in parsed.units.into_iter().flatten() {
            for e in extract.entries {
                let EntryBody::Result(r) = &e.body else {
                    continue;
                };
                if let Some(p) = &r.panel {
                    panels.insert((r.panel_code.clone(), p.clone()));
                }
                let (Some(_), Some(unit)) = (r.numeric, r.unit.as_deref()) else {
                    continue;
                };
                let code = e.code.clone().unwrap_or_default();
                if NOT_ANALYTES.contains(&code.as_str()) {
                    continue;
                }
                numeric += 1;
                if unit.contains("10") {
                    // `x10\S\9/L` as sent, decoded to `x10^9/L`, read as ×10⁹/L.
                    let shown = super::units::display(unit);
                    assert!(
                        shown.starts_with("×10") && shown.ends_with("/L"),
                        "{unit} → {shown}"
                    );
                }
                match table.test(e.code.as_deref(), &e.title) {
                    Some(t) => {
                        mapped += 1;
                        assert!(
                            t.conversion(Some(unit)).is_ok(),
                            "{code} in {unit} does not convert to {}",
                            t.unit
                        );
                    }
                    None => {
                        unmapped.insert(format!("{code} {}", e.title));
                    }
                }
            }
        }
    }
    println!("WinPath corpus: {mapped} of {numeric} numeric analyte results mapped");
    assert!(
        numeric >= 20,
        "the corpus holds numeric results ({numeric})"
    );
    assert!(unmapped.is_empty(), "not in the table: {unmapped:?}");
    let unresolved: Vec<_> = panels
        .iter()
        .filter(|(code, name)| table.panel(code.as_deref(), Some(name)).is_none())
        .collect();
    // Microbiology and telephoned-result orders are not panels of numeric tests.
    let expected_unresolved = [
        "COVID",
        "CULTURE",
        "MICRO",
        "SENSITIVITIES",
        "TELEPHONED",
        "TELH",
        "MAGNESIUM",
    ];
    for (code, name) in &unresolved {
        let upper = format!("{} {}", code.as_deref().unwrap_or(""), name).to_uppercase();
        assert!(
            expected_unresolved.iter().any(|w| upper.contains(w)),
            "order panel {code:?} {name:?} is not in the table"
        );
    }
}
