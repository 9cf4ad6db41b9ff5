-- Newsletter: subscribers, digest issues and the delivery queue (one row per issue and
-- subscriber, so a crash can resend at most the messages in flight, never lose one).
CREATE TABLE newsletter_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'suppressed')),
    frequency       TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
    sections_json   TEXT NOT NULL DEFAULT '[]',
    bounces         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    confirmed_at    BIGINT,
    unsubscribed_at BIGINT
);
CREATE INDEX subscribers_active ON subscribers (status, frequency);

CREATE TABLE newsletter_issues (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    frequency     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    articles_json TEXT NOT NULL,
    body_text     TEXT NOT NULL,
    body_html     TEXT NOT NULL,
    period_start  BIGINT NOT NULL,
    period_end    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- One scheduled issue per slot, even when several nodes run the scheduler.
    slot_key      TEXT UNIQUE
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    issue_id        BIGINT NOT NULL REFERENCES newsletter_issues(id),
    subscriber_id   BIGINT NOT NULL REFERENCES subscribers(id),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'bounced', 'failed', 'skipped')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    lease_until     BIGINT,
    sent_at         BIGINT,
    last_error      TEXT,
    UNIQUE (issue_id, subscriber_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, id);
