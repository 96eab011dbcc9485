//! The read model: one person's record, as every reader (CLI, export, later the web pages)
//! sees it.

pub mod fhir_export;
pub mod results;
pub mod search;
pub mod text;
pub mod timeline;
pub mod view;
pub mod when;

use crate::model::{Demographics, SourceKind, StoredEntry};
use serde::Serialize;

/// What one source says about the person, and under which local id.
#[derive(Debug, Clone, Serialize)]
pub struct SourcePersonView {
    pub source_person_id: i64,
    pub source_code: String,
    pub source_name: String,
    pub local_id: String,
    pub demographics: Demographics,
    /// How the link to the person was made: `exact`, `probable`, `new`, `merge`, `review`.
    pub link_kind: String,
    pub updated_at: Option<String>,
    /// ODS code of the organisation behind the source.
    pub organisation_code: String,
    /// What kind of system the source is: only a GP system's word counts for GP registration.
    pub source_kind: SourceKind,
}

/// One person's whole record.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRecord {
    pub person_id: i64,
    /// The golden record, derived from the linked sources by source precedence.
    pub demographics: Demographics,
    pub sources: Vec<SourcePersonView>,
    /// Current entries, most clinically urgent category first, newest first within one.
    pub entries: Vec<StoredEntry>,
}
