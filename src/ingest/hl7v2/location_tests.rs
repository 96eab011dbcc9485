//! The location rules, event by event, on synthetic messages and on the shared corpus's real
//! ADT sequences (admission, transfers, cancels, discharge), replayed through the same
//! resolution the importer uses.

use super::parse_file;
use crate::import::location::resolve;
use crate::ingest::Extract;
use crate::model::entry::{Location, LocationKind};
use crate::model::{Category, EntryBody, EntryDraft};
use std::path::Path;

const PID: &str = "PID|1||40800000^^^RX1^MR~9434765919^^^NHS^NH||SMITH^Jane||19800102|F";

/// A PV1 with the fields given (numbered as HL7 numbers them).
fn pv1(fields: &[(usize, &str)]) -> String {
    let mut f = vec![String::new(); 46];
    f[0] = "PV1".into();
    for (n, v) in fields {
        f[*n] = (*v).to_owned();
    }
    f.join("|")
}

fn adt(event: &str, pid: &str, pv1: &str) -> Extract {
    let text = format!(
        "MSH|^~\\&|PAS|RX1|SC|SC|20240305142000||ADT^{event}|C{event}|P|2.4\r\
         EVN|{event}|20240305142000\r{pid}\r{pv1}"
    );
    let parsed = parse_file(text.as_bytes()).unwrap();
    assert_eq!(parsed.units.len(), 1, "{event}: {:?}", parsed.skipped);
    parsed.units.into_iter().next().unwrap().unwrap()
}

fn location(x: &Extract) -> Option<&Location> {
    x.entries.iter().find_map(|e| match &e.body {
        EntryBody::Location(l) => Some(l),
        _ => None,
    })
}

fn ward(class: &str, ward: &str, bed: &str) -> String {
    pv1(&[(2, class), (3, &format!("{ward}^^{bed}^RX1")), (19, "V1")])
}

#[test]
fn regression_discharge_does_not_leave_the_ward_in_the_location() {
    let home = adt(
        "A03",
        PID,
        &pv1(&[
            (2, "I"),
            (3, "WARD 5^^BED 4"),
            (19, "V1"),
            (36, "19^Usual place of residence"),
        ]),
    );
    let l = location(&home).unwrap();
    assert_eq!(l.kind, LocationKind::Home);
    assert_eq!((l.ward.as_deref(), l.bed.as_deref()), (None, None));
    assert_eq!(
        home.entries
            .iter()
            .find(|e| e.category == Category::Location)
            .unwrap()
            .title,
        "Home"
    );
    // Every field of the new location is set by this message: nothing is left to be filled
    // from the stored one.
    assert!(!Category::Location.keeps_missing_fields());
}

#[test]
fn regression_death_in_hospital_reads_deceased_without_the_ward() {
    let by_pid = format!("{PID}{}202403120415|Y", "|".repeat(21));
    for (pid, disposition) in [
        (by_pid.as_str(), ""),
        (PID, "79^Not applicable - patient died"),
        (PID, "Dead"),
        (PID, "4"),
    ] {
        let x = adt(
            "A03",
            pid,
            &pv1(&[
                (2, "I"),
                (3, "WARD 7^^BED 1"),
                (19, "V1"),
                (36, disposition),
            ]),
        );
        let l = location(&x).unwrap();
        assert_eq!(l.kind, LocationKind::Deceased, "{disposition}");
        assert_eq!((l.ward.as_deref(), l.bed.as_deref()), (None, None));
    }
    // The death time is when the location began.
    let x = adt("A03", &by_pid, &ward("I", "WARD 7", "BED 1"));
    let e = x
        .entries
        .iter()
        .find(|e| e.category == Category::Location)
        .unwrap();
    assert_eq!(e.start.as_deref(), Some("2024-03-12T04:15"));
    // A death reported on any event (an update) says the same.
    let l = location(&adt("A31", &by_pid, "PV1|1|N")).map(|l| l.kind);
    assert_eq!(l, Some(LocationKind::Deceased));
}

