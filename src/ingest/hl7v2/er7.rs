//! The ER7 ("pipe and hat") encoding of one HL7 v2 message, parsed into its own types.
//!
//! A message is split once into segments and fields, kept as slices of the decoded text; the
//! finer levels (repetitions, components, subcomponents) are cheap views split on demand, and a
//! string is only allocated, with escape sequences decoded, for a value the adapter keeps. The
//! delimiters come from MSH-1 and MSH-2, so a feed that uses unusual ones still parses.
//!
//! Structure is checked strictly (every line must be a segment with a three-character name)
//! and sizes are bounded, so a damaged message is rejected rather than half-read.

use std::borrow::Cow;
use std::fmt;

/// More fields than this in one segment is damage, not data (the largest standard segments
/// have under 60).
pub const MAX_FIELDS_PER_SEGMENT: usize = 1_000;
/// Segments in one message; a large lab report has a few thousand OBX lines.
pub const MAX_SEGMENTS: usize = 100_000;
/// Repetitions read from one field.
pub const MAX_REPETITIONS: usize = 1_000;

/// The delimiters a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub field: char,
    pub component: char,
    pub repetition: char,
    /// A message may declare no escape character (MSH-2 shorter than four characters).
    pub escape: Option<char>,
    pub subcomponent: Option<char>,
}

/// Why one message could not be parsed. The text names positions and segment names only, never
/// values, so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Er7Error {
    NoMsh,
    BadDelimiters,
    NotASegment { segment: usize },
    TooManyFields { segment: usize, name: String },
    TooManySegments,
}

impl fmt::Display for Er7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoMsh => f.write_str("it does not start with an MSH segment"),
            Self::BadDelimiters => f.write_str(
                "MSH-1/MSH-2 do not declare usable delimiters (expected something like |^~\\&)",
            ),
            Self::NotASegment { segment } => write!(
                f,
                "line {segment} is not an HL7 segment (it should start with a three-character \
                 name such as PID); a segment may have been wrapped onto a new line"
            ),
            Self::TooManyFields { segment, name } => write!(
                f,
                "segment {segment} ({name}) has more than {MAX_FIELDS_PER_SEGMENT} fields"
            ),
            Self::TooManySegments => write!(f, "it has more than {MAX_SEGMENTS} segments"),
        }
    }
}

/// One parsed message: its delimiters and every segment's fields, as slices of the text.
pub struct Message<'a> {
    seps: Separators,
    /// All fields of all segments, flat; each segment's first slot is its name.
    fields: Vec<&'a str>,
    /// (start, len) of each segment in `fields`.
    segments: Vec<(usize, usize)>,
}

impl<'a> Message<'a> {
    /// Parses one message whose text starts at its MSH segment. Segments may end in `\r`, `\n`
    /// or `\r\n`; blank lines are ignored.
    pub fn parse(text: &'a str) -> Result<Self, Er7Error> {
        let text = text.trim_start();
        let rest = text.strip_prefix("MSH").ok_or(Er7Error::NoMsh)?;
        let mut chars = rest.chars();
        let field = chars.next().ok_or(Er7Error::BadDelimiters)?;
        let encoding: String = chars
            .take_while(|&c| c != field && c != '\r' && c != '\n')
            .take(6)
            .collect();
        let seps = separators(field, &encoding)?;

        let mut fields = Vec::with_capacity(64);
        let mut segments = Vec::with_capacity(16);
        let lines = text.split(['\r', '\n']).filter(|l| !l.trim().is_empty());
        for (index, line) in lines.enumerate() {
            let number = index + 1;
            if segments.len() >= MAX_SEGMENTS {
                return Err(Er7Error::TooManySegments);
            }
            let start = fields.len();
            // Leading spaces are indentation some tools add, not part of the segment name.
            let mut parts = line.trim_start().split(seps.field);
            let name = parts.next().unwrap_or_default();
            if !is_segment_name(name) {
                return Err(Er7Error::NotASegment { segment: number });
            }
            fields.push(name);
            for part in parts {
                if fields.len() - start > MAX_FIELDS_PER_SEGMENT {
                    return Err(Er7Error::TooManyFields {
                        segment: number,
                        name: name.to_owned(),
                    });
                }
                fields.push(part);
            }
            segments.push((start, fields.len() - start));
        }
        Ok(Self {
            seps,
            fields,
            segments,
        })
    }

