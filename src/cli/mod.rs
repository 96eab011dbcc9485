//! The command line: parsing, and one function per command. Exit codes are a contract:
//! 0 success, 1 some input was rejected (or an operation failed), 2 usage or configuration error,
//! 3 the audit trail is broken or cannot be written.

mod audit;
mod citizen;
mod demo;
mod demo_serve;
mod feeds;
mod import;
mod lab_codes;
mod misuse;
mod person;
mod policy;
mod population;
mod region;
mod replication;
mod review;
mod sftp;
mod source;
pub mod text;
mod user;

use crate::audit::{Action, Actor};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use text::{say, tell};

#[derive(Debug, Parser)]
#[command(
    name = "sharedcare",
    version,
    about = "A shared health and social care record for a region"
)]
pub struct Cli {
    /// Where the database and configuration live.
    #[arg(
        long,
        global = true,
        env = "SHAREDCARE_DATA_DIR",
        default_value = "./sharedcare-data"
    )]
    pub data_dir: PathBuf,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do; with none, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve {
        /// Address and port to listen on, e.g. 0.0.0.0:8443 (overrides the configuration).
        #[arg(long)]
        listen: Option<String>,
        /// Serve plain HTTP: only behind a reverse proxy that terminates TLS.
        #[arg(long)]
        insecure_http: bool,
        /// Address and port of the SFTP server, e.g. 0.0.0.0:2222 (overrides the
        /// configuration); blank disables it.
        #[arg(long)]
        sftp_listen: Option<String>,
    },
    /// Register and list the systems that send feeds.
    #[command(subcommand)]
    Source(source::SourceCommand),
    /// Import feed files for a source.
    Import(import::ImportArgs),
    /// Find a person or show their whole record.
    #[command(subcommand)]
    Person(person::PersonCommand),
    /// Export a person's record as a FHIR R4 Bundle (collection) on stdout.
    Export(person::ExportArgs),
    /// Counts of persons, entries, files, rejects and the review queue.
    Stats,
    /// The queue of possible matches.
    #[command(subcommand)]
    Review(review::ReviewCommand),
    /// Undo the latest merge or link into a person, restoring the earlier links exactly.
    Unmerge {
        /// The person id.
        person: i64,
    },
    /// Build (or reuse) a demo data directory, create a demo user per role and serve it;
    /// `--no-serve` only imports the sample feeds and shows what loaded.
    Demo(demo::DemoArgs),
    /// Manage the people who sign in.
    #[command(subcommand)]
    User(user::UserCommand),
    /// The access policy: roles, what they may do, which data they see.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// The lab code table results are grouped and trended by.
    #[command(subcommand)]
    LabCodes(lab_codes::LabCodesCommand),
    /// API tokens for the FHIR API.
    #[command(subcommand)]
    Token(user::TokenCommand),
    /// The SFTP server's host key, and the keys and passwords of the sources' accounts.
    #[command(subcommand)]
    Sftp(sftp::SftpCommand),
    /// Feed health: per source last file, last success, traffic, rejects, quarantine, overdue.
    Feeds(feeds::FeedsArgs),
    /// Scan every source's inbox once: claim ready files, import them, then exit.
    Scan(feeds::ScanArgs),
    /// Back the database up into DATA_DIR/backups/ (online; verified; rotated).
    Backup,
    /// Replace the database with a backup (the server must be stopped); an encrypted one
    /// (.db.age) with `--identity FILE`.
    Restore(feeds::RestoreArgs),
    /// The restore drill, now: the newest backup restored into a scratch directory and
    /// checked (integrity, audit chain, counts), recorded for feed health. Exits 3 when a
    /// check fails.
    RestoreDrill,
    /// Is this installation fit to keep running: config, certificate expiry, key permissions,
    /// database integrity, disk space. Exits 1 when something needs attention.
    Check,
    /// The tamper-evident audit trail: verify its chain.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Watching for misuse: run the rules now, print them, say who a staff user is, flag a
    /// VIP or member of staff.
    #[command(subcommand)]
    Misuse(misuse::MisuseCommand),
    /// The population dashboard's figures: recompute them now, list the condition set.
    #[command(subcommand)]
    Population(population::PopulationCommand),
    /// Continuous replication by Litestream: its configuration, a standby brought up from the
    /// replica, a restore drill.
    #[command(subcommand)]
    Replication(replication::ReplicationCommand),
    /// Residents who see their own record: invitation codes.
    #[command(subcommand)]
    Citizen(citizen::CitizenCommand),
}

