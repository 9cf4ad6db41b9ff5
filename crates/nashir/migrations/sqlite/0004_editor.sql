-- Editor: accounts, sessions, revisions, API tokens, media. Times are Unix seconds.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'writer')),
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Only a hash of the session token is stored: a leaked database does not log anyone in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per (client address, email) in a sliding window; shared by all nodes.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);

-- Who started an article (writers may edit only their own drafts) and when a writer asked
-- for review.
ALTER TABLE articles ADD COLUMN created_by BIGINT;
ALTER TABLE articles ADD COLUMN submitted_at BIGINT;

-- Every save of an article, as the editor saw it, to diff and restore.
CREATE TABLE revisions (
    id         INTEGER PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    user_id    BIGINT,
    created_at BIGINT NOT NULL,
    snapshot   TEXT NOT NULL
);
CREATE INDEX revisions_article ON revisions (article_id, id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE media (
    id           INTEGER PRIMARY KEY,
    file_name    TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    width        BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    alt          TEXT NOT NULL DEFAULT '',
    uploaded_by  BIGINT,
    created_at   BIGINT NOT NULL
);
