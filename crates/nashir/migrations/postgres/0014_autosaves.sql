-- The editor's working copies: one per article and person, overwritten every few seconds
-- while they type, apart from the named revisions (so the revision list stays readable).
-- `base_version` is the article's version the copy was made from (a newer article version
-- means someone else saved in between); `fields` is the form as JSON. Times are Unix seconds.
CREATE TABLE article_autosaves (
    article_id   BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    base_version BIGINT NOT NULL,
    fields       TEXT NOT NULL,
    saved_at     BIGINT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);
