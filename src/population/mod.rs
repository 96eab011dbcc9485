//! The population dashboard's figures: how many people are in each condition, by week, area,
//! age band and sex, computed from the record itself and safe to share.
//!
//! The flow: the condition set ([`conditions`], data) says which entries put a person in a
//! condition; a scheduled job ([`refresh`], `[jobs] population`) reads the entries added or
//! changed since its last run ([`facts`] keeps what the set made of the rest), leaves
//! out everyone who has opted out (a national data opt-out a source sends, or an objection to
//! sharing), and writes counts of people into summary tables; hot spots are tested there by an
//! exact Poisson interval ([`poisson`]). Pages and downloads read the counts only through
//! [`published`], which applies small-number suppression ([`suppress`]) before anything leaves
//! this module: the web layer never sees an unsuppressed count.

pub mod areas;
pub mod compute;
pub mod conditions;
pub mod facts;
pub mod poisson;
pub mod published;
pub mod suppress;
mod weeks;

pub use conditions::ConditionSet;
pub use published::{published, Published};

use crate::clock::Clock;
use crate::config::Config;
use crate::error::Result;
use crate::store::Store;
use serde::Deserialize;
use std::path::PathBuf;

/// `[population]` in config.toml: the dashboard's rules, places and safety limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PopulationConfig {
    /// A condition set replacing the shipped `conditions.toml`. Default: shipped.
    pub conditions: Option<PathBuf>,
    /// A postcode district → higher level (e.g. local authority) lookup, CSV with the columns
    /// district, code, name, replacing the demo's. Default: shipped (the demo's WX districts).
    pub areas: Option<PathBuf>,
    /// The map's boundary file, HexJSON with one hexagon per district. Default: shipped.
    pub boundaries: Option<PathBuf>,
    /// Counts under this are shown as "<N" (0 included). Default 8.
    pub small_number: i64,
    /// Rates are not shown, and hot spots not tested, for areas with fewer people than this.
    /// Default 500.
    pub min_denominator: i64,
    /// How many ISO weeks the figures cover, ending with the data's latest week. Default 26.
    pub weeks: u32,
    /// How many threads the recompute reads the entries with. Default: one per core, at most
    /// four; 1 leaves the other cores to the server's requests while the job runs.
    pub scan_threads: Option<usize>,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        Self {
            conditions: None,
            areas: None,
            boundaries: None,
            small_number: 8,
            min_denominator: 500,
            weeks: 26,
            scan_threads: None,
        }
    }
}

/// Which entries a recompute reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Those added or changed since the last run (every entry on the first run, or when the
    /// condition set has changed).
    Changed,
    /// Every entry.
    Every,
}

/// Recomputes every figure, replacing the summary tables in one transaction. The entries are
/// read as `read` says; what the condition set made of the others was kept by earlier runs.
pub fn refresh(
    config: &Config,
    store: &mut Store,
    clock: &dyn Clock,
    read: Read,
) -> Result<compute::Report> {
    let p = &config.population;
    let set = ConditionSet::load(p.conditions.as_deref())?;
    let lookup = areas::Lookup::load(p.areas.as_deref())?;
    compute::recompute(store, &set, &lookup, p, clock, read)
}
