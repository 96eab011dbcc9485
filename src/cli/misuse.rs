//! `sharedcare misuse …`: the misuse watch from the operator's side — run it now, print the
//! rules in force, say who a staff user is, flag a VIP or member of staff.

use super::text::say;
use super::{print_json, Ctx, CLOCK};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::misuse::{self, identity, Rules};
use crate::model::nhs_number;
use clap::{Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WatchKind {
    Vip,
    Staff,
}

#[derive(Debug, Subcommand)]
pub enum MisuseCommand {
    /// Evaluate the audit events not yet looked at against the rules now (as the
    /// `misuse_watch` job does) and print what was raised.
    Check,
    /// Print the rules in force: the shipped ones with the site's file laid over them.
    Rules,
    /// Say who a staff user is, for the own-record and same-household rules (no field given:
    /// clear it).
    LinkUser {
        /// The user's name.
        name: String,
        /// The user's own NHS number: their record is the person with this number.
        #[arg(long)]
        nhs_number: Option<String>,
        /// The user's family name (default: their own record's).
        #[arg(long)]
        family_name: Option<String>,
        /// The postcode of the user's home (default: their own record's).
        #[arg(long)]
        postcode: Option<String>,
    },
    /// Flag a person (id or NHS number) as a VIP or a member of staff: every view by anyone
    /// else raises an alert.
    Flag {
        person: String,
        #[arg(long, value_enum)]
        kind: WatchKind,
    },
    /// Remove a person's VIP or staff flag.
    Unflag { person: String },
}

pub fn run(ctx: &mut Ctx, command: MisuseCommand) -> Result<u8> {
    match command {
        MisuseCommand::Check => {
            let rules = Rules::load(ctx.config.access.misuse_rules.as_deref())?;
            let report = crate::jobs::run_recorded("misuse_watch", &ctx.config, &CLOCK, || {
                let report = misuse::watch(&mut ctx.store, &rules, CLOCK.now())?;
                let summary = report.summary();
                Ok((report, summary))
            })?;
            if ctx.json {
                print_json(&serde_json::json!({
                    "events": report.events,
                    "raised": report.raised,
                    "joined": report.joined,
                }));
            } else {
                say!("{}", report.summary());
            }
        }
        MisuseCommand::Rules => {
            let rules = Rules::load(ctx.config.access.misuse_rules.as_deref())?;
            if ctx.json {
                print_json(&rules);
            } else {
                print!("{}", rules.to_text());
            }
        }
        MisuseCommand::LinkUser {
            name,
            nhs_number,
            family_name,
            postcode,
        } => {
            identity::link_user(
                &mut ctx.store,
                &Actor::operator(),
                &name,
                nhs_number.as_deref(),
                family_name.as_deref(),
                postcode.as_deref(),
                CLOCK.now(),
            )?;
            say!("who {name} is was recorded for the misuse rules");
        }
        MisuseCommand::Flag { person, kind } => {
            let kind = match kind {
                WatchKind::Vip => "vip",
                WatchKind::Staff => "staff",
            };
            let id = person_id(ctx, &person)?;
            let changed = identity::flag_person(
                &mut ctx.store,
                &Actor::operator(),
                id,
                Some(kind),
                CLOCK.now(),
            )?;
            say!(
                "person {id} {} {kind}",
                if changed {
                    "is now flagged"
                } else {
                    "was already flagged"
                }
            );
        }
        MisuseCommand::Unflag { person } => {
            let id = person_id(ctx, &person)?;
            let changed =
                identity::flag_person(&mut ctx.store, &Actor::operator(), id, None, CLOCK.now())?;
            say!(
                "person {id} {}",
                if changed {
                    "is no longer flagged"
                } else {
                    "was not flagged"
                }
            );
        }
    }
    Ok(0)
}

/// A person by id or by NHS number (one live person only).
fn person_id(ctx: &Ctx, typed: &str) -> Result<i64> {
    let digits = nhs_number::standardise(typed);
    if digits.len() == 10 {
        let hits = ctx.store.find_by_nhs_number(&digits)?;
        return match hits.as_slice() {
            [one] => Ok(one.id),
            [] => Err(Error::NotFound(format!("no one has NHS number {typed}"))),
            _ => Err(Error::Invalid(format!(
                "several people have NHS number {typed}: give a person id"
            ))),
        };
    }
    typed
        .trim()
        .parse()
        .map_err(|_| Error::Invalid("give a person id or a 10-digit NHS number".into()))
}
