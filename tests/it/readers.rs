//! Reading never waits for the writer: while another connection holds the records database's
//! write lock (as an import's transaction does), record pages, searches and FHIR reads from
//! several clients at once are answered, audited, without waiting for the lock to be let go.

use super::server::*;
use super::support::*;
use std::time::{Duration, Instant};

const MARGARET: &str = "9994837567";

/// Far below the 10 s a connection waits for a busy database before it gives up: a request
/// that waited for the lock would take the whole hold and then fail.
const PROMPT: Duration = Duration::from_secs(3);

fn margaret(s: &Server) -> i64 {
    s.env
        .sql()
        .query_row(
            "SELECT id FROM person WHERE nhs_number = ?1 AND merged_into IS NULL",
            [MARGARET],
            |r| r.get(0),
        )
        .unwrap()
}

fn token(s: &Server, user: &str) -> String {
    let out = cli(&s.env, &["token", "create", "--user", user]);
    out.lines().last().unwrap().trim().to_owned()
}

fn views_of(s: &Server, person: i64) -> i64 {
    s.env
        .sql()
        .query_row(
            "SELECT count(*) FROM audit_event WHERE person_id = ?1
               AND action IN ('view-record', 'fhir-read')",
            [person],
            |r| r.get(0),
        )
        .unwrap()
}

/// Takes the records database's write lock, with a change in it, and holds it until dropped.
struct WriteLock(rusqlite::Connection);

impl WriteLock {
    fn take(env: &Env) -> Self {
        let conn = rusqlite::Connection::open(env.db()).unwrap();
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             UPDATE organisation SET name = name || ' (pending)';",
        )
        .unwrap();
        Self(conn)
    }
}

#[test]
fn regression_fhir_reads_do_not_wait_for_the_write_lock() {
    // Every FHIR request began a write transaction to record the token's last use, even when
    // that use was already recorded this minute: during an import each one waited for the
    // import's transaction.
    let s = Server::start();
    let t = token(&s, "clin");
    let id = margaret(&s);
    let path = format!("/fhir/Patient/person-{id}/$everything");
    // The first use is recorded (a write, before any lock is held).
    let first = s.client().get(s.url(&path)).bearer_auth(&t).send().unwrap();
    assert_eq!(first.status(), 200);
    let lock = WriteLock::take(&s.env);
    for _ in 0..3 {
        let started = Instant::now();
        let r = s.client().get(s.url(&path)).bearer_auth(&t).send().unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            started.elapsed() < PROMPT,
            "a FHIR read waited {:?} for the write lock",
            started.elapsed()
        );
    }
    drop(lock);
    assert_eq!(views_of(&s, id), 4, "each read audited");
}

#[test]
fn concurrent_readers_proceed_while_a_write_transaction_is_open() {
    let s = Server::start();
    let id = margaret(&s);
    let t = token(&s, "clin");
    // Sign-ins and the token's first use are writes: done before the lock is taken.
    let readers: Vec<_> = (0..6).map(|_| s.login("clin")).collect();
    let first = s
        .client()
        .get(s.url(&format!("/fhir/Patient/person-{id}")))
        .bearer_auth(&t)
        .send()
        .unwrap();
    assert_eq!(first.status(), 200);
    let before = views_of(&s, id);
    let lock = WriteLock::take(&s.env);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = readers
            .iter()
            .enumerate()
            .map(|(n, c)| {
                let (s, t) = (&s, &t);
                scope.spawn(move || {
                    for round in 0..3 {
                        let r = match (n + round) % 3 {
                            0 => c.get(s.url(&format!("/person/{id}"))).send().unwrap(),
                            1 => c
                                .get(s.url("/search"))
                                .query(&[("q", MARGARET)])
                                .send()
                                .unwrap(),
                            _ => c
                                .get(s.url(&format!("/fhir/Patient/person-{id}/$everything")))
                                .bearer_auth(t)
                                .send()
                                .unwrap(),
                        };
                        let status = r.status().as_u16();
                        let body = r.text().unwrap();
                        assert_eq!(status, 200, "reader {n} round {round}");
                        // The record, or the hit listed, read under the lock.
                        assert!(
                            body.contains(&format!("href=\"/person/{id}\""))
                                || body.contains("Thompson"),
                            "reader {n} round {round}"
                        );
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let took = started.elapsed();
    // Nothing the open transaction changed was seen, and it is still open.
    assert!(!lock.0.is_autocommit());
    drop(lock);
    assert!(
        took < PROMPT,
        "18 reads under an open write transaction took {took:?}"
    );
    // 6 readers x 3 rounds: 12 record or $everything reads of Margaret, each audited; the
    // searches audit their hit too (as a search hit, not a view).
    assert_eq!(views_of(&s, id) - before, 12);
    let pending: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT count(*) FROM organisation WHERE name LIKE '% (pending)'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        pending, 0,
        "the held change was rolled back, never committed"
    );
}
