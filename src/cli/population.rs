//! `sharedcare population …`: the population dashboard's figures from the operator's side.

use super::text::say;
use super::{print_json, Ctx, CLOCK};
use crate::error::Result;
use crate::population::{self, ConditionSet};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PopulationCommand {
    /// Recompute every figure now (as the `population` job does) and say what was written.
    Refresh {
        /// Read every entry again, not only those added or changed since the last run.
        #[arg(long)]
        full: bool,
    },
    /// List the condition set in force: each condition's key and name.
    Conditions,
}

pub fn run(ctx: &mut Ctx, command: PopulationCommand) -> Result<u8> {
    match command {
        PopulationCommand::Refresh { full } => {
            let report = crate::jobs::run_recorded("population", &ctx.config, &CLOCK, || {
                let read = match full {
                    true => population::Read::Every,
                    false => population::Read::Changed,
                };
                let r = population::refresh(&ctx.config, &mut ctx.store, &CLOCK, read)?;
                let summary = r.summary();
                Ok((r, summary))
            })?;
            if ctx.json {
                print_json(&report);
            } else {
                say!("{}", report.summary());
            }
        }
        PopulationCommand::Conditions => {
            let set = ConditionSet::load(ctx.config.population.conditions.as_deref())?;
            for c in &set.conditions {
                if ctx.json {
                    print_json(&serde_json::json!({"key": c.key, "name": c.name}));
                } else {
                    say!("{}\t{}", c.key, c.name);
                }
            }
        }
    }
    Ok(0)
}
