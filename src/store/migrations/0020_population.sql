-- The population dashboard's summary tables, rewritten whole by the population job. Counts of
-- people only: nothing here names or points to a person. Suppression happens when they are read.

-- One row: when the figures were computed and how far the data they were computed from goes.
CREATE TABLE population_run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    computed_at TEXT NOT NULL,
    data_to TEXT,
    first_week TEXT NOT NULL,
    last_week TEXT NOT NULL,
    seconds REAL NOT NULL
) STRICT;

-- A count of people: `measure` new (an event that week) or current (in the condition at the
-- week's end); `level` region, la, district, age-sex or ethnicity; `area` the key at that level.
CREATE TABLE population_figure (
    condition TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('new', 'current')),
    level TEXT NOT NULL,
    area TEXT NOT NULL,
    week TEXT NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (condition, measure, level, area, week)
) STRICT;

-- The people each area's rates are per: those in the record, alive, not opted out.
CREATE TABLE population_denominator (
    level TEXT NOT NULL,
    area TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    people INTEGER NOT NULL,
    PRIMARY KEY (level, area)
) STRICT;

-- Areas whose rate of new cases in a week lies significantly above the region's.
CREATE TABLE population_hot_spot (
    condition TEXT NOT NULL,
    level TEXT NOT NULL,
    area TEXT NOT NULL,
    week TEXT NOT NULL,
    rate_lower REAL NOT NULL,
    region_rate REAL NOT NULL,
    PRIMARY KEY (condition, level, area, week)
) STRICT;
