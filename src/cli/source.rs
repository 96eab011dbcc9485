//! `sharedcare source add|list`.

use super::{print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ingest::csv::Mapping;
use crate::model::{Format, SourceKind};
use crate::store::NewSource;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a source (or update one with the same code).
    Add {
        /// Short upper-case code, e.g. MAIDSTONE-PAS.
        code: String,
        #[arg(long)]
        name: String,
        /// ODS code of the organisation that runs it.
        #[arg(long)]
        org: String,
        /// Name of the organisation.
        #[arg(long)]
        org_name: Option<String>,
        #[arg(long, value_parser = ["acute", "gp", "community", "mental-health", "social-care"])]
        kind: String,
        #[arg(long, value_parser = ["hl7v2", "fhir", "csv"])]
        format: String,
        /// CSV mapping file (TOML); required for CSV sources.
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
    /// List registered sources.
    List,
}

pub fn run(ctx: &mut Ctx, cmd: SourceCommand) -> Result<u8> {
    match cmd {
        SourceCommand::Add {
            code,
            name,
            org,
            org_name,
            kind,
            format,
            mapping,
        } => {
            let kind = SourceKind::parse(&kind)
                .ok_or_else(|| Error::Invalid(format!("unknown kind {kind}")))?;
            let format = Format::parse(&format)
                .ok_or_else(|| Error::Invalid(format!("unknown format {format}")))?;
            let mapping_text = match &mapping {
                Some(path) => {
                    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                        doing: "read the mapping",
                        path: path.clone(),
                        source,
                    })?;
                    Mapping::from_toml(&text).map_err(|e| {
                        Error::Invalid(format!("the mapping {} is not valid: {e}", path.display()))
                    })?;
                    Some(text)
                }
                None => None,
            };
            if format == Format::Csv
                && mapping_text.is_none()
                && ctx.store.source_by_code(&code).is_err()
            {
                return Err(Error::Invalid(
                    "a CSV source needs a mapping: add --mapping FILE (see sample-feeds/mappings/ for examples)".into(),
                ));
            }
            let tx = ctx.store.begin()?;
            let id = tx.upsert_source(
                &NewSource {
                    code: &code,
                    name: &name,
                    org_code: &org,
                    org_name: org_name.as_deref(),
                    kind,
                    format,
                    mapping: mapping_text.as_deref(),
                },
                &CLOCK.now_text(),
            )?;
            tx.commit()?;
            if ctx.json {
                print_json(&ctx.store.source_by_code(&code)?);
            } else {
                println!("source {code} registered (id {id})");
            }
            Ok(0)
        }
        SourceCommand::List => {
            let sources = ctx.store.sources()?;
            if ctx.json {
                print_json(&sources);
            } else if sources.is_empty() {
                println!("no sources yet; add one with `sharedcare source add`");
            } else {
                for s in sources {
                    println!(
                        "{:<24} {:<14} {:<7} {} ({} {})",
                        s.code,
                        s.kind.as_str(),
                        s.format.as_str(),
                        s.name,
                        s.org_code,
                        s.org_name
                    );
                }
            }
            Ok(0)
        }
    }
}