/// What every command needs.
pub struct Ctx {
    pub config: Config,
    pub store: Store,
    pub json: bool,
}

impl Ctx {
    fn open(data_dir: &std::path::Path, json: bool) -> Result<Self> {
        crate::data_dir::create_private_dir(data_dir).map_err(|source| Error::Io {
            doing: "create the data directory",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let config = Config::load(data_dir)?;
        crate::ops::log::configure(config.log.format);
        // The importers' banner flags read the operator's condition set, as the dashboard does.
        crate::population::conditions::install(crate::population::ConditionSet::load(
            config.population.conditions.as_deref(),
        )?);
        crate::data_dir::open(&config, false)?;
        config.database.apply();
        if config.replication.replica.is_some() {
            crate::store::leave_checkpoints_to_litestream();
        }
        let store = crate::audit::open_store(&config)?;
        Ok(Self {
            config,
            store,
            json,
        })
    }
}

pub static CLOCK: SystemClock = SystemClock;

/// Runs a parsed command; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let command = cli.command.unwrap_or(Command::Serve {
        listen: None,
        insecure_http: false,
        sftp_listen: None,
    });
    if let Command::Demo(args) = &command {
        return demo::run(&cli.data_dir, cli.json, args);
    }
    if let Command::Check = &command {
        // Reads only: nothing is created, tightened or migrated before it looks.
        let config = Config::load(&cli.data_dir)?;
        return Ok(check(&config, cli.json));
    }
    if let Command::Restore(args) = &command {
        // No connection of our own may be open while the file is swapped.
        let config = Config::load(&cli.data_dir)?;
        crate::data_dir::open(&config, false)?;
        return feeds::restore(&config, cli.json, args);
    }
    if let Command::Replication(c) = &command {
        // No connection of our own may be open while a database is restored, and a standby
        // directory must not be given a new audit key by opening it.
        return replication::run(&cli.data_dir, cli.json, c);
    }
    let mut ctx = Ctx::open(&cli.data_dir, cli.json)?;
    match command {
        Command::Serve {
            listen,
            insecure_http,
            sftp_listen,
        } => {
            crate::app::serve(
                ctx.config,
                crate::app::ServeOptions {
                    listen,
                    insecure_http,
                    sftp_listen,
                },
            )?;
            Ok(0)
        }
        Command::Source(c) => source::run(&mut ctx, c),
        Command::Import(a) => import::run(&mut ctx, &a),
        Command::Person(c) => person::run(&mut ctx, c),
        Command::Export(a) => person::export(&mut ctx, &a),
        Command::Stats => stats(&ctx),
        Command::Review(c) => review::run(&mut ctx, c),
        Command::Unmerge { person } => review::unmerge(&mut ctx, person),
        Command::Demo(_) => Ok(0),
        Command::User(c) => user::run(&mut ctx, c),
        Command::Token(c) => user::token(&mut ctx, c),
        Command::Policy(c) => policy::run(&ctx, c),
        Command::LabCodes(c) => lab_codes::run(&ctx, c),
        Command::Sftp(c) => sftp::run(&mut ctx, c),
        Command::Feeds(a) => feeds::feeds(&mut ctx, &a),
        Command::Scan(a) => feeds::scan(&mut ctx, &a),
        Command::Backup => feeds::backup(&mut ctx),
        Command::RestoreDrill => feeds::restore_drill(&mut ctx),
        Command::Restore(_) | Command::Check => Ok(0),
        Command::Audit(c) => audit::run(&mut ctx, c),
        Command::Misuse(c) => misuse::run(&mut ctx, c),
        Command::Population(c) => population::run(&mut ctx, c),
        Command::Replication(_) => Ok(0),
        Command::Citizen(c) => citizen::run(&mut ctx, c),
    }
}

