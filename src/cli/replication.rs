//! `sharedcare replication …`: Litestream's configuration for this data directory, a standby
//! brought up from the replica, and the restore drill (see `replication`).

use super::text::say;
use super::{print_json, CLOCK};
use crate::config::Config;
use crate::error::Result;
use crate::replication::{self, RestoreReport};
use clap::Subcommand;
use std::path::Path;

/// Exit code of a restore or drill whose copy failed its checks.
pub const FAILED: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum ReplicationCommand {
    /// Print a Litestream configuration replicating this data directory's databases to
    /// `[replication] replica`.
    Config,
    /// Bring this data directory up from the replica (a standby taking over): each database
    /// restored by Litestream, checked, put in place and its audit chain verified. Needs the
    /// primary's audit.key here first; the server must be stopped.
    Restore,
    /// Restore the replica into a scratch directory and check it (integrity, audit chain,
    /// counts against the live database); exits 3 when a check fails.
    Drill,
}

pub fn run(data_dir: &Path, json: bool, command: &ReplicationCommand) -> Result<u8> {
    let config = Config::load(data_dir)?;
    match command {
        ReplicationCommand::Config => {
            print!("{}", replication::litestream_config(&config)?);
            Ok(0)
        }
        ReplicationCommand::Restore => {
            crate::data_dir::open(&config, false)?;
            let report = replication::restore(&config, &CLOCK)?;
            if json {
                print_json(&report);
            } else {
                say!("restored {} from {}", data_dir.display(), report.replica);
                say_checks(&report);
            }
            Ok(if passed(&report) { 0 } else { FAILED })
        }
        ReplicationCommand::Drill => {
            crate::data_dir::open(&config, false)?;
            let drill = replication::drill(&config, &CLOCK)?;
            if json {
                print_json(&drill);
            } else {
                say!("restore drill from {}", drill.restored.replica);
                say_checks(&drill.restored);
                let l = &drill.live;
                say!(
                    "live now: {} persons, {} entries (the replica may be seconds behind)",
                    l.persons,
                    l.entries
                );
                match &drill.kept {
                    None => say!("drill passed; the scratch copy is removed"),
                    Some(dir) => say!("drill FAILED; the copy is kept in {}", dir.display()),
                }
            }
            Ok(if drill.ok { 0 } else { FAILED })
        }
    }
}

fn passed(r: &RestoreReport) -> bool {
    r.integrity == "ok" && r.audit_ok
}

fn say_checks(r: &RestoreReport) {
    say!("integrity check: {}", r.integrity);
    say!("{}", r.audit);
    say!(
        "counts: {} persons, {} entries, {} files, {} in the review queue",
        r.counts.persons,
        r.counts.entries,
        r.counts.files_by_state.values().sum::<i64>(),
        r.counts.review_queue
    );
}