#[test]
fn regression_discharge_to_a_step_down_bed_is_not_recorded_as_home() {
    let step_down = adt(
        "A03",
        PID,
        &pv1(&[
            (2, "I"),
            (3, "WARD 12^BAY 3^BED 2^WGH"),
            (19, "V1"),
            (36, "51^NHS other hospital provider - step-down bed"),
            (37, "ROWAN UNIT ASHCOMBE COMMUNITY HOSPITAL"),
        ]),
    );
    let l = location(&step_down).unwrap();
    assert_eq!(l.kind, LocationKind::StepDown);
    assert_eq!(
        l.name.as_deref(),
        Some("ROWAN UNIT ASHCOMBE COMMUNITY HOSPITAL")
    );
    let title = &step_down
        .entries
        .iter()
        .find(|e| e.category == Category::Location)
        .unwrap()
        .title;
    assert_eq!(
        title,
        "Step-down bed: ROWAN UNIT ASHCOMBE COMMUNITY HOSPITAL"
    );

    for (disposition, to, kind) in [
        ("54", "", LocationKind::CareHome),
        ("", "Oakwood Nursing Home", LocationKind::CareHome),
        ("88^Hospice", "", LocationKind::Hospice),
        ("53", "", LocationKind::MentalHealthUnit),
        ("87", "St Elsewhere", LocationKind::OtherHospital),
        ("Feeling great", "Home", LocationKind::Home),
        ("19", "1", LocationKind::Home),
        // Nothing said is not "home".
        ("", "", LocationKind::NotKnown),
        ("1", "", LocationKind::NotKnown),
    ] {
        let x = adt(
            "A03",
            PID,
            &pv1(&[(2, "I"), (3, "W1"), (19, "V1"), (36, disposition), (37, to)]),
        );
        assert_eq!(location(&x).unwrap().kind, kind, "{disposition} / {to}");
    }
}

#[test]
fn regression_a06_a07_a09_a10_are_not_skipped() {
    for event in ["A06", "A07", "A09", "A10", "A14", "A15", "A16"] {
        let text = format!(
            "MSH|^~\\&|PAS|RX1|SC|SC|20240305142000||ADT^{event}|C1|P|2.4\r{PID}\r{}",
            ward("I", "W1", "B1")
        );
        let parsed = parse_file(text.as_bytes()).unwrap();
        assert!(parsed.skipped.is_empty(), "{event}: {:?}", parsed.skipped);
        assert!(parsed.units.iter().all(Result::is_ok), "{event}");
    }
    // A06: outpatient (or A&E) to inpatient.
    let l = location(&adt("A06", PID, &ward("I", "EAU", "BED 8")))
        .unwrap()
        .clone();
    assert_eq!(
        (l.kind, l.ward.as_deref()),
        (LocationKind::Inpatient, Some("EAU"))
    );
    // A07: inpatient back to A&E, or to outpatient.
    let l = location(&adt("A07", PID, &ward("E", "MAJORS", "C4")))
        .unwrap()
        .clone();
    assert_eq!(l.kind, LocationKind::EmergencyDepartment);
    let l = location(&adt("A07", PID, &ward("O", "CLINIC 3", "")))
        .unwrap()
        .clone();
    assert_eq!(
        (l.kind, l.name.as_deref()),
        (LocationKind::Other, Some("Outpatient at CLINIC 3"))
    );
    // A09: still the ward's patient, away for now; A10: arrived.
    let departing = pv1(&[
        (2, "I"),
        (3, "WARD 7^^BED 1"),
        (11, "XRAY^^^RX1"),
        (19, "V1"),
    ]);
    let l = location(&adt("A09", PID, &departing)).unwrap().clone();
    assert_eq!(
        (l.kind, l.ward.as_deref(), l.temporarily_at.as_deref()),
        (LocationKind::Inpatient, Some("WARD 7"), Some("XRAY"))
    );
    let l = location(&adt("A09", PID, &ward("I", "WARD 7", "BED 1")))
        .unwrap()
        .clone();
    assert_eq!(l.temporarily_at.as_deref(), Some("away from the ward"));
    let l = location(&adt("A10", PID, &ward("I", "WARD 9", "BED 2")))
        .unwrap()
        .clone();
    assert_eq!(
        (l.ward.as_deref(), l.temporarily_at),
        (Some("WARD 9"), None)
    );
    // Pending events and outpatient registrations move no one.
    for (event, class) in [
        ("A14", "I"),
        ("A15", "I"),
        ("A16", "I"),
        ("A05", "I"),
        ("A04", "O"),
    ] {
        assert!(
            location(&adt(event, PID, &ward(class, "W1", "B1"))).is_none(),
            "{event}"
        );
    }
}

