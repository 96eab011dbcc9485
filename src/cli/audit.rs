//! `sharedcare audit …`: the audit trail from the operator's side.
//!
//! `verify` walks the whole chain (as the nightly `audit_verify` job does) and exits 3 when it
//! is broken, naming the first bad seq. `reanchor` accepts the log as it now ends, after a
//! truncation has been looked into: until then no audit event can be written, so no patient
//! data is shown. A server that was running keeps the later head it committed itself (a
//! replayed old head file must not talk it out of that) until it is restarted.

use super::{print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::Result;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Exit code of a broken chain.
pub const BROKEN: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every event's HMAC chain link and that the log reaches the recorded head; exits 3
    /// and names the first bad seq when it does not.
    Verify,
    /// Accept the log as it now ends and move the head there (recorded as an audit event).
    Reanchor {
        /// Why: what was found and decided; kept in the audit trail.
        #[arg(long)]
        reason: String,
    },
}

pub fn run(ctx: &mut Ctx, command: AuditCommand) -> Result<u8> {
    match command {
        AuditCommand::Verify => verify(ctx),
        AuditCommand::Reanchor { reason } => {
            let seq = crate::audit::reanchor(
                &mut ctx.store,
                &crate::audit::Actor::operator(),
                crate::audit::Action::AuditReanchor,
                Some(&reason),
                "the operator accepted the log as it ends",
                &CLOCK.now_text(),
            )?;
            if ctx.json {
                print_json(&serde_json::json!({ "reanchored_at": seq }));
            } else {
                println!("audit head moved to seq {seq}");
                // A running server remembers the head it committed and keeps refusing.
                println!("restart a running server so that it takes up the new head");
            }
            Ok(0)
        }
    }
}

fn verify(ctx: &mut Ctx) -> Result<u8> {
    let (count, _) = ctx.store.audit_extent()?;
    let bar = progress_bar(count);
    let report = crate::audit::verify(&ctx.store, &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    if ctx.json {
        print_json(&report);
    } else {
        println!("{}", report.summary());
    }
    Ok(if report.broken.is_some() { BROKEN } else { 0 })
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "verifying [{bar:40}] {pos}/{len} events, {per_sec}, eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