fn check(config: &Config, json: bool) -> u8 {
    use crate::clock::Clock;
    let findings = crate::ops::check::run(config, CLOCK.now());
    let attention = findings.iter().filter(|f| !f.ok).count();
    if json {
        print_json(&serde_json::json!({ "ok": attention == 0, "findings": findings }));
    } else {
        for f in &findings {
            say!(
                "{:<9} {:<13} {}",
                if f.ok { "ok" } else { "ATTENTION" },
                f.what,
                f.detail
            );
        }
        if attention > 0 {
            say!("{attention} thing(s) need attention");
        }
    }
    u8::from(attention > 0)
}

fn stats(ctx: &Ctx) -> Result<u8> {
    let s = ctx.store.stats()?;
    if ctx.json {
        print_json(&s);
        return Ok(0);
    }
    say!("persons           {}", s.persons);
    say!("source persons    {}", s.source_persons);
    say!(
        "entries           {} (+{} earlier versions kept)",
        s.entries,
        s.entry_history
    );
    for (c, n) in &s.entries_by_category {
        say!("  {c:<18} {n}");
    }
    let files: Vec<String> = s
        .files_by_state
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    say!(
        "files             {}",
        if files.is_empty() {
            "none".into()
        } else {
            files.join(", ")
        }
    );
    say!("rejects           {}", s.rejects);
    say!("review queue      {}", s.review_queue);
    Ok(0)
}

/// Runs a use case (a function of the room that owns the change, which audits it in the
/// change's own transaction) as the operator at the terminal: `cli:` and the login of the
/// process's real user id ([`Actor::operator`]), never `$USER`.
pub(crate) fn as_operator<T>(
    ctx: &mut Ctx,
    use_case: impl FnOnce(&mut Store, &Actor) -> Result<T>,
) -> Result<T> {
    use_case(&mut ctx.store, &Actor::operator())
}

/// Records that the operator was shown a person's data, in its own transaction, before it is
/// printed.
pub(crate) fn audit_person(
    ctx: &mut Ctx,
    action: Action,
    person_id: i64,
    detail: &str,
    reason: Option<&str>,
) -> Result<()> {
    audit_event(ctx, action, Some(person_id), detail, reason)
}

fn audit_event(
    ctx: &mut Ctx,
    action: Action,
    person_id: Option<i64>,
    detail: &str,
    reason: Option<&str>,
) -> Result<()> {
    use crate::clock::Clock;
    let actor = Actor::operator();
    let write = |store: &mut Store| {
        let tx = store.begin()?;
        tx.audit(
            &crate::store::AuditEvent {
                person_id,
                detail: Some(detail),
                reason,
                ..actor.event(action)
            },
            &CLOCK.now_text(),
        )?;
        tx.commit()
    };
    write(&mut ctx.store).map_err(unwritten)
}

/// Records that the operator is about to be shown `people` (one `action` event each, or one
/// naming no one when the list is empty, so that the search itself is on record), in one
/// committed transaction. Called before anything is printed: when it fails, nothing is, and
/// the command exits 3.
pub(crate) fn audit_shown(
    ctx: &mut Ctx,
    action: Action,
    people: &[i64],
    detail: &str,
) -> Result<()> {
    use crate::clock::Clock;
    let actor = Actor::operator();
    let mut unique = people.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let targets: Vec<Option<i64>> = if unique.is_empty() {
        vec![None]
    } else {
        unique.into_iter().map(Some).collect()
    };
    let now = CLOCK.now_text();
    let write = |store: &mut Store| {
        let tx = store.begin()?;
        for &person_id in &targets {
            tx.audit(
                &crate::store::AuditEvent {
                    person_id,
                    detail: Some(detail),
                    ..actor.event(action)
                },
                &now,
            )?;
        }
        tx.commit()
    };
    write(&mut ctx.store).map_err(unwritten)
}

/// A failed audit write as the command line reports it: exit code 3, whatever the cause.
fn unwritten(e: Error) -> Error {
    match e {
        Error::Audit(_) => e,
        other => Error::Audit(format!("could not write the audit trail: {other}")),
    }
}

/// A password from standard input (passwords never go on the command line), without the
/// final line break.
pub(crate) fn read_password() -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        Error::Invalid(format!(
            "could not read the password from standard input: {e}"
        ))
    })?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{}", text::inert_json(&s)),
        Err(e) => tell!("error: could not write JSON: {e}"),
    }
}
