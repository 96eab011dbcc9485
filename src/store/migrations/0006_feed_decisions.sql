-- Decisions an administrator takes on feed data that did not import: a rejected unit or a
-- quarantined file is replayed or discarded, with who, when and a note. Nothing is deleted:
-- a discarded unit keeps its raw bytes until retention, a discarded file moves to
-- DATA_DIR/discarded/<SOURCE>/.
ALTER TABLE feed_reject ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'replayed', 'discarded'));
ALTER TABLE feed_reject ADD COLUMN note TEXT;
ALTER TABLE feed_reject ADD COLUMN decided_by TEXT;
ALTER TABLE feed_reject ADD COLUMN decided_at TEXT;

-- Set on a quarantined file the administrator has dealt with; such a file no longer counts as
-- quarantined in the feed-health figures.
ALTER TABLE feed_file ADD COLUMN decision TEXT CHECK (decision IN ('replayed', 'discarded'));
ALTER TABLE feed_file ADD COLUMN note TEXT;
ALTER TABLE feed_file ADD COLUMN decided_by TEXT;
ALTER TABLE feed_file ADD COLUMN decided_at TEXT;
