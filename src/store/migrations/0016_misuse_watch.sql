-- sharedcare: foreign keys off
-- Watching for misuse (issue 15, item 3): rules over the audit trail raise privacy alerts of
-- kind 'misuse'. SQLite cannot change a CHECK constraint in place, so privacy_alert is rebuilt
-- (a new table, rows copied with their ids, the old one dropped, the new one renamed).
CREATE TABLE privacy_alert_v16 (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('self-claim', 'break-glass', 'objection-override',
                                       'role-grant', 'view-as', 'misuse')),
    grant_id INTEGER REFERENCES access_grant(id),
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    person_id INTEGER REFERENCES person(id),
    raised_at TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    note TEXT,
    -- The user whose action raised it (NULL: the operator at the command line, or the misuse
    -- watch), and their name.
    raised_by_user_id INTEGER REFERENCES app_user(id),
    raised_by TEXT,
    -- What the alert says happened, without patient data (a role profile granted, a reason,
    -- the misuse rule that fired).
    detail TEXT
) STRICT;
INSERT INTO privacy_alert_v16 (id, reference, kind, grant_id, user_id, person_id, raised_at,
                               closed_at, closed_by, note, raised_by_user_id, raised_by, detail)
    SELECT id, reference, kind, grant_id, user_id, person_id, raised_at,
           closed_at, closed_by, note, raised_by_user_id, raised_by, detail
    FROM privacy_alert;
DROP TABLE privacy_alert;
ALTER TABLE privacy_alert_v16 RENAME TO privacy_alert;
CREATE INDEX privacy_alert_open ON privacy_alert(raised_at) WHERE closed_at IS NULL;

-- Who a staff user is as a person the record may hold, set by an administrator
-- (`sharedcare misuse link-user`): their NHS number, and the family name and postcode of their
-- home. The own-record and same-household rules compare the people a user opens with these.
CREATE TABLE staff_identity (
    user_id INTEGER PRIMARY KEY REFERENCES app_user(id),
    nhs_number TEXT,
    family_name TEXT,
    postcode TEXT,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;

-- People whose records are watched: a VIP or a member of staff, flagged by an administrator
-- (`sharedcare misuse flag`). Every view by anyone else is alerted.
CREATE TABLE watched_person (
    person_id INTEGER PRIMARY KEY REFERENCES person(id),
    kind TEXT NOT NULL CHECK (kind IN ('vip', 'staff')),
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;

-- A misuse alert's rule and the key that keeps it from being raised twice (rule, user, and
-- the person, hour or day it is about); later events of the same key join its evidence.
CREATE TABLE misuse_alert (
    alert_id INTEGER PRIMARY KEY REFERENCES privacy_alert(id),
    rule TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE
) STRICT;

-- The audit events (by seq, in the audit file) behind each misuse alert.
CREATE TABLE misuse_evidence (
    alert_id INTEGER NOT NULL REFERENCES privacy_alert(id),
    seq INTEGER NOT NULL,
    PRIMARY KEY (alert_id, seq)
) STRICT;

-- How far through the audit trail the misuse watch has looked: the last seq evaluated,
-- advanced in the same transaction as the alerts it raised.
CREATE TABLE misuse_watch (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_seq INTEGER NOT NULL
) STRICT;
INSERT INTO misuse_watch (one, last_seq) VALUES (1, 0);
