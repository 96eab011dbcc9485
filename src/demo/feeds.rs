//! Feed file writers: one per source, each appending units (HL7 messages, FHIR Bundle entries,
//! CSV rows) to the current file and starting a new file every so many people.
//!
//! Files are split so that no single file is huge (an import holds one file's bytes, and a
//! crash re-reads at most one file) and are written through a `BufWriter`, so memory is one
//! buffer per source whatever the size of the region. A FHIR file is a `collection` Bundle
//! written incrementally: the opening, then entries separated by commas, then the close.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Hl7,
    Fhir,
    /// A delimited file with this header line.
    Csv(&'static str),
}

pub struct FeedWriter {
    dir: PathBuf,
    stem: String,
    shape: Shape,
    people_per_file: u64,
    people_in_file: u64,
    file_number: u32,
    first_entry: bool,
    out: Option<BufWriter<File>>,
    pub messages: u64,
}

fn io<'a>(doing: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        doing,
        path: path.to_path_buf(),
        source,
    }
}

impl FeedWriter {
    pub fn new(dir: PathBuf, stem: String, shape: Shape, people_per_file: u64) -> Self {
        Self {
            dir,
            stem,
            shape,
            people_per_file: people_per_file.max(1),
            people_in_file: 0,
            file_number: 0,
            first_entry: true,
            out: None,
            messages: 0,
        }
    }

    /// Called before a person's units: opens the first file, or the next one when this is full.
    pub fn person(&mut self) -> Result<()> {
        if self.out.is_some() && self.people_in_file >= self.people_per_file {
            self.close()?;
        }
        if self.out.is_none() {
            self.open()?;
        }
        self.people_in_file += 1;
        Ok(())
    }

    fn open(&mut self) -> Result<()> {
        self.file_number += 1;
        std::fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        let ext = match self.shape {
            Shape::Hl7 => "hl7",
            Shape::Fhir => "json",
            Shape::Csv(h) if h.contains('|') => "txt",
            Shape::Csv(_) => "csv",
        };
        let path = self
            .dir
            .join(format!("{}-{:04}.{ext}", self.stem, self.file_number));
        let file = File::create(&path).map_err(io("create", &path))?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        let head = match self.shape {
            Shape::Hl7 => String::new(),
            Shape::Fhir => r#"{"resourceType":"Bundle","type":"collection","entry":["#.into(),
            Shape::Csv(h) => format!("{h}\n"),
        };
        out.write_all(head.as_bytes()).map_err(io("write", &path))?;
        self.out = Some(out);
        self.people_in_file = 0;
        self.first_entry = true;
        Ok(())
    }

    /// Appends one unit's text as it is (a message with its terminators, or a row with `\n`).
    pub fn unit(&mut self, text: &str) -> Result<()> {
        self.messages += 1;
        self.raw(text.as_bytes())
    }

    /// Appends one FHIR resource as a Bundle entry.
    pub fn resource(&mut self, full_url: &str, resource: &serde_json::Value) -> Result<()> {
        let sep = if self.first_entry { "" } else { "," };
        self.first_entry = false;
        let entry = serde_json::json!({ "fullUrl": full_url, "resource": resource });
        let text = format!("{sep}{entry}\n");
        self.messages += 1;
        self.raw(text.as_bytes())
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        if self.out.is_none() {
            self.open()?;
        }
        let dir = self.dir.clone();
        match self.out.as_mut() {
            Some(out) => out.write_all(bytes).map_err(io("write", &dir)),
            None => Ok(()),
        }
    }

    /// Finishes the current file (closing the Bundle) and flushes it.
    pub fn close(&mut self) -> Result<()> {
        if let Some(mut out) = self.out.take() {
            if self.shape == Shape::Fhir {
                out.write_all(b"]}\n").map_err(io("write", &self.dir))?;
            }
            out.flush().map_err(io("write", &self.dir))?;
        }
        Ok(())
    }
}

/// Quotes a CSV field when it needs it.
pub fn field(s: &str, delimiter: char) -> String {
    if s.contains(delimiter) || s.contains('"') || s.contains('\n') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One delimited row, terminated.
pub fn row(fields: &[&str], delimiter: char) -> String {
    let mut out = String::with_capacity(160);
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        out.push_str(&field(f, delimiter));
    }
    out.push('\n');
    out
}
