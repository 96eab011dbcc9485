//! Importing feeds: summaries, re-delivery, out-of-order updates and history.

use super::support::*;

fn two_patients() -> String {
    let a = nhs_number(1);
    let b = nhs_number(2);
    [
        a08(
            "M1",
            "20240101090000",
            "MRN001",
            &a,
            "Okafor",
            "Grace",
            "19540312",
        ),
        oru(
            "M2",
            "20240102100000",
            &pid("MRN001", &a, "Okafor", "Grace", "19540312"),
            "ORD1",
            "121",
        ),
        a08(
            "M3",
            "20240103090000",
            "MRN002",
            &b,
            "Whitfield",
            "Tom",
            "19800704",
        ),
    ]
    .concat()
}

#[test]
fn import_reports_what_it_did_and_find_shows_the_person() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let file = env.write("adt.hl7", two_patients());
    let r = env.import("RWF-PAS", &file);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let summary = r.json();
    let f = &summary["files"][0];
    assert_eq!(f["state"], "imported");
    assert_eq!(f["units"], 3);
    assert_eq!(f["persons_created"], 2);
    assert_eq!(f["entries"]["result"]["inserted"], 1);

    let found = env
        .ok(&["--json", "person", "find", "--nhs-number", &nhs_number(1)])
        .json();
    let people = found.as_array().unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["family"], "Okafor");
    assert_eq!(people[0]["given"], "Grace");
    assert_eq!(people[0]["birth_date"], "1954-03-12");
    assert_eq!(people[0]["nhs_number"], nhs_number(1));

    let by_name = env
        .ok(&[
            "person",
            "find",
            "--name",
            "okafor",
            "--dob",
            "12/03/1954",
            "--json",
        ])
        .json();
    assert_eq!(by_name.as_array().unwrap().len(), 1);
    // The global flag is accepted after the subcommand too, and a typo still finds the person.
    let typo = env
        .ok(&["person", "find", "--name", "Okafur", "--json"])
        .json();
    assert_eq!(typo[0]["family"], "Okafor", "phonetic search: {typo}");

    let id = people[0]["id"].as_i64().unwrap().to_string();
    let shown = env.ok(&["person", "show", &id]);
    assert!(shown.stdout.contains("OKAFOR"), "{}", shown.stdout);
    assert!(shown.stdout.contains("Haemoglobin"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("RWF-PAS feed"),
        "provenance: {}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("none recorded by RWF-PAS"),
        "{}",
        shown.stdout
    );
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let file = env.write("adt.hl7", two_patients());
    assert_eq!(env.import("RWF-PAS", &file).code, 0);
    let before = env.snapshot();
    let again = env.import("RWF-PAS", &file);
    assert_eq!(again.code, 0);
    assert_eq!(again.json()["files"][0]["state"], "duplicate");
    assert_eq!(env.snapshot(), before);
    let text = env.run(&["import", "--source", "RWF-PAS", file.to_str().unwrap()]);
    assert!(
        text.stdout.contains("duplicate: already imported"),
        "{}",
        text.stdout
    );
}

#[test]
fn the_same_messages_in_a_new_file_change_nothing() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let first = env.write("day1.hl7", two_patients());
    assert_eq!(env.import("RWF-PAS", &first).code, 0);
    let before = env.snapshot();
    let second = env.write("day1-resent.hl7", two_patients().replace('\r', "\n"));
    let r = env.import("RWF-PAS", &second);
    assert_eq!(r.code, 0);
    let f = &r.json()["files"][0];
    assert_eq!(f["state"], "imported");
    assert_eq!(f["persons_created"], 0);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn an_older_update_does_not_overwrite_newer_data_and_history_is_kept() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let nhs = nhs_number(3);
    let newer = a08(
        "N2",
        "20240305120000",
        "MRN9",
        &nhs,
        "Hughes",
        "Ann",
        "19700101",
    );
    let older = a08(
        "N1",
        "20240301120000",
        "MRN9",
        &nhs,
        "Jones",
        "Ann",
        "19700101",
    );
    let hughes = pid("MRN9", &nhs, "Hughes", "Ann", "19700101");
    let newer_result = oru("R2", "20240305120000", &hughes, "ORD9", "140");
    let older_result = oru("R1", "20240301120000", &hughes, "ORD9", "99");
    env.import(
        "RWF-PAS",
        &env.write("a.hl7", [newer, newer_result].concat()),
    );
    let r = env.import(
        "RWF-PAS",
        &env.write("b.hl7", [older, older_result].concat()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = &r.json()["files"][0];
    assert_eq!(f["demographics_arrived_late"], 1);
    assert_eq!(f["entries"]["result"]["arrived_late"], 1);

    let found = env
        .ok(&["--json", "person", "find", "--nhs-number", &nhs])
        .json();
    assert_eq!(found[0]["family"], "Hughes", "the newer name stays");
    let value: String = env
        .sql()
        .query_row(
            "SELECT json_extract(unpacked(body), '$.value') FROM entry WHERE category = 'result'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(value, "140");
    assert_eq!(
        env.count("SELECT count(*) FROM entry_history WHERE disposition = 'arrived-late'"),
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM source_person_history WHERE disposition = 'arrived-late'"),
        1
    );

    // A genuinely newer message does overwrite, and the old version is kept.
    let newest = oru("R3", "20240310120000", &hughes, "ORD9", "150");
    env.import("RWF-PAS", &env.write("c.hl7", newest));
    assert_eq!(
        env.count("SELECT version FROM entry WHERE category = 'result'"),
        2
    );
    assert_eq!(
        env.count("SELECT count(*) FROM entry_history WHERE disposition = 'superseded'"),
        1
    );
    // Bodies and both kinds of history are stored packed, and read back as they were written.
    assert_eq!(
        env.count(
            "SELECT (SELECT count(*) FROM entry WHERE typeof(body) != 'blob')
                  + (SELECT count(*) FROM entry_history WHERE typeof(draft) != 'blob')"
        ),
        0
    );
    let kept: Vec<String> = env
        .sql()
        .prepare(
            "SELECT disposition || ' ' || json_extract(unpacked(draft), '$.body.value')
             FROM entry_history h JOIN entry e ON e.id = h.entry_id
             WHERE e.category = 'result' ORDER BY h.id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept, ["arrived-late 99", "superseded 140"]);
}

#[test]
fn stats_count_persons_entries_files_and_rejects() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let bad = "MSH|^~\\&|PAS|RWF|X|Y|20240101||ADT^A08|B1|P|2.4\rPID|1||||Nobody^Known\r";
    env.import(
        "RWF-PAS",
        &env.write("a.hl7", [two_patients().as_str(), bad].concat()),
    );
    let s = env.ok(&["stats", "--json"]).json();
    assert_eq!(s["persons"], 2);
    assert_eq!(s["files_by_state"]["imported"], 1);
    assert_eq!(s["rejects"], 1);
    assert_eq!(s["entries_by_category"]["result"], 1);
    let sources = env.ok(&["source", "list", "--json"]).json();
    assert_eq!(sources[0]["code"], "RWF-PAS");
}
