//! `sharedcare import --source CODE FILE...`

use super::{print_json, Ctx, CLOCK};
use crate::error::Result;
use crate::import::{Importer, Prepared, Summary};
use crate::store::Store;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The source these files come from.
    #[arg(long)]
    pub source: String,
    /// Files to import, in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(ctx: &mut Ctx, args: &ImportArgs) -> Result<u8> {
    let source = ctx.store.source_by_code(&args.source)?;
    let summary = import_files(ctx, &source, &args.files)?;
    if ctx.json {
        print_json(&summary);
    } else {
        print!("{}", super::text::inert(&summary.render()));
    }
    Ok(u8::from(summary.had_problems()))
}

/// The page cache of a command-line import.
const BULK_CACHE_MIB: i64 = 1024;

pub(super) fn import_files(
    ctx: &mut Ctx,
    source: &crate::store::SourceRow,
    files: &[PathBuf],
) -> Result<Summary> {
    ctx.store.for_bulk_import(BULK_CACHE_MIB)?;
    // The reader's own connection, to skip parsing files already imported (a load run again).
    let reader = Store::open(ctx.store.path()).ok();
    let bar = progress_bar();
    let mut summary = Summary::default();
    let mut importer = Importer {
        store: &mut ctx.store,
        config: &ctx.config,
        clock: &CLOCK,
    };
    // The next file is read and parsed on another thread while this one is stored: parsing
    // is a fifth of an import's work and needs no database. The reader hands over one file at
    // a time, so memory holds two parsed files whatever the number of files.
    std::thread::scope(|scope| -> Result<()> {
        let (ahead, ready) = std::sync::mpsc::sync_channel(0);
        scope.spawn(move || {
            let known = |sha256: &str| {
                reader
                    .as_ref()
                    .is_some_and(|r| r.file_already_imported(source.id, sha256).unwrap_or(false))
            };
            for path in files {
                if ahead
                    .send((path, Prepared::read(source, path, &known)))
                    .is_err()
                {
                    break;
                }
            }
        });
        for (path, prepared) in ready {
            bar.set_message(path.display().to_string());
            let mut progress = |done: usize, total: usize| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            };
            summary
                .files
                .push(importer.import_prepared(source, prepared?, &mut progress)?);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(summary)
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} units, {per_sec}, eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
