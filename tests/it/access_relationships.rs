//! Care relationships follow the feeds: an admission gives the trust access, a discharge ends
//! it after the grace period, a closed referral ends it at once. Feeds are imported with the
//! real binary; access is then judged by the library's gate at chosen instants, so no test
//! waits for the wall clock.

use super::server::*;
use super::support::*;
use chrono::{DateTime, Duration, Utc};
use sharedcare::access::{Gate, Opened, Profile};
use sharedcare::config::AccessConfig;
use sharedcare::store::Store;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The profile a user signs in with, as the server reads it (organisation name included).
fn profile_of(env: &Env, user: &str) -> Profile {
    let store = Store::open(&env.db()).unwrap();
    let u = store.user_by_name(user).unwrap().unwrap();
    store.profiles_of(&u).unwrap().remove(0)
}

/// Whether `who` may open person `id` at `now`, by the gate with `config`.
fn opens_with(
    env: &Env,
    config: &AccessConfig,
    who: &Profile,
    id: i64,
    now: DateTime<Utc>,
) -> bool {
    let store = Store::open(&env.db()).unwrap();
    let gate = Gate::new(config).unwrap();
    match gate.open_person(&store, who, id, now, false).unwrap() {
        Opened::Record(_) => true,
        Opened::NoAccess { .. } => false,
    }
}

fn opens(env: &Env, who: &Profile, id: i64, now: DateTime<Utc>) -> bool {
    opens_with(env, &AccessConfig::default(), who, id, now)
}

const TRUST: &str = "R9X";

/// An inpatient ADT event for one patient of the trust; `discharged` fills PV1-45.
fn inpatient(event: &str, control: &str, time: &str, nhs: &str, discharged: &str) -> String {
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, &format!("T100200^^^{TRUST}^MR~{nhs}^^^NHS^NH")),
            (5, "ADMITTED^ALICE^^^MS"),
            (7, "19600214"),
            (8, "F"),
            (11, "4 Quay Street^^Testtown^^WX6 6AA^GBR^H"),
        ],
    );
    let mut pv1 = vec![
        (1, "1"),
        (2, "I"),
        (3, "WARD 9^BAY 1^BED 2^R9X"),
        (19, "V555001"),
        (44, "20260301100000"),
    ];
    if !discharged.is_empty() {
        pv1.push((45, discharged));
    }
    adt(event, TRUST, control, time, &[pid, segment("PV1", &pv1)])
}

fn import(env: &Env, source: &str, name: &str, content: &str) {
    let file = env.write(name, content);
    env.ok(&["import", "--source", source, file.to_str().unwrap()]);
}

#[test]
fn an_admission_gives_the_trust_access_until_the_grace_after_discharge() {
    let env = Env::new();
    env.ok(&[
        "source",
        "add",
        "TRUST-PAS",
        "--name",
        "Trust PAS",
        "--org",
        TRUST,
        "--org-name",
        "Testshire Hospitals NHS Trust",
        "--kind",
        "acute",
        "--format",
        "hl7v2",
    ]);
    add_user_at(&env, "ward", "acute-clinician", TRUST);
    add_user_at(&env, "elsewhere", "acute-clinician", "R9Y");
    let (ward, elsewhere) = (profile_of(&env, "ward"), profile_of(&env, "elsewhere"));
    let nhs = nhs_number(5100);

    import(
        &env,
        "TRUST-PAS",
        "a01.hl7",
        &inpatient("A01", "ADM1", "20260301100500", &nhs, ""),
    );
    let id = person_with_nhs(&env, &nhs);
    let admitted = at("2026-03-01T11:00:00Z");
    assert!(
        opens(&env, &ward, id, admitted),
        "admitted: the ward opens it"
    );
    assert!(
        !opens(&env, &elsewhere, id, admitted),
        "another trust does not"
    );
    assert!(
        opens(&env, &ward, id, at("2026-06-01T00:00:00Z")),
        "an admission with no discharge stays open"
    );

    import(
        &env,
        "TRUST-PAS",
        "a03.hl7",
        &inpatient("A03", "DIS1", "20260305120500", &nhs, "20260305120000"),
    );
    let discharged = at("2026-03-05T12:00:00Z");
    let grace = Duration::hours(72);
    let minute = Duration::minutes(1);
    assert!(
        opens(&env, &ward, id, discharged + grace - minute),
        "within the grace"
    );
    assert!(
        !opens(&env, &ward, id, discharged + grace + minute),
        "72 hours and a minute after discharge: no access"
    );
    // The grace is the configured one.
    let short = AccessConfig {
        relationship_grace_hours: 24,
        ..AccessConfig::default()
    };
    let day = Duration::hours(24);
    assert!(opens_with(
        &env,
        &short,
        &ward,
        id,
        discharged + day - minute
    ));
    assert!(!opens_with(
        &env,
        &short,
        &ward,
        id,
        discharged + day + minute
    ));
}

