//! ORU^R01 results: each OBX under its OBR becomes one result entry; notes (NTE) become
//! comments; a test a flagged condition names (a SARS-CoV-2 test in the shipped condition set)
//! also sets that condition's flag for the record's banner.
//!
//! Labs split one long text result over several OBX segments with the same code and sub-id,
//! and some repeat a segment outright. Within one order those are one result (lines joined, an
//! exact repeat dropped, a numeric repeat replacing the earlier value), so the references stay
//! unique; the same code under a different order of the same message gets a `#<order>` suffix.

use super::adapt::{extract, patient, Header};
use super::er7::{Field, Segment};
use super::patient::{coded_text, draft, name_key, ref_part};
use super::ts;
use crate::ingest::Unit;
use crate::model::entry::{ConditionFlag, FlagState, LabResult};
use crate::model::{EntryBody, EntryDraft};
use crate::population::conditions::{self, TestFlag};
use std::collections::{BTreeMap, HashMap};

/// The order (OBR) the following OBX segments belong to.
struct Order {
    ordinal: usize,
    number: Option<String>,
    report: Option<String>,
    /// OBR-4: the panel's name and code.
    panel: Option<String>,
    panel_code: Option<String>,
    observed: Option<String>,
    reported: Option<String>,
    status: Option<String>,
    specimen: Option<String>,
    /// The banner flag the whole panel is a test for.
    flag: Option<TestFlag>,
    notes: Vec<String>,
}

impl Order {
    fn read(obr: &Segment<'_, '_>, ordinal: usize) -> Self {
        let test = obr.field(4).first();
        let test_name = coded_text(test);
        let number = obr.text(3, 1).or_else(|| obr.text(2, 1));
        let panel_code = test.comp(1).text();
        let report = match (&test_name, &number) {
            (Some(t), Some(n)) => Some(format!("{t} ({n})")),
            (Some(t), None) => Some(t.clone()),
            (None, n) => n.clone(),
        };
        let flag = test_flag(panel_code.as_deref(), test_name.as_deref());
        Self {
            ordinal,
            number,
            report,
            panel: test_name,
            panel_code,
            observed: obr.text(7, 1).and_then(|t| ts::to_iso(&t)),
            reported: obr.text(22, 1).and_then(|t| ts::to_iso(&t)),
            status: obr.text(25, 1),
            specimen: coded_text(obr.field(15).first()),
            flag,
            notes: Vec::new(),
        }
    }
}

/// Builds the entries of one ORU message.
struct Results<'h> {
    header: &'h Header<'h>,
    subject: String,
    entries: Vec<EntryDraft>,
    /// source_ref → (index in `entries`, order ordinal, value type).
    seen: HashMap<String, (usize, usize, String)>,
    /// Test flags by name and day: the strongest state seen that day and the test that said it.
    flags: BTreeMap<(String, String), (TestFlag, FlagState, Option<String>)>,
}

/// Adapts an ORU^R01 message.
pub fn oru(header: &Header<'_>, raw: &[u8]) -> Unit {
    let message = header.message;
    let patient = match patient(message) {
        Ok(p) => p,
        Err(why) => return header.reject(&why, raw),
    };
    let mut results = Results {
        header,
        subject: patient.ids.subject.clone(),
        entries: Vec::new(),
        seen: HashMap::new(),
        flags: BTreeMap::new(),
    };
    let mut order: Option<Order> = None;
    let mut ordinal = 0;
    let mut last: Option<usize> = None;
    for segment in message.segments() {
        match segment.name() {
            "OBR" => {
                ordinal += 1;
                order = Some(Order::read(&segment, ordinal));
                last = None;
            }
            "OBX" => last = results.add(&segment, order.as_ref()),
            "NTE" => {
                let Some(note) = segment.field(3).joined("\n") else {
                    continue;
                };
                match (
                    last.and_then(|i| results.entries.get_mut(i)),
                    order.as_mut(),
                ) {
                    (Some(entry), _) => append_comment(entry, &note),
                    (None, Some(o)) => o.notes.push(note),
                    (None, None) => {}
                }
            }
            _ => {}
        }
    }
    let mut entries = results.entries;
    for ((_, date), (test, state, detail)) in results.flags {
        entries.push(flag_entry(
            &results.subject,
            &test,
            date,
            state,
            detail,
            header,
        ));
    }
    Ok(extract(header, &patient, entries, raw))
}

