//! End-to-end tests of the HL7 v2 importer on synthetic messages: file → extracts.

use super::*;
use crate::ingest::{Extract, Unit};
use crate::model::entry::{ContactKind, FlagState, LocationKind};
use crate::model::{Category, EntryBody, EntryDraft, NhsNumberStatus, Sex};
use std::time::{Duration, Instant};

const MSH: &str = "MSH|^~\\&|PAS|RX1|SC|SC|20240305142000||";

fn message(kind: &str, control: &str, rest: &[&str]) -> String {
    let mut segments = vec![format!("{MSH}{kind}|{control}|P|2.4")];
    segments.extend(rest.iter().map(|s| s.to_string()));
    segments.join("\r")
}

const PID: &str = "PID|1||40800000^^^RX1^MR~9434765919^^^NHS^NH||SMITH^Jane^Ann^^Mrs^^L||19800102|F|||1 High St^Flat 2^Leeds^^ls11aa^^H||0113 000 0000^PRN^PH~^NET^Internet^jane@example.org";

fn parse(text: &str) -> ParsedFile {
    parse_file(text.as_bytes()).unwrap()
}

fn only_extract(text: &str) -> Extract {
    let parsed = parse(text);
    assert_eq!(parsed.units.len(), 1, "{:?}", parsed.units);
    parsed.units.into_iter().next().unwrap().unwrap()
}

fn reject_reason(unit: &Unit) -> &str {
    &unit.as_ref().unwrap_err().reason
}

fn entry(x: &Extract, category: Category) -> &EntryDraft {
    x.entries
        .iter()
        .find(|e| e.category == category)
        .unwrap_or_else(|| panic!("no {category:?}"))
}

#[test]
fn every_terminator_gives_the_same_extract() {
    let base = message("ADT^A28", "T1", &["EVN|A28|20240305141900", PID]);
    let cr = only_extract(&base);
    for terminator in ["\n", "\r\n"] {
        let other = only_extract(&base.replace('\r', terminator));
        assert_eq!(other.subject, cr.subject);
        assert_eq!(other.demographics, cr.demographics);
        assert_eq!(other.event_time, cr.event_time);
    }
    assert_eq!(cr.subject, "40800000");
    assert_eq!(cr.position, "message 1 (control id T1)");
    assert_eq!(cr.message_ref.as_deref(), Some("T1"));
    assert_eq!(cr.event_time.as_deref(), Some("2024-03-05T14:19:00"));
    let d = cr.demographics.unwrap();
    assert_eq!(d.nhs_number.as_ref().unwrap().value, "9434765919");
    assert_eq!(d.nhs_number.unwrap().status, NhsNumberStatus::Verified);
    assert_eq!(d.family.as_deref(), Some("SMITH"));
    assert_eq!(d.given, vec!["Jane", "Ann"]);
    assert_eq!(d.title.as_deref(), Some("Mrs"));
    assert_eq!(d.birth_date.unwrap().to_string(), "1980-01-02");
    assert_eq!(d.sex, Some(Sex::Female));
    let address = d.address.unwrap();
    assert_eq!(address.lines, vec!["1 High St", "Flat 2"]);
    assert_eq!(address.city.as_deref(), Some("Leeds"));
    assert_eq!(address.postcode.as_deref(), Some("LS1 1AA"));
    assert_eq!(d.phone.as_deref(), Some("0113 000 0000"));
    assert_eq!(d.email.as_deref(), Some("jane@example.org"));
    assert_eq!(d.identifiers.len(), 1);
    assert_eq!(d.identifiers[0].system, "RX1");
    assert_eq!(d.identifiers[0].kind.as_deref(), Some("MR"));
}

