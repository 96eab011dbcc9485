//! Continuous replication by Litestream, an existing engine: sharedcare writes its
//! configuration, stays out of its way, and brings a standby up from what it replicated.
//!
//! - `sharedcare replication config` prints a Litestream configuration for this data
//!   directory: every database file the server writes (the records and the audit trail), each
//!   to its own folder under the one
//!   replica `[replication] replica` names (a `file://` path on another disk or mount, or an
//!   `sftp://` standby server). Litestream 0.5 keeps one replica per database.
//! - With `[replication]` configured, no sharedcare connection checkpoints the write-ahead log
//!   (`store::leave_checkpoints_to_litestream`): Litestream does, after it has read the frames,
//!   so the two never race for the log.
//! - The keys (`audit.key`, the TLS and SFTP host keys) are not in the databases and never
//!   travel with them; the standby gets its own copy of `audit.key` once, by hand (README).
//! - `sharedcare replication restore` brings the data directory up from the replica: Litestream
//!   restores each database beside it, the copy is checked and put in place as a backup would
//!   be (`integrity_check`, the restore recorded in the audit trail), then the audit chain is
//!   verified with this directory's key. `replication drill` does the same into a scratch
//!   directory and compares the counts with the live database.

use crate::clock::Clock;
use crate::config::{Config, ReplicationConfig};
use crate::error::{Error, Result};
use crate::store::{Stats, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Checks `[replication]` when the configuration is read.
pub fn check(c: &ReplicationConfig) -> std::result::Result<(), String> {
    if c.sync_interval_seconds == 0 {
        return Err("[replication] sync_interval_seconds must be at least 1".into());
    }
    let Some(url) = &c.replica else {
        return Ok(());
    };
    match Replica::parse(url)? {
        Replica::Sftp { .. } if c.sftp_key.is_none() => Err(format!(
            "[replication] replica {url}: an SFTP replica needs sftp_key, the private key \
             Litestream logs in with"
        )),
        _ => Ok(()),
    }
}

/// Where the replica lives.
#[derive(Debug, Clone, PartialEq)]
enum Replica {
    File {
        path: String,
    },
    Sftp {
        user: String,
        host: String,
        path: String,
    },
}

impl Replica {
    fn parse(url: &str) -> std::result::Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "[replication] replica {url}: {why}; expected file:///path or \
                 sftp://user@host:port/path"
            )
        };
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad("the path must be absolute"));
            }
            return Ok(Self::File {
                path: path.trim_end_matches('/').to_owned(),
            });
        }
        let rest = url
            .strip_prefix("sftp://")
            .ok_or_else(|| bad("unknown kind"))?;
        let (authority, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("no path on the server"))?;
        let (user, host) = authority
            .split_once('@')
            .ok_or_else(|| bad("no user name"))?;
        if user.is_empty() || host.is_empty() || path.is_empty() {
            return Err(bad("user, host and path are all needed"));
        }
        let host = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:22")
        };
        Ok(Self::Sftp {
            user: user.to_owned(),
            host,
            path: format!("/{}", path.trim_end_matches('/')),
        })
    }
}

/// Every database file the server writes, by the name its replica folder takes; absolute, as
/// Litestream runs from anywhere.
pub fn databases(config: &Config) -> Vec<(&'static str, PathBuf)> {
    let path = config.database_path();
    let path = std::path::absolute(&path).unwrap_or(path);
    let audit = crate::store::audit_file::audit_path(&path);
    vec![("sharedcare", path), ("sharedcare-audit", audit)]
}

/// Where Litestream keeps database `name`'s replica, when it is a folder on this machine
/// (`file://`); None when no replica is configured or it is on another server.
pub fn local_replica(config: &Config, name: &str) -> Option<PathBuf> {
    let url = config.replication.replica.as_deref()?;
    match Replica::parse(url).ok()? {
        Replica::File { path } => Some(Path::new(&path).join(name)),
        Replica::Sftp { .. } => None,
    }
}

/// A value as YAML reads it: a JSON string is a YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn configured(config: &Config) -> Result<(Replica, &ReplicationConfig)> {
    let c = &config.replication;
    let url = c.replica.as_deref().ok_or_else(|| {
        Error::Invalid(
            "no replica is configured: set [replication] replica in config.toml (see README, \
             'Replication')"
                .into(),
        )
    })?;
    let replica = Replica::parse(url).map_err(Error::Invalid)?;
    Ok((replica, c))
}

