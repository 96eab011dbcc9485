//! Where an ADT event says the person is now.
//!
//! Each event is read as its meaning says, and a new location replaces the last one whole:
//!
//! | event | location |
//! | --- | --- |
//! | A01 admit, A02 transfer, A06 outpatient → inpatient, A10 arriving, A17 swap | the ward and bed in PV1-3 (in A&E when the class is emergency) |
//! | A04 register | in A&E when the class is emergency; an outpatient registration moves no one |
//! | A07 inpatient → outpatient | in A&E when the class is emergency, else an outpatient at PV1-3 |
//! | A09 departing | still assigned to PV1-3, temporarily at PV1-11 (or PV1-42) |
//! | A03 discharge | the destination in PV1-36/PV1-37 (home, step-down bed, care home …), deceased, or "destination not recorded" — never "home" by default |
//! | A08 update | corrects the current stay only ([`LocationEventKind::UpdateStay`]) |
//! | A11, A12, A13 cancels | what was there before ([`LocationEventKind`], resolved by the importer) |
//! | A05, A14–A16 (planned, pending), A28, A31, A34, A40 | nothing |
//!
//! A death (PID-29 date of death, PID-30 "Y", or a discharge disposition meaning death) makes
//! the location "deceased" whatever the event.

use super::adapt::Header;
use super::er7::Segment;
use super::patient::draft;
use super::ts;
use super::visit::Visit;
use crate::ingest::{LocationEvent, LocationEventKind};
use crate::model::entry::{Location, LocationKind};
use crate::model::{EntryBody, EntryDraft};

/// What an event does to the source's location entry.
pub enum Change {
    None,
    Set(EntryDraft),
    Resolve(LocationEvent),
}

/// The location change an ADT event implies for the patient in `pid` with visit `visit`.
pub fn change(
    header: &Header<'_>,
    event: &str,
    subject: &str,
    pid: &Segment<'_, '_>,
    visit: &Visit,
) -> Change {
    let set = |kind: LocationKind, name: Option<String>| {
        Change::Set(entry(header, subject, visit, kind, name))
    };
    if let Some(died_at) = death(pid, visit, event) {
        let mut e = entry(header, subject, visit, LocationKind::Deceased, None);
        e.start = died_at.or(e.start);
        return Change::Set(e);
    }
    let stay = stay_kind(visit);
    let resolve = |kind: LocationEventKind, stated: Option<EntryDraft>| {
        Change::Resolve(LocationEvent {
            kind,
            source_ref: source_ref(subject),
            visit: visit.key(),
            stated,
            recorded_at: header.event_time.clone(),
        })
    };
    let in_stay = |kind: LocationKind| entry(header, subject, visit, kind, None);
    match event {
        "A01" | "A02" | "A10" | "A17" => match stay {
            Some(kind) => set(kind, None),
            None => Change::None,
        },
        "A06" => set(LocationKind::Inpatient, None),
        "A04" if visit.class.as_deref() == Some("E") => {
            set(LocationKind::EmergencyDepartment, None)
        }
        "A07" => match visit.class.as_deref() {
            Some("E") => set(LocationKind::EmergencyDepartment, None),
            _ => set(
                LocationKind::Other,
                Some(match &visit.ward {
                    Some(w) => format!("Outpatient at {w}"),
                    None => "Outpatient".to_owned(),
                }),
            ),
        },
        "A09" => match stay {
            Some(kind) => {
                let mut e = in_stay(kind);
                if let EntryBody::Location(l) = &mut e.body {
                    l.temporarily_at = Some(
                        visit
                            .temporary
                            .clone()
                            .unwrap_or_else(|| "away from the ward".to_owned()),
                    );
                }
                Change::Set(e)
            }
            None => Change::None,
        },
        "A03" if stay.is_some() => {
            let (kind, name) = destination(visit);
            set(kind, name)
        }
        "A08" if visit.discharged.is_none() => match stay {
            Some(kind) => resolve(LocationEventKind::UpdateStay, Some(in_stay(kind))),
            None => Change::None,
        },
        "A11" => resolve(LocationEventKind::CancelAdmission, None),
        "A12" => resolve(
            LocationEventKind::CancelTransfer,
            stay.filter(|_| visit.ward.is_some()).map(in_stay),
        ),
        "A13" => resolve(
            LocationEventKind::CancelDischarge,
            Some(in_stay(stay.unwrap_or(LocationKind::Inpatient))),
        ),
        _ => Change::None,
    }
}

/// The reference of a source's one location entry for a person.
pub fn source_ref(subject: &str) -> String {
    format!("{subject}/location")
}

/// Where a stay puts the person, by patient class: an emergency patient is in A&E, an
/// outpatient or recurring patient is not staying anywhere, and an unsaid or local class
/// (some senders write "DAY CASE") on an admission-type event is an inpatient stay.
fn stay_kind(visit: &Visit) -> Option<LocationKind> {
    match visit.class.as_deref() {
        Some("E") => Some(LocationKind::EmergencyDepartment),
        Some("O" | "R" | "N" | "P") => None,
        _ => Some(LocationKind::Inpatient),
    }
}

