//! `sharedcare import --source CODE FILE...`

use super::text::tell;
use super::{print_json, Ctx, CLOCK};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::import::{Importer, Prepared, Summary};
use crate::store::{bulk_lock, BuildFigures, Store};
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
    /// Take the bulk path (a backfill): the full-text and some secondary indexes are built
    /// once at the end. A first load into an empty database takes it anyway, and so do files
    /// more than half the size of the database file, unless a server is running on it.
    #[arg(long, conflicts_with = "no_bulk")]
    pub bulk: bool,
    /// Take the normal path even for a first load (for comparing the two).
    #[arg(long)]
    pub no_bulk: bool,
}

pub fn run(ctx: &mut Ctx, args: &ImportArgs) -> Result<u8> {
    let source = ctx.store.source_by_code(&args.source)?;
    let path = ImportPath::choose(args.bulk, args.no_bulk);
    let (summary, _) = with_bulk(ctx, path, bytes_of(&args.files), |ctx| {
        import_files(ctx, &source, &args.files)
    })?;
    if ctx.json {
        print_json(&summary);
    } else {
        print!("{}", super::text::inert(&summary.render()));
    }
    Ok(u8::from(summary.had_problems()))
}

/// Which import path a command-line load takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImportPath {
    /// The bulk path for a first load into an empty database, the normal path otherwise.
    Chosen,
    Bulk,
    Normal,
}

impl ImportPath {
    pub(super) fn choose(bulk: bool, no_bulk: bool) -> Self {
        match (bulk, no_bulk) {
            (true, _) => Self::Bulk,
            (false, true) => Self::Normal,
            (false, false) => Self::Chosen,
        }
    }
}

/// Runs `load` on the bulk path (see `store::bulk`) when asked, when the database holds no
/// entries yet (a first load), when the batch's files (`batch_bytes`) are more than half the
/// size of the database file, or whenever an earlier bulk load left its index builds to do;
/// then does those builds. A load that fails leaves them pending, and the next run finishes
/// them.
///
/// Why half: at 20,000 people (docs/performance.md) an entry cost 111 µs to store on the normal
/// path and 77 µs on the bulk path, whose builds then cost 14 µs for every entry in the
/// database. So the bulk path pays once a batch holds more than about two thirds as many
/// entries as the database has; feed files take about 400 bytes an entry and the database
/// about 650, so that is when the files are about four tenths of the database file.
///
/// Never beside a running server (`store::bulk_lock`): asked for, it is refused; chosen, the
/// normal path is taken instead.
pub(super) fn with_bulk<T>(
    ctx: &mut Ctx,
    path: ImportPath,
    batch_bytes: u64,
    load: impl FnOnce(&mut Ctx) -> Result<T>,
) -> Result<(T, Option<BuildFigures>)> {
    let pending = ctx.store.deferred_builds_pending()?;
    let bulk = pending
        || match path {
            ImportPath::Bulk => true,
            ImportPath::Normal => false,
            ImportPath::Chosen => {
                ctx.store.holds_no_entries()?
                    || batch_bytes > crate::store::database_bytes(ctx.store.path()) / 2
            }
        };
    if !bulk {
        return Ok((load(ctx)?, None));
    }
    let Some(_alone) = bulk_lock::bulk(ctx.store.path())? else {
        if !pending && path == ImportPath::Chosen {
            tell!("A server is running on this database: importing on the normal path.");
            return Ok((load(ctx)?, None));
        }
        let what = if pending {
            "an earlier bulk load's index builds are still to finish; stop the server first"
        } else {
            "a bulk load would leave its search incomplete; stop the server first, or import \
             without --bulk"
        };
        return Err(Error::Invalid(format!(
            "a server is running on the database {}: {what}",
            ctx.store.path().display()
        )));
    };
    // Before anything reads the database: dropping an index of a loaded database reads its
    // pages, and through the map they would count in the load's memory.
    ctx.store.for_bulk_import(bulk_cache_mib())?;
    ctx.store.begin_deferred_builds(&CLOCK.now_text())?;
    let loaded = load(ctx)?;
    ctx.store.for_bulk_import(bulk_cache_mib())?;
    let figures = ctx
        .store
        .finish_deferred_builds(&ctx.config.matching.precedence)?;
    Ok((loaded, Some(figures)))
}

/// The total size of `files`, in bytes (a file that cannot be read counts nothing: its import
/// says why).
pub(super) fn bytes_of(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// The page cache of a command-line import, in MiB; `SHAREDCARE_IMPORT_CACHE_MIB` overrides it
/// (for measuring: see docs/performance.md).
const BULK_CACHE_MIB: i64 = 1024;

fn bulk_cache_mib() -> i64 {
    std::env::var("SHAREDCARE_IMPORT_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|mib| *mib > 0)
        .unwrap_or(BULK_CACHE_MIB)
}

pub(super) fn import_files(
    ctx: &mut Ctx,
    source: &crate::store::SourceRow,
    files: &[PathBuf],
) -> Result<Summary> {
    ctx.store.for_bulk_import(bulk_cache_mib())?;
    // The reader's own connection, to skip parsing files already imported (a load run again).
    let reader = Store::open(ctx.store.path()).ok();
    let bar = progress_bar();
    let mut summary = Summary::default();
    let mut importer = Importer {
        store: &mut ctx.store,
        config: &ctx.config,
        clock: &CLOCK,
    };
    // A second thread reads and parses the files, adapts their units, and serialises their
    // entries and makes their match keys, a few batches ahead of this one, which stores them
    // (see `import::ahead`). It hands over one file at a time and prepares at most one file
    // ahead of the one being stored, so memory holds two parsed files whatever their number.
    let with_search_text = !importer.store.search_index_deferred();
    std::thread::scope(|scope| -> Result<()> {
        let (ahead, ready) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            let known = |sha256: &str| {
                reader
                    .as_ref()
                    .is_some_and(|r| r.file_already_imported(source.id, sha256).unwrap_or(false))
            };
            for path in files {
                let (prepared, feed) = match Prepared::read(source, path, &known) {
                    Ok((prepared, feed)) => (Ok(prepared), feed),
                    Err(e) => (Err(e), None),
                };
                if ahead.send((path, prepared)).is_err() {
                    break;
                }
                if let Some(feed) = feed {
                    feed.run(with_search_text);
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