#[test]
fn mllp_framing_and_batches_are_unwrapped() {
    let one = message("ADT^A28", "M1", &[PID]);
    let two = message("ADT^A31", "M2", &[PID]);
    let framed = format!("\x0b{one}\r\x1c\r\x0b{two}\r\x1c\r");
    let parsed = parse(&framed);
    assert_eq!(parsed.units.len(), 2);
    assert!(parsed.units.iter().all(Result::is_ok));

    let batch = format!("FHS|^~\\&|PAS\rBHS|^~\\&|PAS\r{one}\r{two}\rBTS|2\rFTS|1\r");
    let parsed = parse(&batch);
    let refs: Vec<_> = parsed
        .units
        .iter()
        .map(|u| u.as_ref().unwrap().message_ref.clone().unwrap())
        .collect();
    assert_eq!(refs, vec!["M1", "M2"]);
}

#[test]
fn escapes_repetitions_and_subcomponents() {
    let pid = "PID|1||X\\E\\1^^^RX1&1.2.3&ISO^MR~9434765919^^^NHS^NH||O\\S\\BRIEN^Mary\\X0D\\Ann||19800102|F";
    let x = only_extract(&message("ADT^A28", "E1", &[pid]));
    assert_eq!(x.subject, "X\\1");
    let d = x.demographics.unwrap();
    assert_eq!(d.family.as_deref(), Some("O^BRIEN"));
    assert_eq!(d.given, vec!["Mary\rAnn"]);
    assert_eq!(d.identifiers[0].system, "RX1");
}

#[test]
fn admission_transfer_discharge_and_cancels() {
    let pv1 = |class: &str| {
        let mut f = vec![""; 46];
        (f[0], f[1], f[2], f[3]) = ("PV1", "1", class, "W7^R1^B3^RX1");
        (f[7], f[10], f[19], f[36]) = ("C1^BADGER^HONEY^^^DR", "GEN", "V123", "HOME");
        (f[44], f[45]) = ("20240305140000", "20240306100000");
        f.join("|")
    };
    let run = |kind: &str, class: &str| {
        let evn = "EVN||20240305142000||||20240305141500";
        let x = only_extract(&message(kind, "V", &[evn, PID, &pv1(class)]));
        assert!(x.demographics.is_some());
        x
    };

    let a01 = run("ADT^A01", "I");
    let contact = entry(&a01, Category::Contact);
    assert_eq!(contact.source_ref, "visit/V123");
    assert_eq!(contact.status.as_deref(), Some("in-progress"));
    assert_eq!(contact.start.as_deref(), Some("2024-03-05T14:00:00"));
    let EntryBody::Contact(c) = &contact.body else {
        panic!()
    };
    assert_eq!(c.kind, ContactKind::Admission);
    assert_eq!(
        (c.ward.as_deref(), c.bed.as_deref()),
        (Some("W7"), Some("B3"))
    );
    assert_eq!(c.clinician.as_deref(), Some("DR HONEY BADGER"));
    assert_eq!(c.specialty.as_deref(), Some("GEN"));
    let location = entry(&a01, Category::Location);
    assert_eq!(location.source_ref, "40800000/location");
    let EntryBody::Location(l) = &location.body else {
        panic!()
    };
    assert_eq!(
        (l.kind, l.ward.as_deref()),
        (LocationKind::Inpatient, Some("W7"))
    );

    let a02 = run("ADT^A02", "I");
    assert_eq!(entry(&a02, Category::Contact).source_ref, "visit/V123");
    assert_eq!(
        entry(&a02, Category::Location).source_ref,
        "40800000/location"
    );

    let a03 = run("ADT^A03", "I");
    let contact = entry(&a03, Category::Contact);
    assert_eq!(contact.status.as_deref(), Some("finished"));
    assert_eq!(contact.end.as_deref(), Some("2024-03-06T10:00:00"));
    let EntryBody::Contact(c) = &contact.body else {
        panic!()
    };
    assert_eq!(c.discharge_destination.as_deref(), Some("HOME"));
    let EntryBody::Location(l) = &entry(&a03, Category::Location).body else {
        panic!()
    };
    assert_eq!(l.kind, LocationKind::Home);

    let died = message(
        "ADT^A03",
        "D",
        &[PID, &pv1("I").replace("|HOME|", "|Dead|")],
    );
    let died = only_extract(&died);
    let EntryBody::Location(l) = &entry(&died, Category::Location).body else {
        panic!()
    };
    assert_eq!((l.kind, l.ward.as_deref()), (LocationKind::Deceased, None));

    let a11 = run("ADT^A11", "I");
    assert_eq!(
        entry(&a11, Category::Contact).status.as_deref(),
        Some("cancelled")
    );
    let a12 = run("ADT^A12", "I");
    assert_eq!(
        entry(&a12, Category::Contact).status.as_deref(),
        Some("in-progress")
    );
    let a13 = run("ADT^A13", "I");
    assert_eq!(
        entry(&a13, Category::Contact).status.as_deref(),
        Some("in-progress")
    );
    assert_eq!(entry(&a13, Category::Contact).end, None);
    // A cancel is resolved against what was stored before (see `import::location`).
    assert!(a13.entries.iter().all(|e| e.category != Category::Location));
    let cancel = a13.location_event.as_ref().unwrap();
    assert_eq!(
        cancel.kind,
        crate::ingest::LocationEventKind::CancelDischarge
    );
    assert_eq!(cancel.visit.as_deref(), Some("V123"));

    let a04 = run("ADT^A04", "E");
    let EntryBody::Contact(c) = &entry(&a04, Category::Contact).body else {
        panic!()
    };
    assert_eq!(c.kind, ContactKind::AandE);
    let EntryBody::Location(l) = &entry(&a04, Category::Location).body else {
        panic!()
    };
    assert_eq!(
        (l.kind, l.ward.as_deref()),
        (LocationKind::EmergencyDepartment, Some("W7"))
    );

    let a05 = run("ADT^A05", "O");
    assert_eq!(
        entry(&a05, Category::Contact).status.as_deref(),
        Some("planned")
    );
}

