-- Who may see what. A user holds one or more role profiles (a role, for an organisation,
-- optionally within a team) and acts in one of them per session; the policy says what a role
-- may do, the care relationship (inferred from the record, or granted below) says whom.
CREATE TABLE role_profile (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    role TEXT NOT NULL,
    -- ODS code of the organisation.
    org TEXT NOT NULL,
    team TEXT,
    created_at TEXT NOT NULL,
    removed_at TEXT
) STRICT;

CREATE UNIQUE INDEX role_profile_live ON role_profile(user_id, role, org, coalesce(team, ''))
    WHERE removed_at IS NULL;

INSERT INTO role_profile (user_id, role, org, created_at)
    SELECT id, role, org, created_at FROM app_user;

ALTER TABLE web_session ADD COLUMN profile_id INTEGER REFERENCES role_profile(id);
UPDATE web_session SET profile_id = (SELECT min(p.id) FROM role_profile p WHERE p.user_id = web_session.user_id);
ALTER TABLE api_token ADD COLUMN profile_id INTEGER REFERENCES role_profile(id);
UPDATE api_token SET profile_id = (SELECT min(p.id) FROM role_profile p WHERE p.user_id = api_token.user_id);

-- Access a profile was given to one person without an inferred relationship: a self-claimed
-- relationship or broken glass, each with a coded reason, free text and an expiry.
CREATE TABLE access_grant (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('self-claim', 'break-glass')),
    profile_id INTEGER NOT NULL REFERENCES role_profile(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
) STRICT;

CREATE INDEX access_grant_person ON access_grant(person_id, profile_id);

-- What the privacy officer must review: self-claims, broken glass, objection overrides.
-- `reference` is what notifications carry; it names no patient.
CREATE TABLE privacy_alert (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('self-claim', 'break-glass', 'objection-override')),
    grant_id INTEGER REFERENCES access_grant(id),
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    raised_at TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    note TEXT
) STRICT;

CREATE INDEX privacy_alert_open ON privacy_alert(raised_at) WHERE closed_at IS NULL;

-- An objection to sharing recorded by an administrator (feeds may also send one, kept on the
-- source person's demographics). While it stands, each organisation sees only the data it
-- supplied itself.
CREATE TABLE sharing_objection (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    reason TEXT NOT NULL,
    objected_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    withdrawn_at TEXT
) STRICT;

CREATE INDEX sharing_objection_person ON sharing_objection(person_id);
