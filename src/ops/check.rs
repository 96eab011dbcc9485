//! `sharedcare check`: is this installation in a state to keep running? Config, the TLS
//! certificate's expiry, the private keys' permissions, the database's integrity and schema,
//! the disk's free space (`[check] min_disk_free_percent`) and how far behind its replica is
//! (`[check] max_replica_lag_seconds`, see `replica_lag`), each reported as ok or needing
//! attention.
//!
//! It reads and never changes: it does not make a missing key or tighten a permission (the
//! server's start does those), so what it reports is what is there.

use crate::config::Config;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A certificate expiring within this many days needs attention.
pub const CERTIFICATE_WARNING_DAYS: i64 = 21;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

fn finding(what: &str, ok: bool, detail: impl Into<String>) -> Finding {
    Finding {
        what: what.to_owned(),
        ok,
        detail: detail.into(),
    }
}

/// Every check, in order. `config` is what `Config::load` read (a config that does not load
/// stops the command before this, with its own error).
pub fn run(config: &Config, now: DateTime<Utc>) -> Vec<Finding> {
    let dir = &config.data_dir;
    let mut out = vec![finding(
        "config",
        true,
        if dir.join("config.toml").is_file() {
            format!("{} reads cleanly", dir.join("config.toml").display())
        } else {
            "no config.toml: the defaults are in force".to_owned()
        },
    )];
    out.push(certificate(config, now));
    let mut keys = vec![
        ("audit key", dir.join(crate::audit::key::KEY_FILE)),
        (
            "citizens' secret key",
            dir.join(crate::citizen::secret_key::KEY_FILE),
        ),
        (
            "SFTP host key",
            crate::sources::sftp::keys::host_key_path(dir),
        ),
    ];
    keys.push(("TLS key", tls_files(config).1));
    for (what, path) in keys {
        out.push(key_permissions(what, &path));
    }
    out.push(database(config));
    out.push(disk(dir, config.check.min_disk_free_percent / 100.0));
    out.extend(replication(config));
    out
}

/// One finding per replicated database: its lag where it can be measured.
fn replication(config: &Config) -> Vec<Finding> {
    let lags = crate::replica_lag::replica_lags(config);
    if lags.is_empty() {
        return vec![finding(
            "replication",
            true,
            "not configured ([replication] replica): the last backup is the recovery point",
        )];
    }
    let max = config.check.max_replica_lag_seconds;
    lags.into_iter()
        .map(|l| {
            let local = crate::replication::local_replica(config, l.database).is_some();
            let database_exists = config.database_path().exists();
            let (ok, detail) = match l.seconds {
                Some(s) if s > max => (
                    false,
                    format!(
                        "{}: more than {max} s behind; is Litestream running and the replica's \
                         disk writable?",
                        l.detail
                    ),
                ),
                Some(_) => (true, l.detail),
                // An SFTP replica, or no database yet, cannot be judged from here; a local
                // replica with nothing in it, beside a database, is behind.
                None => (!(local && database_exists), l.detail),
            };
            finding("replication", ok, detail)
        })
        .collect()
}

fn tls_files(config: &Config) -> (PathBuf, PathBuf) {
    match (&config.web.tls_cert, &config.web.tls_key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => {
            let dir = config.data_dir.join("tls");
            (dir.join("cert.pem"), dir.join("key.pem"))
        }
    }
}

fn certificate(config: &Config, now: DateTime<Utc>) -> Finding {
    let (cert, _) = tls_files(config);
    let configured = config.web.tls_cert.is_some();
    let pem = match std::fs::read_to_string(&cert) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !configured => {
            return finding(
                "certificate",
                true,
                "none yet: the server makes a self-signed one at its first start",
            )
        }
        Err(e) => {
            return finding(
                "certificate",
                false,
                format!("{} cannot be read: {e}", cert.display()),
            )
        }
    };
    match super::certificate::not_after(&pem) {
        Ok(end) if end <= now => finding(
            "certificate",
            false,
            format!(
                "{} expired on {}: browsers refuse it; replace it",
                cert.display(),
                end.format("%Y-%m-%d")
            ),
        ),
        Ok(end) => {
            let days = (end - now).num_days();
            finding(
                "certificate",
                days >= CERTIFICATE_WARNING_DAYS,
                format!(
                    "{} valid until {} ({days} days){}",
                    cert.display(),
                    end.format("%Y-%m-%d"),
                    if days < CERTIFICATE_WARNING_DAYS {
                        ": renew it soon"
                    } else {
                        ""
                    }
                ),
            )
        }
        Err(why) => finding("certificate", false, format!("{}: {why}", cert.display())),
    }
}

fn key_permissions(what: &str, path: &Path) -> Finding {
    match std::fs::symlink_metadata(path) {
        Ok(m) => {
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 == 0 {
                finding(
                    what,
                    true,
                    format!("{} is private ({mode:04o})", path.display()),
                )
            } else {
                finding(
                    what,
                    false,
                    format!(
                        "{} may be read by others ({mode:04o}): it may have been copied \
                         already; consider replacing it, then chmod 600 {}",
                        path.display(),
                        path.display()
                    ),
                )
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => finding(
            what,
            true,
            format!("{} not made yet (the server makes it)", path.display()),
        ),
        Err(e) => finding(what, false, format!("{}: {e}", path.display())),
    }
}

fn database(config: &Config) -> Finding {
    let path = config.database_path();
    if !path.exists() {
        return finding(
            "database",
            true,
            "none yet: made at the first start or import",
        );
    }
    match crate::store::check_database(&path) {
        Ok(summary) => finding("database", true, summary),
        Err(why) => finding("database", false, format!("{}: {why}", path.display())),
    }
}

fn disk(dir: &Path, min_free: f64) -> Finding {
    match rustix::fs::statvfs(dir) {
        Ok(s) => {
            let total = s.f_blocks.saturating_mul(s.f_frsize);
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            disk_finding(dir, free, total, min_free)
        }
        Err(e) => finding("disk", false, format!("{}: {e}", dir.display())),
    }
}

fn disk_finding(dir: &Path, free: u64, total: u64, min_free: f64) -> Finding {
    let fraction = if total == 0 {
        0.0
    } else {
        free as f64 / total as f64
    };
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    finding(
        "disk",
        fraction >= min_free,
        format!(
            "{:.1} GiB free of {:.1} GiB ({:.0} %) where {} is{}",
            gib(free),
            gib(total),
            fraction * 100.0,
            dir.display(),
            if fraction < min_free {
                format!(
                    ": under {:.0} % free; make room before imports and the audit trail cannot \
                     be written",
                    min_free * 100.0
                )
            } else {
                String::new()
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn less_than_a_tenth_of_the_disk_free_needs_attention() {
        let dir = Path::new("/data");
        let tenth = crate::config::CheckConfig::default().min_disk_free_percent / 100.0;
        assert!(disk_finding(dir, 11, 100, tenth).ok);
        assert!(disk_finding(dir, 10, 100, tenth).ok);
        let low = disk_finding(dir, 9, 100, tenth);
        assert!(!low.ok);
        assert!(low.detail.contains("under 10 %"), "{}", low.detail);
        assert!(!disk_finding(dir, 0, 0, tenth).ok);
    }
}
