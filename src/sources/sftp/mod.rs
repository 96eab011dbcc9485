//! The embedded SFTP server: how a hospital's or council's system pushes its files to us.
//!
//! It runs in the same process as the web server, on the same Tokio runtime, so one service
//! unit and one data directory hold everything. Each source has one account, named by its
//! source code, with authorised public keys (and optionally a password) kept in the database.
//! After login an account sees a flat folder `/` holding only its own files that are not yet
//! taken by the importer; see `jail` for how paths are confined, `handler` for the protocol and
//! the hand-over, and `server` for login, connection limits and timeouts, and the refusal of
//! everything but SFTP.
//!
//! The hand-over point to the importer is `DATA_DIR/inbox/<SOURCE>/`: a file appears there only
//! complete, at the moment the client closes it (or renames it from a temporary name), by an
//! atomic link from `DATA_DIR/sftp/uploads/<SOURCE>/`, where uploads are written. The drop-folder
//! watcher takes it from there.

mod handler;
pub mod jail;
pub mod keys;
mod limits;
mod server;

use crate::config::Config;
use crate::error::{Error, Result};
use limits::Limits;
use russh::{MethodKind, MethodSet};
use server::Shared;
use std::sync::Arc;
use std::time::Duration;

/// Binds the SFTP server on `listen` (`ADDR:PORT`) and runs it in the background on the current
/// Tokio runtime; prints `sftp listening on ADDR:PORT` once bound.
pub async fn start(config: &Config, listen: &str) -> Result<()> {
    let host_key = keys::load_or_create_host_key(&config.data_dir)?;
    eprintln!(
        "SFTP host key fingerprint: {}",
        keys::fingerprint(host_key.public_key())
    );
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::PublicKey);
    methods.push(MethodKind::Password);
    let ssh = russh::server::Config {
        methods,
        // A refusal always takes this long, whoever is asking; OpenSSH's first "none" probe
        // is answered at once.
        auth_rejection_time: Duration::from_secs(1),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        max_auth_attempts: 6,
        inactivity_timeout: Some(Duration::from_secs(config.sftp.idle_timeout_seconds)),
        keepalive_interval: Some(Duration::from_secs(60)),
        nodelay: true,
        ..Default::default()
    };
    let listener = rocket::tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| {
            Error::Invalid(format!(
                "the SFTP server cannot listen on {listen}: {e}; change [sftp] listen in \
                 config.toml or pass --sftp-listen (blank disables SFTP)"
            ))
        })?;
    let bound = listener.local_addr().map_err(|source| Error::Io {
        doing: "read the address of",
        path: listen.into(),
        source,
    })?;
    let shared = Arc::new(Shared {
        data_dir: config.data_dir.clone(),
        database: config.database_path(),
        max_file_bytes: config.sftp.max_file_bytes,
        throttle: Default::default(),
    });
    let limits = Limits {
        max_connections: config.sftp.max_connections,
        max_unauthenticated: config.sftp.max_unauthenticated,
        max_unauthenticated_per_address: config.sftp.max_unauthenticated_per_address,
        auth_timeout: Duration::from_secs(config.sftp.auth_timeout_seconds),
    };
    println!("sftp listening on {bound}");
    rocket::tokio::spawn(server::serve(listener, Arc::new(ssh), shared, limits));
    Ok(())
}
