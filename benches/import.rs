//! End-to-end import speed: N synthetic people as HL7 v2 (ADT + ORU) and a social care CSV
//! extract, imported through the real pipeline (parse + match + store + FTS) into a fresh
//! database; then the same entry rows inserted by a bare rusqlite loader, for the ratio.
//!
//! `cargo bench --bench import -- [--people N]` (default 20,000). Prints messages/s, entries/s,
//! peak RSS and the ratio to the bare loader.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sharedcare::clock::SystemClock;
use sharedcare::config::Config;
use sharedcare::import::Importer;
use sharedcare::model::nhs_number::check_value;
use sharedcare::model::{Format, SourceKind};
use sharedcare::store::{NewSource, Store};
use std::fmt::Write;
use std::time::Instant;

const FAMILIES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Wood", "Jackson", "Clarke", "Khan", "Okafor", "Nowak", "Hughes", "Edwards", "Lewis",
];
const GIVENS: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy", "Leo",
    "Grace", "Arthur", "Freya", "Muhammad", "Lily", "Margaret", "John", "Susan", "David",
];
const TESTS: &[(&str, &str, &str, &str)] = &[
    ("HB", "Haemoglobin", "g/L", "130-170"),
    ("NA", "Sodium", "mmol/L", "133-146"),
    ("K", "Potassium", "mmol/L", "3.5-5.3"),
    ("CREA", "Creatinine", "umol/L", "59-104"),
    ("CRP", "C-reactive protein", "mg/L", "0-5"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

/// A valid NHS number in the synthetic 999 range, unique per `i`: of two neighbouring
/// nine-digit stems, whose check sums differ by 2, at most one has the impossible check value 10.
fn nhs_number(i: u64) -> String {
    let valid = |stem: u64| {
        let nine = format!("99{stem:07}");
        check_value(&nine)
            .filter(|c| *c < 10)
            .map(|c| format!("{nine}{c}"))
    };
    valid(i * 2)
        .or_else(|| valid(i * 2 + 1))
        .unwrap_or_default()
}

struct Person {
    mrn: String,
    nhs: String,
    family: &'static str,
    given: &'static str,
    dob: String,
    postcode: String,
}

fn person(i: u64, rng: &mut Rng) -> Person {
    Person {
        mrn: format!("MRN{i:08}"),
        nhs: nhs_number(i),
        family: rng.pick(FAMILIES),
        given: rng.pick(GIVENS),
        dob: format!(
            "19{:02}{:02}{:02}",
            20 + rng.next() % 80,
            1 + rng.next() % 12,
            1 + rng.next() % 28
        ),
        postcode: format!(
            "WX{} {}{}{}",
            1 + rng.next() % 20,
            rng.next() % 10,
            (b'A' + (rng.next() % 26) as u8) as char,
            (b'A' + (rng.next() % 26) as u8) as char
        ),
    }
}

/// Three HL7 messages per person: A08 with an allergy and a diagnosis, an A01 admission, and
/// an ORU with five results.
fn hl7(p: &Person, i: u64, out: &mut String) {
    let pid = format!(
        "PID|1||{}^^^R9W^MR~{}^^^NHS^NH||{}^{}||{}|{}|||{} Station Road^^Ashcombe^^{}\r",
        p.mrn,
        p.nhs,
        p.family,
        p.given,
        p.dob,
        if i.is_multiple_of(2) { "F" } else { "M" },
        i % 200,
        p.postcode
    );
    let _ = write!(
        out,
        "MSH|^~\\&|PAS|R9W|SC|REG|20240101090000||ADT^A08|A{i}|P|2.4\rEVN|A08|20240101090000\r{pid}\
         AL1|1|DA|PEN^Penicillin^L|SV|Rash\rDG1|1||E11^Type 2 diabetes^I10||20200101|F\r\
         MSH|^~\\&|PAS|R9W|SC|REG|20240102090000||ADT^A01|B{i}|P|2.4\rEVN|A01|20240102090000\r{pid}\
         PV1|1|I|WARD{}^^{}^R9W||||C1^Jones^Ann|||MED||||||||V{i}|||||||||||||||||||||||||20240102090000\r\
         MSH|^~\\&|LAB|R9W|SC|REG|20240103090000||ORU^R01|C{i}|P|2.4\r{pid}OBR|1|O{i}|O{i}|U&E^Renal^L|||20240103090000\r",
        i % 30,
        i % 20
    );
    for (n, (code, name, unit, range)) in TESTS.iter().enumerate() {
        let _ = write!(
            out,
            "OBX|{}|NM|{code}^{name}^L||{}|{unit}|{range}|N|||F|||20240103090000\r",
            n + 1,
            50 + (i + n as u64) % 100
        );
    }
}

/// Social care rows for a third of people; half of those carry no NHS number, so they are
/// matched on demographics.
fn csv(p: &Person, i: u64, out: &mut String) {
    if !i.is_multiple_of(3) {
        return;
    }
    let nhs = if i.is_multiple_of(2) {
        p.nhs.as_str()
    } else {
        ""
    };
    let dob = format!("{}/{}/{}", &p.dob[6..8], &p.dob[4..6], &p.dob[0..4]);
    for (kind, code) in [("ALLOCATION", ""), ("PACKAGE", "HC")] {
        let _ = writeln!(
            out,
            "{kind}|ASC-{i}|{nhs}|{}|{}|{dob}|{}|{} Station Road||Ashcombe|{}||R{i}{kind}|01/02/2024||{code}|Support at home|Ashcombe Locality Team|Sam Patel|01632 960530|Homecare Ltd|10|||2024-03-05",
            p.family,
            p.given,
            if i.is_multiple_of(2) { "Female" } else { "Male" },
            i % 200,
            p.postcode
        );
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let people: u64 = args
        .iter()
        .position(|a| a == "--people")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(42);
    let (mut hl7_text, mut csv_text) = (String::new(), String::from(
        "record_type|client_id|nhs_number|surname|forenames|dob|gender|address_1|address_2|town|postcode|phone|ref|start_date|end_date|service_code|description|team|worker|worker_phone|provider|hours_per_week|risk_level|location_name|extract_date\n",
    ));
    for i in 0..people {
        let p = person(i, &mut rng);
        hl7(&p, i, &mut hl7_text);
        csv(&p, i, &mut csv_text);
    }
    let config = Config::load(dir.path()).expect("config");
    let mut store = Store::open(&config.database_path()).expect("store");
    let tx = store.begin().expect("tx");
    for (code, kind, format, mapping) in [
        ("R9W-PAS", SourceKind::Acute, Format::Hl7v2, None),
        (
            "WCC-ASC",
            SourceKind::SocialCare,
            Format::Csv,
            Some(include_str!(
                "../sample-feeds/mappings/social-care-adults.toml"
            )),
        ),
    ] {
        tx.upsert_source(
            &NewSource {
                code,
                name: code,
                org_code: code,
                org_name: None,
                kind,
                format,
                mapping,
            },
            "2024-01-01T00:00:00Z",
        )
        .expect("source");
    }
    tx.commit().expect("commit");
    let clock = SystemClock;
    let started = Instant::now();
    let mut units = 0;
    let mut rejects = 0;
    for (code, name, bytes) in [
        ("R9W-PAS", "adt-oru.hl7", hl7_text.as_bytes()),
        ("WCC-ASC", "asc.csv", csv_text.as_bytes()),
    ] {
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
    let db_bytes: u64 = ["sharedcare.db", "sharedcare.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();

    // The bare loader: the same entry rows, one prepared INSERT in one transaction, into a
    // table with the same unique key and person index (no matching, no FTS, no history).
    let rows: Vec<(i64, String, i64, String, String, String)> = {
        let conn = rusqlite::Connection::open(config.database_path()).expect("open");
        let mut st = conn
            .prepare(
                "SELECT source_id, source_ref, source_person_id, category, title, body FROM entry",
            )
            .expect("prepare");
        st.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
    };
    let bare = rusqlite::Connection::open(dir.path().join("bare.db")).expect("bare");
    bare.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE entry (id INTEGER PRIMARY KEY, source_id INTEGER, source_ref TEXT,
            person INTEGER, category TEXT, title TEXT, body TEXT, UNIQUE (source_id, source_ref));
         CREATE INDEX entry_person ON entry(person, category);",
    )
    .expect("bare schema");
    let bare_started = Instant::now();
    let tx = bare.unchecked_transaction().expect("tx");
    {
        let mut st = tx.prepare("INSERT INTO entry (source_id, source_ref, person, category, title, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").expect("prepare");
        for r in &rows {
            st.execute(rusqlite::params![r.0, r.1, r.2, r.3, r.4, r.5])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    let bare_rate = rows.len() as f64 / bare_started.elapsed().as_secs_f64();

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
    println!("  peak RSS              {rss:>10.0} MiB");
    println!(
        "  database              {:>10.1} MiB ({:.0} bytes/entry)",
        db_bytes as f64 / 1048576.0,
        db_bytes as f64 / entries
    );
}
