-- The people merged into a person, found by index: "who has looked" (the citizen's page and the
-- privacy officer's report) follows merges with a recursive query over `merged_into`, which
-- without an index had SQLite build a temporary one over every person on each request (88 ms at
-- 200,000 people). Few people are merged, so the index holds only them.
CREATE INDEX person_merged_into ON person(merged_into) WHERE merged_into IS NOT NULL;
