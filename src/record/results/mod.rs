//! Results as a clinician reads them: the latest abnormal values on top, then every test
//! grouped by panel (FBC, U&E, LFT …), each with its values newest first and a trend.
//!
//! A test is one trend across laboratories when the lab code table ([`codes`]) maps their
//! local codes to one common code; each value then converts into the test's unit ([`units`]).
//! A value whose unit does not convert stays in the table, marked, and off the trend; the page
//! says why. A test the table does not know is trended within its own source only, since two
//! labs' local code `CA` need not be the same test.
//!
//! The panel is the one the feed ordered the test under (OBR-4, DiagnosticReport.code), read
//! through the table so that "FBC AND DIFFERENTIAL" and "Full blood count" are one panel; a
//! panel the table does not know keeps the feed's own name; a result sent without an order
//! falls under the table's panel for its test.

pub mod codes;
pub mod range;
pub mod units;
pub mod words;

mod build;
#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
mod trend;

pub use build::build;
pub use codes::LabCodes;

use chrono::NaiveDateTime;
use range::Band;

/// Everything the results page shows.
pub struct ResultsView {
    /// The newest value of each test whose newest value is abnormal: critical first.
    pub abnormal: Vec<Flagged>,
    pub panels: Vec<PanelView>,
}

/// One line of the abnormal summary.
pub struct Flagged {
    pub test: String,
    pub value: String,
    pub flag: String,
    pub range: Option<String>,
    pub when: String,
    pub source: String,
    /// The id of the test's section on the page.
    pub anchor: String,
    pub critical: bool,
}

pub struct PanelView {
    /// "FBC", or the feed's own order name.
    pub name: String,
    /// "Full blood count", when the table knows the panel.
    pub title: Option<String>,
    pub anchor: String,
    /// Conclusions of reports under this panel (a DiagnosticReport's conclusion).
    pub reports: Vec<ReportLine>,
    pub tests: Vec<Trend>,
}

pub struct ReportLine {
    pub title: String,
    pub conclusion: String,
    pub when: String,
    pub source: String,
}

/// One test: its rows, and the values on its trend in one unit.
pub struct Trend {
    /// Stable within the record; the chart's `test=` parameter.
    pub key: String,
    pub name: String,
    pub anchor: String,
    /// The trend's unit in words (`×10⁹/L`); empty when the test has none.
    pub unit: String,
    /// Newest first.
    pub rows: Vec<Row>,
    /// Oldest first, in the trend's unit.
    pub points: Vec<(NaiveDateTime, f64)>,
    /// The newest reference range that converts into the trend's unit.
    pub band: Option<Band>,
    /// Where the band came from, in words: "115-165 g/L, Westshire Hospital, 10 Feb 2024".
    pub band_note: Option<String>,
    /// Why some values are not on the trend, one sentence per reason.
    pub apart: Vec<String>,
    /// For a test the lab code table does not know: that it is one laboratory's own code,
    /// trended apart from other laboratories'.
    pub local_note: Option<String>,
}

/// One value, fields in reading order.
pub struct Row {
    pub value: String,
    /// The value in the trend's unit when the lab sent another: "88 µmol/L".
    pub converted: Option<String>,
    pub range: Option<String>,
    pub flag: Option<String>,
    pub when: String,
    pub source: String,
    /// "Entered in error", "Preliminary (not final)"; `None` for a final result.
    pub status: Option<String>,
    /// Why this value is not on the trend, when it is numeric and is not.
    pub off_trend: Option<String>,
}

impl Trend {
    /// The trend has a chart when two or more values are on it.
    pub fn has_chart(&self) -> bool {
        self.points.len() >= 2
    }
}
