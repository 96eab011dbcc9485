//! `sharedcare user add|add-role|remove-role|passwd|disable|list` and
//! `sharedcare token create|revoke|list`: thin callers of the use cases in
//! `access::users` and `access::tokens`, as the operator (`cli:<login>`). Nobody changes
//! their own roles, here either: the operator may not add or remove a role of the user that
//! has their login name.

use super::{print_json, read_password, Ctx, CLOCK};
use crate::access::{tokens, users, Policy, ProfileInput};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        name: String,
        /// A role of the access policy (`sharedcare policy show` lists them), e.g.
        /// `acute-clinician`, `gp-clinician`, `social-worker-adults`, `admin`.
        #[arg(long)]
        role: String,
        /// ODS code of the user's organisation.
        #[arg(long)]
        org: String,
        /// The team within the organisation, as the feeds name it (social care, mental health).
        #[arg(long)]
        team: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Give a user another role profile (role, organisation, team); they pick one per session.
    AddRole {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        team: Option<String>,
    },
    /// Take a role profile away; sessions and API tokens acting in it end at once.
    RemoveRole {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        team: Option<String>,
    },
    /// Set a new password (read from standard input); ends the user's sessions.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: ends their sessions and revokes their API tokens.
    Disable { name: String },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the token is printed alone on the last line, once.
    Create {
        #[arg(long)]
        user: String,
        /// The role the token acts in, when the user holds several (default: their first).
        #[arg(long)]
        role: Option<String>,
        /// How many days it works (default and most: `api_token_days` in the config, 90).
        #[arg(long)]
        days: Option<i64>,
    },
    /// Revoke an API token by its id.
    Revoke { id: i64 },
    /// List API tokens: user, role, expiry or revocation, last use (never the token).
    List,
}

/// The access policy in force: the roles a profile may name, and the separation of duties.
fn policy(ctx: &Ctx) -> Result<Policy> {
    Policy::load(ctx.config.access.policy.as_deref())
}

pub fn run(ctx: &mut Ctx, cmd: UserCommand) -> Result<u8> {
    let now = CLOCK.now();
    match cmd {
        UserCommand::Add {
            name,
            role,
            org,
            team,
            ..
        } => {
            let policy = policy(ctx)?;
            let profile = ProfileInput::new(&role, &org, team.as_deref());
            let password = read_password()?;
            let id = users::add_user(
                &mut ctx.store,
                &policy,
                &Actor::operator(),
                &name,
                &profile,
                &password,
                None,
                now,
            )?;
            println!("user {name} created (id {id})");
        }
        UserCommand::AddRole {
            name,
            role,
            org,
            team,
        } => {
            let policy = policy(ctx)?;
            let profile = ProfileInput::new(&role, &org, team.as_deref());
            let user = users::named(&ctx.store, &name)?;
            let alert = users::add_role(
                &mut ctx.store,
                &policy,
                &Actor::operator(),
                user.id,
                &profile,
                now,
            )?;
            println!("{name} may now act as {}", profile.label());
            if let Some(reference) = alert {
                println!(
                    "privacy alert {reference} raised: a clinical or privacy role was granted"
                );
            }
        }
        UserCommand::RemoveRole {
            name,
            role,
            org,
            team,
        } => {
            let user = users::named(&ctx.store, &name)?;
            let wanted = ProfileInput::new(&role, &org, team.as_deref());
            let profile = ctx
                .store
                .profiles_of(&user)?
                .into_iter()
                .find(|p| p.role == wanted.role && p.org == wanted.org && p.team == wanted.team)
                .ok_or_else(|| {
                    Error::NotFound(format!("{name} holds no role {}", wanted.label()))
                })?;
            let label =
                users::remove_role(&mut ctx.store, &Actor::operator(), user.id, profile.id, now)?;
            println!(
                "{name} no longer acts as {label}; sessions and API tokens in that role ended"
            );
        }
        UserCommand::Passwd { name, .. } => {
            let user = users::named(&ctx.store, &name)?;
            let password = read_password()?;
            users::set_password(
                &mut ctx.store,
                &Actor::operator(),
                user.id,
                &password,
                None,
                now,
            )?;
            println!(
                "password changed for {name}; their sessions have ended and their API tokens \
                 are revoked"
            );
        }
        UserCommand::Disable { name } => {
            let user = users::named(&ctx.store, &name)?;
            users::disable(&mut ctx.store, &Actor::operator(), user.id, now)?;
            println!("user {name} disabled; sessions ended and API tokens revoked");
        }
        UserCommand::List => {
            let mut listed = Vec::new();
            for u in ctx.store.users()? {
                let profiles = ctx.store.profiles_of(&u)?;
                listed.push((u, profiles));
            }
            if ctx.json {
                let rows: Vec<_> = listed
                    .iter()
                    .map(|(u, p)| {
                        serde_json::json!({
                            "username": u.username,
                            "disabled": u.disabled,
                            "created_at": u.created_at,
                            "profiles": p,
                        })
                    })
                    .collect();
                print_json(&rows);
            } else {
                for (u, profiles) in listed {
                    let labels: Vec<String> = profiles.iter().map(|p| p.label()).collect();
                    println!(
                        "{:<20} {:<8} {}",
                        u.username,
                        if u.disabled { "disabled" } else { "active" },
                        labels.join(" ")
                    );
                }
            }
        }
    }
    Ok(0)
}

pub fn token(ctx: &mut Ctx, cmd: TokenCommand) -> Result<u8> {
    let now = CLOCK.now();
    match cmd {
        TokenCommand::Create { user, role, days } => {
            let made = tokens::create(
                &mut ctx.store,
                &Actor::operator(),
                &user,
                role.as_deref(),
                days,
                ctx.config.access.api_token_days,
                now,
            )?;
            println!(
                "API token {} for {user}, valid until {}; it is shown once, keep it secret:",
                made.id, made.expires_at
            );
            println!("{}", made.token);
        }
        TokenCommand::Revoke { id } => {
            tokens::revoke(&mut ctx.store, &Actor::operator(), id, now)?;
            println!("API token {id} revoked");
        }
        TokenCommand::List => {
            let listed = ctx.store.api_tokens()?;
            if ctx.json {
                print_json(&listed);
            } else {
                for t in listed {
                    let state = match (&t.revoked_at, &t.expires_at) {
                        (Some(at), _) => format!("revoked {at}"),
                        (None, Some(until)) => format!("until {until}"),
                        (None, None) => "no expiry (not valid)".into(),
                    };
                    println!(
                        "{:<6} {:<20} {:<32} {:<32} last used {}",
                        t.id,
                        t.username,
                        t.profile.unwrap_or_default(),
                        state,
                        t.last_used_at.as_deref().unwrap_or("never")
                    );
                }
            }
        }
    }
    Ok(0)
}
