//! The work of an import that needs no database, done ahead of the writer: reading a file,
//! parsing and adapting its units, and for each unit its match keys and its entries' JSON,
//! stored bodies and search text. A command-line import runs it on a second thread that
//! hands the writer one batch of units at a time through a bounded channel, so the writer does
//! little but SQL while the next batch is prepared (a pipeline with one writer, not a pool).

use crate::ingest::{Extract, FileUnits, Unit};
use crate::matching::{self, BlockingKeys};
use crate::store::SerialisedEntry;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender};

/// Units per batch handed to the writer.
const CHUNK: usize = 256;

/// Batches prepared ahead of the writer: with [`CHUNK`], at most about a thousand units wait
/// in memory, whatever the file's size.
const CHUNKS_AHEAD: usize = 4;

/// One unit with everything the writer needs that does not depend on what is stored.
pub struct PreparedUnit {
    pub unit: Unit,
    /// One for each of the extract's entries, in order (empty for a reject).
    pub entries: Vec<SerialisedEntry>,
    /// The blocking keys of the demographics the unit states, for finding match candidates.
    pub keys: Option<BlockingKeys>,
}

impl PreparedUnit {
    /// `with_search_text`: whether the writer indexes entries as it stores them (not while a
    /// bulk load defers the full-text index).
    pub fn of(unit: Unit, with_search_text: bool) -> Self {
        let (entries, keys) = match &unit {
            Ok(extract) => made_ahead(extract, with_search_text),
            Err(_) => (Vec::new(), None),
        };
        Self {
            unit,
            entries,
            keys,
        }
    }
}

/// What [`PreparedUnit`] holds beside the unit: its entries serialised, its match keys.
pub(super) fn made_ahead(
    extract: &Extract,
    with_search_text: bool,
) -> (Vec<SerialisedEntry>, Option<BlockingKeys>) {
    let entries = extract
        .entries
        .iter()
        .map(|draft| SerialisedEntry::of(draft, with_search_text))
        .collect();
    let keys = extract.demographics.as_ref().map(matching::blocking_keys);
    (entries, keys)
}

/// A batch of prepared units; the last of a file also carries what the file skipped.
pub struct Chunk {
    units: Vec<PreparedUnit>,
    end: Option<BTreeMap<String, usize>>,
}

/// A file's units as the writer takes them: prepared here as it goes, or received from the
/// thread preparing them.
pub enum Units<'a> {
    Here {
        units: FileUnits<'a>,
        with_search_text: bool,
    },
    Ahead {
        slots: usize,
        chunks: Receiver<Chunk>,
        current: std::vec::IntoIter<PreparedUnit>,
        skipped: Option<BTreeMap<String, usize>>,
    },
}

/// The preparing thread stopped before a file's end: its units so far must not be taken for
/// the whole file.
#[derive(Debug)]
pub struct ReaderStopped;

impl Units<'_> {
    /// Receives a file's units from the thread that prepares them with [`send`].
    pub fn ahead(slots: usize, chunks: Receiver<Chunk>) -> Self {
        Units::Ahead {
            slots,
            chunks,
            current: Vec::new().into_iter(),
            skipped: None,
        }
    }

    /// An upper bound on the units, for a progress bar.
    pub fn slots(&self) -> usize {
        match self {
            Units::Here { units, .. } => units.slots(),
            Units::Ahead { slots, .. } => *slots,
        }
    }

    /// The next unit, or `None` at the end of the file.
    pub fn next_unit(&mut self) -> Result<Option<PreparedUnit>, ReaderStopped> {
        match self {
            Units::Here {
                units,
                with_search_text,
            } => Ok(units
                .next_unit()
                .map(|unit| PreparedUnit::of(unit, *with_search_text))),
            Units::Ahead {
                chunks,
                current,
                skipped,
                ..
            } => loop {
                if let Some(unit) = current.next() {
                    return Ok(Some(unit));
                }
                if skipped.is_some() {
                    return Ok(None);
                }
                let chunk = chunks.recv().map_err(|_| ReaderStopped)?;
                *current = chunk.units.into_iter();
                *skipped = chunk.end;
            },
        }
    }

    /// What the file skipped (all of it once [`Self::next_unit`] has returned `None`).
    pub fn skipped(&self) -> BTreeMap<String, usize> {
        match self {
            Units::Here { units, .. } => units.skipped().clone(),
            Units::Ahead { skipped, .. } => skipped.clone().unwrap_or_default(),
        }
    }
}

