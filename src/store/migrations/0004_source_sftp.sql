-- The optional password of a source's SFTP account (its keys are in source_key), kept only as
-- an Argon2id hash. Most senders use keys; a password suits a system that cannot.
CREATE TABLE source_sftp_password (
    source_id INTEGER PRIMARY KEY REFERENCES source(id),
    password_hash TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;
