//! A synthetic region: `sharedcare demo generate` writes a whole region's feeds, in the real
//! formats, from a seed and a head count.
//!
//! The real region (1.8 million people) is fed by 4 acute trusts, 3 community providers, 2
//! mental-health trusts, 225 GP practices and ~466 social care teams; [`Layout`] scales those
//! counts to the requested size, keeping at least one source of each kind. People are made one
//! at a time ([`people::person`]) and written straight to every source that knows them, so
//! memory stays flat whatever the size. Beside the feeds go `sources.toml` (what `demo load`
//! registers), `truth.csv` (which source record is which true person, for measuring the
//! matcher), `population-truth.csv` (the COVID-19 tests, positives, vaccinations and opt-outs
//! the population dashboard must count, see [`population`]) and `faults.csv` (the few broken units planted on purpose, with the reason the
//! importer is expected to give). `--day D` writes one day's new and changed messages instead.

mod care;
mod feeds;
mod people;
mod population;
mod records;

use crate::error::{Error, Result};
use feeds::{FeedWriter, Shape};
use people::Rng;
use records::{Acute, Quality, View, When};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use people::{nhs_number, person};

/// People per feed file: big enough to be efficient, small enough to resume cheaply.
const PEOPLE_PER_FILE: u64 = 2_000;

const MAPPINGS: &[(&str, &str)] = &[
    (
        "community.toml",
        include_str!("../../sample-feeds/mappings/community.toml"),
    ),
    (
        "mental-health.toml",
        include_str!("../../sample-feeds/mappings/mental-health.toml"),
    ),
    (
        "social-care-adults.toml",
        include_str!("../../sample-feeds/mappings/social-care-adults.toml"),
    ),
    (
        "social-care-children.toml",
        include_str!("../../sample-feeds/mappings/social-care-children.toml"),
    ),
];

/// How many sources of each kind a region of this size has.
pub struct Layout {
    pub gp: u64,
    pub acute: u64,
    pub community: u64,
    pub mental_health: u64,
    pub adults: u64,
    pub children: u64,
}

