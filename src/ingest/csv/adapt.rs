//! One row, read through its mapping, becomes one canonical [`Extract`]: the subject, the
//! demographics the row states, and an entry for each `[[entry]]` whose `when` holds.
//!
//! Every failure is a sentence naming the column, the value and the fix, because it is shown to
//! the person who has to correct the source or the mapping.

use super::body::{self, Kind};
use super::field::{ColumnRef, Field, Piece, Source};
use super::mapping::{DemographicsMap, EntryMap, Mapping};
use crate::ingest::alerts::{self, AlertText, NamedKind};
use crate::ingest::Extract;
use crate::model::{Address, Demographics, EntryBody, EntryDraft, ReportedNhsNumber, Sex};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use std::collections::HashMap;

/// Header names (lower-cased) to 0-based positions; empty when the file has no header.
#[derive(Debug, Default)]
pub(super) struct Columns {
    by_name: HashMap<String, usize>,
}

impl Columns {
    pub fn from_header(names: &[String]) -> Self {
        let mut by_name = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            // The first of two same-named columns wins, as a person reading left to right expects.
            by_name.entry(name.trim().to_lowercase()).or_insert(i);
        }
        Self { by_name }
    }

    pub fn position(&self, column: &ColumnRef) -> Option<usize> {
        match column {
            ColumnRef::Name(n) => self.by_name.get(&n.to_lowercase()).copied(),
            ColumnRef::Number(n) => n.checked_sub(1),
        }
    }
}

/// A row's values (decoded and trimmed) with what is needed to read them.
#[derive(Clone, Copy)]
pub(super) struct Row<'a> {
    pub mapping: &'a Mapping,
    pub columns: &'a Columns,
    pub values: &'a [String],
    /// The resolved subject, for `{subject}` in templates; empty until it is known.
    pub subject: &'a str,
}

