//! HL7 v2 (ER7) feed files: one file holds one message or many, possibly wrapped in a batch
//! (FHS/BHS … BTS/FTS) or still carrying MLLP framing bytes (0x0B before, 0x1C 0x0D after).
//!
//! The file is cut into messages here, each starting at an `MSH` segment, with any segment
//! terminator (`\r`, `\n`, `\r\n`). Each message is then parsed on its own ([`er7`]) and adapted
//! into one canonical extract ([`adapt`]), so one bad message becomes one reject with its raw
//! bytes and the rest of the file carries on. Text outside any message (not a batch envelope)
//! is rejected too, once per stretch, so nothing is silently dropped. Sizes are bounded: a
//! message over [`MAX_MESSAGE_BYTES`] is rejected unread, and a file that is mostly rejects is
//! refused as damaged rather than producing millions of them.

mod adapt;
mod alerts;
pub mod er7;
pub mod location;
mod patient;
mod results;
pub mod ts;
mod visit;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod location_tests;
#[cfg(test)]
mod tests;

use super::{FileError, ParsedFile, Reject, MAX_FILE_BYTES};

/// Largest single message read; a lab report with an embedded PDF can run to megabytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Rejects after which the file is judged damaged as a whole.
pub const MAX_REJECTS_PER_FILE: usize = 10_000;
/// How much of an oversized unit is kept with its reject.
const OVERSIZE_RAW_PREFIX: usize = 64 * 1024;

/// MLLP start-of-block and end-of-block bytes, which some senders leave in files.
const MLLP_START: u8 = 0x0B;
const MLLP_END: u8 = 0x1C;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses an HL7 v2 file into one unit per message.
pub fn parse_file(bytes: &[u8]) -> Result<ParsedFile, FileError> {
    // Editors on Windows put a byte-order mark before the first MSH.
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if bytes
        .iter()
        .all(|&b| b.is_ascii_whitespace() || b == MLLP_START || b == MLLP_END)
    {
        return Err(FileError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge(bytes.len()));
    }
    let mut parsed = ParsedFile::default();
    let mut messages = 0;
    let mut rejects = 0;
    for chunk in Chunks::new(bytes) {
        let units = match chunk {
            Chunk::Message(raw) => {
                messages += 1;
                if raw.len() > MAX_MESSAGE_BYTES {
                    vec![Err(oversized(format!("message {messages}"), raw, messages))]
                } else {
                    adapt::adapt_message(messages, raw, &mut parsed.skipped)
                }
            }
            Chunk::Stray(raw) => vec![Err(stray(raw, messages))],
        };
        for unit in units {
            if unit.is_err() {
                rejects += 1;
                if rejects > MAX_REJECTS_PER_FILE {
                    return Err(FileError::Unreadable(format!(
                        "more than {MAX_REJECTS_PER_FILE} messages in this file were rejected, so \
                         it looks damaged (wrong format or broken framing); check the feed and \
                         resend"
                    )));
                }
            }
            parsed.units.push(unit);
        }
    }
    Ok(parsed)
}

fn oversized(position: String, raw: &[u8], number: usize) -> Reject {
    Reject {
        position,
        reason: format!(
            "HL7 message {number}: it is {} bytes, more than the {MAX_MESSAGE_BYTES}-byte limit \
             for one message (only the first {OVERSIZE_RAW_PREFIX} bytes are kept); check the \
             sender's framing or split it at source",
            raw.len()
        ),
        raw: raw.get(..OVERSIZE_RAW_PREFIX).unwrap_or(raw).to_vec(),
    }
}

fn stray(raw: &[u8], after_messages: usize) -> Reject {
    let position = match after_messages {
        0 => "text before message 1".to_owned(),
        n => format!("text after message {n}"),
    };
    let kept = if raw.len() > MAX_MESSAGE_BYTES {
        raw.get(..OVERSIZE_RAW_PREFIX).unwrap_or(raw)
    } else {
        raw
    };
    Reject {
        position,
        reason: format!(
            "{} bytes of text outside any HL7 message (no MSH segment starts it); \
             check that the file is HL7 v2 and that no message lost its MSH line",
            raw.len()
        ),
        raw: kept.to_vec(),
    }
}

/// One stretch of the file.
#[derive(Debug, PartialEq)]
enum Chunk<'a> {
    /// From an MSH segment to the end of its last segment.
    Message(&'a [u8]),
    /// Lines that belong to no message and are not a batch envelope.
    Stray(&'a [u8]),
}

/// Cuts a file into messages and stray stretches, in one pass over the bytes.
struct Chunks<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Chunks<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The next non-blank line as (start, end) byte offsets, skipping terminators and framing.
    fn next_line(&mut self) -> Option<(usize, usize)> {
        let rest = self.bytes.get(self.pos..)?;
        let skip = rest
            .iter()
            .position(|&b| !is_break(b) && !b.is_ascii_whitespace())?;
        let start = self.pos + skip;
        let line = self.bytes.get(start..)?;
        let len = line.iter().position(|&b| is_break(b)).unwrap_or(line.len());
        self.pos = start + len;
        Some((start, start + len))
    }

    fn peek_kind(&self, start: usize) -> LineKind {
        let head = self.bytes.get(start..).unwrap_or_default();
        let head = head.get(..3).unwrap_or(head);
        match head {
            b"MSH" => LineKind::Msh,
            b"FHS" | b"BHS" | b"BTS" | b"FTS" => LineKind::Envelope,
            _ => LineKind::Other,
        }
    }
}

#[derive(PartialEq)]
enum LineKind {
    Msh,
    Envelope,
    Other,
}

fn is_break(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | MLLP_START | MLLP_END)
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        loop {
            let (start, first_end) = self.next_line()?;
            let kind = self.peek_kind(start);
            if kind == LineKind::Envelope {
                continue;
            }
            // A chunk runs until the next line that starts a message or an envelope.
            let mut end = first_end;
            loop {
                let saved = self.pos;
                match self.next_line() {
                    Some((s, e)) if self.peek_kind(s) == LineKind::Other => end = e,
                    Some(_) => {
                        self.pos = saved;
                        break;
                    }
                    None => break,
                }
            }
            let raw = self.bytes.get(start..end).unwrap_or_default();
            return Some(match kind {
                LineKind::Msh => Chunk::Message(raw),
                _ => Chunk::Stray(raw),
            });
        }
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    fn chunks(bytes: &[u8]) -> Vec<Chunk<'_>> {
        Chunks::new(bytes).collect()
    }

    #[test]
    fn batches_and_framing_are_cut_away() {
        let file = b"FHS|^~\\&|X\rBHS|^~\\&|X\r\x0bMSH|1\rPID|1\x1c\r\
                     \x0bMSH|2\r\nPID|2\x1c\rBTS|2\rFTS|1\r";
        assert_eq!(
            chunks(file),
            vec![
                Chunk::Message(b"MSH|1\rPID|1"),
                Chunk::Message(b"MSH|2\r\nPID|2")
            ]
        );
    }

    #[test]
    fn stray_text_is_one_chunk() {
        let file = b"garbage\nmore\n\nMSH|1\nPID|1\n";
        assert_eq!(
            chunks(file),
            vec![
                Chunk::Stray(b"garbage\nmore"),
                Chunk::Message(b"MSH|1\nPID|1")
            ]
        );
    }
}
