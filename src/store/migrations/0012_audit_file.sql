-- The audit trail moves into its own file (DATA_DIR/sharedcare-audit.db; see
-- src/store/audit_file.rs): its events were copied there, checked, just before this migration.
-- What stays here is the outbox: a change writes its event into it inside the change's own
-- transaction, and the audit writer moves it into the chain, exactly once, by id.
CREATE TABLE audit_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_id INTEGER,
    actor TEXT,
    role TEXT,
    org TEXT,
    action TEXT NOT NULL,
    person_id INTEGER,
    detail TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    ip TEXT,
    reason TEXT,
    profile TEXT
) STRICT;

DROP TABLE audit_event;
