//! Errors an operator may meet, each with what went wrong and what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the database at {path} has schema version {found}, newer than this sharedcare understands ({supported}); run the newer sharedcare that wrote it, or restore a backup")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("could not open the database at {path}: {source}; check the data directory exists and is writable")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error while {doing}: {source}")]
    Db {
        doing: &'static str,
        source: rusqlite::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Refused by a rule of separation of duties or of the access policy, whoever asks: the
    /// message says which rule.
    #[error("{0}")]
    Forbidden(String),
    /// The audit trail cannot be written or trusted: a missing or exposed key, a broken chain.
    /// Messages name files and sequence numbers, never event contents, so they may be logged.
    #[error("{0}")]
    Audit(String),
    #[error("could not {doing} {path}: {source}")]
    Io {
        doing: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// What may go to a log: the kind of failure and what was being done, never values (which
    /// may be patient data).
    pub fn operator_summary(&self) -> String {
        match self {
            Self::SchemaTooNew {
                found, supported, ..
            } => {
                format!("database schema {found} is newer than {supported}")
            }
            Self::Open { path, source } => format!("cannot open {}: {source}", path.display()),
            Self::Db { doing, source } => format!("database error while {doing}: {source}"),
            Self::NotFound(_) => "not found".into(),
            Self::Invalid(_) => "invalid request".into(),
            Self::Forbidden(_) => "refused by policy".into(),
            Self::Audit(why) => format!("audit trail: {why}"),
            Self::Io {
                doing,
                path,
                source,
            } => format!("could not {doing} {}: {source}", path.display()),
        }
    }

    /// The process exit code for this error: 2 for usage and configuration, 3 when the audit
    /// trail cannot be trusted, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NotFound(_)
            | Self::Invalid(_)
            | Self::Forbidden(_)
            | Self::SchemaTooNew { .. } => 2,
            Self::Audit(_) => 3,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds "while doing what" to a database error.
pub trait DbContext<T> {
    fn doing(self, what: &'static str) -> Result<T>;
}

impl<T> DbContext<T> for rusqlite::Result<T> {
    fn doing(self, what: &'static str) -> Result<T> {
        self.map_err(|source| Error::Db {
            doing: what,
            source,
        })
    }
}
