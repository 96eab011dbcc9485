//! One parsed HL7 v2 message → one canonical [`Extract`], or a [`Reject`] with a reason, or a
//! note that it is a kind of message we do not read.
//!
//! This file reads the header (MSH, EVN) and the patient, then hands the event to the part
//! that knows it: ADT visit events below, ORU results in `results`. References are built to be
//! stable, so a message delivered twice updates the same entries instead of duplicating them.

use super::er7::{Message, Segment};
use super::patient::{self, draft, PatientIds};
use super::{results, ts};
use crate::ingest::{decode_text, Extract, Reject, Unit};
use crate::model::entry::{Contact, ContactKind, Location, LocationKind};
use crate::model::{EntryBody, EntryDraft};
use std::collections::{BTreeMap, HashSet};

/// ADT events we read; every other ADT event is counted as skipped.
const ADT_EVENTS: [&str; 13] = [
    "A01", "A02", "A03", "A04", "A05", "A08", "A11", "A12", "A13", "A28", "A31", "A34", "A40",
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

/// Adapts message `number` (1-based within the file) from its raw bytes. A message type we do
/// not read gives `None` and is counted in `skipped` by name (`ADT^A60`).
pub fn adapt_message(
    number: usize,
    raw: &[u8],
    skipped: &mut BTreeMap<String, usize>,
) -> Option<Unit> {
    let text = decode_text(raw);
    let message = match Message::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            return Some(Err(Reject {
                position: format!("message {number}"),
                reason: format!("HL7 message {number}: {e}; fix at source and resend"),
                raw: raw.to_vec(),
            }))
        }
    };
    let Some(msh) = message.msh() else {
        return Some(Err(Reject {
            position: format!("message {number}"),
            reason: format!("HL7 message {number}: it has no MSH segment"),
            raw: raw.to_vec(),
        }));
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
        return Some(header.reject("MSH-9 has no message type; fix at source and resend", raw));
    };
    let event = msh
        .text(9, 2)
        .or_else(|| evn.and_then(|e| e.text(1, 1)))
        .map(|e| e.to_ascii_uppercase());
    // The name becomes a counter key and a report label, so it must look like a type code.
    let plausible = |t: &str| t.len() <= 8 && t.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plausible(&code) || !event.as_deref().is_none_or(plausible) {
        return Some(header.reject(
            "MSH-9 does not hold a message type such as ADT^A01; fix at source and resend",
            raw,
        ));
    }
    let name = match (code.as_str(), event.as_deref()) {
        ("ADT", Some(ev)) if ADT_EVENTS.contains(&ev) => return Some(adt(&header, ev, raw)),
        ("ORU", Some("R01")) => return Some(results::oru(&header, raw)),
        (_, Some(ev)) => format!("{code}^{ev}"),
        (_, None) => code,
    };
    *skipped.entry(name).or_default() += 1;
    None
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

    let visit = Visit::read(message);
    entries.extend(visit_entries(header, event, subject, &visit));

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
    Ok(out)
}

/// What PV1/PV2 say about the visit.
struct Visit {
    class: Option<String>,
    ward: Option<String>,
    bed: Option<String>,
    facility: Option<String>,
    clinician: Option<String>,
    specialty: Option<String>,
    number: Option<String>,
    admitted: Option<String>,
    discharged: Option<String>,
    expected_admit: Option<String>,
    destination: Option<String>,
    reason: Option<String>,
}

impl Visit {
    fn read(message: &Message<'_>) -> Self {
        let pv1 = message.segment("PV1");
        let pv2 = message.segment("PV2");
        let text = |n: usize, c: usize| pv1.as_ref().and_then(|s| s.text(n, c));
        let time = |n: usize| text(n, 1).and_then(|t| ts::to_iso(&t));
        let location = pv1.as_ref().map(|s| s.field(3).first());
        let loc = |c: usize| location.as_ref().and_then(|l| l.get(c));
        Self {
            class: text(2, 1).map(|c| c.to_ascii_uppercase()),
            ward: loc(1),
            bed: loc(3).or_else(|| loc(2)),
            facility: loc(4),
            clinician: pv1
                .as_ref()
                .and_then(|s| patient::person_name(s.field(7).first())),
            specialty: text(10, 1),
            number: text(19, 1),
            admitted: time(44),
            discharged: time(45),
            expected_admit: pv2
                .as_ref()
                .and_then(|s| s.text(8, 1))
                .and_then(|t| ts::to_iso(&t)),
            destination: text(36, 1).or_else(|| text(37, 1)),
            reason: pv2
                .as_ref()
                .and_then(|s| patient::coded_text(s.field(3).first())),
        }
    }

    fn kind(&self) -> ContactKind {
        match self.class.as_deref() {
            Some("I") => ContactKind::Admission,
            Some("E") => ContactKind::AandE,
            Some("O") => ContactKind::Outpatient,
            _ => ContactKind::Other,
        }
    }

    fn is_inpatient(&self) -> bool {
        self.class.as_deref() == Some("I")
    }
}

