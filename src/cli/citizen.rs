//! `sharedcare citizen invite ID|NHS`: an invitation code for a resident, printed alone on the
//! last line (a contract: scripts take that line). Issuing one for a person who already has an
//! account is the lost-device reset.

use super::text::say;
use super::Ctx;
use crate::audit::Actor;
use crate::citizen::invite;
use crate::clock::Clock;
use crate::error::{Error, Result};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Issue a one-time invitation code for a person (by id or NHS number); the code is the
    /// last line printed.
    Invite {
        /// A person id or an NHS number.
        id: String,
    },
    /// Print the public key (a JWK) this service signs its OpenID Connect client assertions
    /// with (`private_key_jwt`), for registration with the provider; made on first use.
    OidcJwk,
}

pub fn run(ctx: &mut Ctx, command: CitizenCommand) -> Result<u8> {
    match command {
        CitizenCommand::OidcJwk => {
            let key = crate::citizen::oidc::key::ClientKey::load_or_create(&ctx.config.data_dir)?;
            let jwk = key.public_jwk();
            if ctx.json {
                super::print_json(&serde_json::json!({ "keys": [jwk] }));
            } else {
                println!("{jwk}");
            }
            Ok(0)
        }
        CitizenCommand::Invite { id } => {
            let person = super::person::find_id(ctx, &id)?;
            let issued = invite::issue(
                &mut ctx.store,
                &Actor::operator(),
                person,
                ctx.config.citizen.invite_valid_hours,
                super::CLOCK.now(),
            )
            .map_err(|e| match e {
                Error::NotFound(_) => Error::NotFound(format!("no person {id}")),
                e => e,
            })?;
            if ctx.json {
                super::print_json(&serde_json::json!({
                    "person": issued.person_id,
                    "expires_at": issued.expires_at,
                    "resets_account": issued.resets,
                    "code": issued.code,
                }));
                return Ok(0);
            }
            say!(
                "invitation for person {}, valid until {}{}",
                issued.person_id,
                issued.expires_at,
                if issued.resets {
                    " (resets their account: new password and second factor)"
                } else {
                    ""
                }
            );
            println!("{}", issued.code);
            Ok(0)
        }
    }
}
