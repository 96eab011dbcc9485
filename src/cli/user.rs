//! `sharedcare user add|passwd|disable|list` and `sharedcare token create|revoke`.

use super::{audit, print_json, read_password, Ctx, CLOCK};
use crate::access::{password, secret, Role};
use crate::clock::Clock;
use crate::error::{Error, Result};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long, value_parser = ["clinician", "social-worker", "admin", "privacy-officer"])]
        role: String,
        /// ODS code of the user's organisation.
        #[arg(long)]
        org: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
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

pub fn run(ctx: &mut Ctx, cmd: UserCommand) -> Result<u8> {
    let now = CLOCK.now_text();
    match cmd {
        UserCommand::Add {
            name, role, org, ..
        } => {
            let role =
                Role::parse(&role).ok_or_else(|| Error::Invalid(format!("unknown role {role}")))?;
            let hash = password::hash(&read_password()?).map_err(Error::Invalid)?;
            let tx = ctx.store.begin()?;
            let id = tx.add_user(&name, role.as_str(), &org, &hash, &now)?;
            tx.commit()?;
            audit(
                ctx,
                "user-add",
                &format!("{name} as {} for {org}", role.as_str()),
            )?;
            println!("user {name} created (id {id})");
        }
        UserCommand::Passwd { name, .. } => {
            let user = existing(ctx, &name)?;
            let hash = password::hash(&read_password()?).map_err(Error::Invalid)?;
            let tx = ctx.store.begin()?;
            tx.set_password(user.id, &hash, &now)?;
            tx.commit()?;
            audit(ctx, "user-passwd", &name)?;
            println!("password changed for {name}; their sessions have ended");
        }
        UserCommand::Disable { name } => {
            let user = existing(ctx, &name)?;
            let tx = ctx.store.begin()?;
            tx.disable_user(user.id, &now)?;
            tx.commit()?;
            audit(ctx, "user-disable", &name)?;
            println!("user {name} disabled; sessions ended and API tokens revoked");
        }
        UserCommand::List => {
            let users = ctx.store.users()?;
            if ctx.json {
                print_json(&users);
            } else {
                for u in users {
                    println!(
                        "{:<20} {:<16} {:<8} {}",
                        u.username,
                        u.role,
                        u.org,
                        if u.disabled { "disabled" } else { "active" }
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
        TokenCommand::Create { user } => {
            let u = existing(ctx, &user)?;
            if u.disabled {
                return Err(Error::Invalid(format!("user {user} is disabled")));
            }
            let token = secret::new_token().map_err(Error::Invalid)?;
            let tx = ctx.store.begin()?;
            let id = tx.add_api_token(&secret::token_hash(&token), u.id, &now)?;
            tx.commit()?;
            audit(ctx, "token-create", &format!("token {id} for {user}"))?;
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
            audit(ctx, "token-revoke", &format!("token {id}"))?;
            println!("API token {id} revoked");
        }
    }
    Ok(0)
}
