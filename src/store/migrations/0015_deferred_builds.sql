-- Index builds a bulk load puts off until its end (src/store/bulk.rs). While any row is here
-- the server refuses to start, since search would be incomplete; running the load again
-- finishes them.
CREATE TABLE deferred_build (
    name TEXT PRIMARY KEY,
    -- A secondary index dropped for the load: the statement that builds it again.
    sql TEXT,
    -- A full-text index being rebuilt: rows with smaller ids are indexed (NULL: not started).
    next_id INTEGER,
    started_at TEXT NOT NULL
) STRICT;