#[test]
fn contact_without_visit_number_uses_subject_and_admit_time() {
    let pv1 = "PV1|1|O|CLINIC";
    let x = only_extract(&message(
        "ADT^A04",
        "N1",
        &["EVN||20240305142000", PID, pv1],
    ));
    let contact = entry(&x, Category::Contact);
    assert_eq!(contact.source_ref, "40800000/visit/2024-03-05T14:20:00");
    let EntryBody::Contact(c) = &contact.body else {
        panic!()
    };
    assert_eq!(c.kind, ContactKind::Outpatient);
}

#[test]
fn updates_carry_next_of_kin_allergies_and_diagnoses() {
    let segments = [
        PID,
        "PD1|||Leeds Practice^^B86001|G1234567^JONES^Ann^^^Dr",
        "NK1|1|SMITH^John|SPO^Spouse|2 High St^^Leeds^^LS1 1AA|0113 111 1111",
        "NK1|2|SMITH^Kim|CGV^Carer",
        "AL1|1|DA|PEN^Penicillin^L|SV|Rash~Swelling|20200101",
        "AL1|2|DA|PEN^Penicillin^L|SV",
        "DG1|1||I10^Essential hypertension^I10||20230101|F",
    ];
    for kind in ["ADT^A08", "ADT^A28", "ADT^A31"] {
        let x = only_extract(&message(kind, "U1", &segments));
        let d = x.demographics.as_ref().unwrap();
        assert_eq!(d.gp_practice.as_deref(), Some("B86001"));
        assert_eq!(d.gp_practice_name.as_deref(), Some("Leeds Practice"));
        assert_eq!(d.gp_name.as_deref(), Some("Dr Ann JONES"));
        let kin: Vec<_> = x
            .entries
            .iter()
            .filter(|e| e.category == Category::NextOfKin)
            .collect();
        assert_eq!(kin.len(), 2);
        assert_eq!(kin[0].source_ref, "40800000/nok/1");
        let EntryBody::NextOfKin(n) = &kin[1].body else {
            panic!()
        };
        assert!(n.is_carer);
        let allergies: Vec<_> = x
            .entries
            .iter()
            .filter(|e| e.category == Category::Allergy)
            .collect();
        assert_eq!(allergies.len(), 1, "a repeated allergen is one entry");
        assert_eq!(allergies[0].source_ref, "40800000/allergy/PEN");
        let EntryBody::Allergy(a) = &allergies[0].body else {
            panic!()
        };
        assert_eq!(a.severity.as_deref(), Some("severe"));
        assert_eq!(a.reaction.as_deref(), Some("Rash; Swelling"));
        let dx = entry(&x, Category::Problem);
        assert_eq!(dx.code.as_deref(), Some("I10"));
        let EntryBody::Problem(p) = &dx.body else {
            panic!()
        };
        assert_eq!(p.kind.as_deref(), Some("diagnosis"));
        assert!(x.entries.iter().all(|e| e.category != Category::Contact));
    }
}

