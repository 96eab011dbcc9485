//! Serving speed: N synthetic people imported, then the real server over HTTPS with concurrent
//! clients, one phase per kind of request: search, record page, FHIR `$everything`.
//!
//! `cargo bench --bench web -- [--people N] [--clients C] [--seconds S]` (defaults 200,000 people,
//! 8 clients, 15 s a phase). Prints p50/p99 latency and requests/s per phase, and server RSS.
//!
//! `cargo bench --bench web -- --region-data DATA --deltas REGION` serves a region loaded with
//! `sharedcare demo load` instead (see `region`), while its generated day deltas are imported.
//! `--region-data DATA --day` runs the same requests as clinicians' working days and then the
//! misuse watch over them (see `day`). `--region-data DATA --dashboard` times the population
//! figures job and then analysts reading the dashboard (see `dashboard`).
//!
//! Before the server starts, the same run measures what the access policy costs a record read
//! in-process: the read path without the gate (resolve, load, build the page model, audit) and
//! with it (the gate also reads grants and objections, infers relationships and filters),
//! alternating over the same people, so "before" and "after" share one machine state.
//!
//! `--citizens N` (with `--region-data`) measures the citizens' side instead: N residents sign
//! up through the real invitation and TOTP path and read their record and "who has looked"
//! pages while the clinicians read their practices' records (see `citizens`).
//!
//! While the phases run, a delta import goes on beside them (files of new results for people
//! already loaded, dropped into the server's inbox and imported by its scan job), as on a live
//! server; `--no-import` turns it off.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod citizens;
#[path = "../common/mod.rs"]
mod common;
mod dashboard;
mod day;
mod region;

use sharedcare::access::{password, secret, Gate, Opened};
use sharedcare::audit::{Action, Actor};
use sharedcare::clock::SystemClock;
use sharedcare::config::Config;
use sharedcare::import::Importer;
use sharedcare::record::view::{Freshness, RecordView};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "benchmark password 1";

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn load(dir: &std::path::Path, people: u64) -> String {
    let config = Config::load(dir).unwrap();
    let mut store = sharedcare::audit::open_store(&config).unwrap();
    let tx = store.begin().unwrap();
    common::register_sources(&tx);
    tx.add_user(
        "bench",
        "clinician",
        "R9W",
        None,
        &password::hash(PASSWORD).unwrap(),
        "2024-01-01T00:00:00Z",
    )
    .unwrap();
    tx.commit().unwrap();
    let user = store.user_by_name("bench").unwrap().unwrap();
    let profile = store.profiles_of(&user).unwrap().remove(0);
    let token = secret::new_token().unwrap();
    let tx = store.begin().unwrap();
    tx.add_api_token(
        &secret::token_hash(&token),
        user.id,
        profile.id,
        "2024-01-01T00:00:00Z",
        // Lapsing is not what is measured: the token outlives the run.
        "9999-12-31T00:00:00Z",
    )
    .unwrap();
    tx.commit().unwrap();
    let started = Instant::now();
    let (hl7, csv) = common::region(people);
    let clock = SystemClock;
    for (code, name, bytes) in [
        ("R9W-PAS", "adt.hl7", hl7.as_bytes()),
        ("WCC-ASC", "asc.csv", csv.as_bytes()),
    ] {
        let source = store.source_by_code(code).unwrap();
        Importer {
            store: &mut store,
            config: &config,
            clock: &clock,
        }
        .import_bytes(&source, name, bytes, &mut |_, _| {})
        .unwrap();
    }
    println!(
        "loaded {people} people in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    token
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn login(base: &str, username: &str) -> reqwest::blocking::Client {
    let c = client();
    let form = c
        .get(format!("{base}/login"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = form.find(marker).unwrap() + marker.len();
    let csrf = form[start..].split('"').next().unwrap().to_owned();
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303, "benchmark login failed");
    c
}

struct Phase {
    name: &'static str,
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: usize,
}

/// Whom a benchmark client reads, and how to ask for them.
pub struct Target {
    pub id: i64,
    pub nhs_number: String,
    /// Family name and year of birth, as a clinician types them.
    pub name_query: String,
    /// First given name and family name, nothing else.
    pub name_only: String,
    /// Family name and postcode district.
    pub name_postcode: String,
}

impl Target {
    pub fn new(
        id: i64,
        nhs_number: String,
        family: &str,
        given: &str,
        born: &str,
        postcode: &str,
    ) -> Self {
        let district = postcode.split_whitespace().next().unwrap_or("");
        // A clinician types the first given name, not the middle ones.
        let given = given.split_whitespace().next().unwrap_or("");
        Target {
            id,
            nhs_number,
            name_query: format!("{family} {}", born.get(..4).unwrap_or("")),
            name_only: format!("{given} {family}"),
            name_postcode: format!("{family} {district}"),
        }
    }
}

/// One concurrent client: who it signs in as, its API token, the people it reads.
pub struct Client {
    pub username: String,
    pub token: String,
    pub targets: Arc<Vec<Target>>,
}

type Request =
    fn(&reqwest::blocking::Client, &str, &str, &Target) -> reqwest::blocking::RequestBuilder;

fn run_phase(
    name: &'static str,
    clients: &[Client],
    seconds: u64,
    base: &Arc<String>,
    request: Request,
) -> Phase {
    // Said as it starts, so that a profiler can be pointed at one phase.
    eprintln!("phase starts: {name}, {seconds} s");
    let started = Instant::now();
    let handles: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(t, who)| {
            let base = Arc::clone(base);
            let (username, token) = (who.username.clone(), who.token.clone());
            let targets = Arc::clone(&who.targets);
            std::thread::spawn(move || {
                let c = login(&base, &username);
                let mut rng = common::Rng(t as u64 + 7);
                timed_requests(seconds, || {
                    let target = &targets[(rng.next() % targets.len() as u64) as usize];
                    request(&c, &base, &token, target)
                })
            })
        })
        .collect();
    joined(name, started, handles)
}

/// Sends the requests `next` makes, one after another, for `seconds`: each answer's latency,
/// and how many failed.
fn timed_requests(
    seconds: u64,
    mut next: impl FnMut() -> reqwest::blocking::RequestBuilder,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        let request = next();
        let t0 = Instant::now();
        match request
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.bytes())
        {
            Ok(_) => latencies.push(t0.elapsed()),
            Err(_) => errors += 1,
        }
    }
    (latencies, errors)
}