const COMMUNITY: &str = "R9C";

/// A community system's referral row (the sample community extract's layout): to the
/// community trust's district nursing team.
fn referral(nhs: &str, status: &str, extracted: &str) -> String {
    let header = "record_type,patient_id,nhs_number,surname,forenames,dob,sex,postcode,item_id,date,end_date,title,status,team,clinician,phone,organisation,location,bed,reason,priority,detail,extracted";
    format!(
        "{header}\nREFERRAL,CH-900001,{nhs},Referred,Rita,02/02/1950,2,WX7 7AA,R-1,01/03/2026,,Referral to district nursing,{status},Brindley District Nursing Team,,,Orchard Surgery (X99001),,,Wound care at home,routine,,{extracted}\n"
    )
}

#[test]
fn an_open_referral_gives_the_receiving_organisation_access_and_closing_it_ends_it() {
    let env = Env::new();
    let mapping = repo().join("sample-feeds/mappings/community.toml");
    env.ok(&[
        "source",
        "add",
        "WCH-COMMUNITY",
        "--name",
        "Westshire Community Health patient system",
        "--org",
        COMMUNITY,
        "--org-name",
        "Westshire Community Health NHS Trust",
        "--kind",
        "community",
        "--format",
        "csv",
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    add_user_at(&env, "nurse", "community-clinician", COMMUNITY);
    add_user_at(&env, "gp", "gp-clinician", "X99002");
    let (nurse, gp) = (profile_of(&env, "nurse"), profile_of(&env, "gp"));
    let nhs = nhs_number(5200);
    let now = at("2026-03-02T09:00:00Z");

    import(
        &env,
        "WCH-COMMUNITY",
        "open.csv",
        &referral(&nhs, "accepted", "01/03/2026 06:00"),
    );
    let id = person_with_nhs(&env, &nhs);
    assert!(
        opens(&env, &nurse, id, now),
        "the open referral lets the trust in"
    );
    assert!(
        !opens(&env, &gp, id, now),
        "the referral is not to this practice"
    );

    import(
        &env,
        "WCH-COMMUNITY",
        "closed.csv",
        &referral(&nhs, "completed", "02/03/2026 06:00"),
    );
    assert!(
        !opens(&env, &nurse, id, now),
        "the closed referral ends access at once, with no grace"
    );
}

// ---- finding 7: a feed speaks only for its own organisation ----------------------------------

fn add_source_of(env: &Env, code: &str, org: &str, org_name: &str, kind: &str) {
    env.ok(&[
        "source",
        "add",
        code,
        "--name",
        code,
        "--org",
        org,
        "--org-name",
        org_name,
        "--kind",
        kind,
        "--format",
        "hl7v2",
    ]);
}

/// An A08 (demographics update, no visit) for one patient with PD1-3 naming `practice`.
fn a08_naming_practice(
    facility: &str,
    control: &str,
    time: &str,
    nhs: &str,
    practice: &str,
) -> String {
    let pid = segment(
        "PID",
        &[
            (1, "1"),
            (3, &format!("L{control}^^^{facility}^MR~{nhs}^^^NHS^NH")),
            (5, "REGISTERED^RUTH^^^MRS"),
            (7, "19550505"),
            (8, "F"),
            (11, "9 Mill Lane^^Testtown^^WX6 6AB^GBR^H"),
        ],
    );
    let pd1 = segment("PD1", &[(3, practice)]);
    adt("A08", facility, control, time, &[pid, pd1])
}

#[test]
fn regression_an_acute_trusts_pd1_does_not_open_an_unrelated_practice() {
    let env = Env::new();
    add_source_of(
        &env,
        "TRUST-PAS",
        TRUST,
        "Testshire Hospitals NHS Trust",
        "acute",
    );
    add_user_at(&env, "gp", "gp-clinician", "X99077");
    let gp = profile_of(&env, "gp");
    let nhs = nhs_number(5300);
    import(
        &env,
        "TRUST-PAS",
        "a08.hl7",
        &a08_naming_practice(
            TRUST,
            "PD1A",
            "20260301100000",
            &nhs,
            "Faraway Surgery^^X99077",
        ),
    );
    let id = person_with_nhs(&env, &nhs);
    assert!(
        !opens(&env, &gp, id, at("2026-03-02T09:00:00Z")),
        "an acute trust's PD1 is not a GP registration: the practice it names gets no access"
    );
}

#[test]
fn regression_registered_gp_comes_from_the_latest_gp_feed_by_ods_code_only() {
    let env = Env::new();
    add_source_of(&env, "ORCHARD-GP", "X99001", "Orchard Surgery", "gp");
    add_source_of(
        &env,
        "RIVERSIDE-GP",
        "X99002",
        "Riverside Medical Centre",
        "gp",
    );
    add_user_at(&env, "orchard", "gp-clinician", "X99001");
    add_user_at(&env, "riverside", "gp-clinician", "X99002");
    let (orchard, riverside) = (profile_of(&env, "orchard"), profile_of(&env, "riverside"));
    let nhs = nhs_number(5400);
    let now = at("2026-05-01T09:00:00Z");

    // Registered at Orchard, by Orchard's own system.
    import(
        &env,
        "ORCHARD-GP",
        "orchard.hl7",
        &a08_naming_practice(
            "X99001",
            "OR1",
            "20260101090000",
            &nhs,
            "Orchard Surgery^^X99001",
        ),
    );
    let id = person_with_nhs(&env, &nhs);
    assert!(opens(&env, &orchard, id, now), "the registered practice");
    assert!(!opens(&env, &riverside, id, now), "another practice");

    // The patient moves: Riverside's system registers them later. Orchard's record of them is
    // now stale and no longer makes Orchard their GP.
    import(
        &env,
        "RIVERSIDE-GP",
        "riverside.hl7",
        &a08_naming_practice(
            "X99002",
            "RV1",
            "20260401090000",
            &nhs,
            "Riverside Medical Centre^^X99002",
        ),
    );
    assert_eq!(person_with_nhs(&env, &nhs), id, "the same person");
    assert!(opens(&env, &riverside, id, now), "the new practice");
    assert!(
        !opens(&env, &orchard, id, now),
        "the old practice's stale registration gives no access"
    );

    // A practice named by free text, not by its ODS code, is no registration for anyone whose
    // organisation merely has that name.
    let other = nhs_number(5401);
    import(
        &env,
        "RIVERSIDE-GP",
        "by-name.hl7",
        &a08_naming_practice(
            "X99002",
            "RV2",
            "20260402090000",
            &other,
            "^^Orchard Surgery",
        ),
    );
    let named = person_with_nhs(&env, &other);
    assert!(
        !opens(&env, &orchard, named, now),
        "matched by the organisation's name, never"
    );
}

#[test]
fn regression_an_admission_gives_only_the_admitting_trust_a_relationship() {
    let env = Env::new();
    add_source_of(
        &env,
        "TRUST-PAS",
        TRUST,
        "Testshire Hospitals NHS Trust",
        "acute",
    );
    add_user_at(&env, "ward", "acute-clinician", TRUST);
    add_user_at(&env, "named", "acute-clinician", "R9Y");
    let (ward, named) = (profile_of(&env, "ward"), profile_of(&env, "named"));
    let nhs = nhs_number(5500);
    // The trust's feed names another organisation as the sending facility (MSH-4).
    let message = inpatient("A01", "ADM9", "20260301100500", &nhs, "").replacen(
        &format!("PAS|{TRUST}|"),
        "PAS|R9Y|",
        1,
    );
    assert!(message.contains("PAS|R9Y|"));
    import(&env, "TRUST-PAS", "a01.hl7", &message);
    let id = person_with_nhs(&env, &nhs);
    let now = at("2026-03-01T11:00:00Z");
    assert!(opens(&env, &ward, id, now), "the trust whose feed it is");
    assert!(
        !opens(&env, &named, id, now),
        "an organisation the message names is not given a relationship by someone else's feed"
    );
}
