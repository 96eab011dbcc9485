-- sharedcare: edits table definitions in place
-- Entry bodies and history drafts may be stored packed (a BLOB: see src/store/packed.rs) as
-- well as JSON text, so their columns' type becomes ANY. Every stored value stays valid and
-- no row moves: SQLite's own procedure for a change that leaves the stored rows as they are
-- (lang_altertable.html, "Making Other Kinds Of Table Schema Changes") edits the definition
-- text; the migration runner then raises the schema version so every connection reads it
-- afresh. Rebuilding the tables instead would copy every entry of a region.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
    SET sql = replace(sql, '    body TEXT NOT NULL,', '    body ANY NOT NULL,')
    WHERE type = 'table' AND name = 'entry';

UPDATE sqlite_schema
    SET sql = replace(sql, '    draft TEXT NOT NULL,', '    draft ANY NOT NULL,')
    WHERE type = 'table' AND name = 'entry_history';

PRAGMA writable_schema = OFF;
