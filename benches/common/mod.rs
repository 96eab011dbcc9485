//! Synthetic people for the benchmarks: HL7 v2 (ADT + ORU) from a hospital and a pipe-delimited
//! adult social care extract, deterministic for a seed.
#![allow(dead_code, clippy::unwrap_used)]

use sharedcare::model::nhs_number::check_value;
use sharedcare::model::{Format, SourceKind};
use sharedcare::store::{NewSource, Tx};
use std::fmt::Write;

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

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

/// A valid NHS number in the synthetic 999 range, unique per `i`: of two neighbouring
/// nine-digit stems, whose check sums differ by 2, at most one has the impossible check value 10.
pub fn nhs_number(i: u64) -> String {
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

pub struct Person {
    pub mrn: String,
    pub nhs: String,
    pub family: &'static str,
    pub given: &'static str,
    pub dob: String,
    pub postcode: String,
}

pub fn person(i: u64, rng: &mut Rng) -> Person {
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
pub fn hl7(p: &Person, i: u64, out: &mut String) {
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
pub fn csv(p: &Person, i: u64, out: &mut String) {
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

pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The CSV header the social care rows follow (the sample adult social care mapping's).
pub const CSV_HEADER: &str = "record_type|client_id|nhs_number|surname|forenames|dob|gender|address_1|address_2|town|postcode|phone|ref|start_date|end_date|service_code|description|team|worker|worker_phone|provider|hours_per_week|risk_level|location_name|extract_date\n";

/// The HL7 and CSV files for `people` people.
pub fn region(people: u64) -> (String, String) {
    let mut rng = Rng(42);
    let (mut hl7_text, mut csv_text) = (String::new(), String::from(CSV_HEADER));
    for i in 0..people {
        let p = person(i, &mut rng);
        hl7(&p, i, &mut hl7_text);
        csv(&p, i, &mut csv_text);
    }
    (hl7_text, csv_text)
}

/// One file of a day's new results: `count` ORU messages, each for a person already loaded
/// (a thin PID: hospital number and NHS number), with references unique to `round`.
#[allow(dead_code)]
pub fn delta(people: u64, round: u64, count: u64) -> String {
    let mut out = String::new();
    for k in 0..count {
        let i = (round * 7_919 + k * 104_729) % people;
        let _ = write!(
            out,
            "MSH|^~\\&|LAB|R9W|SC|REG|20240201090000||ORU^R01|D{round}X{k}|P|2.4\r\
             PID|1||MRN{i:08}^^^R9W^MR~{}^^^NHS^NH\r\
             OBR|1|DO{round}X{k}|DO{round}X{k}|U&E^Renal^L|||20240201090000\r",
            nhs_number(i)
        );
        for (n, (code, name, unit, range)) in TESTS.iter().enumerate() {
            let _ = write!(
                out,
                "OBX|{}|NM|{code}^{name}^L||{}|{unit}|{range}|N|||F|||20240201090000\r",
                n + 1,
                60 + (i + k + n as u64) % 90
            );
        }
    }
    out
}

/// Registers the two sources the synthetic files come from.
pub fn register_sources(tx: &Tx<'_>) {
    for (code, kind, format, mapping) in [
        ("R9W-PAS", SourceKind::Acute, Format::Hl7v2, None),
        (
            "WCC-ASC",
            SourceKind::SocialCare,
            Format::Csv,
            Some(include_str!(
                "../../sample-feeds/mappings/social-care-adults.toml"
            )),
        ),
    ] {
        let source = NewSource {
            code,
            name: code,
            // The organisation is the code's first part (R9W-PAS is R9W's system), so the
            // bench clinician at R9W has a care relationship through the trust's admissions.
            org_code: code.split('-').next().unwrap_or(code),
            org_name: None,
            kind,
            format,
            mapping,
        };
        tx.upsert_source(&source, "2024-01-01T00:00:00Z").unwrap();
    }
}
