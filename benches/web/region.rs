//! The web benchmark over a region loaded with `sharedcare demo load`: each client is one GP
//! practice's clinician reading that practice's registered patients (the relationship the
//! access gate finds for them), while the region's generated day deltas (`sharedcare demo
//! generate --day D`) arrive in the server's inboxes one day after another.

use super::{Client, Target};
use sharedcare::access::{password, secret};
use sharedcare::config::Config;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: &str = "2024-01-01T00:00:00Z";

/// Signs up one clinician per client at the region's first GP practices (again on a rerun),
/// and lists each practice's patients.
pub fn clients(data: &Path, n: u64, password: &str) -> Vec<Client> {
    let config = Config::load(data).unwrap();
    let mut store = sharedcare::audit::open_store(&config).unwrap();
    // The benchmark reads who is registered where straight from the database: the product
    // has no query for "every patient of a practice", and should not need one.
    let db = rusqlite::Connection::open_with_flags(
        config.database_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    // A small region has fewer practices than clients: clients then share practices.
    let practices: i64 = db
        .query_row(
            "SELECT count(DISTINCT gp_practice) FROM person WHERE gp_practice LIKE 'Y9%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (0..n)
        .map(|t| {
            let org = format!("Y9{:04}", t % practices.max(1) as u64 + 1);
            let username = format!("bench-gp-{}", t + 1);
            if store.user_by_name(&username).unwrap().is_none() {
                let tx = store.begin().unwrap();
                tx.add_user(
                    &username,
                    "gp-clinician",
                    &org,
                    None,
                    &password::hash(password).unwrap(),
                    NOW,
                )
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
            let targets = registered_patients(&db, &org);
            assert!(!targets.is_empty(), "no patients registered at {org}");
            Client {
                username,
                token,
                targets: Arc::new(targets),
            }
        })
        .collect()
}

/// A GP practice's registered patients, as a clinician there would find them. The benchmark
/// reads them straight from the database: the product has no query for "every patient of a
/// practice", and should not need one.
pub fn registered_patients(db: &rusqlite::Connection, org: &str) -> Vec<Target> {
    db.prepare_cached(
        "SELECT id, nhs_number, family, given, birth_date, postcode FROM person
         WHERE gp_practice = ?1 AND merged_into IS NULL AND nhs_number IS NOT NULL",
    )
    .unwrap()
    .query_map([org], |r| {
        let text = |k: usize| -> rusqlite::Result<String> {
            Ok(r.get::<_, Option<String>>(k)?.unwrap_or_default())
        };
        Ok(Target::new(
            r.get(0)?,
            r.get(1)?,
            &text(2)?,
            &text(3)?,
            &text(4)?,
            &text(5)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

pub fn people(data: &Path) -> i64 {
    let config = Config::load(data).unwrap();
    sharedcare::store::Store::open(&config.database_path())
        .unwrap()
        .stats()
        .unwrap()
        .persons
}

/// Drops each day's files (`DELTAS/day-1/<SOURCE>/…`, then day 2 …) into the server's inboxes
/// as soon as the previous day's are all claimed, until told to stop. Returns the messages
/// the server imported meanwhile and the time taken. The messages are summed from the
/// server's file records directly: the store counts files, not their units, and a file part
/// imported when the phases end still counts for what it committed.
pub fn feed_days(data: &Path, deltas: &Path, stop: &AtomicBool) -> (u64, Duration) {
    let db = rusqlite::Connection::open_with_flags(
        data.join("sharedcare.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let last_file: i64 = db
        .query_row("SELECT coalesce(max(id), 0) FROM feed_file", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut days: Vec<(u32, PathBuf)> = std::fs::read_dir(deltas)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let day = e.file_name().to_str()?.strip_prefix("day-")?.parse().ok()?;
            Some((day, e.path()))
        })
        .collect();
    days.sort();
    assert!(!days.is_empty(), "no day-N folders in {}", deltas.display());
    let inbox = data.join("inbox");
    let started = Instant::now();
    for (_, day) in &days {
        while waiting(&inbox) > 0 && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        for (code, folder) in sources(day) {
            let to = inbox.join(code);
            std::fs::create_dir_all(&to).unwrap();
            for file in std::fs::read_dir(day.join(folder)).unwrap().flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                let part = to.join(format!("{name}.part"));
                std::fs::copy(file.path(), &part).unwrap();
                std::fs::rename(&part, to.join(&name)).unwrap();
            }
        }
    }
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = started.elapsed();
    let messages: i64 = db
        .query_row(
            "SELECT coalesce(sum(accepted + rejected), 0) FROM feed_file WHERE id > ?1",
            [last_file],
            |r| r.get(0),
        )
        .unwrap();
    (messages as u64, took)
}

/// Each source's code and folder, from a generated folder's `sources.toml`.
fn sources(day: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(day.join("sources.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["folder"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Files waiting in any source's inbox.
fn waiting(inbox: &Path) -> usize {
    std::fs::read_dir(inbox)
        .map(|d| {
            d.flatten()
                .filter_map(|s| std::fs::read_dir(s.path()).ok())
                .map(|files| files.flatten().filter(|f| f.path().is_file()).count())
                .sum()
        })
        .unwrap_or(0)
}
