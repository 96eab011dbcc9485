//! What the bytes mean: each format is parsed into its own types, then adapted into one
//! canonical [`Extract`] per message (HL7 v2), resource group (FHIR) or row (CSV).
//!
//! A parser never panics on input and never gives up on a whole file because one message is
//! bad: each unit is either an [`Extract`] or a [`Reject`] carrying a reason a person can act on
//! and the raw bytes, so the message can be replayed once the source fixes it.

pub mod alerts;
pub mod csv;
pub mod fhir;
pub mod hl7v2;

use crate::model::{Demographics, EntryDraft, Format};
use std::collections::BTreeMap;

/// Largest file any importer will read; larger files are quarantined with that reason.
pub const MAX_FILE_BYTES: usize = 512 * 1024 * 1024;

/// One unit of a file, adapted to the canonical model.
#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    /// Where in the file, for people: "message 17 (control id 20240101.3)", "row 12".
    pub position: String,
    /// The source's own id for this message, when it has one (MSH-10, Bundle entry id).
    pub message_ref: Option<String>,
    /// The source's time for this message (MSH-7/EVN-2, meta.lastUpdated, extract date), ISO
    /// 8601. Data from an older message never overwrites data from a newer one.
    pub event_time: Option<String>,
    /// The source's local id for the person this unit is about.
    pub subject: String,
    /// Demographics, when this unit states them (ADT, FHIR Patient, a CSV client row).
    pub demographics: Option<Demographics>,
    pub entries: Vec<EntryDraft>,
    /// A merge (HL7 A34/A40): the local id this source retires in favour of `subject`.
    pub merge_from: Option<String>,
    /// A change to where the person is that depends on what was stored before (HL7 A08, and
    /// the cancels A11–A13): resolved by the importer against the location's history.
    pub location_event: Option<LocationEvent>,
    /// The raw bytes of this unit, kept so a unit can be replayed.
    pub raw: Vec<u8>,
}

/// What a hospital event does to a location the source reported before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationEventKind {
    /// A08: corrects the details (ward, bed) of a stay the person is still in; says nothing
    /// about where someone already discharged is.
    UpdateStay,
    /// A11: the admission never happened; the person is where they were before it.
    CancelAdmission,
    /// A12: the latest transfer never happened; the person is back where they were.
    CancelTransfer,
    /// A13: the discharge never happened; the person is still on the ward they left.
    CancelDischarge,
}

/// A location change that needs the stored history to resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationEvent {
    pub kind: LocationEventKind,
    /// The source's location entry it applies to.
    pub source_ref: String,
    /// The visit it is about (PV1-19, else the admission time), when the message says.
    pub visit: Option<String>,
    /// Where the message itself says the person is (PV1-3), used when the history does not
    /// hold what was before.
    pub stated: Option<EntryDraft>,
    /// When the source recorded the event.
    pub recorded_at: Option<String>,
}

/// A unit that could not be used, with why and what it was.
#[derive(Clone, PartialEq)]
pub struct Reject {
    pub position: String,
    pub reason: String,
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reject({}: {})", self.position, self.reason)
    }
}

pub type Unit = Result<Extract, Reject>;

/// A whole file, parsed.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub units: Vec<Unit>,
    /// Things counted and skipped without being an error (unknown FHIR resource types, HL7
    /// message types we do not read …), by name.
    pub skipped: BTreeMap<String, usize>,
}

/// Why a whole file could not be read at all (as opposed to one bad unit inside it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the file is {0} bytes, more than the {MAX_FILE_BYTES}-byte limit; split it at source"
    )]
    TooLarge(usize),
    #[error("{0}")]
    Unreadable(String),
}

/// Parses a file in the source's format. `mapping` is the CSV mapping for CSV sources.
pub fn parse(
    format: Format,
    bytes: &[u8],
    mapping: Option<&csv::Mapping>,
) -> Result<ParsedFile, FileError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge(bytes.len()));
    }
    match format {
        Format::Hl7v2 => hl7v2::parse_file(bytes),
        Format::Fhir => fhir::parse_file(bytes),
        Format::Csv => match mapping {
            Some(m) => csv::parse_file(bytes, m),
            None => Err(FileError::Unreadable(
                "this CSV source has no mapping; add one with `sharedcare source add … --mapping FILE`".into(),
            )),
        },
    }
}

/// A file's units, handed out one at a time. A FHIR file is adapted as it is read, so a large
/// Bundle is never held parsed or adapted in memory at once; HL7 v2 and CSV files are parsed
/// ahead (their units cost about what their text does).
pub struct FileUnits<'a> {
    units: Units<'a>,
    skipped: BTreeMap<String, usize>,
    slots: usize,
}

enum Units<'a> {
    Parsed(std::vec::IntoIter<Unit>),
    Fhir(Box<fhir::Stream<'a>>),
}

impl FileUnits<'_> {
    /// An upper bound on the units (for a progress bar): FHIR resources we do not read are
    /// counted as skipped, not as units, only once they are reached.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The next unit, or `None` at the end of the file.
    pub fn next_unit(&mut self) -> Option<Unit> {
        match &mut self.units {
            Units::Parsed(units) => units.next(),
            Units::Fhir(stream) => stream.next_unit(&mut self.skipped),
        }
    }

    /// What was skipped so far (all of it once [`Self::next_unit`] has returned `None`).
    pub fn skipped(&self) -> &BTreeMap<String, usize> {
        &self.skipped
    }
}

/// Reads a file in the source's format, to hand its units out one at a time.
pub fn read<'a>(
    format: Format,
    bytes: std::borrow::Cow<'a, [u8]>,
    mapping: Option<&csv::Mapping>,
) -> Result<FileUnits<'a>, FileError> {
    if format != Format::Fhir {
        let parsed = parse(format, &bytes, mapping)?;
        return Ok(FileUnits {
            slots: parsed.units.len(),
            units: Units::Parsed(parsed.units.into_iter()),
            skipped: parsed.skipped,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let stream = fhir::Stream::new(bytes)?;
    Ok(FileUnits {
        slots: stream.slots(),
        units: Units::Fhir(Box::new(stream)),
        skipped: BTreeMap::new(),
    })
}

/// Decodes text that should be UTF-8 but, from older systems, is often Windows-1252/Latin-1.
pub fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text
        }
    }
}
