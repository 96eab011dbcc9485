-- The citizens' side (src/citizen): residents who sign in to see their own record.
-- Set when a source marks an entry as not for the patient's own view (see the README):
-- never shown to a citizen.
ALTER TABLE entry ADD COLUMN not_for_patient INTEGER NOT NULL DEFAULT 0;

-- An invitation code, issued by staff for one person: kept only as its SHA-256, single use,
-- expiring. Redeeming one for a person who already has an account resets that account
-- (a lost device): a new password and a new second factor.
CREATE TABLE citizen_invite (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    code_hash BLOB NOT NULL UNIQUE,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;

-- One account per person. The TOTP secret is confirmed once the citizen has typed a code
-- from it; `totp_last_step` refuses a code used before (RFC 6238 section 5.2).
CREATE TABLE citizen_account (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL UNIQUE REFERENCES person(id),
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    totp_confirmed INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    reset_at TEXT
) STRICT;

-- Citizen sessions, apart from staff sessions. `stage` is `setup` until the second factor is
-- confirmed, then `full`.
CREATE TABLE citizen_session (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES citizen_account(id),
    stage TEXT NOT NULL CHECK (stage IN ('setup', 'full')),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT
) STRICT;
CREATE INDEX citizen_session_account ON citizen_session(account_id);

-- "This is wrong": a citizen's report on one entry, queued for the organisation that sent it.
CREATE TABLE citizen_error_report (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES citizen_account(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    entry_id INTEGER NOT NULL REFERENCES entry(id),
    organisation_code TEXT NOT NULL,
    report TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    handled_at TEXT,
    handled_by TEXT,
    note TEXT
) STRICT;
CREATE INDEX citizen_error_report_org ON citizen_error_report(organisation_code, handled_at);

-- Proxy access: a citizen (`proxy_person_id`, by their own person) acts for another person,
-- on a legal basis staff have seen evidence of, from `starts_on` until `ends_on` (inclusive;
-- NULL: no end) or until ended.
CREATE TABLE citizen_proxy (
    id INTEGER PRIMARY KEY,
    proxy_person_id INTEGER NOT NULL REFERENCES person(id),
    for_person_id INTEGER NOT NULL REFERENCES person(id),
    legal_basis TEXT NOT NULL CHECK (legal_basis IN (
        'parental-responsibility', 'lpa-health-welfare', 'court-deputy', 'consent')),
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    evidence TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    ended_at TEXT,
    ended_by TEXT
) STRICT;
CREATE INDEX citizen_proxy_proxy ON citizen_proxy(proxy_person_id);

-- The person a citizen's session is acting for (NULL: themselves), checked on every request.
ALTER TABLE citizen_session ADD COLUMN acting_for INTEGER REFERENCES person(id);
