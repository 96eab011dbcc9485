//! Bringing the kept facts up to date: what the condition set makes of each entry it names,
//! read only for the entries added or changed since the last run. The first run, and the
//! first after the condition set changes, reads every entry.
//!
//! Exactly once, whatever stops a run: the facts of one run are written in batches, each its
//! own transaction, and how far they go is recorded last; a run that stops part way leaves the
//! old mark, so the next reads the same entries again and replaces what was written.

use super::conditions::{ConditionSet, EntryFacts};
use super::weeks::date_of;
use super::Read;
use crate::error::{Error, Result};
use crate::store::population_facts::{EntryRow, FactRow, ScanState};
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Facts written per transaction: small enough that a waiting writer (a sign-in, an import)
/// is let in between batches well within its wait.
const BATCH: usize = 20_000;

/// What one update read and kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Update {
    /// Whether every entry was read (first run, or the condition set changed).
    pub full: bool,
    pub entries_read: usize,
    pub changed_read: usize,
    pub facts_written: usize,
}

/// Fingerprint of the condition set: facts read with another set are read again.
pub fn fingerprint(set: &ConditionSet) -> String {
    let digest = Sha256::digest(format!("facts v1 {set:?}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What the set makes of one entry: `None` when it names no condition and no opt-out.
pub fn fact_of(set: &ConditionSet, e: &EntryRow) -> Result<Option<FactRow>> {
    let body = serde_json::from_str::<serde_json::Value>(&e.body).map_err(|_| {
        Error::Invalid(format!(
            "a stored {} entry's body is not JSON; run `sharedcare check` on the database",
            e.category
        ))
    })?;
    let facts = EntryFacts {
        category: &e.category,
        code: e.code.as_deref(),
        title: &e.title,
        body: &body,
    };
    let fact = |opted_out, conditions: String, start_on, end_on| FactRow {
        entry_id: e.id,
        source_person_id: e.source_person_id,
        opted_out,
        conditions,
        start_on,
        end_on,
    };
    if set.opted_out(&facts) {
        return Ok(Some(fact(true, String::new(), None, None)));
    }
    let Some(start) = date_of(e.start.as_deref()).or_else(|| date_of(e.recorded.as_deref())) else {
        return Ok(None);
    };
    let keys: Vec<&str> = set
        .conditions
        .iter()
        .filter(|c| c.matches(&facts))
        .map(|c| c.key.as_str())
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let end = date_of(e.end.as_deref()).map(|d| d.to_string());
    Ok(Some(fact(
        false,
        keys.join(" "),
        Some(start.to_string()),
        end,
    )))
}

/// Reads the entries added or changed since the last run and keeps what the set makes of them.
pub fn update(store: &mut Store, set: &ConditionSet, threads: usize, read: Read) -> Result<Update> {
    let rules = fingerprint(set);
    // Read before the entries: a change after this is found again by the next run.
    let history_to = store.entry_history_last_id()?;
    let (first, last) = store.entry_id_range()?.unwrap_or((1, 0));
    let kept = match read {
        Read::Changed => store.population_scan()?.filter(|s| s.rules == rules),
        Read::Every => None,
    };
    let full = kept.is_none();
    let (from, changed) = match &kept {
        Some(s) => (
            s.entries_to + 1,
            store.entries_changed(s.history_to, history_to, s.entries_to)?,
        ),
        None => {
            let tx = store.begin()?;
            tx.forget_population_facts()?;
            tx.commit()?;
            (first, Vec::new())
        }
    };
    let categories = set.categories();
    let (changed_read, mut facts) = evaluate(set, &|each| {
        store.population_entries_by_id(&categories, &changed, each)
    })?;
    let (entries_read, new) = match from <= last {
        true => scan_range(store, set, &categories, from..=last, threads)?,
        false => (0, Vec::new()),
    };
    facts.extend(new);
    write(store, from, &changed, &facts)?;
    let tx = store.begin()?;
    tx.set_population_scan(&ScanState {
        rules,
        entries_to: last.max(kept.map_or(0, |s| s.entries_to)),
        history_to,
    })?;
    tx.commit()?;
    Ok(Update {
        full,
        entries_read,
        changed_read,
        facts_written: facts.len(),
    })
}

/// Entries one scan hands over.
type Scan<'a> = dyn Fn(&mut dyn FnMut(EntryRow)) -> Result<()> + 'a;

/// What the set makes of every entry `scan` hands over: how many were read, and the facts.
fn evaluate(set: &ConditionSet, scan: &Scan) -> Result<(usize, Vec<FactRow>)> {
    let (mut read, mut facts, mut failed) = (0, Vec::new(), None);
    scan(&mut |e| {
        read += 1;
        match fact_of(set, &e) {
            Ok(Some(f)) => facts.push(f),
            Ok(None) => {}
            Err(err) => {
                failed.get_or_insert(err);
            }
        }
    })?;
    match failed {
        Some(err) => Err(err),
        None => Ok((read, facts)),
    }
}

/// Writes the facts of the changed entries and of the entries from `from` on, in batches,
/// letting waiting writers in between.
fn write(store: &mut Store, from: i64, changed: &[i64], facts: &[FactRow]) -> Result<()> {
    let tx = store.begin()?;
    tx.forget_population_facts_from(from)?;
    tx.replace_population_facts(changed, &[])?;
    tx.commit()?;
    for batch in facts.chunks(BATCH) {
        crate::store::yield_to_waiting_writers(Duration::from_millis(50));
        let tx = store.begin()?;
        tx.replace_population_facts(&[], batch)?;
        tx.commit()?;
    }
    Ok(())
}

/// What the set makes of the entries of `ids`, split into id ranges read side by side on
/// read-only connections of their own (the store's own connection reads the first); each
/// thread decodes and evaluates its own rows, which is most of the work.
fn scan_range(
    store: &Store,
    set: &ConditionSet,
    categories: &[String],
    ids: std::ops::RangeInclusive<i64>,
    threads: usize,
) -> Result<(usize, Vec<FactRow>)> {
    let (first, last) = (*ids.start(), *ids.end());
    let mut helpers = Vec::new();
    for _ in 1..threads {
        match store.scan_connection()? {
            Some(conn) => helpers.push(conn),
            None => break,
        }
    }
    let parts = helpers.len() as i64 + 1;
    let step = (last - first) / parts + 1;
    let range = |k: i64| {
        let from = first + k * step;
        from..=(from + step - 1).min(last)
    };
    let (mine, theirs) = std::thread::scope(|s| {
        let handles: Vec<_> = helpers
            .into_iter()
            .zip(1..)
            .map(|(conn, k)| {
                s.spawn(move || {
                    evaluate(set, &|each| {
                        conn.population_entries(categories, range(k), each)
                    })
                })
            })
            .collect();
        let mine = evaluate(set, &|each| {
            store.population_entries(categories, range(0), each)
        });
        let theirs: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Invalid("an entry scan panicked".into())))
            })
            .collect();
        (mine, theirs)
    });
    let (mut read, mut facts) = mine?;
    for part in theirs {
        let (n, found) = part?;
        read += n;
        facts.extend(found);
    }
    Ok((read, facts))
}
