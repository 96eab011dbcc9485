//! `sharedcare user add|add-role|remove-role|passwd|disable|list` and
//! `sharedcare token create|revoke`.

use super::{audit, print_json, read_password, Ctx, CLOCK};
use crate::access::users::{check_username, new_password};
use crate::access::{secret, Policy, ProfileInput};
use crate::audit::Action;
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
    },
    /// Revoke an API token by its id.
    Revoke { id: i64 },
}

fn existing(ctx: &Ctx, name: &str) -> Result<crate::store::UserRow> {
    ctx.store.user_by_name(name)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no user called {name}; `sharedcare user list` shows them"
        ))
    })
}

/// The profile as typed, refused when the access policy does not define its role or the
/// organisation is not an ODS code.
fn checked_profile(ctx: &Ctx, role: &str, org: &str, team: Option<&str>) -> Result<ProfileInput> {
    let input = ProfileInput::new(role, org, team);
    input.check(&Policy::load(ctx.config.access.policy.as_deref())?)?;
    Ok(input)
}

pub fn run(ctx: &mut Ctx, cmd: UserCommand) -> Result<u8> {
    let now = CLOCK.now_text();
    match cmd {
        UserCommand::Add {
            name,
            role,
            org,
            team,
            ..
        } => {
            check_username(&name)?;
            let p = checked_profile(ctx, &role, &org, team.as_deref())?;
            let hash = new_password(&read_password()?, None)?;
            let tx = ctx.store.begin()?;
            let id = tx.add_user(&name, &p.role, &p.org, p.team.as_deref(), &hash, &now)?;
            tx.commit()?;
            audit(ctx, Action::UserAdd, &format!("{name} as {}", p.label()))?;
            println!("user {name} created (id {id})");
        }
        UserCommand::AddRole {
            name,
            role,
            org,
            team,
        } => {
            let p = checked_profile(ctx, &role, &org, team.as_deref())?;
            let user = existing(ctx, &name)?;
            let tx = ctx.store.begin()?;
            tx.add_profile(user.id, &p.role, &p.org, p.team.as_deref(), &now)?;
            tx.commit()?;
            let profile = p.label();
            audit(ctx, Action::UserAddRole, &format!("{name}: {profile}"))?;
            println!("{name} may now act as {profile}");
        }
        UserCommand::RemoveRole {
            name,
            role,
            org,
            team,
        } => {
            let user = existing(ctx, &name)?;
            let wanted = ProfileInput::new(&role, &org, team.as_deref());
            let profile = ctx
                .store
                .profiles_of(&user)?
                .into_iter()
                .find(|p| p.role == wanted.role && p.org == wanted.org && p.team == wanted.team)
                .ok_or_else(|| {
                    Error::NotFound(format!("{name} holds no role {}", wanted.label()))
                })?;
            let tx = ctx.store.begin()?;
            tx.remove_profile(profile.id, &now)?;
            tx.commit()?;
            audit(
                ctx,
                Action::UserRemoveRole,
                &format!("{name}: {}", profile.label()),
            )?;
            println!(
                "{name} no longer acts as {}; sessions and API tokens in that role ended",
                profile.label()
            );
        }
        UserCommand::Passwd { name, .. } => {
            let user = existing(ctx, &name)?;
            let hash = new_password(&read_password()?, None)?;
            let tx = ctx.store.begin()?;
            tx.set_password(user.id, &hash, &now)?;
            tx.commit()?;
            audit(ctx, Action::UserPasswd, &name)?;
            println!("password changed for {name}; their sessions have ended");
        }
        UserCommand::Disable { name } => {
            let user = existing(ctx, &name)?;
            let tx = ctx.store.begin()?;
            tx.disable_user(user.id, &now)?;
            tx.commit()?;
            audit(ctx, Action::UserDisable, &name)?;
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
    let now = CLOCK.now_text();
    match cmd {
        TokenCommand::Create { user, role } => {
            let u = existing(ctx, &user)?;
            if u.disabled {
                return Err(Error::Invalid(format!("user {user} is disabled")));
            }
            let profile = ctx
                .store
                .profiles_of(&u)?
                .into_iter()
                .find(|p| role.as_ref().is_none_or(|r| *r == p.role))
                .ok_or_else(|| Error::Invalid(format!("{user} holds no such role")))?;
            let token = secret::new_token().map_err(Error::Invalid)?;
            let tx = ctx.store.begin()?;
            let id = tx.add_api_token(&secret::token_hash(&token), u.id, profile.id, &now)?;
            tx.commit()?;
            audit(ctx, Action::TokenCreate, &format!("token {id} for {user}"))?;
            println!("API token {id} for {user}; it is shown once, keep it secret:");
            println!("{token}");
        }
        TokenCommand::Revoke { id } => {
            let tx = ctx.store.begin()?;
            let revoked = tx.revoke_api_token(id, &now)?;
            tx.commit()?;
            if !revoked {
                return Err(Error::NotFound(format!("no live API token {id}")));
            }
            audit(ctx, Action::TokenRevoke, &format!("token {id}"))?;
            println!("API token {id} revoked");
        }
    }
    Ok(0)
}