#[test]
fn merges_name_the_retired_id() {
    let x = only_extract(&message(
        "ADT^A40^ADT_A39",
        "G1",
        &[PID, "MRG|40799999^^^RX1^MR~9999999999^^^NHS^NH"],
    ));
    assert_eq!(x.merge_from.as_deref(), Some("40799999"));
    assert_eq!(x.subject, "40800000");
    let x = only_extract(&message("ADT^A34", "G2", &[PID, "MRG|9434765919^^^NHS^NH"]));
    assert_eq!(x.merge_from.as_deref(), Some("NHS:9434765919"));

    let parsed = parse(&message("ADT^A40", "G3", &[PID]));
    assert!(reject_reason(&parsed.units[0]).contains("no MRG segment"));
    let parsed = parse(&message("ADT^A40", "G4", &[PID, "MRG|"]));
    assert!(reject_reason(&parsed.units[0]).contains("MRG-1 has no identifier"));
}

#[test]
fn results_become_entries_with_notes_and_covid_flags() {
    let segments = [
        "PID|||40800000^^^RX1^MR",
        "ORC|RE|P1|F1",
        "OBR|1|P1|F1|FBC^Full blood count^L||20240305090000|20240305091500||||||||BLD^Blood|||||||20240305120000||HM|F",
        "NTE|1||Haemolysed sample",
        "OBX|1|NM|HB^Haemoglobin^L||131|g/L|120-150|N|||F",
        "NTE|1||Checked",
        "NTE|2||Twice",
        "OBX|2|NM|WCC^White cells^L||11.2|x10\\S\\9/L|4.0-11.0|H|||C",
        "OBX|3|SN|CRP^CRP^L||<^5|mg/L|||||F",
        "OBX|4|TX|COM^Comment^L||line one||||||F",
        "OBX|5|TX|COM^Comment^L||line two||||||F",
        "OBX|6|CE|ORG^Organism^L||ECOL^E. coli^L||||||P",
        "OBX|7|ED|PDF^Report^L||^AP^PDF^Base64^JVBERi0=",
        "OBR|2|P2|F2|COV^SARS-CoV-2 PCR^L|||20240304",
        "OBX|1|ST|COVR^SARS-CoV-2 RNA^L||DETECTED||||||F",
        "OBX|2|ST|SPEC^Specimen^L||Throat swab||||||F",
    ];
    let x = only_extract(&message("ORU^R01", "R1", &segments));
    let results: Vec<_> = x
        .entries
        .iter()
        .filter(|e| e.category == Category::Result)
        .collect();
    assert_eq!(
        results.len(),
        7,
        "{:?}",
        results.iter().map(|e| &e.source_ref).collect::<Vec<_>>()
    );
    let hb = results[0];
    assert_eq!(hb.source_ref, "F1/HB/");
    assert_eq!(hb.title, "Haemoglobin");
    assert_eq!(hb.status.as_deref(), Some("final"));
    assert_eq!(hb.start.as_deref(), Some("2024-03-05T09:15:00"));
    let EntryBody::Result(r) = &hb.body else {
        panic!()
    };
    assert_eq!((r.value.as_deref(), r.numeric), (Some("131"), Some(131.0)));
    assert_eq!(r.unit.as_deref(), Some("g/L"));
    assert_eq!(r.reference_range.as_deref(), Some("120-150"));
    assert_eq!(r.abnormal_flag.as_deref(), Some("N"));
    assert_eq!(r.report.as_deref(), Some("Full blood count (F1)"));
    assert_eq!(r.specimen.as_deref(), Some("Blood"));
    assert_eq!(
        r.comment.as_deref(),
        Some("Haemolysed sample\nChecked\nTwice")
    );
    let EntryBody::Result(wcc) = &results[1].body else {
        panic!()
    };
    assert_eq!(wcc.unit.as_deref(), Some("x10^9/L"));
    assert_eq!(results[1].status.as_deref(), Some("corrected"));
    let EntryBody::Result(crp) = &results[2].body else {
        panic!()
    };
    assert_eq!((crp.value.as_deref(), crp.numeric), (Some("<5"), None));
    let EntryBody::Result(com) = &results[3].body else {
        panic!()
    };
    assert_eq!(com.value.as_deref(), Some("line one\nline two"));
    let EntryBody::Result(org) = &results[4].body else {
        panic!()
    };
    assert_eq!(org.value.as_deref(), Some("E. coli"));

    let flag = entry(&x, Category::ConditionFlag);
    assert_eq!(flag.source_ref, "40800000/covid/2024-03-04");
    let EntryBody::ConditionFlag(f) = &flag.body else {
        panic!()
    };
    assert_eq!(
        (f.condition.as_str(), f.state),
        ("COVID-19", FlagState::Positive)
    );
}

