//! One unit into the store: who it is about (creating or matching the person), what it says
//! about them, and any merge it asks for. Runs inside the batch's transaction.

use super::summary::FileSummary;
use crate::config::Config;
use crate::error::Result;
use crate::ingest::Extract;
use crate::matching::{self, BlockingKeys, Outcome};
use crate::model::{Category, Demographics, ReportedNhsNumber, SourceKind};
use crate::notify::evaluate as notify;
use crate::store::{
    DemographicsWrite, EntryOrigin, EntryWrite, SerialisedEntry, SourceRow, Subject, Tx,
};

pub(super) fn apply(
    tx: &Tx<'_>,
    config: &Config,
    source: &SourceRow,
    file_id: i64,
    extract: &Extract,
    now: &str,
    summary: &mut FileSummary,
) -> Result<()> {
    let (entries, keys) = super::ahead::made_ahead(extract, !tx.search_index_deferred());
    apply_prepared(
        tx,
        config,
        source,
        file_id,
        extract,
        &entries,
        keys.as_ref(),
        now,
        summary,
    )
}

/// [`apply`], with the unit's entries serialised and its match keys made ahead (`entries`:
/// one for each of the extract's entries; `keys`: those of its demographics).
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_prepared(
    tx: &Tx<'_>,
    config: &Config,
    source: &SourceRow,
    file_id: i64,
    extract: &Extract,
    entries: &[SerialisedEntry],
    keys: Option<&BlockingKeys>,
    now: &str,
    summary: &mut FileSummary,
) -> Result<()> {
    let precedence = &config.matching.precedence;
    let as_of = extract.event_time.as_deref();
    let subject = tx.ensure_subject(source.id, &extract.subject, now)?;
    let demographics = extract
        .demographics
        .clone()
        .or_else(|| implied_by_subject(&extract.subject, &subject));
    let rules = &config.notifications.loaded;
    let by = notify::StoredBy {
        source,
        source_person_id: subject.source_person_id,
        now,
    };
    if let Some(d) = &demographics {
        let written = tx.write_demographics(subject.source_person_id, d, as_of, file_id, now)?;
        match (written, subject.person_id) {
            (DemographicsWrite::ArrivedLate, _) => summary.demographics_arrived_late += 1,
            (DemographicsWrite::Unchanged, Some(_)) => {}
            (_, None) => {
                // The keys made ahead are those of the unit's own demographics; implied ones
                // (an NHS number alone) have none worth making ahead.
                let keys = match (keys, &extract.demographics) {
                    (Some(keys), Some(_)) => keys.clone(),
                    _ => matching::blocking_keys(d),
                };
                link_new(
                    tx,
                    precedence,
                    subject.source_person_id,
                    d,
                    &keys,
                    now,
                    summary,
                )?
            }
            (_, Some(person)) => tx.refresh_person(person, precedence)?,
        }
        if !matches!(
            written,
            DemographicsWrite::ArrivedLate | DemographicsWrite::Unchanged
        ) {
            notify::death_stored(tx, rules, &by, d)?;
        }
    }
    if let Some(retired_local) = &extract.merge_from {
        merge(
            tx,
            config,
            source,
            file_id,
            &extract.subject,
            retired_local,
            now,
            summary,
        )?;
    }
    let origin = EntryOrigin {
        source_id: source.id,
        source_person_id: subject.source_person_id,
        as_of,
        file_id,
        message_ref: extract.message_ref.as_deref(),
        received_at: now,
        fill_missing: source.format == crate::model::Format::Hl7v2,
    };
    for (at, draft) in extract.entries.iter().enumerate() {
        let written = match entries.get(at) {
            Some(serialised) => tx.write_serialised_entry(draft, serialised, &origin)?,
            None => tx.write_entry(draft, &origin)?,
        };
        notify::entry_stored(tx, rules, &by, draft, written)?;
        count(summary, draft.category, written);
    }
    if let Some(event) = &extract.location_event {
        if let Some(written) = super::location::apply(tx, &origin, event)? {
            count(summary, Category::Location, written);
        }
    }
    Ok(())
}

