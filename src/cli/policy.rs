//! `sharedcare policy show|check`: the access policy in force.

use super::text::say;
use super::{print_json, Ctx};
use crate::access::{Activity, Policy};
use crate::error::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Each role with its activities and data categories (the shipped policy or the file named
    /// by `[access] policy`).
    Show {
        /// Print the shipped policy file itself, to copy and edit.
        #[arg(long)]
        shipped: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: PolicyCommand) -> Result<u8> {
    let PolicyCommand::Show { shipped } = cmd;
    if shipped {
        print!("{}", super::text::inert(Policy::shipped_text()));
        return Ok(0);
    }
    let policy = Policy::load(ctx.config.access.policy.as_deref())?;
    if ctx.json {
        print_json(&policy.roles().collect::<Vec<_>>());
        return Ok(0);
    }
    for role in policy.roles() {
        let activities: Vec<&str> = Activity::ALL
            .into_iter()
            .filter(|a| role.may(*a))
            .map(Activity::as_str)
            .collect();
        let categories: Vec<&str> = role.categories.iter().map(|c| c.as_str()).collect();
        say!("{} ({})", role.name, role.label);
        say!(
            "  may:  {}",
            if activities.is_empty() {
                "nothing".into()
            } else {
                activities.join(", ")
            }
        );
        say!(
            "  sees: {}",
            if categories.is_empty() {
                "no patient data".into()
            } else {
                categories.join(", ")
            }
        );
    }
    Ok(0)
}
