//! Runs the importer over the shared corpus of real-world HL7 v2 test messages (read from its
//! path, never copied into the repo) and checks NHS-number extraction against its index.

use super::parse_file;
use crate::model::NhsNumberStatus;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/hl7v2");

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// index.csv: (file relative to the corpus parent, message number) → NHS numbers with
/// whether each is valid.
fn read_index(root: &Path) -> BTreeMap<(String, usize), BTreeSet<(String, bool)>> {
    let mut index = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(root.join("index.csv")) else {
        return index;
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    for record in reader.records().flatten() {
        let (Some(file), Some(msg), Some(nhs)) = (record.get(0), record.get(1), record.get(6))
        else {
            continue;
        };
        let Ok(msg) = msg.parse::<usize>() else {
            continue;
        };
        let numbers = nhs
            .split(';')
            .filter(|s| !s.is_empty())
            .filter_map(|pair| pair.split_once(':'))
            .map(|(n, v)| (n.to_owned(), v.eq_ignore_ascii_case("valid")))
            .collect();
        index.insert((file.to_owned(), msg), numbers);
    }
    index
}

fn message_number(position: &str) -> Option<usize> {
    position
        .strip_prefix("message ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

#[test]
fn corpus_parses_and_nhs_numbers_agree_with_the_index() {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        println!("skipped: corpus not present at {CORPUS}");
        return;
    }
    let index = read_index(root);
    let mut files = Vec::new();
    files_under(root, &mut files);
    files.sort();
    let (mut extracts, mut rejects, mut skipped, mut checked) = (0, 0, 0, 0);
    for path in files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "index.csv"))
    {
        let bytes = std::fs::read(path).unwrap();
        let name = path
            .strip_prefix(root.parent().unwrap())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let parsed = match parse_file(&bytes) {
            Ok(p) => p,
            Err(e) => {
                assert!(!e.to_string().is_empty(), "{name}");
                rejects += 1;
                continue;
            }
        };
        let skips: usize = parsed.skipped.values().sum();
        assert!(
            !parsed.units.is_empty() || skips > 0,
            "{name}: nothing came out"
        );
        skipped += skips;
        let mut first_of_message = BTreeSet::new();
        for unit in &parsed.units {
            match unit {
                Ok(x) => {
                    extracts += 1;
                    assert!(!x.subject.is_empty(), "{name}");
                    let Some(number) = message_number(&x.position) else {
                        panic!("{name}: {}", x.position)
                    };
                    // The index lists the first patient of a message; an A17 bed swap has two.
                    if !first_of_message.insert(number) {
                        continue;
                    }
                    let Some(expected) = index.get(&(name.clone(), number)) else {
                        continue;
                    };
                    let found = x.demographics.as_ref().and_then(|d| d.nhs_number.as_ref());
                    match found {
                        None => assert!(expected.is_empty(), "{name} #{number}: missed NHS number"),
                        Some(n) => {
                            let valid = n.status == NhsNumberStatus::Verified;
                            assert!(
                                expected.contains(&(n.value.clone(), valid)),
                                "{name} #{number}: NHS number disagrees"
                            );
                        }
                    }
                    checked += 1;
                }
                Err(r) => {
                    rejects += 1;
                    assert!(!r.reason.is_empty() && !r.position.is_empty(), "{name}");
                    println!("reject {name}: {} — {}", r.position, r.reason);
                }
            }
        }
    }
    println!("corpus: {extracts} extracts ({checked} checked against index.csv), {rejects} rejects, {skipped} skipped");
    assert!(extracts > 0 && checked > 0);
}