impl Results<'_> {
    /// Adds or merges one OBX; returns the index of the entry it landed in.
    fn add(&mut self, obx: &Segment<'_, '_>, order: Option<&Order>) -> Option<usize> {
        let value_type = obx.text(2, 1).unwrap_or_default().to_ascii_uppercase();
        // Encapsulated data (a base64 PDF, say) is not something a person can read here.
        if value_type == "ED" {
            return None;
        }
        let id = obx.field(3).first();
        let (code, name, system) = match id.comp(1).text().or_else(|| id.get(2)) {
            Some(_) => (id.comp(1).text(), id.get(2), id.get(3)),
            None => (id.comp(4).text(), id.get(5), id.get(6)),
        };
        let (value, numeric) = observation_value(&obx.field(5), &value_type);
        let sub_id = obx.text(4, 1).unwrap_or_default();
        let ordinal = order.map_or(0, |o| o.ordinal);
        let order_part = order
            .and_then(|o| o.number.clone())
            .unwrap_or_else(|| format!("{}/order{ordinal}", self.subject));
        let code_part = match (&code, &name) {
            (Some(c), _) => ref_part(c),
            (None, Some(n)) => name_key(n),
            (None, None) => format!("obx{}", obx.text(1, 1).unwrap_or_default()),
        };
        let mut key = format!("{order_part}/{code_part}/{}", ref_part(&sub_id));

        if let Some((index, seen_ordinal, seen_type)) = self.seen.get(&key).cloned() {
            if seen_ordinal == ordinal {
                let entry = self.entries.get_mut(index)?;
                merge_value(
                    entry,
                    value,
                    numeric,
                    value_type == "NM" || value_type == "SN" || seen_type == "NM",
                );
                return Some(index);
            }
            key = format!("{key}#{ordinal}");
            if let Some((index, _, _)) = self.seen.get(&key).cloned() {
                let entry = self.entries.get_mut(index)?;
                merge_value(
                    entry,
                    value,
                    numeric,
                    value_type == "NM" || value_type == "SN",
                );
                return Some(index);
            }
        }

        let start = obx
            .text(14, 1)
            .and_then(|t| ts::to_iso(&t))
            .or_else(|| order.and_then(|o| o.observed.clone()));
        let title = name
            .clone()
            .or_else(|| code.clone())
            .unwrap_or_else(|| "Observation".to_owned());
        let test = order
            .and_then(|o| o.flag.clone())
            .or_else(|| test_flag(code.as_deref(), name.as_deref()));
        if let Some(test) = test {
            let day = start
                .as_deref()
                .or(self.header.occurred.as_deref())
                .map_or("undated", ts::date_part)
                .to_owned();
            let evidence = format!(
                "{} {}",
                value.as_deref().unwrap_or_default(),
                obx.field(8).joined(" ").unwrap_or_default()
            );
            let state = test.state(&evidence);
            let detail = order
                .and_then(|o| o.report.clone())
                .or_else(|| Some(title.clone()));
            let slot = self.flags.entry((test.name.clone(), day)).or_insert((
                test,
                FlagState::Tested,
                detail.clone(),
            ));
            if rank(state) > rank(slot.1) {
                (slot.1, slot.2) = (state, detail);
            }
        }
        let unit_rep = obx.field(6).first();
        let notes = order.map(|o| o.notes.join("\n")).filter(|n| !n.is_empty());
        let body = LabResult {
            value,
            numeric,
            unit: unit_rep.get(1).or_else(|| unit_rep.get(2)),
            reference_range: obx.field(7).first().text(),
            abnormal_flag: obx.field(8).joined(","),
            report: order.and_then(|o| o.report.clone()),
            panel: order.and_then(|o| o.panel.clone()),
            panel_code: order.and_then(|o| o.panel_code.clone()),
            specimen: order.and_then(|o| o.specimen.clone()),
            comment: notes,
        };
        let mut entry = draft(key.clone(), title, EntryBody::Result(body));
        entry.code = code;
        entry.code_system = system;
        // OBX-13 (user defined access checks) holding `NOPAT`: not for the patient's view.
        entry.not_for_patient = obx
            .text(13, 1)
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("NOPAT"));
        entry.status = obx
            .text(11, 1)
            .or_else(|| order.and_then(|o| o.status.clone()))
            .map(|s| result_status(&s));
        entry.start = start;
        entry.recorded_at = order
            .and_then(|o| o.reported.clone())
            .or_else(|| self.header.event_time.clone());
        let index = self.entries.len();
        self.entries.push(entry);
        self.seen.insert(key, (index, ordinal, value_type));
        Some(index)
    }
}

