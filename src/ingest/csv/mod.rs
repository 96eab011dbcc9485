//! CSV extracts (GP registration lists, social care and mental-health system exports) read
//! through a declarative per-source [`Mapping`].
//!
//! The file is split into physical records by the `csv` crate with the mapping's delimiter and
//! quote; this module then decides what each record is — blank, a line the mapping skips, the
//! header, one line of a multi-line record, or a data row — checks its shape (column count,
//! size), and hands each data row to `adapt` to become an [`Extract`](super::Extract). A row
//! that cannot be used becomes a [`Reject`] with its raw bytes; the rest of the file carries on.
//! Only a header that lacks columns the mapping needs stops the whole file, because then every
//! row would fail the same way.
//!
//! Positions read "row N", where N is the line the row starts on, counting the header, so it is
//! the line number an editor shows.

mod adapt;
mod body;
mod field;
mod mapping;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

pub use mapping::Mapping;

use super::{decode_text, FileError, ParsedFile, Reject};
use adapt::{Columns, Row};
use std::borrow::Cow;

/// Largest row (or record of several lines) read; a longer one is rejected, not parsed.
pub const MAX_ROW_BYTES: usize = 1024 * 1024;

/// Parses one CSV file with its source's mapping.
pub fn parse_file(bytes: &[u8], mapping: &Mapping) -> Result<ParsedFile, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let layout = &mapping.layout;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        .quoting(layout.quote.is_some())
        .quote(layout.quote.unwrap_or(b'"'))
        .from_reader(bytes);
    let mut file = FileReader {
        mapping,
        out: ParsedFile::default(),
        columns: (!layout.header).then(Columns::default),
        expected: layout.columns,
        pending: None,
        lines: LineCounter::default(),
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let start = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Not expected with in-memory input; keep what was read and reject the rest.
                let from = usize::try_from(start).unwrap_or(usize::MAX);
                let rest = bytes.get(from..).unwrap_or_default();
                let line = file.lines.line_at(bytes, from);
                file.reject(line, format!("the CSV reader stopped here: {e}"), rest);
                break;
            }
        }
        let end = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let from = usize::try_from(start).unwrap_or(usize::MAX);
        let (offset, raw) = trim_line(bytes.get(from..end).unwrap_or_default(), from);
        let line = file.lines.line_at(bytes, offset);
        file.record(line, raw, &record)?;
    }
    file.finish();
    Ok(file.out)
}

/// The state of reading one file.
struct FileReader<'m> {
    mapping: &'m Mapping,
    out: ParsedFile,
    /// `None` until the header row has been read.
    columns: Option<Columns>,
    expected: Option<usize>,
    pending: Option<Pending>,
    lines: LineCounter,
}

/// A record spread over several lines, gathered until it is whole.
struct Pending {
    line: u64,
    raw: Vec<u8>,
    values: Vec<String>,
    parts: usize,
    /// The first thing wrong with it; reported once the record is whole.
    fault: Option<String>,
}

