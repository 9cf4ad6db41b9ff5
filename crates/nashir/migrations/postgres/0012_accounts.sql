-- Taking access away: a disabled person cannot sign in, and disabling them also ends their
-- sessions and revokes their API tokens (done by the store in the same transaction).
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- Public lists show only sections, tags and authors with a published article; these make
-- that "has a published article" test an index look-up per tag or author.
CREATE INDEX article_tags_tag ON article_tags (tag_id, article_id);
CREATE INDEX article_authors_author ON article_authors (author_id, article_id);
