//! One typed configuration, from `config.toml` in the data directory; every key documented here.

use crate::error::{Error, Result};
use crate::model::SourceKind;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The data directory is where everything sharedcare keeps lives:
///
/// ```text
/// sharedcare-data/
///   config.toml        optional; see Config
///   sharedcare.db      the SQLite database (+ -wal, -shm while open)
///   audit.key          the key the audit trail is chained with (0600; see audit)
///   audit.head         the audit chain's last (seq, hash), MACed (see audit)
///   inbox/ processing/ done/ quarantine/   feed files by stage and source (see sources)
///   backups/           sharedcare-<timestamp>.db (or .db.age, encrypted), verified copies
///                      (see jobs::backup)
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub matching: MatchingConfig,
    pub web: WebConfig,
    pub sftp: SftpConfig,
    pub jobs: JobsConfig,
    pub feeds: FeedsConfig,
    pub access: AccessConfig,
    pub results: ResultsConfig,
    pub replication: ReplicationConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
    pub mllp: crate::sources::mllp::MllpConfig,
    pub backup: BackupConfig,
    pub check: CheckConfig,
    pub notifications: crate::notify::NotificationsConfig,
    pub database: crate::store::tuning::DatabaseConfig,
    pub citizen: crate::citizen::CitizenConfig,
    pub population: crate::population::PopulationConfig,
}

/// Backups that survive the server (see `jobs::backup` and `jobs::drill`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// An age public key (`age1…`, from `age-keygen` or `rage-keygen`): every backup is
    /// encrypted to it (`sharedcare-<time>.db.age` and its `-audit.db.age`), and no plain copy
    /// is kept. Restoring one takes the matching identity file (`restore --identity FILE`),
    /// which belongs off this server. None: backups are plain SQLite files, private to the
    /// service.
    pub recipient: Option<String>,
    /// A second folder, on another disk or a mount of another machine, each backup pair is
    /// copied to once it is whole (temp name, fsync, rename); it keeps as many as
    /// `feeds.backups_keep`. None: backups stay in DATA_DIR/backups/ only.
    pub copy_to: Option<PathBuf>,
    /// The identity file the weekly restore drill (`jobs.restore_drill`) decrypts the newest
    /// backup with. Only for the drill: keep it outside the data directory, 0600, readable by
    /// the service alone; without it a drill of encrypted backups reports a failure.
    pub drill_identity: Option<PathBuf>,
}

/// What `sharedcare check` calls needing attention.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckConfig {
    /// Less free space than this percentage of the data directory's disk needs attention.
    /// Default 10.
    pub min_disk_free_percent: f64,
    /// A replica further behind the database than this needs attention. Default 300 (five
    /// minutes).
    pub max_replica_lag_seconds: i64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        Self {
            min_disk_free_percent: 10.0,
            max_replica_lag_seconds: 300,
        }
    }
}

/// Continuous replication of the databases by Litestream (see `replication`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationConfig {
    /// Where Litestream keeps the replica: `file:///path` (another disk or mount) or
    /// `sftp://user@host:port/path` (a standby server). None: no replication, and the server
    /// checkpoints its write-ahead log itself.
    pub replica: Option<String>,
    /// The private key Litestream logs in to an SFTP replica with.
    pub sftp_key: Option<PathBuf>,
    /// How often Litestream ships new changes to the replica, in seconds. Default 1.
    pub sync_interval_seconds: u64,
    /// The Litestream program (`replication restore` and `drill` run it). Default:
    /// `litestream` on the PATH.
    pub litestream: PathBuf,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        Self {
            replica: None,
            sftp_key: None,
            sync_interval_seconds: 1,
            litestream: PathBuf::from("litestream"),
        }
    }
}

/// The Prometheus metrics endpoint (see `ops::metrics`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address and port where `GET /metrics` answers, in Prometheus text format, without a
    /// login (counts and times only, never a person's data): keep it on a monitoring network
    /// or loopback. Default blank: off.
    pub listen: String,
}

/// Log lines (on standard error; the journal under systemd).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `"text"` or `"json"` (one object per line: time, level, target, message).
    /// `SHAREDCARE_LOG_FORMAT` overrides it. Default text.
    pub format: crate::ops::log::LogFormat,
}

/// How results are read (see `record::results`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResultsConfig {
    /// A lab code table replacing the shipped one (local lab codes → common tests, panels and
    /// units). Read once at start. Default: shipped.
    pub lab_codes: Option<PathBuf>,
}

