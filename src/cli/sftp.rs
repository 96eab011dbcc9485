//! `sharedcare sftp fingerprint|key|password`: the SFTP server's host key and the accounts
//! sources log in with (one per source, named by the source code).
//!
//! Every change to who may log in is a use case of [`crate::sources::accounts`], audited in the
//! change's own transaction.

use super::text::say;
use super::{as_operator, print_json, read_password, Ctx, CLOCK};
use crate::access::password;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::sources::accounts;
use crate::sources::sftp::keys;
use clap::Subcommand;
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SftpCommand {
    /// Print the SFTP host key's SHA-256 fingerprint (making the key if there is none yet), for
    /// the sender to check on first connection.
    Fingerprint,
    /// The public keys a source's account accepts.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The optional password of a source's account.
    #[command(subcommand)]
    Password(PasswordCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Authorise the public key(s) in FILE (an `id_*.pub` or `authorized_keys` file; `-` reads
    /// standard input) for the account SOURCE.
    Add { source: String, file: PathBuf },
    /// List a source's keys with their fingerprints.
    List { source: String },
    /// Remove a key, named by its fingerprint (`SHA256:…`, as `key list` shows).
    Remove { source: String, fingerprint: String },
}

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Set the password, read from standard input.
    Set {
        source: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Remove the password: only keys work afterwards.
    Clear { source: String },
}

#[derive(serde::Serialize)]
struct KeyLine {
    fingerprint: String,
    algorithm: String,
    added_at: String,
}

pub fn run(ctx: &mut Ctx, cmd: SftpCommand) -> Result<u8> {
    match cmd {
        SftpCommand::Fingerprint => {
            let key = keys::load_or_create_host_key(&ctx.config.data_dir)?;
            let fp = keys::fingerprint(key.public_key());
            if ctx.json {
                print_json(&serde_json::json!({ "fingerprint": fp }));
            } else {
                say!("{fp}");
            }
            Ok(0)
        }
        SftpCommand::Key(KeyCommand::Add { source, file }) => {
            let text = if file.as_os_str() == "-" {
                let mut t = String::new();
                std::io::stdin()
                    .read_to_string(&mut t)
                    .map_err(|e| Error::Invalid(format!("could not read standard input: {e}")))?;
                t
            } else {
                std::fs::read_to_string(&file).map_err(|source| Error::Io {
                    doing: "read",
                    path: file.clone(),
                    source,
                })?
            };
            let parsed = keys::parse_public_keys(&text)
                .map_err(|e| Error::Invalid(format!("{}: {e}", file.display())))?;
            let now = CLOCK.now_text();
            let added = as_operator(ctx, |store, by| {
                accounts::add_keys(store, &source, &parsed, by, &now)
            })?;
            for (fingerprint, new) in added {
                let done = if new {
                    "authorised"
                } else {
                    "already authorised"
                };
                say!("{done} {fingerprint} for {source}");
            }
            Ok(0)
        }
        SftpCommand::Key(KeyCommand::List { source }) => {
            let lines: Vec<KeyLine> = ctx
                .store
                .sftp_keys(&source)?
                .into_iter()
                .map(|row| {
                    let (fingerprint, algorithm) = keys::describe(&row.public_key);
                    KeyLine {
                        fingerprint,
                        algorithm,
                        added_at: row.added_at,
                    }
                })
                .collect();
            if ctx.json {
                print_json(&lines);
            } else if lines.is_empty() {
                say!("{source} has no SFTP keys; `sharedcare sftp key add {source} FILE`");
            } else {
                for l in &lines {
                    say!("{}  {}  added {}", l.fingerprint, l.algorithm, l.added_at);
                }
            }
            Ok(0)
        }
        SftpCommand::Key(KeyCommand::Remove {
            source,
            fingerprint,
        }) => {
            let now = CLOCK.now_text();
            as_operator(ctx, |store, by| {
                accounts::remove_key(store, &source, &fingerprint, by, &now)
            })?;
            say!("removed {fingerprint} from {source}");
            Ok(0)
        }
        SftpCommand::Password(PasswordCommand::Set { source, .. }) => {
            let hash = password::hash(&read_password()?).map_err(Error::Invalid)?;
            let now = CLOCK.now_text();
            as_operator(ctx, |store, by| {
                accounts::set_password(store, &source, Some(&hash), by, &now)
            })?;
            say!("password set for {source}");
            Ok(0)
        }
        SftpCommand::Password(PasswordCommand::Clear { source }) => {
            let now = CLOCK.now_text();
            as_operator(ctx, |store, by| {
                accounts::set_password(store, &source, None, by, &now)
            })?;
            say!("password cleared for {source}");
            Ok(0)
        }
    }
}
