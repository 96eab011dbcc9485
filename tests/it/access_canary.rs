//! Canaries: unique strings planted in an S-flagged person's address and phone, and in entries
//! that are sensitive (by code, by words in the title, and because the source said so). As
//! every role without the activity that would show them, every page, API answer, search, error
//! page, command-line output and log line is read: each canary must appear 0 times. Then a
//! role with the activity sees them, which proves the test can fail.

use super::server::*;
use super::support::*;
use sharedcare::access::Policy;
use std::path::Path;

/// In the restricted person's address and phone (from two sources, only one of which S-flags
/// the person), the ward they are on and where an earlier stay discharged them to. Matched
/// without regard to case.
const WHEREABOUTS: [&str; 6] = [
    "kestrelcanary",
    "canarybury",
    "wx9 7qz",
    "960417",
    "canaryward",
    "canarydest",
];
/// In the titles of the sensitive entries: ICD-10 A54.9, "sexual health" in the title, and an
/// entry its source marked sensitive.
const SENSITIVE: [&str; 3] = ["canarydgx", "canaryword", "canarysrc"];

/// The trust that has the person admitted: every user of the test works there.
const TRUST: &str = "R9X";

pub(super) const CLINIC_MAPPING: &str = r#"
name = "Clinic system extract"
subject = "patient_id"
event_time = "extracted"

[demographics]
nhs_number = "nhs_number"
family = "surname"
given = "forenames"
birth_date = { column = "dob", required = true }
sex = "sex"
address_lines = ["address"]
postcode = "postcode"
phone = "phone"
restricted = "restricted"
sharing_objection = "objection"

[[entry]]
category = "problem"
when = { column = "item_id" }
source_ref = "{subject}/problem/{item_id}"
title = "title"
code = "code"
start = "date"
sensitive = "sensitive"
[entry.body]
name = "title"
"#;

pub(super) const CLINIC_HEADER: &str = "patient_id,nhs_number,surname,forenames,dob,sex,address,postcode,phone,restricted,objection,item_id,title,code,date,sensitive,extracted";

/// Every canary found in `text`, as `where: canary`.
fn leaks(place: &str, text: &str, canaries: &[&str]) -> Vec<String> {
    let lower = text.to_lowercase();
    canaries
        .iter()
        .filter(|c| lower.contains(*c))
        .map(|c| format!("{place}: {c} ×{}", lower.matches(*c).count()))
        .collect()
}

fn all_canaries() -> Vec<&'static str> {
    WHEREABOUTS
        .iter()
        .chain(SENSITIVE.iter())
        .copied()
        .collect()
}

fn add_source(env: &Env, code: &str, org: &str, format: &str, mapping: Option<&Path>) {
    let mut args = vec![
        "source", "add", code, "--name", code, "--org", org, "--kind", "acute", "--format", format,
    ];
    if let Some(m) = mapping {
        args.extend(["--mapping", m.to_str().unwrap()]);
    }
    env.ok(&args);
}

