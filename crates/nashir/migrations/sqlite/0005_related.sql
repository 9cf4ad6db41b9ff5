-- «اقرأ أيضاً», near-duplicates and entities (issue 6). Everything here is derived from the
-- articles and rebuilt by related::refresh_all, except the editors' pinned/removed flags on
-- `related`, which every refresh keeps.
CREATE TABLE related (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    related_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- Suggestion order as computed (0 = best); pinned rows come first whatever their position.
    position   BIGINT NOT NULL DEFAULT 0,
    pinned     BIGINT NOT NULL DEFAULT 0,
    removed    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, related_id)
);

-- The same story published again (wire copy from several sources): linked to the oldest copy.
CREATE TABLE duplicates (
    article_id   BIGINT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    duplicate_of BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);
CREATE INDEX duplicates_of ON duplicates (duplicate_of);

CREATE TABLE entities (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'place', 'org')),
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    -- Normalized words of the canonical name: أردوغان and إردوغان share one key.
    key  TEXT NOT NULL UNIQUE
);

CREATE TABLE article_entities (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    entity_id  BIGINT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    mentions   BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (article_id, entity_id)
);
CREATE INDEX article_entities_entity ON article_entities (entity_id, article_id);
