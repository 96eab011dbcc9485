//! One typed configuration, from `config.toml` in the data directory; every key documented here.

use crate::error::{Error, Result};
use crate::model::SourceKind;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The data directory is where everything sharedcare keeps lives:
///
/// ```text
/// sharedcare-data/
///   config.toml        optional; see Config
///   sharedcare.db      the SQLite database (+ -wal, -shm while open)
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub matching: MatchingConfig,
    pub web: WebConfig,
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
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8443".into(),
            tls_cert: None,
            tls_key: None,
            session_idle_minutes: 30,
            session_max_hours: 12,
        }
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
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            matching: file.matching,
            web: file.web,
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
    }
}
