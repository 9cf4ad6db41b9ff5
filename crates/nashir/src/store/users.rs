//! Users, sessions, login throttling and API tokens. Secrets arrive here already hashed.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_secs, Store, StoreError, StoreResult};
use crate::editor::accounts::{Role, User};

/// A session found by its token hash, with the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
    })
}

impl Store {
    /// Creates a user; an email already in use is a `Conflict`.
    pub async fn create_user(&self, email: &str, name: &str, role: Role, password_hash: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(email)
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now_secs())
        .fetch_one(&self.pool)
        .await?)
    }

    /// The user and their password hash, by (normalized) email.
    pub async fn user_for_login(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query("SELECT id, email, name, role, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?))).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<(User, String)>> {
        let row =
            sqlx::query("SELECT id, email, name, role, password_hash FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?))).transpose()
    }

    pub async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT id, email, name, role FROM users ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn set_user_role(&self, id: i64, role: Role) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2").bind(role.as_str()).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets a new password and ends every session of the user but `keep_session`.
    pub async fn set_user_password(&self, id: i64, password_hash: &str, keep_session: Option<&str>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_session(&self, token_hash: &str, user_id: i64, csrf: &str, expires_at: i64) -> StoreResult<()> {
        let now = now_secs();
        // Expired sessions are swept on each login rather than by a separate job.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A live (unexpired) session.
    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionInfo>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.role, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_secs())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(SessionInfo { user: user_from_row(&r)?, csrf: r.try_get("csrf")?, expires_at: r.try_get("expires_at")? }))
            .transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// Failed logins for `key` in the current window (a window older than `window` restarts).
    pub async fn login_failures(&self, key: &str, window: i64) -> StoreResult<i64> {
        let row =
            sqlx::query("SELECT failures, window_start FROM login_failures WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) if r.try_get::<i64, _>("window_start")? > now_secs() - window => r.try_get("failures")?,
            _ => 0,
        })
    }

    pub async fn record_login_failure(&self, key: &str, window: i64) -> StoreResult<()> {
        let now = now_secs();
        // Keys include the typed email, so stale ones are swept to keep the table small.
        sqlx::query("DELETE FROM login_failures WHERE window_start <= $1").bind(now - window).execute(&self.pool).await?;
        sqlx::query(
            "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.window_start > $3 THEN login_failures.failures + 1 ELSE 1 END, \
             window_start = CASE WHEN login_failures.window_start > $3 THEN login_failures.window_start ELSE $2 END",
        )
        .bind(key)
        .bind(now)
        .bind(now - window)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(now_secs())
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiTokenInfo>> {
        let rows = sqlx::query("SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect()
    }

    /// Revokes one of the user's own tokens; false when there is no such live token.
    pub async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now_secs())
            .bind(token_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user behind a live API token, noting its use.
    pub async fn user_for_api_token(&self, token_hash: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.role, t.id AS token_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token_id: i64 = row.try_get("token_id")?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now_secs()).bind(token_id).execute(&self.pool).await?;
        Ok(Some(user_from_row(&row)?))
    }
}
