//! `sharedcare feeds`, `scan`, `backup` and `restore`: the operator's side of feeds that run
//! themselves. `scan` and `backup` are the scheduler's jobs run once by hand, recorded alike.

use super::text::say;
use super::{print_json, Ctx, CLOCK};
use crate::clock::{Clock, FixedClock};
use crate::error::{Error, Result};
use crate::jobs::{self, backup, health, inbox};
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct FeedsArgs {
    /// Judge cadences at this moment (RFC 3339) instead of now; for tests and "what if".
    #[arg(long, hide = true)]
    now: Option<String>,
}

fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>> {
    match now {
        None => Ok(CLOCK.now()),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Error::Invalid(format!("--now {s}: {e}"))),
    }
}

pub fn feeds(ctx: &mut Ctx, args: &FeedsArgs) -> Result<u8> {
    let now = parse_now(args.now.as_deref())?;
    let rows = health::feed_health(&ctx.config, &ctx.store, now)?;
    if ctx.json {
        print_json(&rows);
        return Ok(0);
    }
    for s in health::safeguards(&ctx.store)? {
        say!(
            "{}: {}{}: {}",
            s.label,
            s.outcome.to_uppercase(),
            s.last_run
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default(),
            s.message
        );
    }
    if rows.is_empty() {
        say!("no sources yet; add one with `sharedcare source add`");
        return Ok(0);
    }
    say!(
        "{:<20} {:<6} {:<16} {:<20} {:<20} {:>11} {:>13} {:>11} {:>7} {:>8} {:>7}",
        "SOURCE",
        "STATUS",
        "CADENCE",
        "LAST FILE",
        "LAST SUCCESS",
        "FILES 1d/7d",
        "MESSAGES 1d/7d",
        "REJECTS 1d/7d",
        "WAITING",
        "LAG",
        "MSG/MIN"
    );
    for h in &rows {
        let c = &h.counts;
        say!(
            "{:<20} {:<6} {:<16} {:<20} {:<20} {:>11} {:>13} {:>11} {:>7} {:>8} {:>7}",
            h.source,
            h.status,
            h.cadence.as_deref().unwrap_or("-"),
            c.last_received.as_deref().unwrap_or("never"),
            c.last_success.as_deref().unwrap_or("never"),
            format!("{}/{}", c.files_today, c.files_7d),
            format!("{}/{}", c.messages_today, c.messages_7d),
            format!("{}/{}", c.rejects_today, c.rejects_7d),
            h.waiting,
            h.import_lag_seconds
                .map(|s| format!("{s}s"))
                .unwrap_or_else(|| "-".into()),
            h.messages_per_minute
        );
    }
    for h in &rows {
        if let Some(why) = &h.drop_folder_refused {
            println!("{}: {why}", h.source);
        }
        for q in &h.quarantined {
            say!("quarantined {}/{}: {}", h.source, q.file, q.reason);
        }
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Record times as this moment (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    now: Option<String>,
}

/// One inbox scan: claim and import every ready file, then exit.
pub fn scan(ctx: &mut Ctx, args: &ScanArgs) -> Result<u8> {
    let clock = FixedClock(parse_now(args.now.as_deref())?);
    let clock: &dyn Clock = if args.now.is_some() { &clock } else { &CLOCK };
    let config = ctx.config.clone();
    let report = jobs::run_recorded("inbox_scan", &config, clock, || {
        let r = inbox::scan_once(&config, &mut ctx.store, clock)?;
        let summary = r.summary();
        Ok((r, summary))
    })?;
    if ctx.json {
        print_json(&report);
    } else {
        for f in &report.files {
            say!(
                "{:<20} {:<12} {} ({} accepted, {} rejected){}",
                f.source,
                f.outcome,
                f.name,
                f.accepted,
                f.rejected,
                f.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            );
        }
        for e in &report.errors {
            say!("error: {e}");
        }
        say!("{}", report.summary());
    }
    Ok(u8::from(report.had_problems()))
}

/// `restore-drill`: the weekly restore drill, now, recorded as the scheduled one is; exits 3
/// when the restored copy fails a check.
pub fn restore_drill(ctx: &mut Ctx) -> Result<u8> {
    let config = ctx.config.clone();
    let mut report = None;
    let run = jobs::run_recorded("restore_drill", &config, &CLOCK, || {
        let r = jobs::drill::restore_drill(&config, &CLOCK)?;
        let (ok, summary) = (r.ok, r.summary());
        report = Some(r);
        match ok {
            true => Ok(((), summary)),
            false => Err(Error::Invalid(summary)),
        }
    });
    let Some(report) = report else {
        return run.map(|()| 0);
    };
    if ctx.json {
        print_json(&report);
    } else {
        say!("{}", report.summary());
        if let Some(dir) = &report.kept {
            say!("the restored copy is kept in {}", dir.display());
        }
    }
    Ok(if report.ok {
        0
    } else {
        super::replication::FAILED
    })
}

pub fn backup(ctx: &mut Ctx) -> Result<u8> {
    let config = ctx.config.clone();
    let report = jobs::run_recorded("backup", &config, &CLOCK, || {
        let r = backup::backup(&config, &ctx.store, &CLOCK)?;
        let m = backup::summary(&r);
        Ok((r, m))
    })?;
    if ctx.json {
        print_json(&report);
    } else {
        say!(
            "backed up to {} ({} bytes{}), integrity_check ok",
            report.path.display(),
            report.bytes,
            if report.encrypted {
                ", encrypted to [backup] recipient"
            } else {
                ""
            }
        );
        if let Some(copy) = &report.copied_to {
            say!("copied to {}", copy.display());
        }
        for p in &report.removed {
            say!("removed old backup {}", p.display());
        }
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore, e.g. DATA_DIR/backups/sharedcare-20250301T023000Z.db (or
    /// .db.age, encrypted); its audit file is found beside it.
    pub file: PathBuf,
    /// The age identity file that decrypts an encrypted backup (the private half of
    /// [backup] recipient).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

/// Restores with no connection of our own open on the database.
pub fn restore(config: &crate::config::Config, json: bool, args: &RestoreArgs) -> Result<u8> {
    let report = backup::restore(
        config,
        &args.file,
        args.identity.as_deref(),
        &crate::audit::Actor::operator(),
        &CLOCK,
    )?;
    if json {
        print_json(&report);
    } else {
        say!(
            "restored {} (schema version {})",
            report.restored_from.display(),
            report.schema_version
        );
        if let Some(p) = &report.previous {
            say!("the previous database is kept as {}", p.display());
        }
    }
    Ok(0)
}
