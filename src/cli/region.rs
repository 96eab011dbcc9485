//! `sharedcare demo generate|load|check`: a synthetic region at any size, loaded and measured.
//!
//! `generate` writes feeds (see [`crate::demo`]); `load` registers the sources a generated
//! folder lists and imports every file through the same path as `sharedcare import`, then
//! prints the figures a benchmark needs; `check` compares the links in the database with the
//! generator's `truth.csv` and prints recall and precision over pairs of source records.

use super::text::{say, tell};
use super::{demo::load_sources, demo::sources_bytes, import::with_bulk, print_json, Ctx};
use crate::error::{Error, Result};
use crate::store::Linkage;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum RegionCommand {
    /// Write a synthetic region's feed files (or, with --day, one day's delta).
    Generate {
        /// How many people live in the region.
        #[arg(long)]
        people: u64,
        /// The folder to write (one sub-folder per source, sources.toml, truth.csv).
        #[arg(long)]
        out: PathBuf,
        /// The same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write day D's new and changed messages into OUT/day-D/ instead.
        #[arg(long)]
        day: Option<u32>,
    },
    /// Register the sources in DIR/sources.toml and import every folder, with figures.
    Load {
        dir: PathBuf,
        /// Then write the same entry rows with a bare rusqlite loader, for the ratio.
        #[arg(long)]
        compare_bare: bool,
        /// Take the bulk path even into a database that holds entries (a backfill); a first
        /// load into an empty database takes it anyway.
        #[arg(long, conflicts_with = "no_bulk")]
        bulk: bool,
        /// Take the normal path even for a first load (for comparing the two).
        #[arg(long)]
        no_bulk: bool,
    },
    /// Write this data directory's entry rows with a bare rusqlite loader (one prepared
    /// INSERT with the same unique key, one secondary index, a full-text index over the same
    /// text built at the end; no matching) into a scratch database, and print its rate.
    Bare,
    /// Recall and precision of the links in the database against DIR/truth.csv.
    Check { dir: PathBuf },
}

pub fn run(data_dir: &Path, json: bool, cmd: &RegionCommand) -> Result<u8> {
    match cmd {
        RegionCommand::Generate {
            people,
            out,
            seed,
            day,
        } => generate(json, *people, out, *seed, *day),
        RegionCommand::Load {
            dir,
            compare_bare,
            bulk,
            no_bulk,
        } => load(
            data_dir,
            json,
            dir,
            *compare_bare,
            super::import::ImportPath::choose(*bulk, *no_bulk),
        ),
        RegionCommand::Bare => {
            let ctx = Ctx::open(data_dir, json)?;
            let b = bare(&ctx)?;
            if json {
                print_json(&b);
            } else {
                print!("{}", super::text::inert(&render_bare(&b, None)));
            }
            Ok(0)
        }
        RegionCommand::Check { dir } => {
            let ctx = Ctx::open(data_dir, json)?;
            let l = check(&ctx, dir)?;
            if json {
                print_json(&l);
            } else {
                print!("{}", super::text::inert(&render_linkage(&l)));
            }
            Ok(0)
        }
    }
}

