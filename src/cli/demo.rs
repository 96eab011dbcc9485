//! `sharedcare demo`: a data directory built from the synthetic sample feeds.

use super::import::{bytes_of, import_files, with_bulk};
use super::text::say;
use super::{print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{Format, SourceKind};
use crate::store::NewSource;
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The sample feeds folder (with its sources.toml).
    #[arg(long, default_value = "sample-feeds")]
    pub from: PathBuf,
    /// Only import the sample feeds and show what loaded: no generated region, no demo
    /// users, no server.
    #[arg(long)]
    pub no_serve: bool,
    /// How many people the generated region beside the sample feeds holds (0: none).
    #[arg(long, default_value_t = 3000)]
    pub people: u64,
    /// Where the demo's web server listens (HTTPS).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: String,
    /// Where the demo's SFTP server listens; blank disables it.
    #[arg(long, default_value = "127.0.0.1:2222")]
    pub sftp_listen: String,
    /// A synthetic region instead of the sample feeds.
    #[command(subcommand)]
    pub region: Option<super::region::RegionCommand>,
}

#[derive(Debug, Deserialize)]
struct SourcesFile {
    source: Vec<SampleSource>,
}

#[derive(Debug, Deserialize)]
struct SampleSource {
    code: String,
    name: String,
    org: String,
    org_name: Option<String>,
    kind: SourceKind,
    format: Format,
    folder: PathBuf,
    mapping: Option<PathBuf>,
}

pub fn run(data_dir: &Path, json: bool, args: &DemoArgs) -> Result<u8> {
    if let Some(region) = &args.region {
        return super::region::run(data_dir, json, region);
    }
    if !args.no_serve {
        return super::demo_serve::run(data_dir, json, args);
    }
    let mut ctx = Ctx::open(data_dir, json)?;
    let batch = sources_bytes(&args.from)?;
    let (all, _) = with_bulk(&mut ctx, super::import::ImportPath::Chosen, batch, |ctx| {
        load_sources(ctx, &args.from, &mut |_, _| {})
    })?;
    if json {
        print_json(&serde_json::json!({
            "data_dir": data_dir,
            "import": all,
            "stats": ctx.store.stats()?,
        }));
    } else {
        print!("{}", super::text::inert(&all.render()));
        say!("\nDemo data directory: {}", data_dir.display());
        say!(
            "Try: sharedcare --data-dir {} person find --name smith",
            data_dir.display()
        );
        say!("     sharedcare --data-dir {} stats", data_dir.display());
    }
    Ok(u8::from(all.had_problems()))
}

/// Registers the sources a `sources.toml` in `from` lists and imports each one's folder in
/// order; `progress(source, files)` is told as each source starts.
pub(super) fn load_sources(
    ctx: &mut Ctx,
    from: &Path,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<crate::import::Summary> {
    let sources = sources_of(from)?;
    let mut all = crate::import::Summary::default();
    for s in &sources.source {
        let mapping = match &s.mapping {
            Some(m) => {
                let path = from.join(m);
                Some(std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    doing: "read the mapping",
                    path,
                    source,
                })?)
            }
            None => None,
        };
        let tx = ctx.store.begin()?;
        tx.upsert_source(
            &NewSource {
                code: &s.code,
                name: &s.name,
                org_code: &s.org,
                org_name: s.org_name.as_deref(),
                kind: s.kind,
                format: s.format,
                mapping: mapping.as_deref(),
            },
            &CLOCK.now_text(),
        )?;
        tx.commit()?;
        let row = ctx.store.source_by_code(&s.code)?;
        let files = files_in(&from.join(&s.folder))?;
        progress(&s.code, files.len());
        let summary = import_files(ctx, &row, &files)?;
        all.files.extend(summary.files);
    }
    Ok(all)
}

fn sources_of(from: &Path) -> Result<SourcesFile> {
    let sources_path = from.join("sources.toml");
    let text = std::fs::read_to_string(&sources_path).map_err(|source| Error::Io {
        doing: "read",
        path: sources_path.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| Error::Invalid(format!("{}: {e}", sources_path.display())))
}

/// The total size of the feed files [`load_sources`] would import from `from`.
pub(super) fn sources_bytes(from: &Path) -> Result<u64> {
    let mut bytes = 0;
    for s in sources_of(from)?.source {
        bytes += bytes_of(&files_in(&from.join(&s.folder))?);
    }
    Ok(bytes)
}

/// The feed files of a folder in name order, leaving out hidden files and READMEs.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = std::fs::read_dir(dir).map_err(|source| Error::Io {
        doing: "list",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                !n.starts_with('.') && !n.to_ascii_lowercase().starts_with("readme")
            })
        })
        .collect();
    files.sort();
    Ok(files)
}
