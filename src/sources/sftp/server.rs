//! The SSH side: who may log in, and the one thing a logged-in source may do (the `sftp`
//! subsystem).
//!
//! The user name is a source code. A login succeeds with one of that source's authorised public
//! keys, or with its password when one is set; everything else is refused after the same
//! constant delay (russh's `auth_rejection_time`) so a refusal reveals nothing about which
//! accounts exist. Password and verified-key failures count towards the web server's throttle,
//! per account and per address, so guessing slows down without ever locking a source out.
//!
//! Shell and exec requests are answered with a message and exit status 1 rather than ignored:
//! an ignored request leaves `ssh host cmd` waiting for ever. Port forwarding, X11 and agent
//! channels are refused by russh's defaults, which reject what a handler does not accept.

use super::handler::SftpSession;
use super::jail::Area;
use super::keys::is_authorised;
use crate::access::password;
use crate::store::{SftpAccount, Store};
use crate::web::throttle::Throttle;
use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub struct Shared {
    pub data_dir: PathBuf,
    pub database: PathBuf,
    pub max_file_bytes: u64,
    pub source_quota_bytes: u64,
    pub throttle: Throttle,
}

#[derive(Clone)]
pub struct SftpServer {
    pub shared: Arc<Shared>,
}

impl russh::server::Server for SftpServer {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        Connection {
            shared: self.shared.clone(),
            peer: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            user: None,
            channels: HashMap::new(),
        }
    }
}

pub struct Connection {
    shared: Arc<Shared>,
    peer: String,
    /// The source code, once authenticated.
    user: Option<String>,
    channels: HashMap<ChannelId, Channel<Msg>>,
}

const REFUSAL: &str = "This account only accepts SFTP uploads; shell and commands are not \
                       available.\r\n";

impl Connection {
    fn throttled(&self, user: &str) -> bool {
        let now = Instant::now();
        let t = &self.shared.throttle;
        t.wait(&format!("sftp-user:{user}"), now).is_some()
            || t.wait(&format!("sftp-addr:{}", self.peer), now).is_some()
    }

    fn failed(&self, user: &str) {
        let now = Instant::now();
        let t = &self.shared.throttle;
        t.failed(&format!("sftp-user:{user}"), now);
        t.failed(&format!("sftp-addr:{}", self.peer), now);
        log::warn!("sftp: a login as {user} was refused");
    }

    fn succeeded(&mut self, user: &str) -> Auth {
        self.shared.throttle.succeeded(&format!("sftp-user:{user}"));
        self.user = Some(user.to_owned());
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
        !self.throttled(user)
            && self
                .account(user)
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
            Ok(self.succeeded(user))
        } else {
            self.failed(user);
            Ok(Auth::reject())
        }
    }

    async fn auth_password(&mut self, user: &str, given: &str) -> Result<Auth, Self::Error> {
        if self.throttled(user) {
            self.failed(user);
            return Ok(Auth::reject());
        }
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
            Ok(self.succeeded(user))
        } else {
            self.failed(user);
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
