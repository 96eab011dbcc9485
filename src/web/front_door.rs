//! The web server's front door: every HTTPS (or plain HTTP) connection is accepted here and
//! passed, byte for byte, to Rocket listening on a loopback port of its own.
//!
//! Rocket 0.5 reads a TLS handshake and request headers with no time limit and accepts any
//! number of connections, and it offers no way to hand it a listener of our own; so the limits
//! live in front of it, where nothing is decrypted:
//! - at most `[web] max_connections` open at once, and `max_connections_per_address` from one
//!   address (the trusted proxy, which carries everybody's, is held to the total only); a
//!   connection beyond them is closed at once;
//! - a connection that sends nothing within `silent_connection_seconds` is closed;
//! - each exchange — from the first byte the client sends (a TLS handshake, a request's
//!   headers and body) until the server's first byte in reply — must be over within
//!   `request_seconds`, so a client dribbling a handshake or headers cannot hold a connection;
//! - a connection with no traffic either way for `idle_seconds` is closed.
//!
//! Rocket sees each connection come from the loopback address; [`Peers`] remembers, by the
//! loopback port the front door connected from, which client each one carries, and
//! `web::address` asks it.

use crate::config::WebConfig;
use crate::slots::Slots;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::time::{sleep, Duration, Instant};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The clients behind the front door's loopback connections, by their loopback port.
#[derive(Default)]
pub struct Peers {
    by_port: Mutex<HashMap<u16, SocketAddr>>,
    /// Where the front door listens (set once it is bound), for links built from it.
    public: Mutex<Option<SocketAddr>>,
}

impl Peers {
    /// The client a connection from `loopback` carries, if it came through the front door.
    pub fn client_of(&self, loopback: SocketAddr) -> Option<SocketAddr> {
        if !loopback.ip().is_loopback() {
            return None;
        }
        let map = self.by_port.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&loopback.port()).copied()
    }

    /// The address the front door listens on, once bound.
    pub fn public_address(&self) -> Option<SocketAddr> {
        *self.public.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, port: u16, client: SocketAddr) {
        let mut map = self.by_port.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(port, client);
    }

    fn forget(&self, port: u16) {
        let mut map = self.by_port.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&port);
    }
}

/// The time limits of one connection.
#[derive(Clone, Copy)]
struct Timeouts {
    silent: Duration,
    request: Duration,
    idle: Duration,
}

/// Binds the public address now, so a port in use fails the start before anything else runs.
pub fn bind(listen: (&str, u16)) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Accepts connections on `listener` for ever, passing each to Rocket at `inner`.
pub async fn run(
    listener: std::net::TcpListener,
    inner: SocketAddr,
    config: WebConfig,
    peers: Arc<Peers>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("the web front door could not start: {e}");
            return;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        *peers.public.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
    }
    let slots = Slots::new(config.max_connections, config.max_connections_per_address);
    let timeouts = Timeouts {
        silent: Duration::from_secs(config.silent_connection_seconds),
        request: Duration::from_secs(config.request_seconds),
        idle: Duration::from_secs(config.idle_seconds),
    };
    let mut refusals = Refusals::default();
    loop {
        let (client, address) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                log::warn!("the web server could not accept a connection: {e}");
                sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = address.ip().to_canonical();
        let is_proxy = config
            .trusted_proxy
            .is_some_and(|proxy| proxy.to_canonical() == ip);
        let Some(slot) = slots.take_unless_exempt(ip, is_proxy) else {
            refusals.note(ip);
            drop(client);
            continue;
        };
        let peers = Arc::clone(&peers);
        rocket::tokio::spawn(async move {
            carry(client, address, inner, timeouts, &peers).await;
            drop(slot);
        });
    }
}

/// Connections closed for want of a slot, logged at most once a minute (with how many), so
/// the log says the cap was reached without a line per attempt.
#[derive(Default)]
struct Refusals {
    since_last_line: u64,
    last_line: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, ip: IpAddr) {
        self.since_last_line += 1;
        if self
            .last_line
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
        {
            log::warn!(
                "web connections refused at the connection limit: {} in the last minute \
                 (latest from {ip}); see [web] max_connections",
                self.since_last_line
            );
            self.since_last_line = 0;
            self.last_line = Some(Instant::now());
        }
    }
}

/// Carries one client's connection to Rocket and back until either end closes or a time limit
/// passes.
async fn carry(
    client: TcpStream,
    address: SocketAddr,
    inner: SocketAddr,
    timeouts: Timeouts,
    peers: &Peers,
) {
    let _ = client.set_nodelay(true);
    let server = match TcpStream::connect(inner).await {
        Ok(s) => s,
        Err(e) => {
            log::error!("the web front door could not reach the server: {e}");
            return;
        }
    };
    let _ = server.set_nodelay(true);
    let Ok(port) = server.local_addr().map(|a| a.port()) else {
        return;
    };
    // Known before a single byte reaches Rocket, so no request can look its client up first.
    peers.remember(port, address);
    let clock = Clock::new();
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let upstream = pump(client_read, server_write, &clock, Side::Client);
    let downstream = pump(server_read, client_write, &clock, Side::Server);
    rocket::tokio::select! {
        _ = async { rocket::tokio::join!(upstream, downstream) } => {}
        _ = clock.watch(timeouts) => {}
    }
    // Both directions are finished (or abandoned) before the port can be reused.
    peers.forget(port);
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Client,
    Server,
}

/// When each side last sent, and when the client's current exchange began (0: none open), in
/// milliseconds since the connection opened (stored plus one, so 0 means "never").
struct Clock {
    opened: Instant,
    client_last: AtomicU64,
    server_last: AtomicU64,
    exchange_began: AtomicU64,
}

impl Clock {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            client_last: AtomicU64::new(0),
            server_last: AtomicU64::new(0),
            exchange_began: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    fn sent(&self, side: Side) {
        let now = self.now();
        match side {
            Side::Client => {
                self.client_last.store(now, Ordering::Release);
                let _ = self.exchange_began.compare_exchange(
                    0,
                    now,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
            Side::Server => {
                self.server_last.store(now, Ordering::Release);
                self.exchange_began.store(0, Ordering::Release);
            }
        }
    }

    /// Resolves when a time limit has passed.
    async fn watch(&self, limits: Timeouts) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2);
        loop {
            let now = self.now();
            let client = self.client_last.load(Ordering::Acquire);
            let server = self.server_last.load(Ordering::Acquire);
            let began = self.exchange_began.load(Ordering::Acquire);
            let deadline = if client == 0 {
                ms(limits.silent)
            } else if began != 0 {
                began.saturating_add(ms(limits.request))
            } else {
                client.max(server).saturating_add(ms(limits.idle))
            };
            if now >= deadline {
                return;
            }
            // Traffic may move the deadline on; look again then, at the latest each second.
            sleep(Duration::from_millis((deadline - now).min(1000))).await;
        }
    }
}

/// Copies one direction until its reader ends, then closes the writer's side.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, clock: &Clock, side: Side) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        clock.sent(side);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