impl Row<'_> {
    fn column(&self, column: &ColumnRef) -> &str {
        self.columns
            .position(column)
            .and_then(|i| self.values.get(i))
            .map_or("", String::as_str)
    }

    /// The field's text before any code map.
    fn raw(&self, field: &Field) -> String {
        match &field.source {
            Source::Column(c) => self.column(c).to_owned(),
            Source::Value(v) => v.trim().to_owned(),
            Source::Template(t) => t
                .pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(s) => s.as_str(),
                    Piece::Column(c) => self.column(c),
                    Piece::Subject => self.subject,
                })
                .collect::<String>()
                .trim()
                .to_owned(),
        }
    }

    fn mapped(&self, field: &Field, raw: String) -> String {
        let Some(map) = field.map.as_ref().and_then(|m| self.mapping.maps.get(m)) else {
            return raw;
        };
        // Empty stays empty: "*" maps unknown codes, not missing ones.
        if raw.is_empty() {
            return raw;
        }
        let found = map
            .get(&raw)
            .or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&raw))
                    .map(|(_, v)| v)
            })
            .or_else(|| map.get("*"));
        match found {
            Some(v) => v.trim().to_owned(),
            None => raw,
        }
    }

    /// The field's value, or `None` when empty; a required field that is empty is an error.
    pub fn text(&self, field: &Field) -> Result<Option<String>, String> {
        let raw = self.raw(field);
        let value = self.mapped(field, raw);
        if !value.is_empty() {
            return Ok(Some(value));
        }
        if field.required {
            return Err(format!(
                "{} is empty, and the mapping requires it",
                field.describe()
            ));
        }
        Ok(None)
    }

    fn formats<'f>(&'f self, field: &'f Field) -> &'f [String] {
        field
            .formats
            .as_deref()
            .unwrap_or(&self.mapping.date_formats)
    }

    fn not_a_date(&self, field: &Field, value: &str) -> String {
        let formats: Vec<String> = self
            .formats(field)
            .iter()
            .map(|f| format!("`{f}`"))
            .collect();
        format!(
            "{} has `{value}`, which is not a date in any of the formats {}; fix at source or \
             add the format to the mapping",
            field.describe(),
            formats.join(", ")
        )
    }

    /// A date or date-time as ISO 8601, as precise as the format read it.
    pub fn date(&self, field: &Field) -> Result<Option<String>, String> {
        let Some(value) = self.text(field)? else {
            return Ok(None);
        };
        for format in self.formats(field) {
            if let Some(iso) = parse_date(&value, format) {
                return Ok(Some(iso));
            }
        }
        Err(self.not_a_date(field, &value))
    }

    /// A calendar date (a date-time format keeps only its date).
    pub fn day(&self, field: &Field) -> Result<Option<NaiveDate>, String> {
        let Some(value) = self.text(field)? else {
            return Ok(None);
        };
        for format in self.formats(field) {
            if let Ok(d) = NaiveDate::parse_from_str(&value, format) {
                return Ok(Some(d));
            }
            if let Ok(dt) = NaiveDateTime::parse_from_str(&value, format) {
                return Ok(Some(dt.date()));
            }
        }
        Err(self.not_a_date(field, &value))
    }

    pub fn flag(&self, field: &Field) -> Result<Option<bool>, String> {
        let Some(value) = self.text(field)? else {
            return Ok(None);
        };
        body::parse_flag(&value).map(Some).ok_or_else(|| {
            format!(
                "{} has `{value}`, which is not yes/no (Y, N, true, false, 1, 0); map it with a \
                 code map",
                field.describe()
            )
        })
    }

    fn opt_text(&self, field: Option<&Field>) -> Result<Option<String>, String> {
        field.map_or(Ok(None), |f| self.text(f))
    }

    fn opt_date(&self, field: Option<&Field>) -> Result<Option<String>, String> {
        field.map_or(Ok(None), |f| self.date(f))
    }

    fn opt_day(&self, field: Option<&Field>) -> Result<Option<NaiveDate>, String> {
        field.map_or(Ok(None), |f| self.day(f))
    }

    fn opt_flag(&self, field: Option<&Field>) -> Result<bool, String> {
        Ok(field.map_or(Ok(None), |f| self.flag(f))?.unwrap_or(false))
    }
}

