//! `sharedcare review list|link|reject` and `sharedcare unmerge`.

use super::text::say;
use super::{as_operator, print_json, Ctx, CLOCK};
use crate::audit::Action;
use crate::clock::Clock;
use crate::error::Result;
use crate::import::links;
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

pub fn run(ctx: &mut Ctx, cmd: ReviewCommand) -> Result<u8> {
    let now = CLOCK.now_text();
    match cmd {
        ReviewCommand::List => {
            let rows = ctx.store.reviews("open")?;
            // Each row shows a record and its candidate person: both are on record as listed
            // (`cli-list`, as `person find` is), before anything is printed.
            let shown: Vec<i64> = rows
                .iter()
                .flat_map(|r| std::iter::once(r.candidate_person_id).chain(r.current_person_id))
                .collect();
            super::audit_shown(
                ctx,
                Action::CliList,
                &shown,
                &format!("review list: {} open", rows.len()),
            )?;
            if ctx.json {
                print_json(&rows);
            } else if rows.is_empty() {
                say!("no possible matches waiting");
            } else {
                for r in rows {
                    say!(
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
            let precedence = ctx.config.matching.precedence.clone();
            let linked = as_operator(ctx, |store, by| {
                links::link(store, &precedence, review, by, note.as_deref(), &now)
            })?;
            say!("review {review}: linked to person {}", linked.person_id);
            Ok(0)
        }
        ReviewCommand::Reject { review, note } => {
            as_operator(ctx, |store, by| {
                links::reject(store, review, by, note.as_deref(), &now)
            })?;
            say!("review {review}: not the same person; this pair will not be proposed again");
            Ok(0)
        }
    }
}

pub fn unmerge(ctx: &mut Ctx, person: i64) -> Result<u8> {
    let precedence = ctx.config.matching.precedence.clone();
    let now = CLOCK.now_text();
    let moves = as_operator(ctx, |store, by| {
        links::unmerge(store, &precedence, person, by, &now)
    })?;
    if ctx.json {
        print_json(&moves);
    } else {
        for m in &moves {
            say!(
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
