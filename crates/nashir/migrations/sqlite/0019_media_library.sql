-- The media library: an upload's caption and credit («تصوير: …») kept with it, offered when
-- it is placed in an article, and who uploaded it (for the right to edit and delete it).
ALTER TABLE media ADD COLUMN caption TEXT NOT NULL DEFAULT '';
ALTER TABLE media ADD COLUMN credit TEXT NOT NULL DEFAULT '';
CREATE INDEX media_newest ON media (id DESC);
