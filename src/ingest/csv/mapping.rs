//! The declarative mapping that says how one source's CSV columns become the canonical model.
//!
//! A mapping is a TOML file kept with the source. Everything that takes a value from a row —
//! the subject, each demographic, each entry field — is a *field*, written one of four ways:
//!
//! | form | meaning |
//! | --- | --- |
//! | `"dob"` | the column whose header is `dob` (matched ignoring case) |
//! | `14` or `"14"` | column 14, counting from 1 (the only way when there is no header row) |
//! | `"{client_id}/package/{package_id}"` | a template: text with `{column}` placeholders (names or numbers); `{{`/`}}` are literal braces; `{subject}` is the row's subject as resolved (after the NHS number fallback) |
//! | `{ value = "adults" }` | a constant |
//!
//! The table form `{ column = … }`, `{ template = … }` or `{ value = … }` also takes
//! `map = "name"` (pass the value through code map `[maps.name]`), `required = true` (an empty
//! value rejects the row) and `formats = [...]` (date formats for this field only). Every value
//! is trimmed; an empty value is absent. A date field that is not empty must parse in one of
//! the formats, or the row is rejected: a wrong date is worse than none.
//!
//! ```toml
//! name = "Westshire adults social care"  # named in messages
//! delimiter = "|"          # one ASCII character; default ","
//! quote = '"'              # one ASCII character, or "" for none; default '"'
//! header = true            # default true; false: columns by number, and `columns` is needed
//! columns = 12             # headerless files: how many columns every row has
//! skip_lines = ["503"]     # lines that start with any of these are not data (file headers)
//! date_formats = ["%d/%m/%Y", "%Y-%m-%d"]  # chrono strftime, tried in order; default ISO 8601
//! subject = "client_id"    # the source's local id for the person
//! subject_nhs_fallback = true   # no local id: use "NHS:<digits>" from demographics.nhs_number
//!                          # (then `subject` may be left out, when the NHS number is the only id)
//! event_time = "extract_date"   # the source's time for the row (a date field)
//!
//! # A record written over several physical lines (headerless files only). Each line must
//! # start with its prefix and have its number of columns; the columns of the lines are
//! # numbered on from each other (line 1 is 1–16, line 2 is 17–27 …).
//! [[record_line]]
//! prefix = "DOW~1~"
//! columns = 16
//!
//! [maps.sex]               # code maps: source value → our value; "*" catches the rest;
//! "1" = "male"             # a value with no key (and no "*") passes through unchanged
//!
//! [demographics]           # any of: nhs_number, nhs_number_verified (yes/no), family, given
//! nhs_number = "nhs_no"    # (split on spaces and commas), title, birth_date, sex, address_lines
//! birth_date = { column = "dob", required = true }   # (a list of fields), city, postcode,
//! sex = { column = "gender", map = "sex" }   # phone, email, death_date, deceased (yes/no),
//!                          # gp_practice, gp_practice_name, gp_name, restricted (yes/no),
//!                          # sharing_objection (yes/no), ethnicity (NHS ethnic category
//!                          # code A–Z; a map can turn local codes into them)
//! [[entry]]                # any number; each makes at most one entry per row
//! category = "social-care" # any category name (model::Category)
//! source_ref = "{subject}/package/{package_id}"  # unique and stable; must use a column
//! when = { column = "package_id" }   # only rows where it is non-empty (or `equals = "Y"`/[…])
//! title = "service_desc"   # required; code_system, code, status, start, end (dates),
//! start = "start_date"     # recorded_at (a date), sensitive and not_for_patient (yes/no) are optional
//! [entry.body]             # the category's typed fields, named as in model::entry
//! service = { value = "adults" }
//! kind = { value = "package of care" }   # fixed lists read `Package of care` as `package-of-care`
//! team = "team"
//! ```
//!
//! Everything is checked when the mapping is loaded, so a mistake in it is reported once, with
//! where, rather than as a reject on every row.

use super::body::{self, Kind};
use super::field::{ColumnRef, Field, Source, When};
use crate::model::Category;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most columns a row may have; beyond this a file is not a sane extract.
pub(super) const MAX_COLUMNS: usize = 4096;

/// Date formats used when a mapping names none: ISO 8601 date and date-time.
const DEFAULT_DATE_FORMATS: [&str; 3] = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"];

/// How one source's CSV columns map onto the canonical model (a TOML file; see the module docs).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "MappingToml")]
pub struct Mapping {
    pub(super) name: String,
    pub(super) layout: Layout,
    pub(super) date_formats: Vec<String>,
    pub(super) maps: BTreeMap<String, BTreeMap<String, String>>,
    /// `None` when the NHS number is the only id the source sends.
    pub(super) subject: Option<Field>,
    pub(super) subject_nhs_fallback: bool,
    pub(super) event_time: Option<Field>,
    pub(super) demographics: Option<DemographicsMap>,
    pub(super) entries: Vec<EntryMap>,
}

