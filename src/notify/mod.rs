//! Telling the right people at once: notification rules, as data, run where entries are
//! stored (every feed, whether a file, an SFTP upload or an MLLP message, goes through the one
//! importer), each notification landing in an organisation's inbox in the same transaction as
//! the entry that raised it; an e-mail through the operator's SMTP relay then says "you have N
//! new notifications", and nothing about anybody.
//!
//! - [`rules`]: the rules file (shipped defaults, or the operator's own).
//! - [`evaluate`]: events from stored entries and privacy alerts, and whom they tell.
//! - [`inbox`]: whose inbox a signed-in profile reads, and marking read.
//! - [`mail`]: the delivery outbox and the SMTP relay.

pub mod evaluate;
pub mod inbox;
pub mod mail;
pub mod rules;

pub use rules::{Event, Rules};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The inbox of whoever may review privacy alerts.
pub const PRIVACY_OFFICER: &str = "privacy-officer";

/// How the relay's connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpTls {
    /// STARTTLS, required: a relay that does not offer it is not sent to.
    #[default]
    Starttls,
    /// Plain SMTP. Only for a relay on this machine (loopback); refused for any other.
    None,
}

/// `[notifications]` in the config: the rules, and e-mail through an SMTP relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// A rules file replacing the shipped one (see `src/notify/rules.toml` for its shape).
    /// Read once at start. Default: shipped.
    pub rules: Option<PathBuf>,
    /// Host name of the SMTP relay e-mail goes through. Default blank: no e-mail (the inboxes
    /// still fill).
    pub smtp_relay: String,
    /// The relay's port. Default 587 (submission, STARTTLS).
    pub smtp_port: u16,
    /// `"starttls"` (default) or `"none"` (loopback relays only).
    pub smtp_tls: SmtpTls,
    /// A PEM certificate (chain) the relay's certificate is checked against, beside the
    /// public roots: for a relay with a private certificate authority.
    pub smtp_ca: Option<PathBuf>,
    /// The login name at the relay, when it asks for one.
    pub smtp_username: Option<String>,
    /// A file (0600) holding the relay password. Never logged, never in this file.
    pub smtp_password_file: Option<PathBuf>,
    /// The sender address, e.g. `sharedcare@care.example.org`.
    pub from: String,
    /// Where each inbox's e-mail goes: ODS code (or `privacy-officer`) → address. An inbox
    /// without an address gets no e-mail.
    pub addresses: BTreeMap<String, String>,
    /// How often new notifications are gathered into e-mails and the outbox is sent, in
    /// seconds: one e-mail per inbox per round at most. Default 300.
    pub batch_seconds: u64,
    /// The rules read from `rules` (or the shipped ones), filled in when the config is loaded.
    #[serde(skip)]
    pub loaded: Arc<Rules>,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            rules: None,
            smtp_relay: String::new(),
            smtp_port: 587,
            smtp_tls: SmtpTls::default(),
            smtp_ca: None,
            smtp_username: None,
            smtp_password_file: None,
            from: String::new(),
            addresses: BTreeMap::new(),
            batch_seconds: 300,
            loaded: Arc::new(Rules::none()),
        }
    }
}

impl NotificationsConfig {
    /// Reads the rules file and refuses settings that would only fail later.
    pub fn load(mut self) -> crate::error::Result<Self> {
        self.loaded = Arc::new(Rules::load(self.rules.as_deref())?);
        let invalid = |why: String| {
            Err(crate::error::Error::Invalid(format!(
                "[notifications] {why}"
            )))
        };
        if self.batch_seconds == 0 {
            return invalid("batch_seconds must be at least 1".into());
        }
        if !self.smtp_relay.is_empty() {
            if !self.from.contains('@') {
                return invalid(format!(
                    "from = {:?}: give the sender address e-mail goes out as",
                    self.from
                ));
            }
            let loopback = matches!(self.smtp_relay.as_str(), "localhost" | "127.0.0.1" | "::1");
            if self.smtp_tls == SmtpTls::None && !loopback {
                return invalid(format!(
                    "smtp_tls = \"none\" is for a relay on this machine only; {} must be \
                     reached with STARTTLS",
                    self.smtp_relay
                ));
            }
        }
        for (inbox, address) in &self.addresses {
            if !address.contains('@') {
                return invalid(format!("addresses.{inbox} = {address:?} is not an address"));
            }
        }
        Ok(self)
    }

    /// The address of an inbox (`org:ODS` or `privacy-officer`), when e-mail is on for it.
    pub fn address_of(&self, recipient: &str) -> Option<&str> {
        if self.smtp_relay.is_empty() {
            return None;
        }
        let key = recipient.strip_prefix("org:").unwrap_or(recipient);
        self.addresses.get(key).map(String::as_str)
    }
}
