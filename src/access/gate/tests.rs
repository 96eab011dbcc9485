use super::*;
use crate::access::fixture::{contact, entry, profile, record};
use crate::model::entry::{ContactKind, Problem, Safeguarding};
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 2, 12, 0, 0).unwrap()
}

fn gate(overrides: bool) -> Gate {
    Gate::new(&AccessConfig {
        break_glass_overrides_objection: overrides,
        ..AccessConfig::default()
    })
    .unwrap()
}

fn problem(id: i64, org: &str, title: &str) -> crate::model::StoredEntry {
    let mut e = entry(id, org, EntryBody::Problem(Problem::default()));
    e.entry.title = title.into();
    e
}

fn sample() -> PersonRecord {
    let mut r = record(
        "G1",
        vec![
            contact(1, "RW1", ContactKind::Admission, "2026-04-01T10:00", None),
            problem(2, "G1", "Hypertension"),
            problem(3, "G1", "Seen in the sexual health clinic"),
            entry(4, "LA1", EntryBody::Safeguarding(Safeguarding::default())),
            problem(5, "RW1", "Fractured wrist"),
        ],
    );
    r.demographics.restricted = true;
    r
}

fn visible(o: Opened) -> Visible {
    match o {
        Opened::Record(v) => *v,
        Opened::NoAccess { .. } => panic!("expected a record"),
    }
}

fn ids(v: &Visible) -> Vec<i64> {
    v.record.entries.iter().map(|e| e.id).collect()
}

fn open(g: &Gate, who: &Profile, grants: &[Grant], objection: bool, sensitive: bool) -> Opened {
    g.open(
        who,
        Some(sample()),
        grants,
        &Restrictions { objection },
        now(),
        sensitive,
    )
}

#[test]
fn without_a_relationship_the_answer_is_the_same_as_for_no_one() {
    let g = gate(false);
    let stranger = profile("acute-clinician", "RX9", None);
    let none = g.open(&stranger, None, &[], &Restrictions::default(), now(), false);
    let someone = open(&g, &stranger, &[], false, false);
    for o in [none, someone] {
        assert!(matches!(
            o,
            Opened::NoAccess {
                may_claim: true,
                may_break_glass: true
            }
        ));
    }
}

#[test]
fn admin_and_analyst_open_nothing_even_at_the_registered_practice() {
    let g = gate(false);
    for role in ["admin", "analyst", "privacy-officer"] {
        assert!(matches!(
            open(&g, &profile(role, "G1", None), &[], false, false),
            Opened::NoAccess { .. }
        ));
    }
}

#[test]
fn sensitive_entries_and_restricted_whereabouts_are_withheld_unless_allowed() {
    let g = gate(false);
    let gp = profile("gp-clinician", "G1", None);
    let v = visible(open(&g, &gp, &[], false, false));
    assert_eq!(ids(&v), [1, 2, 4, 5]);
    assert_eq!(v.withheld.sensitive, 1);
    assert!(v.withheld.may_ask && v.withheld.restricted);
    let text = format!(
        "{:?} {:?} {}",
        v.record.demographics.address,
        v.record.sources[0].demographics.address,
        serde_json::to_string(&v.record.entries).unwrap()
    );
    for canary in [
        "Secret Lane",
        "ZZ1 1ZZ",
        "Ward 7",
        "WARD 7",
        "Main site",
        "07700",
    ] {
        assert!(!text.contains(canary), "{canary} leaked: {text}");
    }
    assert_eq!(
        v.record.entries[0].entry.title,
        "Admission: (place withheld)"
    );
    let asked = visible(open(&g, &gp, &[], false, true));
    assert_eq!(ids(&asked), [1, 2, 3, 4, 5]);
}

#[test]
fn a_social_worker_sees_the_safeguarding_alert_but_not_the_clinic_letter() {
    let g = gate(false);
    let grant = Grant {
        id: 1,
        kind: "self-claim".into(),
        reason_code: "safeguarding".into(),
        reason: "enquiry".into(),
        expires_at: "2026-04-09T12:00:00Z".into(),
    };
    let sw = profile("social-worker-adults", "LA1", Some("North"));
    let v = visible(open(&g, &sw, std::slice::from_ref(&grant), false, true));
    assert_eq!(ids(&v), [1, 4], "contact and safeguarding only");
    assert!(!v.withheld.may_ask);
    let expired = Grant {
        expires_at: "2026-04-01T12:00:00Z".into(),
        ..grant
    };
    assert!(matches!(
        open(&g, &sw, &[expired], false, false),
        Opened::NoAccess { .. }
    ));
}

