//! Running the server: configuration, TLS, the database pool and Rocket, until SIGTERM/Ctrl-C.

use crate::audit::Action;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::web::{self, Web};
use rocket::fairing::AdHoc;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct ServeOptions {
    /// `ADDR:PORT`, overriding the configuration.
    pub listen: Option<String>,
    /// Plain HTTP, for running behind a TLS-terminating proxy only.
    pub insecure_http: bool,
    /// `ADDR:PORT` of the SFTP server, overriding the configuration; blank disables it.
    pub sftp_listen: Option<String>,
}

pub fn serve(config: Config, options: ServeOptions) -> Result<()> {
    let listen = options
        .listen
        .clone()
        .unwrap_or_else(|| config.web.listen.clone());
    let (address, port) = split_listen(&listen)?;
    let sftp_listen = options
        .sftp_listen
        .clone()
        .unwrap_or_else(|| config.sftp.listen.clone());
    let sftp_config = config.clone();
    let metrics_listen = config.metrics.listen.trim().to_owned();
    let mllp_config = config.clone();
    // Once per start, the whole tree: anything an older version or an operator's copy left
    // readable by others is narrowed, and a readable private key stops the start.
    crate::data_dir::open(&config, true)?;
    config.database.apply();
    // Held until the server stops: no bulk load may drop the indexes it searches.
    let _serving = crate::store::bulk_lock::serving(&config.database_path())?;
    // Opening once migrates the database (and seals any audit events from before the chain)
    // before any request arrives. Every pooled connection shares one chain, so they agree on
    // the head.
    let store = Store::open(&config.database_path())?;
    if store.deferred_builds_pending()? {
        return Err(Error::Invalid(format!(
            "the database {} has index builds pending from a bulk load that did not finish, \
             so search would be incomplete; run the same load again (`sharedcare import \
             --bulk …` or `sharedcare demo load …`): it resumes and finishes them",
            config.database_path().display()
        )));
    }
    let chain = crate::audit::Chain::open(&config.data_dir, store.audit_chained()?)?;
    let mut store = store.with_audit(Arc::clone(&chain))?;
    let gate = Arc::new(
        crate::access::Gate::new(&config.access)?
            .with_notifications(Arc::clone(&config.notifications.loaded)),
    );
    let lab_codes = Arc::new(crate::record::results::LabCodes::load(
        config.results.lab_codes.as_deref(),
    )?);
    audit_policy(&mut store, &gate, &config)?;
    drop(store);
    let pool = web::pool::open(
        config.database_path(),
        Arc::clone(&chain),
        config.database.read_connections(),
    )?;
    // Clients reach the front door; Rocket listens on a loopback port of its own behind it.
    let front_door = web::front_door::bind((&address, port)).map_err(|e| {
        Error::Invalid(format!(
            "the web server cannot listen on {address}:{port}: {e}"
        ))
    })?;
    let public = front_door
        .local_addr()
        .map_err(|e| Error::Invalid(format!("the web server's address is unknown: {e}")))?;
    let peers = Arc::new(web::front_door::Peers::default());
    let mut figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("ident", "sharedcare"))
        .merge(("log_level", "critical"))
        .merge(("cli_colors", false))
        // Rocket believes `X-Real-IP` from anyone by default; the client's address is
        // `web::address`'s decision, which believes a header only from `[web] trusted_proxy`.
        .merge(("ip_header", false));
    let scheme = if options.insecure_http {
        eprintln!(
            "WARNING: serving plain HTTP (--insecure-http). Passwords and patient data cross the \
             network unencrypted unless a TLS proxy sits in front of this server."
        );
        "http"
    } else {
        let (cert, key) = tls_files(&config)?;
        figment = figment.merge(("tls.certs", cert)).merge(("tls.key", key));
        "https"
    };
    let jobs = crate::jobs::fairing(config.clone())?;
    let inbox_link = format!(
        "{}/notifications",
        config.web.public_base(public.ip(), public.port())
    );
    crate::notify::mail::start(&config, inbox_link, Arc::new(SystemClock))?;
    let database = config.database_path();
    let state = Web {
        config,
        pool,
        clock: Arc::new(SystemClock),
        throttle: Default::default(),
        gate,
        lab_codes,
        peers: Arc::clone(&peers),
    };
    let front_config = state.config.web.clone();
    let rocket = web::build(state, figment)
        .attach(jobs)
        .attach(audit_head_flusher(chain))
        .attach(checkpointer(database));
    let front_door = std::sync::Mutex::new(Some(front_door));
    let rocket = rocket.attach(AdHoc::on_liftoff("front door", move |r| {
        let inner = std::net::SocketAddr::new(r.config().address, r.config().port);
        let listener = front_door.lock().ok().and_then(|mut l| l.take());
        Box::pin(async move {
            if let Some(listener) = listener {
                rocket::tokio::spawn(web::front_door::run(listener, inner, front_config, peers));
            }
            println!("sharedcare listening on {scheme}://{public}");
        })
    }));
    rocket::execute(async move {
        // Bound before the web server announces itself, so "sftp listening" is printed first.
        if !sftp_listen.trim().is_empty() {
            crate::sources::sftp::start(&sftp_config, sftp_listen.trim()).await?;
        }
        if !metrics_listen.is_empty() {
            crate::ops::metrics_server::start(&metrics_listen, sftp_config.clone()).await?;
        }
        crate::sources::mllp::start(&mllp_config, Arc::new(SystemClock)).await?;
        rocket
            .launch()
            .await
            .map(|_| ())
            .map_err(|e| Error::Invalid(format!("the web server stopped: {e}")))
    })
}

