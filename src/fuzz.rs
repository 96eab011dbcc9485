//! The entry points the fuzz targets (`fuzz/`, run by `cargo fuzz`) and their regression replay
//! (`fuzz/regressions/`, run by `cargo test`) share, so an input that once broke a parser is
//! checked in CI through exactly the path the fuzzer found it on.
//!
//! Each function feeds arbitrary bytes to one parser the way the importer or the search page
//! would, and checks what the project promises about bad input beyond "does not panic": every
//! rejected unit and every refused file carries a reason a person can read; every unit that is
//! accepted names its person and each of its entries (the importer files them under these
//! keys, so a blank one would merge unrelated people or entries); and a search never turns
//! into a database error. A broken promise comes back as `Err` with what was wrong; the
//! fuzz target turns that into a crash, the regression test into a failure.
//!
//! Compiled only for tests and for the fuzz build (`cargo fuzz` sets `cfg(fuzzing)`), so none
//! of it ships in the server.

use crate::clock::{Clock, FixedClock};
use crate::config::Config;
use crate::import::Importer;
use crate::ingest::{self, csv::Mapping, FileError, ParsedFile};
use crate::model::{Format, SourceKind};
use crate::record::search::{self, Query};
use crate::store::{NewSource, Store};
use std::path::Path;

/// What a target found wrong with how an input was handled.
pub type Broken = String;

/// An HL7 v2 file, as the importer reads one: cut into messages, parsed, adapted.
pub fn hl7v2(bytes: &[u8]) -> Result<(), Broken> {
    readable(ingest::parse(Format::Hl7v2, bytes, None))
}

/// A FHIR R4 JSON file (a Bundle or a single resource), parsed and adapted.
pub fn fhir(bytes: &[u8]) -> Result<(), Broken> {
    readable(ingest::parse(Format::Fhir, bytes, None))
}

/// A CSV mapping and a file read with it. The input is the mapping's TOML, one NUL byte, then
/// the CSV bytes (no NUL: the whole input is the mapping, with an empty file).
pub fn csv(input: &[u8]) -> Result<(), Broken> {
    let (toml, file) = match input.iter().position(|b| *b == 0) {
        Some(at) => (
            input.get(..at).unwrap_or_default(),
            input.get(at + 1..).unwrap_or_default(),
        ),
        None => (input, &[][..]),
    };
    let Ok(toml) = std::str::from_utf8(toml) else {
        return Ok(()); // a mapping is a UTF-8 text file; the command line refuses others
    };
    match Mapping::from_toml(toml) {
        Err(reason) if reason.trim().is_empty() => {
            Err("a mapping was refused with an empty reason".into())
        }
        Err(_) => Ok(()),
        Ok(mapping) => readable(ingest::parse(Format::Csv, file, Some(&mapping))),
    }
}

/// Text typed into the patient search box, and into the search inside one record, run
/// against `store` ([`search_store`]; any store with the schema works, and even an empty one
/// hands every full-text query to SQLite's parser).
pub fn search_query(store: &Store, input: &[u8]) -> Result<(), Broken> {
    let text = String::from_utf8_lossy(input);
    let query = Query::parse(&text);
    if query.kind().is_empty() {
        return Err("a query's kind for the audit trail is empty".into());
    }
    let _ = query.is_searchable();
    let _ = search::invalid_nhs_number(&query);
    if query.is_searchable() {
        search::run(store, &query, 0).map_err(|e| format!("the search failed: {e}"))?;
    }
    store
        .search_record(1, &text)
        .map_err(|e| format!("the search inside a record failed: {e}"))?;
    Ok(())
}

/// An in-memory store holding the people of the acute sample feed (`sample-feeds/acute`), so
/// that searches find people and explain why each matched, rather than only being parsed.
pub fn search_store() -> crate::error::Result<Store> {
    let mut store = Store::open_in_memory()?;
    let clock = FixedClock(chrono::DateTime::UNIX_EPOCH);
    let tx = store.begin()?;
    tx.upsert_source(
        &NewSource {
            code: "FUZZ-ACUTE",
            name: "acute sample feed, for the search fuzz target",
            org_code: "R9W",
            org_name: None,
            kind: SourceKind::Acute,
            format: Format::Hl7v2,
            mapping: None,
        },
        &clock.now_text(),
    )?;
    tx.commit()?;
    let source = store.source_by_code("FUZZ-ACUTE")?;
    // No data directory: the default configuration.
    let config = Config::load(Path::new("/nonexistent/sharedcare-fuzz"))?;
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-feeds/acute");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .and_then(|dir| dir.map(|e| e.map(|e| e.path())).collect())
        .map_err(|source| crate::error::Error::Io {
            doing: "list",
            path: folder.clone(),
            source,
        })?;
    files.sort();
    let mut importer = Importer {
        store: &mut store,
        config: &config,
        clock: &clock,
    };
    for path in files {
        let bytes = std::fs::read(&path).map_err(|source| crate::error::Error::Io {
            doing: "read",
            path: path.clone(),
            source,
        })?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        importer.import_bytes(&source, &name, &bytes, &mut |_, _| {})?;
    }
    Ok(store)
}