    pub fn separators(&self) -> Separators {
        self.seps
    }

    /// Every segment in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'a, '_>> + '_ {
        self.segments.iter().filter_map(move |&(start, len)| {
            let slice = self.fields.get(start..start + len)?;
            Some(Segment {
                fields: slice,
                seps: self.seps,
            })
        })
    }

    /// The first segment with this name.
    pub fn segment(&self, name: &str) -> Option<Segment<'a, '_>> {
        self.segments().find(|s| s.name() == name)
    }

    /// The MSH segment (always the first).
    pub fn msh(&self) -> Option<Segment<'a, '_>> {
        self.segments().next()
    }
}

fn separators(field: char, encoding: &str) -> Result<Separators, Er7Error> {
    let mut enc = encoding.chars();
    let component = enc.next().ok_or(Er7Error::BadDelimiters)?;
    let repetition = enc.next().ok_or(Er7Error::BadDelimiters)?;
    let escape = enc.next();
    let subcomponent = enc.next();
    // A fifth character (the 2.7 truncation character) is allowed and not used.
    if enc.nth(1).is_some() {
        return Err(Er7Error::BadDelimiters);
    }
    let all = [
        Some(field),
        Some(component),
        Some(repetition),
        escape,
        subcomponent,
    ];
    let declared: Vec<char> = all.iter().flatten().copied().collect();
    let usable = declared.iter().all(|c| c.is_ascii_punctuation());
    let distinct = declared
        .iter()
        .enumerate()
        .all(|(i, c)| !declared.iter().skip(i + 1).any(|d| d == c));
    if !usable || !distinct {
        return Err(Er7Error::BadDelimiters);
    }
    Ok(Separators {
        field,
        component,
        repetition,
        escape,
        subcomponent,
    })
}

fn is_segment_name(name: &str) -> bool {
    name.len() == 3
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// One segment: its name and fields, numbered as the standard numbers them.
#[derive(Clone, Copy)]
pub struct Segment<'a, 'm> {
    fields: &'m [&'a str],
    seps: Separators,
}

impl<'a> Segment<'a, '_> {
    pub fn name(&self) -> &'a str {
        self.fields.first().copied().unwrap_or_default()
    }

    /// Field `n` (1-based, as in "PID-3"). In MSH the field separator itself is MSH-1, so MSH-n
    /// is the (n-1)th slice after the name. A field the segment does not have is empty.
    pub fn field(&self, n: usize) -> Field<'a> {
        let index = if self.name() == "MSH" {
            n.saturating_sub(1)
        } else {
            n
        };
        let raw = if n == 0 {
            ""
        } else {
            self.fields.get(index).copied().unwrap_or_default()
        };
        Field {
            raw,
            seps: self.seps,
        }
    }

    /// Shorthand for the first repetition's component `c` of field `n`, as text.
    pub fn text(&self, n: usize, c: usize) -> Option<String> {
        self.field(n).first().get(c)
    }
}

/// One field: one or more repetitions.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    raw: &'a str,
    seps: Separators,
}

impl<'a> Field<'a> {
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.trim().is_empty()
    }

    /// The repetitions, at most [`MAX_REPETITIONS`].
    pub fn reps(&self) -> impl Iterator<Item = Rep<'a>> {
        let seps = self.seps;
        self.raw
            .split(seps.repetition)
            .take(MAX_REPETITIONS)
            .map(move |raw| Rep { raw, seps })
    }

    pub fn first(&self) -> Rep<'a> {
        let raw = self
            .raw
            .split(self.seps.repetition)
            .next()
            .unwrap_or_default();
        Rep {
            raw,
            seps: self.seps,
        }
    }

    /// The whole field as text, repetitions joined by `joiner`, escapes decoded.
    pub fn joined(&self, joiner: &str) -> Option<String> {
        let parts: Vec<String> = self.reps().filter_map(|r| r.text()).collect();
        (!parts.is_empty()).then(|| parts.join(joiner))
    }
}

