-- The sharedcare schema at version 24, as the embedded migrations build it.
-- For reading only: src/store/migrations/ is the truth, and a test keeps this file equal.

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

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT
, profile_id INTEGER REFERENCES role_profile(id), expires_at TEXT, last_used_at TEXT) STRICT;

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

CREATE TABLE citizen_invite (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    code_hash BLOB NOT NULL UNIQUE,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;

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

CREATE TABLE citizen_session (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES citizen_account(id),
    stage TEXT NOT NULL CHECK (stage IN ('setup', 'full')),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT
, acting_for INTEGER REFERENCES person(id)) STRICT;

CREATE TABLE deferred_build (
    name TEXT PRIMARY KEY,
    -- A secondary index dropped for the load: the statement that builds it again.
    sql TEXT,
    -- A full-text index being rebuilt: rows with smaller ids are indexed (NULL: not started).
    next_id INTEGER,
    started_at TEXT NOT NULL
) STRICT;

CREATE TABLE "entry" (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    source_ref TEXT NOT NULL,
    source_person_id INTEGER NOT NULL REFERENCES source_person(id),
    category TEXT NOT NULL CHECK (category IN (
        'advance-directive', 'allergy', 'medication', 'safeguarding', 'alert', 'condition-flag',
        'problem', 'location', 'care-plan', 'result', 'contact', 'mental-health',
        'social-care', 'referral', 'care-network', 'next-of-kin', 'immunisation', 'procedure')),
    code_system TEXT,
    code TEXT,
    title TEXT NOT NULL,
    status TEXT,
    start_at TEXT,
    end_at TEXT,
    recorded_at TEXT,
    sensitive INTEGER NOT NULL DEFAULT 0,
    body ANY NOT NULL,
    content_hash BLOB NOT NULL,
    version INTEGER NOT NULL,
    as_of TEXT,
    feed_file_id INTEGER REFERENCES feed_file(id),
    message_ref TEXT,
    received_at TEXT NOT NULL, not_for_patient INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, source_ref)
) STRICT;

CREATE TABLE entry_category_count (
    category TEXT PRIMARY KEY,
    entries INTEGER NOT NULL
) STRICT;

CREATE VIRTUAL TABLE entry_fts USING fts5(
    title, detail,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE entry_history (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES entry(id),
    version INTEGER,
    source_person_id INTEGER NOT NULL REFERENCES source_person(id),
    draft ANY NOT NULL,
    content_hash BLOB NOT NULL,
    as_of TEXT,
    feed_file_id INTEGER REFERENCES feed_file(id),
    message_ref TEXT,
    received_at TEXT NOT NULL,
    disposition TEXT NOT NULL CHECK (disposition IN ('superseded', 'arrived-late'))
) STRICT;

CREATE TABLE feed_file (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('importing', 'imported', 'quarantined')),
    received_at TEXT NOT NULL,
    finished_at TEXT,
    -- Units (messages, rows, resources) before this index are committed: an interrupted import
    -- resumes here.
    next_unit INTEGER NOT NULL DEFAULT 0,
    units INTEGER,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    reason TEXT, decision TEXT CHECK (decision IN ('replayed', 'discarded')), note TEXT, decided_by TEXT, decided_at TEXT,
    UNIQUE (source_id, sha256)
) STRICT;

CREATE TABLE feed_reject (
    id INTEGER PRIMARY KEY,
    feed_file_id INTEGER NOT NULL REFERENCES feed_file(id),
    unit_index INTEGER NOT NULL,
    position TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'replayed', 'discarded')), note TEXT, decided_by TEXT, decided_at TEXT,
    UNIQUE (feed_file_id, unit_index)
) STRICT;

CREATE TABLE inbox_seen (
    path TEXT PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    seen_at TEXT NOT NULL
) STRICT;

CREATE TABLE job_run (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed')),
    message TEXT
) STRICT;

