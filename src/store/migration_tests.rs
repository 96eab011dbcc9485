//! The migrations that rebuild a table: data, history and references survive, and foreign
//! keys are enforced again afterwards. The migration that builds the person search index fills
//! it from the people already there.

use super::*;

/// A database at `version`, as an older sharedcare left it.
fn database_at(version: usize) -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    audit_file::attach(&conn, Path::new(":memory:"), true).unwrap();
    for (index, sql) in MIGRATIONS[..version].iter().enumerate() {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .unwrap();
        tx.commit().unwrap();
    }
    conn
}

/// One organisation, its source and one of that source's people: what an entry needs.
const ONE_SOURCE_PERSON: &str = "
    INSERT INTO organisation (id, ods_code, name) VALUES (1, 'R1K', 'A trust');
    INSERT INTO source (id, code, name, organisation_id, kind, format, created_at)
        VALUES (1, 'PAS', 'PAS', 1, 'acute', 'hl7v2', '2024-01-01T00:00:00Z');
    INSERT INTO source_person (id, source_id, local_id, updated_at)
        VALUES (1, 1, 'M1', '2024-01-01T00:00:00Z');";

#[test]
fn the_alert_category_migration_keeps_every_entry_its_history_and_foreign_keys() {
    let mut conn = database_at(10);
    conn.execute_batch(ONE_SOURCE_PERSON).unwrap();
    conn.execute_batch(
        "INSERT INTO entry (id, source_id, source_ref, source_person_id, category, title, body,
                            content_hash, version, received_at)
             VALUES (41, 1, 'r1', 1, 'safeguarding', 'Child protection plan', '{}', x'00', 2,
                     '2024-01-01T00:00:00Z');
         INSERT INTO entry_history (entry_id, version, source_person_id, draft, content_hash,
                                    received_at, disposition)
             VALUES (41, 1, 1, '{}', x'00', '2024-01-01T00:00:00Z', 'superseded');",
    )
    .unwrap();
    migrate(&mut conn, Path::new("test.db")).unwrap();
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(one("PRAGMA user_version"), SCHEMA_VERSION);
    assert_eq!(one("SELECT version FROM entry WHERE id = 41"), 2);
    assert_eq!(
        one("SELECT count(*) FROM entry_history WHERE entry_id = 41"),
        1
    );
    assert_eq!(one("PRAGMA foreign_keys"), 1, "switched back on");
    assert_eq!(one("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    conn.execute(
        "INSERT INTO entry (source_id, source_ref, source_person_id, category, title, body,
                            content_hash, version, received_at)
         VALUES (1, 'r2', 1, 'alert', 'Large dog at home', '{}', x'00', 1, '2024-01-02')",
        [],
    )
    .expect("the new category is allowed");
    let dangling = conn.execute(
        "INSERT INTO entry_history (entry_id, version, source_person_id, draft, content_hash,
                                    received_at, disposition)
         VALUES (999, 1, 1, '{}', x'00', '2024-01-01T00:00:00Z', 'superseded')",
        [],
    );
    assert!(dangling.is_err(), "history still refers to entries");
}

#[test]
fn the_person_search_index_migration_indexes_every_existing_person() {
    let mut conn = database_at(11);
    conn.execute_batch(
        r#"INSERT INTO organisation (id, ods_code, name) VALUES (1, 'R1K', 'A trust');
         INSERT INTO source (id, code, name, organisation_id, kind, format, created_at)
             VALUES (1, 'PAS', 'PAS', 1, 'acute', 'hl7v2', '2024-01-01T00:00:00Z');
         INSERT INTO person (id, created_at, demographics) VALUES
             (7, '2024-01-01', '{"family":"O''Brien","given":["Siân"],"birth_date":"1954-03-12",
                               "sex":"female","address":{"postcode":"WX3 1AB"}}'),
             (8, '2024-01-01', '{"family":"Nobody"}');
         INSERT INTO source_person (id, source_id, local_id, updated_at, person_id, demographics)
             VALUES (1, 1, 'M1', '2024-01-01', 7,
                     '{"family":"Kelly","given":["Sian"],"birth_date":"1954-03-12"}');"#,
    )
    .unwrap();
    migrate(&mut conn, Path::new("test.db")).unwrap();
    let found = |expr: &str| -> Vec<i64> {
        conn.prepare("SELECT rowid FROM person_search_fts WHERE person_search_fts MATCH ?1")
            .unwrap()
            .query_map([expr], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(found(r#"names : "obrien" AND facts : "y1954""#), [7]);
    assert_eq!(
        found(r#"names : "kel" * AND facts : "pcwx3""#),
        [7],
        "maiden name"
    );
    assert_eq!(found(r#"names : "sian" AND facts : "sexfemale""#), [7]);
    // A person no source describes any more is not indexed, as a refresh would leave them.
    assert!(found(r#"names : "nobody""#).is_empty());
}

#[test]
fn the_packed_bodies_migration_keeps_every_stored_body_and_takes_packed_ones() {
    let mut conn = database_at(23);
    conn.execute_batch(ONE_SOURCE_PERSON).unwrap();
    conn.execute_batch(
        r#"INSERT INTO entry (id, source_id, source_ref, source_person_id, category, title, body,
                            content_hash, version, received_at)
             VALUES (41, 1, 'r1', 1, 'allergy', 'Penicillin', '{"substance":"Penicillin"}',
                     x'00', 2, '2024-01-01T00:00:00Z');
         INSERT INTO entry_history (entry_id, version, source_person_id, draft, content_hash,
                                    received_at, disposition)
             VALUES (41, 1, 1, '{"title":"Penicilin"}', x'00', '2024-01-01T00:00:00Z',
                     'superseded');"#,
    )
    .unwrap();
    let packed_before = conn.execute("UPDATE entry SET body = x'01' WHERE id = 41", []);
    assert!(
        packed_before.is_err(),
        "a TEXT column refuses a BLOB before"
    );
    migrate(&mut conn, Path::new("test.db")).unwrap();
    packed::register(&conn).unwrap();
    let text = |sql: &str| -> String { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        text("SELECT unpacked(body) FROM entry WHERE id = 41"),
        r#"{"substance":"Penicillin"}"#
    );
    assert_eq!(
        text("SELECT unpacked(draft) FROM entry_history WHERE entry_id = 41"),
        r#"{"title":"Penicilin"}"#
    );
    conn.execute(
        "UPDATE entry SET body = packed('{\"substance\":\"Latex\"}') WHERE id = 41",
        [],
    )
    .expect("the edited definition takes a packed body");
    conn.execute(
        "INSERT INTO entry_history (entry_id, version, source_person_id, draft, content_hash,
                                    received_at, disposition)
         VALUES (41, 2, 1, packed('{}'), x'01', '2024-01-02T00:00:00Z', 'superseded')",
        [],
    )
    .expect("and a packed draft");
    assert_eq!(text("SELECT typeof(body) FROM entry WHERE id = 41"), "blob");
    assert_eq!(
        text("SELECT unpacked(body) FROM entry WHERE id = 41"),
        r#"{"substance":"Latex"}"#
    );
    assert_eq!(text("PRAGMA integrity_check"), "ok");
    let refused = conn.execute(
        "INSERT INTO entry_history (entry_id, version, source_person_id, draft, content_hash,
                                    received_at, disposition)
         VALUES (41, 3, 1, NULL, x'02', '2024-01-03T00:00:00Z', 'superseded')",
        [],
    );
    assert!(refused.is_err(), "the rest of the definition is as it was");
}