/// One phase's figures from its clients' threads.
fn joined(
    name: &'static str,
    started: Instant,
    handles: Vec<std::thread::JoinHandle<(Vec<Duration>, usize)>>,
) -> Phase {
    let mut latencies = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().unwrap();
        latencies.extend(l);
        errors += e;
    }
    latencies.sort();
    Phase {
        name,
        latencies,
        elapsed: started.elapsed(),
        errors,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn rss_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The server's highest own memory (`RssAnon`: not the file pages a memory map shares), in
/// MiB, sampled every 100 ms until told to stop.
fn own_memory_peak(
    pid: u32,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(rss_mib(pid, "RssAnon:"));
            std::thread::sleep(Duration::from_millis(100));
        }
        peak.max(rss_mib(pid, "RssAnon:"))
    })
}

/// p50 and p99 of the record read without and with the access gate, in microseconds.
fn policy_overhead(dir: &std::path::Path, people: u64, samples: u64) -> [(f64, f64); 2] {
    let config = Config::load(dir).unwrap();
    let mut store = sharedcare::audit::open_store(&config).unwrap();
    let gate = Gate::new(&config.access).unwrap();
    let user = store.user_by_name("bench").unwrap().unwrap();
    let profile = store.profiles_of(&user).unwrap().remove(0);
    let now = chrono::Utc::now();
    let now_text = now.to_rfc3339();
    let fresh = Freshness::new(&store.source_last_received().unwrap(), now);
    let actor = Actor::session(&profile, None);
    let mut rng = common::Rng(99);
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let without_gate = |store: &mut sharedcare::store::Store, id: i64| {
        let t0 = Instant::now();
        let live = store.resolve_person(id).unwrap().unwrap();
        let record = store.person_record(live).unwrap().unwrap();
        let view = RecordView::build(&record, now.date_naive(), &fresh, &[]);
        store
            .audit_seen(&actor, Action::ViewRecord, &[live], None, None, &now_text)
            .unwrap();
        drop(view);
        t0.elapsed()
    };
    let with_gate = |store: &mut sharedcare::store::Store, id: i64| {
        let t0 = Instant::now();
        // A person merged into another, or with no admission of their own, is not opened.
        let Opened::Record(visible) = gate.open_person(store, &profile, id, now, false).unwrap()
        else {
            return None;
        };
        let mut view = RecordView::build(&visible.record, now.date_naive(), &fresh, &[]);
        view.keep_categories(&visible.categories);
        store
            .audit_seen(
                &actor,
                Action::ViewRecord,
                &[visible.record.person_id],
                None,
                None,
                &now_text,
            )
            .unwrap();
        Some(t0.elapsed())
    };
    // Each person is read both ways, in alternating order, so neither way always finds the
    // pages the other has just brought into the cache.
    for n in 0..samples {
        let id = (rng.next() % people) as i64 + 1;
        if n % 2 == 0 {
            let plain = without_gate(&mut store, id);
            if let Some(gated) = with_gate(&mut store, id) {
                before.push(plain);
                after.push(gated);
            }
        } else if let Some(gated) = with_gate(&mut store, id) {
            after.push(gated);
            before.push(without_gate(&mut store, id));
        }
    }
    [before, after].map(|mut l| {
        l.sort();
        (percentile(&l, 0.5) * 1000.0, percentile(&l, 0.99) * 1000.0)
    })
}

