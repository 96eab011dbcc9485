//! Scheduled work: each job in `[jobs]` of the configuration runs on its cron schedule (with
//! a seconds field, UTC) while the server runs; a blank schedule turns a job off.
//!
//! Each job has its own small loop on the server's tokio runtime: wait for the next time the
//! schedule names, run the job on a blocking thread (imports and backups take real time, and
//! the web must stay responsive), record the run, and only then compute the next time. So a
//! job never overlaps itself: times that pass while a run is still going are skipped. Every run
//! opens its own database connection and is recorded in `job_run` (start, end, outcome, a
//! message without patient data). The same jobs run by hand from the CLI (`sharedcare scan`,
//! `sharedcare backup`) go through [`run_recorded`] too.

pub mod backup;
pub mod drill;
pub mod encrypted;
pub mod health;
pub mod inbox;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use std::str::FromStr;
use std::sync::Arc;

/// The jobs there are, by their configuration key.
pub const JOBS: &[&str] = &[
    "inbox_scan",
    "overdue_check",
    "backup",
    "retention",
    "fts_optimise",
    "audit_verify",
    "restore_drill",
    "misuse_watch",
    "population",
];

fn schedule_text<'a>(config: &'a Config, job: &str) -> &'a str {
    let j = &config.jobs;
    match job {
        "inbox_scan" => &j.inbox_scan,
        "overdue_check" => &j.overdue_check,
        "backup" => &j.backup,
        "retention" => &j.retention,
        "fts_optimise" => &j.fts_optimise,
        "audit_verify" => &j.audit_verify,
        "restore_drill" => &j.restore_drill,
        "misuse_watch" => &j.misuse_watch,
        "population" => &j.population,
        _ => "",
    }
}

/// The parsed schedules of the enabled jobs; a bad expression is a configuration error.
pub fn schedules(config: &Config) -> Result<Vec<(&'static str, cron::Schedule)>> {
    let mut out = Vec::new();
    for job in JOBS {
        let text = schedule_text(config, job).trim();
        if text.is_empty() {
            continue;
        }
        let schedule = cron::Schedule::from_str(text).map_err(|e| {
            Error::Invalid(format!(
                "jobs.{job} = {text:?} in config.toml is not a cron expression ({e}); use six \
                 fields with seconds first, e.g. \"0 30 2 * * *\", or \"\" to turn it off"
            ))
        })?;
        out.push((*job, schedule));
    }
    Ok(out)
}

/// Runs one job now and returns its message.
pub fn run_job(job: &str, config: &Config, clock: &dyn Clock) -> Result<String> {
    let mut store = crate::audit::open_store(config)?;
    match job {
        "inbox_scan" => {
            let report = inbox::scan_once(config, &mut store, clock)?;
            Ok(report.summary())
        }
        "overdue_check" => health::overdue_check(config, &store, clock.now()),
        "backup" => {
            let r = backup::backup(config, &store, clock)?;
            Ok(backup::summary(&r))
        }
        "restore_drill" => {
            drop(store);
            let r = drill::restore_drill(config, clock)?;
            match r.ok {
                true => Ok(r.summary()),
                false => Err(Error::Invalid(r.summary())),
            }
        }
        "retention" => health::retention(config, &mut store, clock.now()),
        "fts_optimise" => fts_optimise(&mut store)
            .map(|steps| format!("search indexes optimised ({steps} steps)")),
        "audit_verify" => {
            let report = crate::audit::verify(&store, &mut |_| {})?;
            let summary = report.summary();
            match report.broken {
                None => Ok(summary),
                Some(_) => {
                    // Sequence numbers and what is wrong only: no event contents.
                    log::error!("{summary}");
                    Err(Error::Audit(summary))
                }
            }
        }
        "misuse_watch" => {
            let rules = crate::misuse::Rules::load(config.access.misuse_rules.as_deref())?;
            Ok(crate::misuse::watch(&mut store, &rules, clock.now())?.summary())
        }
        "population" => {
            let read = crate::population::Read::Changed;
            crate::population::refresh(config, &mut store, clock, read).map(|r| r.summary())
        }
        other => Err(Error::Invalid(format!("no job called {other}"))),
    }
}

/// Jobs whose errors speak of files, keys and checks only, never of a record's contents: their
/// run keeps the whole reason, which feed health shows (others keep the redacted summary).
/// Merges each full-text index into one segment, a step per transaction, letting waiting
/// writers in between: at a region's size one `'optimize'` rewrites gigabytes, and holding the
/// write lock through it would turn away every import and sign-in for minutes. Returns the
/// steps taken.
fn fts_optimise(store: &mut Store) -> Result<usize> {
    // Pages (about 4 KB each) merged per step: well under a second of writing.
    fts_optimise_in_steps(store, 500)
}

fn fts_optimise_in_steps(store: &mut Store, pages: i64) -> Result<usize> {
    let mut steps = 0;
    for index in crate::store::FullTextIndex::ALL {
        loop {
            let tx = store.begin()?;
            let worked = tx.fts_merge_step(index, pages)?;
            tx.commit()?;
            steps += 1;
            if !worked {
                break;
            }
            crate::store::yield_to_waiting_writers(std::time::Duration::from_millis(50));
        }
    }
    Ok(steps)
}

