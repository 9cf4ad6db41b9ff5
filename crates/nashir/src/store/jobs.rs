//! Leased cursors for cluster-wide singleton jobs that follow the change log. A lease, not a
//! lock held on a connection: it works the same on SQLite and PostgreSQL, and a node that dies
//! simply stops renewing it.

use super::{now_secs, Store, StoreResult};

impl Store {
    /// Takes or renews the lease on job `name` for `secs` seconds. Returns the job's cursor
    /// when `owner` holds the lease, None when another live node does.
    pub async fn lease_job(&self, name: &str, owner: &str, secs: i64) -> StoreResult<Option<i64>> {
        let now = now_secs();
        sqlx::query("INSERT INTO job_cursors (name, seq, leased_by, leased_until) VALUES ($1, 0, '', 0) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar::<_, i64>(
            "UPDATE job_cursors SET leased_by = $1, leased_until = $2 WHERE name = $3 AND (leased_until < $4 OR leased_by = $1) RETURNING seq",
        )
        .bind(owner)
        .bind(now + secs)
        .bind(name)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Moves the cursor of a job this owner holds; false when the lease was lost meanwhile.
    pub async fn advance_job(&self, name: &str, owner: &str, seq: i64) -> StoreResult<bool> {
        // Never backwards: an import may have covered more meanwhile (see `cover_job`).
        let done = sqlx::query("UPDATE job_cursors SET seq = CASE WHEN seq < $1 THEN $1 ELSE seq END WHERE name = $2 AND leased_by = $3")
            .bind(seq)
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the work of job `name` was done up to `seq` by someone else than its
    /// lease holder (an import or `nashir reindex` that recomputed everything): the cursor
    /// only moves forward, so the next holder starts from there instead of redoing it.
    pub async fn cover_job(&self, name: &str, seq: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO job_cursors (name, seq, leased_by, leased_until) VALUES ($1, $2, '', 0) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        sqlx::query("UPDATE job_cursors SET seq = $1 WHERE name = $2 AND seq < $1").bind(seq).bind(name).execute(&self.pool).await?;
        Ok(())
    }

    /// Lets another node take the job at once (graceful shutdown).
    pub async fn release_job(&self, name: &str, owner: &str) -> StoreResult<()> {
        sqlx::query("UPDATE job_cursors SET leased_until = 0 WHERE name = $1 AND leased_by = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