/// The restricted person, admitted to the trust: returns their person id and NHS number.
fn plant(env: &Env) -> (i64, String) {
    let mapping = env.write("clinic.toml", CLINIC_MAPPING);
    add_source(env, "TRUST-PAS", TRUST, "hl7v2", None);
    add_source(env, "CLINIC", "R9S", "csv", Some(&mapping));
    add_source(env, "COUNCIL", "L9X", "csv", Some(&mapping));
    let nhs = nhs_number(6100);
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, &format!("T300400^^^{TRUST}^MR~{nhs}^^^NHS^NH")),
            (5, "HIDDEN^ALICE^^^MS"),
            (7, "19810923"),
            (8, "F"),
            (11, "7 Kestrelcanary Mews^^Canarybury^^WX9 7QZ^GBR^H"),
            (13, "01632 960417^PRN^PH"),
        ],
    );
    let pd1 = segment("PD1", &[(3, "HEATH SURGERY^^X99003"), (12, "Y")]);
    let pv1 = segment(
        "PV1",
        &[
            (1, "1"),
            (2, "I"),
            (3, "CANARYWARD^BAY 2^BED 6^R9X"),
            (19, "V777001"),
            (44, "20260301100000"),
        ],
    );
    let dg1 = segment(
        "DG1",
        &[
            (1, "1"),
            (3, "A54.9^Gonococcal infection CANARYDGX^I10"),
            (5, "20260301"),
            (6, "F"),
        ],
    );
    // An earlier stay, ended with a discharge to a named place.
    let earlier = segment(
        "PV1",
        &[
            (1, "1"),
            (2, "I"),
            (3, "CANARYWARD^BAY 1^BED 1^R9X"),
            (19, "V776999"),
            (37, "CANARYDEST HOSPICE"),
            (44, "20251201100000"),
            (45, "20251205100000"),
        ],
    );
    let a03 = adt(
        "A03",
        TRUST,
        "CAN0",
        "20251205100500",
        &[pid.clone(), pd1.clone(), earlier],
    );
    let a01 = adt(
        "A01",
        TRUST,
        "CAN1",
        "20260301100500",
        &[pid, pd1, pv1, dg1],
    );
    let file = env.write("admit.hl7", format!("{a03}{a01}"));
    env.ok(&["import", "--source", "TRUST-PAS", file.to_str().unwrap()]);

    // The clinic knows the same address and does not S-flag the person.
    let person = format!(
        "C-1,{nhs},Hidden,Alice,1981-09-23,female,7 Kestrelcanary Mews,WX9 7QZ,01632 960417,,"
    );
    let clinic = format!(
        "{CLINIC_HEADER}\n\
         {person},P1,Sexual health clinic letter CANARYWORD,,2026-02-01,,2026-03-01T06:00:00\n\
         {person},P2,Clinic note CANARYSRC,,2026-02-02,yes,2026-03-01T06:00:00\n\
         {person},P3,Essential hypertension,I10,2026-02-03,,2026-03-01T06:00:00\n"
    );
    let file = env.write("clinic.csv", clinic);
    env.ok(&["import", "--source", "CLINIC", file.to_str().unwrap()]);

    // A council record that may be her under a married name: a possible match, for review.
    let council = format!(
        "{CLINIC_HEADER}\n\
         S-9,,Wedded,Alice,1981-09-23,female,1 Other Road,WX9 1AA,,,,,,,,,2026-03-01T06:00:00\n"
    );
    let file = env.write("council.csv", council);
    env.ok(&["import", "--source", "COUNCIL", file.to_str().unwrap()]);
    (person_with_nhs(env, &nhs), nhs)
}

/// The shipped policy with `view-restricted` added to the clinician role.
fn policy_with_view_restricted() -> String {
    let shipped = Policy::shipped_text();
    let clinician = "[roles.clinician]\nlabel = \"Clinician\"\nactivities = [\"search\"";
    assert!(shipped.contains(clinician));
    shipped.replacen(clinician, &format!("{clinician}, \"view-restricted\""), 1)
}

struct Reader<'a> {
    s: &'a Server,
    c: reqwest::blocking::Client,
    role: String,
    found: Vec<String>,
}

impl Reader<'_> {
    fn get(&mut self, path: &str) -> String {
        let r = self.c.get(self.s.url(path)).send().unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        let place = format!("{} GET {path} ({status})", self.role);
        self.found.extend(leaks(&place, &body, &all_canaries()));
        body
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> String {
        let r = self.c.post(self.s.url(path)).form(form).send().unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        let place = format!("{} POST {path} ({status})", self.role);
        self.found.extend(leaks(&place, &body, &all_canaries()));
        body
    }
}

fn cli_output(env: &Env, args: &[&str]) -> String {
    let r = env.run(args);
    format!("{}\n{}", r.stdout, r.stderr)
}

