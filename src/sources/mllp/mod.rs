//! The MLLP listener: hospitals send HL7 v2 messages as they happen, over TCP, instead of (or
//! as well as) nightly files.
//!
//! A source may have a port of its own (`sharedcare source add CODE --mllp ADDR:PORT`), and one
//! shared port (`[mllp] listen`) serves every HL7 v2 source, routing each message by its header
//! (see `route`). Bytes are cut into frames (`frame`); each message is handed to the one writer
//! (`writer`), which stores it through the importer exactly as a file's message is stored,
//! commits messages waiting together in one transaction, and only then lets the connection
//! acknowledge (`ack`). Connections, timeouts and sender checks are in `server`.
//!
//! Every port may speak TLS instead of plain TCP, with client certificates as well (`tls`).
//!
//! Ports are bound when `serve` starts: a source given a port of its own while the server runs
//! is heard on it after a restart (the shared port routes to a new source at once).

mod ack;
pub mod config;
mod frame;
pub mod route;
mod server;
mod tls;
mod writer;

pub use config::MllpConfig;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::slots::Slots;
use crate::store::Store;
use route::Listener;
use server::{Port, Shared};
use std::sync::Arc;
use std::time::Duration;

/// Binds every configured MLLP port and serves them in the background on the current Tokio
/// runtime; prints `mllp listening on ADDR:PORT for CODE` (or `for every HL7 v2 source`) for
/// each once bound, with ` (TLS)` after it when the ports speak TLS. Does nothing when no port
/// is configured.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> Result<()> {
    let stored = Store::open(&config.database_path())?.mllp_sources()?;
    let mut own = Vec::new();
    for s in &stored {
        let Some(listen) = s.listen.as_deref().map(str::trim).filter(|l| !l.is_empty()) else {
            continue;
        };
        if s.source.format != crate::model::Format::Hl7v2 {
            return Err(Error::Invalid(format!(
                "source {code} has an MLLP port but its format is {}: MLLP carries HL7 v2; \
                 clear the port with `sharedcare source edit {code} --mllp \"\"`",
                s.source.format.as_str(),
                code = s.source.code
            )));
        }
        let listener = Listener::from_stored(s).map_err(Error::Invalid)?;
        own.push((listen.to_owned(), listener));
    }
    let shared_listen = config.mllp.listen.trim();
    if own.is_empty() && shared_listen.is_empty() {
        return Ok(());
    }
    let tls = tls::acceptor(&config.mllp)?;
    let shared = Arc::new(Shared {
        tls,
        max_message_bytes: config.mllp.max_message_bytes,
        idle: Duration::from_secs(config.mllp.idle_timeout_seconds),
        slots: Slots::new(
            config.mllp.max_connections,
            config.mllp.max_connections_per_address,
        ),
        writer: writer::start(config.clone(), Arc::clone(&clock))?,
        database: config.database_path(),
        clock,
    });
    // Said on the banner, so an operator sees which kind of sender the port expects.
    let over = if shared.tls.is_some() { " (TLS)" } else { "" };
    for (listen, listener) in own {
        let code = listener.source.code.clone();
        let hint = format!("change it with `sharedcare source edit {code} --mllp ADDR:PORT`");
        let bound = bind(&listen, &hint).await?;
        println!(
            "mllp listening on {} for {code}{over}",
            local(&bound, &listen)?
        );
        rocket::tokio::spawn(server::serve(
            bound,
            Port::Own(Arc::new(listener)),
            Arc::clone(&shared),
        ));
    }
    if !shared_listen.is_empty() {
        let bound = bind(shared_listen, "change [mllp] listen in config.toml").await?;
        println!(
            "mllp listening on {} for every HL7 v2 source{over}",
            local(&bound, shared_listen)?
        );
        rocket::tokio::spawn(server::serve(bound, Port::Shared, shared));
    }
    Ok(())
}

async fn bind(listen: &str, hint: &str) -> Result<rocket::tokio::net::TcpListener> {
    rocket::tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Invalid(format!("MLLP cannot listen on {listen}: {e}; {hint}")))
}

fn local(bound: &rocket::tokio::net::TcpListener, listen: &str) -> Result<std::net::SocketAddr> {
    bound.local_addr().map_err(|source| Error::Io {
        doing: "read the address of",
        path: listen.into(),
        source,
    })
}
