//! E-mail that says only "you have N new notifications in sharedcare" and where to read them:
//! no name, NHS number, date of birth, address, event or organisation of anybody.
//!
//! Delivery is an outbox in the database, so it survives a restart:
//! 1. each round, every inbox with an address and notifications not yet announced gets one
//!    outbox row covering all of them (one transaction: the row and the notifications'
//!    `mail_id`), so a batch is never announced twice and never lost;
//! 2. each due row is handed to the relay, and marked sent in a transaction of its own as soon
//!    as the relay accepts it; a failure records the error and the time of the next try
//!    (doubling from one round, at most an hour).
//!
//! The one window left is between the relay's acceptance and that mark (a crash in those
//! milliseconds): then the row is sent again at the next start. Sending again was chosen over
//! never sending (marking before the send): a lost "you have notifications" costs a missed
//! child in A&E; a second copy costs a glance. Both copies carry the same `Message-ID`, derived
//! from the outbox row, so a mail system that removes duplicates removes it.

use super::{NotificationsConfig, SmtpTls};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::{MailRow, Store};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

/// Something that hands an e-mail to a relay.
pub trait Relay: Send {
    /// Sends; the error says why not (no secret in it).
    fn send(&self, mail: Mail<'_>) -> std::result::Result<(), String>;
}

/// One e-mail, as the outbox makes it.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: String,
    pub body: String,
    pub message_id: String,
}

/// The words of the e-mail for `count` notifications: nothing about anybody.
pub fn compose<'a>(row: &'a MailRow, link: &str, host: &str) -> Mail<'a> {
    let what = match row.count {
        1 => "1 new notification".to_owned(),
        n => format!("{n} new notifications"),
    };
    Mail {
        to: &row.address,
        subject: format!("You have {what} in sharedcare"),
        body: format!(
            "You have {what} in sharedcare.\r\n\r\nSign in to read them: {link}\r\n\r\n\
             This message says nothing about anybody; the notifications are in sharedcare only.\r\n"
        ),
        message_id: format!("<notification-mail-{}@{host}>", row.id),
    }
}

