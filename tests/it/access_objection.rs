//! A person's objection to sharing: each organisation sees only what it supplied, whether the
//! objection was recorded here (`person object`) or sent by a feed. Broken glass by another
//! organisation shows it nothing of the others' unless `break_glass_overrides_objection` is
//! set, and then everything, with an `objection-override` alert for the privacy officer.

use super::access_canary::{CLINIC_HEADER, CLINIC_MAPPING};
use super::server::*;
use super::support::*;
use sharedcare::access::sensitive::SensitiveCodes;
use sharedcare::store::Store;
use std::collections::BTreeSet;

/// Margaret Thompson: Orchard Surgery, the hospital, community services and adult social care.
const MARGARET: &str = "9994837567";

/// The person's entries that a reader of every category would be shown (not sensitive), as
/// (entry id, supplying organisation's ODS code).
fn entries_by_org(env: &Env, person: i64) -> Vec<(i64, String)> {
    let store = Store::open(&env.db()).unwrap();
    let record = store.person_record(person).unwrap().unwrap();
    let sensitive = SensitiveCodes::shipped().unwrap();
    record
        .entries
        .iter()
        .filter(|e| sensitive.classify(&e.entry).is_none())
        .map(|e| (e.id, e.provenance.organisation_code.clone()))
        .collect()
}

