-- The newsletter desk (issue 19).
--
-- 1. `subscribers` becomes AUTOINCREMENT: a plain INTEGER PRIMARY KEY hands the id of an
--    erased subscriber (the highest one) to the next sign-up, and the erased reader's old
--    preferences link (signed over the id) would then open the newcomer's preferences.
-- 2. `deliveries` gets `lease_owner` (which process holds a row, so a restarted node takes
--    back its own dead leases at once), 'cancelled' (an issue stopped by an editor: what was
--    unsent stays unsent and is counted as such), and an index by subscriber (history,
--    erasure, unsubscribe).
-- SQLite cannot change a CHECK or the key of a table in place, so both tables are rebuilt.
CREATE TABLE subscribers_new (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    email                 TEXT NOT NULL UNIQUE,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'suppressed')),
    frequency             TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
    sections_json         TEXT NOT NULL DEFAULT '[]',
    bounces               BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    confirmed_at          BIGINT,
    unsubscribed_at       BIGINT,
    -- How the address came: 'signup' (double opt-in on the site), 'import' (consent given
    -- elsewhere, stated by the editor who imported it), 'import_confirm' (imported, then
    -- confirmed by the reader).
    source                TEXT NOT NULL DEFAULT 'signup',
    -- The last issue the reader got before unsubscribing (the issues page counts these).
    unsubscribed_issue_id BIGINT
);
INSERT INTO subscribers_new (id, email, status, frequency, sections_json, bounces, created_at, updated_at, confirmed_at, unsubscribed_at)
    SELECT id, email, status, frequency, sections_json, bounces, created_at, updated_at, confirmed_at, unsubscribed_at FROM subscribers;

-- Foreign keys are on: the old rows wait in a plain copy while both old tables are dropped.
CREATE TABLE deliveries_copy AS SELECT id, issue_id, subscriber_id, status, attempts, next_attempt_at, lease_until, sent_at, last_error FROM deliveries;
DROP TABLE deliveries;
DROP TABLE subscribers;
ALTER TABLE subscribers_new RENAME TO subscribers;
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    issue_id        BIGINT NOT NULL REFERENCES newsletter_issues(id),
    subscriber_id   BIGINT NOT NULL REFERENCES subscribers(id),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'bounced', 'failed', 'skipped', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    lease_until     BIGINT,
    sent_at         BIGINT,
    last_error      TEXT,
    lease_owner     TEXT,
    UNIQUE (issue_id, subscriber_id)
);
INSERT INTO deliveries (id, issue_id, subscriber_id, status, attempts, next_attempt_at, lease_until, sent_at, last_error)
    SELECT id, issue_id, subscriber_id, status, attempts, next_attempt_at, lease_until, sent_at, last_error FROM deliveries_copy;
DROP TABLE deliveries_copy;
CREATE INDEX subscribers_active ON subscribers (status, frequency);
CREATE INDEX subscribers_status_id ON subscribers (status, id);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, id);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);

-- The right to be forgotten leaves a trace that it was done, and by whom, never the address.
CREATE TABLE subscriber_erasures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    erased_at   BIGINT NOT NULL,
    erased_by   BIGINT,
    deliveries  BIGINT NOT NULL
);