/// Who may see what (see `access`). Times are how long access lasts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// A policy file replacing the shipped one (roles and what they may do). Default: shipped.
    pub policy: Option<PathBuf>,
    /// A sensitive-code list replacing the shipped one. Default: shipped.
    pub sensitive_codes: Option<PathBuf>,
    /// After a discharge, an attendance or the end of a social-care case, the organisation
    /// keeps its care relationship for this many hours. Default 72.
    pub relationship_grace_hours: i64,
    /// A notification to a user's organisation about a person (see `notify`) opens that
    /// person's record to the organisation for this many hours after it was raised. 0 (the
    /// default): a notification is never a reason to open a record; the care relationships the
    /// record shows, a self-claim or broken glass are.
    pub notification_relationship_hours: i64,
    /// A self-claimed relationship lasts this many hours. Default 168 (one week).
    pub self_claim_hours: i64,
    /// Broken glass gives access for this many hours. Default 4.
    pub break_glass_hours: i64,
    /// Whether breaking glass also overrides a person's objection to sharing. Default false.
    pub break_glass_overrides_objection: bool,
    /// An API token made now works for this many days (`sharedcare token create --days`
    /// may ask for fewer). Default 90.
    pub api_token_days: i64,
    /// The site's misuse rules, laid over the shipped ones key by key (tune a rule or turn it
    /// off; see `misuse::rules` and `sharedcare misuse rules`). Default: shipped only.
    pub misuse_rules: Option<PathBuf>,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            policy: None,
            sensitive_codes: None,
            relationship_grace_hours: 72,
            notification_relationship_hours: 0,
            self_claim_hours: 168,
            break_glass_hours: 4,
            break_glass_overrides_objection: false,
            api_token_days: 90,
            misuse_rules: None,
        }
    }
}

/// When each scheduled job runs: cron expressions with a seconds field
/// (`sec min hour day-of-month month day-of-week`, UTC); blank disables the job. A run that
/// outlasts its interval is never overlapped: the next run is the first time after it ends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Claim and import ready files from every source's inbox. Default every 10 seconds.
    pub inbox_scan: String,
    /// Check every source against its expected cadence. Default every 5 minutes.
    pub overdue_check: String,
    /// Online backup into DATA_DIR/backups/, verified and rotated. Default 02:30 daily.
    pub backup: String,
    /// Delete done files and rejected units past their retention. Default 03:00 daily.
    pub retention: String,
    /// Merge the full-text index segments. Default 04:00 on Sundays.
    pub fts_optimise: String,
    /// Verify the audit trail's HMAC chain and its head (`sharedcare audit verify`); a broken
    /// chain fails the run and is logged. Default 03:30 daily.
    pub audit_verify: String,
    /// Restore the newest backup into a scratch directory and check it (`integrity_check`,
    /// the audit chain, counts); the outcome shows on feed health and in `/metrics`
    /// (`sharedcare restore-drill` runs it by hand). Default 05:00 on Sundays.
    pub restore_drill: String,
    /// Evaluate new audit events against the misuse rules (`sharedcare misuse check`).
    /// Default every minute.
    pub misuse_watch: String,
    /// Recompute the population dashboard's figures (`sharedcare population refresh`).
    /// Default 06:00 daily.
    pub population: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            inbox_scan: "*/10 * * * * *".into(),
            overdue_check: "0 */5 * * * *".into(),
            backup: "0 30 2 * * *".into(),
            retention: "0 0 3 * * *".into(),
            fts_optimise: "0 0 4 * * Sun".into(),
            audit_verify: "0 30 3 * * *".into(),
            restore_drill: "0 0 5 * * Sun".into(),
            misuse_watch: "0 * * * * *".into(),
            population: "0 0 6 * * *".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsConfig {
    /// A source past its due time turns amber, and red this many minutes later. Default 60.
    pub overdue_grace_minutes: i64,
    /// Imported files stay in DATA_DIR/done/ this many days; 0 keeps them forever. Default 30.
    pub done_retention_days: i64,
    /// Rejected units (with their raw content) are kept this many days after their file was
    /// imported; 0 keeps them forever. Default 90.
    pub reject_retention_days: i64,
    /// How many backups DATA_DIR/backups/ keeps, newest first. Default 7.
    pub backups_keep: usize,
    /// The folders a source's drop folder (`source edit --drop-folder`, the source form) may be
    /// in, or be. A drop folder's files are moved into the data directory and shown on the feed
    /// pages, so this is the operator's list, not the administrator's: only whoever edits this
    /// file widens it. Whatever it says, a drop folder is never a symlink, nor inside or above
    /// the data directory. Default empty: no drop folders, only each source's
    /// DATA_DIR/inbox/<SOURCE>/ (and SFTP).
    pub drop_folder_roots: Vec<PathBuf>,
}

