-- Open reviews by either side, for the "possible duplicate, waiting for review" note every
-- record page and search row shows: without these each note read every open review (10,368
-- at 1.8 million people, twice), which was most of a record page's time at that size.
CREATE INDEX match_review_open_source ON match_review(source_person_id) WHERE state = 'open';
CREATE INDEX match_review_open_candidate ON match_review(candidate_person_id) WHERE state = 'open';
