//! Feed health (per source: traffic, cadence status, waiting and quarantined files), the
//! "source went quiet" check built on it, and retention of done files and rejects.

use crate::config::Config;
use crate::error::Result;
use crate::sources::cadence::Cadence;
use crate::sources::drop_folder::DropFolder;
use crate::sources::io;
use crate::store::{FeedCounts, Store};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Serialize)]
pub struct FeedHealth {
    pub source: String,
    pub name: String,
    pub kind: String,
    pub format: String,
    pub cadence: Option<String>,
    pub drop_folder: Option<String>,
    /// Why the drop folder is not scanned, when it breaks the drop-folder rule
    /// (`sources::drop_folder::check_drop_folder`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_folder_refused: Option<String>,
    /// green, amber or red against the cadence; "none" when no cadence is set.
    pub status: String,
    /// When the next file is (or was) due.
    pub due_at: Option<String>,
    #[serde(flatten)]
    pub counts: FeedCounts,
    /// Files waiting in the inbox, drop folder or processing/.
    pub waiting: usize,
    /// How long the oldest waiting file has waited, in seconds.
    pub import_lag_seconds: Option<i64>,
    pub quarantined: Vec<Quarantined>,
    /// The source's own MLLP port, when it has one.
    pub mllp: Option<String>,
    /// Messages (live messages and files) received in the minute before now.
    pub messages_per_minute: i64,
}

#[derive(Debug, Serialize)]
pub struct Quarantined {
    pub file: String,
    pub reason: String,
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The feed-health table at `now`.
pub fn feed_health(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<Vec<FeedHealth>> {
    let today = crate::record::when::uk_midnight(now);
    let grace = Duration::minutes(config.feeds.overdue_grace_minutes.max(0));
    let mut out = Vec::new();
    for source in store.sources()? {
        let feed = store.source_feed(source.id)?;
        let counts =
            store.feed_counts(source.id, &text(today), &text(today - Duration::days(6)))?;
        let cadence = feed.cadence.as_deref().and_then(|c| Cadence::parse(c).ok());
        let last = counts
            .last_received
            .as_deref()
            .or(Some(source.created_at.as_str()))
            .and_then(parse_time);
        let (status, due_at) = match (cadence, last) {
            (Some(c), Some(last)) => (
                c.health(last, now, grace).as_str().to_owned(),
                Some(text(c.due_at(last))),
            ),
            _ => ("none".to_owned(), None),
        };
        let (folder, drop_folder_refused) =
            DropFolder::for_source(config, source.id, &source.code, feed.drop_folder.as_deref())?;
        let spool = folder.spool.clone();
        let mut oldest: Option<std::time::SystemTime> = None;
        let mut waiting = 0;
        let mut note = |m: Option<std::time::SystemTime>| {
            waiting += 1;
            if let Some(m) = m {
                oldest = Some(oldest.map_or(m, |o| o.min(m)));
            }
        };
        for (_, _, meta) in folder.waiting()? {
            note(meta.modified().ok());
        }
        for c in spool.leftovers()? {
            note(c.path.metadata().and_then(|m| m.modified()).ok());
        }
        let import_lag_seconds = oldest.map(|o| {
            let o: DateTime<Utc> = o.into();
            (now - o).num_seconds().max(0)
        });
        let quarantined = spool
            .quarantined()?
            .into_iter()
            .map(|(file, reason)| Quarantined { file, reason })
            .collect();
        let messages_per_minute =
            store.messages_since(source.id, &text(now - Duration::minutes(1)))?;
        out.push(FeedHealth {
            source: source.code.clone(),
            name: source.name.clone(),
            kind: source.kind.as_str().to_owned(),
            format: source.format.as_str().to_owned(),
            cadence: feed.cadence,
            drop_folder: feed.drop_folder,
            drop_folder_refused,
            status,
            due_at,
            counts,
            waiting,
            import_lag_seconds,
            quarantined,
            mllp: store.mllp_listen(source.id)?,
            messages_per_minute,
        });
    }
    Ok(out)
}

/// The overdue check: which sources are amber or red. `Ok` even when some are; the message
/// says which.
pub fn overdue_check(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<String> {
    let late: Vec<String> = feed_health(config, store, now)?
        .into_iter()
        .filter(|h| h.status == "amber" || h.status == "red")
        .map(|h| format!("{} {}", h.source, h.status))
        .collect();
    if late.is_empty() {
        return Ok("every source with a cadence is on time".into());
    }
    log::warn!("sources overdue: {}", late.join(", "));
    Ok(format!("overdue: {}", late.join(", ")))
}

/// Deletes done/ day folders and rejected units older than their retention.
pub fn retention(config: &Config, store: &mut Store, now: DateTime<Utc>) -> Result<String> {
    let mut removed_days = 0;
    let days = config.feeds.done_retention_days;
    if days > 0 {
        let cutoff = (now - Duration::days(days)).date_naive();
        let root = config.data_dir.join("done");
        for source in subdirs(&root)? {
            for day in subdirs(&source)? {
                let name = day.file_name().map(|n| n.to_string_lossy().into_owned());
                let date = name.and_then(|n| NaiveDate::parse_from_str(&n, "%Y-%m-%d").ok());
                if date.is_some_and(|d| d < cutoff) {
                    std::fs::remove_dir_all(&day).map_err(|e| io("remove", &day, e))?;
                    removed_days += 1;
                }
            }
        }
    }
    let mut purged = 0;
    if config.feeds.reject_retention_days > 0 {
        let cutoff = text(now - Duration::days(config.feeds.reject_retention_days));
        let tx = store.begin()?;
        purged = tx.purge_rejects_before(&cutoff)?;
        tx.commit()?;
    }
    Ok(format!(
        "removed {removed_days} day folders from done/, {purged} rejected units"
    ))
}

fn subdirs(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// How one of the jobs that keep the record recoverable last went, for feed health.
#[derive(Debug, Serialize)]
pub struct SafeguardHealth {
    /// `backup` or `restore_drill`.
    pub job: &'static str,
    pub label: &'static str,
    /// "passed", "failed" or "never".
    pub outcome: &'static str,
    pub last_run: Option<String>,
    pub last_passed: Option<String>,
    /// What the last run said (a file name and figures, or why it failed).
    pub message: String,
}

/// The backup job's and the restore drill's last runs.
pub fn safeguards(store: &Store) -> Result<Vec<SafeguardHealth>> {
    let mut out = Vec::new();
    for (job, label) in [("backup", "Backup"), ("restore_drill", "Restore drill")] {
        let last = store.job_outcome(job)?;
        out.push(match last {
            None => SafeguardHealth {
                job,
                label,
                outcome: "never",
                last_run: None,
                last_passed: None,
                message: "has not run yet".into(),
            },
            Some(o) => SafeguardHealth {
                job,
                label,
                outcome: if o.ok { "passed" } else { "failed" },
                last_run: Some(o.finished_at),
                last_passed: o.last_ok,
                message: o.message.unwrap_or_default(),
            },
        });
    }
    Ok(out)
}
