//! One parsed HL7 v2 message → one canonical [`Extract`], or a [`Reject`] with a reason, or a
//! note that it is a kind of message we do not read.
//!
//! This file reads the header (MSH, EVN) and the patient, then hands the event to the part
//! that knows it: ADT visit events below, ORU results in `results`. References are built to be
//! stable, so a message delivered twice updates the same entries instead of duplicating them.

use super::er7::{Message, Segment};
use super::location::{self, Change};
use super::patient::{self, PatientIds};
use super::visit::{self, Visit};
use super::{results, ts};
use crate::ingest::{decode_text, Extract, Reject, Unit};
use crate::model::EntryDraft;
use std::collections::{BTreeMap, HashSet};

/// ADT events we read (A17, the bed swap, has two patients and is read apart); every other
/// ADT event is counted as skipped.
const ADT_EVENTS: [&str; 21] = [
    "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A11", "A12", "A13",
    "A14", "A15", "A16", "A28", "A31", "A34", "A40", "A17",
];

/// Longest control id quoted in a position; anything longer is cut.
const MAX_CONTROL_ID_CHARS: usize = 64;

/// What every event needs from the header and the patient.
pub struct Header<'m> {
    pub number: usize,
    pub position: String,
    pub message_ref: Option<String>,
    /// When the source says the message happened (EVN-2, else MSH-7): orders updates.
    pub event_time: Option<String>,
    /// When the event itself occurred (EVN-6, else the event time): used for clinical times.
    pub occurred: Option<String>,
    pub sending_facility: Option<String>,
    pub message: &'m Message<'m>,
}

impl Header<'_> {
    /// A reject naming the message and what to do.
    pub fn reject(&self, why: &str, raw: &[u8]) -> Unit {
        Err(Reject {
            position: self.position.clone(),
            reason: format!("HL7 message {}: {why}", self.number),
            raw: raw.to_vec(),
        })
    }
}

/// Adapts message `number` (1-based within the file) from its raw bytes: one unit per patient
/// (two for an A17 bed swap). A message type we do not read gives none and is counted in
/// `skipped` by name (`ADT^A60`).
pub fn adapt_message(
    number: usize,
    raw: &[u8],
    skipped: &mut BTreeMap<String, usize>,
) -> Vec<Unit> {
    let text = decode_text(raw);
    let message = match Message::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            return vec![Err(Reject {
                position: format!("message {number}"),
                reason: format!("HL7 message {number}: {e}; fix at source and resend"),
                raw: raw.to_vec(),
            })]
        }
    };
    let Some(msh) = message.msh() else {
        return vec![Err(Reject {
            position: format!("message {number}"),
            reason: format!("HL7 message {number}: it has no MSH segment"),
            raw: raw.to_vec(),
        })];
    };
    let evn = message.segment("EVN");
    let control_id = msh.text(10, 1).map(|id| {
        id.chars()
            .filter(|c| !c.is_control())
            .take(MAX_CONTROL_ID_CHARS)
            .collect::<String>()
    });
    let position = match &control_id {
        Some(id) => format!("message {number} (control id {id})"),
        None => format!("message {number}"),
    };
    let message_time = msh.text(7, 1).and_then(|t| ts::to_iso(&t));
    let event_time = evn
        .and_then(|e| e.text(2, 1))
        .and_then(|t| ts::to_iso(&t))
        .or(message_time);
    let occurred = evn
        .and_then(|e| e.text(6, 1))
        .and_then(|t| ts::to_iso(&t))
        .or_else(|| event_time.clone());
    let header = Header {
        number,
        position,
        message_ref: control_id,
        event_time,
        occurred,
        sending_facility: msh.text(4, 1),
        message: &message,
    };

    let Some(code) = msh.text(9, 1).map(|c| c.to_ascii_uppercase()) else {
        return vec![header.reject("MSH-9 has no message type; fix at source and resend", raw)];
    };
    let event = msh
        .text(9, 2)
        .or_else(|| evn.and_then(|e| e.text(1, 1)))
        .map(|e| e.to_ascii_uppercase());
    // The name becomes a counter key and a report label, so it must look like a type code.
    let plausible = |t: &str| t.len() <= 8 && t.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plausible(&code) || !event.as_deref().is_none_or(plausible) {
        return vec![header.reject(
            "MSH-9 does not hold a message type such as ADT^A01; fix at source and resend",
            raw,
        )];
    }
    let name = match (code.as_str(), event.as_deref()) {
        ("ADT", Some("A17")) => return swap(&header, raw),
        ("ADT", Some(ev)) if ADT_EVENTS.contains(&ev) => return vec![adt(&header, ev, raw)],
        ("ORU", Some("R01")) => return vec![results::oru(&header, raw)],
        (_, Some(ev)) => format!("{code}^{ev}"),
        (_, None) => code,
    };
    *skipped.entry(name).or_default() += 1;
    Vec::new()
}

/// The patient of a message: its one PID, identified.
pub struct Patient<'a, 'm> {
    pub pid: Segment<'a, 'm>,
    pub ids: PatientIds,
}

