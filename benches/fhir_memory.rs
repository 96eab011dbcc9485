//! Memory of importing one large FHIR Bundle: a generated Bundle of many tiny resources
//! (a million by default, about 47 MB) imported through the real pipeline into a fresh
//! database, then the process's peak resident set printed. The figure is in
//! `docs/performance.md`; the importer's structural guarantee (entries are read one at a time,
//! and a Bundle over the resource cap is refused) is tested in `src/ingest/fhir/`.
//!
//! `cargo bench --bench fhir_memory -- [--resources N] [--write FILE]`: with `--write` the
//! Bundle is only written to FILE (to import it with the real binary under `/usr/bin/time -v`).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::peak_rss_mib;
use sharedcare::clock::SystemClock;
use sharedcare::config::Config;
use sharedcare::import::Importer;
use sharedcare::model::{Format, SourceKind};
use sharedcare::store::NewSource;
use std::time::Instant;

/// One tiny resource per entry, of a type the importer reads no data from: what the issue's
/// reproduction sent, and the case where everything but the reading itself is free.
fn bundle(resources: usize) -> String {
    let mut out = String::with_capacity(resources * 48 + 128);
    out.push_str(
        r#"{"resourceType":"Bundle","type":"collection","timestamp":"2026-01-01T00:00:00Z","entry":["#,
    );
    for i in 0..resources {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"resource":{{"resourceType":"Basic","id":"b{i}"}}}}"#
        ));
    }
    out.push_str("]}");
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let resources: usize = arg("--resources")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let text = bundle(resources);
    if let Some(path) = arg("--write") {
        std::fs::write(&path, &text).expect("write the bundle");
        println!("wrote {path}: {resources} resources, {} bytes", text.len());
        return;
    }
    let before = peak_rss_mib();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::load(dir.path()).expect("config");
    let mut store = sharedcare::audit::open_store(&config).expect("store");
    let tx = store.begin().expect("tx");
    let source = NewSource {
        code: "BIG-FHIR",
        name: "BIG-FHIR",
        org_code: "X99009",
        org_name: None,
        kind: SourceKind::Gp,
        format: Format::Fhir,
        mapping: None,
    };
    tx.upsert_source(&source, "2024-01-01T00:00:00Z").unwrap();
    tx.commit().expect("commit");
    let source = store.source_by_code("BIG-FHIR").expect("source");
    let clock = SystemClock;
    let started = Instant::now();
    let summary = Importer {
        store: &mut store,
        config: &config,
        clock: &clock,
    }
    .import_bytes(&source, "big.json", text.as_bytes(), &mut |_, _| {})
    .expect("import");
    let elapsed = started.elapsed().as_secs_f64();
    let skipped: usize = summary.skipped.values().sum();
    println!(
        "FHIR bundle memory: {resources} resources, {:.1} MB, imported in {elapsed:.1} s \
         ({} units, {skipped} skipped)",
        text.len() as f64 / 1e6,
        summary.units
    );
    println!(
        "  peak RSS {:.0} MiB (the bundle's text itself: {:.0} MiB; before the import: {before:.0} MiB)",
        peak_rss_mib(),
        text.len() as f64 / 1_048_576.0
    );
}
