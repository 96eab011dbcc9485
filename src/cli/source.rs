//! `sharedcare source add|edit|list`: what a source is, and how its files arrive (cadence, drop
//! folder, SFTP keys).

use super::text::say;
use super::{print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::sources::settings::{self, SourceInput};
use clap::{Args, Subcommand};
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
        #[command(flatten)]
        feed: FeedArgs,
    },
    /// Change a registered source: only the options given change.
    Edit {
        code: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        org_name: Option<String>,
        #[arg(long, value_parser = ["acute", "gp", "community", "mental-health", "social-care"])]
        kind: Option<String>,
        #[arg(long, value_parser = ["hl7v2", "fhir", "csv"])]
        format: Option<String>,
        #[arg(long)]
        mapping: Option<PathBuf>,
        #[command(flatten)]
        feed: FeedArgs,
    },
    /// List registered sources.
    List,
}

/// How a source's files arrive.
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// When files are expected: `daily-by HH:MM` (UTC; a file by then every day) or
    /// `every N` with N like 30m, 1h, 2d (at least one file in every such span); "" clears.
    #[arg(long)]
    cadence: Option<String>,
    /// A folder to watch besides DATA_DIR/inbox/CODE/ (claimed files move out of it); ""
    /// clears.
    #[arg(long)]
    drop_folder: Option<PathBuf>,
    /// A public key file (`id_*.pub`) authorised for the source's SFTP account; repeatable.
    #[arg(long)]
    sftp_key: Vec<PathBuf>,
    /// `ADDR:PORT` of an MLLP port of the source's own, heard by `serve` (HL7 v2 sources
    /// only); "" clears.
    #[arg(long)]
    mllp: Option<String>,
    /// Who may send for the source over MLLP: addresses or networks, comma-separated
    /// (`192.0.2.10,10.1.0.0/16`); "" is loopback only, as before any is set.
    #[arg(long)]
    mllp_allow: Option<String>,
}

pub fn run(ctx: &mut Ctx, cmd: SourceCommand) -> Result<u8> {
    match cmd {
        SourceCommand::Edit {
            code,
            name,
            org,
            org_name,
            kind,
            format,
            mapping,
            feed,
        } => {
            let old = ctx.store.source_by_code(&code)?;
            let org_name = org_name.or_else(|| (org.is_none()).then(|| old.org_name.clone()));
            run(
                ctx,
                SourceCommand::Add {
                    name: name.unwrap_or(old.name),
                    org: org.unwrap_or(old.org_code),
                    org_name,
                    kind: kind.unwrap_or_else(|| old.kind.as_str().to_owned()),
                    format: format.unwrap_or_else(|| old.format.as_str().to_owned()),
                    code,
                    mapping,
                    feed,
                },
            )
        }
        SourceCommand::Add {
            code,
            name,
            org,
            org_name,
            kind,
            format,
            mapping,
            feed,
        } => {
            let input = SourceInput {
                code: code.clone(),
                name,
                org,
                org_name,
                kind,
                format,
                mapping: match &mapping {
                    Some(path) => Some((path.display().to_string(), read_text(path)?)),
                    None => None,
                },
                cadence: feed.cadence.clone(),
                drop_folder: feed
                    .drop_folder
                    .as_ref()
                    .map(|p| p.to_string_lossy().into_owned()),
                keys: feed
                    .sftp_key
                    .iter()
                    .map(|p| Ok((p.display().to_string(), read_text(p)?)))
                    .collect::<Result<_>>()?,
                mllp: feed.mllp.clone(),
                mllp_allow: feed.mllp_allow.clone(),
            };
            let now = CLOCK.now_text();
            let config = ctx.config.clone();
            let saved = super::as_operator(ctx, |store, by| {
                settings::save_source(store, &config, &input, by, &now)
            })?;
            if ctx.json {
                print_json(&ctx.store.source_by_code(&saved.code)?);
            } else {
                say!("source {code} registered (id {})", saved.id);
            }
            Ok(0)
        }
        SourceCommand::List => {
            let sources = ctx.store.sources()?;
            if ctx.json {
                print_json(&sources);
            } else if sources.is_empty() {
                say!("no sources yet; add one with `sharedcare source add`");
            } else {
                for s in sources {
                    say!(
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

fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        doing: "read",
        path: path.to_path_buf(),
        source,
    })
}