impl Default for FeedsConfig {
    fn default() -> Self {
        Self {
            overdue_grace_minutes: 60,
            done_retention_days: 30,
            reject_retention_days: 90,
            backups_keep: 7,
            drop_folder_roots: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SftpConfig {
    /// Address and port of the embedded SFTP server sources upload to (`serve --sftp-listen`
    /// overrides); blank disables it. Default 0.0.0.0:2222.
    pub listen: String,
    /// The largest file one upload may be, in bytes; a bigger upload is refused. Default 1 GiB.
    pub max_file_bytes: u64,
    /// The most bytes one source's files may take while they wait to be imported (its uploads
    /// in flight and its inbox); an upload past it is refused, so one sender cannot fill the
    /// disk. Default 4 GiB.
    pub source_quota_bytes: u64,
    /// An unfinished upload (never closed, or left under a temporary name such as `x.part`)
    /// untouched for this many hours is removed by the inbox scan. Default 24.
    pub abandoned_upload_hours: i64,
    /// A connection that has not logged in this many seconds after it opened is closed.
    /// Default 30.
    pub auth_timeout_seconds: u64,
    /// A logged-in connection with no traffic for this many seconds is closed. Default 600.
    pub idle_timeout_seconds: u64,
    /// At most this many connections are open at once; more are closed at once. Default 64.
    pub max_connections: usize,
    /// At most this many of them may be still logging in; more are closed at once, before the
    /// SSH greeting, so idle pre-authentication connections cannot pile up. Default 16.
    pub max_unauthenticated: usize,
    /// At most this many of those from any one address, so that one address cannot hold every
    /// slot. Default 4.
    pub max_unauthenticated_per_address: usize,
}

impl Default for SftpConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:2222".into(),
            max_file_bytes: 1 << 30,
            source_quota_bytes: 4 << 30,
            abandoned_upload_hours: 24,
            auth_timeout_seconds: 30,
            idle_timeout_seconds: 600,
            max_connections: 64,
            max_unauthenticated: 16,
            max_unauthenticated_per_address: 4,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Address and port of the HTTPS server (`serve --listen` overrides). Default 0.0.0.0:8443.
    pub listen: String,
    /// PEM certificate chain and private key. When both are blank a self-signed certificate is
    /// made at first start in the data directory (`tls/`), and its fingerprint printed.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A session ends after this many minutes without a request. Default 30.
    pub session_idle_minutes: i64,
    /// A session ends this many hours after sign-in, however active. Default 12.
    pub session_max_hours: i64,
    /// The address of a reverse proxy in front of this server, whose word on the client's
    /// address (in `proxy_header`) is believed — on connections from that address only.
    /// Default: none, and every forwarding header is ignored (see `web::address`).
    pub trusted_proxy: Option<IpAddr>,
    /// The header `trusted_proxy` puts the client's address in; for a list such as
    /// `X-Forwarded-For`, the last entry is taken. Default `X-Real-IP`.
    pub proxy_header: String,
    /// Where users and API clients reach this server, e.g. `https://care.example.org`: the
    /// FHIR API builds its links (`fullUrl`, `self`) from it, never from the request's `Host`
    /// header. Default: `https://` and the listen address and port (`localhost` when listening
    /// on every address, the name the self-signed certificate is made for).
    pub public_url: Option<String>,
    /// At most this many connections open at once (see `web::front_door`). Default 1024.
    pub max_connections: usize,
    /// At most this many from one address (the trusted proxy is held to the total only).
    /// Default 256: a hospital's clinicians may all reach the server from one NAT address.
    pub max_connections_per_address: usize,
    /// A new connection that sends nothing for this long is closed. Default 10.
    pub silent_connection_seconds: u64,
    /// From a client's first byte of an exchange (a TLS handshake, a request's headers and
    /// body) until the server starts its answer, at most this long. Default 60.
    pub request_seconds: u64,
    /// A connection with no traffic either way for this long is closed. Default 60.
    pub idle_seconds: u64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8443".into(),
            tls_cert: None,
            tls_key: None,
            session_idle_minutes: 30,
            session_max_hours: 12,
            trusted_proxy: None,
            proxy_header: "X-Real-IP".into(),
            public_url: None,
            max_connections: 1024,
            max_connections_per_address: 256,
            silent_connection_seconds: 10,
            request_seconds: 60,
            idle_seconds: 60,
        }
    }
}

