-- People who use sharedcare, their sessions and API tokens, and the audit of what they did.

CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    -- ODS code of the organisation the user works for.
    org TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
) STRICT;

-- A browser session. Only a hash of the cookie's token is stored, so a copy of the database
-- does not let anyone sign in.
CREATE TABLE web_session (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT,
    ip TEXT
) STRICT;

CREATE INDEX web_session_user ON web_session(user_id) WHERE ended_at IS NULL;

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

-- Every look at patient data and every security event, in order.
CREATE TABLE audit_event (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER REFERENCES app_user(id),
    actor TEXT,
    role TEXT,
    org TEXT,
    action TEXT NOT NULL,
    person_id INTEGER REFERENCES person(id),
    detail TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    ip TEXT
) STRICT;

CREATE INDEX audit_event_person ON audit_event(person_id) WHERE person_id IS NOT NULL;
CREATE INDEX audit_event_user ON audit_event(user_id);
