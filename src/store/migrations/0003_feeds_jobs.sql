-- Feeds that run themselves: where each source's files arrive, how often they are expected,
-- the inbox scanner's observations, and a record of every scheduled job run.

-- When files are expected, e.g. 'daily-by 06:00' or 'every 1h' (see sources::cadence).
ALTER TABLE source ADD COLUMN cadence TEXT;
-- An extra watched folder, besides DATA_DIR/inbox/<SOURCE>/.
ALTER TABLE source ADD COLUMN drop_folder TEXT;

-- Public keys (OpenSSH one-line form) that may sign in to the source's SFTP account.
CREATE TABLE source_key (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    public_key TEXT NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (source_id, public_key)
) STRICT;

-- The size and modification time of each waiting file at the last scan: a file is ready only
-- when a later scan (possibly by another process) sees the same.
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

CREATE INDEX job_run_job ON job_run(job, started_at);
