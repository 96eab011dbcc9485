//! `sharedcare demo` without `--no-serve`: the sample feeds plus a generated region in one data
//! directory, one demo user per role with a fresh password, and the web and SFTP servers.
//!
//! The `login ROLE USERNAME PASSWORD` lines are a contract: scripts and tests read them.

use super::demo::{load_sources, DemoArgs};
use super::text::say;
use super::{Ctx, CLOCK};
use crate::access::{users, Policy, ProfileInput};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use std::path::Path;

/// The demo's organisations, from `sample-feeds/sources.toml`: the acute trust, the GP
/// practice and the council whose feeds the sample people come from.
const ACUTE_TRUST: &str = "R9W";
const GP_PRACTICE: &str = "X99001";
const COUNCIL: &str = "L9W01";

/// One demo user per role a person trying the product would want to see it as.
const DEMO_USERS: &[(&str, &str, &str)] = &[
    ("admin", "demo-admin", ACUTE_TRUST),
    ("acute-clinician", "demo-hospital", ACUTE_TRUST),
    ("gp-clinician", "demo-gp", GP_PRACTICE),
    ("social-worker", "demo-social", COUNCIL),
    ("privacy-officer", "demo-privacy", ACUTE_TRUST),
    ("analyst", "demo-analyst", ACUTE_TRUST),
];

/// The sample resident a demo invitation is for: Margaret Thompson of the sample feeds.
const DEMO_CITIZEN_NHS: &str = "9994837567";

/// The generated region's seed: the same people on every machine.
const REGION_SEED: u64 = 1;

/// Left in a data directory the demo made, so that it is reused, and a real one refused.
const MARKER: &str = "demo-data-directory";

pub fn run(data_dir: &Path, json: bool, args: &DemoArgs) -> Result<u8> {
    let started = std::time::Instant::now();
    refuse_a_real_data_directory(data_dir)?;
    let mut ctx = Ctx::open(data_dir, json)?;
    crate::data_dir::write_private(
        &data_dir.join(MARKER),
        b"Made by `sharedcare demo`: synthetic people and demo users only.\n",
    )
    .map_err(|source| Error::Io {
        doing: "write",
        path: data_dir.join(MARKER),
        source,
    })?;
    let mut all = load_sources(&mut ctx, &args.from, &mut |_, _| {})?;
    if args.people > 0 {
        let region = region_feeds(data_dir, args.people)?;
        let summary = load_sources(&mut ctx, &region, &mut |_, _| {})?;
        all.files.extend(summary.files);
    }
    // The analyst's dashboard reads the population job's figures: computed once now rather
    // than at the job's first 06:00.
    crate::jobs::run_recorded("population", &ctx.config, &super::CLOCK, || {
        let read = crate::population::Read::Changed;
        let r = crate::population::refresh(&ctx.config, &mut ctx.store, &super::CLOCK, read)?;
        let summary = r.summary();
        Ok((r, summary))
    })?;
    let stats = ctx.store.stats()?;
    let logins = demo_logins(&mut ctx)?;
    let invitation = demo_citizen_invitation(&mut ctx)?;
    let fingerprint = crate::app::certificate_fingerprint(&ctx.config)?;
    let config = ctx.config.clone();
    drop(ctx);
    let imported: usize = all.files.iter().map(|f| f.accepted).sum();
    if json {
        super::print_json(&serde_json::json!({
            "data_dir": data_dir,
            "persons": stats.persons,
            "entries": stats.entries,
            "messages_imported_now": imported,
            "certificate_sha256": fingerprint,
            "logins": logins.iter().map(|l| serde_json::json!({
                "role": l.role, "username": l.username, "password": l.password,
            })).collect::<Vec<_>>(),
            "citizen_invitation": invitation.as_ref().map(|code| serde_json::json!({
                "nhs_number": DEMO_CITIZEN_NHS, "code": code,
            })),
        }));
    } else {
        say!("Demo data directory: {}", data_dir.display());
        say!(
            "  {} persons, {} entries ({} messages and rows imported now; files already \
             imported are skipped)",
            stats.persons,
            stats.entries,
            imported
        );
        say!("  ready in {:.1} s", started.elapsed().as_secs_f64());
        say!("TLS certificate SHA-256 fingerprint: {fingerprint}");
        say!("Demo users (passwords are new on every run of `sharedcare demo`; this is the only place they are shown):");
        for l in &logins {
            say!("login {} {} {}", l.role, l.username, l.password);
        }
        if let Some(code) = &invitation {
            say!(
                "A resident's view: open /citizen/start and sign up as Margaret Thompson with \
                 this one-time invitation code (it replaces any account made on an earlier run):"
            );
            say!("citizen-invitation {DEMO_CITIZEN_NHS} {code}");
        }
        say!("Stop the demo with Ctrl-C; run `sharedcare demo` again to start it over this data.");
    }
    crate::app::serve(
        config,
        crate::app::ServeOptions {
            listen: Some(args.listen.clone()),
            insecure_http: false,
            sftp_listen: Some(args.sftp_listen.clone()),
        },
    )?;
    Ok(0)
}

