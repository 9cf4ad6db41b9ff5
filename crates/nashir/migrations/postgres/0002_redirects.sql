-- Addresses an imported archive used to have (WordPress permalinks, ?p=123, Ghost /slug/),
-- kept so readers and search engines following old links land on the article (301).
-- old_path is percent-decoded, without a trailing slash; `?query` kept when it identifies the post.
CREATE TABLE redirects (
    old_path   TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);