#[test]
fn covid_negative_and_tested() {
    let oru = |value: &str| {
        let obx = format!("OBX|1|FT|NCVP^SARS CoV-2 RNA^L||{value}||||||F");
        let x = only_extract(&message(
            "ORU^R01",
            "C",
            &[
                "PID|||1^^^X^MR",
                "OBR|1||F9|NCOV^Virology^L||20240301",
                &obx,
            ],
        ));
        let EntryBody::ConditionFlag(f) = &entry(&x, Category::ConditionFlag).body else {
            panic!()
        };
        f.state
    };
    assert_eq!(oru("NOT detected"), FlagState::Negative);
    assert_eq!(oru("Negative"), FlagState::Negative);
    assert_eq!(oru("Positive"), FlagState::Positive);
    assert_eq!(oru("Sample leaked"), FlagState::Tested);
}

#[test]
fn same_code_in_two_orders_stays_unique() {
    let segments = [
        "PID|||1^^^X^MR",
        "OBR|1||F1|SENS^Sensitivities",
        "OBX|1|ST|VAK^Amikacin||S||||||F",
        "OBR|2||F1|SENS^Sensitivities",
        "OBX|1|ST|VAK^Amikacin||R||||||F",
        "OBX|2|NM|ALB^Albumin||37||||||F",
        "OBX|3|NM|ALB^Albumin||37||||||F",
        "OBX|4|NM|ALB^Albumin||38||||||F",
    ];
    let x = only_extract(&message("ORU^R01", "S", &segments));
    let refs: Vec<_> = x.entries.iter().map(|e| e.source_ref.as_str()).collect();
    assert_eq!(refs, vec!["F1/VAK/", "F1/VAK/#2", "F1/ALB/"]);
    let EntryBody::Result(alb) = &x.entries[2].body else {
        panic!()
    };
    assert_eq!(
        (alb.value.as_deref(), alb.numeric),
        (Some("38"), Some(38.0))
    );
}