/// Reads `value` with one strftime format; offsets, date-times and dates, in that order.
fn parse_date(value: &str, format: &str) -> Option<String> {
    if format.contains("%z") || format.contains("%:z") {
        if let Ok(dt) = DateTime::parse_from_str(value, format) {
            return Some(dt.to_rfc3339());
        }
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(value, format) {
        let seconds = format.contains("%S") || format.contains("%T");
        let out = if seconds {
            "%Y-%m-%dT%H:%M:%S"
        } else {
            "%Y-%m-%dT%H:%M"
        };
        return Some(dt.format(out).to_string());
    }
    NaiveDate::parse_from_str(value, format)
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// Turns one row into an extract, or says why it cannot.
pub(super) fn extract(row: &Row<'_>, position: String, raw: Vec<u8>) -> Result<Extract, String> {
    let mapping = row.mapping;
    let demographics = match &mapping.demographics {
        Some(map) => demographics(row, map)?,
        None => None,
    };
    let local = match &mapping.subject {
        Some(f) => row.text(f)?,
        None => None,
    };
    let subject = match local {
        Some(s) => s,
        None => nhs_subject(mapping, demographics.as_ref()).ok_or_else(|| {
            let what = match &mapping.subject {
                Some(f) if mapping.subject_nhs_fallback => {
                    format!(
                        "{} (the local id) and the NHS number are both empty",
                        f.describe()
                    )
                }
                Some(f) => format!("{} (the person's local id) is empty", f.describe()),
                None => "the NHS number is empty".to_owned(),
            };
            format!("{what}, so the row cannot be tied to anyone")
        })?,
    };
    let row = &Row {
        subject: &subject,
        ..*row
    };
    let event_time = row.opt_date(mapping.event_time.as_ref())?;
    let mut entries = Vec::new();
    for (i, map) in mapping.entries.iter().enumerate() {
        if !applies(row, map) {
            continue;
        }
        let entry =
            entry(row, map).map_err(|e| format!("entry {} ({}): {e}", i + 1, map.category))?;
        entries.push(entry);
    }
    Ok(Extract {
        position,
        message_ref: None,
        event_time,
        subject,
        demographics,
        entries,
        merge_from: None,
        location_event: None,
        raw,
    })
}

fn nhs_subject(mapping: &Mapping, demographics: Option<&Demographics>) -> Option<String> {
    if !mapping.subject_nhs_fallback {
        return None;
    }
    let nhs = demographics?.nhs_number.as_ref()?;
    let digits = crate::model::nhs_number::standardise(&nhs.value);
    (!digits.is_empty()).then(|| format!("NHS:{digits}"))
}

fn demographics(row: &Row<'_>, map: &DemographicsMap) -> Result<Option<Demographics>, String> {
    let verified = map
        .nhs_number_verified
        .as_ref()
        .map_or(Ok(None), |f| row.flag(f))?;
    let nhs_number = row
        .opt_text(map.nhs_number.as_ref())?
        .map(|n| ReportedNhsNumber::classify(&n, verified));
    let sex = match row.opt_text(map.sex.as_ref())? {
        Some(s) => Some(Sex::parse(&s).ok_or_else(|| {
            format!(
                "{} has `{s}`, which is not a sex this reads (male, female, other, unknown, M, F, \
                 1, 2, 9, 0); map it with a code map",
                map.sex.as_ref().map_or_else(String::new, Field::describe)
            )
        })?),
        None => None,
    };
    let mut lines = Vec::new();
    for f in &map.address_lines {
        lines.extend(row.text(f)?);
    }
    let city = row.opt_text(map.city.as_ref())?;
    let postcode = row
        .opt_text(map.postcode.as_ref())?
        .and_then(|p| crate::model::person::normalise_postcode(&p));
    let address = (!lines.is_empty() || city.is_some() || postcode.is_some()).then_some(Address {
        lines,
        city,
        postcode,
    });
    let given = row
        .opt_text(map.given.as_ref())?
        .map(|g| {
            g.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let death_date = row.opt_day(map.death_date.as_ref())?;
    let d = Demographics {
        nhs_number,
        identifiers: Vec::new(),
        family: row.opt_text(map.family.as_ref())?,
        given,
        title: row.opt_text(map.title.as_ref())?,
        birth_date: row.opt_day(map.birth_date.as_ref())?,
        sex,
        address,
        phone: row.opt_text(map.phone.as_ref())?,
        email: row.opt_text(map.email.as_ref())?,
        death_date,
        deceased: death_date.is_some() || row.opt_flag(map.deceased.as_ref())?,
        gp_practice: row.opt_text(map.gp_practice.as_ref())?,
        gp_practice_name: row.opt_text(map.gp_practice_name.as_ref())?,
        gp_name: row.opt_text(map.gp_name.as_ref())?,
        restricted: row.opt_flag(map.restricted.as_ref())?,
        sharing_objection: row.opt_flag(map.sharing_objection.as_ref())?,
        ethnicity: row
            .opt_text(map.ethnicity.as_ref())?
            .and_then(|c| crate::model::person::ethnic_category(&c)),
    };
    Ok((d != Demographics::default()).then_some(d))
}

fn applies(row: &Row<'_>, map: &EntryMap) -> bool {
    let Some(when) = &map.when else {
        return true;
    };
    let value = row.column(&when.column);
    match &when.equals {
        None => !value.is_empty(),
        Some(options) => options.iter().any(|o| o.trim().eq_ignore_ascii_case(value)),
    }
}

fn entry(row: &Row<'_>, map: &EntryMap) -> Result<EntryDraft, String> {
    if let Source::Template(t) = &map.source_ref.source {
        if let Some(empty) = t.columns().find(|c| row.column(c).is_empty()) {
            return Err(format!(
                "source_ref template `{}` needs {empty}, which is empty; without it the entry has \
                 no stable reference",
                t.text
            ));
        }
    }
    let source_ref = row
        .text(&map.source_ref)?
        .ok_or_else(|| format!("source_ref {} is empty", map.source_ref.describe()))?;
    let title = row
        .text(&map.title)?
        .ok_or_else(|| format!("the title ({}) is empty", map.title.describe()))?;
    let sensitive = row.opt_flag(map.sensitive.as_ref())?;
    let not_for_patient = row.opt_flag(map.not_for_patient.as_ref())?;
    let body = match entry_body(row, map)? {
        // An alert whose words say safeguarding is kept to the roles that see safeguarding.
        EntryBody::Alert(a) => alerts::body(
            Some(NamedKind::Alert(a.kind)),
            AlertText {
                title: title.clone(),
                description: a.description,
                recorded_by: a.recorded_by,
                contact: a.contact,
            },
        ),
        other => other,
    };
    Ok(EntryDraft {
        source_ref,
        category: body.category(),
        code_system: row.opt_text(map.code_system.as_ref())?,
        code: row.opt_text(map.code.as_ref())?,
        title,
        status: row.opt_text(map.status.as_ref())?,
        start: row.opt_date(map.start.as_ref())?,
        end: row.opt_date(map.end.as_ref())?,
        recorded_at: row.opt_date(map.recorded_at.as_ref())?,
        sensitive,
        not_for_patient,
        body,
    })
}

/// Builds the body as JSON in the model's own serde shape, so the model decides what is valid.
fn entry_body(row: &Row<'_>, map: &EntryMap) -> Result<EntryBody, String> {
    let mut json = serde_json::Map::new();
    json.insert("type".into(), map.category.as_str().into());
    for (spec, field) in &map.body {
        let value = match spec.kind {
            Kind::Text => row.text(field)?.map(serde_json::Value::from),
            Kind::Date => row.date(field)?.map(serde_json::Value::from),
            Kind::Flag => row.flag(field)?.map(serde_json::Value::from),
            Kind::Number => match row.text(field)? {
                None => None,
                Some(t) => Some(number(&t).ok_or_else(|| {
                    format!("{} has `{t}`, which is not a number", field.describe())
                })?),
            },
            Kind::OneOf(values) => match row.text(field)? {
                None => None,
                Some(t) => {
                    let choice = body::normalise_choice(&t);
                    if !values.contains(&choice.as_str()) {
                        return Err(format!(
                            "{} gives `{t}` for `{}`, which is not one of {}; map it with a code map",
                            field.describe(),
                            spec.name,
                            values.join(", ")
                        ));
                    }
                    Some(serde_json::Value::from(choice))
                }
            },
        };
        match value {
            Some(v) => {
                json.insert(spec.name.into(), v);
            }
            None if spec.required => {
                return Err(format!(
                    "body field `{}` ({}) is empty, and every {} entry needs it",
                    spec.name,
                    field.describe(),
                    map.category
                ))
            }
            None => {}
        }
    }
    // A result's value is read as a number too when it is one, so results can be trended.
    if map.category == crate::model::Category::Result && !json.contains_key("numeric") {
        if let Some(n) = json.get("value").and_then(|v| v.as_str()).and_then(number) {
            json.insert("numeric".into(), n);
        }
    }
    serde_json::from_value(serde_json::Value::Object(json))
        .map_err(|e| format!("the {} body does not fit the model: {e}", map.category))
}

fn number(text: &str) -> Option<serde_json::Value> {
    let n: f64 = text.trim().parse().ok()?;
    serde_json::Number::from_f64(n).map(serde_json::Value::Number)
}