/// The entry ids a record page lists.
fn listed(page: &str) -> BTreeSet<i64> {
    page.split("id=\"entry-")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The sources (their `meta.source` slugs) of every resource but the Patient in a Bundle.
fn bundle_sources(bundle: &serde_json::Value) -> BTreeSet<String> {
    bundle["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|e| e["resource"]["resourceType"] != "Patient")
        .map(|e| {
            let source = e["resource"]["meta"]["source"].as_str().unwrap_or("none");
            source
                .trim_start_matches("urn:sharedcare:source:")
                .to_lowercase()
        })
        .collect()
}

struct Reader<'a> {
    s: &'a Server,
    c: reqwest::blocking::Client,
}

impl Reader<'_> {
    fn page(&self, path: &str) -> String {
        let r = self.c.get(self.s.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.text().unwrap()
    }

    fn everything(&self, person: i64) -> serde_json::Value {
        let path = format!("/fhir/Patient/person-{person}/$everything");
        let r = self.c.get(self.s.url(&path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.json().unwrap()
    }

    fn break_glass(&self, person: i64) {
        let page = self
            .c
            .get(self.s.url(&format!("/person/{person}")))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let csrf = hidden(&page, "csrf");
        let r = self
            .c
            .post(self.s.url(&format!("/person/{person}/break-glass")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("reason_code", "emergency-care"),
                ("reason", "Collapsed in the emergency department"),
                ("password", PASSWORD),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "break glass: {}", r.text().unwrap());
    }
}

fn overrides(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM privacy_alert WHERE kind = 'objection-override'")
}

#[test]
fn an_objection_leaves_each_organisation_its_own_and_break_glass_follows_the_setting() {
    objection_leaves_each_organisation_its_own(Recorder::Staff);
}

/// The same objection, recorded by the person on the citizens' pages, holds the same way.
#[test]
fn an_objection_the_citizen_records_leaves_each_organisation_its_own_too() {
    objection_leaves_each_organisation_its_own(Recorder::Citizen);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Recorder {
    /// The operator at the command line (as the privacy officer's page does).
    Staff,
    /// The person themselves, signed in as a citizen.
    Citizen,
}

fn objection_leaves_each_organisation_its_own(by: Recorder) {
    let env = Env::new();
    env.load_sample_feeds();
    let person = person_with_nhs(&env, MARGARET);
    let entries = entries_by_org(&env, person);
    let own: BTreeSet<i64> = entries
        .iter()
        .filter(|(_, org)| org == "X99001")
        .map(|(id, _)| *id)
        .collect();
    let all: BTreeSet<i64> = entries.iter().map(|(id, _)| *id).collect();
    let orgs: BTreeSet<&str> = entries.iter().map(|(_, org)| org.as_str()).collect();
    assert!(
        orgs.len() >= 3 && !own.is_empty(),
        "Margaret's record should come from several organisations: {orgs:?}"
    );
    if by == Recorder::Staff {
        env.ok(&[
            "person",
            "object",
            &person.to_string(),
            "--reason",
            "Objection form received 2026-11-20",
        ]);
    }
    add_user_at(&env, "gp", "gp-clinician", "X99001");
    add_user_at(&env, "ed", "acute-clinician", "R1X");
    let s = Server::start_in(env);
    if by == Recorder::Citizen {
        super::citizens::object_as_citizen(&s, MARGARET);
    }
    let gp = Reader {
        s: &s,
        c: s.login("gp"),
    };
    let ed = Reader {
        s: &s,
        c: s.login("ed"),
    };

    // The registered practice sees what it supplied, nothing else.
    let page = gp.page(&format!("/person/{person}"));
    assert_eq!(
        listed(&page),
        own,
        "the practice's own entries, and only those"
    );
    assert!(page.contains("objected to sharing"), "the page says why");
    let timeline = gp.page(&format!("/person/{person}/timeline"));
    // Other organisations' items, or their sources in the filter list.
    for other in [
        "Westshire Hospitals NHS Trust",
        "Westshire Community Health NHS Trust",
        "Westshire County Council",
        "value=\"WGH-PAS\"",
        "value=\"WCH-COMMUNITY\"",
        "value=\"WCC-ADULTS\"",
    ] {
        if let Some(at) = timeline.find(other) {
            let around = &timeline[at.saturating_sub(600)..(at + 300).min(timeline.len())];
            panic!("{other} on the timeline:\n{around}");
        }
    }
    assert_eq!(
        bundle_sources(&gp.everything(person)),
        BTreeSet::from(["orchard-gp".to_owned()])
    );

    // Broken glass by another trust, with the default setting: nothing of the others'.
    ed.break_glass(person);
    let page = ed.page(&format!("/person/{person}"));
    assert!(
        listed(&page).is_empty(),
        "broken glass sees no one else's entries"
    );
    assert!(bundle_sources(&ed.everything(person)).is_empty());
    assert_eq!(overrides(&s.env), 0, "no override, so no override alert");

    // The site lets broken glass override an objection. Sessions outlive a restart.
    let (gp, ed) = (gp.c, ed.c);
    let env = s.kill();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[access]\nbreak_glass_overrides_objection = true\n",
    )
    .unwrap();
    let s = Server::start_in(env);
    let (gp, ed) = (Reader { s: &s, c: gp }, Reader { s: &s, c: ed });
    ed.break_glass(person);
    assert_eq!(overrides(&s.env), 1, "the override is alerted");
    let page = ed.page(&format!("/person/{person}"));
    assert_eq!(
        listed(&page),
        all,
        "broken glass now sees every organisation's entries"
    );
    assert!(bundle_sources(&ed.everything(person)).len() >= 3);
    // An ordinary relationship still does not override it.
    let page = gp.page(&format!("/person/{person}"));
    assert_eq!(listed(&page), own);
    assert_eq!(
        bundle_sources(&gp.everything(person)),
        BTreeSet::from(["orchard-gp".to_owned()])
    );
}

#[test]
fn an_objection_sent_by_a_feed_is_kept_as_one_recorded_here() {
    let env = Env::new();
    let mapping = env.write("clinic.toml", CLINIC_MAPPING);
    for (code, org, format) in [("TRUST-PAS", "R9X", "hl7v2"), ("CLINIC", "R9S", "csv")] {
        let mut args = vec![
            "source", "add", code, "--name", code, "--org", org, "--kind", "acute", "--format",
            format,
        ];
        if format == "csv" {
            args.extend(["--mapping", mapping.to_str().unwrap()]);
        }
        env.ok(&args);
    }
    let nhs = nhs_number(6300);
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, &format!("T500600^^^R9X^MR~{nhs}^^^NHS^NH")),
            (5, "PRIVATE^PAT^^^MX"),
            (7, "19751111"),
            (8, "M"),
        ],
    );
    let pv1 = segment(
        "PV1",
        &[
            (1, "1"),
            (2, "I"),
            (3, "WARD 2^BAY 1^BED 1^R9X"),
            (19, "V880001"),
            (44, "20260301100000"),
        ],
    );
    let file = env.write(
        "admit.hl7",
        adt("A01", "R9X", "OBJ1", "20260301100500", &[pid, pv1]),
    );
    env.ok(&["import", "--source", "TRUST-PAS", file.to_str().unwrap()]);
    let person_row = format!("C-7,{nhs},Private,Pat,1975-11-11,male,2 Clinic Lane,WX8 8AA,,,yes");
    let file = env.write(
        "clinic.csv",
        format!(
            "{CLINIC_HEADER}\n\
             {person_row},P1,Asthma,J45.9,2026-02-01,,2026-03-01T06:00:00\n\
             {person_row},P2,Eczema,L30.9,2026-02-02,,2026-03-01T06:00:00\n"
        ),
    );
    env.ok(&["import", "--source", "CLINIC", file.to_str().unwrap()]);
    let person = person_with_nhs(&env, &nhs);
    assert_eq!(
        env.count(&format!(
            "SELECT sharing_objection FROM person WHERE id = {person}"
        )),
        1,
        "the clinic's objection is on the person"
    );
    let entries = entries_by_org(&env, person);
    let trust: BTreeSet<i64> = entries
        .iter()
        .filter(|(_, org)| org == "R9X")
        .map(|(id, _)| *id)
        .collect();
    assert!(!trust.is_empty() && trust.len() < entries.len());
    add_user_at(&env, "ward", "acute-clinician", "R9X");
    let s = Server::start_in(env);
    let ward = Reader {
        s: &s,
        c: s.login("ward"),
    };
    let page = ward.page(&format!("/person/{person}"));
    assert_eq!(listed(&page), trust, "the trust sees its own entries only");
    assert!(!page.contains("Asthma") && !page.contains("Eczema"));
    // Nor the clinic's address, on the record or in a search.
    assert!(!page.contains("WX8 8AA") && !page.contains("Clinic Lane"));
    let search = ward.page("/search?q=pat+private");
    assert!(
        search.contains(&format!("href=\"/person/{person}\"")),
        "{search}"
    );
    assert!(
        !search.contains("WX8 8AA"),
        "the clinic's postcode in a search"
    );
    assert_eq!(
        bundle_sources(&ward.everything(person)),
        BTreeSet::from(["trust-pas".to_owned()])
    );
}
