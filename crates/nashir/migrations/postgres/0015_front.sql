-- The front page (issue 18): the editor's pinned lead story, the breaking-news bar, views per
-- article per hour for «الأكثر قراءة», and a photo per author.

-- One row per slot an editor pins an article to ('lead' = «الخبر الرئيسي»). Deleting the
-- article frees the slot.
CREATE TABLE front_pins (
    slot       TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    pinned_at  BIGINT NOT NULL
);

-- The breaking-news bar: at most one row (id = 1); it is shown until `expires_at`.
CREATE TABLE breaking_news (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    text       TEXT NOT NULL,
    link       TEXT NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    set_at     BIGINT NOT NULL
);

-- Readers' views, counted in memory by each node and added here in batches: one row per
-- article per hour (Unix seconds / 3600). No foreign key: a batch naming an article deleted
-- meanwhile must not fail; the lists join with published articles.
CREATE TABLE article_views (
    article_id BIGINT NOT NULL,
    hour       BIGINT NOT NULL,
    views      BIGINT NOT NULL,
    PRIMARY KEY (article_id, hour)
);
CREATE INDEX article_views_hour ON article_views (hour);

ALTER TABLE authors ADD COLUMN photo TEXT NOT NULL DEFAULT '';