fn count(summary: &mut FileSummary, category: Category, written: EntryWrite) {
    let counts = summary.entries.entry(category).or_default();
    match written {
        EntryWrite::Inserted => counts.inserted += 1,
        EntryWrite::Updated => counts.updated += 1,
        EntryWrite::Unchanged => counts.unchanged += 1,
        EntryWrite::ArrivedLate => counts.arrived_late += 1,
    }
}

/// A subject known only by NHS number (a FHIR reference by identifier, a CSV row without a
/// local id) still says who the person is, when the store knows nothing more about them.
fn implied_by_subject(local_id: &str, subject: &Subject) -> Option<Demographics> {
    if subject.has_demographics {
        return None;
    }
    let digits = local_id.strip_prefix("NHS:")?;
    Some(Demographics {
        nhs_number: Some(ReportedNhsNumber::classify(digits, None)),
        ..Default::default()
    })
}

/// Finds or creates the person for a source person seen with demographics for the first time.
fn link_new(
    tx: &Tx<'_>,
    precedence: &[SourceKind],
    source_person_id: i64,
    d: &Demographics,
    keys: &BlockingKeys,
    now: &str,
    summary: &mut FileSummary,
) -> Result<()> {
    let verified_nhs = d.nhs_number.as_ref().and_then(ReportedNhsNumber::trusted);
    if let Some(nhs) = verified_nhs {
        if let Some(person) = tx.person_by_verified_nhs(nhs, source_person_id)? {
            tx.link_source_person(
                source_person_id,
                person,
                "exact",
                None,
                Some("NHS number verified and equal"),
            )?;
            summary.persons_matched += 1;
            return tx.refresh_person(person, precedence);
        }
    }
    let candidates = tx.match_candidates(keys, verified_nhs)?;
    let decision = matching::decide(d, &candidates);
    let explanation = decision.best.as_ref().map(|(_, s)| s.explain());
    let score = decision.best.as_ref().map(|(_, s)| s.total);
    let person = match decision.outcome {
        Outcome::Exact(person) => {
            tx.link_source_person(
                source_person_id,
                person,
                "exact",
                score,
                explanation.as_deref(),
            )?;
            summary.persons_matched += 1;
            person
        }
        Outcome::Probable(person) => {
            tx.link_source_person(
                source_person_id,
                person,
                "probable",
                score,
                explanation.as_deref(),
            )?;
            summary.persons_probable += 1;
            person
        }
        Outcome::Possible | Outcome::None => {
            let person = tx.create_person(now)?;
            tx.link_source_person(
                source_person_id,
                person,
                "new",
                score,
                explanation.as_deref(),
            )?;
            summary.persons_created += 1;
            for (candidate, score) in &decision.possibles {
                tx.add_review(
                    source_person_id,
                    *candidate,
                    score.total,
                    &score.explain(),
                    now,
                )?;
                summary.possible_matches_queued += 1;
            }
            person
        }
    };
    tx.refresh_person(person, precedence)
}

/// HL7 A34/A40: the source says two of its local ids are one person.
#[allow(clippy::too_many_arguments)]
fn merge(
    tx: &Tx<'_>,
    config: &Config,
    source: &SourceRow,
    file_id: i64,
    surviving_local: &str,
    retired_local: &str,
    now: &str,
    summary: &mut FileSummary,
) -> Result<()> {
    let Some(surviving) = tx
        .subject(source.id, surviving_local)?
        .and_then(|s| s.person_id)
    else {
        return Ok(());
    };
    let Some(retired) = tx
        .subject(source.id, retired_local)?
        .and_then(|s| s.person_id)
    else {
        return Ok(());
    };
    let detail = format!(
        "{} merged local id {retired_local} into {surviving_local}",
        source.code
    );
    let moves = tx.merge_persons(surviving, retired, "merge", Some(file_id), &detail, now)?;
    if !moves.is_empty() {
        summary.merges += 1;
        tx.refresh_person(surviving, &config.matching.precedence)?;
        tx.refresh_person(retired, &config.matching.precedence)?;
    }
    Ok(())
}
