//! `sharedcare review list|link|reject` and `sharedcare unmerge`.

use super::{operator, print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::Result;
use crate::import::links::{self, Decider};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Possible matches waiting for a decision, best score first.
    List,
    /// "Same person": link the record to the candidate.
    Link {
        review: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// "Not the same person": never proposed again.
    Reject {
        review: i64,
        #[arg(long)]
        note: Option<String>,
    },
}

fn decider(name: &str) -> Decider<'_> {
    Decider {
        name,
        ..Default::default()
    }
}

pub fn run(ctx: &mut Ctx, cmd: ReviewCommand) -> Result<u8> {
    let now = CLOCK.now_text();
    match cmd {
        ReviewCommand::List => {
            let rows = ctx.store.reviews("open")?;
            if ctx.json {
                print_json(&rows);
            } else if rows.is_empty() {
                println!("no possible matches waiting");
            } else {
                for r in rows {
                    println!(
                        "review {}: {} record {} (now person {}) may be person {} — score {:.1}\n{}\n",
                        r.id,
                        r.source_code,
                        r.local_id,
                        r.current_person_id.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                        r.candidate_person_id,
                        r.score,
                        indent(&r.explanation)
                    );
                }
            }
            Ok(0)
        }
        ReviewCommand::Link { review, note } => {
            let name = operator();
            let linked = links::link(
                &mut ctx.store,
                &ctx.config.matching.precedence,
                review,
                &decider(&name),
                note.as_deref(),
                &now,
            )?;
            println!("review {review}: linked to person {}", linked.person_id);
            Ok(0)
        }
        ReviewCommand::Reject { review, note } => {
            let name = operator();
            links::reject(
                &mut ctx.store,
                review,
                &decider(&name),
                note.as_deref(),
                &now,
            )?;
            println!("review {review}: not the same person; this pair will not be proposed again");
            Ok(0)
        }
    }
}

pub fn unmerge(ctx: &mut Ctx, person: i64) -> Result<u8> {
    let name = operator();
    let moves = links::unmerge(
        &mut ctx.store,
        &ctx.config.matching.precedence,
        person,
        &decider(&name),
        &CLOCK.now_text(),
    )?;
    if ctx.json {
        print_json(&moves);
    } else {
        for m in &moves {
            println!(
                "source record {} moved back from person {} to person {}",
                m.source_person_id,
                m.from_person_id.unwrap_or_default(),
                m.to_person_id
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "none".into())
            );
        }
    }
    Ok(0)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
