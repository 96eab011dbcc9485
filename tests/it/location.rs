//! Where a person is, end to end: HL7 v2 ADT files imported by the CLI into a real data
//! directory, then the record page's banner read over HTTPS. Each untruth the banner once told
//! has its test, named after it.

use super::server::*;
use super::support::*;

const SOURCE: &str = "LOC-PAS";

/// PV1 fields as HL7 numbers them, with their values.
type Pv1<'a> = &'a [(usize, &'a str)];

/// A server over an empty data directory with one hospital ADT feed and a clinician.
fn hospital() -> Server {
    let env = Env::new();
    env.add_source(SOURCE, "acute", "hl7v2");
    add_user(&env, "clin", "clinician");
    Server::start_in(env)
}

/// A person's messages, each in a file of its own, imported in order; each `(event, PV1
/// fields)` at the next hour of 5 March 2024. Returns the person id.
fn import(s: &Server, mrn: &str, seed: u32, pid_extra: &str, events: &[(&str, Pv1)]) -> i64 {
    let nhs = nhs_number(seed);
    for (n, (event, pv1)) in events.iter().enumerate() {
        let time = format!("202403{:02}{:02}0000", 5 + n / 20, n % 20 + 1);
        let pid = pid(mrn, &nhs, "LOCATION", "Test", "19500101").replace('\r', pid_extra) + "\r";
        let file = adt(
            event,
            "RX1",
            &format!("{mrn}-{n}"),
            &time,
            &[pid, segment("PV1", pv1)],
        );
        let path = s.env.write(&format!("{mrn}-{n}.hl7"), file);
        let r = s.env.import(SOURCE, &path);
        assert_eq!(r.code, 0, "{event}: {}{}", r.stdout, r.stderr);
        assert!(
            !r.stdout.contains(&format!("ADT^{event}")),
            "{event} skipped: {}",
            r.stdout
        );
    }
    person_with_nhs(&s.env, &nhs)
}

/// The banner's "Current location" text as a clinician reads it.
fn banner_location(s: &Server, c: &reqwest::blocking::Client, id: i64) -> String {
    let r = c.get(s.url(&format!("/person/{id}"))).send().unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    let start = page
        .find("<dd class=\"location\">")
        .expect("a location line")
        + 21;
    let end = start + page[start..].find("</dd>").unwrap();
    page[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

/// Opens the person for the clinician (a self-claimed relationship) and reads the banner.
fn location_of(s: &Server, id: i64) -> String {
    let c = s.login("clin");
    claim(s, &c, id);
    banner_location(s, &c, id)
}

const ADMIT: &[(usize, &str)] = &[
    (2, "I"),
    (3, "WARD 5^^BED 4^RX1"),
    (19, "V1"),
    (44, "20240305010000"),
];

#[test]
fn regression_discharge_does_not_leave_the_ward_in_the_location() {
    let s = hospital();
    let home: &[(usize, &str)] = &[
        (2, "I"),
        (3, "WARD 5^^BED 4^RX1"),
        (19, "V1"),
        (36, "19^Usual place of residence"),
    ];
    let id = import(&s, "M-HOME", 1, "", &[("A01", ADMIT), ("A03", home)]);
    let shown = location_of(&s, id);
    assert!(shown.starts_with("Home (since "), "{shown}");
    assert!(
        !shown.contains("WARD 5") && !shown.contains("BED 4"),
        "{shown}"
    );
}

#[test]
fn regression_death_in_hospital_reads_deceased_without_the_ward() {
    let s = hospital();
    let ward7: &[(usize, &str)] = &[(2, "I"), (3, "WARD 7^SIDE ROOM 2^BED 1^RX1"), (19, "V7")];
    let died = format!("{}202403050415|Y\r", "|".repeat(16));
    let id = import(&s, "M-DIED", 2, &died, &[("A01", ward7), ("A03", ward7)]);
    let shown = location_of(&s, id);
    assert!(shown.starts_with("Deceased (5 Mar 2024"), "{shown}");
    assert!(
        !shown.contains("WARD 7") && !shown.contains("BED 1"),
        "{shown}"
    );
}

#[test]
fn regression_discharge_to_a_step_down_bed_is_not_recorded_as_home() {
    let s = hospital();
    let step_down: &[(usize, &str)] = &[
        (2, "I"),
        (3, "WARD 12^BAY 3^BED 2^RX1"),
        (19, "V12"),
        (36, "51^NHS other hospital provider - step-down bed"),
        (37, "ROWAN UNIT ASHCOMBE COMMUNITY HOSPITAL"),
    ];
    let id = import(&s, "M-STEP", 3, "", &[("A01", ADMIT), ("A03", step_down)]);
    let shown = location_of(&s, id);
    assert!(
        shown.starts_with("Step-down bed: ROWAN UNIT ASHCOMBE COMMUNITY HOSPITAL"),
        "{shown}"
    );
    assert!(!shown.contains("Home"), "{shown}");
    // A discharge that does not say where to is not "home" either.
    let unsaid: &[(usize, &str)] = &[(2, "I"), (3, "WARD 5^^BED 4^RX1"), (19, "V2")];
    let id = import(&s, "M-UNSAID", 4, "", &[("A01", ADMIT), ("A03", unsaid)]);
    let c = s.login("clin");
    claim(&s, &c, id);
    let shown = banner_location(&s, &c, id);
    assert!(
        shown.starts_with("Discharged, destination not recorded"),
        "{shown}"
    );
}

#[test]
fn regression_a06_a07_a09_a10_are_not_skipped() {
    let s = hospital();
    let ed: &[(usize, &str)] = &[(2, "E"), (3, "ED^^MAJORS 4^RX1"), (19, "V3")];
    let eau: &[(usize, &str)] = &[(2, "I"), (3, "EAU^^BED 8^RX1"), (19, "V3")];
    let xray: &[(usize, &str)] = &[
        (2, "I"),
        (3, "EAU^^BED 8^RX1"),
        (11, "XRAY^^^RX1"),
        (19, "V3"),
    ];
    let c = s.login("clin");
    let mrn = "M-MOVES";
    let id = import(&s, mrn, 5, "", &[("A04", ed)]);
    claim(&s, &c, id);
    let shown = banner_location(&s, &c, id);
    assert!(shown.starts_with("In A&E: ED, MAJORS 4, RX1"), "{shown}");
    let steps: [(&str, Pv1, &str); 4] = [
        ("A06", eau, "Inpatient: EAU, BED 8, RX1 (since"),
        (
            "A09",
            xray,
            "Inpatient: EAU, BED 8, RX1; temporarily at XRAY (since",
        ),
        ("A10", eau, "Inpatient: EAU, BED 8, RX1 (since"),
        ("A07", ed, "In A&E: ED, MAJORS 4, RX1 (since"),
    ];
    let mut events: Vec<(&str, Pv1)> = vec![("A04", ed)];
    for (event, pv1, expected) in steps {
        events.push((event, pv1));
        // Re-importing the earlier files is harmless: the same bytes are recognised.
        import(&s, mrn, 5, "", &events);
        let shown = banner_location(&s, &c, id);
        assert!(shown.starts_with(expected), "after {event}: {shown}");
    }
}

#[test]
fn cancels_restore_what_was_before() {
    let s = hospital();
    let c = s.login("clin");
    let ward6: &[(usize, &str)] = &[
        (2, "I"),
        (3, "WARD 6^^BED 1^RX1"),
        (19, "V1"),
        (44, "20240305010000"),
    ];
    let home: &[(usize, &str)] = &[(2, "I"), (3, "WARD 5^^BED 4^RX1"), (19, "V1"), (37, "Home")];
    let mrn = "M-CANCEL";
    let mut events: Vec<(&str, Pv1)> = vec![("A01", ADMIT)];
    let id = import(&s, mrn, 6, "", &events);
    claim(&s, &c, id);
    for (event, pv1, expected) in [
        ("A02", ward6, "Inpatient: WARD 6, BED 1"),
        ("A12", ADMIT, "Inpatient: WARD 5, BED 4"),
        ("A03", home, "Home"),
        ("A13", home, "Inpatient: WARD 5, BED 4"),
        ("A11", ADMIT, "not recorded"),
    ] {
        events.push((event, pv1));
        import(&s, mrn, 6, "", &events);
        let shown = banner_location(&s, &c, id);
        assert!(shown.starts_with(expected), "after {event}: {shown}");
        if event == "A13" {
            // The visit is in progress again: the discharge time it had is gone too.
            let (status, end): (String, Option<String>) = s
                .env
                .sql()
                .query_row(
                    "SELECT status, end_at FROM entry WHERE source_ref = 'visit/V1'",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!((status.as_str(), end), ("in-progress", None));
        }
    }
}
