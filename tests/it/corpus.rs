//! Conformance: real UK feed material, written by others, through the real importer.

use super::support::*;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Imports every file and checks each one landed as imported or quarantined, with actionable
/// reasons for whatever was refused. Returns the per-file summaries.
fn import_all(env: &Env, source: &str, files: &[PathBuf]) -> Vec<serde_json::Value> {
    assert!(!files.is_empty(), "no corpus files found for {source}");
    let mut args = vec!["--json", "import", "--source", source];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let r = env.run(&args);
    assert!(r.code == 0 || r.code == 1, "exit {}:\n{}", r.code, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let summary = r.json();
    let files = summary["files"].as_array().unwrap().clone();
    for f in &files {
        match f["state"].as_str().unwrap() {
            "imported" | "duplicate" => {
                for reject in f["rejects"].as_array().unwrap() {
                    let reason = reject[1].as_str().unwrap();
                    assert!(reason.len() > 15, "{}: terse reason {reason}", f["file"]);
                }
            }
            "quarantined" => assert!(f["reason"].as_str().unwrap().len() > 15, "{f}"),
            other => panic!("{}: unexpected state {other}", f["file"]),
        }
    }
    let check: String = env
        .sql()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    files
}

fn totals(files: &[serde_json::Value]) -> (u64, u64, usize) {
    let accepted = files
        .iter()
        .map(|f| f["accepted"].as_u64().unwrap_or(0))
        .sum();
    let rejected = files
        .iter()
        .map(|f| f["rejects"].as_array().map_or(0, Vec::len) as u64)
        .sum();
    let quarantined = files.iter().filter(|f| f["state"] == "quarantined").count();
    (accepted, rejected, quarantined)
}

#[test]
fn uk_hl7v2_from_two_nhs_organisations_imports() {
    let Some(corpus) = corpus() else { return };
    let env = Env::new();
    env.add_source("UCLH-EMAP", "acute", "hl7v2");
    env.add_source("NHS-WALES", "acute", "hl7v2");
    let hl7 = |p: &Path| p.extension().is_some_and(|e| e == "txt" || e == "hl7");
    let uclh = import_all(
        &env,
        "UCLH-EMAP",
        &files_under(&corpus.join("hl7v2/uclh-emap"), &hl7),
    );
    let wales = import_all(
        &env,
        "NHS-WALES",
        &files_under(&corpus.join("hl7v2/dhcw-integration-hub"), &hl7),
    );
    let (a, r, q) = totals(&uclh);
    eprintln!(
        "UCLH: {} files, {a} messages accepted, {r} rejected, {q} files quarantined",
        uclh.len()
    );
    assert!(a > 60, "most UCLH messages import");
    let (a, r, q) = totals(&wales);
    eprintln!(
        "NHS Wales: {} files, {a} accepted, {r} rejected, {q} quarantined",
        wales.len()
    );
    assert!(a >= 6);
    // Numbers failing Modulus 11 are kept as invalid, never matched on.
    let invalid = env.count("SELECT count(*) FROM source_person WHERE nhs_number = '1000000001' AND nhs_number_status = 'invalid'");
    assert!(
        invalid >= 1,
        "1000000001 fails its check digit and is kept as invalid"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM person WHERE nhs_number = '1000000001'"),
        0
    );
}

#[test]
fn uk_core_and_pds_fhir_imports() {
    let Some(corpus) = corpus() else { return };
    let env = Env::new();
    env.add_source("UKCORE", "gp", "fhir");
    env.add_source("PDS", "gp", "fhir");
    let json = |p: &Path| p.extension().is_some_and(|e| e == "json");
    let ukcore = import_all(
        &env,
        "UKCORE",
        &files_under(&corpus.join("fhir/ukcore-json"), &json),
    );
    let pds = import_all(
        &env,
        "PDS",
        &files_under(&corpus.join("fhir/nhs-pds-sandbox"), &json),
    );
    for (name, files) in [("UK Core", &ukcore), ("PDS", &pds)] {
        let (a, r, q) = totals(files);
        eprintln!(
            "{name}: {} files, {a} resources accepted, {r} rejected, {q} quarantined",
            files.len()
        );
    }
    let found = env
        .ok(&["--json", "person", "find", "--nhs-number", "9000000009"])
        .json();
    assert!(
        !found.as_array().unwrap().is_empty(),
        "PDS patient 9000000009 is findable"
    );
    let show = env.ok(&["person", "show", "9000000009"]);
    assert!(show.stdout.contains("900 000 0009"), "{}", show.stdout);
}

#[test]
fn gp_registration_extracts_import() {
    let Some(corpus) = corpus() else { return };
    let env = Env::new();
    let mapping = repo().join("sample-feeds/mappings/gp-registration-dow.toml");
    env.ok(&[
        "source",
        "add",
        "GP-DOW",
        "--name",
        "GP registration extract",
        "--org",
        "A82023",
        "--kind",
        "gp",
        "--format",
        "csv",
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    let dow = |p: &Path| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.contains("_GPR4") && !name.ends_with(".json")
    };
    let files = files_under(&corpus.join("gp-extract/list-reconciliation"), &dow);
    let summaries = import_all(&env, "GP-DOW", &files);
    let (a, r, q) = totals(&summaries);
    eprintln!(
        "GP DOW extracts: {} files, {a} records accepted, {r} rejected, {q} quarantined",
        summaries.len()
    );
    assert!(a >= 6);
    let malformed = summaries
        .iter()
        .find(|f| f["file"] == "A12023_GPR4LNA1.CSB")
        .unwrap();
    assert!(
        !malformed["rejects"].as_array().unwrap().is_empty(),
        "the deliberately malformed records are rejected"
    );
}