#[test]
fn canaries_reach_no_page_answer_search_output_or_log_of_a_role_without_the_activity() {
    let env = Env::new();
    let (person, nhs) = plant(&env);
    let policy = Policy::shipped().unwrap();
    let roles: Vec<String> = policy.roles().map(|r| r.name.clone()).collect();
    for role in &roles {
        add_user_at(&env, role, role, TRUST);
    }
    let reviews: Vec<i64> = {
        let conn = env.sql();
        let mut st = conn
            .prepare("SELECT id FROM match_review WHERE state = 'open'")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(
        !reviews.is_empty(),
        "the council record should await review"
    );
    let files: Vec<i64> = {
        let conn = env.sql();
        let mut st = conn.prepare("SELECT id FROM feed_file").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    // Outside the data directory's temporary folder, which goes with the server.
    let api_token = token(&env, "clinician");
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("server.log");
    let s = Server::start_logged(env, &log);
    let mut found = Vec::new();
    for role in &roles {
        let mut r = Reader {
            s: &s,
            c: s.login(role),
            role: role.clone(),
            found: Vec::new(),
        };
        let home = r.get("/");
        let csrf = hidden(&home, "csrf");
        for q in [
            nhs.as_str(),
            "alice hidden",
            "hidden 23/09/1981",
            // The restricted postcode, typed as people type it (the canary is its printed form).
            "wx97qz",
        ] {
            let page = r.get(&format!("/search?q={}", q.replace(' ', "+")));
            if q == "wx97qz" && page.contains(&format!("href=\"/person/{person}\"")) {
                r.found.push(format!(
                    "{role}: a search by the withheld postcode found the restricted person"
                ));
            }
        }
        for path in [
            format!("/person/{person}"),
            format!("/person/{person}?find=gonococcal"),
            format!("/person/{person}?find=clinic"),
            format!("/person/{person}/timeline"),
            format!("/person/{person}/timeline?category=problem"),
            format!("/person/{person}/results"),
            format!("/person/{person}/results/chart.svg?test=x"),
            format!("/person/{person}/nonsense"),
            "/person/not-a-number".into(),
            "/person/987654321".into(),
            format!("/fhir/Patient/person-{person}"),
            format!("/fhir/Patient/person-{person}/$everything"),
            format!("/fhir/Patient?identifier={nhs}"),
            "/fhir/Patient?family=hidden".into(),
            "/fhir/Patient?name=alice".into(),
            "/fhir/Patient/bogus".into(),
            "/fhir/Patient/person-987654321/$everything".into(),
            "/fhir/Nonsense?patient=x".into(),
            "/review/".into(),
            format!("/review/person/{person}/unmerge"),
            "/admin/feeds".into(),
            "/admin/feeds/TRUST-PAS".into(),
            "/admin/feeds/CLINIC".into(),
            // The privacy officer's reports of who looked, as pages and as CSV downloads, and
            // what a role would be shown.
            format!("/privacy/person?person={person}"),
            format!("/privacy/person?person={person}&format=csv"),
            format!("/privacy/person?person={nhs}&format=csv"),
            format!("/privacy/user?user={role}&format=csv"),
            "/privacy/alerts?all=true".into(),
            // A misuse alert's evidence (the privacy officer's alone; none may exist yet).
            "/privacy/alerts/1".into(),
            format!("/privacy/view-as?role=clinician&org={TRUST}&person={person}"),
            "/dashboard".into(),
            "/admin/users".into(),
        ] {
            r.get(&path);
        }
        for kind in sharedcare::web::fhir::PATIENT_SEARCH_TYPES {
            r.get(&format!("/fhir/{kind}?patient=person-{person}"));
        }
        for id in &reviews {
            r.get(&format!("/review/{id}"));
        }
        for id in &files {
            r.get(&format!("/admin/files/{id}"));
        }
        // Asking for the sensitive entries: refused to every role that may not ask.
        if !policy.allows(role, sharedcare::access::Activity::ViewSensitive) {
            r.post(
                &format!("/person/{person}/sensitive"),
                &[
                    ("csrf", &csrf),
                    ("reason", "I would like to see everything"),
                ],
            );
        }
        found.extend(r.found);
    }

    // The API with a bearer token, which must not reach the log either.
    for path in [
        format!("/fhir/Patient/person-{person}/$everything"),
        format!("/fhir/Patient?identifier={nhs}"),
    ] {
        let r = s
            .client()
            .get(s.url(&path))
            .bearer_auth(&api_token)
            .send()
            .unwrap();
        let place = format!("clinician (token) GET {path}");
        found.extend(leaks(&place, &r.text().unwrap(), &all_canaries()));
    }

    // The operator at the server's terminal, without a reason.
    for args in [
        vec!["person", "show", &person.to_string()],
        vec!["--json", "person", "show", &person.to_string()],
        vec!["export", "--person", &person.to_string()],
        vec!["person", "search", &person.to_string(), "clinic"],
        vec!["person", "find", "--nhs-number", &nhs],
        vec!["--json", "person", "find", "--nhs-number", &nhs],
        vec!["person", "find", "--name", "alice hidden"],
    ] {
        let out = cli_output(&s.env, &args);
        found.extend(leaks(
            &format!("sharedcare {args:?}"),
            &out,
            &all_canaries(),
        ));
    }

    // A clinician who gives a reason sees the sensitive entries, the whereabouts still not.
    let mut clinician = Reader {
        s: &s,
        c: s.login("clinician"),
        role: "clinician".into(),
        found: Vec::new(),
    };
    let csrf = hidden(&clinician.get("/"), "csrf");
    let shown = clinician.post(
        &format!("/person/{person}/sensitive"),
        &[("csrf", &csrf), ("reason", "Treating an infection today")],
    );
    for canary in SENSITIVE {
        assert!(
            shown.to_lowercase().contains(canary),
            "{canary} not shown to a clinician who gave a reason"
        );
    }
    found.extend(leaks("clinician, sensitive shown", &shown, &WHEREABOUTS));
    // So does the operator who gives one.
    let out = cli_output(
        &s.env,
        &[
            "--json",
            "person",
            "show",
            &person.to_string(),
            "--reason",
            "Subject access request 123",
        ],
    );
    for canary in all_canaries() {
        assert!(
            out.to_lowercase().contains(canary),
            "{canary} not shown to the operator with a reason:\n{out}"
        );
    }

    // A site policy that gives clinicians `view-restricted`: now they see the whereabouts.
    let env = s.kill();
    let policy_file = env.write("policy.toml", policy_with_view_restricted());
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!("[access]\npolicy = {:?}\n", policy_file.to_str().unwrap()),
    )
    .unwrap();
    let s = Server::start_logged(env, &log);
    let c = s.login("clinician");
    let page = c
        .get(s.url(&format!("/person/{person}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for canary in ["kestrelcanary", "wx9 7qz", "canaryward", "canarydest"] {
        assert!(
            page.to_lowercase().contains(canary),
            "{canary} not shown to a role with view-restricted"
        );
    }
    let search = c
        .get(s.url("/search?q=wx97qz"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        search.contains(&format!("href=\"/person/{person}\"")),
        "a role with view-restricted finds the person by postcode"
    );
    // Other roles still see none of it.
    let mut acute = Reader {
        s: &s,
        c: s.login("acute-clinician"),
        role: "acute-clinician (site policy)".into(),
        found: Vec::new(),
    };
    acute.get(&format!("/person/{person}"));
    acute.get(&format!("/fhir/Patient/person-{person}/$everything"));
    found.extend(acute.found);
    drop(s);

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.lines().count() > 10,
        "the server logged almost nothing: is the log captured?\n{logged}"
    );
    found.extend(leaks("server log", &logged, &all_canaries()));
    // Nor who was searched for, nor the credentials that asked.
    let logged = logged.to_lowercase();
    for (what, text) in [
        ("the NHS number searched for", nhs.clone()),
        ("the name searched for", "alice".into()),
        ("a session cookie", "__host-sharedcare=".into()),
        ("the API token", api_token.to_lowercase()),
    ] {
        if logged.contains(&text) {
            found.push(format!("server log: {what}"));
        }
    }
    assert!(
        found.is_empty(),
        "canaries leaked ({}):\n  {}",
        found.len(),
        found.join("\n  ")
    );
}
