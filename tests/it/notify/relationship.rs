//! A notification opens a record only where the access settings say so
//! (`[access] notification_relationship_hours`, 0 by default).

use super::super::server::{add_user_at, person_with_nhs};
use super::rules::{flag, orchard_bundle};
use super::*;
use chrono::{Duration, Utc};
use sharedcare::access::{Gate, Opened};
use sharedcare::config::AccessConfig;
use sharedcare::store::Store;

/// A new safeguarding flag from Orchard's GP system: the care-network rule tells the hospital
/// trust, whose 2024 admission of Margaret gives it no relationship today.
fn alert_told_to_the_trust(env: &Env) {
    let alert = flag(
        "os-fl-rel",
        "safeguarding",
        "Adult at risk: financial abuse suspected",
    );
    feed(env, "ORCHARD-GP", "alert.json", &orchard_bundle(&[alert]));
}

fn opens(env: &Env, hours: i64, now: chrono::DateTime<Utc>) -> bool {
    let store = Store::open(&env.db()).unwrap();
    let user = store.user_by_name("trust-doctor").unwrap().unwrap();
    let who = store.profiles_of(&user).unwrap().remove(0);
    let config = AccessConfig {
        notification_relationship_hours: hours,
        ..AccessConfig::default()
    };
    let margaret = person_with_nhs(env, MARGARET.nhs);
    match Gate::new(&config)
        .unwrap()
        .open_person(&store, &who, margaret, now, false)
        .unwrap()
    {
        Opened::Record(record) => {
            assert!(
                record
                    .relationships
                    .iter()
                    .any(|r| r.basis.label() == "notified of an event"),
                "opened for another reason: {:?}",
                record.relationships
            );
            true
        }
        Opened::NoAccess { .. } => false,
    }
}

#[test]
fn a_notification_opens_the_record_only_where_the_access_settings_make_it_a_reason() {
    let env = region();
    add_user_at(&env, "trust-doctor", "acute-clinician", "R9W");
    let now = Utc::now();
    assert!(!opens(&env, 24, now), "no notification yet, yet it opened");
    alert_told_to_the_trust(&env);
    let told: Vec<String> = notifications(&env).into_iter().map(|n| n.2).collect();
    assert!(told.contains(&"org:R9W".to_owned()), "{told:?}");
    assert!(
        !opens(&env, 0, now),
        "by default a notification is no reason"
    );
    assert!(opens(&env, 24, now), "the setting makes it one");
    assert!(
        !opens(&env, 24, now + Duration::hours(25)),
        "the reason lapses after the configured hours"
    );
}
