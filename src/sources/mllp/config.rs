//! The `[mllp]` section of `config.toml`.

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MllpConfig {
    /// `ADDR:PORT` of one port shared by every HL7 v2 source, each message routed to its source
    /// by MSH-3 (the source's code) or else MSH-4 (its organisation's ODS code); blank (the
    /// default) disables it. A source may also have a port of its own (`sharedcare source add
    /// CODE --mllp ADDR:PORT`). Who may send for a source is that source's `--mllp-allow`
    /// (loopback only until set).
    pub listen: String,
    /// The largest message one frame may carry, in bytes; a bigger frame closes its
    /// connection. Default 4 MiB.
    pub max_message_bytes: usize,
    /// A connection silent this many seconds (between messages or inside one) is closed.
    /// Default 300.
    pub idle_timeout_seconds: u64,
    /// At most this many MLLP connections are open at once, over all ports. Default 64.
    pub max_connections: usize,
    /// At most this many of them from any one address. Default 16.
    pub max_connections_per_address: usize,
    /// At most this many waiting messages are committed together in one transaction (group
    /// commit); each is acknowledged after that commit. Default 512.
    pub max_group: usize,
    /// PEM certificate chain and private key: when both are set, every MLLP port speaks TLS
    /// (MLLP inside TLS; plain MLLP is refused there). Default: none, plain MLLP.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// PEM certificates of the CA(s) that issue senders' client certificates: when set (with
    /// TLS), a sender must present one, and a source's `--mllp-allow` list may pin which
    /// (`sha256:FINGERPRINT`). Default: none, no client certificates asked for.
    pub tls_client_ca: Option<PathBuf>,
}

impl Default for MllpConfig {
    fn default() -> Self {
        Self {
            listen: String::new(),
            max_message_bytes: 4 << 20,
            idle_timeout_seconds: 300,
            max_connections: 64,
            max_connections_per_address: 16,
            max_group: 512,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
        }
    }
}

impl MllpConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.max_message_bytes == 0
            || self.idle_timeout_seconds == 0
            || self.max_connections == 0
            || self.max_connections_per_address == 0
            || self.max_group == 0
        {
            return Err(
                "[mllp] max_message_bytes, idle_timeout_seconds, max_connections, \
                 max_connections_per_address and max_group must each be at least 1"
                    .into(),
            );
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("[mllp] tls_cert and tls_key are set together, or neither".into());
        }
        if self.tls_client_ca.is_some() && self.tls_cert.is_none() {
            return Err("[mllp] tls_client_ca needs tls_cert and tls_key (TLS) as well".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_needs_its_certificate_and_key_together_and_client_certificates_need_tls() {
        let with = |cert: bool, key: bool, ca: bool| MllpConfig {
            tls_cert: cert.then(|| "c.pem".into()),
            tls_key: key.then(|| "k.pem".into()),
            tls_client_ca: ca.then(|| "ca.pem".into()),
            ..MllpConfig::default()
        };
        assert!(with(false, false, false).check().is_ok());
        assert!(with(true, true, false).check().is_ok());
        assert!(with(true, true, true).check().is_ok());
        assert!(with(true, false, false).check().is_err());
        assert!(with(false, true, false).check().is_err());
        assert!(with(false, false, true).check().is_err());
    }
}