impl Mapping {
    /// Reads and checks a mapping; the error says what is wrong and where.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("the CSV mapping is not valid: {e}"))
    }

    /// The mapping's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every column the mapping reads, each once, in first-use order.
    pub(super) fn columns(&self) -> Vec<&ColumnRef> {
        let mut fields: Vec<&Field> = self.subject.iter().collect();
        fields.extend(&self.event_time);
        if let Some(d) = &self.demographics {
            fields.extend(d.fields());
        }
        let mut columns: Vec<&ColumnRef> = Vec::new();
        for e in &self.entries {
            fields.extend(e.fields());
            columns.extend(e.when.as_ref().map(|w| &w.column));
        }
        columns.extend(fields.into_iter().flat_map(Field::columns));
        let mut seen: Vec<&ColumnRef> = Vec::new();
        for c in columns {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        seen
    }
}

/// How rows are laid out in the file.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub delimiter: u8,
    pub quote: Option<u8>,
    pub header: bool,
    /// Columns per row for headerless files (the sum of `record_lines` when there are some).
    pub columns: Option<usize>,
    pub skip_lines: Vec<String>,
    pub record_lines: Vec<RecordLine>,
}

/// One physical line of a record that spans several.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordLine {
    pub prefix: String,
    pub columns: usize,
}

/// Where each demographic comes from; every one is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemographicsMap {
    pub nhs_number: Option<Field>,
    pub nhs_number_verified: Option<Field>,
    pub family: Option<Field>,
    pub given: Option<Field>,
    pub title: Option<Field>,
    pub birth_date: Option<Field>,
    pub sex: Option<Field>,
    #[serde(default)]
    pub address_lines: Vec<Field>,
    pub city: Option<Field>,
    pub postcode: Option<Field>,
    pub phone: Option<Field>,
    pub email: Option<Field>,
    pub death_date: Option<Field>,
    pub deceased: Option<Field>,
    pub gp_practice: Option<Field>,
    pub gp_practice_name: Option<Field>,
    pub gp_name: Option<Field>,
    pub restricted: Option<Field>,
    pub sharing_objection: Option<Field>,
    pub ethnicity: Option<Field>,
}

impl DemographicsMap {
    fn fields(&self) -> Vec<&Field> {
        let singles = [
            &self.nhs_number,
            &self.nhs_number_verified,
            &self.family,
            &self.given,
            &self.title,
            &self.birth_date,
            &self.sex,
            &self.city,
            &self.postcode,
            &self.phone,
            &self.email,
            &self.death_date,
            &self.deceased,
            &self.gp_practice,
            &self.gp_practice_name,
            &self.gp_name,
            &self.restricted,
            &self.sharing_objection,
            &self.ethnicity,
        ];
        singles
            .into_iter()
            .flatten()
            .chain(&self.address_lines)
            .collect()
    }
}

/// One `[[entry]]`: how a row makes one entry of a fixed category.
#[derive(Debug, Clone)]
pub(super) struct EntryMap {
    pub category: Category,
    pub when: Option<When>,
    pub source_ref: Field,
    pub title: Field,
    pub code_system: Option<Field>,
    pub code: Option<Field>,
    pub status: Option<Field>,
    pub start: Option<Field>,
    pub end: Option<Field>,
    pub recorded_at: Option<Field>,
    pub sensitive: Option<Field>,
    /// A yes/no column: the row is not for the patient's own view (citizens never see it).
    pub not_for_patient: Option<Field>,
    /// Body fields in the model's order, each with what it holds.
    pub body: Vec<(body::BodyField, Field)>,
}

