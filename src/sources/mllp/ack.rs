//! Reading the header a message is acknowledged by, and writing the acknowledgement.
//!
//! Original mode (MSH-15 and MSH-16 empty): one ACK with MSA-1 `AA` (stored), `AE` (understood
//! but rejected, with an ERR segment naming the problem) or `AR` (not readable, not routable,
//! or not storable now). Enhanced mode (either field set): an accept acknowledgement `CA`/`CE`/
//! `CR` as MSH-15 asks (`AL` always, `NE` never, `ER` on error only, `SU` on success only), then
//! an application acknowledgement `AA`/`AE`/`AR` as MSH-16 asks, both on the same connection;
//! the accept is sent only after the message is committed, so either one means the data is
//! safe. MSA-2 echoes MSH-10; the ACK uses the sender's own delimiters.

use crate::ingest::decode_text;
use crate::ingest::hl7v2::er7::Message;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the acknowledgement says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Committed (or a re-send of a message committed before).
    Accepted,
    /// Understood and rejected; kept for replay.
    Rejected(String),
    /// Not read at all, or not storable now: the sender should fix it or send it again.
    Refused(String),
}

/// The parts of the message header an acknowledgement needs, as the sender wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    field: char,
    encoding: String,
    component: char,
    escape: Option<char>,
    subcomponent: Option<char>,
    repetition: char,
    sending_app: String,
    sending_facility: String,
    receiving_app: String,
    receiving_facility: String,
    trigger: String,
    pub control_id: String,
    processing_id: String,
    version: String,
    accept_ack: String,
    application_ack: String,
}

impl Header {
    /// Reads the MSH segment at the start of a frame; `None` when the frame does not start
    /// with one (it is then not HL7 v2 at all).
    pub fn read(frame: &[u8]) -> Option<Self> {
        // Only the first segment is decoded: a frame may be megabytes long.
        let start = frame.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = frame.get(start..)?;
        let end = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        let first = decode_text(rest.get(..end)?);
        let message = Message::parse(&first).ok()?;
        let msh = message.msh()?;
        let seps = message.separators();
        let raw = |n: usize| msh.field(n).raw().to_owned();
        let hd = |n: usize| msh.text(n, 1).unwrap_or_default();
        Some(Self {
            field: seps.field,
            encoding: raw(2),
            component: seps.component,
            escape: seps.escape,
            subcomponent: seps.subcomponent,
            repetition: seps.repetition,
            sending_app: raw(3),
            sending_facility: raw(4),
            receiving_app: raw(5),
            receiving_facility: raw(6),
            trigger: msh.text(9, 2).unwrap_or_default(),
            control_id: raw(10),
            processing_id: raw(11),
            version: raw(12),
            accept_ack: hd(15).to_ascii_uppercase(),
            application_ack: hd(16).to_ascii_uppercase(),
        })
    }

    /// MSH-3's first component, the sending application (the source's code on a shared port).
    pub fn sending_application(&self) -> String {
        first_component(&self.sending_app, self.component)
    }

    /// MSH-4's first component, the sending facility (an ODS code).
    pub fn sending_facility(&self) -> String {
        first_component(&self.sending_facility, self.component)
    }

    /// The acknowledgement frames' contents for `verdict`, in the order they are sent (none,
    /// one or two), at `now` (HL7 TS, `YYYYMMDDHHMMSS`).
    pub fn acknowledgements(&self, verdict: &Verdict, now: &str) -> Vec<Vec<u8>> {
        let enhanced = !self.accept_ack.is_empty() || !self.application_ack.is_empty();
        if !enhanced {
            return vec![self.ack(verdict.code("A"), verdict, now)];
        }
        let wanted = |condition: &str| match condition {
            "NE" => false,
            "ER" => *verdict != Verdict::Accepted,
            "SU" => *verdict == Verdict::Accepted,
            // AL, blank or anything unknown: always, which never leaves a sender waiting.
            _ => true,
        };
        let mut out = Vec::new();
        if wanted(&self.accept_ack) {
            out.push(self.ack(verdict.code("C"), verdict, now));
        }
        if wanted(&self.application_ack) {
            out.push(self.ack(verdict.code("A"), verdict, now));
        }
        out
    }