CREATE TABLE link_event (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('merge', 'review-link', 'unmerge')),
    person_id INTEGER NOT NULL REFERENCES person(id),
    retired_person_id INTEGER REFERENCES person(id),
    feed_file_id INTEGER REFERENCES feed_file(id),
    detail TEXT,
    created_at TEXT NOT NULL,
    undone_by INTEGER REFERENCES link_event(id)
) STRICT;

CREATE TABLE link_move (
    link_event_id INTEGER NOT NULL REFERENCES link_event(id),
    source_person_id INTEGER NOT NULL REFERENCES source_person(id),
    from_person_id INTEGER REFERENCES person(id),
    from_link_kind TEXT,
    to_person_id INTEGER REFERENCES person(id),
    PRIMARY KEY (link_event_id, source_person_id)
) STRICT;

CREATE TABLE match_review (
    id INTEGER PRIMARY KEY,
    source_person_id INTEGER NOT NULL REFERENCES source_person(id),
    candidate_person_id INTEGER NOT NULL REFERENCES person(id),
    score REAL NOT NULL,
    explanation TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'linked', 'rejected')),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    note TEXT,
    UNIQUE (source_person_id, candidate_person_id)
) STRICT;

CREATE TABLE misuse_alert (
    alert_id INTEGER PRIMARY KEY REFERENCES privacy_alert(id),
    rule TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE misuse_evidence (
    alert_id INTEGER NOT NULL REFERENCES privacy_alert(id),
    seq INTEGER NOT NULL,
    PRIMARY KEY (alert_id, seq)
) STRICT;

CREATE TABLE misuse_watch (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE notification (
    id INTEGER PRIMARY KEY,
    -- The rule that fired (its name in the rules file).
    rule TEXT NOT NULL,
    -- What happened, stable across re-deliveries: `entry/<source id>/<source ref>/<event>`,
    -- `death/<source person id>`, `alert/<privacy alert reference>`.
    event_key TEXT NOT NULL,
    -- `admission`, `discharge`, `attendance`, `death`, `safeguarding-alert`, …
    event TEXT NOT NULL,
    -- Whose inbox: `org:<ODS code>` or `privacy-officer`.
    recipient TEXT NOT NULL,
    person_id INTEGER REFERENCES person(id),
    -- The source whose feed told us (none for a privacy alert).
    source_id INTEGER REFERENCES source(id),
    -- The privacy alert's reference, for a privacy-officer notification.
    reference TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT,
    read_by TEXT,
    -- The e-mail that announced it; NULL until one is queued.
    mail_id INTEGER REFERENCES notification_mail(id)
) STRICT;

CREATE TABLE notification_mail (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    address TEXT NOT NULL,
    count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT
) STRICT;

CREATE TABLE organisation (
    id INTEGER PRIMARY KEY,
    ods_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE person (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    merged_into INTEGER REFERENCES person(id),
    nhs_number TEXT,
    family TEXT,
    given TEXT,
    birth_date TEXT,
    sex TEXT,
    postcode TEXT,
    -- Blocking keys for matching: postcode without spaces, phonetic code of the family name.
    postcode_key TEXT,
    surname_key TEXT,
    gp_practice TEXT,
    death_date TEXT,
    deceased INTEGER NOT NULL DEFAULT 0,
    restricted INTEGER NOT NULL DEFAULT 0,
    sharing_objection INTEGER NOT NULL DEFAULT 0,
    demographics TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE VIRTUAL TABLE person_search_fts USING fts5(
    names, sounds, facts,
    content = '', contentless_delete = 1, detail = 'column', prefix = '1 2 3',
    tokenize = 'ascii'
);

CREATE TABLE population_denominator (
    level TEXT NOT NULL,
    area TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    people INTEGER NOT NULL,
    PRIMARY KEY (level, area)
) STRICT;

CREATE TABLE population_entry_fact (
    entry_id INTEGER PRIMARY KEY,
    source_person_id INTEGER NOT NULL,
    opted_out INTEGER NOT NULL CHECK (opted_out IN (0, 1)),
    -- The keys of the conditions the entry puts its person in, space-separated.
    conditions TEXT NOT NULL,
    start_on TEXT,
    end_on TEXT
) STRICT;

CREATE TABLE population_figure (
    condition TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('new', 'current')),
    level TEXT NOT NULL,
    area TEXT NOT NULL,
    week TEXT NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (condition, measure, level, area, week)
) STRICT;

CREATE TABLE population_hot_spot (
    condition TEXT NOT NULL,
    level TEXT NOT NULL,
    area TEXT NOT NULL,
    week TEXT NOT NULL,
    rate_lower REAL NOT NULL,
    region_rate REAL NOT NULL,
    PRIMARY KEY (condition, level, area, week)
) STRICT;

CREATE TABLE population_run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    computed_at TEXT NOT NULL,
    data_to TEXT,
    first_week TEXT NOT NULL,
    last_week TEXT NOT NULL,
    seconds REAL NOT NULL
, record_totals TEXT) STRICT;

CREATE TABLE population_scan (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rules TEXT NOT NULL,
    entries_to INTEGER NOT NULL,
    history_to INTEGER NOT NULL
) STRICT;

CREATE TABLE "privacy_alert" (
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

CREATE TABLE sharing_objection (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    reason TEXT NOT NULL,
    objected_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    withdrawn_at TEXT
) STRICT;

CREATE TABLE source (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisation(id),
    kind TEXT NOT NULL CHECK (kind IN ('gp', 'acute', 'community', 'mental-health', 'social-care')),
    format TEXT NOT NULL CHECK (format IN ('hl7v2', 'fhir', 'csv')),
    -- The CSV mapping (TOML text), kept in the database so an import never depends on a file
    -- that may have moved.
    mapping TEXT,
    created_at TEXT NOT NULL
, cadence TEXT, drop_folder TEXT, mllp_listen TEXT, mllp_allow TEXT) STRICT;

CREATE TABLE source_key (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    public_key TEXT NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (source_id, public_key)
) STRICT;

CREATE TABLE source_person (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    local_id TEXT NOT NULL,
    -- NULL while the source has only referred to the person (e.g. a FHIR resource that points
    -- at a Patient not yet received): its entries wait, unseen, until the Patient arrives.
    person_id INTEGER REFERENCES person(id),
    nhs_number TEXT,
    nhs_number_status TEXT CHECK (nhs_number_status IN ('verified', 'unverified', 'invalid')),
    demographics TEXT,
    as_of TEXT,
    updated_at TEXT NOT NULL,
    link_kind TEXT CHECK (link_kind IN ('exact', 'probable', 'new', 'merge', 'review')),
    link_score REAL,
    link_explanation TEXT,
    UNIQUE (source_id, local_id)
) STRICT;

CREATE TABLE source_person_history (
    id INTEGER PRIMARY KEY,
    source_person_id INTEGER NOT NULL REFERENCES source_person(id),
    demographics TEXT NOT NULL,
    as_of TEXT,
    feed_file_id INTEGER REFERENCES feed_file(id),
    recorded_at TEXT NOT NULL,
    -- 'superseded' by newer data, or 'arrived-late': older than what was already stored.
    disposition TEXT NOT NULL CHECK (disposition IN ('superseded', 'arrived-late'))
) STRICT;

CREATE TABLE source_sftp_password (
    source_id INTEGER PRIMARY KEY REFERENCES source(id),
    password_hash TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;

CREATE TABLE staff_identity (
    user_id INTEGER PRIMARY KEY REFERENCES app_user(id),
    nhs_number TEXT,
    family_name TEXT,
    postcode TEXT,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;

CREATE TABLE test_person (
    person_id INTEGER PRIMARY KEY REFERENCES person(id),
    marked_at TEXT NOT NULL,
    marked_by TEXT NOT NULL
) STRICT;

CREATE TABLE watched_person (
    person_id INTEGER PRIMARY KEY REFERENCES person(id),
    kind TEXT NOT NULL CHECK (kind IN ('vip', 'staff')),
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;

CREATE TABLE web_session (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT,
    ip TEXT
, profile_id INTEGER REFERENCES role_profile(id)) STRICT;

CREATE INDEX access_grant_person ON access_grant(person_id, profile_id);

CREATE INDEX citizen_error_report_org ON citizen_error_report(organisation_code, handled_at);

CREATE INDEX citizen_proxy_proxy ON citizen_proxy(proxy_person_id);

CREATE INDEX citizen_session_account ON citizen_session(account_id);

CREATE INDEX entry_history_entry ON entry_history(entry_id);

CREATE INDEX entry_source_person ON entry(source_person_id, category);

CREATE INDEX feed_file_received ON feed_file(source_id, state, received_at);

CREATE INDEX job_run_job ON job_run(job, started_at);

CREATE INDEX match_review_open ON match_review(state) WHERE state = 'open';

CREATE INDEX match_review_open_candidate ON match_review(candidate_person_id) WHERE state = 'open';

CREATE INDEX match_review_open_source ON match_review(source_person_id) WHERE state = 'open';

CREATE INDEX notification_inbox ON notification(recipient, id);

CREATE INDEX notification_mail_due ON notification_mail(next_attempt_at) WHERE sent_at IS NULL;

CREATE UNIQUE INDEX notification_once ON notification(event_key, rule, recipient);

CREATE INDEX notification_unmailed ON notification(recipient) WHERE mail_id IS NULL;

CREATE INDEX person_birth_date ON person(birth_date) WHERE merged_into IS NULL;

CREATE INDEX person_merged_into ON person(merged_into) WHERE merged_into IS NOT NULL;

CREATE INDEX person_nhs_number ON person(nhs_number) WHERE nhs_number IS NOT NULL;

CREATE INDEX person_postcode_key ON person(postcode_key) WHERE merged_into IS NULL;

CREATE INDEX person_surname_key ON person(surname_key, birth_date) WHERE merged_into IS NULL;

CREATE INDEX privacy_alert_open ON privacy_alert(raised_at) WHERE closed_at IS NULL;

CREATE UNIQUE INDEX role_profile_live ON role_profile(user_id, role, org, coalesce(team, ''))
    WHERE removed_at IS NULL;

CREATE INDEX sharing_objection_person ON sharing_objection(person_id);

CREATE INDEX source_person_history_source_person ON source_person_history(source_person_id);

CREATE INDEX source_person_nhs_number ON source_person(nhs_number) WHERE nhs_number IS NOT NULL;

CREATE INDEX source_person_person ON source_person(person_id);

CREATE INDEX source_person_verified_nhs ON source_person(nhs_number)
    WHERE nhs_number_status = 'verified';

CREATE INDEX web_session_user ON web_session(user_id) WHERE ended_at IS NULL;

CREATE TRIGGER entry_counted AFTER INSERT ON entry
BEGIN
    INSERT INTO entry_category_count (category, entries) VALUES (NEW.category, 1)
        ON CONFLICT (category) DO UPDATE SET entries = entries + 1;
END;

CREATE TRIGGER entry_recounted AFTER UPDATE OF category ON entry
    WHEN OLD.category IS NOT NEW.category
BEGIN
    UPDATE entry_category_count SET entries = entries - 1 WHERE category = OLD.category;
    INSERT INTO entry_category_count (category, entries) VALUES (NEW.category, 1)
        ON CONFLICT (category) DO UPDATE SET entries = entries + 1;
END;

-- The audit file (sharedcare-audit.db) at version 1: see src/store/audit_file.rs.

CREATE TABLE audit_event (
    seq INTEGER PRIMARY KEY,
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
    profile TEXT,
    hash TEXT
) STRICT;

CREATE TABLE outbox_moved (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_event_person ON audit_event(person_id) WHERE person_id IS NOT NULL;

CREATE INDEX audit_event_user ON audit_event(user_id);