impl EntryMap {
    fn fields(&self) -> Vec<&Field> {
        let optional = [
            &self.code_system,
            &self.code,
            &self.status,
            &self.start,
            &self.end,
            &self.recorded_at,
            &self.sensitive,
            &self.not_for_patient,
        ];
        [&self.source_ref, &self.title]
            .into_iter()
            .chain(optional.into_iter().flatten())
            .chain(self.body.iter().map(|(_, f)| f))
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingToml {
    name: String,
    delimiter: Option<String>,
    quote: Option<String>,
    header: Option<bool>,
    columns: Option<usize>,
    #[serde(default)]
    skip_lines: Vec<String>,
    #[serde(default)]
    date_formats: Vec<String>,
    #[serde(default)]
    record_line: Vec<RecordLine>,
    subject: Option<Field>,
    #[serde(default)]
    subject_nhs_fallback: bool,
    event_time: Option<Field>,
    #[serde(default)]
    maps: BTreeMap<String, BTreeMap<String, String>>,
    demographics: Option<DemographicsMap>,
    #[serde(default)]
    entry: Vec<EntryToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryToml {
    category: String,
    source_ref: Field,
    title: Field,
    when: Option<When>,
    code_system: Option<Field>,
    code: Option<Field>,
    status: Option<Field>,
    start: Option<Field>,
    end: Option<Field>,
    recorded_at: Option<Field>,
    sensitive: Option<Field>,
    not_for_patient: Option<Field>,
    #[serde(default)]
    body: BTreeMap<String, Field>,
}

impl TryFrom<MappingToml> for Mapping {
    type Error = String;

    fn try_from(raw: MappingToml) -> Result<Self, String> {
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            return Err("`name` is empty; name the mapping so messages can say which it is".into());
        }
        let context = |e: String| format!("mapping `{name}`: {e}");
        let layout = layout(&raw).map_err(context)?;
        let date_formats = if raw.date_formats.is_empty() {
            DEFAULT_DATE_FORMATS
                .iter()
                .map(|f| (*f).to_owned())
                .collect()
        } else {
            raw.date_formats
        };
        check_formats(&date_formats).map_err(context)?;
        let entries = raw
            .entry
            .into_iter()
            .enumerate()
            .map(|(i, e)| entry(e).map_err(|err| format!("entry {}: {err}", i + 1)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(context)?;
        let mapping = Self {
            name: name.clone(),
            layout,
            date_formats,
            maps: raw.maps,
            subject: raw.subject,
            subject_nhs_fallback: raw.subject_nhs_fallback,
            event_time: raw.event_time,
            demographics: raw.demographics,
            entries,
        };
        check_whole(&mapping).map_err(context)?;
        Ok(mapping)
    }
}

fn single_ascii(text: &str, what: &str) -> Result<u8, String> {
    match text.as_bytes() {
        [b] if b.is_ascii() && !matches!(b, b'\r' | b'\n') => Ok(*b),
        _ => Err(format!("`{what}` is one ASCII character, not `{text}`")),
    }
}

fn layout(raw: &MappingToml) -> Result<Layout, String> {
    let delimiter = single_ascii(raw.delimiter.as_deref().unwrap_or(","), "delimiter")?;
    let quote = match raw.quote.as_deref() {
        None => Some(b'"'),
        Some("") => None,
        Some(q) => Some(single_ascii(q, "quote")?),
    };
    if quote == Some(delimiter) {
        return Err("`quote` and `delimiter` must differ".into());
    }
    let header = raw.header.unwrap_or(true);
    let record_lines = raw.record_line.clone();
    if header && (raw.columns.is_some() || !record_lines.is_empty()) {
        return Err(
            "`columns` and `[[record_line]]` are for files with no header row; \
                    with a header the header says how many columns there are"
                .into(),
        );
    }
    for line in &record_lines {
        if line.prefix.is_empty() || line.columns == 0 {
            return Err(
                "each `[[record_line]]` needs a non-empty `prefix` and `columns` of at least 1"
                    .into(),
            );
        }
    }
    let from_lines: usize = record_lines.iter().map(|l| l.columns).sum();
    let columns = match (raw.columns, record_lines.is_empty()) {
        (Some(c), false) if c != from_lines => {
            return Err(format!(
                "`columns` is {c} but the `[[record_line]]` columns add up to {from_lines}"
            ))
        }
        (_, false) => Some(from_lines),
        (c, true) => c,
    };
    if !header && columns.is_none() {
        return Err(
            "with `header = false`, say how many columns a row has with `columns = N`".into(),
        );
    }
    if columns.is_some_and(|c| c == 0 || c > MAX_COLUMNS) {
        return Err(format!("`columns` is between 1 and {MAX_COLUMNS}"));
    }
    if raw.skip_lines.iter().any(String::is_empty) {
        return Err("`skip_lines` has an empty prefix, which would skip every line".into());
    }
    Ok(Layout {
        delimiter,
        quote,
        header,
        columns,
        skip_lines: raw.skip_lines.clone(),
        record_lines,
    })
}

fn check_formats(formats: &[String]) -> Result<(), String> {
    for f in formats {
        let bad = chrono::format::StrftimeItems::new(f)
            .any(|item| matches!(item, chrono::format::Item::Error));
        if bad || f.trim().is_empty() {
            return Err(format!(
                "`{f}` is not a chrono date format (see strftime: %d/%m/%Y …)"
            ));
        }
    }
    Ok(())
}

fn entry(raw: EntryToml) -> Result<EntryMap, String> {
    let category = Category::parse(raw.category.trim()).ok_or_else(|| {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        format!(
            "`{}` is not a category; use one of {}",
            raw.category,
            names.join(", ")
        )
    })?;
    let known = body::fields(category);
    let mut remaining = raw.body;
    let mut fields = Vec::new();
    for spec in known {
        match remaining.remove(spec.name) {
            Some(field) => {
                if let (Kind::OneOf(values), Some(v)) = (spec.kind, field.constant()) {
                    if field.map.is_none() && !values.contains(&body::normalise_choice(v).as_str())
                    {
                        return Err(format!(
                            "body field `{}` is `{v}`, which is not one of {}",
                            spec.name,
                            values.join(", ")
                        ));
                    }
                }
                fields.push((*spec, field));
            }
            None if spec.required => {
                return Err(format!(
                    "a {category} entry needs body field `{}`{}",
                    spec.name,
                    match spec.kind {
                        Kind::OneOf(values) => format!(" (one of {})", values.join(", ")),
                        _ => String::new(),
                    }
                ))
            }
            None => {}
        }
    }
    if let Some(unknown) = remaining.keys().next() {
        let names: Vec<&str> = known.iter().map(|f| f.name).collect();
        return Err(format!(
            "`{unknown}` is not a body field of a {category} entry; they are {}",
            names.join(", ")
        ));
    }
    let uses_subject = matches!(&raw.source_ref.source, Source::Template(t) if t.uses_subject());
    if raw.source_ref.columns().is_empty() && !uses_subject {
        return Err(
            "`source_ref` must use at least one column, so each row's entry has its own \
                    reference (e.g. \"{client_id}/alert/{alert_id}\")"
                .into(),
        );
    }
    Ok(EntryMap {
        category,
        when: raw.when,
        source_ref: raw.source_ref,
        title: raw.title,
        code_system: raw.code_system,
        code: raw.code,
        status: raw.status,
        start: raw.start,
        end: raw.end,
        recorded_at: raw.recorded_at,
        sensitive: raw.sensitive,
        not_for_patient: raw.not_for_patient,
        body: fields,
    })
}

/// Checks that need the whole mapping: columns against the layout, code maps, formats, refs.
fn check_whole(m: &Mapping) -> Result<(), String> {
    match m.subject.as_ref().map(|s| &s.source) {
        Some(Source::Value(_)) => {
            return Err("`subject` must come from a column, not a constant".into())
        }
        Some(Source::Template(t)) if t.uses_subject() => {
            return Err("`subject` cannot use `{subject}`, which is what it defines".into())
        }
        None if !m.subject_nhs_fallback => {
            return Err(
                "say which column is the person's local id with `subject = \"column\"`, \
                        or set `subject_nhs_fallback = true` when the NHS number is the only id"
                    .into(),
            )
        }
        _ => {}
    }
    if m.subject_nhs_fallback
        && m.demographics
            .as_ref()
            .and_then(|d| d.nhs_number.as_ref())
            .is_none()
    {
        return Err("`subject_nhs_fallback` needs `demographics.nhs_number`".into());
    }
    for column in m.columns() {
        match (column, m.layout.columns) {
            (ColumnRef::Name(n), _) if !m.layout.header => {
                return Err(format!(
                "column `{n}` is named, but with `header = false` columns are numbered (1, 2, …)"
            ))
            }
            (ColumnRef::Number(n), Some(max)) if *n > max => {
                return Err(format!("column {n} is past the last column ({max})"))
            }
            _ => {}
        }
    }
    let mut fields: Vec<&Field> = m.subject.iter().collect();
    fields.extend(&m.event_time);
    if let Some(d) = &m.demographics {
        fields.extend(d.fields());
    }
    fields.extend(m.entries.iter().flat_map(EntryMap::fields));
    for f in fields {
        if let Some(map) = &f.map {
            if !m.maps.contains_key(map) {
                return Err(format!(
                    "{} uses code map `{map}`, but there is no `[maps.{map}]`",
                    f.describe()
                ));
            }
        }
        if let Some(formats) = &f.formats {
            check_formats(formats)?;
        }
    }
    let mut refs: Vec<&Source> = Vec::new();
    for e in &m.entries {
        if refs.contains(&&e.source_ref.source) {
            return Err(format!(
                "two entries share the source_ref {}; give each its own (e.g. add the category: \
                 \"{{id}}/{}\"), or their entries would overwrite each other",
                e.source_ref.describe(),
                e.category
            ));
        }
        refs.push(&e.source_ref.source);
    }
    Ok(())
}
