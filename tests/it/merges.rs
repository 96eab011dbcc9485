//! Merges and unmerges move links between records and people; they never rewrite entries.

use super::support::*;

fn export(env: &Env, person: i64) -> serde_json::Value {
    env.ok(&["export", "--person", &person.to_string()]).json()
}

#[test]
fn a40_merge_then_unmerge_restores_the_exact_links_and_exports() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let nhs = nhs_number(10);
    let pid_b = "PID|1||MRN-B^^^RWF^MR||Patell^Ravi||19450220|M|||9 Mill Lane^^Ashford^^TN23 1AB\r";
    let feed = [
        a08("A1", "20240101090000", "MRN-A", &nhs, "Patel", "Ravi", "19450202"),
        oru("A2", "20240101100000", &pid("MRN-A", &nhs, "Patel", "Ravi", "19450202"), "ORD-A", "130"),
        // The same man registered again under a second hospital number, no NHS number, a typo
        // in his date of birth and an old address.
        format!("MSH|^~\\&|PAS|RWF|SC|REG|20240102090000||ADT^A08|B1|P|2.4\rEVN|A08|20240102090000\r{pid_b}"),
        oru("B2", "20240102100000", pid_b, "ORD-B", "125"),
    ]
    .concat();
    let r = env.import("RWF-PAS", &env.write("feed.hl7", feed));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let (a, b) = (person_of(&env, "MRN-A"), person_of(&env, "MRN-B"));
    assert_ne!(
        a, b,
        "different DOB and postcode: two people before the merge"
    );
    let links_before = links(&env);
    let (export_a, export_b) = (export(&env, a), export(&env, b));
    let entries_before = env.snapshot()[..2].to_vec();

    let merge = format!(
        "MSH|^~\\&|PAS|RWF|SC|REG|20240103090000||ADT^A40|M1|P|2.4\rEVN|A40|20240103090000\r\
         PID|1||MRN-A^^^RWF^MR~{nhs}^^^NHS^NH||Patel^Ravi||19450202|M\rMRG|MRN-B^^^RWF^MR\r"
    );
    let r = env.import("RWF-PAS", &env.write("merge.hl7", merge));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["files"][0]["merges"], 1);
    assert_eq!(
        person_of(&env, "MRN-B"),
        a,
        "MRN-B now belongs to the surviving person"
    );
    let merged = export(&env, a);
    let observations = |bundle: &serde_json::Value| {
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Observation")
            .count()
    };
    assert_eq!(
        observations(&merged),
        2,
        "both hospital numbers' results on one record"
    );
    // Looking up the retired person follows the merge.
    let via_b = export(&env, b);
    assert_eq!(via_b, merged);
    assert_eq!(
        env.snapshot()[..2].to_vec(),
        entries_before,
        "entries are never rewritten by a merge"
    );

    let r = env.run(&["unmerge", &a.to_string()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(links(&env), links_before);
    assert_eq!(export(&env, a), export_a);
    assert_eq!(export(&env, b), export_b);

    let again = env.run(&["unmerge", &a.to_string()]);
    assert_eq!(again.code, 2, "nothing left to undo: {}", again.stderr);
    assert!(again.stderr.contains("no merge or link to undo"));
}

#[test]
fn a_possible_match_waits_for_review_and_a_rejected_pair_stays_apart() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    env.add_source("KCC-ASC", "social-care", "hl7v2");
    let nhs = nhs_number(20);
    env.import(
        "RWF-PAS",
        &env.write(
            "a.hl7",
            a08(
                "P1",
                "20240101090000",
                "MRN-P",
                &nhs,
                "Smith",
                "Margaret",
                "19380505",
            )
            .replace("|M|||", "|F|||"),
        ),
    );
    // The council knows her by her maiden name, with no NHS number: same given name, DOB, address.
    let council =
        "MSH|^~\\&|ASC|KCC|SC|REG|20240102090000||ADT^A28|C1|P|2.4\rEVN|A28|20240102090000\r\
         PID|1||CL-77^^^KCC^PI||Brown^Margaret||19380505|F|||1 High Street^^Maidstone^^ME14 1AA\r";
    let r = env.import("KCC-ASC", &env.write("c.hl7", council));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let queue = env.ok(&["review", "list", "--json"]).json();
    let queue = queue.as_array().unwrap();
    assert_eq!(
        queue.len(),
        1,
        "a changed surname is a possible match, not a link: {queue:?}"
    );
    assert!(queue[0]["explanation"].as_str().unwrap().contains("family"));
    let (pas, council_person) = (person_of(&env, "MRN-P"), person_of(&env, "CL-77"));
    assert_ne!(pas, council_person, "possible matches are not linked");

    let id = queue[0]["id"].as_i64().unwrap().to_string();
    env.ok(&["review", "link", &id]);
    assert_eq!(person_of(&env, "CL-77"), pas);
    assert_eq!(
        env.ok(&["review", "list", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    env.ok(&["unmerge", &pas.to_string()]);
    assert_eq!(
        person_of(&env, "CL-77"),
        council_person,
        "unmerge undoes a reviewer's link too"
    );
}

/// The sound-alike search finds a record whose birth date is a keying slip of a known person's
/// (day and month swapped, a wrong day, a wrong month) though the postcode differs, and sends
/// it to review; someone of the same name born the same year on an unrelated date is not a
/// candidate at all (such a date scores nothing and can never link; reading everyone born that
/// year was most of a region-size load's time).
#[test]
fn the_sound_alike_search_finds_birth_date_slips_and_not_everyone_born_that_year() {
    for (dob, slip) in [
        ("19381205", true),  // day and month swapped
        ("19380513", true),  // one digit of the day
        ("19380612", true),  // one digit of the month
        ("19381130", false), // the same year only
    ] {
        let env = Env::new();
        env.add_source("RWF-PAS", "acute", "hl7v2");
        env.add_source("KCC-ASC", "social-care", "hl7v2");
        let known = a08(
            "P1",
            "20240101090000",
            "MRN-P",
            &nhs_number(21),
            "Smith",
            "Margaret",
            "19380512",
        );
        assert_eq!(env.import("RWF-PAS", &env.write("a.hl7", known)).code, 0);
        let council = format!(
            "MSH|^~\\&|ASC|KCC|SC|REG|20240102090000||ADT^A28|C1|P|2.4\rEVN|A28|20240102090000\r\
             PID|1||CL-1^^^KCC^PI||Smith^Margaret||{dob}|M|||4 Mill Lane^^Tonbridge^^TN9 1AA\r"
        );
        let r = env.import("KCC-ASC", &env.write("c.hl7", council));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let queue = env.ok(&["review", "list", "--json"]).json();
        let reviews = queue.as_array().unwrap().len();
        assert_eq!(
            reviews,
            usize::from(slip),
            "born {dob}: {reviews} reviews: {queue:?}"
        );
        assert_ne!(person_of(&env, "CL-1"), person_of(&env, "MRN-P"));
    }
}
