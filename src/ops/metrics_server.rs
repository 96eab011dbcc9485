//! `/metrics` on a listen address of its own (`[metrics] listen`, off by default), so that it
//! can be reached by the monitoring network without opening the web server to it, and answers
//! without a login: it holds counts and times, never a person's data.
//!
//! A deliberately small HTTP/1.1 responder: one `GET /metrics` per connection, the request
//! head bounded in size and time, then the connection is closed.

use super::metrics::{render, render_replication, REQUESTS};
use crate::error::{Error, Result};
use crate::store::Store;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MAX_HEAD: usize = 8 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds `listen` and serves `/metrics` from it until the process ends; prints
/// `metrics listening on ADDR`.
pub async fn start(listen: &str, config: crate::config::Config) -> Result<()> {
    let config = Arc::new(config);
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        Error::Invalid(format!(
            "[metrics] listen = {listen:?}: cannot listen there: {e}"
        ))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Invalid(format!("the metrics address is unknown: {e}")))?;
    // One read connection, opened when first asked for, shared by scrapes one at a time.
    let store: Arc<Mutex<Option<Store>>> = Arc::new(Mutex::new(None));
    println!("metrics listening on http://{bound}/metrics");
    rocket::tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (store, config) = (Arc::clone(&store), Arc::clone(&config));
            rocket::tokio::spawn(async move {
                if let Err(e) = answer(stream, store, config).await {
                    log::debug!("a metrics request failed: {e}");
                }
            });
        }
    });
    Ok(())
}

async fn answer(
    mut stream: TcpStream,
    store: Arc<Mutex<Option<Store>>>,
    config: Arc<crate::config::Config>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let read = rocket::tokio::time::timeout(HEAD_TIMEOUT, async {
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return Ok(());
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut words = line.split(|&b| b == b' ');
    let (method, target) = (words.next(), words.next());
    let (status, content_type, body) = match (method, target) {
        (Some(b"GET"), Some(b"/metrics")) => {
            let text = rocket::tokio::task::spawn_blocking(move || {
                let mut text = scrape(&store, &config.database_path());
                text += &render_replication(&crate::replica_lag::replica_lags(&config));
                text
            })
            .await
            .unwrap_or_default();
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8", text)
        }
        (Some(b"GET"), Some(_)) => ("404 Not Found", "text/plain", "not found\n".into()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".into(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The exposition; the database's figures are left out (and `sharedcare_database_readable`
/// says 0) when it cannot be read.
fn scrape(store: &Mutex<Option<Store>>, database: &std::path::Path) -> String {
    let now = chrono::Utc::now();
    let Ok(mut slot) = store.lock() else {
        return render(&REQUESTS, None, now);
    };
    if slot.is_none() {
        *slot = Store::open(database).ok();
    }
    let figures = slot.as_ref().map(Store::ops_figures);
    match figures {
        Some(Ok(f)) => render(&REQUESTS, Some(&f), now),
        Some(Err(e)) => {
            log::warn!(
                "metrics: the database could not be read: {}",
                e.operator_summary()
            );
            *slot = None;
            render(&REQUESTS, None, now)
        }
        None => render(&REQUESTS, None, now),
    }
}
