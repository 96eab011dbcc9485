//! Replaying one rejected unit: its raw bytes are parsed again in the source's format (with the
//! source's current CSV mapping) and, when they now make sense, applied through the same
//! [`apply`](super::apply) step as a unit of a fresh file, inside the caller's transaction so
//! that the unit and the record of the decision commit together.

use super::apply;
use super::summary::FileSummary;
use crate::config::Config;
use crate::error::Result;
use crate::ingest::{self, csv::Mapping};
use crate::store::{SourceRow, Tx};

/// `Ok(Ok(()))` when the unit was applied; `Ok(Err(reason))` when it is still not usable (and
/// nothing was written); `Err` for a database failure, after which the caller rolls back.
pub fn replay_unit(
    tx: &Tx<'_>,
    config: &Config,
    source: &SourceRow,
    file_id: i64,
    raw: &[u8],
    now: &str,
) -> Result<std::result::Result<(), String>> {
    let mapping = match &source.mapping {
        Some(text) => match Mapping::from_toml(text) {
            Ok(m) => Some(m),
            Err(e) => return Ok(Err(format!("the source's CSV mapping is not valid: {e}"))),
        },
        None => None,
    };
    let parsed = match ingest::parse(source.format, raw, mapping.as_ref()) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut extracts = Vec::new();
    for unit in parsed.units {
        match unit {
            Ok(extract) => extracts.push(extract),
            Err(reject) => return Ok(Err(reject.reason)),
        }
    }
    if extracts.is_empty() {
        return Ok(Err(
            "the unit holds nothing this source's format imports".into()
        ));
    }
    let mut summary = FileSummary::new("replay");
    for extract in &extracts {
        apply::apply(tx, config, source, file_id, extract, now, &mut summary)?;
    }
    Ok(Ok(()))
}
