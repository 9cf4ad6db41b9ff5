-- First run: while the newsroom has no account, each starting node stores the hash of a
-- one-time setup code it printed to its operator; /admin/setup creates the owner with one of
-- them, and creating the owner deletes them all.
CREATE TABLE setup_codes (
    code_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