/// The demo adds synthetic people and users with printed passwords: never to a database it did
/// not make itself.
fn refuse_a_real_data_directory(data_dir: &Path) -> Result<()> {
    let database = data_dir.join("sharedcare.db");
    if database.exists() && !data_dir.join(MARKER).exists() {
        return Err(Error::Invalid(format!(
            "{} holds a database `sharedcare demo` did not make; the demo adds synthetic people \
             and users with printed passwords, so it refuses. Give it a data directory of its \
             own: sharedcare --data-dir ./sharedcare-demo demo",
            data_dir.display()
        )));
    }
    Ok(())
}

/// The generated region's feeds, written once into the data directory and reused after.
fn region_feeds(data_dir: &Path, people: u64) -> Result<std::path::PathBuf> {
    let dir = data_dir.join(format!("demo-region-{people}"));
    if !dir.join("sources.toml").is_file() {
        crate::demo::generate(&dir, people, REGION_SEED, None, &mut |_, _| {})?;
    }
    Ok(dir)
}

struct Login {
    role: &'static str,
    username: &'static str,
    password: String,
}

/// A one-time invitation code for the sample resident, so the citizens' pages can be tried;
/// `None` when the sample feeds were not loaded (no such person).
fn demo_citizen_invitation(ctx: &mut Ctx) -> Result<Option<String>> {
    let Ok(person) = super::person::find_id(ctx, DEMO_CITIZEN_NHS) else {
        return Ok(None);
    };
    let issued = crate::citizen::invite::issue(
        &mut ctx.store,
        &Actor::operator(),
        person,
        ctx.config.citizen.invite_valid_hours,
        CLOCK.now(),
    )?;
    Ok(Some(issued.code))
}

/// Creates each demo user, or gives an existing one a new password (which ends their
/// sessions): the passwords printed are always the ones that work.
fn demo_logins(ctx: &mut Ctx) -> Result<Vec<Login>> {
    let policy = Policy::load(ctx.config.access.policy.as_deref())?;
    let actor = Actor::operator();
    let mut logins = Vec::new();
    for &(role, username, org) in DEMO_USERS {
        if policy.role(role).is_none() {
            continue;
        }
        let password = new_password()?;
        match ctx.store.user_by_name(username)? {
            Some(user) => users::set_password(
                &mut ctx.store,
                &actor,
                user.id,
                &password,
                None,
                CLOCK.now(),
            )?,
            None => {
                users::add_user(
                    &mut ctx.store,
                    &policy,
                    &actor,
                    username,
                    &ProfileInput::new(role, org, None),
                    &password,
                    None,
                    CLOCK.now(),
                )?;
            }
        }
        logins.push(Login {
            role,
            username,
            password,
        });
    }
    Ok(logins)
}

/// Twenty random letters and digits (about 100 bits), in groups of five to be typed; no
/// characters that look alike (0/O, 1/l/I).
fn new_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("no randomness available for a password: {e}")))?;
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b % 32)]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_passwords_are_long_and_differ() {
        let a = super::new_password().unwrap();
        let b = super::new_password().unwrap();
        assert_eq!(a.len(), 23);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
    }
}
