-- Notifications (issue 15): what the notification rules (src/notify) raised as entries were
-- stored, and the e-mail outbox that tells each recipient it has new ones.
--
-- One row per event, rule and recipient: the unique index is what makes a re-delivered or
-- out-of-order message harmless (the second insert is ignored).
CREATE TABLE notification (
    id INTEGER PRIMARY KEY,
    -- The rule that fired (its name in the rules file).
    rule TEXT NOT NULL,
    -- What happened, stable across re-deliveries: `entry/<source id>/<source ref>/<event>`,
    -- `death/<source person id>`, `alert/<privacy alert reference>`.
    event_key TEXT NOT NULL,
    -- `admission`, `discharge`, `attendance`, `death`, `safeguarding-alert`, …
    event TEXT NOT NULL,
    -- Whose inbox: `org:<ODS code>` or `privacy-officer`.
    recipient TEXT NOT NULL,
    person_id INTEGER REFERENCES person(id),
    -- The source whose feed told us (none for a privacy alert).
    source_id INTEGER REFERENCES source(id),
    -- The privacy alert's reference, for a privacy-officer notification.
    reference TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT,
    read_by TEXT,
    -- The e-mail that announced it; NULL until one is queued.
    mail_id INTEGER REFERENCES notification_mail(id)
) STRICT;

CREATE UNIQUE INDEX notification_once ON notification(event_key, rule, recipient);
CREATE INDEX notification_inbox ON notification(recipient, id);
CREATE INDEX notification_unmailed ON notification(recipient) WHERE mail_id IS NULL;

-- The delivery outbox: one e-mail per recipient per batch ("You have 3 new notifications"),
-- with no patient details. Marked sent in its own transaction right after the relay accepts
-- it; retried with a growing pause until then (see src/notify/mail.rs).
CREATE TABLE notification_mail (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    address TEXT NOT NULL,
    count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT
) STRICT;

CREATE INDEX notification_mail_due ON notification_mail(next_attempt_at) WHERE sent_at IS NULL;