impl WebConfig {
    /// Refuses values that would only fail later, or quietly mean something else.
    fn check(&self) -> std::result::Result<(), String> {
        if self.max_connections == 0
            || self.max_connections_per_address == 0
            || self.silent_connection_seconds == 0
            || self.request_seconds == 0
            || self.idle_seconds == 0
        {
            return Err("[web] max_connections, max_connections_per_address, \
                        silent_connection_seconds, request_seconds and idle_seconds must each \
                        be at least 1"
                .into());
        }
        if let Some(url) = &self.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            let host = rest.and_then(|r| r.split('/').next()).unwrap_or("");
            if host.is_empty()
                || url.contains(['?', '#', '\\'])
                || url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(format!(
                    "[web] public_url = {url:?}: give the address users reach this server at, \
                     e.g. \"https://care.example.org\""
                ));
            }
        }
        if self.proxy_header.trim().is_empty() {
            return Err(
                "[web] proxy_header is blank: name the header the proxy sets, e.g. \
                        \"X-Real-IP\""
                    .into(),
            );
        }
        Ok(())
    }

    /// `public_url` without a trailing slash, or the default made from `listen` (`address`
    /// and `port` are where the server actually listens, the port known once bound).
    pub fn public_base(&self, address: IpAddr, port: u16) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if address.is_unspecified() => format!("https://localhost:{port}"),
            None => format!("https://{}", std::net::SocketAddr::new(address, port)),
        }
    }
}

