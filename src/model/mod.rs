//! Plain domain types, no I/O: what the rest of the program talks about.

pub mod category;
pub mod entry;
pub mod golden;
pub mod nhs_number;
pub mod person;
pub mod source;

pub use category::Category;
pub use entry::{EntryBody, EntryDraft, Provenance, StoredEntry};
pub use nhs_number::{NhsNumber, NhsNumberStatus};
pub use person::{Address, Demographics, Identifier, ReportedNhsNumber, Sex};
pub use source::{Format, SourceKind};
