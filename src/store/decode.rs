//! Reading JSON columns back, failing closed.
//!
//! A stored value that no longer decodes (a damaged file, a hand edit, a bug in an older
//! version) must stop the read that needs it: decoded as a default, an S-flagged person's golden
//! record would read as "not restricted" and show their address, and a match candidate would
//! silently vanish so that the import made a second person. So every JSON column is read
//! through [`json`], whose error names the column and the row but never the value (which is
//! patient data), and says what the operator can do.

use rusqlite::types::Type;
use serde::de::DeserializeOwned;

/// Why a stored JSON value could not be read; shown to operators, so it holds no value.
#[derive(Debug)]
pub struct Undecodable {
    what: &'static str,
    row: i64,
    /// serde's classification and position only ("data error at line 1 column 40").
    why: String,
}

impl std::fmt::Display for Undecodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the stored {} of row {} cannot be read ({}); nothing is shown or matched from it \
             rather than a guess — restore the database from a backup, or re-import the source \
             file that wrote it",
            self.what, self.row, self.why
        )
    }
}

impl std::error::Error for Undecodable {}

/// Decodes the JSON `text` stored in `what` of row `row` (column `column` of the query).
pub fn json<T: DeserializeOwned>(
    what: &'static str,
    row: i64,
    column: usize,
    text: &str,
) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| undecodable(what, row, column, &e))
}

pub fn undecodable(
    what: &'static str,
    row: i64,
    column: usize,
    e: &serde_json::Error,
) -> rusqlite::Error {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "JSON cut short",
    };
    rusqlite::Error::FromSqlConversionFailure(
        column,
        Type::Text,
        Box::new(Undecodable {
            what,
            row,
            why: format!("{kind} at line {} column {}", e.line(), e.column()),
        }),
    )
}

/// A stored value that is not one of the values its column allows (a source kind, a category).
pub fn unknown(what: &'static str, row: i64, column: usize) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        Type::Text,
        Box::new(Undecodable {
            what,
            row,
            why: "not a value this version knows".into(),
        }),
    )
}