#[test]
fn a_and_e_arrival_is_in_a_and_e() {
    let x = adt("A04", PID, &ward("E", "ED", "MAJORS 4"));
    let l = location(&x).unwrap();
    assert_eq!(
        (l.kind, l.bed.as_deref()),
        (LocationKind::EmergencyDepartment, Some("MAJORS 4"))
    );
    assert_eq!(l.visit.as_deref(), Some("V1"));
}

#[test]
fn a17_swaps_two_patients_beds() {
    let other = "PID|1||40800001^^^RX1^MR||JONES^Ann||19700101|F";
    let text = format!(
        "MSH|^~\\&|PAS|RX1|SC|SC|20240305142000||ADT^A17|S1|P|2.4\rEVN|A17|20240305142000\r\
         {PID}\r{}\r{other}\r{}",
        ward("I", "WARD 7", "BED 2"),
        ward("I", "WARD 7", "BED 1")
    );
    let parsed = parse_file(text.as_bytes()).unwrap();
    let beds: Vec<(String, Option<String>)> = parsed
        .units
        .iter()
        .map(|u| {
            let x = u.as_ref().unwrap();
            (x.subject.clone(), location(x).unwrap().bed.clone())
        })
        .collect();
    assert_eq!(
        beds,
        vec![
            ("40800000".to_owned(), Some("BED 2".to_owned())),
            ("40800001".to_owned(), Some("BED 1".to_owned()))
        ]
    );
    // One patient is not a swap.
    let one = format!(
        "MSH|^~\\&|PAS|RX1|SC|SC|20240305142000||ADT^A17|S2|P|2.4\r{PID}\r{}",
        ward("I", "W", "B")
    );
    let parsed = parse_file(one.as_bytes()).unwrap();
    assert!(parsed.units[0]
        .as_ref()
        .unwrap_err()
        .reason
        .contains("two PID"));
}

/// The location after each message, as the importer would store it.
fn replay(extracts: impl IntoIterator<Item = Extract>) -> Vec<Option<EntryDraft>> {
    let mut versions: Vec<EntryDraft> = Vec::new();
    let mut after = Vec::new();
    for x in extracts {
        for e in x
            .entries
            .iter()
            .filter(|e| e.category == Category::Location)
        {
            versions.push(e.clone());
        }
        if let Some(event) = &x.location_event {
            versions.extend(resolve(event, &versions));
        }
        after.push(versions.last().cloned());
    }
    after
}

fn place(d: &Option<EntryDraft>) -> String {
    match d {
        None => "none".into(),
        Some(d) if d.status.as_deref() == Some("cancelled") => "cancelled".into(),
        Some(d) => match &d.body {
            EntryBody::Location(l) => format!(
                "{:?} {}",
                l.kind,
                l.bed.clone().or(l.ward.clone()).unwrap_or_default()
            ),
            _ => unreachable!(),
        },
    }
}

#[test]
fn cancels_restore_what_was_before() {
    let a01 = adt("A01", PID, &ward("I", "WARD 5", "BED 4"));
    let a02 = adt("A02", PID, &ward("I", "WARD 6", "BED 1"));
    let a12 = adt("A12", PID, &ward("I", "WARD 5", "BED 4"));
    let a03 = adt(
        "A03",
        PID,
        &pv1(&[(2, "I"), (3, "WARD 5"), (19, "V1"), (37, "Home")]),
    );
    let a13 = adt("A13", PID, &ward("I", "WARD 5", "BED 4"));
    let a11 = adt("A11", PID, &ward("I", "WARD 5", "BED 4"));
    let home_before = adt("A03", PID, &pv1(&[(2, "I"), (19, "V0"), (36, "19")]));
    let got: Vec<String> = replay([
        home_before,
        a01.clone(),
        a02.clone(),
        a12.clone(),
        a03.clone(),
        a13.clone(),
        a11.clone(),
    ])
    .iter()
    .map(place)
    .collect();
    assert_eq!(
        got,
        vec![
            "Home ",
            "Inpatient BED 4",
            "Inpatient BED 1",
            "Inpatient BED 4",
            "Home ",
            "Inpatient BED 4",
            "Home ",
        ]
    );
    // A cancelled admission with nothing before it leaves no location from this source.
    let got: Vec<String> = replay([a01.clone(), a11.clone()])
        .iter()
        .map(place)
        .collect();
    assert_eq!(got, vec!["Inpatient BED 4", "cancelled"]);
    // A cancel of something that is not the current location changes nothing.
    let got: Vec<String> = replay([a01.clone(), a13.clone(), a12.clone()])
        .iter()
        .map(place)
        .collect();
    assert_eq!(got, vec!["Inpatient BED 4"; 3]);
    let other_visit = adt("A11", PID, &pv1(&[(2, "I"), (19, "V9")]));
    let got = replay([a01.clone(), other_visit]);
    assert_eq!(place(&got[1]), "Inpatient BED 4");
    // With nothing stored, a cancelled discharge shows where the message says the person is.
    assert_eq!(place(&replay([a13])[0]), "Inpatient BED 4");
}

