//! Users, sessions, login throttling and API tokens. Secrets arrive here already hashed.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_secs, Store, StoreError, StoreResult};
use crate::domain::{Role, User};

/// A session found by its token hash, with the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf: String,
    pub expires_at: i64,
}

/// A person as the owner's account list shows them.
#[derive(Debug, Clone, Serialize)]
pub struct UserListing {
    pub user: User,
    /// When access was taken away (`nashir user disable`, or the owner's button); `None` while active.
    pub disabled_at: Option<i64>,
}

/// One login attempt counted against a throttle key, before the password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempt {
    /// Attempts in the current window, this one included.
    pub attempts: i64,
    /// Seconds until the window ends and the count starts again (at least 1).
    pub retry_after: i64,
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

    /// Whether the newsroom has any account at all (disabled ones count): the first run's test.
    pub async fn has_users(&self) -> StoreResult<bool> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS one").fetch_one(&self.pool).await? > 0)
    }

    /// Stores the hash of a one-time setup code, valid until `expires_at`; expired ones go.
    pub async fn add_setup_code(&self, code_hash: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM setup_codes WHERE expires_at <= $1").bind(now_secs()).execute(&self.pool).await?;
        sqlx::query("INSERT INTO setup_codes (code_hash, expires_at) VALUES ($1, $2)")
            .bind(code_hash)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates the newsroom's first account, an owner, if `code_hash` is a valid setup code
    /// and there is still no account; `None` otherwise. One transaction that first deletes
    /// every setup code: a second attempt at the same time (with any node's code) waits on
    /// those rows and then finds none, so there is never more than one first owner.
    pub async fn create_first_owner(&self, code_hash: &str, email: &str, name: &str, password_hash: &str) -> StoreResult<Option<i64>> {
        let now = now_secs();
        let mut tx = self.pool.begin().await?;
        let codes = sqlx::query("DELETE FROM setup_codes RETURNING code_hash, expires_at").fetch_all(&mut *tx).await?;
        let mut valid = false;
        for row in &codes {
            let (hash, expires_at): (String, i64) = (row.try_get("code_hash")?, row.try_get("expires_at")?);
            valid |= hash == code_hash && expires_at > now;
        }
        if !valid {
            // Dropping the transaction rolls the codes back: a wrong code ends nothing.
            return Ok(None);
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
        if users > 0 {
            return Ok(None);
        }
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(email)
        .bind(name)
        .bind(Role::Owner.as_str())
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The user and their password hash, by (normalized) email; a disabled user is not found.
    pub async fn user_for_login(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query("SELECT id, email, name, role, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL")
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

    /// Every account with whether it is disabled, for the owner's list.
    pub async fn user_listing(&self) -> StoreResult<Vec<UserListing>> {
        let rows = sqlx::query("SELECT id, email, name, role, disabled_at FROM users ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(UserListing { user: user_from_row(r)?, disabled_at: r.try_get("disabled_at")? })).collect()
    }

    /// The id of the account with this (normalized) email, disabled or not.
    pub async fn user_id_by_email(&self, email: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(&self.pool).await?)
    }

    /// Takes access away from a person (`disabled = true`) or gives it back. Disabling ends all
    /// of their sessions and revokes all of their API tokens in the same transaction, so no
    /// request after the commit is served as them; enabling lets them sign in again but brings
    /// no token back (they make new ones). False when there is no such user.
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> StoreResult<bool> {
        let now = now_secs();
        let mut tx = self.pool.begin().await?;
        let done = if disabled {
            // COALESCE keeps the first disabling time when it is done twice.
            sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2").bind(now).bind(user_id)
        } else {
            sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1").bind(user_id)
        }
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
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

    /// A live (unexpired) session of an account that is not disabled.
    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionInfo>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.role, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
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

    /// Counts one login attempt against `key` and returns the count in the current window,
    /// this attempt included, in one statement: concurrent attempts each see a distinct count,
    /// so a burst of guesses cannot all pass a check made before any of them was recorded.
    /// The window is fixed from its first attempt: later attempts, refused ones included,
    /// never extend it, so a lock-out ends at most `window` seconds after it began.
    pub async fn count_login_attempt(&self, key: &str, window: i64) -> StoreResult<LoginAttempt> {
        let now = now_secs();
        // Keys include the typed email, so stale ones are swept to keep the table small.
        sqlx::query("DELETE FROM login_failures WHERE window_start <= $1").bind(now - window).execute(&self.pool).await?;
        let row = sqlx::query(
            "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.window_start > $3 THEN login_failures.failures + 1 ELSE 1 END, \
             window_start = CASE WHEN login_failures.window_start > $3 THEN login_failures.window_start ELSE $2 END \
             RETURNING failures, window_start",
        )
        .bind(key)
        .bind(now)
        .bind(now - window)
        .fetch_one(&self.pool)
        .await?;
        let window_start: i64 = row.try_get("window_start")?;
        Ok(LoginAttempt { attempts: row.try_get("failures")?, retry_after: (window_start + window - now).max(1) })
    }

    /// Takes back one counted attempt (a login that succeeded), never below zero.
    pub async fn forgive_login_attempt(&self, key: &str) -> StoreResult<()> {
        sqlx::query("UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0")
            .bind(key)
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
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
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
