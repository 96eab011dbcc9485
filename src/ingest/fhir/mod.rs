//! FHIR R4 JSON feeds: a Bundle of any type (collection, transaction, searchset, document,
//! message, batch, history) or a single resource.
//!
//! The file is checked before serde sees it — size, then nesting depth by a flat byte scan, so
//! a hostile file nested a hundred thousand deep is refused without recursion. It is never
//! parsed whole: [`bundle`] indexes where each entry's resource lies and learns what later
//! references need (which `fullUrl` is which Patient, what each Medication is called, which
//! report each Observation belongs to); then [`Stream`] parses and adapts each resource in file
//! order (see [`adapt`]), one at a time, so memory follows one resource, not the file. Each
//! Patient becomes one [`Extract`] carrying demographics; every other resource becomes one
//! Extract carrying its entries. A resource that cannot be read is a [`Reject`] and the rest of
//! the Bundle carries on; resource types we do not read are counted, not errors.
//!
//! A unit's `raw` is the resource's own JSON, so a rejected resource can be fixed and sent
//! again on its own.

mod adapt;
mod bundle;
mod care;
mod clinical;
mod datatypes;
mod people;
mod resources;
#[cfg(test)]
mod tests;

pub use bundle::MAX_RESOURCES;

use super::{Extract, FileError, ParsedFile, Reject, Unit, MAX_FILE_BYTES};
use resources::{CodeableConcept, Medication, Reference};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// Deeper than any real FHIR resource nests (a Patient with nested extensions is about a
/// dozen levels); refusing more keeps every later recursive step bounded.
pub const MAX_DEPTH: usize = 64;

/// Bundles inside Bundles (a document inside a message) are read this many levels down.
const MAX_BUNDLE_NESTING: usize = 4;

const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// Parses a whole file into its units, for callers that want them all at once (replay of one
/// resource, tests). The importer reads through [`Stream`] instead, a resource at a time.
pub fn parse_file(bytes: &[u8]) -> Result<ParsedFile, FileError> {
    let mut stream = Stream::new(Cow::Borrowed(bytes))?;
    let mut parsed = ParsedFile::default();
    while let Some(unit) = stream.next_unit(&mut parsed.skipped) {
        parsed.units.push(unit);
    }
    Ok(parsed)
}

/// A FHIR file's units, adapted one at a time as they are asked for (see [`bundle`]).
pub struct Stream<'a> {
    text: Cow<'a, str>,
    index: bundle::Index,
    next: usize,
}

impl<'a> Stream<'a> {
    /// Checks and indexes a file: size, nesting depth, JSON, resourceType, resource count.
    pub fn new(bytes: Cow<'a, [u8]>) -> Result<Self, FileError> {
        Self::with_limit(bytes, MAX_RESOURCES)
    }

    fn with_limit(bytes: Cow<'a, [u8]>, max_resources: usize) -> Result<Self, FileError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(FileError::TooLarge(bytes.len()));
        }
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        let body = bytes.strip_prefix(BOM).unwrap_or(bytes.as_ref());
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(FileError::Empty);
        }
        check_depth(body, MAX_DEPTH)?;
        // JSON is UTF-8 by definition, but older systems still send Windows-1252 text.
        let text = match bytes {
            Cow::Borrowed(b) => super::decode_text(b.strip_prefix(BOM).unwrap_or(b)),
            Cow::Owned(mut b) => {
                if b.starts_with(BOM) {
                    b.drain(..BOM.len());
                }
                match String::from_utf8(b) {
                    Ok(text) => Cow::Owned(text),
                    Err(e) => Cow::Owned(super::decode_text(e.as_bytes()).into_owned()),
                }
            }
        };
        let index = bundle::index(&text, max_resources)?;
        Ok(Self {
            text,
            index,
            next: 0,
        })
    }

    /// How many resource slots the file has: an upper bound on its units.
    pub fn slots(&self) -> usize {
        self.index.items.len()
    }

    /// The next unit, counting the resources skipped on the way in `skipped`.
    pub fn next_unit(&mut self, skipped: &mut BTreeMap<String, usize>) -> Option<Unit> {
        loop {
            let item = self.index.items.get(self.next)?;
            self.next += 1;
            let label = item.label(&self.index.groups);
            let full_url = item.full_url(&self.text);
            let bundle_time = item.bundle_time(&self.index.groups);
            let resource = match item.resource() {
                None => None,
                Some(span) => match serde_json::from_str::<Value>(span.of(&self.text)) {
                    Ok(value) => Some(value),
                    Err(e) => {
                        return Some(Err(Reject {
                            position: label,
                            reason: format!("the resource cannot be read ({})", shape_error(&e)),
                            raw: span.of(&self.text).as_bytes().to_vec(),
                        }))
                    }
                },
            };
            let slot = Slot {
                label,
                full_url: full_url.as_deref(),
                resource: resource.as_ref(),
                bundle_time,
            };
            if let Some(unit) = read_item(&slot, &self.index.ctx, skipped) {
                return Some(unit);
            }
        }
    }
}