/// The contact and location entries an ADT event implies.
fn visit_entries(
    header: &Header<'_>,
    event: &str,
    subject: &str,
    visit: &Visit,
) -> Vec<EntryDraft> {
    let occurred = header.occurred.clone();
    let (status, start, end) = match event {
        "A01" | "A04" => (
            "in-progress",
            visit.admitted.clone().or(occurred.clone()),
            None,
        ),
        "A05" => (
            "planned",
            visit
                .admitted
                .clone()
                .or(visit.expected_admit.clone())
                .or(occurred.clone()),
            None,
        ),
        "A02" | "A12" | "A13" => ("in-progress", visit.admitted.clone(), None),
        "A03" => (
            "finished",
            visit.admitted.clone(),
            visit.discharged.clone().or(occurred.clone()),
        ),
        "A11" => ("cancelled", visit.admitted.clone(), None),
        _ => return Vec::new(),
    };
    let mut entries = Vec::new();
    if let Some(entry) = contact(header, subject, visit, status, start, end) {
        entries.push(entry);
    }
    let location_kind = match event {
        "A01" | "A02" | "A12" if visit.is_inpatient() => Some(LocationKind::Inpatient),
        "A13" if visit.is_inpatient() || visit.class.is_none() => Some(LocationKind::Inpatient),
        "A03" | "A11" if visit.is_inpatient() || visit.class.is_none() => Some(LocationKind::Home),
        _ => None,
    };
    // A discharge on death must not say the person went home.
    let location_kind = match location_kind {
        Some(LocationKind::Home) if event == "A03" && died(header, visit) => {
            Some(LocationKind::Other)
        }
        other => other,
    };
    if let Some(kind) = location_kind {
        entries.push(location(header, subject, visit, kind));
    }
    entries
}

/// Whether the message says the person died: PID-29/PID-30, or a discharge disposition that
/// reads as death (feeds use local codes, so the text is what can be relied on).
fn died(header: &Header<'_>, visit: &Visit) -> bool {
    let pid_says = header.message.segment("PID").is_some_and(|p| {
        p.text(30, 1).is_some_and(|f| f.eq_ignore_ascii_case("Y")) || p.text(29, 1).is_some()
    });
    let disposition_says = visit.destination.as_deref().is_some_and(|d| {
        let d = d.to_lowercase();
        ["dead", "died", "death", "deceased", "expired"]
            .iter()
            .any(|w| d.contains(w))
    });
    pid_says || disposition_says
}

fn contact(
    header: &Header<'_>,
    subject: &str,
    visit: &Visit,
    status: &str,
    start: Option<String>,
    end: Option<String>,
) -> Option<EntryDraft> {
    // Without a visit number the admit time is the only stable handle on the visit.
    let source_ref = match (&visit.number, &visit.admitted, &start) {
        (Some(n), _, _) => format!("visit/{n}"),
        (None, Some(t), _) => format!("{subject}/visit/{t}"),
        (None, None, Some(t)) if status != "finished" && status != "cancelled" => {
            format!("{subject}/visit/{t}")
        }
        _ => return None,
    };
    let kind = visit.kind();
    let what = match kind {
        ContactKind::Admission => "Admission",
        ContactKind::AandE => "A&E attendance",
        ContactKind::Outpatient => "Outpatient attendance",
        _ => "Hospital visit",
    };
    let title = match &visit.ward {
        Some(ward) => format!("{what}: {ward}"),
        None => what.to_owned(),
    };
    let body = Contact {
        kind,
        organisation: header.sending_facility.clone(),
        site: visit.facility.clone(),
        ward: visit.ward.clone(),
        bed: visit.bed.clone(),
        specialty: visit.specialty.clone(),
        clinician: visit.clinician.clone(),
        reason: visit.reason.clone(),
        discharge_destination: if status == "finished" {
            visit.destination.clone()
        } else {
            None
        },
    };
    let mut entry = draft(source_ref, title, EntryBody::Contact(body));
    entry.status = Some(status.to_owned());
    entry.start = start;
    entry.end = end;
    entry.recorded_at = header.event_time.clone();
    Some(entry)
}

fn location(header: &Header<'_>, subject: &str, visit: &Visit, kind: LocationKind) -> EntryDraft {
    let body = match kind {
        LocationKind::Inpatient => Location {
            kind,
            name: visit.ward.clone().or_else(|| visit.facility.clone()),
            ward: visit.ward.clone(),
            bed: visit.bed.clone(),
            organisation: visit
                .facility
                .clone()
                .or_else(|| header.sending_facility.clone()),
        },
        LocationKind::Other => Location {
            kind,
            name: Some("Deceased".to_owned()),
            ward: None,
            bed: None,
            organisation: None,
        },
        _ => Location {
            kind,
            name: None,
            ward: None,
            bed: None,
            organisation: None,
        },
    };
    let title = match (kind, &visit.ward) {
        (LocationKind::Inpatient, Some(ward)) => format!("Inpatient: {ward}"),
        (LocationKind::Inpatient, None) => "Inpatient".to_owned(),
        (LocationKind::Other, _) => "Deceased".to_owned(),
        _ => "Home".to_owned(),
    };
    let mut entry = draft(
        format!("{subject}/location"),
        title,
        EntryBody::Location(body),
    );
    entry.status = Some("active".to_owned());
    entry.start = header.occurred.clone();
    entry.recorded_at = header.event_time.clone();
    entry
}
