-- The record's totals (people, entries by category, files, rejects) counted by the population
-- job beside its figures, as JSON, so the analysts' dashboard reads one row instead of counting
-- every entry of the region on each view.
ALTER TABLE population_run ADD COLUMN record_totals TEXT;
