use super::support::*;
use sharedcare::store::Store;

#[test]
fn schema_sql_equals_the_migrated_schema() {
    let store = Store::open_in_memory().unwrap();
    let migrated = store.schema_sql().unwrap();
    if std::env::var_os("SHAREDCARE_WRITE_SCHEMA").is_some() {
        std::fs::write(repo().join("schema.sql"), &migrated).unwrap();
        return;
    }
    let file = std::fs::read_to_string(repo().join("schema.sql")).unwrap();
    assert_eq!(
        file, migrated,
        "schema.sql differs from what the migrations build; regenerate it with \
         SHAREDCARE_WRITE_SCHEMA=1 cargo test schema_sql"
    );
}

#[test]
fn database_is_wal_with_foreign_keys() {
    let env = Env::new();
    env.ok(&["stats"]);
    let conn = env.sql();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, sharedcare::store::SCHEMA_VERSION);
}

#[test]
fn a_newer_database_is_refused_with_a_clear_message() {
    let env = Env::new();
    env.ok(&["stats"]);
    env.sql()
        .pragma_update(None, "user_version", sharedcare::store::SCHEMA_VERSION + 1)
        .unwrap();
    let r = env.run(&["stats"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("newer than this sharedcare understands"),
        "{}",
        r.stderr
    );
}
