//! Notification e-mail to a real SMTP relay: aiosmtpd (PyPI), started here with STARTTLS
//! required and a certificate from a test authority, writing what it receives to a maildir.
//! The e-mail says how many notifications wait and nothing about anybody; a relay that is down
//! and a server killed between the event and the delivery still deliver exactly once.

use super::super::server::*;
use super::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A certificate authority and a relay certificate for 127.0.0.1 it signed: (CA PEM path,
/// relay certificate path, relay key path).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("relay.pem"),
        dir.join("relay.key"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on `port`, STARTTLS required, saving mail into `maildir`.
struct Relay {
    child: Child,
    maildir: PathBuf,
}

impl Relay {
    fn start(port: u16, cert: &Path, key: &Path, maildir: &Path) -> Self {
        let mut relay = Command::new("python3");
        relay
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .arg("--tlscert")
            .arg(cert)
            .arg("--tlskey")
            .arg(key)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir);
        Self::spawn(relay, port, maildir)
    }

    /// A relay that also demands a login after STARTTLS: `user` with the password in
    /// `password_file` (aiosmtpd's own command line cannot, so a short script starts it).
    fn start_with_login(
        port: u16,
        (cert, key): (&Path, &Path),
        maildir: &Path,
        user: &str,
        password_file: &Path,
    ) -> Self {
        let mut relay = Command::new("python3");
        relay
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_login_relay.py"))
            .arg(port.to_string())
            .args([cert, key, maildir])
            .arg(user)
            .arg(password_file);
        Self::spawn(relay, port, maildir)
    }

    fn spawn(mut relay: Command, port: u16, maildir: &Path) -> Self {
        let child = relay
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            maildir: maildir.to_path_buf(),
        }
    }

    /// Every message received, as text.
    fn messages(&self) -> Vec<String> {
        let mut all = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(dir) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for file in dir {
                all.push(std::fs::read_to_string(file.unwrap().path()).unwrap());
            }
        }
        all
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn e_mail_through_a_starttls_relay_names_nobody_and_a_restart_delivers_exactly_once() {
    let env = region();
    let dir = env.data_dir().parent().unwrap().join("relay");
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let port = free_port();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[notifications]\nsmtp_relay = \"127.0.0.1\"\nsmtp_port = {port}\n\
             smtp_ca = \"{}\"\nfrom = \"sharedcare@care.example.org\"\nbatch_seconds = 1\n\
             [notifications.addresses]\nX99001 = \"orchard-surgery@example.org\"\n",
            ca.display()
        ),
    )
    .unwrap();

    // The relay is down when the event happens: the server tries, fails, and is killed.
    let s = Server::start_in(env);
    feed(
        &s.env,
        "WGH-PAS",
        "a01.hl7",
        &adt_of("A01", "N-E1", &MARGARET, "I", "V-E1", false, false),
    );
    let tried = |env: &Env| {
        env.count("SELECT count(*) FROM notification_mail WHERE attempts > 0 AND sent_at IS NULL")
    };
    wait_until("a failed attempt", || tried(&s.env) == 1);
    let env = s.kill();

    // The relay is up; a new server delivers what the old one could not.
    let relay = Relay::start(port, &cert, &key, &dir.join("maildir"));
    let s = Server::start_in(env);
    wait_until("the e-mail", || relay.messages().len() == 1);
    wait_until("the mark", || {
        s.env
            .count("SELECT count(*) FROM notification_mail WHERE sent_at IS NOT NULL")
            == 1
    });
    // Killed and started again with nothing new: nothing is sent again.
    let env = s.kill();
    let s = Server::start_in(env);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(relay.messages().len(), 1, "sent twice");
    assert_eq!(s.env.count("SELECT count(*) FROM notification_mail"), 1);

    let mail = relay.messages().remove(0);
    assert!(mail.contains("To: orchard-surgery@example.org"), "{mail}");
    assert!(
        mail.contains("You have 1 new notification in sharedcare"),
        "{mail}"
    );
    assert!(mail.contains("/notifications"), "{mail}");
    let lower = mail.to_lowercase();
    for detail in [
        "margaret",
        "thompson",
        "9994837567",
        "999 483 7567",
        "1938",
        "14/03",
        "orchard way",
        "wx1 4ab",
        "ashcombe",
        "w100233",
        "admission",
        "amu",
    ] {
        assert!(!lower.contains(detail), "the e-mail says {detail}:\n{mail}");
    }
}

#[test]
fn e_mail_through_a_relay_that_demands_a_login_signs_in_from_the_password_file_and_logs_no_password(
) {
    let env = region();
    let dir = env.data_dir().parent().unwrap().join("relay");
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let port = free_port();
    let relays = dir.join("relay-password");
    std::fs::write(&relays, "correct horse battery staple 7\n").unwrap();
    let ours = env.data_dir().join("smtp-password");
    std::fs::write(&ours, "an out of date password 3\n").unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[notifications]\nsmtp_relay = \"127.0.0.1\"\nsmtp_port = {port}\n\
             smtp_ca = \"{}\"\nsmtp_username = \"sharedcare\"\nsmtp_password_file = \"{}\"\n\
             from = \"sharedcare@care.example.org\"\nbatch_seconds = 1\n\
             [notifications.addresses]\nX99001 = \"orchard-surgery@example.org\"\n",
            ca.display(),
            ours.display()
        ),
    )
    .unwrap();
    let relay = Relay::start_with_login(
        port,
        (&cert, &key),
        &dir.join("maildir"),
        "sharedcare",
        &relays,
    );
    let log = dir.join("server.log");

    // With the wrong password the relay refuses the login: nothing is sent, the e-mail waits.
    let s = Server::start_logged(env, &log);
    feed(
        &s.env,
        "WGH-PAS",
        "a01.hl7",
        &adt_of("A01", "N-L1", &MARGARET, "I", "V-L1", false, false),
    );
    wait_until("a refused attempt", || {
        s.env
            .count("SELECT count(*) FROM notification_mail WHERE attempts > 0 AND sent_at IS NULL")
            >= 1
    });
    assert!(relay.messages().is_empty());
    let env = s.kill();

    // The operator puts the right password in the file; the restarted server signs in and
    // delivers the waiting e-mail once.
    std::fs::write(&ours, "correct horse battery staple 7\n").unwrap();
    let s = Server::start_logged(env, &log);
    wait_until("the e-mail", || relay.messages().len() == 1);
    wait_until("the mark", || {
        s.env
            .count("SELECT count(*) FROM notification_mail WHERE sent_at IS NOT NULL")
            == 1
    });
    // The log lives in the test's directory, which the environment owns: keep it.
    let _env = s.kill();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("not sent (attempt 1)"),
        "the refused login is in the log:\n{logged}"
    );
    for secret in ["correct horse", "out of date password"] {
        assert!(!logged.contains(secret), "the log holds a password");
    }
    let mail = relay.messages().remove(0);
    assert!(mail.contains("To: orchard-surgery@example.org"), "{mail}");
}