/// The SMTP relay of the config (STARTTLS by rustls unless `smtp_tls = "none"`).
pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Smtp {
    pub fn new(config: &NotificationsConfig) -> Result<Self> {
        let invalid = |why: String| Error::Invalid(format!("[notifications] {why}"));
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| invalid(format!("from = {:?}: {e}", config.from)))?;
        let tls = match config.smtp_tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => {
                let mut params = TlsParameters::builder(config.smtp_relay.clone());
                if let Some(path) = &config.smtp_ca {
                    let pem = std::fs::read(path).map_err(|source| Error::Io {
                        doing: "read the SMTP relay's certificate authority",
                        path: path.clone(),
                        source,
                    })?;
                    let ca = Certificate::from_pem(&pem)
                        .map_err(|e| invalid(format!("smtp_ca {}: {e}", path.display())))?;
                    params = params
                        .certificate_store(CertificateStore::None)
                        .add_root_certificate(ca);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| invalid(format!("TLS for {}: {e}", config.smtp_relay)))?;
                Tls::Required(params)
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(config.smtp_relay.clone())
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(30)));
        if let Some(user) = &config.smtp_username {
            let password = match &config.smtp_password_file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|source| Error::Io {
                        doing: "read the SMTP password file",
                        path: path.clone(),
                        source,
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                None => return Err(invalid("smtp_username needs smtp_password_file".into())),
            };
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

impl Relay for Smtp {
    fn send(&self, mail: Mail<'_>) -> std::result::Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("bad address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(mail.message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| format!("could not make the message: {e}"))?;
        // lettre's errors name the relay and the SMTP reply, never the credentials.
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One round: gather new notifications into outbox rows, then send what is due.
pub fn round(
    store: &mut Store,
    config: &NotificationsConfig,
    relay: &dyn Relay,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Round> {
    let mut done = Round::default();
    let now_text = text(now);
    for recipient in store.unannounced_recipients()? {
        let Some(address) = config.address_of(&recipient) else {
            continue;
        };
        let tx = store.begin()?;
        if tx.queue_mail(&recipient, address, &now_text)?.is_some() {
            done.queued += 1;
        }
        tx.commit()?;
    }
    let host = link
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("sharedcare.invalid");
    for row in store.due_mail(&now_text)? {
        match relay.send(compose(&row, link, host)) {
            Ok(()) => {
                let tx = store.begin()?;
                tx.mail_sent(row.id, &text(now))?;
                tx.commit()?;
                done.sent += 1;
            }
            Err(why) => {
                let pause = config
                    .batch_seconds
                    .saturating_mul(1 << row.attempts.clamp(0, 12))
                    .min(3600);
                let next = now + Duration::seconds(i64::try_from(pause).unwrap_or(3600));
                log::warn!(
                    "notification e-mail {} to the {} inbox not sent (attempt {}): {why}",
                    row.id,
                    row.recipient,
                    row.attempts + 1
                );
                let tx = store.begin()?;
                tx.mail_failed(row.id, &why, &text(next))?;
                tx.commit()?;
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// Runs rounds every `batch_seconds` on a thread of its own while the server runs, when a
/// relay is configured. The database is opened here, on the thread that uses it.
pub fn start(
    config: &crate::config::Config,
    link: String,
    clock: std::sync::Arc<dyn Clock>,
) -> Result<()> {
    let settings = config.notifications.clone();
    if settings.smtp_relay.is_empty() {
        return Ok(());
    }
    let relay = Smtp::new(&settings)?;
    let path = config.database_path();
    std::thread::Builder::new()
        .name("notification-mail".into())
        .spawn(move || {
            let pause = std::time::Duration::from_secs(settings.batch_seconds);
            let mut store: Option<Store> = None;
            loop {
                if store.is_none() {
                    match Store::open(&path) {
                        Ok(opened) => store = Some(opened),
                        Err(e) => log::error!(
                            "notification e-mail: opening the database failed: {}",
                            e.operator_summary()
                        ),
                    }
                }
                if let Some(open) = store.as_mut() {
                    if let Err(e) = round(open, &settings, &relay, &link, clock.now()) {
                        log::error!("notification e-mail round failed: {}", e.operator_summary());
                        store = None;
                    }
                }
                std::thread::sleep(pause);
            }
        })
        .map_err(|source| Error::Io {
            doing: "start the notification e-mail thread",
            path: path_placeholder(),
            source,
        })?;
    Ok(())
}

fn path_placeholder() -> std::path::PathBuf {
    std::path::PathBuf::from("notification-mail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewNotification;
    use std::sync::Mutex;

    /// A relay that records what it is given, or refuses while `down`.
    #[derive(Default)]
    struct Recorder {
        down: Mutex<bool>,
        sent: Mutex<Vec<(String, String, String, String)>>,
    }

    impl Relay for Recorder {
        fn send(&self, mail: Mail<'_>) -> std::result::Result<(), String> {
            if *self.down.lock().unwrap() {
                return Err("connection refused".into());
            }
            self.sent.lock().unwrap().push((
                mail.to.to_owned(),
                mail.subject,
                mail.body,
                mail.message_id,
            ));
            Ok(())
        }
    }

    fn notify(store: &mut Store, key: &str, recipient: &str) {
        let tx = store.begin().unwrap();
        tx.add_notification(
            &NewNotification {
                rule: "r",
                event_key: key,
                event: "admission",
                recipient,
                person_id: None,
                source_id: None,
                reference: None,
            },
            "2026-12-01T10:00:00Z",
        )
        .unwrap();
        tx.commit().unwrap();
    }

    fn config() -> NotificationsConfig {
        let mut addresses = std::collections::BTreeMap::new();
        addresses.insert("X99001".to_owned(), "orchard@example.org".to_owned());
        NotificationsConfig {
            smtp_relay: "relay.example.org".into(),
            from: "sharedcare@example.org".into(),
            addresses,
            batch_seconds: 60,
            ..Default::default()
        }
    }

    #[test]
    fn new_notifications_are_batched_into_one_e_mail_per_inbox_and_sent_once() {
        let mut store = Store::open_in_memory().unwrap();
        let relay = Recorder::default();
        let t0 = chrono::Utc::now();
        let link = "https://care.example.org/notifications";
        notify(&mut store, "a", "org:X99001");
        notify(&mut store, "b", "org:X99001");
        notify(&mut store, "b", "org:X99001"); // the same event again: no second one
        notify(&mut store, "c", "org:X99002"); // no address: inbox only
        let done = round(&mut store, &config(), &relay, link, t0).unwrap();
        assert_eq!((done.queued, done.sent, done.failed), (1, 1, 0));
        let sent = relay.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, "orchard@example.org");
        assert_eq!(sent[0].1, "You have 2 new notifications in sharedcare");
        assert!(sent[0].2.contains(link));
        assert!(sent[0].3.ends_with("@care.example.org>"), "{}", sent[0].3);
        let again = round(&mut store, &config(), &relay, link, t0).unwrap();
        assert_eq!(again, Round::default());
        assert_eq!(relay.sent.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_relay_that_is_down_is_tried_again_later_and_the_e_mail_goes_once() {
        let mut store = Store::open_in_memory().unwrap();
        let relay = Recorder::default();
        *relay.down.lock().unwrap() = true;
        let t0 = chrono::Utc::now();
        notify(&mut store, "a", "org:X99001");
        let first = round(&mut store, &config(), &relay, "https://x/n", t0).unwrap();
        assert_eq!((first.queued, first.sent, first.failed), (1, 0, 1));
        // Before the pause (one round after the first failure) nothing is tried.
        *relay.down.lock().unwrap() = false;
        let early = round(&mut store, &config(), &relay, "https://x/n", t0).unwrap();
        assert_eq!(early, Round::default());
        let later = t0 + Duration::seconds(120);
        let retried = round(&mut store, &config(), &relay, "https://x/n", later).unwrap();
        assert_eq!((retried.queued, retried.sent), (0, 1));
        let after = round(&mut store, &config(), &relay, "https://x/n", later).unwrap();
        assert_eq!(after, Round::default());
        assert_eq!(relay.sent.lock().unwrap().len(), 1);
    }
}