/// OBX-5 as text, and as a number when it is one.
fn observation_value(field: &Field<'_>, value_type: &str) -> (Option<String>, Option<f64>) {
    match value_type {
        "SN" => {
            let rep = field.first();
            let (comparator, first, separator, second) =
                (rep.get(1), rep.get(2), rep.get(3), rep.get(4));
            let text: String = [&comparator, &first, &separator, &second]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let plain = comparator.as_deref().is_none_or(|c| c == "=")
                && separator.is_none()
                && second.is_none();
            let numeric = if plain {
                first.as_deref().and_then(number)
            } else {
                None
            };
            ((!text.is_empty()).then_some(text), numeric)
        }
        "CE" | "CWE" | "CNE" | "CF" => {
            let parts: Vec<String> = field.reps().filter_map(coded_text).collect();
            ((!parts.is_empty()).then(|| parts.join("; ")), None)
        }
        _ => {
            let text = field.joined("\n");
            let numeric = match value_type {
                "NM" | "ST" | "" => text.as_deref().and_then(number),
                _ => None,
            };
            (text, numeric)
        }
    }
}

/// A plain decimal number; not `inf`, `NaN` or `1e400`.
fn number(text: &str) -> Option<f64> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'));
    plain
        .then(|| t.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// A second OBX for the same result: an exact repeat is dropped, a numeric one replaces the
/// value, a text one is another line.
fn merge_value(
    entry: &mut EntryDraft,
    value: Option<String>,
    numeric: Option<f64>,
    is_numeric: bool,
) {
    let EntryBody::Result(result) = &mut entry.body else {
        return;
    };
    let Some(value) = value else { return };
    match &mut result.value {
        Some(existing) if *existing == value => {}
        Some(_) if is_numeric => {
            result.value = Some(value);
            result.numeric = numeric;
        }
        Some(existing) => {
            existing.push('\n');
            existing.push_str(&value);
            result.numeric = None;
        }
        None => {
            result.value = Some(value);
            result.numeric = numeric;
        }
    }
}

fn append_comment(entry: &mut EntryDraft, note: &str) {
    if let EntryBody::Result(result) = &mut entry.body {
        match &mut result.comment {
            Some(c) => {
                c.push('\n');
                c.push_str(note);
            }
            None => result.comment = Some(note.to_owned()),
        }
    }
}

/// HL7 table 0085 in words.
fn result_status(code: &str) -> String {
    match code.to_ascii_uppercase().as_str() {
        "F" => "final",
        "C" => "corrected",
        "A" => "amended",
        "P" | "R" => "preliminary",
        "S" => "partial",
        "I" | "O" => "registered",
        "X" => "cancelled",
        "D" | "W" => "entered-in-error",
        _ => return code.to_owned(),
    }
    .to_owned()
}

/// The banner flag a test is for, by its code or its name (see [`conditions::test_flag`]).
fn test_flag(code: Option<&str>, name: Option<&str>) -> Option<TestFlag> {
    let codes: Vec<&str> = code.into_iter().collect();
    let names: Vec<&str> = code.into_iter().chain(name).collect();
    conditions::test_flag(&codes, &names)
}

fn rank(state: FlagState) -> u8 {
    match state {
        FlagState::Positive => 3,
        FlagState::Negative => 2,
        FlagState::Tested => 1,
        FlagState::Other => 0,
    }
}

fn flag_entry(
    subject: &str,
    test: &TestFlag,
    date: String,
    state: FlagState,
    detail: Option<String>,
    header: &Header<'_>,
) -> EntryDraft {
    let word = match state {
        FlagState::Positive => "positive",
        FlagState::Negative => "negative",
        _ => "tested",
    };
    let dated = date != "undated";
    let body = ConditionFlag {
        condition: test.name.clone(),
        state,
        date: dated.then(|| date.clone()),
        detail,
    };
    let mut entry = draft(
        format!("{subject}/{}/{date}", test.reference_word()),
        format!("{} {word}", test.name),
        EntryBody::ConditionFlag(body),
    );
    entry.start = dated.then_some(date);
    entry.recorded_at = header.event_time.clone();
    entry
}