const SAYS_WHY: &[&str] = &["backup", "restore_drill"];

/// Runs `work` as a recorded run of `job`: a `job_run` row before, its outcome after.
pub fn run_recorded<T>(
    job: &str,
    config: &Config,
    clock: &dyn Clock,
    work: impl FnOnce() -> Result<(T, String)>,
) -> Result<T> {
    let mut store = crate::audit::open_store(config)?;
    let tx = store.begin()?;
    let run_id = tx.job_started(job, &clock.now_text())?;
    tx.commit()?;
    let result = work();
    let (ok, message) = match &result {
        Ok((_, m)) => (true, m.clone()),
        Err(e) if SAYS_WHY.contains(&job) => (false, e.to_string()),
        Err(e) => (false, e.operator_summary()),
    };
    let tx = store.begin()?;
    tx.job_finished(run_id, &clock.now_text(), ok, &message)?;
    tx.commit()?;
    result.map(|(t, _)| t)
}

/// Starts every enabled job's loop on the current tokio runtime (the server's).
pub fn spawn(config: Config) -> Result<()> {
    let schedules = schedules(&config)?;
    let clock = SystemClock;
    if let Ok(mut store) = crate::audit::open_store(&config) {
        let closed = store
            .begin()
            .and_then(|tx| {
                let n = tx.jobs_interrupted(&clock.now_text())?;
                tx.commit().map(|()| n)
            })
            .unwrap_or(0);
        if closed > 0 {
            log::warn!("{closed} job runs were interrupted by the last stop");
        }
    }
    let config = Arc::new(config);
    for (job, schedule) in schedules {
        let config = Arc::clone(&config);
        rocket::tokio::spawn(async move {
            while let Some(next) = schedule.after(&chrono::Utc::now()).next() {
                let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default();
                rocket::tokio::time::sleep(wait).await;
                let config = Arc::clone(&config);
                let run = rocket::tokio::task::spawn_blocking(move || {
                    run_recorded(job, &config, &SystemClock, || {
                        run_job(job, &config, &SystemClock).map(|m| ((), m))
                    })
                })
                .await;
                match run {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => log::warn!("job {job} failed: {}", e.operator_summary()),
                    Err(e) => log::warn!("job {job} did not finish: {e}"),
                }
            }
        });
    }
    Ok(())
}

/// A fairing that starts the scheduler once the server is up; a bad schedule is refused now,
/// before the server starts.
pub fn fairing(config: Config) -> Result<rocket::fairing::AdHoc> {
    schedules(&config)?;
    Ok(rocket::fairing::AdHoc::on_liftoff("jobs", move |_| {
        Box::pin(async move {
            if let Err(e) = spawn(config) {
                eprintln!("error: the job scheduler did not start: {e}");
            }
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FullTextIndex;

    #[test]
    fn the_default_schedules_parse_and_blank_disables() {
        let mut config = Config::load(std::path::Path::new("/nonexistent")).unwrap();
        assert_eq!(schedules(&config).unwrap().len(), JOBS.len());
        config.jobs.backup = " ".into();
        let names: Vec<&str> = schedules(&config).unwrap().iter().map(|s| s.0).collect();
        assert!(!names.contains(&"backup"));
        config.jobs.retention = "0 0 4 * * 0".into();
        assert!(
            schedules(&config).is_err(),
            "cron counts days of week from 1"
        );
    }

    #[test]
    fn regression_the_weekly_search_index_optimise_held_the_write_lock_through_the_whole_merge() {
        // One 'optimize' per index in one transaction: at a region's size it rewrites
        // gigabytes while every import and sign-in waits, and gives up after 10 s. It is now
        // done a step per transaction.
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let words = [
            "asthma", "review", "clinic", "letter", "warfarin", "fracture",
        ];
        for id in 1..=2000i64 {
            // One transaction each: one segment each, until the automatic merges.
            let tx = store.begin().unwrap();
            let (a, b) = (words[id as usize % 6], words[id as usize % 5]);
            let text = format!("{a} {b} code{id} ref{}", id * 7919);
            tx.conn()
                .execute(
                    "INSERT INTO entry_fts (rowid, title, detail) VALUES (?1, ?2, '')",
                    rusqlite::params![id, text],
                )
                .unwrap();
            tx.commit().unwrap();
        }
        let found = |store: &Store| -> Vec<i64> {
            let mut st = store
                .conn()
                .prepare(
                    "SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'warfarin' ORDER BY rowid",
                )
                .unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = found(&store);
        let expected = (1..=2000usize).filter(|i| i % 6 == 4 || i % 5 == 4).count();
        assert_eq!(before.len(), expected);
        let steps = fts_optimise_in_steps(&mut store, 1).unwrap();
        assert!(steps > 5, "merged in {steps} transactions");
        assert_eq!(found(&store), before, "the same answers after merging");
        // Merged into one: a further step has nothing to do.
        let tx = store.begin().unwrap();
        assert!(!tx.fts_merge_step(FullTextIndex::Entries, 1000).unwrap());
    }
}