/// The `replica:` block of one database.
fn replica_block(replica: &Replica, c: &ReplicationConfig, name: &str) -> String {
    let mut out = String::from("    replica:\n");
    match replica {
        Replica::File { path } => {
            out += "      type: file\n";
            out += &format!("      path: {}\n", quoted(&format!("{path}/{name}")));
        }
        Replica::Sftp { user, host, path } => {
            out += "      type: sftp\n";
            out += &format!("      host: {}\n", quoted(host));
            out += &format!("      user: {}\n", quoted(user));
            if let Some(key) = &c.sftp_key {
                out += &format!("      key-path: {}\n", quoted(&key.display().to_string()));
            }
            out += &format!("      path: {}\n", quoted(&format!("{path}/{name}")));
        }
    }
    out += &format!("      sync-interval: {}s\n", c.sync_interval_seconds);
    out
}

/// A Litestream configuration replicating `dbs` (name, path on this machine).
fn yaml(replica: &Replica, c: &ReplicationConfig, dbs: &[(&str, PathBuf)]) -> String {
    let mut out = String::from("dbs:\n");
    for (name, path) in dbs {
        out += &format!("  - path: {}\n", quoted(&path.display().to_string()));
        out += &replica_block(replica, c, name);
    }
    out
}

/// The Litestream configuration for this data directory, with how to run it.
pub fn litestream_config(config: &Config) -> Result<String> {
    let (replica, c) = configured(config)?;
    let data_dir = std::path::absolute(&config.data_dir).unwrap_or(config.data_dir.clone());
    let data_dir = data_dir.display();
    let mut out = format!(
        "# Litestream configuration for {data_dir}, written by `sharedcare replication config`.\n\
         # Run the server under Litestream, so that replication starts and stops with it:\n\
         #   litestream replicate -config THIS_FILE -exec \"sharedcare --data-dir {data_dir} serve\"\n\
         # sharedcare leaves checkpoints to Litestream while [replication] is configured.\n\
         # Keys (audit.key, tls/, the SFTP host key) are not replicated: see README, 'Replication'.\n"
    );
    out += &yaml(&replica, c, &databases(config));
    Ok(out)
}

#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub data_dir: PathBuf,
    pub replica: String,
    pub integrity: &'static str,
    pub audit: String,
    pub audit_ok: bool,
    pub counts: Stats,
}

/// Brings the data directory of `config` up from the replica (see the module's words).
pub fn restore(config: &Config, clock: &dyn Clock) -> Result<RestoreReport> {
    let (replica, c) = configured(config)?;
    let key = config.data_dir.join("audit.key");
    if !key.is_file() {
        return Err(Error::Invalid(format!(
            "{} is missing: copy audit.key from the primary's data directory here (mode 0600, \
             owned by the service account) by a channel of its own — it never travels with \
             the replica (README, 'Replication')",
            key.display()
        )));
    }
    // Each file is restored beside the database under a name that keeps them a pair (the
    // audit file is found beside the database file), then put in place as a backup is.
    let staged = config.data_dir.join("replica-restore.db");
    let pair = [
        ("sharedcare", staged.clone()),
        (
            "sharedcare-audit",
            crate::store::audit_file::audit_path(&staged),
        ),
    ];
    let remove_pair = || pair.iter().for_each(|(_, p)| remove_database(p));
    remove_pair();
    for (name, path) in &pair {
        if let Err(e) = litestream_restore(&replica, c, &config.data_dir, name, path) {
            remove_pair();
            return Err(e);
        }
    }
    let described = format!(
        "replica {}",
        config.replication.replica.as_deref().unwrap_or_default()
    );
    let restored = crate::jobs::backup::restore_described(
        config,
        &staged,
        &described,
        &crate::audit::Actor::operator(),
        clock,
    );
    remove_pair();
    restored?;
    let checked = crate::jobs::backup::RestoredCheck::of(config)?;
    let report = checked.audit;
    let audit_ok = report.broken.is_none();
    let mut audit = report.summary();
    if report
        .broken
        .as_ref()
        .is_some_and(|b| b.seq == 1 && matches!(b.problem, crate::audit::Problem::HashMismatch))
    {
        audit += " — is this directory's audit.key the primary's?";
    }
    Ok(RestoreReport {
        data_dir: config.data_dir.clone(),
        replica: config.replication.replica.clone().unwrap_or_default(),
        integrity: if checked.integrity == "ok" {
            "ok"
        } else {
            "failed"
        },
        audit,
        audit_ok,
        counts: checked.counts,
    })
}

