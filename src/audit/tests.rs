//! The chain through the real store: what a writer refuses, what verify reports, and sealing
//! the events of a database from before the chain.

use super::head::{self, Head};
use super::key::AuditKey;
use super::{verify, Action, Chain, Problem};
use crate::error::Error;
use crate::store::{AuditEvent, Store};
use std::path::Path;

const NOW: &str = "2025-03-01T10:00:00Z";

fn keyed(dir: &Path) -> Store {
    let key = AuditKey::from_bytes(&[7; 32]).unwrap();
    Store::open(&dir.join("sharedcare.db"))
        .unwrap()
        .with_audit(Chain::with_key(dir, key))
        .unwrap()
}

fn write(store: &mut Store, n: usize) {
    let tx = store.begin().unwrap();
    for i in 0..n {
        let detail = format!("event {i}");
        tx.audit(
            &AuditEvent {
                actor: Some("it"),
                detail: Some(&detail),
                ..AuditEvent::new(Action::Login)
            },
            NOW,
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// Runs `statement` on the audit file, as someone with write access to it could.
fn sql(store: &Store, statement: &str) {
    let path = crate::store::audit_file::audit_path(store.path());
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(statement)
        .unwrap();
}

#[test]
fn a_store_without_the_key_writes_no_audit_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("sharedcare.db")).unwrap();
    let tx = store.begin().unwrap();
    let e = tx.audit(&AuditEvent::new(Action::Login), NOW).unwrap_err();
    assert!(matches!(e, Error::Audit(_)), "{e}");
    drop(tx);
    assert_eq!(store.audit_extent().unwrap(), (0, 0));
}

#[test]
fn events_chain_from_seq_1_and_the_head_follows_the_commits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = keyed(dir.path());
    write(&mut store, 3);
    let key = AuditKey::from_bytes(&[7; 32]).unwrap();
    assert_eq!(head::read(dir.path(), &key).unwrap().unwrap().seq, 3);
    // Within the half second the file is not rewritten, but the process knows seq 5 was
    // committed, and writes it when it lets go of the chain.
    write(&mut store, 2);
    let report = verify(&store, &mut |_| {}).unwrap();
    assert_eq!(report.summary(), "audit chain ok: 5 events, last seq 5");
    sql(&store, "DELETE FROM audit_event WHERE seq = 5");
    let tx = store.begin().unwrap();
    let e = tx
        .audit(&AuditEvent::new(Action::ViewRecord), NOW)
        .unwrap_err();
    assert!(e.to_string().contains("head says seq 5"), "{e}");
    drop(tx);
    drop(store);
    assert_eq!(head::read(dir.path(), &key).unwrap().unwrap().seq, 5);
}

#[test]
fn a_cut_log_refuses_further_writes_until_reanchored() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = keyed(dir.path());
    write(&mut store, 5);
    sql(&store, "DELETE FROM audit_event WHERE seq > 3");
    let report = verify(&store, &mut |_| {}).unwrap();
    let b = report.broken.unwrap();
    assert_eq!(
        (b.seq, b.problem),
        (4, Problem::Truncated { ends: 3, head: 5 })
    );
    let tx = store.begin().unwrap();
    let e = tx
        .audit(&AuditEvent::new(Action::ViewRecord), NOW)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ends at seq 3 but the audit head says seq 5"),
        "{e}"
    );
    drop(tx);
    let seq = super::reanchor(
        &mut store,
        &super::Actor::system("test"),
        Action::AuditReanchor,
        Some("looked"),
        "ok",
        NOW,
    )
    .unwrap();
    assert_eq!(seq, 4);
    write(&mut store, 1);
    assert!(verify(&store, &mut |_| {}).unwrap().broken.is_none());
}

#[test]
fn a_missing_or_forged_head_is_reported_and_stops_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = keyed(dir.path());
    write(&mut store, 2);
    std::fs::remove_file(dir.path().join(head::HEAD_FILE)).unwrap();
    let b = verify(&store, &mut |_| {}).unwrap().broken.unwrap();
    assert_eq!((b.seq, b.problem), (3, Problem::HeadMissing));
    let other = AuditKey::from_bytes(&[8; 32]).unwrap();
    head::write(
        dir.path(),
        &other,
        &Head {
            seq: 2,
            hash: [0; 32],
        },
    )
    .unwrap();
    let b = verify(&store, &mut |_| {}).unwrap().broken.unwrap();
    assert!(matches!(b.problem, Problem::HeadInvalid { .. }), "{b:?}");
    // A process that opens the chain now (the one that wrote the events would simply write
    // its head again at its next commit) refuses to write after an unreadable head.
    let key = AuditKey::from_bytes(&[7; 32]).unwrap();
    let mut store = store.with_audit(Chain::with_key(dir.path(), key)).unwrap();
    let tx = store.begin().unwrap();
    assert!(tx.audit(&AuditEvent::new(Action::ViewRecord), NOW).is_err());
}