#[test]
fn an_update_corrects_the_current_stay_only() {
    let a01 = adt("A01", PID, &ward("I", "WARD 5", "BED 4"));
    let a08 = adt("A08", PID, &ward("I", "WARD 5", "BED 6"));
    let a03 = adt("A03", PID, &pv1(&[(2, "I"), (19, "V1"), (36, "19")]));
    let got: Vec<String> = replay([a01.clone(), a08.clone()])
        .iter()
        .map(place)
        .collect();
    assert_eq!(got, vec!["Inpatient BED 4", "Inpatient BED 6"]);
    // After the discharge an update of the old visit does not put the person back on the ward.
    let got: Vec<String> = replay([a01, a03, a08]).iter().map(place).collect();
    assert_eq!(got, vec!["Inpatient BED 4", "Home ", "Home "]);
}

/// The corpus's location sequences: each file one message, in name order.
#[test]
fn corpus_location_sequences_end_where_they_should() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/hl7v2/uclh-emap/hl7-reader/src/test/resources/Adt/Location"
    ));
    if !root.is_dir() {
        println!("skipped: corpus not present at {}", root.display());
        return;
    }
    let bed = |s: &str| format!("EmergencyDepartment {s}");
    for (sequence, expected) in [
        (
            "CancelAdmit",
            vec![
                "EmergencyDepartment DELETE".to_owned(),
                "cancelled".into(),
                bed("RAT-CHAIR"),
                bed("05-NON COVID MAJORS"),
                "Home ".into(),
            ],
        ),
        (
            "CancelTransfer",
            vec![
                bed("RAT-CHAIR"),
                bed("05-NON COVID MAJORS"),
                bed("DELETE"),
                bed("05-NON COVID MAJORS"),
                bed("04-NON COVID MAJORS"),
                "Home ".into(),
            ],
        ),
        (
            "CancelDischarge",
            vec![
                bed("RAT-CHAIR"),
                bed("05-NON COVID MAJORS"),
                "Home ".into(),
                bed("05-NON COVID MAJORS"),
                "Home ".into(),
            ],
        ),
        (
            "Moves",
            vec![
                bed("RAT-CHAIR"),
                bed("05-NON COVID MAJORS"),
                bed("04-NON COVID MAJORS"),
                bed("05-NON COVID MAJORS"),
                bed("04-NON COVID MAJORS"),
                "Inpatient BY02-08".into(),
                "Home ".into(),
            ],
        ),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(sequence))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let extracts = files.iter().map(|f| {
            let parsed = parse_file(&std::fs::read(f).unwrap()).unwrap();
            assert!(
                parsed.skipped.is_empty(),
                "{}: {:?}",
                f.display(),
                parsed.skipped
            );
            parsed.units.into_iter().next().unwrap().unwrap()
        });
        let got: Vec<String> = replay(extracts).iter().map(place).collect();
        assert_eq!(got, expected, "{sequence}");
    }
}

/// The corpus's discharges: a death said by PID-29/30 or the disposition, and a discharge to
/// the usual place of residence (code 19).
#[test]
fn corpus_discharges_say_death_and_home() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/hl7v2/uclh-emap/hl7-reader/src/test/resources/Adt/generic"
    ));
    if !root.is_dir() {
        println!("skipped: corpus not present at {}", root.display());
        return;
    }
    for (file, kind) in [
        ("A03.txt", LocationKind::Home),
        ("A03_death.txt", LocationKind::Deceased),
        ("A03_death_2.txt", LocationKind::Deceased),
        ("A03_death_3.txt", LocationKind::Deceased),
    ] {
        let parsed = parse_file(&std::fs::read(root.join(file)).unwrap()).unwrap();
        let x = parsed.units.into_iter().next().unwrap().unwrap();
        let l = location(&x).unwrap_or_else(|| panic!("{file}: no location"));
        assert_eq!(l.kind, kind, "{file}");
        assert_eq!(
            (l.ward.as_deref(), l.bed.as_deref()),
            (None, None),
            "{file}"
        );
    }
}
