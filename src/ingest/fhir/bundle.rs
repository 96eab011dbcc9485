//! Reading a FHIR file one resource at a time, so that its size, not thirty times its size,
//! is what it costs.
//!
//! Parsed whole into `serde_json::Value`, a Bundle of a million tiny resources (47 MB) took
//! the server to a 1.7 GB peak; the file limit would have allowed one upload to need tens of
//! gigabytes. So the text is read in light passes instead. serde first checks that the whole
//! text is JSON without building anything (`IgnoredAny`). A scan of the now known-good text
//! then finds where each entry's `fullUrl` and `resource` lie and learns what later
//! references need (the [`Context`]: which `fullUrl` is which Patient, what each Medication is
//! called, which report lists each Observation) from those few resource types. The [`Index`]
//! holds only positions, so it costs a few dozen bytes an entry. Then each resource is parsed,
//! adapted and handed on by [`Stream`], one at a time, and dropped once it is stored.
//!
//! A Bundle holding more than [`MAX_RESOURCES`] resources (nested Bundles included) is refused
//! unread with that reason: the index stays bounded whatever the file.

use super::{Context, MAX_BUNDLE_NESTING};
use crate::ingest::FileError;
use serde_json::Value;

/// More resources than any one feed file needs (a practice's whole register as Patients is
/// tens of thousands); a source with more splits its extract into several files.
pub const MAX_RESOURCES: usize = 1_000_000;

/// Where one JSON value lies in the file's text (byte offsets; the file limit keeps them in u32).
#[derive(Clone, Copy)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Self {
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    pub(super) fn of(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

/// One Bundle (or the single resource that is the whole file): how its entries are named in
/// rejects, and its own time for resources without `meta.lastUpdated`.
pub(super) struct Group {
    /// "entry " for the file's Bundle, "entry 3." inside the Bundle at entry 3, or
    /// "resource" for a file that is one resource.
    prefix: String,
    time: Option<String>,
}

/// One resource slot of the file, in file order.
pub(super) struct Item {
    group: u32,
    /// 1-based position in its Bundle; 0 for a file that is one resource.
    number: u32,
    full_url: Option<Span>,
    resource: Option<Span>,
}

impl Item {
    /// "entry 3", "entry 3.2" (inside a nested Bundle) or "resource".
    pub(super) fn label(&self, groups: &[Group]) -> String {
        let prefix = groups
            .get(self.group as usize)
            .map_or("entry ", |g| g.prefix.as_str());
        if self.number == 0 {
            prefix.to_owned()
        } else {
            format!("{prefix}{}", self.number)
        }
    }

    pub(super) fn bundle_time<'g>(&self, groups: &'g [Group]) -> Option<&'g str> {
        groups
            .get(self.group as usize)
            .and_then(|g| g.time.as_deref())
    }

    pub(super) fn full_url(&self, text: &str) -> Option<String> {
        self.full_url.and_then(|s| string_value(text, s))
    }

    pub(super) fn resource(&self) -> Option<Span> {
        self.resource
    }
}

/// What the scan learned: every resource slot, the Bundles they sit in, and the context.
pub(super) struct Index {
    pub items: Vec<Item>,
    pub groups: Vec<Group>,
    pub ctx: Context,
}

/// Indexes a file's text, refusing text that is not JSON, not a FHIR resource, or a Bundle
/// with more than `max_resources` resources.
pub(super) fn index(text: &str, max_resources: usize) -> Result<Index, FileError> {
    if u32::try_from(text.len()).is_err() {
        return Err(FileError::TooLarge(text.len()));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
        FileError::Unreadable(format!(
            "this is not JSON ({e}); a FHIR feed file is one JSON resource or Bundle"
        ))
    })?;
    let bytes = text.as_bytes();
    let start = skip_space(bytes, 0);
    if bytes.get(start) != Some(&b'{') {
        return Err(FileError::Unreadable(
            "this JSON is not an object, so it is not a FHIR resource or Bundle".into(),
        ));
    }
    let root = Span::new(start, value_end(bytes, start));
    let mut index = Index {
        items: Vec::new(),
        groups: Vec::new(),
        ctx: Context::empty(),
    };
    match resource_type(text, root).as_deref() {
        None => {
            return Err(FileError::Unreadable(
                "this JSON has no resourceType, so it is not a FHIR resource".into(),
            ))
        }
        Some("Bundle") => {
            let mut walk = Walk {
                text,
                index: &mut index,
                max_resources,
            };
            walk.bundle(root, "entry ".into(), None, 0)?;
        }
        Some(kind) => {
            index.groups.push(Group {
                prefix: "resource".into(),
                time: None,
            });
            learn(&mut index.ctx, text, kind, root, None);
            index.items.push(Item {
                group: 0,
                number: 0,
                full_url: None,
                resource: Some(root),
            });
        }
    }
    Ok(index)
}

struct Walk<'t, 'i> {
    text: &'t str,
    index: &'i mut Index,
    max_resources: usize,
}

