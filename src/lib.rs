//! # sharedcare
//!
//! A shared health and social care record for a region, in one binary. The modules follow the
//! flow of data, in order:
//!
//! 1. [`ingest`] — what the bytes of a feed file mean: HL7 v2, FHIR R4 JSON or mapped CSV,
//!    parsed into each format's own types and adapted into one canonical [`ingest::Extract`]
//!    per message or row; a bad unit becomes a [`ingest::Reject`] with a reason, never a crash.
//! 2. [`matching`] — who it is about: a verified NHS number first, otherwise blocking on date of
//!    birth, postcode and phonetic surname and scoring field agreement, with every decision
//!    explained field by field.
//! 3. [`store`] — the only module that speaks SQL: SQLite in WAL mode, embedded forward-only
//!    migrations, the identity model (`source_person` rows linked to a `person`), entries with
//!    history and FTS5 indexes.
//! 4. [`import`] — one file, top to bottom: read → parse → match → store, exactly once.
//! 5. [`record`] — the read model: one person's record grouped by category with provenance,
//!    and its export as a FHIR R4 Bundle.
//! 6. [`audit`] — the tamper-evident trail every view and change is written to: events
//!    HMAC-chained under a key outside the database, a head file that shows a cut-off tail,
//!    and the verification the `audit verify` command and a nightly job run.
//! 7. [`misuse`] — rules over that trail (as data) that raise privacy officer alerts with the
//!    events behind them: own record, same household, watched people, volume, hours, search.
//! 8. [`citizen`] — residents' own accounts (invitation codes, a TOTP second factor); what they
//!    see of their record is the access gate's `citizen` reading (`access::citizen`), proxies
//!    are `access::proxy`, the pages `web::citizen`.
//!
//! [`model`] holds the plain domain types they share: [`model::NhsNumber`], demographics, the
//! entry categories and their typed bodies.

pub mod access;
pub mod app;
pub mod audit;
pub mod citizen;
pub mod cli;
pub mod clock;
pub mod config;
pub mod data_dir;
pub mod demo;
pub mod error;
// The fuzz targets' entry points (fuzz/): only in tests and the fuzz build, never shipped.
#[cfg(any(test, fuzzing))]
pub mod fuzz;
pub mod import;
pub mod ingest;
pub mod jobs;
pub mod matching;
pub mod misuse;
pub mod model;
pub mod notify;
pub mod ops;
pub mod population;
pub mod record;
pub mod replica_lag;
pub mod replication;
pub mod slots;
pub mod sources;
pub mod store;
pub mod web;