#[test]
fn nhs_number_places_and_invalid_numbers() {
    let cases = [
        (
            "PID|1||40800000^^^MRENTR^MEDREC~9999999999^^^NHS^HN",
            "9999999999",
            NhsNumberStatus::Verified,
        ),
        (
            "PID|1||8888888^^^252^PI~6666666666^^^NHS^NH",
            "6666666666",
            NhsNumberStatus::Verified,
        ),
        (
            "PID|1|1000000001^^^^NH|1000000001^^^^NH~V1^^^^PAS",
            "1000000001",
            NhsNumberStatus::Invalid,
        ),
        (
            "PID|||2083964527^06^^^NI~N5022773^^^^PI",
            "2083964527",
            NhsNumberStatus::Invalid,
        ),
        (
            "PID||9434765919|L1^^^X^MR",
            "9434765919",
            NhsNumberStatus::Verified,
        ),
        (
            "PID|||L1^^^X^MR~9434765918^^^NHS^NH",
            "9434765918",
            NhsNumberStatus::Invalid,
        ),
    ];
    for (pid, value, status) in cases {
        let x = only_extract(&message("ADT^A31", "N", &[pid]));
        let nhs = x.demographics.unwrap().nhs_number.unwrap();
        assert_eq!((nhs.value.as_str(), nhs.status), (value, status), "{pid}");
        assert!(nhs.trusted().is_none() || status == NhsNumberStatus::Verified);
    }
}

#[test]
fn missing_identifier_and_pid_are_rejected_with_reasons() {
    let file = [
        message("ADT^A28", "OK1", &[PID]),
        message("ADT^A28", "BAD", &["PID|1||"]),
        message("ADT^A01", "NOPID", &["PV1|1|I"]),
        message("ADT^A28", "OK2", &[PID]),
    ]
    .join("\r");
    let parsed = parse(&file);
    assert_eq!(parsed.units.len(), 4);
    assert!(parsed.units[0].is_ok() && parsed.units[3].is_ok());
    let bad = parsed.units[1].as_ref().unwrap_err();
    assert_eq!(bad.position, "message 2 (control id BAD)");
    assert_eq!(
        bad.reason,
        "HL7 message 2: PID-3 has no identifier; fix at source or map a local id"
    );
    assert!(bad.raw.starts_with(b"MSH|") && bad.raw.ends_with(b"PID|1||"));
    assert!(reject_reason(&parsed.units[2]).contains("no PID segment"));
}

#[test]
fn truncated_and_damaged_messages_are_rejected_and_the_rest_carries_on() {
    let file = format!(
        "MSH|^~\\&|PAS|RX1|||2024\rMSH|^~\\&\rPID|1||A^^^X^MR\rthis line was wrapped\r{}\r",
        message("ADT^A28", "OK", &[PID])
    );
    let parsed = parse(&file);
    assert_eq!(parsed.units.len(), 3);
    assert!(reject_reason(&parsed.units[0]).contains("MSH-9 has no message type"));
    assert!(reject_reason(&parsed.units[1]).contains("line 3 is not an HL7 segment"));
    assert!(parsed.units[2].is_ok());
}

#[test]
fn unsupported_types_are_counted_not_rejected() {
    let file = [
        message("ADT^A60", "1", &[PID]),
        message("ADT^A60", "2", &[PID]),
        message("ORM^O01", "3", &[PID]),
        message("ACK", "4", &["MSA|AA|1"]),
    ]
    .join("\n");
    let parsed = parse(&file);
    assert!(parsed.units.is_empty());
    assert_eq!(parsed.skipped.get("ADT^A60"), Some(&2));
    assert_eq!(parsed.skipped.get("ORM^O01"), Some(&1));
    assert_eq!(parsed.skipped.get("ACK"), Some(&1));
}

#[test]
fn latin1_bytes_are_decoded() {
    let mut bytes = message("ADT^A28", "L", &["PID|||1^^^X^MR||REN\u{c9}^Zo\u{eb}"]).into_bytes();
    // Re-encode the two accented letters as single Windows-1252 bytes.
    let text = String::from_utf8(bytes.clone()).unwrap();
    bytes = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let x = parse_file(&bytes).unwrap().units.remove(0).unwrap();
    let d = x.demographics.unwrap();
    assert_eq!(d.family.as_deref(), Some("REN\u{c9}"));
    assert_eq!(d.given, vec!["Zo\u{eb}"]);
}