impl Walk<'_, '_> {
    fn bundle(
        &mut self,
        bundle: Span,
        prefix: String,
        outer_time: Option<&str>,
        nesting: usize,
    ) -> Result<(), FileError> {
        let text = self.text;
        let (mut entries, mut timestamp, mut meta) = (None, None, None);
        for (key, value) in Members::of(text, bundle) {
            if key_is(text, key, "entry") {
                entries = Some(value);
            } else if key_is(text, key, "timestamp") {
                timestamp = Some(value);
            } else if key_is(text, key, "meta") {
                meta = Some(value);
            }
        }
        let time = timestamp
            .and_then(|t| string_value(text, t))
            .or_else(|| {
                meta.and_then(|m| member(text, m, "lastUpdated"))
                    .and_then(|t| string_value(text, t))
            })
            .or_else(|| outer_time.map(str::to_owned));
        let group = u32::try_from(self.index.groups.len()).unwrap_or(u32::MAX);
        self.index.groups.push(Group {
            prefix: prefix.clone(),
            time: time.clone(),
        });
        let Some(entries) = entries.filter(|e| starts_with(text, *e, b'[')) else {
            return Ok(());
        };
        for (i, (_, entry)) in Members::of(text, entries).enumerate() {
            let number = i + 1;
            let (full_url, resource) = if starts_with(text, entry, b'{') {
                (
                    member(text, entry, "fullUrl"),
                    member(text, entry, "resource"),
                )
            } else {
                (None, None)
            };
            let kind = resource.and_then(|r| resource_type(text, r));
            if let (Some("Bundle"), Some(inner)) = (kind.as_deref(), resource) {
                if nesting < MAX_BUNDLE_NESTING {
                    self.bundle(
                        inner,
                        format!("{prefix}{number}."),
                        time.as_deref(),
                        nesting + 1,
                    )?;
                    continue;
                }
            }
            if self.index.items.len() >= self.max_resources {
                return Err(FileError::Unreadable(format!(
                    "the Bundle holds more than {} resources, more than one feed file may carry; \
                     split the extract at source into files of at most that many",
                    self.max_resources
                )));
            }
            if let (Some(kind), Some(resource)) = (kind.as_deref(), resource) {
                let url = full_url.and_then(|u| string_value(text, u));
                learn(&mut self.index.ctx, text, kind, resource, url.as_deref());
            }
            self.index.items.push(Item {
                group,
                number: u32::try_from(number).unwrap_or(u32::MAX),
                full_url,
                resource,
            });
        }
        Ok(())
    }
}

/// Only the resources other resources take something from are parsed in the first pass, each
/// on its own and dropped at once.
fn learn(ctx: &mut Context, text: &str, kind: &str, resource: Span, full_url: Option<&str>) {
    // A grouping Observation (`hasMember`) names its members' panel; other Observations, the
    // bulk of a results file, are not parsed twice.
    let group = kind == "Observation" && member(text, resource, "hasMember").is_some();
    if !group && !matches!(kind, "Patient" | "Medication" | "DiagnosticReport") {
        return;
    }
    if let Ok(value) = serde_json::from_str::<Value>(resource.of(text)) {
        ctx.learn_one(kind, &value, full_url);
    }
}

/// The `resourceType` of the object at `span`, when it is an object with a string one.
fn resource_type(text: &str, span: Span) -> Option<String> {
    if !starts_with(text, span, b'{') {
        return None;
    }
    member(text, span, "resourceType").and_then(|t| string_value(text, t))
}

/// The value of member `name` of the object at `span`; the last one wins, as in `Value`.
fn member(text: &str, span: Span, name: &str) -> Option<Span> {
    if !starts_with(text, span, b'{') {
        return None;
    }
    Members::of(text, span)
        .filter(|(key, _)| key_is(text, *key, name))
        .last()
        .map(|(_, value)| value)
}

/// The JSON string at `span`, unescaped; `None` for any other kind of value.
fn string_value(text: &str, span: Span) -> Option<String> {
    serde_json::from_str::<String>(span.of(text)).ok()
}

fn starts_with(text: &str, span: Span, byte: u8) -> bool {
    span.of(text).as_bytes().first() == Some(&byte)
}

/// Whether the key (a JSON string, quotes included) at `span` is `name`.
fn key_is(text: &str, span: Span, name: &str) -> bool {
    let raw = span.of(text);
    if raw.contains('\\') {
        return serde_json::from_str::<String>(raw).is_ok_and(|k| k == name);
    }
    raw.len() == name.len() + 2 && raw.get(1..raw.len() - 1) == Some(name)
}

/// The members of an object (key span, value span) or the elements of an array (the value
/// span twice), over text already known to be JSON.
struct Members<'a> {
    bytes: &'a [u8],
    at: usize,
    end: usize,
    object: bool,
}

impl<'a> Members<'a> {
    fn of(text: &'a str, span: Span) -> Self {
        let bytes = text.as_bytes();
        let start = span.start as usize;
        Self {
            bytes,
            at: start + 1,
            end: (span.end as usize).min(bytes.len()),
            object: bytes.get(start) == Some(&b'{'),
        }
    }
}

impl Iterator for Members<'_> {
    type Item = (Span, Span);

    fn next(&mut self) -> Option<(Span, Span)> {
        let b = self.bytes;
        let mut at = skip_space(b, self.at);
        if b.get(at) == Some(&b',') {
            at = skip_space(b, at + 1);
        }
        if at >= self.end || matches!(b.get(at), None | Some(b'}' | b']')) {
            self.at = self.end;
            return None;
        }
        let key = if self.object {
            let key_end = string_end(b, at);
            let key = Span::new(at, key_end);
            at = skip_space(b, key_end);
            if b.get(at) == Some(&b':') {
                at = skip_space(b, at + 1);
            }
            Some(key)
        } else {
            None
        };
        let end = value_end(b, at);
        let value = Span::new(at, end);
        self.at = end;
        Some((key.unwrap_or(value), value))
    }
}

fn skip_space(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The end (exclusive) of the string whose opening quote is at `at`.
fn string_end(b: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end (exclusive) of the JSON value that starts at `at`.
fn value_end(b: &[u8], at: usize) -> usize {
    match b.get(at) {
        Some(b'"') => string_end(b, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = at;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            let mut i = at;
            while b
                .get(i)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                i += 1;
            }
            i
        }
    }
}