/// When the message says the person died: PID-29 (date of death) or PID-30 = Y, or, on a
/// discharge, a disposition that means death. `Some(None)` when it says so without a time.
fn death(pid: &Segment<'_, '_>, visit: &Visit, event: &str) -> Option<Option<String>> {
    let date = pid.text(29, 1);
    let flagged = pid.text(30, 1).is_some_and(|f| f.eq_ignore_ascii_case("Y"));
    if date.is_some() || flagged {
        return Some(date.and_then(|d| ts::to_iso(&d)));
    }
    let discharged_dead = event == "A03" && destination(visit).0 == LocationKind::Deceased;
    discharged_dead.then_some(None)
}

/// Where a discharge sent the person, from PV1-36 (disposition: NHS Data Dictionary discharge
/// destination or method codes, or words) and PV1-37 (the place), with the place's name when
/// the message gives one. Nothing said is "destination not recorded", never "home".
pub fn destination(visit: &Visit) -> (LocationKind, Option<String>) {
    let (code, text) = &visit.disposition;
    let place = visit.discharged_to.clone().filter(|p| !is_code(p));
    let kind = text
        .as_deref()
        .and_then(kind_from_words)
        .or_else(|| code.as_deref().and_then(kind_from_words))
        .or_else(|| code.as_deref().and_then(kind_from_code))
        .or_else(|| place.as_deref().and_then(kind_from_words))
        .or_else(|| {
            visit
                .discharged_to
                .as_deref()
                .and_then(kind_from_code)
                .filter(|_| code.is_none())
        })
        .unwrap_or(LocationKind::NotKnown);
    let name = match kind {
        LocationKind::Home | LocationKind::Deceased | LocationKind::NotKnown => None,
        _ => place.or_else(|| text.clone()),
    };
    (kind, name)
}

fn is_code(text: &str) -> bool {
    text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
        && text.bytes().any(|b| b.is_ascii_digit())
}

/// A destination said in words. Step-down comes before hospital: "NHS other hospital provider
/// - step-down bed" is a step-down bed.
fn kind_from_words(text: &str) -> Option<LocationKind> {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&[
        "died",
        "dead",
        "death",
        "deceased",
        "expired",
        "stillbirth",
        "still birth",
    ]) {
        Some(LocationKind::Deceased)
    } else if has(&[
        "step-down",
        "step down",
        "stepdown",
        "intermediate care",
        "discharge to assess",
        "community hospital",
        "rehabilitation unit",
    ]) {
        Some(LocationKind::StepDown)
    } else if has(&["hospice"]) {
        Some(LocationKind::Hospice)
    } else if has(&[
        "care home",
        "nursing home",
        "residential home",
        "residential care",
        "residential accommodation",
    ]) {
        Some(LocationKind::CareHome)
    } else if has(&[
        "mental health",
        "mentally ill",
        "psychiatric",
        "secure unit",
    ]) {
        Some(LocationKind::MentalHealthUnit)
    } else if has(&["hospital", "other provider"]) {
        Some(LocationKind::OtherHospital)
    } else if has(&["not known", "unknown"]) {
        Some(LocationKind::NotKnown)
    } else if has(&["home", "place of residence", "usual residence"]) {
        Some(LocationKind::Home)
    } else {
        None
    }
}

/// NHS Data Dictionary codes: two-digit discharge destinations, one-digit discharge methods
/// (of which only death says where the person is).
fn kind_from_code(code: &str) -> Option<LocationKind> {
    Some(match code.trim() {
        "19" | "29" => LocationKind::Home,
        "54" | "65" | "85" => LocationKind::CareHome,
        "88" => LocationKind::Hospice,
        "48" | "49" | "50" | "53" | "84" => LocationKind::MentalHealthUnit,
        "51" | "52" | "87" => LocationKind::OtherHospital,
        "79" | "4" | "5" => LocationKind::Deceased,
        "98" | "99" => LocationKind::NotKnown,
        "37" | "38" | "66" => LocationKind::Other,
        _ => return None,
    })
}

/// The location entry: kind, place and visit, nothing carried over from before.
fn entry(
    header: &Header<'_>,
    subject: &str,
    visit: &Visit,
    kind: LocationKind,
    name: Option<String>,
) -> EntryDraft {
    let hospital = visit
        .facility
        .clone()
        .or_else(|| header.sending_facility.clone());
    let body = if kind.in_hospital() {
        Location {
            kind,
            name: visit.ward.clone().or_else(|| visit.facility.clone()),
            ward: visit.ward.clone(),
            bed: visit.bed.clone(),
            organisation: hospital,
            visit: visit.key(),
            temporarily_at: None,
        }
    } else {
        Location {
            kind,
            name,
            ward: None,
            bed: None,
            organisation: None,
            visit: visit.key(),
            temporarily_at: None,
        }
    };
    let title = location_title(&body);
    let mut entry = draft(source_ref(subject), title, EntryBody::Location(body));
    entry.status = Some("active".to_owned());
    entry.start = header.occurred.clone();
    entry.recorded_at = header.event_time.clone();
    entry
}

/// "Inpatient: WARD 7", "In A&E: MAJORS", "Step-down bed: ROWAN UNIT", "Deceased".
pub fn location_title(l: &Location) -> String {
    let place = if l.kind.in_hospital() {
        l.ward.as_ref().or(l.name.as_ref())
    } else {
        l.name.as_ref()
    };
    match (l.kind, place) {
        (LocationKind::Other, Some(p)) => p.clone(),
        (kind, Some(p)) => format!("{}: {p}", kind.label()),
        (kind, None) => kind.label().to_owned(),
    }
}
