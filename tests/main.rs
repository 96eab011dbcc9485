//! The integration tests: the real `sharedcare` binary against real SQLite files.
//!
//! - `schema`    — migrations, `schema.sql`, refusing a newer database
//! - `nhs`       — every NHS number vector in the shared corpus
//! - `feeds`     — import, re-delivery, out-of-order updates, history
//! - `merges`    — HL7 A40 merge and `unmerge`, reviews
//! - `bad_input` — broken files of every kind: no panic, clear reasons, nothing lost
//! - `crash`     — SIGKILL during an import, then exactly-once on rerun
//! - `corpus`    — the UK feed material in ../shared/corpus
//! - `export`    — FHIR export through a third-party validator
//! - `demo`      — the sample feeds end to end
//! - `audit`     — the HMAC-chained audit trail: 100,000 events against five kinds of tampering
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod it;