/// Drops delta files of 1,000 result messages into the server's inbox, keeping twenty waiting,
/// until told to stop: the server's own scan job imports them, as in production. Returns the
/// messages imported and the time taken.
fn delta_imports(
    dir: &std::path::Path,
    people: u64,
    stop: &std::sync::atomic::AtomicBool,
) -> (u64, Duration) {
    let inbox = dir.join("inbox").join("R9W-PAS");
    std::fs::create_dir_all(&inbox).unwrap();
    let waiting = |inbox: &std::path::Path| {
        std::fs::read_dir(inbox)
            .map(|d| d.flatten().filter(|e| e.path().is_file()).count())
            .unwrap_or(0)
    };
    let started = Instant::now();
    let mut round = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if waiting(&inbox) < 20 {
            let part = inbox.join(format!("delta-{round}.hl7.part"));
            std::fs::write(&part, common::delta(people, round, 1_000)).unwrap();
            std::fs::rename(&part, inbox.join(format!("delta-{round}.hl7"))).unwrap();
            round += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    // Every imported file but the two the region was loaded from is a delta of 1,000.
    let stats = sharedcare::store::Store::open(&dir.join("sharedcare.db"))
        .unwrap()
        .stats()
        .unwrap();
    let files = stats.files_by_state.get("imported").copied().unwrap_or(0) - 2;
    (files as u64 * 1_000, took)
}

/// The synthetic region's people, all read by every client as the one bench user.
fn synthetic_clients(people: u64, clients: u64, token: &str) -> Vec<Client> {
    let targets: Arc<Vec<Target>> = Arc::new(
        (0..people)
            .map(|i| {
                let p = common::person(i, &mut common::Rng(i));
                // Person ids are assigned in import order, one per synthetic person.
                Target::new(
                    i as i64 + 1,
                    common::nhs_number(i),
                    p.family,
                    p.given,
                    &p.dob,
                    &p.postcode,
                )
            })
            .collect(),
    );
    (0..clients)
        .map(|_| Client {
            username: "bench".into(),
            token: token.to_owned(),
            targets: Arc::clone(&targets),
        })
        .collect()
}

fn start_server(dir: &std::path::Path) -> (std::process::Child, Arc<String>) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_sharedcare"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--sftp-listen", ""])
        .stdout(Stdio::piped())
        // SHAREDCARE_BENCH_SERVER_LOG=FILE keeps the server's log, to see why a request failed.
        .stderr(match std::env::var_os("SHAREDCARE_BENCH_SERVER_LOG") {
            Some(file) => Stdio::from(std::fs::File::create(file).unwrap()),
            None => Stdio::null(),
        })
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "server exited");
    }
    let base = Arc::new(line.trim().rsplit(' ').next().unwrap().to_owned());
    std::thread::spawn(move || for _ in reader.lines() {});
    (server, base)
}

