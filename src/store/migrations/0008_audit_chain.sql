-- The tamper-evident audit trail: why a user looked (purpose or reason), the role profile they
-- acted in, and each event's HMAC-SHA256 chaining it to the one before (hex; see src/audit).
-- Events written before this migration have no hash until the first open with the audit key
-- seals them into the chain.

ALTER TABLE audit_event ADD COLUMN reason TEXT;
ALTER TABLE audit_event ADD COLUMN profile TEXT;
ALTER TABLE audit_event ADD COLUMN hash TEXT;
