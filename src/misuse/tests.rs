//! The watch over a real store and audit file, with events at times the tests choose.

use super::{identity, watch, watch_yielding, Rules};
use crate::audit::key::AuditKey;
use crate::audit::{Action, Actor, Chain};
use crate::store::{AuditEvent, Store};
use chrono::{DateTime, Utc};
use std::path::Path;

fn store(dir: &Path) -> Store {
    let key = AuditKey::from_bytes(&[9; 32]).unwrap();
    Store::open(&dir.join("sharedcare.db"))
        .unwrap()
        .with_audit(Chain::with_key(dir, key))
        .unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A person with a 999-range NHS number made from `n`, a family name and a postcode.
fn person(store: &Store, n: i64, family: &str, postcode: &str) -> i64 {
    let nhs = nhs(n);
    store
        .conn()
        .execute(
            "INSERT INTO person (id, created_at, nhs_number, family, given, postcode)
             VALUES (?1, '2025-01-01T00:00:00Z', ?2, ?3, 'Pat', ?4)",
            rusqlite::params![n, nhs, family, postcode],
        )
        .unwrap();
    n
}

/// A valid NHS number in the 999 test range.
fn nhs(seed: i64) -> String {
    (0..)
        .map(|k| format!("999{:06}", (seed * 7 + k) % 1_000_000))
        .find_map(|nine| {
            let sum: u32 = nine
                .chars()
                .zip((2..=10).rev())
                .map(|(c, w)| c.to_digit(10).unwrap() * w)
                .sum();
            let check = 11 - sum % 11;
            match check {
                11 => Some(format!("{nine}0")),
                10 => None,
                c => Some(format!("{nine}{c}")),
            }
        })
        .unwrap()
}

fn user(store: &mut Store, name: &str, role: &str) -> Actor {
    let tx = store.begin().unwrap();
    let id = tx
        .add_user(name, role, "X99001", None, "x", "2025-01-01T00:00:00Z")
        .unwrap();
    tx.commit().unwrap();
    Actor {
        user_id: Some(id),
        name: name.into(),
        role: Some(role.into()),
        profile: Some(format!("{role}@X99001")),
        org: Some("X99001".into()),
        ip: None,
    }
}

fn seen(store: &mut Store, who: &Actor, action: Action, people: &[i64], at: &str) {
    store
        .audit_seen(
            who,
            action,
            people,
            None,
            None,
            &t(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .unwrap();
}

fn claim(store: &mut Store, who: &Actor, person: i64, at: &str) {
    let tx = store.begin().unwrap();
    tx.audit(
        &AuditEvent {
            person_id: Some(person),
            ..who.event(Action::SelfClaim)
        },
        at,
    )
    .unwrap();
    tx.commit().unwrap();
}

/// Rules as shipped, with `site` laid over them.
fn rules(site: &str) -> Rules {
    Rules::from_texts(Some(("test".into(), site))).unwrap()
}

/// (rule, user, evidence count) of every misuse alert, in order.
fn alerts(store: &Store) -> Vec<(String, i64, i64)> {
    store
        .conn()
        .prepare(
            "SELECT m.rule, a.user_id, (SELECT count(*) FROM misuse_evidence e WHERE e.alert_id = a.id)
             FROM privacy_alert a JOIN misuse_alert m ON m.alert_id = a.id ORDER BY a.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

const NOW: &str = "2025-03-10T18:00:00Z";

#[test]
fn a_clinicians_normal_day_raises_no_misuse_alert_under_the_shipped_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let patients: Vec<i64> = (1..=30)
        .map(|n| person(&s, n, "Patient", "WX1 1AA"))
        .collect();
    let gp = user(&mut s, "gp", "gp-clinician");
    // A colleague who lives at the same postcode as some patients and is linked to no record.
    let nurse = user(&mut s, "nurse", "clinician");
    identity::link_user(
        &mut s,
        &Actor::operator(),
        "nurse",
        Some(&nhs(900)),
        Some("Other"),
        Some("WX1 1AA"),
        t(NOW),
    )
    .unwrap();
    // Five working days, 09:00 to 17:00, a handful of patients an hour: searched, opened,
    // timeline and results read.
    for day in 3..=7 {
        for hour in 9..17 {
            for k in 0..5 {
                let p = patients[((day * 8 + hour) * 5 + k) as usize % patients.len()];
                let at = |m: i64| format!("2025-03-{day:02}T{hour:02}:{:02}:00Z", k * 10 + m);
                for who in [&gp, &nurse] {
                    seen(&mut s, who, Action::SearchHit, &[p], &at(0));
                    seen(&mut s, who, Action::ViewRecord, &[p], &at(1));
                    seen(&mut s, who, Action::ViewTimeline, &[p], &at(2));
                    seen(&mut s, who, Action::ViewResults, &[p], &at(3));
                }
            }
        }
    }
    let report = watch(&mut s, &Rules::from_texts(None).unwrap(), t(NOW)).unwrap();
    assert!(report.events > 1600, "{report:?}");
    assert_eq!(alerts(&s), vec![], "{report:?}");
}

/// A clinician whose own NHS number is known to the watch, and their own record.
fn user_with_own_record(s: &mut Store) -> (i64, Actor) {
    let me = person(s, 1, "Ward", "WX2 2BB");
    let u = user(s, "ward", "clinician");
    identity::link_user(
        s,
        &Actor::operator(),
        "ward",
        Some(&nhs(1)),
        None,
        None,
        t(NOW),
    )
    .unwrap();
    (me, u)
}

#[test]
fn each_event_is_evaluated_once_and_a_later_view_joins_the_standing_alert() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (me, u) = user_with_own_record(&mut s);
    let quiet = rules("[unusual-hours]\nenabled = false\n");
    seen(
        &mut s,
        &u,
        Action::ViewRecord,
        &[me],
        "2025-03-10T10:00:00Z",
    );
    let first = watch(&mut s, &quiet, t(NOW)).unwrap();
    assert_eq!(first.raised.len(), 1, "{first:?}");
    // Run again: nothing new, nothing raised twice.
    let again = watch(&mut s, &quiet, t(NOW)).unwrap();
    assert_eq!(again.raised.len(), 0, "{again:?}");
    // A second look the same day joins the standing alert's evidence.
    seen(
        &mut s,
        &u,
        Action::ViewTimeline,
        &[me],
        "2025-03-10T11:00:00Z",
    );
    let later = watch(&mut s, &quiet, t(NOW)).unwrap();
    assert_eq!((later.raised.len(), later.joined), (0, 1), "{later:?}");
    let uid = u.user_id.unwrap();
    assert_eq!(alerts(&s), vec![("own-record".into(), uid, 2)]);
    // The rule turned off raises nothing for the next day's look.
    seen(
        &mut s,
        &u,
        Action::ViewRecord,
        &[me],
        "2025-03-11T10:00:00Z",
    );
    let off = rules("[unusual-hours]\nenabled = false\n[own-record]\nenabled = false\n");
    assert_eq!(watch(&mut s, &off, t(NOW)).unwrap().raised.len(), 0);
    assert_eq!(alerts(&s).len(), 1);
}

#[test]
fn many_records_is_measured_against_the_users_own_baseline_or_their_roles() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let people: Vec<i64> = (1..=60).map(|n| person(&s, n, "P", "WX3 3CC")).collect();
    let busy = user(&mut s, "busy", "clinician");
    let new = user(&mut s, "new", "clinician");
    // Ten past hours of twelve people each for `busy`: a baseline of 12 an hour.
    for h in 0..10 {
        for p in &people[..12] {
            seen(
                &mut s,
                &busy,
                Action::ViewRecord,
                &[*p],
                &format!("2025-03-0{}T{:02}:10:00Z", 1 + h / 5, 9 + h % 5),
            );
        }
    }
    // (Evaluated before the rule was turned on.)
    let off = rules("[unusual-hours]\nenabled = false\n[many-records]\nenabled = false\n");
    assert_eq!(
        watch(&mut s, &off, t(NOW)).unwrap().raised,
        Vec::<String>::new()
    );
    let tuned =
        rules("[unusual-hours]\nenabled = false\n[many-records]\nfloor = 5\nfactor = 2.0\n");
    // 20 people in an hour is within twice their own 12.
    for p in &people[..20] {
        seen(
            &mut s,
            &busy,
            Action::ViewRecord,
            &[*p],
            "2025-03-10T10:20:00Z",
        );
    }
    assert_eq!(watch(&mut s, &tuned, t(NOW)).unwrap().raised.len(), 0);
    // 30 in the next hour is not: one alert, with every view of that hour as evidence.
    for p in &people[..30] {
        seen(
            &mut s,
            &busy,
            Action::ViewRecord,
            &[*p],
            "2025-03-10T11:20:00Z",
        );
    }
    // A new user has no hours of their own: their role's baseline applies (busy's eleven
    // earlier hours, about 13 an hour, so more than 26 is many).
    for p in &people[..30] {
        seen(
            &mut s,
            &new,
            Action::ViewRecord,
            &[*p],
            "2025-03-10T11:30:00Z",
        );
    }
    let r = watch(&mut s, &tuned, t(NOW)).unwrap();
    assert_eq!(r.raised.len(), 2, "{r:?}");
    let (b, n) = (busy.user_id.unwrap(), new.user_id.unwrap());
    assert_eq!(
        alerts(&s),
        vec![
            ("many-records".into(), b, 30),
            ("many-records".into(), n, 30)
        ]
    );
}

#[test]
fn a_night_that_spans_midnight_is_one_alert_and_a_claim_after_search_is_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let a = person(&s, 1, "A", "WX4 4DD");
    let b = person(&s, 2, "B", "WX4 4DD");
    let u = user(&mut s, "nights", "clinician");
    seen(&mut s, &u, Action::ViewRecord, &[a], "2025-03-10T23:30:00Z");
    seen(&mut s, &u, Action::ViewRecord, &[a], "2025-03-11T01:00:00Z");
    // Daytime: found by search, claimed, opened.
    seen(
        &mut s,
        &u,
        Action::SearchHit,
        &[a, b],
        "2025-03-11T10:00:00Z",
    );
    claim(&mut s, &u, b, "2025-03-11T10:05:00Z");
    seen(&mut s, &u, Action::ViewRecord, &[b], "2025-03-11T10:06:00Z");
    // A claim long after the search is not "reached by search".
    claim(&mut s, &u, a, "2025-03-11T15:00:00Z");
    seen(&mut s, &u, Action::ViewRecord, &[a], "2025-03-11T15:01:00Z");
    let r = watch(&mut s, &Rules::from_texts(None).unwrap(), t(NOW)).unwrap();
    let uid = u.user_id.unwrap();
    assert_eq!(
        alerts(&s),
        vec![
            ("unusual-hours".into(), uid, 2),
            ("search-without-relationship".into(), uid, 3),
        ],
        "{r:?}"
    );
}

#[test]
fn regression_the_watch_read_a_busy_users_whole_trail_for_every_look() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    for sql in [crate::store::LAST_CLAIM, crate::store::SEARCH_HITS] {
        let mut explain = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let values = vec![1_i64; explain.parameter_count()];
        let plan: Vec<String> = explain
            .query_map(rusqlite::params_from_iter(values), |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let plan = plan.join("; ");
        assert!(
            plan.contains("INDEX audit_event_person") && !plan.contains("audit_event_user"),
            "{sql}\n{plan}"
        );
    }
}

#[test]
fn regression_the_misuse_watch_held_the_write_lock_through_a_batch_while_others_waited() {
    // Behind by 222,000 events at the 1.8 M region, the watch held the write lock through
    // each batch of 2,000, and sign-ins waiting for it gave up with 500. It now records what
    // it has evaluated at most every half second (here: after every event), each time in a
    // short transaction of its own.
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (me, u) = user_with_own_record(&mut s);
    let quiet = rules("[unusual-hours]\nenabled = false\n");
    for hour in 10..15 {
        let at = format!("2025-03-10T{hour}:00:00Z");
        seen(&mut s, &u, Action::ViewRecord, &[me], &at);
    }
    let report = watch_yielding(&mut s, &quiet, t(NOW), &|_| true).unwrap();
    // The five views and the operator's linking of the user's identity.
    assert!(report.events > 5, "{report:?}");
    assert_eq!(
        report.transactions, report.events,
        "the lock was not let go between events"
    );
    // Exactly once still: one alert, the later views its evidence, and nothing left to read.
    assert_eq!((report.raised.len(), report.joined), (1, 4), "{report:?}");
    let again = watch(&mut s, &quiet, t(NOW)).unwrap();
    assert_eq!((again.events, again.raised.len()), (0, 0), "{again:?}");
    // With no one waiting, one transaction for the batch, as before.
    seen(
        &mut s,
        &u,
        Action::ViewRecord,
        &[me],
        "2025-03-10T16:00:00Z",
    );
    seen(
        &mut s,
        &u,
        Action::ViewRecord,
        &[me],
        "2025-03-10T17:00:00Z",
    );
    let alone = watch_yielding(&mut s, &quiet, t(NOW), &|_| false).unwrap();
    assert_eq!((alone.events, alone.transactions), (2, 1), "{alone:?}");
}

#[test]
fn regression_the_misuse_watch_evaluated_inside_its_write_transaction_and_held_the_lock_for_seconds(
) {
    // At the 1.8 M region one view's look-backs took 6–16 s to evaluate, inside the watch's
    // write transaction: sign-ins and inbox scans, in this process or another, gave up after
    // waiting 10 s. The watch now evaluates holding no lock: another connection (as another
    // process would) takes the write lock at once while it evaluates.
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (me, u) = user_with_own_record(&mut s);
    let quiet = rules("[unusual-hours]\nenabled = false\n");
    for hour in 10..14 {
        let at = format!("2025-03-10T{hour}:00:00Z");
        seen(&mut s, &u, Action::ViewRecord, &[me], &at);
    }
    let other = rusqlite::Connection::open(dir.path().join("sharedcare.db")).unwrap();
    other.busy_timeout(std::time::Duration::ZERO).unwrap();
    let (tried, got_in) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let probe = |_| {
        tried.set(tried.get() + 1);
        if other.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").is_ok() {
            got_in.set(got_in.get() + 1);
        }
        false
    };
    let report = watch_yielding(&mut s, &quiet, t(NOW), &probe).unwrap();
    assert!(tried.get() >= 4, "probed between events: {}", tried.get());
    assert_eq!(
        got_in.get(),
        tried.get(),
        "the write lock was held while evaluating"
    );
    // Still exactly once: one alert for the own-record views, none again on the next run
    // (which reads only the alert's own audit event, if anything).
    assert_eq!((report.raised.len(), report.joined), (1, 3), "{report:?}");
    let again = watch(&mut s, &quiet, t(NOW)).unwrap();
    assert!(again.events <= 1, "{again:?}");
    assert_eq!((again.raised.len(), again.joined), (0, 0), "{again:?}");
}
