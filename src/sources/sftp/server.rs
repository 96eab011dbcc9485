//! The SSH side: who may log in, how long a connection may take to do so, how many may be
//! open, and the one thing a logged-in source may do (the `sftp` subsystem).
//!
//! The user name is a source code. A login succeeds with one of that source's authorised public
//! keys, or with its password when one is set; everything else is refused after the same
//! constant delay (russh's `auth_rejection_time`) so a refusal reveals nothing about which
//! accounts exist.
//!
//! Password guessing is slowed by `web::throttle`'s scheme (per account and address, and per
//! address; see there): an address that keeps failing waits, an attempt while it waits is
//! refused unheard and not counted, and failures from one address never slow another.
//! Public-key logins are never throttled and a refused key never counts: a key cannot be
//! guessed, and a hospital's feed must not stop because someone who knows its source code
//! guessed passwords.
//!
//! Connections are bounded before any of that (see `limits`): at most `[sftp] max_connections`
//! open and `max_unauthenticated` not yet logged in, `max_unauthenticated_per_address` of them
//! from one address (more are closed at once, before the SSH greeting); one that has not logged
//! in within `auth_timeout_seconds` is closed, as is a logged-in one idle for
//! `idle_timeout_seconds`. So idle pre-authentication connections can neither pile up nor hold
//! a slot for long, and one address cannot take every slot.
//!
//! Shell and exec requests are answered with a message and exit status 1 rather than ignored:
//! an ignored request leaves `ssh host cmd` waiting for ever. Port forwarding, X11 and agent
//! channels are refused by russh's defaults, which reject what a handler does not accept.

use super::handler::SftpSession;
use super::jail::Area;
use super::keys::is_authorised;
use super::limits::{Limits, LoginDeadline};
use crate::access::password;
use crate::slots::{Slot as LoginSlot, Slots};
use crate::store::{SftpAccount, Store};
use crate::web::throttle::Throttle;
use rocket::tokio::net::TcpListener;
use rocket::tokio::sync::Semaphore;
use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Shared {
    pub data_dir: PathBuf,
    pub database: PathBuf,
    pub max_file_bytes: u64,
    pub source_quota_bytes: u64,
    pub throttle: Throttle,
}

/// Accepts connections for ever, each in its own task, within `limits`.
pub async fn serve(
    listener: TcpListener,
    ssh: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    limits: Limits,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let logging_in = Slots::new(
        limits.max_unauthenticated,
        limits.max_unauthenticated_per_address,
    );
    let mut refusals = Refusals::default();
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                log::warn!("sftp: accepting a connection failed: {e}");
                rocket::tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer_ip = peer.ip().to_canonical();
        let permits = (
            Arc::clone(&open).try_acquire_owned(),
            logging_in.take(peer_ip),
        );
        let (Ok(open_slot), Some(login_slot)) = permits else {
            drop(socket);
            refusals.note(peer);
            continue;
        };
        let logged_in = Arc::new(AtomicBool::new(false));
        let handler = Connection {
            shared: Arc::clone(&shared),
            peer: peer_ip,
            user: None,
            channels: HashMap::new(),
            login_slot: Some(login_slot),
            logged_in: Arc::clone(&logged_in),
        };
        if ssh.nodelay {
            let _ = socket.set_nodelay(true);
        }
        let stream = LoginDeadline::new(socket, limits.auth_timeout, logged_in);
        let ssh = Arc::clone(&ssh);
        rocket::tokio::spawn(async move {
            let _open_slot = open_slot;
            let ended = match russh::server::run_stream(ssh, stream, handler).await {
                Ok(session) => session.await,
                Err(e) => Err(e),
            };
            if let Err(e) = ended {
                log::debug!("sftp: the connection from {peer} ended: {e}");
            }
        });
    }
}

