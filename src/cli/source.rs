//! `sharedcare source add|edit|list`: what a source is, and how its files arrive (cadence, drop
//! folder, SFTP keys).

use super::{print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ingest::csv::Mapping;
use crate::model::{Format, SourceKind};
use crate::store::NewSource;
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
            crate::sources::Spool::new(&ctx.config.data_dir, &code)?;
            let settings = FeedSettings::read(&feed)?;
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
            settings.save(&tx, id, &code)?;
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

/// The feed options, checked before anything is saved.
struct FeedSettings {
    cadence: Option<Option<String>>,
    drop_folder: Option<Option<String>>,
    keys: Vec<crate::sources::sftp::keys::AuthorisedKey>,
}

impl FeedSettings {
    fn read(feed: &FeedArgs) -> Result<Self> {
        let cadence = match feed.cadence.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(spec) => Some(Some(
                crate::sources::cadence::Cadence::parse(spec)
                    .map_err(Error::Invalid)?
                    .spec(),
            )),
        };
        let drop_folder = match &feed.drop_folder {
            None => None,
            Some(p) if p.as_os_str().is_empty() => Some(None),
            Some(p) => {
                let abs = std::fs::canonicalize(p).map_err(|_| {
                    Error::Invalid(format!(
                        "--drop-folder {}: no such folder; create it first",
                        p.display()
                    ))
                })?;
                if !abs.is_dir() {
                    return Err(Error::Invalid(format!(
                        "--drop-folder {}: not a folder",
                        p.display()
                    )));
                }
                Some(Some(abs.to_string_lossy().into_owned()))
            }
        };
        let mut keys = Vec::new();
        for path in &feed.sftp_key {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                doing: "read",
                path: path.clone(),
                source,
            })?;
            keys.extend(
                crate::sources::sftp::keys::parse_public_keys(&text)
                    .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?,
            );
        }
        Ok(Self {
            cadence,
            drop_folder,
            keys,
        })
    }

    fn save(&self, tx: &crate::store::Tx<'_>, id: i64, code: &str) -> Result<()> {
        if let Some(c) = &self.cadence {
            tx.set_source_cadence(id, c.as_deref())?;
        }
        if let Some(d) = &self.drop_folder {
            tx.set_source_drop_folder(id, d.as_deref())?;
        }
        let now = CLOCK.now_text();
        for k in &self.keys {
            tx.add_sftp_key(code, &k.public_key, &now)?;
            let actor = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            tx.audit(
                &crate::store::AuditEvent {
                    actor: Some(&actor),
                    action: "sftp.key.add",
                    detail: Some(&format!("{code} {}", k.fingerprint)),
                    outcome: "ok",
                    ..Default::default()
                },
                &now,
            )?;
        }
        Ok(())
    }
}