    fn ack(&self, code: String, verdict: &Verdict, now: &str) -> Vec<u8> {
        let f = self.field;
        let message_type = if self.trigger.is_empty() {
            "ACK".to_owned()
        } else {
            let c = self.component;
            format!("ACK{c}{}{c}ACK", self.escaped(&self.trigger))
        };
        let mut out = format!(
            "MSH{f}{enc}{f}{ra}{f}{rf}{f}{sa}{f}{sf}{f}{now}{f}{f}{message_type}{f}{id}{f}{pid}{f}{ver}\r\
             MSA{f}{code}{f}{control}",
            enc = self.encoding,
            ra = self.receiving_app,
            rf = self.receiving_facility,
            sa = self.sending_app,
            sf = self.sending_facility,
            id = next_control_id(now),
            pid = if self.processing_id.is_empty() { "P" } else { &self.processing_id },
            ver = if self.version.is_empty() { "2.5" } else { &self.version },
            control = self.control_id,
        );
        let why = match verdict {
            Verdict::Accepted => None,
            Verdict::Rejected(why) => Some((why, "E", "207^Application internal error^HL70357")),
            Verdict::Refused(why) => Some((why, "E", "207^Application internal error^HL70357")),
        };
        if let Some((why, severity, code)) = why {
            let text = self.escaped(why);
            let code = code.replace('^', &self.component.to_string());
            // MSA-3 for senders on versions before 2.5; ERR-3 (code), ERR-4 (severity) and
            // ERR-8 (the words for a person) for those after.
            out.push_str(&format!(
                "{f}{text}\rERR{f}{f}{f}{code}{f}{severity}{f}{f}{f}{f}{text}"
            ));
        }
        out.push('\r');
        out.into_bytes()
    }

    /// `text` with the delimiters escaped as HL7 asks (`\F\`, `\S\`, `\R\`, `\T\`, `\E\`);
    /// a message that declares no escape character gets them replaced by spaces.
    fn escaped(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for ch in text.chars().filter(|c| !c.is_control()) {
            let name = if ch == self.field {
                Some('F')
            } else if ch == self.component {
                Some('S')
            } else if ch == self.repetition {
                Some('R')
            } else if Some(ch) == self.subcomponent {
                Some('T')
            } else if Some(ch) == self.escape {
                Some('E')
            } else {
                None
            };
            match (name, self.escape) {
                (None, _) => out.push(ch),
                (Some(n), Some(e)) => {
                    out.push(e);
                    out.push(n);
                    out.push(e);
                }
                (Some(_), None) => out.push(' '),
            }
        }
        out
    }
}

impl Verdict {
    fn code(&self, mode: &str) -> String {
        let second = match self {
            Self::Accepted => "A",
            Self::Rejected(_) => "E",
            Self::Refused(_) => "R",
        };
        format!("{mode}{second}")
    }
}

/// The acknowledgement of a frame whose header could not be read: AR, standard delimiters, no
/// MSA-2 (there is no control id to echo).
pub fn unreadable(why: &str, now: &str) -> Vec<u8> {
    let header = Header {
        field: '|',
        encoding: "^~\\&".into(),
        component: '^',
        escape: Some('\\'),
        subcomponent: Some('&'),
        repetition: '~',
        sending_app: String::new(),
        sending_facility: String::new(),
        receiving_app: String::new(),
        receiving_facility: String::new(),
        trigger: String::new(),
        control_id: String::new(),
        processing_id: String::new(),
        version: String::new(),
        accept_ack: String::new(),
        application_ack: String::new(),
    };
    header
        .acknowledgements(&Verdict::Refused(why.to_owned()), now)
        .concat()
}