/// Refuses JSON nested deeper than `max` by counting brackets outside strings: no recursion,
/// so no input can exhaust the stack.
fn check_depth(bytes: &[u8], max: usize) -> Result<(), FileError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(FileError::Unreadable(format!(
                        "the JSON is nested more than {max} levels deep, which no FHIR resource needs; \
                         the file is refused unread"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// One resource slot, parsed, as [`read_item`] adapts it.
struct Slot<'a> {
    /// "entry 3", "entry 3.2" (inside a nested Bundle) or "resource".
    label: String,
    full_url: Option<&'a str>,
    resource: Option<&'a Value>,
    /// The enclosing Bundle's own time, for resources without `meta.lastUpdated`.
    bundle_time: Option<&'a str>,
}

/// What the first pass learns about the whole file.
pub(crate) struct Context {
    /// Patient `fullUrl` (and `Patient/<id>`) → that Patient's local id.
    patients: HashMap<String, String>,
    /// `Medication/<id>` or fullUrl → the Medication's code.
    medications: HashMap<String, CodeableConcept>,
    /// `Observation/<id>` or fullUrl → the report listing it as a result.
    reports: HashMap<String, String>,
    /// A report's (or a grouping Observation's) key → its code: the panel its observations
    /// were ordered as.
    report_codes: HashMap<String, CodeableConcept>,
    /// `Observation/<id>` or fullUrl → the Observation grouping it under `hasMember` (UK Core
    /// sends a full blood count as a group Observation with its tests as members).
    groups: HashMap<String, String>,
}

impl Context {
    fn empty() -> Self {
        Self {
            patients: HashMap::new(),
            medications: HashMap::new(),
            reports: HashMap::new(),
            report_codes: HashMap::new(),
            groups: HashMap::new(),
        }
    }

    /// Learns what one resource of the file tells others; later resources win, in file order.
    fn learn_one(&mut self, kind: &str, r: &Value, full_url: Option<&str>) {
        let id = r.get("id").and_then(Value::as_str);
        let keys: Vec<String> = full_url
            .map(str::to_owned)
            .into_iter()
            .chain(id.map(|id| format!("{kind}/{id}")))
            .collect();
        match kind {
            "Patient" => {
                if let Some(local) = id.or(full_url) {
                    for k in keys {
                        self.patients.insert(k, local.to_owned());
                    }
                }
            }
            "Medication" => {
                if let Some(code) = Medication::deserialize(r).ok().and_then(|m| m.code) {
                    for k in keys {
                        self.medications.insert(k, code.clone());
                    }
                }
            }
            "Observation" => {
                let members = r.get("hasMember").and_then(Value::as_array);
                let (Some(group), Some(members)) = (keys.last(), members) else {
                    return;
                };
                if let Some(code) = r
                    .get("code")
                    .and_then(|c| CodeableConcept::deserialize(c).ok())
                {
                    self.report_codes.insert(group.clone(), code);
                }
                for reference in members {
                    if let Some(target) = reference.get("reference").and_then(Value::as_str) {
                        self.groups.insert(normalise_ref(target), group.clone());
                    }
                }
            }
            "DiagnosticReport" => {
                let Some(report) = keys.last() else { return };
                if let Some(code) = r
                    .get("code")
                    .and_then(|c| CodeableConcept::deserialize(c).ok())
                {
                    self.report_codes.insert(report.clone(), code);
                }
                let results = r.get("result").and_then(Value::as_array);
                for reference in results.into_iter().flatten() {
                    if let Some(target) = reference.get("reference").and_then(Value::as_str) {
                        self.reports.insert(normalise_ref(target), report.clone());
                    }
                }
            }
            _ => {}
        }
    }

    /// The subject string for a reference to the person a resource is about.
    pub(crate) fn subject_of(&self, reference: Option<&Reference>) -> Result<String, String> {
        let Some(reference) = reference else {
            return Err("it names no patient (no subject or patient reference)".into());
        };
        if let Some(target) = reference
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if let Some(local) = self.patients.get(target) {
                return Ok(local.clone());
            }
            let relative = normalise_ref(target);
            if let Some(local) = self.patients.get(&relative) {
                return Ok(local.clone());
            }
            if let Some(id) = relative
                .strip_prefix("Patient/")
                .filter(|id| !id.contains('/') && !id.trim().is_empty())
            {
                return Ok(id.to_owned());
            }
            if target.starts_with("urn:") {
                return Err(format!(
                    "its patient reference {target} is not a Patient in this file"
                ));
            }
            if target.starts_with('#') {
                return Err("its patient is a contained resource, which is not read; send the Patient as its own resource".into());
            }
            return Err(format!("its subject {relative} is not a Patient"));
        }
        if let Some(ident) = &reference.identifier {
            if ident.system.as_deref() == Some(NHS_NUMBER_SYSTEM) {
                let digits =
                    crate::model::nhs_number::standardise(ident.value.as_deref().unwrap_or(""));
                if !digits.is_empty() {
                    return Ok(format!("NHS:{digits}"));
                }
            }
            return Err(
                "its patient is identified only by an identifier that is not an NHS number".into(),
            );
        }
        Err("its patient reference has neither a reference nor an NHS number".into())
    }

    pub(crate) fn medication(&self, reference: &str) -> Option<&CodeableConcept> {
        self.medications
            .get(reference)
            .or_else(|| self.medications.get(&normalise_ref(reference)))
    }

    /// The report an Observation belongs to, by its fullUrl or `Observation/<id>`.
    pub(crate) fn report_of(&self, keys: &[String]) -> Option<String> {
        keys.iter().find_map(|k| self.reports.get(k).cloned())
    }

    /// The code of the report an Observation belongs to: the panel it was ordered as.
    pub(crate) fn panel_of(&self, keys: &[String]) -> Option<&CodeableConcept> {
        let group = || keys.iter().find_map(|k| self.groups.get(k).cloned());
        self.report_of(keys)
            .or_else(group)
            .and_then(|report| self.report_codes.get(&report))
    }
}

/// `http://server/fhir/Patient/1/_history/2` → `Patient/1`; other text is returned as given.
fn normalise_ref(reference: &str) -> String {
    let trimmed = match reference.find("/_history/") {
        Some(at) => reference.get(..at).unwrap_or(reference),
        None => reference,
    };
    if trimmed.starts_with("urn:") {
        return trimmed.to_owned();
    }
    let mut parts = trimmed.rsplit('/');
    match (parts.next(), parts.next()) {
        (Some(id), Some(kind))
            if !id.is_empty() && kind.chars().next().is_some_and(|c| c.is_ascii_uppercase()) =>
        {
            format!("{kind}/{id}")
        }
        _ => trimmed.to_owned(),
    }
}

/// One slot → one unit, or `None` when it is counted in `skipped` instead.
fn read_item(
    item: &Slot<'_>,
    ctx: &Context,
    skipped: &mut BTreeMap<String, usize>,
) -> Option<Unit> {
    let Some(resource) = item.resource else {
        *skipped
            .entry("Bundle entry without a resource".into())
            .or_default() += 1;
        return None;
    };
    let raw = serde_json::to_vec(resource).unwrap_or_default();
    let Some(kind) = resource.get("resourceType").and_then(Value::as_str) else {
        return Some(Err(Reject {
            position: item.label.clone(),
            reason: "the resource has no resourceType".into(),
            raw,
        }));
    };
    let source_ref = source_ref(kind, resource, item.full_url, &raw);
    let position = format!("{} ({source_ref})", item.label);
    let reject = |reason: String, raw: Vec<u8>| Reject {
        position: position.clone(),
        reason: format!("{kind}: {reason}"),
        raw,
    };
    match adapt::adapt(kind, resource, &source_ref, item.full_url, ctx) {
        Ok(adapt::Outcome::Skip(name)) => {
            *skipped.entry(name).or_default() += 1;
            None
        }
        // A blank subject would file the unit under one nameless person shared by every such
        // resource (a fuzz finding: `"reference": "Patient/"`); whatever way it arises, refuse it.
        Ok(adapt::Outcome::Unit(unit)) if unit.subject.trim().is_empty() => Some(Err(reject(
            "its patient has a blank id, so whom it is about is unknown; send the Patient's id"
                .into(),
            raw,
        ))),
        Ok(adapt::Outcome::Unit(unit)) => {
            let unit = *unit;
            let event_time = unit
                .last_updated
                .or_else(|| item.bundle_time.map(str::to_owned));
            Some(Ok(Extract {
                position: position.clone(),
                message_ref: Some(
                    item.full_url
                        .map_or_else(|| source_ref.clone(), str::to_owned),
                ),
                event_time,
                subject: unit.subject,
                demographics: unit.demographics,
                entries: unit.entries,
                merge_from: unit.merge_from,
                location_event: None,
                raw,
            }))
        }
        Err(reason) => Some(Err(reject(reason, raw))),
    }
}

/// `<ResourceType>/<id>`, else the fullUrl, else a hash of the resource's JSON so that the
/// same resource sent twice still updates one entry.
fn source_ref(kind: &str, resource: &Value, full_url: Option<&str>, raw: &[u8]) -> String {
    if let Some(id) = resource
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
    {
        return format!("{kind}/{}", id.trim());
    }
    if let Some(url) = full_url.filter(|u| !u.trim().is_empty()) {
        return url.trim().to_owned();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(raw);
    format!(
        "{kind}#sha256:{}",
        hex::encode(digest.get(..12).unwrap_or(&digest))
    )
}

/// Redacts values from a serde error: "invalid type: string \"Smith\", expected a sequence"
/// would otherwise carry patient data into a reject reason.
pub(crate) fn shape_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' => {
                quote = Some('"');
                out.push_str("(value)");
            }
            None => out.push(c),
        }
    }
    let out = redact_after(&out, "invalid type: ");
    let out = redact_after(&out, "invalid value: ");
    format!("a field has the wrong shape for FHIR R4 ({out})")
}

/// Keeps the JSON kind in "invalid type: integer `5`, expected …" but drops the value.
fn redact_after(text: &str, marker: &str) -> String {
    let Some(at) = text.find(marker) else {
        return text.to_owned();
    };
    let (head, tail) = text.split_at(at + marker.len());
    match (tail.find('`'), tail.find(", expected")) {
        (Some(tick), Some(comma)) if tick < comma => {
            let kind = tail.get(..tick).unwrap_or("").trim_end();
            let rest = tail.get(comma..).unwrap_or("");
            format!("{head}{kind}{rest}")
        }
        _ => text.to_owned(),
    }
}
