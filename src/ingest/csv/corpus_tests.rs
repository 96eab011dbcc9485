//! Real-shaped files: the public NHS List Reconciliation test data (read from the shared
//! corpus, skipped when it is absent) and every CSV sample feed with its own mapping.

use super::*;
use crate::ingest::Extract;
use crate::model::{Category, NhsNumberStatus};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/gp-extract/list-reconciliation/test/_data/unit"
);
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-feeds");

fn load_mapping(relative: &str) -> Mapping {
    let path = Path::new(SAMPLES).join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Mapping::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Which mapping reads a corpus file, from its name or its header row.
fn mapping_for(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let header = bytes
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())?;
    if name.contains("_GPR4") && !name.ends_with(".json") {
        return Some("mappings/gp-registration-dow.toml");
    }
    if header.starts_with("SURNAME,FORENAMES,DOB,NHS NO.") {
        return Some("mappings/list-reconciliation-differences.toml");
    }
    if header.starts_with("nhsNumber,gp_birthDate") {
        return Some("mappings/list-reconciliation-cdd.toml");
    }
    match header.as_str() {
        "nhs_number,dispensing_flag" => Some("mappings/gp-dispensing-flags.toml"),
        "nhs_number,gp_practice,dispensing_flag" => Some("mappings/dps-dispensing-flags.toml"),
        h if h.starts_with("nhs_number,surname,forename") => Some("mappings/pds-registration.toml"),
        _ => None,
    }
}

fn extracts(file: &ParsedFile) -> Vec<&Extract> {
    file.units.iter().filter_map(|u| u.as_ref().ok()).collect()
}

fn reasons(file: &ParsedFile) -> Vec<&str> {
    file.units
        .iter()
        .filter_map(|u| u.as_ref().err())
        .map(|r| r.reason.as_str())
        .collect()
}

#[test]
fn list_reconciliation_corpus_reads_sensibly() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        println!("skipped: corpus not present at {}", dir.display());
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "json"))
        .collect();
    files.sort();
    let mut read = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let mapping = mapping_for(&name, &bytes)
            .unwrap_or_else(|| panic!("{name}: no mapping for this shape"));
        let file =
            parse_file(&bytes, &load_mapping(mapping)).unwrap_or_else(|e| panic!("{name}: {e}"));
        read += 1;
        let ok = extracts(&file);
        let bad = reasons(&file);
        println!(
            "{name}: {} extracts, {} rejects {bad:?}",
            ok.len(),
            bad.len()
        );
        for e in &ok {
            assert!(!e.subject.is_empty(), "{name}: empty subject");
            assert!(
                e.demographics.is_some(),
                "{name} {}: no demographics",
                e.position
            );
        }
        match name.as_str() {
            "A82023_GPR4LNA1.CSA" => {
                assert_eq!((ok.len(), bad.len()), (2, 0));
                assert_eq!(ok[0].subject, "1557492");
                assert_eq!(ok[0].event_time.as_deref(), Some("2020-04-06T13:40"));
                let d = ok[0].demographics.as_ref().unwrap();
                assert_eq!(d.family.as_deref(), Some("SOMEBODY"));
                assert_eq!(d.postcode(), Some("E1 1AA"));
                // 1234567890 has no valid check digit: kept, never trusted.
                assert_eq!(
                    d.nhs_number.as_ref().unwrap().status,
                    NhsNumberStatus::Invalid
                );
                assert_eq!(ok[0].entries[0].category, Category::CareNetwork);
            }
            "A12023_GPR4LNA1.CSB" => {
                // The file's deliberately broken records: no record number or NHS number, a
                // time of `13%40` with a date of birth of `200205101`, and no date of birth.
                assert_eq!((ok.len(), bad.len()), (6, 3), "{bad:?}");
                assert!(bad[0].contains("cannot be tied to anyone"), "{}", bad[0]);
                assert!(bad[1].contains("not a date"), "{}", bad[1]);
                assert!(bad[2].contains("column 14 is empty"), "{}", bad[2]);
                assert!(ok.iter().any(|e| e.subject == "NHS:1234567894"));
                let long = ok.iter().find(|e| e.subject == "1557437").unwrap();
                let nhs = long
                    .demographics
                    .as_ref()
                    .unwrap()
                    .nhs_number
                    .as_ref()
                    .unwrap();
                assert_eq!(nhs.status, NhsNumberStatus::Invalid);
            }
            "A82023-OnlyOnGP-19700101000000.csv" => {
                assert_eq!((ok.len(), bad.len()), (3, 0));
                let davies = ok[1].demographics.as_ref().unwrap();
                assert_eq!(davies.given, vec!["PAUL", "PHILIP"]);
                assert_eq!(
                    davies.nhs_number.as_ref().unwrap().status,
                    NhsNumberStatus::Verified
                );
                let barry = ok[0].demographics.as_ref().unwrap();
                assert_eq!(
                    barry.nhs_number.as_ref().unwrap().status,
                    NhsNumberStatus::Invalid
                );
            }
            "pds_api_data.csv" => {
                assert_eq!((ok.len(), bad.len()), (7, 0));
                let restricted: Vec<bool> = ok
                    .iter()
                    .map(|e| e.demographics.as_ref().unwrap().restricted)
                    .collect();
                assert_eq!(
                    restricted,
                    vec![false, true, true, false, false, true, false]
                );
                assert_eq!(ok[0].entries[0].start.as_deref(), Some("2012-05-22"));
            }
            "invalid_dps_data.csv" => {
                // `False` is not a dispensing flag this mapping recognises: no entry, no guess.
                assert_eq!((ok.len(), bad.len()), (5, 0));
                assert!(ok[4].entries.is_empty());
                assert_eq!(ok[0].entries.len(), 1);
            }
            "A82023-CDD-19700101000000.csv" | "A82023-OnlyOnPDS-19700101000000.csv" => {
                assert!(
                    file.units.is_empty(),
                    "{name}: a header-only file has no rows"
                );
            }
            _ => assert!(bad.is_empty(), "{name}: {bad:?}"),
        }
    }
    assert!(read >= 10, "only {read} corpus files were read");
}

