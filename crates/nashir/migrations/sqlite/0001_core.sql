-- Newsroom core. Times are Unix seconds (UTC) so the same queries run on SQLite and PostgreSQL.
CREATE TABLE sections (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE authors (
    id       INTEGER PRIMARY KEY,
    slug     TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    bio      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tags (
    id       INTEGER PRIMARY KEY,
    slug     TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE
);

CREATE TABLE articles (
    -- AUTOINCREMENT: ids are public (/news/{id}) and must never be reused after a delete.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    slug         TEXT NOT NULL UNIQUE,
    headline     TEXT NOT NULL,
    headline_key TEXT NOT NULL,
    lead         TEXT NOT NULL DEFAULT '',
    body_json    TEXT NOT NULL,
    section_id   BIGINT REFERENCES sections(id),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    published_at BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    language     TEXT NOT NULL DEFAULT 'ar',
    source       TEXT,
    source_key   TEXT UNIQUE,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX articles_published ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_section ON articles (section_id, status, published_at DESC);
CREATE INDEX articles_headline_key ON articles (headline_key);

CREATE TABLE article_authors (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    author_id  BIGINT NOT NULL REFERENCES authors(id),
    position   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, author_id)
);

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags(id),
    PRIMARY KEY (article_id, tag_id)
);

-- Every write to an article appends here; derived state (search index, caches, other nodes)
-- follows this log by sequence number.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    at         BIGINT NOT NULL
);

-- Lines seen at the end of imported articles, to recognise a site's recurring boilerplate.
CREATE TABLE trailing_lines (
    line_key TEXT PRIMARY KEY,
    seen     BIGINT NOT NULL DEFAULT 0
);
