//! `sharedcare import --source CODE FILE...`

use super::{print_json, Ctx, CLOCK};
use crate::error::Result;
use crate::import::{Importer, Summary};
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
        print!("{}", summary.render());
    }
    Ok(u8::from(summary.had_problems()))
}

pub(super) fn import_files(
    ctx: &mut Ctx,
    source: &crate::store::SourceRow,
    files: &[PathBuf],
) -> Result<Summary> {
    let bar = progress_bar();
    let mut summary = Summary::default();
    let mut importer = Importer {
        store: &mut ctx.store,
        config: &ctx.config,
        clock: &CLOCK,
    };
    for path in files {
        bar.set_message(path.display().to_string());
        let mut progress = |done: usize, total: usize| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        };
        summary
            .files
            .push(importer.import_path(source, path, &mut progress)?);
    }
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