/// The server scans its inboxes every second, for the delta import beside the phases.
fn scan_every_second(dir: &std::path::Path) {
    std::fs::write(
        dir.join("config.toml"),
        "[jobs]\ninbox_scan = \"* * * * * *\"\nbackup = \"\"\naudit_verify = \"\"\nretention = \"\"\nfts_optimise = \"\"\n",
    )
    .unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let clients = arg(&args, "--clients", 8);
    let seconds = arg(&args, "--seconds", 15);
    let importing = !args.iter().any(|a| a == "--no-import");
    let path_arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(std::path::PathBuf::from)
    };
    if args.iter().any(|a| a == "--dashboard") {
        let data = path_arg("--region-data").expect("--dashboard needs --region-data DATA");
        dashboard::run(&data, clients, seconds, PASSWORD);
        return;
    }
    if args.iter().any(|a| a == "--day") {
        let data = path_arg("--region-data")
            .expect("--day needs --region-data DATA (a region loaded with `sharedcare demo load`)");
        scan_every_second(&data);
        let (mut server, base) = start_server(&data);
        day::run(&data, &base, &args, PASSWORD, move || {
            let _ = server.kill();
            let _ = server.wait();
        });
        return;
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scratch = tempfile::tempdir().unwrap();
    let (dir, who, overhead, described, importer) = match path_arg("--region-data") {
        Some(data) => {
            let who = region::clients(&data, clients, PASSWORD);
            scan_every_second(&data);
            let people = region::people(&data);
            let importer = match path_arg("--deltas").filter(|_| importing) {
                Some(deltas) => {
                    let (stop, data) = (Arc::clone(&stop), data.clone());
                    Some(std::thread::spawn(move || {
                        region::feed_days(&data, &deltas, &stop)
                    }))
                }
                None => None,
            };
            let described = format!(
                "a loaded region of {people} people, each client a GP practice's clinician reading its own patients"
            );
            (data, who, None, described, importer)
        }
        None => {
            let people = arg(&args, "--people", 200_000);
            let dir = scratch.path().to_path_buf();
            let token = load(&dir, people);
            scan_every_second(&dir);
            let overhead = policy_overhead(&dir, people, 20_000);
            let importer = importing.then(|| {
                let (stop, dir) = (Arc::clone(&stop), dir.clone());
                std::thread::spawn(move || delta_imports(&dir, people, &stop))
            });
            let who = synthetic_clients(people, clients, &token);
            (
                dir,
                who,
                Some(overhead),
                format!("{people} people"),
                importer,
            )
        }
    };
    let residents = match arg(&args, "--citizens", 0) {
        0 => None,
        n => {
            assert!(
                path_arg("--region-data").is_some() && n <= clients,
                "--citizens N needs --region-data and at most --clients N"
            );
            Some(citizens::invite(&dir, &who[..n as usize]))
        }
    };
    let (mut server, base) = start_server(&dir);
    let own_memory = own_memory_peak(server.id(), Arc::clone(&stop));
    if let Some(residents) = residents {
        let mixed = citizens::run(&base, &who, &residents, seconds);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let imported = importer.map(|h| h.join().unwrap());
        println!(
            "\nsharedcare web benchmark, citizens' side: {described}; {} citizens (signed up by \
             invitation code and TOTP) beside {clients} clinicians, over HTTPS, {seconds} s",
            residents.len()
        );
        if let Some((messages, took)) = imported {
            println!(
                "during the phase the server imported deltas: {messages} messages in {:.0} s",
                took.as_secs_f64()
            );
        }
        println!(
            "{:<24} {:>9} {:>9} {:>10} {:>8}",
            "pages", "p50 ms", "p99 ms", "pages/s", "errors"
        );
        for p in [
            &mixed.citizen_record,
            &mixed.citizen_looked,
            &mixed.clinician_record,
        ] {
            println!(
                "{:<24} {:>9.2} {:>9.2} {:>10.0} {:>8}",
                p.name,
                percentile(&p.latencies, 0.5),
                percentile(&p.latencies, 0.99),
                p.latencies.len() as f64 / p.elapsed.as_secs_f64(),
                p.errors
            );
        }
        println!(
            "rows on the first citizen's \"who has looked\" page at the end: {}; server RSS peak \
             {:.0} MiB, own memory peak {:.0} MiB",
            mixed.looked_rows,
            rss_mib(server.id(), "VmHWM:"),
            own_memory.join().unwrap()
        );
        let _ = server.kill();
        let _ = server.wait();
        return;
    }

    let phases = [
        run_phase(
            "search (NHS number)",
            &who,
            seconds,
            &base,
            |c, base, _, t| {
                c.get(format!("{base}/search"))
                    .query(&[("q", t.nhs_number.as_str())])
            },
        ),
        run_phase(
            "search (name + DOB)",
            &who,
            seconds,
            &base,
            |c, base, _, t| {
                c.get(format!("{base}/search"))
                    .query(&[("q", t.name_query.as_str())])
            },
        ),
        run_phase("search (name)", &who, seconds, &base, |c, base, _, t| {
            c.get(format!("{base}/search"))
                .query(&[("q", t.name_only.as_str())])
        }),
        run_phase(
            "search (name + area)",
            &who,
            seconds,
            &base,
            |c, base, _, t| {
                c.get(format!("{base}/search"))
                    .query(&[("q", t.name_postcode.as_str())])
            },
        ),
        run_phase("record page", &who, seconds, &base, |c, base, _, t| {
            c.get(format!("{base}/person/{}", t.id))
        }),
        run_phase(
            "FHIR $everything",
            &who,
            seconds,
            &base,
            |c, base, token, t| {
                c.get(format!("{base}/fhir/Patient/person-{}/$everything", t.id))
                    .bearer_auth(token)
            },
        ),
    ];
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let imported = importer.map(|h| h.join().unwrap());
    println!("\nsharedcare web benchmark: {described}; {clients} concurrent clients over HTTPS, {seconds} s a phase");
    if let Some((messages, took)) = imported {
        println!(
            "during the phases the server imported deltas beside them: {messages} messages in {:.0} s ({:.0} msg/s)",
            took.as_secs_f64(),
            messages as f64 / took.as_secs_f64()
        );
    }
    println!(
        "{:<22} {:>9} {:>9} {:>10} {:>8}",
        "phase", "p50 ms", "p99 ms", "req/s", "errors"
    );
    for p in &phases {
        println!(
            "{:<22} {:>9.2} {:>9.2} {:>10.0} {:>8}",
            p.name,
            percentile(&p.latencies, 0.5),
            percentile(&p.latencies, 0.99),
            p.latencies.len() as f64 / p.elapsed.as_secs_f64(),
            p.errors
        );
    }
    if let Some([before, after]) = overhead {
        println!(
            "\nrecord read in-process, 20,000 reads each way: without the access gate p50 {:.0} µs p99 {:.0} µs; \
             with it p50 {:.0} µs p99 {:.0} µs (p99 {:+.1} %)",
            before.0,
            before.1,
            after.0,
            after.1,
            (after.1 / before.1 - 1.0) * 100.0
        );
    }
    println!(
        "server RSS now {:.0} MiB, peak {:.0} MiB; of it the server's own memory (RssAnon) now \
         {:.0} MiB, peak {:.0} MiB, and mapped database pages, the shared file cache (RssFile), \
         now {:.0} MiB",
        rss_mib(server.id(), "VmRSS:"),
        rss_mib(server.id(), "VmHWM:"),
        rss_mib(server.id(), "RssAnon:"),
        own_memory.join().unwrap(),
        rss_mib(server.id(), "RssFile:")
    );
    let _ = server.kill();
    let _ = server.wait();
}
