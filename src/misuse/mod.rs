//! Watching for misuse: rules over the audit trail that raise privacy officer alerts.
//!
//! Every look at a person is already an audit event. The rules (`rules.toml`, shipped; a site
//! tunes or turns them off in its own file, see [`rules`]) read those events and raise an alert
//! of kind `misuse` in the privacy officer's queue, naming the rule that fired and keeping the
//! events behind it as evidence (`/privacy/alerts/<id>`):
//!
//! - `own-record`: a user opens their own record (the NHS number an administrator set as the
//!   user's, `sharedcare misuse link-user`);
//! - `same-household`: a user opens the record of someone with their family name and postcode;
//! - `watched-person`: anyone else opens the record of a person an administrator flagged as a
//!   VIP or a member of staff (`sharedcare misuse flag`);
//! - `many-records`: a user looks at many more people in an hour than their own baseline or
//!   their role's;
//! - `unusual-hours`: looks at records at night (hours configurable);
//! - `search-without-relationship`: a record opened under a claimed relationship (self-claim
//!   or broken glass) after the person was found by search rather than through a care event.
//!
//! When: a scheduled job (`[jobs] misuse_watch`, every minute by default; `sharedcare misuse
//! check` runs it now) reads the events after the last one it evaluated. Not the audit writer:
//! every page view waits on that writer's group commit, it holds the records database
//! read-only, and the rules read people, users and the trail's past — work that belongs off
//! the path of a page view. The cost is that an alert follows the event by up to a minute.
//!
//! Exactly once: the watch's place in the trail (`misuse_watch.last_seq`) advances in the same
//! transaction as the alerts it raised from the events before it, so each event is evaluated
//! once whatever stops the process; and each alert has a key (rule, user, and the person, hour
//! or night it is about), so a later event of the same key joins the standing alert's evidence
//! instead of raising another. The first run reads the trail from its beginning.

pub mod evaluate;
pub mod identity;
pub mod rules;

pub use rules::Rules;

use crate::audit::{Action, Actor};
use crate::error::Result;
use crate::store::{AuditEvent, NewMisuseAlert, Store};
use chrono::{DateTime, SecondsFormat, Utc};
use evaluate::{Evaluator, Memory};

/// Events read and evaluated per transaction.
const BATCH: usize = 2000;

/// How long the watch keeps the write lock once another connection of the process waits for
/// it (a sign-in, an import): it then commits at the event it has reached and lets them go
/// first, as the importer does. Behind by a day of events, a batch takes seconds, longer than
/// a page view may wait.
const HOLD_WHEN_WAITED_FOR: std::time::Duration = std::time::Duration::from_millis(2);

/// The longest the watch stands aside for waiting writers between its transactions.
const YIELD_LIMIT: std::time::Duration = std::time::Duration::from_millis(50);

/// What one run of the watch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub events: usize,
    /// References of the alerts raised, in order.
    pub raised: Vec<String>,
    /// Findings that joined an alert already standing.
    pub joined: usize,
    /// Transactions committed: more than one a batch when writers were let in part way.
    pub transactions: usize,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "{} audit events evaluated, {} misuse alerts raised{}",
            self.events,
            self.raised.len(),
            if self.raised.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.raised.join(", "))
            }
        )
    }
}

/// Evaluates every audit event after the watch's place, raising alerts, in batches.
pub fn watch(store: &mut Store, rules: &Rules, now: DateTime<Utc>) -> Result<Report> {
    watch_yielding(store, rules, now, &|held| {
        held >= HOLD_WHEN_WAITED_FOR && crate::store::writers_waiting()
    })
}

/// As [`watch`]; after each event, `let_in(time the write lock has been held)` says whether to
/// commit there (the place and the alerts so far together) and let other writers go first.
fn watch_yielding(
    store: &mut Store,
    rules: &Rules,
    now: DateTime<Utc>,
    let_in: &dyn Fn(std::time::Duration) -> bool,
) -> Result<Report> {
    let now = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let actor = Actor::system("misuse_watch");
    let mut report = Report::default();
    let mut memory = Memory::default();
    loop {
        let tx = store.begin()?;
        let held = std::time::Instant::now();
        let from = tx.misuse_cursor()?;
        let events = tx.trail().events_after(from, BATCH)?;
        if events.is_empty() {
            break;
        }
        let mut evaluator = Evaluator::new(rules, tx.trail(), &mut memory);
        let mut done = 0;
        for event in &events {
            for f in evaluator.event(event)? {
                if let Some(standing) = tx.misuse_alert_by_key(&f.key)? {
                    tx.add_misuse_evidence(standing, &f.evidence)?;
                    report.joined += 1;
                    continue;
                }
                let alert = NewMisuseAlert {
                    rule: f.rule,
                    dedup_key: &f.key,
                    user_id: f.user_id,
                    person_id: f.person_id,
                    detail: &f.detail,
                };
                let (id, reference) = tx.raise_misuse_alert(&alert, &now)?;
                tx.add_misuse_evidence(id, &f.evidence)?;
                let detail = format!("{reference} {}", f.rule);
                tx.audit(
                    &AuditEvent {
                        person_id: f.person_id,
                        detail: Some(&detail),
                        ..actor.event(Action::MisuseAlertRaise)
                    },
                    &now,
                )?;
                report.raised.push(reference);
            }
            done += 1;
            if done < events.len() && let_in(held.elapsed()) {
                break;
            }
        }
        tx.set_misuse_cursor(events[done - 1].seq)?;
        tx.commit()?;
        report.events += done;
        report.transactions += 1;
        if done < events.len() {
            crate::store::yield_to_waiting_writers(YIELD_LIMIT);
            continue;
        }
        if events.len() < BATCH {
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
