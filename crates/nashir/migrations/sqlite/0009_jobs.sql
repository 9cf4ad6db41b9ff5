-- Cursors of background jobs that follow the change log once for the whole cluster: the node
-- holding the lease does the work; another takes over when the lease runs out.
CREATE TABLE job_cursors (
    name         TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL DEFAULT 0,
    leased_by    TEXT NOT NULL DEFAULT '',
    leased_until INTEGER NOT NULL DEFAULT 0
);
