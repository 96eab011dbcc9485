//! What PV1/PV2 say about a hospital visit, and the contact (encounter) entry it makes.

use super::adapt::Header;
use super::er7::Segment;
use super::patient::{self, draft};
use super::ts;
use crate::model::entry::{Contact, ContactKind};
use crate::model::{EntryBody, EntryDraft};

/// What PV1/PV2 say about the visit.
pub struct Visit {
    /// PV1-2 patient class, upper-cased: `I`, `E`, `O` … (some senders write words).
    pub class: Option<String>,
    /// PV1-3 assigned location: point of care (ward), bed (else room), facility.
    pub ward: Option<String>,
    pub bed: Option<String>,
    pub facility: Option<String>,
    /// PV1-11 temporary location (A09/A10 tracking), else PV1-42 pending location.
    pub temporary: Option<String>,
    pub clinician: Option<String>,
    pub specialty: Option<String>,
    /// PV1-19 visit number.
    pub number: Option<String>,
    pub admitted: Option<String>,
    pub discharged: Option<String>,
    pub expected_admit: Option<String>,
    /// PV1-36 discharge disposition as (code, text), each when given.
    pub disposition: (Option<String>, Option<String>),
    /// PV1-37 discharged-to location, as text.
    pub discharged_to: Option<String>,
    pub reason: Option<String>,
}

impl Visit {
    /// Reads one patient's PV1 and PV2 (either may be missing).
    pub fn read(pv1: Option<&Segment<'_, '_>>, pv2: Option<&Segment<'_, '_>>) -> Self {
        let text = |n: usize, c: usize| pv1.and_then(|s| s.text(n, c));
        let time = |n: usize| text(n, 1).and_then(|t| ts::to_iso(&t));
        let location = pv1.map(|s| s.field(3).first());
        let loc = |c: usize| location.as_ref().and_then(|l| l.get(c));
        let place = |n: usize| {
            pv1.map(|s| s.field(n).first()).and_then(|l| {
                let parts: Vec<String> = [1, 2, 3].iter().filter_map(|&c| l.get(c)).collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            })
        };
        Self {
            class: text(2, 1).map(|c| c.trim().to_ascii_uppercase()),
            ward: loc(1),
            bed: loc(3).or_else(|| loc(2)),
            facility: loc(4),
            temporary: place(11).or_else(|| place(42)),
            clinician: pv1.and_then(|s| patient::person_name(s.field(7).first())),
            specialty: text(10, 1),
            number: text(19, 1),
            admitted: time(44),
            discharged: time(45),
            expected_admit: pv2.and_then(|s| s.text(8, 1)).and_then(|t| ts::to_iso(&t)),
            disposition: (text(36, 1), text(36, 2)),
            discharged_to: text(37, 1),
            reason: pv2.and_then(|s| patient::coded_text(s.field(3).first())),
        }
    }

    pub fn kind(&self) -> ContactKind {
        match self.class.as_deref() {
            Some("I") => ContactKind::Admission,
            Some("E") => ContactKind::AandE,
            Some("O") => ContactKind::Outpatient,
            _ => ContactKind::Other,
        }
    }

    /// The visit a location belongs to: its number, else its admission time.
    pub fn key(&self) -> Option<String> {
        self.number.clone().or_else(|| self.admitted.clone())
    }

    /// Where the person went on discharge, for people: "Usual place of residence", "ROWAN
    /// UNIT", "51" when a bare code is all there is.
    pub fn destination_text(&self) -> Option<String> {
        let (code, text) = &self.disposition;
        let said = text.clone().or_else(|| code.clone());
        match (said, &self.discharged_to) {
            (Some(d), Some(to)) if !d.eq_ignore_ascii_case(to) => Some(format!("{d}: {to}")),
            (Some(d), _) => Some(d),
            (None, to) => to.clone(),
        }
    }
}

/// The contact (encounter) entry for an event, with its status and period.
pub fn contact_entry(
    header: &Header<'_>,
    event: &str,
    subject: &str,
    visit: &Visit,
) -> Option<EntryDraft> {
    let occurred = header.occurred.clone();
    let (status, start, end) = match event {
        "A01" | "A04" | "A06" | "A07" => (
            "in-progress",
            visit.admitted.clone().or(occurred.clone()),
            None,
        ),
        "A05" | "A14" => (
            "planned",
            visit
                .admitted
                .clone()
                .or(visit.expected_admit.clone())
                .or(occurred.clone()),
            None,
        ),
        "A02" | "A09" | "A10" | "A12" | "A13" | "A17" => {
            ("in-progress", visit.admitted.clone(), None)
        }
        "A03" => (
            "finished",
            visit.admitted.clone(),
            visit.discharged.clone().or(occurred.clone()),
        ),
        "A11" => ("cancelled", visit.admitted.clone(), None),
        _ => return None,
    };
    contact(header, subject, visit, status, start, end)
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
            visit.destination_text()
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