/// Has Litestream restore database `name` from the replica into `into`.
fn litestream_restore(
    replica: &Replica,
    c: &ReplicationConfig,
    dir: &Path,
    name: &str,
    into: &Path,
) -> Result<()> {
    let settings = dir.join(format!(".{name}-restore.yml"));
    let text = yaml(replica, c, &[(name, into.to_path_buf())]);
    crate::data_dir::write_private(&settings, text.as_bytes()).map_err(|e| Error::Io {
        doing: "write",
        path: settings.clone(),
        source: e,
    })?;
    let ran = Command::new(&c.litestream)
        .arg("restore")
        .arg("-no-expand-env")
        .arg("-config")
        .arg(&settings)
        .arg(into)
        .output();
    let _ = std::fs::remove_file(&settings);
    let ran = ran.map_err(|e| {
        Error::Invalid(format!(
            "cannot run Litestream ({}): {e}; install it or set [replication] litestream",
            c.litestream.display()
        ))
    })?;
    if !ran.status.success() {
        return Err(Error::Invalid(format!(
            "Litestream could not restore {name} from the replica: {}",
            String::from_utf8_lossy(&ran.stderr).trim()
        )));
    }
    Ok(())
}

fn remove_database(path: &Path) {
    for file in crate::store::database_files(path) {
        let _ = std::fs::remove_file(file);
    }
}

#[derive(Debug, Serialize)]
pub struct DrillReport {
    pub restored: RestoreReport,
    /// The live database's counts now; the replica may be a few seconds behind them.
    pub live: Stats,
    pub ok: bool,
    /// The scratch directory, kept when the drill failed.
    pub kept: Option<PathBuf>,
}

/// Restores the replica into a scratch directory under the data directory, checks it, and
/// compares its counts with the live database's.
pub fn drill(config: &Config, clock: &dyn Clock) -> Result<DrillReport> {
    let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let scratch = config.data_dir.join("drill").join(stamp);
    crate::data_dir::create_private_dir(&scratch).map_err(|e| Error::Io {
        doing: "create",
        path: scratch.clone(),
        source: e,
    })?;
    let io = |doing, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io {
            doing,
            path,
            source,
        }
    };
    let key = config.data_dir.join("audit.key");
    let scratch_key = scratch.join("audit.key");
    std::fs::copy(&key, &scratch_key)
        .and_then(|_| crate::data_dir::make_private(&scratch_key))
        .map_err(io("copy", &key))?;
    let mut scratch_config = Config::load(&scratch)?;
    scratch_config.replication = config.replication.clone();
    let restored = restore(&scratch_config, clock)?;
    let live = Store::open(&config.database_path())?.stats()?;
    let ok = restored.integrity == "ok" && restored.audit_ok;
    let kept = if ok {
        let _ = std::fs::remove_dir_all(&scratch);
        None
    } else {
        Some(scratch)
    };
    Ok(DrillReport {
        restored,
        live,
        ok,
        kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_urls_are_read_or_refused_with_the_expected_form() {
        assert_eq!(
            Replica::parse("file:///mnt/standby/sc/"),
            Ok(Replica::File {
                path: "/mnt/standby/sc".into()
            })
        );
        assert_eq!(
            Replica::parse("sftp://repl@standby.example.org/var/lib/sc"),
            Ok(Replica::Sftp {
                user: "repl".into(),
                host: "standby.example.org:22".into(),
                path: "/var/lib/sc".into()
            })
        );
        for bad in [
            "file://relative/path",
            "s3://bucket/x",
            "sftp://standby/x",
            "sftp://u@h",
        ] {
            let why = Replica::parse(bad).unwrap_err();
            assert!(why.contains("expected file:///path"), "{bad}: {why}");
        }
    }

    #[test]
    fn an_sftp_replica_needs_a_key_and_paths_are_quoted() {
        let mut c = ReplicationConfig {
            replica: Some("sftp://repl@standby:2022/srv/sc".into()),
            ..Default::default()
        };
        assert!(check(&c).unwrap_err().contains("sftp_key"));
        c.sftp_key = Some(PathBuf::from("/etc/sharedcare/repl key"));
        assert_eq!(check(&c), Ok(()));
        let replica = Replica::parse(c.replica.as_deref().unwrap()).unwrap();
        let text = yaml(
            &replica,
            &c,
            &[("sharedcare", PathBuf::from("/data/a \"b\"/sharedcare.db"))],
        );
        assert!(text.contains("  - path: \"/data/a \\\"b\\\"/sharedcare.db\"\n"));
        assert!(text.contains("      host: \"standby:2022\"\n"));
        assert!(text.contains("      key-path: \"/etc/sharedcare/repl key\"\n"));
        assert!(text.contains("      path: \"/srv/sc/sharedcare\"\n"));
    }
}
