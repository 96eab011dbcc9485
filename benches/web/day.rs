//! The web benchmark's traffic as clinicians' working days, for the misuse watch: many GP
//! clinicians, each signing in and seeing `--visits` of their own practice's patients the way
//! the benchmark's phases ask for them (found by NHS number, found by name and year of birth,
//! the record page, the FHIR `$everything` their system pulls), then the misuse watch run over
//! the trail the day left. A day of normal care should raise no alert; the figures say whether
//! it did, rule by rule.
//!
//! `cargo bench --bench web -- --region-data DATA --day [--clinicians N] [--visits V]
//! [--clients C]`. The clinicians work `C` at a time, as fast as the server answers, so the
//! "day" takes minutes; the watch's unusual-hours rule still reads the clock, so run it in the
//! daytime (UK) or expect that rule to fire for every look.

use super::{login, percentile, Target};
use sharedcare::access::{password, secret};
use sharedcare::config::Config;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NOW: &str = "2024-01-01T00:00:00Z";
const KINDS: [&str; 4] = [
    "search (NHS number)",
    "search (name + DOB)",
    "record page",
    "FHIR $everything",
];

/// One clinician of the day: who signs in, their API token, the patients they see.
struct Clinician {
    username: String,
    token: String,
    patients: Vec<Target>,
}

/// Signs up `n` clinicians spread over the region's GP practices (again on a rerun: the same
/// names), each with `visits` of their practice's registered patients picked at random.
fn clinicians(data: &Path, n: u64, visits: usize, pass: &str) -> Vec<Clinician> {
    let config = Config::load(data).unwrap();
    let mut store = sharedcare::audit::open_store(&config).unwrap();
    let db = rusqlite::Connection::open_with_flags(
        config.database_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let practices: Vec<String> = db
        .prepare("SELECT DISTINCT gp_practice FROM person WHERE gp_practice LIKE 'Y9%' ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!practices.is_empty(), "the region has no GP practices");
    // Hashing is deliberately slow; every clinician of the day has the same password.
    let hash = password::hash(pass).unwrap();
    let mut rng = super::common::Rng(20_261_203);
    (0..n)
        .map(|k| {
            let org = &practices[k as usize % practices.len()];
            let username = format!("bench-day-{}", k + 1);
            if store.user_by_name(&username).unwrap().is_none() {
                let tx = store.begin().unwrap();
                tx.add_user(&username, "gp-clinician", org, None, &hash, NOW)
                    .unwrap();
                tx.commit().unwrap();
            }
            let user = store.user_by_name(&username).unwrap().unwrap();
            let profile = store.profiles_of(&user).unwrap().remove(0);
            let token = secret::new_token().unwrap();
            let tx = store.begin().unwrap();
            // Lapsing is not what is measured: the token outlives the run.
            let until = "9999-12-31T00:00:00Z";
            tx.add_api_token(&secret::token_hash(&token), user.id, profile.id, NOW, until)
                .unwrap();
            tx.commit().unwrap();
            let mut registered = super::region::registered_patients(&db, org);
            let mut patients = Vec::new();
            while patients.len() < visits && !registered.is_empty() {
                let i = (rng.next() % registered.len() as u64) as usize;
                patients.push(registered.swap_remove(i));
            }
            Clinician {
                username,
                token,
                patients,
            }
        })
        .collect()
}

/// The highest misuse alert id now, so the day's alerts are those above it.
fn last_alert(data: &Path) -> i64 {
    let db = rusqlite::Connection::open(data.join("sharedcare.db")).unwrap();
    db.query_row(
        "SELECT coalesce(max(alert_id), 0) FROM misuse_alert",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Runs the day against the server at `base`, then (the server stopped by `stop_server`) the
/// misuse watch, and prints both.
pub fn run(
    data: &Path,
    base: &Arc<String>,
    args: &[String],
    pass: &str,
    stop_server: impl FnOnce(),
) {
    let n = super::arg(args, "--clinicians", 120);
    let visits = super::arg(args, "--visits", 30) as usize;
    let threads = super::arg(args, "--clients", 8);
    let before = last_alert(data);
    let day = Arc::new(clinicians(data, n, visits, pass));
    let next = Arc::new(AtomicUsize::new(0));
    let latencies: Arc<Mutex<[Vec<Duration>; 4]>> = Arc::default();
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (day, next, base) = (Arc::clone(&day), Arc::clone(&next), Arc::clone(base));
            let (latencies, errors) = (Arc::clone(&latencies), Arc::clone(&errors));
            std::thread::spawn(move || {
                while let Some(who) = day.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let c = login(&base, &who.username);
                    let mut mine: [Vec<Duration>; 4] = Default::default();
                    for p in &who.patients {
                        let asks = [
                            c.get(format!("{base}/search"))
                                .query(&[("q", &p.nhs_number)]),
                            c.get(format!("{base}/search"))
                                .query(&[("q", &p.name_query)]),
                            c.get(format!("{base}/person/{}", p.id)),
                            c.get(format!("{base}/fhir/Patient/person-{}/$everything", p.id))
                                .bearer_auth(&who.token),
                        ];
                        for (kind, ask) in asks.into_iter().enumerate() {
                            let t0 = Instant::now();
                            match ask
                                .send()
                                .and_then(|r| r.error_for_status())
                                .and_then(|r| r.bytes())
                            {
                                Ok(_) => mine[kind].push(t0.elapsed()),
                                Err(_) => {
                                    errors.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    let mut all = latencies.lock().unwrap();
                    for (kind, l) in mine.into_iter().enumerate() {
                        all[kind].extend(l);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let took = started.elapsed();
    stop_server();
    let watch = std::process::Command::new(env!("CARGO_BIN_EXE_sharedcare"))
        .arg("--data-dir")
        .arg(data)
        .args(["misuse", "check"])
        .output()
        .unwrap();
    assert!(watch.status.success(), "misuse check failed");
    let db = rusqlite::Connection::open(data.join("sharedcare.db")).unwrap();
    let raised: Vec<(String, i64)> = db
        .prepare(
            "SELECT rule, count(*) FROM misuse_alert WHERE alert_id > ?1 GROUP BY rule ORDER BY rule",
        )
        .unwrap()
        .query_map([before], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let visited: usize = day.iter().map(|c| c.patients.len()).sum();
    println!(
        "\nsharedcare web benchmark, clinicians' day: {n} GP clinicians, {visited} patient visits \
         (each: NHS-number search, name search, record page, FHIR $everything), {threads} at a \
         time over HTTPS, {:.0} s, {} errors",
        took.as_secs_f64(),
        errors.load(Ordering::Relaxed)
    );
    println!(
        "{:<22} {:>9} {:>9} {:>8}",
        "request", "p50 ms", "p99 ms", "count"
    );
    let mut all = latencies.lock().unwrap();
    for (kind, l) in all.iter_mut().enumerate() {
        l.sort();
        println!(
            "{:<22} {:>9.2} {:>9.2} {:>8}",
            KINDS[kind],
            percentile(l, 0.5),
            percentile(l, 0.99),
            l.len()
        );
    }
    println!(
        "misuse watch after the day (`sharedcare misuse check`: {}): {} alerts raised by the day{}",
        String::from_utf8_lossy(&watch.stdout).trim(),
        raised.iter().map(|r| r.1).sum::<i64>(),
        raised
            .iter()
            .map(|(rule, n)| format!("; {rule}: {n}"))
            .collect::<String>()
    );
}