/// Finds the PID and the subject, or says why not.
pub fn patient<'a, 'm>(message: &'m Message<'a>) -> Result<Patient<'a, 'm>, String> {
    let mut pids = message.segments().filter(|s| s.name() == "PID");
    let pid = pids
        .next()
        .ok_or("it has no PID segment, so it is about nobody; fix at source and resend")?;
    if pids.next().is_some() {
        return Err(
            "it carries more than one patient (several PID segments); send one patient per message"
                .to_owned(),
        );
    }
    let ids = patient::identify(&pid)
        .ok_or("PID-3 has no identifier; fix at source or map a local id")?;
    Ok(Patient { pid, ids })
}

/// Assembles the extract, dropping a repeated reference (the first occurrence wins).
pub fn extract(
    header: &Header<'_>,
    patient: &Patient<'_, '_>,
    mut entries: Vec<EntryDraft>,
    raw: &[u8],
) -> Extract {
    let pd1 = header.message.segment("PD1");
    let demographics = patient::demographics(&patient.pid, pd1.as_ref(), &patient.ids);
    let mut seen = HashSet::new();
    entries.retain(|e| seen.insert(e.source_ref.clone()));
    Extract {
        position: header.position.clone(),
        message_ref: header.message_ref.clone(),
        event_time: header.event_time.clone(),
        subject: patient.ids.subject.clone(),
        demographics: Some(demographics),
        entries,
        merge_from: None,
        location_event: None,
        raw: raw.to_vec(),
    }
}

fn adt(header: &Header<'_>, event: &str, raw: &[u8]) -> Unit {
    let message = header.message;
    let patient = match patient(message) {
        Ok(p) => p,
        Err(why) => return header.reject(&why, raw),
    };
    let subject = patient.ids.subject.as_str();
    let mut entries = Vec::new();

    let merge_from = if event == "A34" || event == "A40" {
        let Some(mrg) = message.segment("MRG") else {
            let why = format!(
                "ADT^{event} has no MRG segment, so it does not say which record to merge; \
                 fix at source and resend"
            );
            return header.reject(&why, raw);
        };
        match patient::merged_id(&mrg) {
            Some(id) if id != subject => Some(id),
            Some(_) => {
                return header.reject(
                    "MRG-1 names the same person as PID-3, so there is nothing to merge",
                    raw,
                )
            }
            None => {
                return header.reject(
                    "MRG-1 has no identifier of the record to merge; fix at source and resend",
                    raw,
                )
            }
        }
    } else {
        None
    };

    let visit = Visit::read(
        message.segment("PV1").as_ref(),
        message.segment("PV2").as_ref(),
    );
    entries.extend(visit::contact_entry(header, event, subject, &visit));
    let location_event = match location::change(header, event, subject, &patient.pid, &visit) {
        Change::None => None,
        Change::Set(entry) => {
            entries.push(entry);
            None
        }
        Change::Resolve(e) => Some(e),
    };

    let mut nk1_ordinal = 0;
    for segment in message.segments() {
        let entry = match segment.name() {
            "NK1" => {
                nk1_ordinal += 1;
                patient::next_of_kin(&segment, subject, nk1_ordinal)
            }
            "AL1" => patient::allergy(&segment, subject),
            "DG1" => patient::diagnosis(&segment, subject),
            "ZAL" => super::alerts::zal(&segment, subject),
            "OBX" => super::alerts::obx(&segment, subject),
            _ => None,
        };
        if let Some(mut e) = entry {
            e.recorded_at = e.recorded_at.or_else(|| header.event_time.clone());
            entries.push(e);
        }
    }

    let mut out = extract(header, &patient, entries, raw);
    out.merge_from = merge_from;
    out.location_event = location_event;
    Ok(out)
}

/// A17 swaps two patients' beds: the message holds two patients, each a PID followed by its
/// own PD1/PV1/PV2, and each patient's PV1-3 is where they are now.
fn swap(header: &Header<'_>, raw: &[u8]) -> Vec<Unit> {
    let message = header.message;
    let mut groups: Vec<Vec<Segment<'_, '_>>> = Vec::new();
    for segment in message.segments() {
        match segment.name() {
            "PID" => groups.push(vec![segment]),
            _ => {
                if let Some(group) = groups.last_mut() {
                    group.push(segment);
                }
            }
        }
    }
    if groups.len() != 2 {
        return vec![header.reject(
            "ADT^A17 swaps two patients, so it needs two PID segments, each with its PV1; \
             fix at source and resend",
            raw,
        )];
    }
    groups
        .iter()
        .map(|group| {
            let find = |name: &str| group.iter().find(|s| s.name() == name);
            let Some(pid) = group.first() else {
                return header.reject("ADT^A17 has an empty patient group", raw);
            };
            let Some(ids) = patient::identify(pid) else {
                return header.reject(
                    "PID-3 has no identifier; fix at source or map a local id",
                    raw,
                );
            };
            let subject = ids.subject.clone();
            let visit = Visit::read(find("PV1"), find("PV2"));
            let mut entries = Vec::new();
            entries.extend(visit::contact_entry(header, "A17", &subject, &visit));
            if let Change::Set(entry) = location::change(header, "A17", &subject, pid, &visit) {
                entries.push(entry);
            }
            let demographics = patient::demographics(pid, find("PD1"), &ids);
            Ok(Extract {
                position: header.position.clone(),
                message_ref: header.message_ref.clone(),
                event_time: header.event_time.clone(),
                subject,
                demographics: Some(demographics),
                entries,
                merge_from: None,
                location_event: None,
                raw: raw.to_vec(),
            })
        })
        .collect()
}