/// Writes a pending audit head within a second even when no further request comes, so a
/// server killed while idle has left its head current (see `audit`).
fn audit_head_flusher(chain: Arc<crate::audit::Chain>) -> AdHoc {
    AdHoc::on_liftoff("audit head", move |_| {
        Box::pin(async move {
            rocket::tokio::spawn(async move {
                loop {
                    rocket::tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    if let Err(e) = chain.flush() {
                        log::error!("the audit head was not written: {}", e.operator_summary());
                    }
                }
            });
        })
    })
}

/// Copies the write-ahead log back into the database every second, on its own connection, since
/// request connections never do (see `Store::for_requests`); an import's connection still
/// checkpoints as it commits.
fn checkpointer(database: PathBuf) -> AdHoc {
    AdHoc::on_liftoff("checkpointer", move |_| {
        Box::pin(async move {
            std::thread::spawn(move || {
                let store = match Store::open(&database) {
                    Ok(s) => s,
                    Err(e) => {
                        log::error!("the checkpointer could not start: {}", e.operator_summary());
                        return;
                    }
                };
                // With replication configured, Litestream checkpoints (see `replication`).
                while !crate::store::checkpoints_left_to_litestream() {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    if let Err(e) = store.checkpoint_passive() {
                        log::warn!("checkpoint failed: {}", e.operator_summary());
                    }
                }
            });
        })
    })
}

fn split_listen(listen: &str) -> Result<(String, u16)> {
    let (addr, port) = listen.rsplit_once(':').ok_or_else(|| {
        Error::Invalid(format!(
            "--listen {listen}: expected ADDR:PORT, e.g. 0.0.0.0:8443"
        ))
    })?;
    let port = port
        .parse()
        .map_err(|_| Error::Invalid(format!("--listen {listen}: {port} is not a port number")))?;
    Ok((addr.trim_matches(['[', ']']).to_owned(), port))
}

/// The SHA-256 fingerprint of the certificate the server will present (made now, when none is
/// configured and none was made before), for a person to compare with what the browser shows.
pub fn certificate_fingerprint(config: &Config) -> Result<String> {
    let (cert, _) = tls_files(config)?;
    let pem = std::fs::read_to_string(&cert).map_err(|source| Error::Io {
        doing: "read",
        path: cert.clone(),
        source,
    })?;
    Ok(fingerprint(&pem))
}

/// The configured certificate and key, or a self-signed pair made once in the data directory.
fn tls_files(config: &Config) -> Result<(PathBuf, PathBuf)> {
    if let (Some(cert), Some(key)) = (&config.web.tls_cert, &config.web.tls_key) {
        for p in [cert, key] {
            if !p.exists() {
                return Err(Error::Invalid(format!(
                    "the TLS file {} does not exist; fix web.tls_cert / web.tls_key in config.toml",
                    p.display()
                )));
            }
        }
        return Ok((cert.clone(), key.clone()));
    }
    let dir = config.data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.exists() || !key.exists() {
        let made = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .map_err(|e| Error::Invalid(format!("could not make a TLS certificate: {e}")))?;
        write_private(&dir, &key, made.signing_key.serialize_pem().as_bytes())?;
        write_private(&dir, &cert, made.cert.pem().as_bytes())?;
        eprintln!("made a self-signed TLS certificate in {}", dir.display());
    }
    let pem = std::fs::read_to_string(&cert).map_err(|source| Error::Io {
        doing: "read",
        path: cert.clone(),
        source,
    })?;
    eprintln!("TLS certificate SHA-256 fingerprint: {}", fingerprint(&pem));
    Ok((cert, key))
}

fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    crate::data_dir::create_private_dir(dir).map_err(|source| Error::Io {
        doing: "create",
        path: dir.to_path_buf(),
        source,
    })?;
    crate::data_dir::write_private(path, bytes).map_err(|source| Error::Io {
        doing: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 of the certificate's DER bytes, as browsers show it.
fn fingerprint(pem: &str) -> String {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap_or_default();
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Records the access policy in force when it differs from the one the last start recorded:
/// a change of who may see what is itself an audited event.
fn audit_policy(store: &mut Store, gate: &crate::access::Gate, config: &Config) -> Result<()> {
    use crate::clock::Clock;
    let fingerprint = gate.fingerprint();
    let detail = format!(
        "policy {} from {}; sensitive codes from {}",
        fingerprint,
        config
            .access
            .policy
            .as_ref()
            .map_or("the shipped file".into(), |p| p.display().to_string()),
        config
            .access
            .sensitive_codes
            .as_ref()
            .map_or("the shipped list".into(), |p| p.display().to_string()),
    );
    let last = store.last_audit_detail(Action::PolicyChange)?;
    if last.as_deref().is_some_and(|d| d.contains(&fingerprint)) {
        return Ok(());
    }
    let tx = store.begin()?;
    tx.audit(
        &crate::store::AuditEvent {
            detail: Some(&detail),
            ..crate::audit::Actor::system("start").event(Action::PolicyChange)
        },
        &SystemClock.now_text(),
    )?;
    tx.commit()
}