#[test]
fn events_from_before_the_chain_are_sealed_once_and_never_again() {
    let dir = tempfile::tempdir().unwrap();
    let key = || AuditKey::from_bytes(&[7; 32]).unwrap();
    // A database from before the chain (and before the audit file): its events are moved
    // into the audit file when it is opened, then sealed.
    crate::store::create_at_version(&dir.path().join("sharedcare.db"), 7)
        .execute_batch(
            "INSERT INTO audit_event (at, actor, action, outcome) VALUES
                 ('2024-01-01T00:00:00Z', 'a', 'login', 'ok'),
                 ('2024-01-01T00:00:01Z', 'b', 'login', 'failed')",
        )
        .unwrap();
    let legacy = Store::open(&dir.path().join("sharedcare.db")).unwrap();
    head::write(
        dir.path(),
        &key(),
        &Head {
            seq: 0,
            hash: [0; 32],
        },
    )
    .unwrap();
    let mut store = legacy
        .with_audit(Chain::with_key(dir.path(), key()))
        .unwrap();
    assert!(verify(&store, &mut |_| {}).unwrap().broken.is_none());
    assert_eq!(head::read(dir.path(), &key()).unwrap().unwrap().seq, 2);
    write(&mut store, 1);
    // Someone wipes every hash to have history resealed after editing it: the head is past
    // genesis, so nothing is sealed and verify names the first unhashed event.
    sql(&store, "UPDATE audit_event SET hash = NULL, actor = 'x'");
    let store = store
        .with_audit(Chain::with_key(dir.path(), key()))
        .unwrap();
    let b = verify(&store, &mut |_| {}).unwrap().broken.unwrap();
    assert_eq!((b.seq, b.problem), (1, Problem::HashMissing));
}

#[test]
fn a_process_that_only_read_the_head_never_writes_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = || AuditKey::from_bytes(&[7; 32]).unwrap();
    let mut writer = keyed(dir.path());
    write(&mut writer, 3);
    let reader = Chain::with_key(dir.path(), key());
    write(&mut writer, 2);
    drop(writer);
    drop(reader);
    assert_eq!(head::read(dir.path(), &key()).unwrap().unwrap().seq, 5);
}

#[test]
fn regression_a_change_is_not_refused_because_reads_moved_the_head_during_its_transaction() {
    // Changes' events go through the outbox while page views' go straight to the writer; a
    // change's transaction used to check the log's end through its own (older) snapshot of the
    // audit file, and refused as "events were removed" when views had committed since.
    let dir = tempfile::tempdir().unwrap();
    let key = || AuditKey::from_bytes(&[7; 32]).unwrap();
    let chain = Chain::with_key(dir.path(), key());
    let path = dir.path().join("sharedcare.db");
    drop(Store::open(&path).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (chain, path) = (std::sync::Arc::clone(&chain), path.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap().with_audit(chain).unwrap();
                let actor = super::Actor::system("test");
                for i in 0..60 {
                    if (i + t) % 3 == 0 {
                        let tx = store.begin().unwrap();
                        tx.audit(&AuditEvent::new(Action::Login), NOW).unwrap();
                        // Views commit while this change's transaction is open.
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        tx.audit(&AuditEvent::new(Action::Logout), NOW).unwrap();
                        tx.commit().unwrap();
                    } else {
                        store
                            .audit_seen(&actor, Action::ViewRecord, &[1, 2], None, None, NOW)
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = Store::open(&path).unwrap().with_audit(chain).unwrap();
    let report = verify(&store, &mut |_| {}).unwrap();
    assert!(report.broken.is_none(), "{}", report.summary());
    // 4 threads: 20 changes of 2 events and 40 views of 2 events each.
    assert_eq!(report.events, 4 * (20 * 2 + 40 * 2));
}
