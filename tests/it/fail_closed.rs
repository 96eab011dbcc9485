//! Fail closed: stored data that cannot be decoded stops the read or the import that needs it
//! with a reason, instead of being read as a default (an S-flagged person read as "not
//! restricted"; a match candidate silently dropped, so that the import makes a second person).
//! The database is a real SQLite file, damaged here with plain SQL as a bad disk or a hand
//! edit would.

use super::server::*;
use super::support::*;

const TRUST: &str = "R9X";

/// An S-flagged (PD1-12) admission whose address carries a canary.
fn restricted_admission(nhs: &str) -> String {
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, &format!("T500600^^^{TRUST}^MR~{nhs}^^^NHS^NH")),
            (5, "HIDDEN^ALICE^^^MS"),
            (7, "19810923"),
            (8, "F"),
            (11, "7 Failclosedcanary Mews^^Canarybury^^WX9 7QZ^GBR^H"),
        ],
    );
    let pd1 = segment("PD1", &[(3, "HEATH SURGERY^^X99003"), (12, "Y")]);
    let pv1 = segment(
        "PV1",
        &[
            (1, "1"),
            (2, "I"),
            (3, "WARD 2^BAY 2^BED 6^R9X"),
            (19, "V888001"),
            (44, "20260301100000"),
        ],
    );
    adt("A01", TRUST, "FC1", "20260301100500", &[pid, pd1, pv1])
}

#[test]
fn regression_corrupted_golden_record_fails_the_record_page_and_search() {
    let env = Env::new();
    env.ok(&[
        "source",
        "add",
        "TRUST-PAS",
        "--name",
        "Trust PAS",
        "--org",
        TRUST,
        "--kind",
        "acute",
        "--format",
        "hl7v2",
    ]);
    add_user_at(&env, "ward", "acute-clinician", TRUST);
    let nhs = nhs_number(6600);
    let file = env.write("a01.hl7", restricted_admission(&nhs));
    env.ok(&["import", "--source", "TRUST-PAS", file.to_str().unwrap()]);
    let person = person_with_nhs(&env, &nhs);

    // The golden record's S-flag no longer decodes.
    let changed = env
        .sql()
        .execute(
            "UPDATE person SET demographics = json_set(demographics, '$.restricted', 'perhaps')
             WHERE id = ?1",
            [person],
        )
        .unwrap();
    assert_eq!(changed, 1);

    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("server.log");
    let s = Server::start_logged(env, &log);
    let c = s.login("ward");
    for path in [
        format!("/person/{person}"),
        "/search?q=alice+hidden".to_owned(),
        format!("/search?q={nhs}"),
    ] {
        let r = c.get(s.url(&path)).send().unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap().to_lowercase();
        assert_eq!(
            status, 500,
            "{path}: an unreadable record is an error, not a page"
        );
        assert!(
            !body.contains("failclosedcanary") && !body.contains("wx9 7qz"),
            "{path}: the restricted person's address was shown"
        );
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("golden record") && logged.contains("cannot be read"),
        "the operator is told what could not be read: {logged}"
    );
    assert!(
        !logged.to_lowercase().contains("failclosedcanary"),
        "no patient data in the log"
    );
}

/// An A08 with no NHS number, so that matching scores candidates.
fn unnumbered(source_facility: &str, mrn: &str, control: &str) -> String {
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, &format!("{mrn}^^^{source_facility}^MR")),
            (5, "CANDIDATE^CAROL^^^MS"),
            (7, "19700707"),
            (8, "F"),
            (11, "3 Match Row^^Testtown^^WX5 5AA^GBR^H"),
        ],
    );
    adt("A08", source_facility, control, "20260301100000", &[pid])
}

#[test]
fn regression_corrupted_match_candidate_fails_the_import_instead_of_creating_a_person() {
    let env = Env::new();
    env.add_source("FIRST-PAS", "acute", "hl7v2");
    env.add_source("SECOND-PAS", "acute", "hl7v2");
    let file = env.write("first.hl7", unnumbered("R1A", "M1", "C1"));
    env.ok(&["import", "--source", "FIRST-PAS", file.to_str().unwrap()]);
    assert_eq!(env.count("SELECT count(*) FROM person"), 1);
    env.sql()
        .execute("UPDATE person SET demographics = '{\"family\": [1, 2'", [])
        .unwrap();

    // The same person from another system: the only candidate cannot be read.
    let file = env.write("second.hl7", unnumbered("R2B", "M2", "C2"));
    let r = env.run(&["import", "--source", "SECOND-PAS", file.to_str().unwrap()]);
    assert_ne!(
        r.code, 0,
        "the import must not carry on past an unreadable candidate"
    );
    assert!(
        r.stderr.contains("cannot be read") && r.stderr.contains("golden record"),
        "a reason: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("CANDIDATE"),
        "no patient data: {}",
        r.stderr
    );
    assert_eq!(
        env.count("SELECT count(*) FROM person"),
        1,
        "no second person was created for someone already here"
    );
}
