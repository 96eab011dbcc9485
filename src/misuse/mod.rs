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

/// The longest the watch evaluates before it records what it found: the rules read the trail
/// outside any write transaction, so this bounds only how much one stop would evaluate again.
const EVALUATE_AT_MOST: std::time::Duration = std::time::Duration::from_millis(500);

/// An event whose evaluation alone takes this long is logged (the look-backs of the rules
/// read the trail, which at a region's size is millions of events).
const SLOW_EVENT: std::time::Duration = std::time::Duration::from_secs(1);

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
    watch_yielding(store, rules, now, &|evaluating| {
        evaluating >= EVALUATE_AT_MOST
    })
}

/// As [`watch`]. The events are evaluated holding no lock; then, in one short write
/// transaction, the alerts are raised and the place recorded together, so each event is
/// evaluated once. After each event, `record_now(time spent evaluating)` says whether to stop
/// there and record. Evaluating inside the write transaction held the write lock for 6–16 s
/// while one event's look-backs read the trail of a busy region, and every other writer gave
/// up after its 10 s wait.
fn watch_yielding(
    store: &mut Store,
    rules: &Rules,
    now: DateTime<Utc>,
    record_now: &dyn Fn(std::time::Duration) -> bool,
) -> Result<Report> {
    let now = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut report = Report::default();
    let mut memory = Memory::default();
    loop {
        let from = store.misuse_cursor()?;
        let events = store.trail().events_after(from, BATCH)?;
        if events.is_empty() {
            break;
        }
        let started = std::time::Instant::now();
        let mut findings = Vec::new();
        let mut done = 0;
        let mut evaluator = Evaluator::new(rules, store.trail(), &mut memory);
        for event in &events {
            let evaluating = std::time::Instant::now();
            findings.extend(evaluator.event(event)?);
            if evaluating.elapsed() >= SLOW_EVENT {
                log::warn!(
                    "the misuse watch took {:.1} s over audit event {} ({})",
                    evaluating.elapsed().as_secs_f64(),
                    event.seq,
                    event.action
                );
            }
            done += 1;
            if done < events.len() && record_now(started.elapsed()) {
                break;
            }
        }
        let tx = store.begin()?;
        if tx.misuse_cursor()? != from {
            // Another watch (`sharedcare misuse check` beside the server) recorded these
            // events meanwhile: what this one found is theirs already.
            break;
        }
        record(&tx, &findings, &now, &mut report)?;
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

/// Raises an alert for each finding, or adds it as evidence to the alert already standing.
fn record(
    tx: &crate::store::Tx<'_>,
    findings: &[evaluate::Finding],
    now: &str,
    report: &mut Report,
) -> Result<()> {
    let actor = Actor::system("misuse_watch");
    for f in findings {
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
        let (id, reference) = tx.raise_misuse_alert(&alert, now)?;
        tx.add_misuse_evidence(id, &f.evidence)?;
        let detail = format!("{reference} {}", f.rule);
        tx.audit(
            &AuditEvent {
                person_id: f.person_id,
                detail: Some(&detail),
                ..actor.event(Action::MisuseAlertRaise)
            },
            now,
        )?;
        report.raised.push(reference);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
