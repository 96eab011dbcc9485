//! End-to-end import speed: N synthetic people as HL7 v2 (ADT + ORU) and a social care CSV
//! extract, imported through the real pipeline (parse + match + store + FTS) into a fresh
//! database; then the same entry rows inserted by a bare rusqlite loader, for the ratio.
//!
//! `cargo bench --bench import -- [--people N]` (default 20,000). Prints messages/s, entries/s,
//! peak RSS and the ratio to the bare loader.
//!
//! `--notify with|without` measures what the notification rules cost: `with` runs the shipped
//! rules with every event counted as news plus a rule telling the care network of every
//! admission (one notification per person, its recipient queries run for every admission and
//! discharge); `without` runs no rules. Either imports the social care extract first, so every
//! admission has an organisation to tell.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::peak_rss_mib;
use sharedcare::clock::SystemClock;
use sharedcare::config::Config;
use sharedcare::import::Importer;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let people: u64 = args
        .iter()
        .position(|a| a == "--people")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let (hl7_text, csv_text) = common::region(people);
    let notify = args
        .iter()
        .position(|a| a == "--notify")
        .and_then(|i| args.get(i + 1).cloned());
    let mut config = Config::load(dir.path()).expect("config");
    if let Some(mode) = &notify {
        config.notifications.loaded = std::sync::Arc::new(bench_rules(mode));
    }
    let mut store = sharedcare::audit::open_store(&config).expect("store");
    let tx = store.begin().expect("tx");
    common::register_sources(&tx);
    tx.commit().expect("commit");
    let clock = SystemClock;
    let started = Instant::now();
    let mut units = 0;
    let mut rejects = 0;
    let mut files = [
        ("R9W-PAS", "adt-oru.hl7", hl7_text.as_bytes()),
        ("WCC-ASC", "asc.csv", csv_text.as_bytes()),
    ];
    if notify.is_some() {
        files.reverse();
    }
    for (code, name, bytes) in files {
        let source = store.source_by_code(code).expect("source");
        let mut importer = Importer {
            store: &mut store,
            config: &config,
            clock: &clock,
        };
        let summary = importer
            .import_bytes(&source, name, bytes, &mut |_, _| {})
            .expect("import");
        units += summary.units;
        rejects += summary.rejects.len();
        if let Some((position, reason)) = summary.rejects.first() {
            println!("  first reject in {name}: {position}: {reason}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss = peak_rss_mib();
    let stats = store.stats().expect("stats");
    let db_bytes = sharedcare::store::database_bytes(&config.database_path());

    // The bare loader: the same entry rows, one prepared INSERT, into a table with the same
    // unique key and person index (no matching, no FTS, no history).
    let bare = store
        .bare_load_into(&dir.path().join("bare.db"))
        .expect("bare loader");
    let bare_rate = bare.rows_per_second;

    let entries = stats.entries as f64;
    let entry_rate = entries / elapsed;
    println!(
        "sharedcare import benchmark: {people} people, {units} messages/rows ({rejects} rejected)"
    );
    println!("  end to end (parse + match + store + FTS): {elapsed:.2} s");
    println!("  messages/s            {:>10.0}", units as f64 / elapsed);
    println!(
        "  entries/s             {entry_rate:>10.0}  ({} entries, {} persons, {} source persons)",
        stats.entries, stats.persons, stats.source_persons
    );
    println!("  bare rusqlite rows/s  {bare_rate:>10.0}");
    println!(
        "  ratio                 {:>10.1} %",
        100.0 * entry_rate / bare_rate
    );
    if notify.is_some() {
        let notifications: i64 = rusqlite::Connection::open(config.database_path())
            .expect("database")
            .query_row("SELECT count(*) FROM notification", [], |r| r.get(0))
            .expect("count");
        println!("  notifications         {notifications:>10}");
    }
    println!("  peak RSS              {rss:>10.0} MiB");
    println!(
        "  database              {:>10.1} MiB ({:.0} bytes/entry)",
        db_bytes as f64 / 1048576.0,
        db_bytes as f64 / entries
    );
}

/// The rules `--notify` names (see the module docs).
fn bench_rules(mode: &str) -> sharedcare::notify::Rules {
    use sharedcare::notify::rules::{Event, Recipient, Rule, Rules};
    match mode {
        "without" => Rules::none(),
        "with" => {
            let mut rules = Rules::shipped().expect("shipped rules");
            rules.ignore_older_than_hours = 100 * 365 * 24;
            rules.rules.push(Rule {
                name: "bench-care-network-admissions".into(),
                label: "Every admission, to the care network".into(),
                events: vec![Event::Admission, Event::Discharge],
                only_if: Vec::new(),
                notify: Recipient::CareNetwork,
            });
            rules
        }
        other => panic!("--notify {other}: say with or without"),
    }
}