/// One repetition of a field: components.
#[derive(Clone, Copy)]
pub struct Rep<'a> {
    raw: &'a str,
    seps: Separators,
}

impl<'a> Rep<'a> {
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Component `c` (1-based).
    pub fn comp(&self, c: usize) -> Comp<'a> {
        let raw = match c {
            0 => "",
            _ => self
                .raw
                .split(self.seps.component)
                .nth(c - 1)
                .unwrap_or_default(),
        };
        Comp {
            raw,
            seps: self.seps,
        }
    }

    /// The first subcomponent of component `c`, as text: what a reader means by "PID-5.1".
    pub fn get(&self, c: usize) -> Option<String> {
        self.comp(c).sub(1)
    }

    /// The whole repetition as text (delimiters inside it kept as they are).
    pub fn text(&self) -> Option<String> {
        value(self.raw, &self.seps)
    }
}

/// One component: subcomponents.
#[derive(Clone, Copy)]
pub struct Comp<'a> {
    raw: &'a str,
    seps: Separators,
}

impl Comp<'_> {
    /// Subcomponent `s` (1-based), as text.
    pub fn sub(&self, s: usize) -> Option<String> {
        let raw = match (s, self.seps.subcomponent) {
            (0, _) => "",
            (_, Some(sep)) => self.raw.split(sep).nth(s - 1).unwrap_or_default(),
            (1, None) => self.raw,
            (_, None) => "",
        };
        value(raw, &self.seps)
    }

    /// The whole component as text, subcomponent delimiters kept.
    pub fn text(&self) -> Option<String> {
        value(self.raw, &self.seps)
    }
}

/// Decodes, trims and drops empty values and the HL7 explicit null `""`.
fn value(raw: &str, seps: &Separators) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed == "\"\"" {
        return None;
    }
    let decoded = unescape(trimmed, seps);
    let text = decoded.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Decodes HL7 escape sequences. Text without the escape character is returned as it is, with