fn bar(template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn generate(json: bool, people: u64, out: &Path, seed: u64, day: Option<u32>) -> Result<u8> {
    let bar = bar("generating [{bar:40}] {pos}/{len} people, {per_sec}, eta {eta}");
    let summary = crate::demo::generate(out, people, seed, day, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if json {
        print_json(&summary);
    } else {
        say!("people            {}", summary.people);
        say!("sources           {}", summary.sources);
        say!("messages and rows {}", summary.messages);
        say!("truth rows        {}", summary.truth_rows);
        say!("planted faults    {} (see faults.csv)", summary.faults);
        say!("seconds           {:.1}", summary.seconds);
        if let Some(kib) = summary.peak_rss_kib {
            say!("peak memory       {} MiB", kib / 1024);
        }
        say!("written to        {}", summary.out.display());
    }
    Ok(0)
}

#[derive(Debug, Serialize)]
struct LoadFigures {
    files: usize,
    messages: usize,
    accepted: usize,
    rejects: usize,
    /// Reject reasons with how often each was given.
    reject_reasons: BTreeMap<String, usize>,
    quarantined: usize,
    persons: i64,
    source_persons: i64,
    entries: i64,
    review_queue: i64,
    seconds: f64,
    /// The index builds a bulk load did at its end (their time is part of `seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    deferred_builds: Option<crate::store::BuildFigures>,
    messages_per_second: f64,
    entries_per_second: f64,
    peak_rss_kib: Option<u64>,
    database_bytes: u64,
    bytes_per_entry: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkage: Option<Linkage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bare: Option<crate::store::BareLoad>,
    /// The import's entries/s as a share of the bare loader's rows/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio_to_bare: Option<f64>,
}

/// The bare loader's run, in a scratch database beside the real one, removed afterwards.
fn bare(ctx: &Ctx) -> Result<crate::store::BareLoad> {
    let scratch = ctx.config.data_dir.join("bare-loader.db");
    let remove = || {
        for file in crate::store::database_files(&scratch) {
            let _ = std::fs::remove_file(file);
        }
    };
    remove();
    let result = ctx.store.bare_load_into(&scratch);
    remove();
    result
}

fn render_bare(b: &crate::store::BareLoad, import_rate: Option<f64>) -> String {
    let mut out = format!(
        "bare loader       {} rows in {:.1} s: {:.0} rows/s, {} MiB\n",
        b.rows,
        b.seconds,
        b.rows_per_second,
        b.database_bytes / 1_048_576
    );
    if let Some(rate) = import_rate {
        out.push_str(&format!(
            "import/bare       {:.1} %\n",
            100.0 * rate / b.rows_per_second.max(1e-9)
        ));
    }
    out
}

fn load(
    data_dir: &Path,
    json: bool,
    dir: &Path,
    compare_bare: bool,
    path: super::import::ImportPath,
) -> Result<u8> {
    let mut ctx = Ctx::open(data_dir, json)?;
    let started = std::time::Instant::now();
    let before = ctx.store.stats()?;
    let quiet = json || !std::io::stderr().is_terminal();
    let batch = sources_bytes(dir)?;
    let (summary, builds) = with_bulk(&mut ctx, path, batch, |ctx| {
        load_sources(ctx, dir, &mut |code, files| {
            if !quiet {
                tell!("{code}: {files} files");
            }
        })
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = ctx.store.stats()?;
    let mut reasons = BTreeMap::new();
    let mut quarantined = 0;
    for f in &summary.files {
        for (_, reason) in &f.rejects {
            *reasons.entry(reason.clone()).or_insert(0) += 1;
        }
        if let crate::import::FileOutcome::Quarantined { reason } = &f.outcome {
            quarantined += 1;
            *reasons
                .entry(format!("file quarantined: {reason}"))
                .or_insert(0) += 1;
        }
    }
    let messages: usize = summary.files.iter().map(|f| f.units).sum();
    let new_entries = (stats.entries - before.entries).max(0);
    let linkage = if dir.join("truth.csv").is_file() {
        Some(check(&ctx, dir)?)
    } else {
        None
    };
    let entries_per_second = new_entries as f64 / seconds.max(1e-9);
    ctx.store.checkpoint()?;
    let database_bytes = crate::store::database_bytes(&ctx.config.database_path());
    let bare = if compare_bare {
        Some(bare(&ctx)?)
    } else {
        None
    };
    let figures = LoadFigures {
        files: summary.files.len(),
        messages,
        accepted: summary.files.iter().map(|f| f.accepted).sum(),
        rejects: summary.files.iter().map(|f| f.rejects.len()).sum(),
        reject_reasons: reasons,
        quarantined,
        persons: stats.persons,
        source_persons: stats.source_persons,
        entries: stats.entries,
        review_queue: stats.review_queue,
        seconds,
        deferred_builds: builds,
        messages_per_second: messages as f64 / seconds.max(1e-9),
        entries_per_second,
        peak_rss_kib: crate::demo::peak_rss_kib(),
        database_bytes,
        bytes_per_entry: database_bytes as f64 / (stats.entries.max(1) as f64),
        linkage,
        ratio_to_bare: bare
            .as_ref()
            .map(|b| entries_per_second / b.rows_per_second.max(1e-9)),
        bare,
    };
    if json {
        print_json(&figures);
    } else {
        say!(
            "files             {} ({} quarantined)",
            figures.files,
            figures.quarantined
        );
        say!(
            "messages and rows {} ({} accepted)",
            figures.messages,
            figures.accepted
        );
        say!("rejects           {}", figures.rejects);
        for (reason, n) in &figures.reject_reasons {
            say!("  {n:>6}  {reason}");
        }
        say!("persons           {}", figures.persons);
        say!("source persons    {}", figures.source_persons);
        say!("entries           {}", figures.entries);
        say!("review queue      {}", figures.review_queue);
        say!("wall time         {:.1} s", figures.seconds);
        if let Some(b) = &figures.deferred_builds {
            say!(
                "  index builds    {:.1} s ({} indexes, {} entries, {} persons)",
                b.seconds,
                b.indexes,
                b.entries_indexed,
                b.persons_indexed
            );
        }
        say!("messages/s        {:.0}", figures.messages_per_second);
        say!("entries/s         {:.0}", figures.entries_per_second);
        if let Some(kib) = figures.peak_rss_kib {
            say!("peak memory       {} MiB", kib / 1024);
        }
        say!(
            "database          {} MiB, {:.0} bytes/entry",
            figures.database_bytes / 1_048_576,
            figures.bytes_per_entry
        );
        if let Some(b) = &figures.bare {
            print!(
                "{}",
                super::text::inert(&render_bare(b, Some(figures.entries_per_second)))
            );
        }
        if let Some(l) = &figures.linkage {
            print!("{}", super::text::inert(&render_linkage(l)));
        }
    }
    Ok(u8::from(summary.had_problems()))
}

/// Reads `dir/truth.csv` a row at a time into the store's comparison.
fn check(ctx: &Ctx, dir: &Path) -> Result<Linkage> {
    let path = dir.join("truth.csv");
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    let mut bad = None;
    let mut rows = reader.records().map_while(|r| match r {
        Ok(r) => match (r.get(0), r.get(1), r.get(2).and_then(|p| p.parse().ok())) {
            (Some(s), Some(l), Some(p)) => Some((s.to_string(), l.to_string(), p)),
            _ => {
                bad = Some(format!(
                    "a row of {} is not source,local_id,person",
                    path.display()
                ));
                None
            }
        },
        Err(e) => {
            bad = Some(format!("{}: {e}", path.display()));
            None
        }
    });
    let linkage = ctx.store.linkage(&mut rows);
    drop(rows);
    let linkage = linkage?;
    match bad {
        Some(b) => Err(Error::Invalid(b)),
        None => Ok(linkage),
    }
}

fn render_linkage(l: &Linkage) -> String {
    format!(
        "matching (against truth.csv, over pairs of source records)\n  records           {} ({} not imported, {} unlinked)\n  recall            {:.5} ({} of {} true pairs linked)\n  precision         {:.5} ({} of {} linked pairs true)\n  false merges      {} persons hold more than one true person\n  review queue      {}\n",
        l.records, l.missing, l.unlinked, l.recall, l.correct_pairs, l.true_pairs, l.precision,
        l.correct_pairs, l.linked_pairs, l.false_merges, l.review_queue
    )
}