impl FileReader<'_> {
    fn record(&mut self, line: u64, raw: &[u8], record: &csv::ByteRecord) -> Result<(), FileError> {
        if raw.len() > MAX_ROW_BYTES {
            if self.columns.is_none() {
                return Err(FileError::Unreadable(format!(
                    "the header row is {} bytes, more than the {MAX_ROW_BYTES}-byte limit; is \
                     this the file mapping `{}` expects?",
                    raw.len(),
                    self.mapping.name()
                )));
            }
            self.flush_incomplete();
            let keep = raw.get(..MAX_ROW_BYTES).unwrap_or(raw);
            self.reject(
                line,
                format!(
                    "the row is {} bytes, more than the {MAX_ROW_BYTES}-byte limit (often a \
                     quote that is never closed); fix at source. Only the first \
                     {MAX_ROW_BYTES} bytes are kept here",
                    raw.len()
                ),
                keep,
            );
            return Ok(());
        }
        if let Some(q) = self.mapping.layout.quote {
            let spans_lines = raw.iter().any(|b| matches!(b, b'\r' | b'\n'));
            if spans_lines && raw.iter().filter(|b| **b == q).count() % 2 == 1 {
                self.flush_incomplete();
                self.reject(
                    line,
                    "a quoted field is never closed, so the rows after it were read as part of \
                     it; fix the quoting at source"
                        .into(),
                    raw,
                );
                return Ok(());
            }
        }
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            *self.out.skipped.entry("blank line".into()).or_default() += 1;
            return Ok(());
        }
        let layout = &self.mapping.layout;
        if layout
            .skip_lines
            .iter()
            .any(|p| raw.starts_with(p.as_bytes()))
        {
            *self
                .out
                .skipped
                .entry("line the mapping skips".into())
                .or_default() += 1;
            return Ok(());
        }
        if self.columns.is_none() {
            return self.header(record);
        }
        if layout.record_lines.is_empty() {
            let values = decode(record);
            match self.expected {
                Some(n) if values.len() != n => self.reject(
                    line,
                    format!(
                        "the row has {} columns but {} has {n}; a delimiter is missing or \
                         extra in the row; fix at source",
                        values.len(),
                        if layout.header {
                            "the header"
                        } else {
                            "the mapping says each row"
                        }
                    ),
                    raw,
                ),
                _ => self.row(line, raw.to_vec(), &values),
            }
        } else {
            self.part(line, raw, record);
        }
        Ok(())
    }

    fn header(&mut self, record: &csv::ByteRecord) -> Result<(), FileError> {
        let names = decode(record);
        if names.len() > mapping::MAX_COLUMNS {
            return Err(FileError::Unreadable(format!(
                "the header has {} columns, more than the {} this reads; is the delimiter in \
                 mapping `{}` right?",
                names.len(),
                mapping::MAX_COLUMNS,
                self.mapping.name()
            )));
        }
        let columns = Columns::from_header(&names);
        let missing: Vec<String> = self
            .mapping
            .columns()
            .into_iter()
            .filter(|c| columns.position(c).is_none_or(|i| i >= names.len()))
            .map(ToString::to_string)
            .collect();
        if !missing.is_empty() {
            return Err(FileError::Unreadable(format!(
                "the header row lacks {} that mapping `{}` needs; the file may be from another \
                 extract, or the delimiter in the mapping may be wrong. Fix the file or the \
                 mapping and import it again",
                missing.join(", "),
                self.mapping.name()
            )));
        }
        self.expected = Some(names.len());
        self.columns = Some(columns);
        Ok(())
    }

    /// One physical line of a multi-line record.
    fn part(&mut self, line: u64, raw: &[u8], record: &csv::ByteRecord) {
        let mapping = self.mapping;
        let parts = &mapping.layout.record_lines;
        let first = parts
            .first()
            .is_some_and(|p| raw.starts_with(p.prefix.as_bytes()));
        if first {
            self.flush_incomplete();
            self.pending = Some(Pending {
                line,
                raw: Vec::new(),
                values: Vec::new(),
                parts: 0,
                fault: None,
            });
        }
        let Some(pending) = self.pending.as_mut() else {
            let prefix = parts.first().map_or("", |p| p.prefix.as_str());
            self.reject(
                line,
                format!("the line does not start a record (`{prefix}…`) and follows no record it could continue"),
                raw,
            );
            return;
        };
        let Some(expected) = parts.get(pending.parts) else {
            return;
        };
        if !raw.starts_with(expected.prefix.as_bytes()) {
            let reason = format!(
                "the record starting on row {} has no line starting `{}` after it; fix at source",
                pending.line, expected.prefix
            );
            if let Some(p) = self.pending.take() {
                self.reject(p.line, reason, &p.raw);
            }
            self.reject(line, "the line does not belong to any record".into(), raw);
            return;
        }
        let values = decode(record);
        if values.len() != expected.columns && pending.fault.is_none() {
            pending.fault = Some(format!(
                "its line starting `{}` has {} columns where the mapping says {}; a delimiter \
                 is missing or extra; fix at source",
                expected.prefix,
                values.len(),
                expected.columns
            ));
        }
        if !pending.raw.is_empty() {
            pending.raw.push(b'\n');
        }
        pending.raw.extend_from_slice(raw);
        pending.values.extend(values);
        pending.parts += 1;
        if pending.parts == parts.len() {
            if let Some(p) = self.pending.take() {
                match p.fault {
                    Some(fault) => self.reject(p.line, fault, &p.raw),
                    None => self.row(p.line, p.raw, &p.values),
                }
            }
        }
    }

    fn flush_incomplete(&mut self) {
        if let Some(p) = self.pending.take() {
            let next = self
                .mapping
                .layout
                .record_lines
                .get(p.parts)
                .map_or("", |l| l.prefix.as_str());
            self.reject(
                p.line,
                format!(
                    "the record is incomplete: no line starting `{next}` follows it; fix at source"
                ),
                &p.raw,
            );
        }
    }

    fn row(&mut self, line: u64, raw: Vec<u8>, values: &[String]) {
        let Some(columns) = self.columns.as_ref() else {
            return;
        };
        let row = Row {
            mapping: self.mapping,
            columns,
            values,
            subject: "",
        };
        let position = format!("row {line}");
        let unit = adapt::extract(&row, position.clone(), raw.clone()).map_err(|reason| Reject {
            position,
            reason,
            raw,
        });
        self.out.units.push(unit);
    }

    fn reject(&mut self, line: u64, reason: String, raw: &[u8]) {
        self.out.units.push(Err(Reject {
            position: format!("row {line}"),
            reason,
            raw: raw.to_vec(),
        }));
    }

    fn finish(&mut self) {
        self.flush_incomplete();
    }
}

/// Fields decoded (UTF-8, else Windows-1252) and trimmed.
fn decode(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| match decode_text(f) {
            Cow::Borrowed(s) => s.trim().to_owned(),
            Cow::Owned(s) => s.trim().to_owned(),
        })
        .collect()
}

/// The record's bytes without the line breaks around it, and where they start in the file.
fn trim_line(raw: &[u8], offset: usize) -> (usize, &[u8]) {
    let is_break = |b: &u8| matches!(b, b'\r' | b'\n');
    let lead = raw.iter().take_while(|b| is_break(b)).count();
    let rest = raw.get(lead..).unwrap_or_default();
    let tail = rest.iter().rev().take_while(|b| is_break(b)).count();
    let body = rest
        .get(..rest.len().saturating_sub(tail))
        .unwrap_or_default();
    (offset.saturating_add(lead), body)
}

/// Line numbers by counting line breaks, once over the file, as reading moves forward.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    breaks: u64,
}

impl LineCounter {
    /// The 1-based line at byte `at` (never moving backwards).
    fn line_at(&mut self, bytes: &[u8], at: usize) -> u64 {
        let at = at.min(bytes.len());
        if at > self.offset {
            let span = bytes.get(self.offset..at).unwrap_or_default();
            let mut previous = if self.offset == 0 {
                0
            } else {
                bytes.get(self.offset - 1).copied().unwrap_or(0)
            };
            for &b in span {
                // `\r\n` is one break; a lone `\r` (old Mac files) is one too.
                if b == b'\n' && previous != b'\r' || b == b'\r' {
                    self.breaks += 1;
                }
                previous = b;
            }
            self.offset = at;
        }
        self.breaks + 1
    }
}
