-- The record page marks how fresh each source's data is: the newest imported file of every
-- source. With a region's 700 sources and thousands of files, reading each file row cost a
-- page view several milliseconds; this index answers each source from one index seek.
CREATE INDEX feed_file_received ON feed_file(source_id, state, received_at);