#[test]
fn byte_order_mark_and_indented_segments_are_tolerated() {
    let text = format!("\u{feff}{}", message("ADT^A28", "B", &["  PID|||1^^^X^MR"]));
    assert_eq!(only_extract(&text).subject, "1");
}

#[test]
fn empty_files_are_refused() {
    assert_eq!(parse_file(b"").unwrap_err(), FileError::Empty);
    assert_eq!(
        parse_file(b" \r\n\x0b\x1c\r").unwrap_err(),
        FileError::Empty
    );
    assert_eq!(parse_file(b"\xEF\xBB\xBF\n").unwrap_err(), FileError::Empty);
}

#[test]
fn stray_text_is_rejected_once() {
    let file = format!("hello\nworld\n{}", message("ADT^A28", "1", &[PID]));
    let parsed = parse(&file);
    assert_eq!(parsed.units.len(), 2);
    let stray = parsed.units[0].as_ref().unwrap_err();
    assert_eq!(stray.position, "text before message 1");
    assert!(stray.reason.contains("outside any HL7 message"));
}

#[test]
fn fifty_megabytes_of_garbage_finishes_quickly() {
    let started = Instant::now();
    let garbage = vec![b'x'; 50 * 1024 * 1024];
    let parsed = parse_file(&garbage).unwrap();
    assert_eq!(parsed.units.len(), 1);
    let reject = parsed.units[0].as_ref().unwrap_err();
    assert!(reject.reason.contains("outside any HL7 message"));
    assert!(reject.raw.len() <= 64 * 1024);

    let mut long_msh = b"MSH|^~\\&|".to_vec();
    long_msh.resize(50 * 1024 * 1024, b'y');
    let parsed = parse_file(&long_msh).unwrap();
    assert!(reject_reason(&parsed.units[0]).contains("more than the"));

    let pipes = format!("MSH|^~\\&|{}", "|".repeat(5 * 1024 * 1024));
    let parsed = parse_file(pipes.as_bytes()).unwrap();
    assert!(reject_reason(&parsed.units[0]).contains("more than 1000 fields"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_file_of_nothing_but_rejects_is_refused() {
    let file = "MSH|\n".repeat(MAX_REJECTS_PER_FILE + 1);
    assert!(matches!(
        parse_file(file.as_bytes()),
        Err(FileError::Unreadable(_))
    ));
}

#[test]
fn mutated_messages_never_panic() {
    let base = [
        message(
            "ADT^A01",
            "F1",
            &[
                "EVN||20240305",
                PID,
                "PD1|||P^^B1|G1",
                "NK1|1|A^B|SPO",
                "AL1|1|DA|X^Y",
                "DG1|1||I10^H",
                "PV1|1|I|W^R^B^F",
            ],
        ),
        message(
            "ORU^R01",
            "F2",
            &[
                PID,
                "OBR|1|P|F|T^Test|||2024",
                "OBX|1|SN|C^N||>^5|u|1-2|H|||F",
                "NTE|1||n",
            ],
        ),
        message("ADT^A40", "F3", &[PID, "MRG|1^^^X^MR"]),
    ]
    .join("\r");
    let alphabet = b"|^~\\&\r\nMSHPIDX0123456789\x0b\x1c\xff\xc3";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let mut bytes = base.clone().into_bytes();
        for _ in 0..(next() % 8 + 1) {
            let at = (next() % bytes.len() as u64) as usize;
            let with = alphabet[(next() % alphabet.len() as u64) as usize];
            match next() % 3 {
                0 => bytes[at] = with,
                1 => bytes.insert(at, with),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        if let Ok(parsed) = parse_file(&bytes) {
            for unit in &parsed.units {
                if let Err(r) = unit {
                    assert!(!r.reason.is_empty());
                }
            }
        }
    }
}

/// Issue 11: alerts sent in ADT (a ZAL segment, an OBX with an alert code) had no place.
#[test]
fn regression_zal_and_obx_coded_alerts_land_as_alerts_of_their_kind() {
    let x = only_extract(&message(
        "ADT^A08",
        "Z1",
        &[
            PID,
            "PV1|1|O",
            "ZAL|1|AL-77|DOG^Large dog at home^L|RTS|A|20240301||^Patel^Sam^^^Nurse||Ring before visiting",
            "ZAL|2|AL-78|CP^Child protection plan^L|CLIN|A|20240110|||Children's duty team 01632 960100|",
            "ZAL|3|AL-79|KEY^Keysafe code changed^L|OTH|I|20230101",
            "OBX|1|ST|ALERT-CLIN^Alert^L||Difficult airway||||||F|||20240201||^Okoye^Ruth^^^Dr",
            "OBX|2|ST|ALERT^Alert^L||Violent towards staff when intoxicated||||||F",
            "OBX|3|NM|8867-4^Heart rate^LN||72|/min|||||F",
        ],
    ));
    let alerts: Vec<(&str, String, Option<&str>)> = x
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Alert(a) => Some((
                e.title.as_str(),
                a.kind.as_str().to_owned(),
                e.status.as_deref(),
            )),
            EntryBody::Safeguarding(_) => Some((
                e.title.as_str(),
                "safeguarding".to_owned(),
                e.status.as_deref(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        alerts,
        vec![
            (
                "Large dog at home",
                "risk-to-staff".to_owned(),
                Some("active")
            ),
            (
                "Child protection plan",
                "safeguarding".to_owned(),
                Some("active")
            ),
            ("Keysafe code changed", "other".to_owned(), Some("inactive")),
            ("Difficult airway", "clinical".to_owned(), Some("active")),
            (
                "Violent towards staff when intoxicated",
                "risk-to-staff".to_owned(),
                Some("active")
            ),
        ],
        "safeguarding words win over a named kind; a heart rate is no alert"
    );
    let dog = x
        .entries
        .iter()
        .find(|e| e.title == "Large dog at home")
        .unwrap();
    let EntryBody::Alert(a) = &dog.body else {
        panic!()
    };
    assert_eq!(a.recorded_by.as_deref(), Some("Nurse Sam Patel"));
    assert_eq!(a.description.as_deref(), Some("Ring before visiting"));
    assert_eq!(dog.start.as_deref(), Some("2024-03-01"));
    assert!(
        dog.source_ref.ends_with("/alert/AL-77"),
        "{}",
        dog.source_ref
    );
    let cp = x
        .entries
        .iter()
        .find(|e| e.title == "Child protection plan")
        .unwrap();
    let EntryBody::Safeguarding(s) = &cp.body else {
        panic!()
    };
    assert_eq!(
        s.contact.as_deref(),
        Some("Children's duty team 01632 960100")
    );
    let airway = x
        .entries
        .iter()
        .find(|e| e.title == "Difficult airway")
        .unwrap();
    let EntryBody::Alert(a) = &airway.body else {
        panic!()
    };
    assert_eq!(a.recorded_by.as_deref(), Some("Dr Ruth Okoye"));
}

#[test]
fn obx_13_nopat_marks_a_result_not_for_the_patient() {
    let segments = [
        "PID|||40800000^^^RX1^MR",
        "OBR|1|P1|F1|BX^Biopsy^L||20240305090000|20240305091500",
        "OBX|1|TX|BX^Biopsy^L||see report||||||F||nopat",
        "OBX|2|NM|HB^Haemoglobin^L||131|g/L|120-150|N|||F",
    ];
    let x = only_extract(&message("ORU^R01", "R9", &segments));
    let marks: Vec<(&str, bool)> = x
        .entries
        .iter()
        .filter(|e| e.category == Category::Result)
        .map(|e| (e.title.as_str(), e.not_for_patient))
        .collect();
    assert_eq!(marks, [("Biopsy", true), ("Haemoglobin", false)]);
}