impl SftpConfig {
    fn check(&self) -> std::result::Result<(), String> {
        if self.auth_timeout_seconds == 0
            || self.idle_timeout_seconds == 0
            || self.max_connections == 0
            || self.max_unauthenticated == 0
        {
            return Err(
                "[sftp] auth_timeout_seconds, idle_timeout_seconds, max_connections \
                        and max_unauthenticated must each be at least 1"
                    .into(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingConfig {
    /// Which kinds of source win when linked sources disagree about a person's demographics,
    /// most trusted first. Default: GP, acute, community, mental health, social care.
    pub precedence: Vec<SourceKind>,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        Self {
            precedence: SourceKind::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConfigFile {
    matching: MatchingConfig,
    web: WebConfig,
    sftp: SftpConfig,
    jobs: JobsConfig,
    feeds: FeedsConfig,
    access: AccessConfig,
    results: ResultsConfig,
    replication: ReplicationConfig,
    metrics: MetricsConfig,
    log: LogConfig,
    mllp: crate::sources::mllp::MllpConfig,
    backup: BackupConfig,
    check: CheckConfig,
    notifications: crate::notify::NotificationsConfig,
    database: crate::store::tuning::DatabaseConfig,
    citizen: crate::citizen::CitizenConfig,
    population: crate::population::PopulationConfig,
}

impl Config {
    /// Reads `config.toml` from the data directory when present; defaults otherwise.
    pub fn load(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join("config.toml");
        let file: ConfigFile = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(source) => {
                return Err(Error::Io {
                    doing: "read",
                    path,
                    source,
                })
            }
        };
        file.web
            .check()
            .and_then(|()| file.sftp.check())
            .and_then(|()| crate::replication::check(&file.replication))
            .and_then(|()| file.mllp.check())
            .and_then(|()| crate::jobs::encrypted::check(&file.backup))
            .and_then(|()| file.database.check())
            .and_then(|()| file.citizen.check())
            .map_err(|why| Error::Invalid(format!("{}: {why}", path.display())))?;
        let notifications = file
            .notifications
            .load()
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            matching: file.matching,
            web: file.web,
            sftp: file.sftp,
            jobs: file.jobs,
            feeds: file.feeds,
            access: file.access,
            results: file.results,
            replication: file.replication,
            metrics: file.metrics,
            log: file.log,
            mllp: file.mllp,
            backup: file.backup,
            check: file.check,
            notifications,
            database: file.database,
            citizen: file.citizen,
            population: file.population,
        })
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("sharedcare.db")
    }

    /// Rank of a source kind in the precedence list; lower wins.
    pub fn precedence_rank(&self, kind: SourceKind) -> usize {
        self.matching
            .precedence
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(self.matching.precedence.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_file_is_valid_and_states_the_defaults() {
        let file: ConfigFile = toml::from_str(include_str!("../packaging/config.toml")).unwrap();
        let defaults = ConfigFile::default();
        assert_eq!(file.matching.precedence, defaults.matching.precedence);
        assert_eq!(file.web.listen, defaults.web.listen);
        assert_eq!(
            file.web.session_idle_minutes,
            defaults.web.session_idle_minutes
        );
        assert_eq!(file.web.session_max_hours, defaults.web.session_max_hours);
        assert_eq!(file.sftp.listen, defaults.sftp.listen);
        assert_eq!(file.mllp, defaults.mllp);
        assert_eq!(file.database, defaults.database);
        assert_eq!(file.citizen, defaults.citizen);
        assert_eq!(file.population, defaults.population);
        assert_eq!(file.sftp.max_file_bytes, defaults.sftp.max_file_bytes);
        assert_eq!(
            file.sftp.source_quota_bytes,
            defaults.sftp.source_quota_bytes
        );
        assert_eq!(
            file.sftp.abandoned_upload_hours,
            defaults.sftp.abandoned_upload_hours
        );
        let (s, d) = (&file.sftp, &defaults.sftp);
        assert_eq!(
            (
                s.auth_timeout_seconds,
                s.idle_timeout_seconds,
                s.max_connections,
                s.max_unauthenticated,
                s.max_unauthenticated_per_address
            ),
            (
                d.auth_timeout_seconds,
                d.idle_timeout_seconds,
                d.max_connections,
                d.max_unauthenticated,
                d.max_unauthenticated_per_address
            )
        );
        assert_eq!(file.web.trusted_proxy, defaults.web.trusted_proxy);
        assert_eq!(file.web.proxy_header, defaults.web.proxy_header);
        assert_eq!(file.web.public_url, defaults.web.public_url);
        let (j, d) = (&file.jobs, &defaults.jobs);
        assert_eq!(
            (
                &j.inbox_scan,
                &j.overdue_check,
                &j.backup,
                &j.retention,
                &j.fts_optimise,
                &j.audit_verify,
                &j.restore_drill
            ),
            (
                &d.inbox_scan,
                &d.overdue_check,
                &d.backup,
                &d.retention,
                &d.fts_optimise,
                &d.audit_verify,
                &d.restore_drill
            )
        );
        let (f, d) = (&file.feeds, &defaults.feeds);
        assert_eq!(f.overdue_grace_minutes, d.overdue_grace_minutes);
        assert_eq!(f.done_retention_days, d.done_retention_days);
        assert_eq!(f.reject_retention_days, d.reject_retention_days);
        assert_eq!(f.backups_keep, d.backups_keep);
        assert_eq!(f.drop_folder_roots, d.drop_folder_roots);
        assert_eq!(file.results.lab_codes, defaults.results.lab_codes);
        assert_eq!(
            (
                file.check.min_disk_free_percent,
                file.check.max_replica_lag_seconds
            ),
            (
                defaults.check.min_disk_free_percent,
                defaults.check.max_replica_lag_seconds
            )
        );
        let b = &file.backup;
        assert!(b.recipient.is_none() && b.copy_to.is_none() && b.drill_identity.is_none());
        let (n, d) = (&file.notifications, &defaults.notifications);
        assert_eq!(
            (
                &n.rules,
                &n.smtp_relay,
                n.smtp_port,
                n.smtp_tls,
                n.batch_seconds
            ),
            (
                &d.rules,
                &d.smtp_relay,
                d.smtp_port,
                d.smtp_tls,
                d.batch_seconds
            )
        );
        let (a, d) = (&file.access, &defaults.access);
        assert_eq!(
            (
                a.relationship_grace_hours,
                a.self_claim_hours,
                a.break_glass_hours,
                a.break_glass_overrides_objection,
                a.api_token_days
            ),
            (
                d.relationship_grace_hours,
                d.self_claim_hours,
                d.break_glass_hours,
                d.break_glass_overrides_objection,
                d.api_token_days
            )
        );
    }

    #[test]
    fn the_public_url_is_checked_and_defaults_to_the_listen_address() {
        let web = |url: Option<&str>| WebConfig {
            public_url: url.map(str::to_owned),
            ..Default::default()
        };
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(web(None).public_base(any, 8443), "https://localhost:8443");
        assert_eq!(web(None).public_base(local, 9), "https://127.0.0.1:9");
        let set = web(Some("https://care.example.org/"));
        assert!(set.check().is_ok());
        assert_eq!(set.public_base(local, 9), "https://care.example.org");
        for bad in [
            "care.example.org",
            "https://",
            "https://x/?q",
            "https://a b",
            "ftp://x",
        ] {
            assert!(web(Some(bad)).check().is_err(), "{bad}");
        }
    }

    #[test]
    fn sftp_limits_of_zero_are_refused() {
        let sftp = SftpConfig {
            max_unauthenticated: 0,
            ..Default::default()
        };
        assert!(sftp.check().is_err());
        assert!(SftpConfig::default().check().is_ok());
    }
}
