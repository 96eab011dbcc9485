use super::*;
use crate::access::fixture::{contact, entry, profile, record};
use crate::model::entry::{
    CareNetworkMember, Referral, SocialCare, SocialCareKind, SocialCareService,
};
use chrono::TimeZone;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

const GRACE: i64 = 72;

fn bases(r: &PersonRecord, who: &Profile, now: DateTime<Utc>) -> Vec<Basis> {
    infer(r, who, now, Duration::hours(GRACE))
        .into_iter()
        .map(|r| r.basis)
        .collect()
}

#[test]
fn the_registered_practice_has_a_relationship_and_others_do_not() {
    let r = record("G1", vec![]);
    assert_eq!(
        bases(&r, &profile("gp-clinician", "G1", None), at(2026, 5, 1)),
        [Basis::RegisteredGp]
    );
    assert!(bases(&r, &profile("gp-clinician", "G2", None), at(2026, 5, 1)).is_empty());
}

#[test]
fn an_admission_gives_access_until_the_grace_after_discharge() {
    let trust = profile("acute-clinician", "RW1", None);
    let open = record(
        "G1",
        vec![contact(
            1,
            "RW1",
            ContactKind::Admission,
            "2026-04-01T10:00",
            None,
        )],
    );
    assert_eq!(bases(&open, &trust, at(2026, 5, 1)), [Basis::Admission]);
    let discharged = record(
        "G1",
        vec![contact(
            1,
            "RW1",
            ContactKind::Admission,
            "2026-04-01T10:00",
            Some("2026-04-03T12:00"),
        )],
    );
    assert_eq!(
        bases(&discharged, &trust, at(2026, 4, 5)),
        [Basis::Admission]
    );
    assert!(bases(&discharged, &trust, at(2026, 4, 7)).is_empty());
    // Another trust never had one.
    assert!(bases(
        &open,
        &profile("acute-clinician", "RX9", None),
        at(2026, 5, 1)
    )
    .is_empty());
}

#[test]
fn an_appointment_counts_until_the_grace_after_it_and_a_cancelled_one_never() {
    let trust = profile("acute-clinician", "RW1", None);
    let mut appt = contact(1, "RW1", ContactKind::Outpatient, "2026-04-10T09:00", None);
    let r = record("G1", vec![appt.clone()]);
    assert_eq!(bases(&r, &trust, at(2026, 4, 1)), [Basis::Contact]);
    assert!(bases(&r, &trust, at(2026, 4, 20)).is_empty());
    appt.entry.status = Some("cancelled".into());
    assert!(bases(&record("G1", vec![appt]), &trust, at(2026, 4, 1)).is_empty());
}

#[test]
fn an_open_referral_counts_for_the_receiving_organisation_from_its_own_feed_and_closing_ends_it() {
    let body = |to: &str| {
        EntryBody::Referral(Referral {
            to_organisation: Some(to.into()),
            ..Referral::default()
        })
    };
    let community = profile("community-clinician", "RY2", None);
    // The referrer's feed naming RY2 gives RY2 nothing (finding 7: a feed speaks only for its
    // own organisation); RY2's own feed recording the referral does.
    let sent = entry(1, "RW1", body("ry2"));
    assert!(bases(&record("G1", vec![sent]), &community, at(2026, 4, 1)).is_empty());
    let mut referral = entry(1, "RY2", body("ry2"));
    assert_eq!(
        bases(
            &record("G1", vec![referral.clone()]),
            &community,
            at(2026, 4, 1)
        ),
        [Basis::Referral]
    );
    referral.entry.status = Some("completed".into());
    assert!(bases(&record("G1", vec![referral]), &community, at(2026, 4, 1)).is_empty());
}

#[test]
fn a_social_care_case_counts_for_its_team_only() {
    let case = entry(
        1,
        "LA1",
        EntryBody::SocialCare(SocialCare {
            service: SocialCareService::Adults,
            kind: SocialCareKind::Case,
            description: None,
            team: Some("North Adults Team".into()),
            named_worker: None,
            worker_contact: None,
            legal_status: None,
            provider: None,
            hours_per_week: None,
        }),
    );
    let r = record("G1", vec![case]);
    let north = profile("social-worker-adults", "LA1", Some("north adults team"));
    let south = profile("social-worker-adults", "LA1", Some("South Adults Team"));
    assert_eq!(bases(&r, &north, at(2026, 4, 1)), [Basis::SocialCare]);
    assert!(bases(&r, &south, at(2026, 4, 1)).is_empty());
}

#[test]
fn a_care_network_entry_counts_for_the_agency_only_from_its_own_feed() {
    let member = |org: &str| {
        entry(
            1,
            org,
            EntryBody::CareNetwork(CareNetworkMember {
                agency: Some("HomeCare Ltd".into()),
                ..CareNetworkMember::default()
            }),
        )
    };
    let mut agency = profile("care-provider-staff", "AGY1", None);
    agency.org_name = Some("HomeCare Ltd".into());
    // A practice's feed naming the agency (by name, at that) is no evidence for the agency.
    assert!(bases(&record("G1", vec![member("G1")]), &agency, at(2026, 4, 1)).is_empty());
    assert_eq!(
        bases(&record("G1", vec![member("AGY1")]), &agency, at(2026, 4, 1)),
        [Basis::CareNetwork]
    );
}

#[test]
fn the_registered_practice_comes_from_gp_systems_only_and_by_code() {
    let mut r = record("G1", vec![]);
    // An acute source stating another practice changes nothing.
    let mut acute = r.sources[0].clone();
    acute.source_kind = SourceKind::Acute;
    acute.organisation_code = "RW1".into();
    acute.demographics.gp_practice = Some("G2".into());
    acute.updated_at = Some("2030-01-01T00:00:00Z".into());
    r.sources.push(acute);
    let g1 = profile("gp-clinician", "G1", None);
    let mut g2 = profile("gp-clinician", "G2", None);
    assert_eq!(bases(&r, &g1, at(2026, 5, 1)), [Basis::RegisteredGp]);
    assert!(bases(&r, &g2, at(2026, 5, 1)).is_empty());
    // Nor does the golden record, nor a name.
    r.demographics.gp_practice = Some("G2".into());
    g2.org_name = Some("G1".into());
    assert!(bases(&r, &g2, at(2026, 5, 1)).is_empty());
}

#[test]
fn feed_times_read_at_their_latest_instant() {
    assert_eq!(
        time_of("2026-04-03").unwrap(),
        Utc.with_ymd_and_hms(2026, 4, 3, 23, 59, 59).unwrap()
    );
    assert_eq!(
        time_of("2026-04-03T10:15").unwrap(),
        Utc.with_ymd_and_hms(2026, 4, 3, 10, 15, 0).unwrap()
    );
    assert_eq!(
        time_of("2026-04-03T10:15:00+01:00").unwrap(),
        Utc.with_ymd_and_hms(2026, 4, 3, 9, 15, 0).unwrap()
    );
    assert!(time_of("soon").is_none());
}