/// no allocation; an unknown or unterminated sequence is kept literally.
pub fn unescape<'t>(text: &'t str, seps: &Separators) -> Cow<'t, str> {
    let Some(esc) = seps.escape else {
        return Cow::Borrowed(text);
    };
    if !text.contains(esc) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once(esc) {
        out.push_str(before);
        match after.split_once(esc) {
            Some((sequence, tail)) => {
                if !decode_sequence(sequence, seps, esc, &mut out) {
                    out.push(esc);
                    out.push_str(sequence);
                    out.push(esc);
                }
                rest = tail;
            }
            None => {
                out.push(esc);
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Appends what one escape sequence stands for; false when it is not one we know.
fn decode_sequence(sequence: &str, seps: &Separators, esc: char, out: &mut String) -> bool {
    let push = |out: &mut String, c: Option<char>| c.map(|c| out.push(c)).is_some();
    match sequence {
        "F" => push(out, Some(seps.field)),
        "S" => push(out, Some(seps.component)),
        "R" => push(out, Some(seps.repetition)),
        "T" => push(out, seps.subcomponent),
        "E" => push(out, Some(esc)),
        // Highlighting on/off and "no-fill" formatting carry no text.
        "H" | "N" | ".fi" | ".nf" => true,
        ".br" | ".ce" => push(out, Some('\n')),
        s if s.starts_with(".sp")
            && s.get(3..)
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            push(out, Some('\n'))
        }
        s if (s.starts_with(".in") || s.starts_with(".ti") || s.starts_with(".sk"))
            && s.get(3..).is_some_and(|n| {
                n.trim_start_matches(['+', '-'])
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            }) =>
        {
            true
        }
        s => match s.strip_prefix('X').and_then(decode_hex) {
            Some(bytes) => {
                out.push_str(&crate::ingest::decode_text(&bytes));
                true
            }
            None => false,
        },
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seps() -> Separators {
        Separators {
            field: '|',
            component: '^',
            repetition: '~',
            escape: Some('\\'),
            subcomponent: Some('&'),
        }
    }

    #[test]
    fn escapes_decode() {
        let s = seps();
        assert_eq!(unescape(r"a\F\b\S\c\T\d\R\e\E\f", &s), "a|b^c&d~e\\f");
        assert_eq!(unescape(r"line1\.br\line2", &s), "line1\nline2");
        assert_eq!(unescape(r"cr\X0D\lf\X0A\", &s), "cr\rlf\n");
        assert_eq!(unescape(r"caf\XE9\", &s), "café");
        assert_eq!(unescape(r"\H\bold\N\", &s), "bold");
    }

    #[test]
    fn unknown_and_unterminated_escapes_are_kept() {
        let s = seps();
        assert_eq!(unescape(r"a\Q\b", &s), r"a\Q\b");
        assert_eq!(unescape(r"a\Q\F\", &s), r"a\Q\F\");
        assert_eq!(unescape(r"C:\MIME", &s), r"C:\MIME");
        assert_eq!(unescape(r"\XZZ\", &s), r"\XZZ\");
        assert_eq!(unescape(r"\X0\", &s), r"\X0\");
        assert!(matches!(unescape("plain", &s), Cow::Borrowed(_)));
    }

    #[test]
    fn levels_split() {
        let text = "MSH|^~\\&|APP|FAC|||20240305||ADT^A01|1|P|2.4\rPID|1||A&B^x~C^y||Fam^Giv";
        let m = Message::parse(text).unwrap();
        let msh = m.msh().unwrap();
        assert_eq!(msh.field(2).raw(), "^~\\&");
        assert_eq!(msh.text(3, 1).as_deref(), Some("APP"));
        assert_eq!(msh.text(9, 2).as_deref(), Some("A01"));
        let pid = m.segment("PID").unwrap();
        let reps: Vec<_> = pid.field(3).reps().collect();
        assert_eq!(reps.len(), 2);
        assert_eq!(reps[0].comp(1).sub(2).as_deref(), Some("B"));
        assert_eq!(reps[0].comp(1).text().as_deref(), Some("A&B"));
        assert_eq!(reps[1].get(2).as_deref(), Some("y"));
        assert_eq!(pid.text(5, 2).as_deref(), Some("Giv"));
        assert_eq!(pid.text(40, 1), None);
        assert_eq!(pid.text(0, 1), None);
    }

    #[test]
    fn custom_delimiters() {
        let m = Message::parse("MSH#*@!%#A\nPID#1##X%Y*Z@W").unwrap();
        let pid = m.segment("PID").unwrap();
        let rep = pid.field(3).first();
        assert_eq!(rep.comp(1).sub(2).as_deref(), Some("Y"));
        assert_eq!(rep.get(2).as_deref(), Some("Z"));
        assert_eq!(pid.field(3).reps().count(), 2);
    }

    #[test]
    fn structure_errors() {
        assert_eq!(Message::parse("PID|1").err(), Some(Er7Error::NoMsh));
        assert_eq!(Message::parse("MSH|").err(), Some(Er7Error::BadDelimiters));
        assert_eq!(
            Message::parse("MSH|^^\\&|").err(),
            Some(Er7Error::BadDelimiters)
        );
        assert_eq!(
            Message::parse("MSH|^~\\&|\rPID|1\rwrapped text").err(),
            Some(Er7Error::NotASegment { segment: 3 })
        );
        let wide = format!("MSH|^~\\&|\rZZZ{}", "|".repeat(MAX_FIELDS_PER_SEGMENT + 5));
        assert!(matches!(
            Message::parse(&wide),
            Err(Er7Error::TooManyFields { .. })
        ));
    }

    #[test]
    fn explicit_null_is_empty() {
        let m = Message::parse("MSH|^~\\&|\rPID|1||\"\"^x").unwrap();
        assert_eq!(m.segment("PID").unwrap().text(3, 1), None);
    }
}
