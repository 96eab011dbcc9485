-- Separation of duties and credentials that lapse (issue 10).
--
-- API tokens lapse: each has an expiry, and its last use is kept so an administrator can see
-- a forgotten one. Tokens made before this had none; they get the default 90 days from when
-- they were made, so a token that has already served that long stops working now.
ALTER TABLE api_token ADD COLUMN expires_at TEXT;
ALTER TABLE api_token ADD COLUMN last_used_at TEXT;
UPDATE api_token SET expires_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+90 days');

-- People marked as test persons: the privacy officer's view-as may show them without a reason
-- or an alert. Who marked them and when are kept here; the marking is also audited.
CREATE TABLE test_person (
    person_id INTEGER PRIMARY KEY REFERENCES person(id),
    marked_at TEXT NOT NULL,
    marked_by TEXT NOT NULL
) STRICT;

-- Privacy alerts now also come from granting a clinical or privacy role (no person) and from
-- viewing a real person as another role. `user_id` stays the user the alert is about; who
-- raised it is kept too, since neither may close it.
CREATE TABLE privacy_alert_v10 (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('self-claim', 'break-glass', 'objection-override',
                                       'role-grant', 'view-as')),
    grant_id INTEGER REFERENCES access_grant(id),
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    person_id INTEGER REFERENCES person(id),
    raised_at TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    note TEXT,
    -- The user whose action raised it (NULL: the operator at the command line), and their name.
    raised_by_user_id INTEGER REFERENCES app_user(id),
    raised_by TEXT,
    -- What the alert says happened, without patient data (a role profile granted, a reason).
    detail TEXT
) STRICT;
INSERT INTO privacy_alert_v10 (id, reference, kind, grant_id, user_id, person_id, raised_at,
                               closed_at, closed_by, note, raised_by_user_id, raised_by)
    SELECT a.id, a.reference, a.kind, a.grant_id, a.user_id, a.person_id, a.raised_at,
           a.closed_at, a.closed_by, a.note, a.user_id, u.username
    FROM privacy_alert a JOIN app_user u ON u.id = a.user_id;
DROP TABLE privacy_alert;
ALTER TABLE privacy_alert_v10 RENAME TO privacy_alert;
CREATE INDEX privacy_alert_open ON privacy_alert(raised_at) WHERE closed_at IS NULL;