impl Layout {
    pub fn for_people(people: u64) -> Self {
        let scale = |real: f64| ((real * people as f64 / 1_800_000.0).round() as u64).max(1);
        Self {
            gp: scale(225.0),
            acute: scale(4.0),
            community: scale(3.0),
            mental_health: scale(2.0),
            adults: scale(233.0),
            children: scale(233.0),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    pub people: u64,
    pub seed: u64,
    pub day: Option<u32>,
    pub out: PathBuf,
    pub sources: usize,
    pub messages: u64,
    pub truth_rows: u64,
    pub faults: usize,
    pub peak_rss_kib: Option<u64>,
    pub seconds: f64,
}

/// A planted fault: which source and file, and the words the importer's reason must contain.
struct Fault {
    source: String,
    what: &'static str,
    reason: &'static str,
}

struct Writers {
    gp: Vec<FeedWriter>,
    acute: Vec<FeedWriter>,
    community: Vec<FeedWriter>,
    mental_health: Vec<FeedWriter>,
    adults: Vec<FeedWriter>,
    children: Vec<FeedWriter>,
}

fn code(prefix: &str, n: u64) -> String {
    format!("{prefix}-{:03}", n + 1)
}

fn io<'a>(doing: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        doing,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the region (or, with `day`, that day's delta) under `out`; `progress(done, total)`
/// is called every thousand people.
pub fn generate(
    out: &Path,
    people: u64,
    seed: u64,
    day: Option<u32>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<GenerateSummary> {
    let started = std::time::Instant::now();
    let root = match day {
        Some(d) => out.join(format!("day-{d}")),
        None => out.to_path_buf(),
    };
    std::fs::create_dir_all(root.join("mappings")).map_err(io("create", &root))?;
    for (name, text) in MAPPINGS {
        let path = root.join("mappings").join(name);
        std::fs::write(&path, text).map_err(io("write", &path))?;
    }
    let layout = Layout::for_people(people);
    let mut toml = String::from("# Sources of a synthetic region written by `sharedcare demo generate`.\n# Everything here is made up: people, NHS numbers (9 range), organisations, postcodes.\n");
    let stem = match day {
        Some(d) => format!("day{d:04}"),
        None => "extract".into(),
    };
    let mut make = |prefix: &str,
                    count: u64,
                    kind: &str,
                    format: &str,
                    mapping: Option<&str>,
                    shape: Shape,
                    label: &str| {
        (0..count)
            .map(|n| {
                let c = code(prefix, n);
                toml.push_str(&format!(
                    "\n[[source]]\ncode = \"{c}\"\nname = \"{label} {}\"\norg = \"{}\"\norg_name = \"{label} {}\"\nkind = \"{kind}\"\nformat = \"{format}\"\nfolder = \"{c}\"\n",
                    n + 1,
                    ods(prefix, n),
                    n + 1
                ));
                if let Some(m) = mapping {
                    toml.push_str(&format!("mapping = \"mappings/{m}\"\n"));
                }
                let _ = std::fs::create_dir_all(root.join(&c));
                FeedWriter::new(root.join(&c), stem.clone(), shape, PEOPLE_PER_FILE)
            })
            .collect::<Vec<_>>()
    };
    let mut w = Writers {
        gp: make(
            "GP",
            layout.gp,
            "gp",
            "fhir",
            None,
            Shape::Fhir,
            "GP practice",
        ),
        acute: make(
            "ACUTE",
            layout.acute,
            "acute",
            "hl7v2",
            None,
            Shape::Hl7,
            "Acute trust",
        ),
        community: make(
            "COMMUNITY",
            layout.community,
            "community",
            "csv",
            Some("community.toml"),
            Shape::Csv(care::COMMUNITY_HEADER),
            "Community provider",
        ),
        mental_health: make(
            "MH",
            layout.mental_health,
            "mental-health",
            "csv",
            Some("mental-health.toml"),
            Shape::Csv(care::MH_HEADER),
            "Mental health trust",
        ),
        adults: make(
            "ASC",
            layout.adults,
            "social-care",
            "csv",
            Some("social-care-adults.toml"),
            Shape::Csv(care::ADULTS_HEADER),
            "Adult social care team",
        ),
        children: make(
            "CSC",
            layout.children,
            "social-care",
            "csv",
            Some("social-care-children.toml"),
            Shape::Csv(care::CHILDREN_HEADER),
            "Children's social care team",
        ),
    };
    let sources_path = root.join("sources.toml");
    std::fs::write(&sources_path, &toml).map_err(io("write", &sources_path))?;

    let truth_path = root.join("truth.csv");
    let mut truth = std::io::BufWriter::new(
        std::fs::File::create(&truth_path).map_err(io("create", &truth_path))?,
    );
    truth
        .write_all(b"source,local_id,person\n")
        .map_err(io("write", &truth_path))?;
    let faults = if day.is_none() {
        plant_faults(&mut w)?
    } else {
        Vec::new()
    };
    let planted_path = root.join("population-truth.csv");
    let mut planted_out = std::io::BufWriter::new(
        std::fs::File::create(&planted_path).map_err(io("create", &planted_path))?,
    );
    planted_out
        .write_all(population::TRUTH_HEADER.as_bytes())
        .map_err(io("write", &planted_path))?;
    let mut truth_rows = 0u64;
    let when = When { day };
    let mut planted = Vec::new();
    for index in 0..people {
        planted.clear();
        let rows = write_person(&mut w, &layout, seed, index, &when, &mut planted)?;
        for (source, local) in rows {
            writeln!(truth, "{source},{local},{index}").map_err(io("write", &truth_path))?;
            truth_rows += 1;
        }
        let district = population::district(&people::person(seed, index).postcode).to_owned();
        for fact in &planted {
            writeln!(
                planted_out,
                "{index},{district},{},{}",
                fact.event, fact.date
            )
            .map_err(io("write", &planted_path))?;
        }
        if index % 1000 == 999 {
            progress(index + 1, people);
        }
    }
    progress(people, people);
    truth.flush().map_err(io("write", &truth_path))?;
    planted_out.flush().map_err(io("write", &planted_path))?;
    let mut messages = 0;
    let mut sources = 0;
    for group in [
        &mut w.gp,
        &mut w.acute,
        &mut w.community,
        &mut w.mental_health,
        &mut w.adults,
        &mut w.children,
    ] {
        for f in group.iter_mut() {
            f.close()?;
            messages += f.messages;
            sources += 1;
        }
    }
    let faults_path = root.join("faults.csv");
    let mut text = String::from("source,what,expected_reason\n");
    for f in &faults {
        text.push_str(&format!("{},{},{}\n", f.source, f.what, f.reason));
    }
    std::fs::write(&faults_path, text).map_err(io("write", &faults_path))?;
    Ok(GenerateSummary {
        people,
        seed,
        day,
        out: root,
        sources,
        messages,
        truth_rows,
        faults: faults.len(),
        peak_rss_kib: peak_rss_kib(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn ods(prefix: &str, n: u64) -> String {
    match prefix {
        "GP" => format!("Y9{:04}", n + 1),
        "ACUTE" => format!("R9{}", (b'A' + (n % 26) as u8) as char),
        "COMMUNITY" => format!("R8{}", n + 1),
        "MH" => format!("R7{}", n + 1),
        _ => format!("L9{:03}", n / 2 + 1),
    }
}

/// The broken units, written before any person so that they sit in the first files.
fn plant_faults(w: &mut Writers) -> Result<Vec<Fault>> {
    let mut faults = Vec::new();
    if let Some(acute) = w.acute.first_mut() {
        acute.unit("MSH|^~\\&|PAS|R9A|SHAREDCARE|REGION|20240301090000||ADT^A01^ADT_A01|FAULT-NO-PID3|P|2.4\rEVN|A01|20240301090000\rPID|1||||NOBODY^KNOWN||19700101|M\rPV1|1|E\r")?;
        faults.push(Fault {
            source: code("ACUTE", 0),
            what: "ADT message with no PID-3 patient identifier",
            reason: "PID-3",
        });
    }
    if let Some(adults) = w.adults.first_mut() {
        adults.unit(&records::row_by_header(
            care::ADULTS_HEADER,
            '|',
            &[
                ("record_type", "CLIENT"),
                ("client_id", "ASC-FAULT-1"),
                ("surname", "Nobody"),
                ("forenames", "Known"),
                ("dob", "31/02/1950"),
                ("extract_date", "2024-03-31"),
            ],
        ))?;
        faults.push(Fault {
            source: code("ASC", 0),
            what: "client row with an impossible date of birth",
            reason: "31/02/1950",
        });
    }
    if let Some(community) = w.community.first_mut() {
        community.unit(&records::row_by_header(
            care::COMMUNITY_HEADER,
            ',',
            &[
                ("record_type", "VISIT"),
                ("patient_id", "CH-FAULT-1"),
                ("surname", "Nobody"),
                ("forenames", "Known"),
                ("item_id", "F1"),
                ("date", "01/03/2024"),
                ("extracted", "31/03/2024 06:00"),
            ],
        ))?;
        faults.push(Fault {
            source: code("COMMUNITY", 0),
            what: "visit row with no date of birth",
            reason: "dob",
        });
    }
    Ok(faults)
}

/// Writes everything the region's sources say about one person; returns the truth rows, and
/// adds what the population dashboard must count to `planted`.
fn write_person(
    w: &mut Writers,
    layout: &Layout,
    seed: u64,
    index: u64,
    when: &When,
    planted: &mut Vec<population::Planted>,
) -> Result<Vec<(String, String)>> {
    let p = people::person(seed, index);
    // Who knows this person never depends on the day, so a delta finds the same records.
    let mut m = Rng::new(seed, 2, index);
    let mut r = Rng::new(seed, 10 + u64::from(when.day.unwrap_or(0)), index);
    let full = when.day.is_none();
    let mut truth = Vec::new();
    let age = p.age();
    let q = |no_nhs, typo_family, typo_given, old_postcode| Quality {
        no_nhs,
        typo_family,
        typo_given,
        old_postcode,
    };

    if m.chance(0.98) {
        let n = m.below(layout.gp);
        let c = code("GP", n);
        let v = records::view(
            &p,
            &mut Rng::new(seed, 3, index),
            format!("G{index:08}"),
            &q(0.0, 0.0, 0.0, 0.0),
        );
        if full || r.chance(0.003) {
            let f = &mut w.gp[n as usize];
            f.person()?;
            let base = format!("https://fhir.{}.example", c.to_lowercase());
            let jabs = records::gp_record(f, &p, &v, &mut r, &base, &ods("GP", n), when, full)?;
            planted.extend(jabs.into_iter().map(|date| population::Planted {
                event: "vaccinated",
                date,
            }));
            if full {
                planted.extend(population::plant(f, &p, &v.local_id, &base, seed)?);
            }
        }
        truth.push((c, v.local_id));
    }
    if m.chance((0.2 + 0.25 * p.activity).min(0.85)) {
        let n = m.below(layout.acute);
        let c = code("ACUTE", n);
        let org = ods("ACUTE", n);
        let acute = Acute {
            app: "PAS",
            org: &org,
            site: &c,
        };
        let v = records::view(
            &p,
            &mut Rng::new(seed, 4, index),
            format!("M{index:08}"),
            &q(0.02, 0.02, 0.01, 0.05),
        );
        let stays = if full {
            1 + r.tail(0.7 * p.activity).min(40)
        } else {
            u32::from(r.chance(0.002 * (1.0 + p.activity)))
        };
        let duplicate = full && m.chance(0.01);
        let updated = !full && r.chance(0.0005);
        if stays > 0 || duplicate || updated {
            let f = &mut w.acute[n as usize];
            f.person()?;
            let tag = format!("{}-{}", when.day.unwrap_or(0), index);
            if duplicate {
                let temp = View {
                    local_id: format!("T{index:08}"),
                    nhs: None,
                    ..records::view(
                        &p,
                        &mut Rng::new(seed, 4, index),
                        String::new(),
                        &q(0.0, 0.0, 0.0, 0.0),
                    )
                };
                let date = when.date(&p, &mut r);
                acute.stay(f, &p, &temp, &mut r, &format!("{tag}T"), date, true, false)?;
                acute.merge(f, &p, &v, &temp.local_id, &format!("{tag}M"))?;
                truth.push((c.clone(), temp.local_id));
            }
            for k in 0..stays {
                let last = k + 1 == stays;
                let died = full && last && p.died.is_some();
                let date = if died {
                    p.died.unwrap_or_else(people::base_date)
                } else {
                    when.date(&p, &mut r)
                };
                let discharge = full || r.chance(0.7);
                acute.stay(
                    f,
                    &p,
                    &v,
                    &mut r,
                    &format!("{tag}S{k}"),
                    date,
                    discharge,
                    died,
                )?;
            }
            if updated {
                acute.update(f, &p, &v, &format!("{tag}U"), when.extract())?;
            }
        }
        truth.push((c, v.local_id));
    }
    if m.chance(if age >= 65 { 0.25 } else { 0.04 }) {
        let n = m.below(layout.community);
        let v = records::view(
            &p,
            &mut Rng::new(seed, 5, index),
            format!("CH-{index}"),
            &q(0.01, 0.02, 0.01, 0.03),
        );
        if full || r.chance(0.02) {
            let f = &mut w.community[n as usize];
            f.person()?;
            care::community(
                f,
                &p,
                &v,
                &mut r,
                when,
                &format!("{}-", when.day.unwrap_or(0)),
            )?;
        }
        truth.push((code("COMMUNITY", n), v.local_id));
    }
    if m.chance(0.03) && age >= 14 {
        let n = m.below(layout.mental_health);
        let v = records::view(
            &p,
            &mut Rng::new(seed, 6, index),
            format!("RIO{index}"),
            &q(0.03, 0.02, 0.01, 0.05),
        );
        if full || r.chance(0.01) {
            let f = &mut w.mental_health[n as usize];
            f.person()?;
            care::mental_health(f, &p, &v, &mut r, when, &when.day.unwrap_or(0).to_string())?;
        }
        truth.push((code("MH", n), v.local_id));
    }
    if age >= 18 && m.chance(if age >= 75 { 0.12 } else { 0.02 }) {
        let n = m.below(layout.adults);
        let v = records::view(
            &p,
            &mut Rng::new(seed, 7, index),
            format!("ASC-{index}"),
            &q(0.3, 0.03, 0.02, 0.05),
        );
        if full || r.chance(0.01) {
            let f = &mut w.adults[n as usize];
            f.person()?;
            care::adults(
                f,
                &p,
                &v,
                &mut r,
                when,
                &when.day.unwrap_or(0).to_string(),
                "Locality Team",
            )?;
        }
        truth.push((code("ASC", n), v.local_id));
    }
    if age < 18 && m.chance(0.04) {
        let n = m.below(layout.children);
        let v = records::view(
            &p,
            &mut Rng::new(seed, 8, index),
            format!("CSC-{index}"),
            &q(0.2, 0.03, 0.02, 0.05),
        );
        if full || r.chance(0.01) {
            let f = &mut w.children[n as usize];
            f.person()?;
            care::children(f, &p, &v, &mut r, when, &when.day.unwrap_or(0).to_string())?;
        }
        truth.push((code("CSC", n), v.local_id));
    }
    Ok(truth)
}

/// The process's peak resident set size, from Linux's `/proc/self/status`.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
