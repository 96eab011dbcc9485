-- sharedcare: foreign keys off
-- Alerts other than safeguarding (risk to staff, clinical, other) become their own category
-- (issue 11). SQLite cannot change a CHECK constraint in place, so `entry` is rebuilt the way
-- SQLite documents: a new table, the rows copied with their ids, the old one dropped, the new
-- one renamed. The first line above asks the migrator to turn foreign keys off for this
-- migration and to check every reference (entry_history → entry) before it commits.
CREATE TABLE entry_v11 (
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
    body TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    version INTEGER NOT NULL,
    as_of TEXT,
    feed_file_id INTEGER REFERENCES feed_file(id),
    message_ref TEXT,
    received_at TEXT NOT NULL,
    UNIQUE (source_id, source_ref)
) STRICT;
INSERT INTO entry_v11 (id, source_id, source_ref, source_person_id, category, code_system, code,
                       title, status, start_at, end_at, recorded_at, sensitive, body,
                       content_hash, version, as_of, feed_file_id, message_ref, received_at)
    SELECT id, source_id, source_ref, source_person_id, category, code_system, code,
           title, status, start_at, end_at, recorded_at, sensitive, body,
           content_hash, version, as_of, feed_file_id, message_ref, received_at
    FROM entry;
DROP TABLE entry;
ALTER TABLE entry_v11 RENAME TO entry;
CREATE INDEX entry_source_person ON entry(source_person_id, category);