/// Every reject and every refusal says why; every extract says whom and which.
fn readable(parsed: Result<ParsedFile, FileError>) -> Result<(), Broken> {
    let parsed = match parsed {
        Err(e) if e.to_string().trim().is_empty() => {
            return Err(format!("a file was refused with an empty reason: {e:?}"));
        }
        Err(_) => return Ok(()),
        Ok(parsed) => parsed,
    };
    for unit in &parsed.units {
        match unit {
            Ok(extract) if extract.position.trim().is_empty() => {
                return Err("an extract has no position".into());
            }
            Ok(extract) if extract.subject.trim().is_empty() => {
                return Err(format!(
                    "{}: the extract has a blank subject",
                    extract.position
                ));
            }
            Ok(extract)
                if extract
                    .merge_from
                    .as_deref()
                    .is_some_and(|m| m.trim().is_empty()) =>
            {
                return Err(format!(
                    "{}: the merge retires a blank id",
                    extract.position
                ));
            }
            Ok(extract)
                if extract
                    .entries
                    .iter()
                    .any(|e| e.source_ref.trim().is_empty()) =>
            {
                return Err(format!(
                    "{}: an entry has a blank source reference",
                    extract.position
                ));
            }
            Err(reject) if reject.reason.trim().is_empty() || reject.position.trim().is_empty() => {
                return Err(format!("a reject has no reason or no position: {reject:?}"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Every input kept in `fuzz/regressions/<target>/`, by file name.
    fn regression_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(target);
        let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                !name.starts_with('.') && name != "README.md"
            })
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            .collect();
        inputs.sort();
        inputs
    }

    fn replay(target: &str, check: impl Fn(&[u8]) -> Result<(), Broken>) {
        for (name, bytes) in regression_inputs(target) {
            if let Err(broken) = check(&bytes) {
                panic!("fuzz/regressions/{target}/{name}: {broken}");
            }
        }
    }

    #[test]
    fn hl7v2_regression_inputs_are_read_or_rejected_with_a_reason() {
        replay("hl7v2", hl7v2);
    }

    #[test]
    fn fhir_regression_inputs_are_read_or_rejected_with_a_reason() {
        replay("fhir", fhir);
    }

    #[test]
    fn csv_regression_inputs_are_read_or_rejected_with_a_reason() {
        replay("csv", csv);
    }

    #[test]
    fn search_query_regression_inputs_search_without_error() {
        let store = search_store().unwrap();
        replay("search_query", |bytes| search_query(&store, bytes));
    }

    #[test]
    fn the_search_store_finds_people() {
        let store = search_store().unwrap();
        let found = search::run(&store, &Query::parse("clarke 1944"), 0).unwrap();
        assert_eq!(found.found.len(), 1, "{:?}", found.found.len());
    }

    #[test]
    fn a_reject_without_a_reason_is_reported_as_broken() {
        let parsed = ParsedFile {
            units: vec![Err(ingest::Reject {
                position: "row 2".into(),
                reason: " ".into(),
                raw: Vec::new(),
            })],
            ..Default::default()
        };
        assert!(readable(Ok(parsed)).is_err());
        assert!(readable(Err(FileError::Unreadable(String::new()))).is_err());
        assert!(readable(Err(FileError::Empty)).is_ok());
    }

    #[test]
    fn an_extract_without_a_subject_is_reported_as_broken() {
        let extract = ingest::Extract {
            position: "message 1".into(),
            message_ref: None,
            event_time: None,
            subject: " ".into(),
            demographics: None,
            entries: Vec::new(),
            merge_from: None,
            location_event: None,
            raw: Vec::new(),
        };
        let parsed = |extract: ingest::Extract| ParsedFile {
            units: vec![Ok(extract)],
            ..Default::default()
        };
        assert!(readable(Ok(parsed(extract.clone()))).is_err());
        let named = ingest::Extract {
            subject: "W100045".into(),
            ..extract
        };
        assert!(readable(Ok(parsed(named.clone()))).is_ok());
        let blank_merge = ingest::Extract {
            merge_from: Some(String::new()),
            ..named
        };
        assert!(readable(Ok(parsed(blank_merge))).is_err());
    }
}
