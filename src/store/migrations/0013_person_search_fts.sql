-- sharedcare: then index every person for search
-- The person search index (issue 12): word tokens instead of trigrams, so that a name prefix,
-- a year or date of birth, sex and a postcode are answered together by one index query (see
-- src/store/find_terms.rs for what each column holds). The first line above asks the migrator
-- to fill the new index from every person, in this migration's transaction.
-- The tokens are made ready by the search's own folding (lower case, accents removed, names
-- split), so the index only splits at spaces: the ascii tokenizer keeps every other non-ASCII
-- character inside its word. unicode61 would split a word at a combining mark the folding keeps
-- as a letter (a Hebrew point), turning one typed word into a phrase this index cannot answer.
DROP TABLE person_fts;
CREATE VIRTUAL TABLE person_search_fts USING fts5(
    names, sounds, facts,
    content = '', contentless_delete = 1, detail = 'column', prefix = '1 2 3',
    tokenize = 'ascii'
);