/// Refused connections, logged at most once a minute: a flood of them must not flood the log.
#[derive(Default)]
struct Refusals {
    since_logged: u64,
    logged_at: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, peer: SocketAddr) {
        self.since_logged += 1;
        let now = Instant::now();
        if self
            .logged_at
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(60))
        {
            return;
        }
        log::warn!(
            "sftp: refused {} connection(s) as over the limits in [sftp] (the latest from {peer})",
            self.since_logged
        );
        self.since_logged = 0;
        self.logged_at = Some(now);
    }
}

pub struct Connection {
    shared: Arc<Shared>,
    peer: IpAddr,
    /// The source code, once authenticated.
    user: Option<String>,
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// Held until login: one of the slots for connections still logging in.
    login_slot: Option<LoginSlot>,
    /// Set at login, so the connection's deadline no longer applies.
    logged_in: Arc<AtomicBool>,
}

const REFUSAL: &str = "This account only accepts SFTP uploads; shell and commands are not \
                       available.\r\n";

impl Connection {
    fn accept(&mut self, user: &str) -> Auth {
        self.user = Some(user.to_owned());
        self.login_slot = None;
        self.logged_in.store(true, Ordering::Release);
        log::info!("sftp: {user} logged in");
        Auth::Accept
    }

    /// The account, read fresh for each attempt so a key added or removed applies at once.
    async fn account(&self, user: &str) -> Option<SftpAccount> {
        let database = self.shared.database.clone();
        let user = user.to_owned();
        rocket::tokio::task::spawn_blocking(move || {
            Store::open(&database).and_then(|s| s.sftp_account(&user))
        })
        .await
        .ok()
        .and_then(|r| {
            r.map_err(|e| log::error!("sftp: {}", e.operator_summary()))
                .ok()
        })
        .flatten()
    }

    async fn key_allowed(&self, user: &str, key: &PublicKey) -> bool {
        self.account(user)
            .await
            .is_some_and(|a| is_authorised(key, &a.public_keys))
    }

    fn refuse(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), russh::Error> {
        session.channel_success(channel)?;
        session.extended_data(channel, 1, REFUSAL.as_bytes().to_vec())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // An unknown key offered is not a failed attempt: clients offer every key they hold.
        Ok(if self.key_allowed(user, offer.public_key).await {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_allowed(user, key.public_key).await {
            Ok(self.accept(user))
        } else {
            log::warn!("sftp: a key login as {user} was refused");
            Ok(Auth::reject())
        }
    }

    async fn auth_password(&mut self, user: &str, given: &str) -> Result<Auth, Self::Error> {
        let shared = Arc::clone(&self.shared);
        let Ok(attempt) = shared.throttle.begin(user, Some(self.peer), Instant::now()) else {
            // Refused unheard and not counted: waiting out the wait is the only way on.
            return Ok(Auth::reject());
        };
        let stored = self.account(user).await.and_then(|a| a.password_hash);
        let given = given.to_owned();
        // Unknown accounts and accounts without a password cost the same hash as a wrong one.
        let matched = rocket::tokio::task::spawn_blocking(move || {
            let hash = stored.as_deref().unwrap_or(password::dummy_hash());
            password::verify(&given, hash) && stored.is_some()
        })
        .await
        .unwrap_or(false);
        if matched {
            attempt.succeeded();
            Ok(self.accept(user))
        } else {
            attempt.failed(Instant::now());
            log::warn!("sftp: a password login as {user} was refused");
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.close(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let channel = self.channels.remove(&channel_id);
        let (Some(user), Some(channel), "sftp") = (self.user.clone(), channel, name) else {
            return session.channel_failure(channel_id);
        };
        let area = match Area::new(&self.shared.data_dir, &user) {
            Ok(a) => a,
            Err(e) => {
                log::error!("sftp: {user}: cannot prepare the upload area: {e}");
                return session.channel_failure(channel_id);
            }
        };
        session.channel_success(channel_id)?;
        let sftp = SftpSession::new(
            user,
            area,
            self.shared.max_file_bytes,
            self.shared.source_quota_bytes,
        );
        russh_sftp::server::run(channel.into_stream(), sftp).await;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse(channel, session)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse(channel, session)
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }
}