fn first_component(raw: &str, component: char) -> String {
    raw.split(component)
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A control id for an acknowledgement: the time and a counter, unique within this process
/// and at most 20 characters (MSH-10's length before version 2.5).
fn next_control_id(now: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000;
    format!("{}{n:06}", now.get(..14).unwrap_or(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "20261203031500";

    fn text(frames: Vec<Vec<u8>>) -> Vec<String> {
        frames
            .into_iter()
            .map(|f| String::from_utf8(f).unwrap())
            .collect()
    }

    #[test]
    fn original_mode_acknowledges_once_echoing_the_control_id() {
        let h = Header::read(b"MSH|^~\\&|PAS|RWF|SC|REGION|20260101||ADT^A01|CTRL-7|P|2.4\rPID|1")
            .unwrap();
        let acks = text(h.acknowledgements(&Verdict::Accepted, NOW));
        assert_eq!(acks.len(), 1);
        let lines: Vec<&str> = acks[0].split('\r').collect();
        assert!(lines[0].starts_with("MSH|^~\\&|SC|REGION|PAS|RWF|20261203031500||ACK^A01^ACK|"));
        assert!(lines[0].ends_with("|P|2.4"));
        assert_eq!(lines[1], "MSA|AA|CTRL-7");
    }

    #[test]
    fn a_rejection_names_the_problem_escaped_in_msa_and_err() {
        let h = Header::read(b"MSH|^~\\&|PAS|RWF|||x||ADT^A01|9|P|2.5").unwrap();
        let acks = text(h.acknowledgements(&Verdict::Rejected("PID-3 | no id^".into()), NOW));
        let lines: Vec<&str> = acks[0].split('\r').collect();
        assert_eq!(lines[1], "MSA|AE|9|PID-3 \\F\\ no id\\S\\");
        assert_eq!(
            lines[2],
            "ERR|||207^Application internal error^HL70357|E||||PID-3 \\F\\ no id\\S\\"
        );
    }

    #[test]
    fn enhanced_mode_sends_what_msh_15_and_16_ask_for() {
        let msg = |a: &str, b: &str| {
            format!("MSH|^~\\&|PAS|RWF|||x||ADT^A01|9|P|2.5|||{a}|{b}").into_bytes()
        };
        let codes = |a: &str, b: &str, v: Verdict| -> Vec<String> {
            Header::read(&msg(a, b))
                .unwrap()
                .acknowledgements(&v, NOW)
                .into_iter()
                .map(|f| {
                    let s = String::from_utf8(f).unwrap();
                    s.split('\r').nth(1).unwrap()[4..6].to_owned()
                })
                .collect()
        };
        assert_eq!(codes("AL", "AL", Verdict::Accepted), ["CA", "AA"]);
        assert_eq!(codes("AL", "NE", Verdict::Accepted), ["CA"]);
        assert_eq!(codes("NE", "NE", Verdict::Accepted), Vec::<String>::new());
        assert_eq!(codes("ER", "SU", Verdict::Accepted), ["AA"]);
        assert_eq!(codes("ER", "SU", Verdict::Rejected("x".into())), ["CE"]);
        assert_eq!(
            codes("AL", "ER", Verdict::Refused("x".into())),
            ["CR", "AR"]
        );
    }

    #[test]
    fn the_senders_delimiters_are_used() {
        let h = Header::read(b"MSH#*~\\&#PAS#RWF###x##ADT*A01#9#P#2.4").unwrap();
        let acks = text(h.acknowledgements(&Verdict::Rejected("a#b".into()), NOW));
        assert!(acks[0].starts_with("MSH#*~\\&##"), "{}", acks[0]);
        assert!(acks[0].contains("ACK*A01*ACK"));
        assert!(acks[0].contains("\rMSA#AE#9#a\\F\\b\r"));
    }

    #[test]
    fn text_that_is_not_hl7_has_no_header() {
        assert_eq!(Header::read(b"GET / HTTP/1.1"), None);
        assert_eq!(Header::read(b""), None);
        let ar = String::from_utf8(unreadable("not HL7", NOW)).unwrap();
        assert!(ar.contains("\rMSA|AR||not HL7\r"), "{ar}");
    }
}