/// A channel for one file's prepared batches: bounded, so preparing stays a few batches ahead.
pub fn channel() -> (SyncSender<Chunk>, Receiver<Chunk>) {
    std::sync::mpsc::sync_channel(CHUNKS_AHEAD)
}

/// Prepares every unit of a file and sends them in batches, the last with the file's skipped
/// counts. Stops early, quietly, when the writer no longer wants them (it found the file a
/// re-delivery, or stopped on an error).
pub fn send(mut units: FileUnits<'_>, with_search_text: bool, to: &SyncSender<Chunk>) {
    loop {
        let mut batch = Vec::with_capacity(CHUNK);
        while batch.len() < CHUNK {
            match units.next_unit() {
                Some(unit) => batch.push(PreparedUnit::of(unit, with_search_text)),
                None => break,
            }
        }
        let end = (batch.len() < CHUNK).then(|| units.skipped().clone());
        let last = end.is_some();
        if to.send(Chunk { units: batch, end }).is_err() || last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Format;

    /// An HL7 v2 file of `n` admissions, each with a diagnosis, the last one unreadable.
    fn admissions(n: usize) -> Vec<u8> {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!(
                "MSH|^~\\&|PAS|R9W|SC|WS|20231202143500||ADT^A01^ADT_A01|C{i}|P|2.4\r\
                 EVN|A01|20231202143000\r\
                 PID|1||W{i}^^^R9W^MR||CLARKE^ROBERT||19440930|M|||8 HIGH ST^^TOWN^^WX3 1DE\r\
                 PV1|1|I|AMU^BAY 1^BED 3^WGH||||||||||||||||V{i}\r\
                 DG1|1||R06.0^Dyspnoea^I10||20231202|W\r"
            ));
        }
        text.push_str("MSH|^~\\&|PAS|R9W|SC|WS|20231202143500||ADT^A01^ADT_A01|BAD|P|2.4\r");
        text.push_str("PID|1||^^^R9W^MR||NOBODY\r");
        text.into_bytes()
    }

    fn units_here(bytes: &[u8], with_search_text: bool) -> Vec<PreparedUnit> {
        let file = crate::ingest::read(Format::Hl7v2, bytes.into(), None).unwrap();
        let mut here = Units::Here {
            units: file,
            with_search_text,
        };
        std::iter::from_fn(|| here.next_unit().unwrap()).collect()
    }

    fn same(a: &PreparedUnit, b: &PreparedUnit) -> bool {
        a.unit == b.unit && a.entries == b.entries && a.keys == b.keys
    }

    #[test]
    fn units_prepared_on_another_thread_equal_those_prepared_by_the_writer() {
        let bytes = admissions(CHUNK * 2 + 17);
        for with_search_text in [true, false] {
            let here = units_here(&bytes, with_search_text);
            assert_eq!(here.len(), CHUNK * 2 + 18);
            assert!(
                here.iter().any(|u| u.unit.is_err()),
                "the bad message is a unit"
            );
            let first = here.iter().find(|u| u.unit.is_ok()).unwrap();
            assert!(!first.entries.is_empty() && first.keys.is_some());
            let file = crate::ingest::read(Format::Hl7v2, bytes.clone().into(), None).unwrap();
            let (slots, skipped) = (file.slots(), file.skipped().clone());
            let (to, chunks) = channel();
            let ahead: Vec<PreparedUnit> = std::thread::scope(|scope| {
                scope.spawn(move || send(file, with_search_text, &to));
                let mut ahead = Units::ahead(slots, chunks);
                let units = std::iter::from_fn(|| ahead.next_unit().unwrap()).collect();
                assert_eq!(ahead.skipped(), skipped);
                units
            });
            assert_eq!(ahead.len(), here.len());
            assert!(here.iter().zip(&ahead).all(|(h, a)| same(h, a)));
        }
    }

    #[test]
    fn regression_a_reader_that_stops_mid_file_is_an_error_not_the_end_of_the_file() {
        let bytes = admissions(CHUNK + 5);
        let file = crate::ingest::read(Format::Hl7v2, bytes.into(), None).unwrap();
        let slots = file.slots();
        let (to, chunks) = channel();
        let mut ahead = Units::ahead(slots, chunks);
        // One batch arrives, then the preparing side goes away without sending the file's end.
        let mut file = file;
        let units = (0..CHUNK)
            .map(|_| PreparedUnit::of(file.next_unit().unwrap(), false))
            .collect();
        to.send(Chunk { units, end: None }).unwrap();
        drop(to);
        for _ in 0..CHUNK {
            assert!(ahead.next_unit().unwrap().is_some());
        }
        assert!(ahead.next_unit().is_err());
    }
}
