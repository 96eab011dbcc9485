-- The population job brings its figures up to date from what changed since its last run
-- instead of reading every entry of the region each night.

-- Entries by category, kept by the triggers below as entries are stored and changed: the
-- record's totals without counting (and sorting) every entry.
CREATE TABLE entry_category_count (
    category TEXT PRIMARY KEY,
    entries INTEGER NOT NULL
) STRICT;

INSERT INTO entry_category_count (category, entries)
    SELECT category, count(*) FROM entry GROUP BY category;

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

-- What the condition set made of each entry it names that put a person in a condition or
-- out of the figures (an opt-out): kept between runs, so that a run reads only the entries
-- added or changed since. Whose the entry is now comes from the links at each run. No
-- reference to `entry` is declared: entries are never deleted, and checking one would read an
-- entry page for each of the millions of facts a first run writes.
CREATE TABLE population_entry_fact (
    entry_id INTEGER PRIMARY KEY,
    source_person_id INTEGER NOT NULL,
    opted_out INTEGER NOT NULL CHECK (opted_out IN (0, 1)),
    -- The keys of the conditions the entry puts its person in, space-separated.
    conditions TEXT NOT NULL,
    start_on TEXT,
    end_on TEXT
) STRICT;

-- One row: how far the facts go (entries up to `entries_to`, changes up to the entry history
-- row `history_to`) and the condition set they were read with (a fingerprint: another set
-- reads every entry again).
CREATE TABLE population_scan (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rules TEXT NOT NULL,
    entries_to INTEGER NOT NULL,
    history_to INTEGER NOT NULL
) STRICT;
