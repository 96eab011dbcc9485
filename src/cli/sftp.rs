//! `sharedcare sftp fingerprint|key|password`: the SFTP server's host key and the accounts
//! sources log in with (one per source, named by the source code).
//!
//! Every change to who may log in is audited, as user changes are.

use super::{audit, print_json, read_password, Ctx, CLOCK};
use crate::access::password;
use crate::audit::Action;
use crate::clock::Clock;
use crate::error::{Error, Result};
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
                println!("{fp}");
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
            let tx = ctx.store.begin()?;
            for k in &parsed {
                let added = tx.add_sftp_key(&source, &k.public_key, &now)?;
                println!(
                    "{} {} for {source}",
                    if added {
                        "authorised"
                    } else {
                        "already authorised"
                    },
                    k.fingerprint
                );
            }
            tx.commit()?;
            let fps: Vec<&str> = parsed.iter().map(|k| k.fingerprint.as_str()).collect();
            audit(
                ctx,
                Action::SftpKeyAdd,
                &format!("{source} {}", fps.join(" ")),
            )?;
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
                println!("{source} has no SFTP keys; `sharedcare sftp key add {source} FILE`");
            } else {
                for l in &lines {
                    println!("{}  {}  added {}", l.fingerprint, l.algorithm, l.added_at);
                }
            }
            Ok(0)
        }
        SftpCommand::Key(KeyCommand::Remove {
            source,
            fingerprint,
        }) => {
            let rows = ctx.store.sftp_keys(&source)?;
            let tx = ctx.store.begin()?;
            let mut removed = 0;
            for row in rows {
                if keys::describe(&row.public_key).0 == fingerprint {
                    removed += tx.remove_sftp_key(&source, &row.public_key)?;
                }
            }
            tx.commit()?;
            if removed == 0 {
                return Err(Error::NotFound(format!(
                    "{source} has no key {fingerprint}; `sharedcare sftp key list {source}` \
                     shows them"
                )));
            }
            audit(
                ctx,
                Action::SftpKeyRemove,
                &format!("{source} {fingerprint}"),
            )?;
            println!("removed {fingerprint} from {source}");
            Ok(0)
        }
        SftpCommand::Password(PasswordCommand::Set { source, .. }) => {
            let hash = password::hash(&read_password()?).map_err(Error::Invalid)?;
            let tx = ctx.store.begin()?;
            tx.set_sftp_password(&source, Some(&hash), &CLOCK.now_text())?;
            tx.commit()?;
            audit(ctx, Action::SftpPasswordSet, &source)?;
            println!("password set for {source}");
            Ok(0)
        }
        SftpCommand::Password(PasswordCommand::Clear { source }) => {
            let tx = ctx.store.begin()?;
            tx.set_sftp_password(&source, None, &CLOCK.now_text())?;
            tx.commit()?;
            audit(ctx, Action::SftpPasswordClear, &source)?;
            println!("password cleared for {source}");
            Ok(0)
        }
    }
}