#[derive(serde::Deserialize)]
struct SourcesFile {
    source: Vec<SampleSource>,
}

#[derive(serde::Deserialize)]
struct SampleSource {
    code: String,
    format: String,
    folder: String,
    mapping: Option<String>,
}

/// The feed files of a folder in name order, as the demo imports them.
fn feed_files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(SAMPLES).join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_ascii_lowercase();
            !name.starts_with('.') && !name.starts_with("readme")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_csv_sample_parses_with_its_mapping_without_rejects() {
    let text = std::fs::read_to_string(Path::new(SAMPLES).join("sources.toml")).unwrap();
    let sources: SourcesFile = toml::from_str(&text).unwrap();
    let mut categories = BTreeSet::new();
    let mut subjects_without_nhs = 0;
    let mut csv_sources = 0;
    for source in sources.source.iter().filter(|s| s.format == "csv") {
        csv_sources += 1;
        let relative = source
            .mapping
            .as_deref()
            .unwrap_or_else(|| panic!("{}: no mapping", source.code));
        let mapping = load_mapping(relative);
        let files = feed_files(&source.folder);
        assert!(
            !files.is_empty(),
            "{}: no files in {}",
            source.code,
            source.folder
        );
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let file =
                parse_file(&bytes, &mapping).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let bad = reasons(&file);
            assert!(bad.is_empty(), "{}: {bad:?}", path.display());
            let ok = extracts(&file);
            assert!(!ok.is_empty(), "{}: nothing read", path.display());
            for e in ok {
                assert!(
                    e.event_time.is_some(),
                    "{} {}: no event time",
                    path.display(),
                    e.position
                );
                let d = e.demographics.as_ref().unwrap();
                if d.nhs_number.is_none() {
                    subjects_without_nhs += 1;
                }
                categories.extend(e.entries.iter().map(|d| d.category));
            }
        }
    }
    assert_eq!(csv_sources, 5);
    // The social care client recorded without an NHS number.
    assert!(subjects_without_nhs >= 2);
    for wanted in [
        Category::SocialCare,
        Category::Safeguarding,
        Category::Location,
        Category::CarePlan,
        Category::MentalHealth,
        Category::Referral,
        Category::CareNetwork,
        Category::Contact,
        Category::ConditionFlag,
        Category::Medication,
        Category::Problem,
    ] {
        assert!(
            categories.contains(&wanted),
            "no CSV sample has a {wanted} entry"
        );
    }
}