#[test]
fn an_objection_leaves_each_organisation_its_own_data_and_break_glass_follows_the_setting() {
    let trust = profile("acute-clinician", "RW1", None);
    let v = visible(open(&gate(false), &trust, &[], true, false));
    assert_eq!(ids(&v), [1, 5]);
    assert_eq!(v.withheld.by_objection, 3);
    assert!(v.record.sources.is_empty());
    assert_eq!(v.record.demographics.family.as_deref(), Some("Canary"));
    assert!(v.record.demographics.gp_practice.is_none());

    let glass = Grant {
        id: 2,
        kind: "break-glass".into(),
        reason_code: "emergency-care".into(),
        reason: "unconscious in resus".into(),
        expires_at: "2026-04-02T16:00:00Z".into(),
    };
    let stranger = profile("acute-clinician", "RX9", None);
    let kept = visible(open(
        &gate(false),
        &stranger,
        std::slice::from_ref(&glass),
        true,
        false,
    ));
    assert!(ids(&kept).is_empty());
    assert!(kept.by_break_glass());
    let overridden = visible(open(&gate(true), &stranger, &[glass], true, false));
    assert_eq!(ids(&overridden), [1, 2, 4, 5]);
}

#[test]
fn a_search_by_a_restricted_persons_postcode_lists_them_only_for_a_role_that_may_see_it() {
    let g = gate(false);
    let gp = profile("gp-clinician", "G1", None);
    assert_eq!(g.hit(&gp, true, false), Some(HitLevel::Full));
    assert_eq!(g.hit(&gp, true, true), None);
    assert_eq!(g.hit(&gp, false, true), None);
    let mut site = g;
    site.policy = Policy::parse(
        "[roles.gp-clinician]\nlabel='GP'\nactivities=['search','view-record','view-restricted']\ncategories=['all']\n",
        "site",
    )
    .unwrap();
    assert_eq!(site.hit(&gp, true, true), Some(HitLevel::Full));
    assert_eq!(site.hit(&gp, false, true), Some(HitLevel::Identity));
}

#[test]
fn a_restricted_persons_ward_is_withheld_from_contact_titles_and_discharge_destinations() {
    let g = gate(false);
    let mut r = record(
        "G1",
        vec![contact(
            1,
            "RW1",
            ContactKind::Admission,
            "2026-03-01T10:00",
            Some("2026-03-05T10:00"),
        )],
    );
    r.demographics.restricted = true;
    let gp = profile("gp-clinician", "G1", None);
    let v = visible(g.open(&gp, Some(r), &[], &Restrictions::default(), now(), false));
    let text = serde_json::to_string(&v.record.entries).unwrap();
    for canary in ["WARD 7", "Ward 7", "Main site", "Rowan Unit"] {
        assert!(!text.contains(canary), "{canary} leaked: {text}");
    }
}

/// Issue 11: a risk-to-staff alert is for everyone who may open the record (staff safety);
/// safeguarding stays with the roles that see safeguarding.
#[test]
fn a_care_provider_sees_the_risk_to_staff_alert_but_not_the_safeguarding_alert() {
    use crate::model::entry::{Alert, AlertKind};
    let g = gate(false);
    let mut r = sample();
    r.entries.push(entry(
        6,
        "G1",
        EntryBody::Alert(Alert {
            kind: AlertKind::RiskToStaff,
            description: None,
            recorded_by: None,
            contact: None,
        }),
    ));
    let grant = Grant {
        id: 1,
        kind: "self-claim".into(),
        reason_code: "direct-care".into(),
        reason: "home care visit".into(),
        expires_at: "2026-04-09T12:00:00Z".into(),
    };
    let carer = profile("care-provider-staff", "CARE1", None);
    let v = visible(g.open(
        &carer,
        Some(r),
        std::slice::from_ref(&grant),
        &Restrictions { objection: false },
        now(),
        false,
    ));
    assert!(ids(&v).contains(&6), "the risk to staff: {:?}", ids(&v));
    assert!(!ids(&v).contains(&4), "not the safeguarding alert");
}
